#pragma once
// Muxes one segment's packets into MPEG-TS in memory with libavformat.
// Each segment is a complete transport stream of its own (PAT/PMT first,
// continuity counters from zero), so a segment from pipeline A and the next
// from pipeline B play back to back. Timestamps are written as given (media
// time, wrapped to 33 bits by the format), never shifted.
#include <span>

#include "core/libav.hpp"
#include "core/result.hpp"
#include "core/segment.hpp"

namespace onair::packager {

struct MuxInput {
    const AVCodecParameters* video = nullptr;
    const AVCodecParameters* audio = nullptr;  // may be null
    // Packets in decode order, interleaved; stream_index 0 = video, 1 = audio.
    // Timestamps in media time (1/90000).
    std::span<const AVPacket* const> packets;
    // fmp4: the SPS/PPS (Annex B) when `video` has no extradata and the
    // first packet is no IDR carrying them (an LL-HLS part mid-GOP).
    std::span<const uint8_t> parameter_sets = {};
};

core::Result<core::Bytes> mux_transport_stream(const MuxInput& input);

}  // namespace onair::packager
