#pragma once
// Muxes one segment's packets into CMAF (fragmented MP4) in memory with
// libavformat's mov muxer: the init section (ftyp + moov without samples)
// and the media segment (one moof + mdat per fragment). Each segment gets a
// muxer of its own, as with MPEG-TS, so pipelines A and B write the same
// boxes for the same frames: the decode times in `tfdt` are the media time
// itself (never shifted to start at zero: no edit list, no negative-ts
// shift), the `mfhd` numbers come from the caller, and nothing depends on
// when a pipeline started. H.264 stays Annex B in the encoder's output; the
// muxer converts it and takes the avcC from the first IDR's SPS/PPS when the
// parameters carry no extradata.
#include <cstdint>
#include <span>

#include "core/libav.hpp"
#include "core/result.hpp"
#include "core/segment.hpp"
#include "packager/ts_muxer.hpp"

namespace onair::packager {

struct Fmp4Segment {
    core::Bytes init;   // ftyp + moov
    core::Bytes media;  // moof + mdat, one pair per fragment
};

// `fragment_starts`: media times (ascending) at which a new fragment begins,
// the first fragment starting with the first packet; a fragment starts at
// the first video packet whose decode time is at or after its start, audio
// following by decode time. `first_fragment_number`: the first `mfhd`
// sequence number (1..INT32_MAX), the next fragments counting on.
core::Result<Fmp4Segment> mux_fragmented_mp4(const MuxInput& input, int64_t first_fragment_number,
                                             std::span<const int64_t> fragment_starts = {});

}  // namespace onair::packager
