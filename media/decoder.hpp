#pragma once
// Opening a libavcodec decoder for a demuxed stream: the live chain's
// decoders and the clip cutter's H.264 decoder come from here. Callable from
// any thread; the context belongs to the caller.
#include "core/libav.hpp"
#include "core/result.hpp"

namespace onair::media {

// How many threads a decoder (or encoder) runs: 0 lets libav choose (as
// many as useful, the live chain); 1 decodes on the calling thread (a clip
// job, which runs its renditions side by side instead).
struct CodecThreads {
    int count = 0;
};

// A decoder for `params`, its packets' timestamps in `packet_time_base`.
[[nodiscard]] core::Result<core::CodecContextPtr> open_decoder(const AVCodecParameters& params,
                                                               AVRational packet_time_base,
                                                               CodecThreads threads = {});

}  // namespace onair::media
