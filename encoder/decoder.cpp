#include "encoder/decoder.hpp"

#include "media/decoder.hpp"

namespace onair::encoder {

core::Result<Decoder> Decoder::open(const AVCodecParameters& params, AVRational time_base) {
    auto context = media::open_decoder(params, time_base);  // threads: as many as useful
    if (!context) return std::unexpected(context.error());
    Decoder d;
    d.context_ = std::move(*context);
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
