#include "media/decoder.hpp"

#include <fmt/format.h>

namespace onair::media {

core::Result<core::CodecContextPtr> open_decoder(const AVCodecParameters& params,
                                                 AVRational packet_time_base,
                                                 CodecThreads threads) {
    const AVCodec* codec = avcodec_find_decoder(params.codec_id);
    if (!codec)
        return core::fail(fmt::format("no decoder for {}", avcodec_get_name(params.codec_id)));
    core::CodecContextPtr context(avcodec_alloc_context3(codec));
    if (!context) return core::fail("out of memory");
    int rc = avcodec_parameters_to_context(context.get(), &params);
    if (rc < 0) return core::av_fail("decoder parameters", rc);
    context->pkt_timebase = packet_time_base;
    context->thread_count = threads.count;
    rc = avcodec_open2(context.get(), codec, nullptr);
    if (rc < 0) return core::av_fail(fmt::format("open {} decoder", codec->name), rc);
    return context;
}

}  // namespace onair::media
