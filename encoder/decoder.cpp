#include "encoder/decoder.hpp"

#include <fmt/format.h>

namespace onair::encoder {

core::Result<Decoder> Decoder::open(const AVCodecParameters& params, AVRational time_base) {
    const AVCodec* codec = avcodec_find_decoder(params.codec_id);
    if (!codec)
        return core::fail(fmt::format("no decoder for {}", avcodec_get_name(params.codec_id)));
    Decoder d;
    d.context_.reset(avcodec_alloc_context3(codec));
    if (!d.context_) return core::fail("out of memory");
    int rc = avcodec_parameters_to_context(d.context_.get(), &params);
    if (rc < 0) return core::av_fail("decoder parameters", rc);
    d.context_->pkt_timebase = time_base;
    d.context_->thread_count = 0;  // as many as useful
    rc = avcodec_open2(d.context_.get(), codec, nullptr);
    if (rc < 0) return core::av_fail(fmt::format("open {} decoder", codec->name), rc);
    d.frame_ = core::make_frame();
    d.time_base_ = time_base;
    return d;
}

void Decoder::decode(const AVPacket* packet, const FrameSink& on_frame) {
    int rc = avcodec_send_packet(context_.get(), packet);
    if (rc < 0 && rc != AVERROR(EAGAIN) && rc != AVERROR_EOF) ++errors_;
    for (;;) {
        rc = avcodec_receive_frame(context_.get(), frame_.get());
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) break;
        if (rc < 0) {
            ++errors_;
            break;
        }
        if (frame_->decode_error_flags) ++errors_;
        on_frame(frame_.get());
        av_frame_unref(frame_.get());
    }
}

}  // namespace onair::encoder
