#pragma once
// Decodes one elementary stream of the input. Packets in (their stream's time
// base), frames out through a callback, with best-effort timestamps. Damaged
// data is counted, not fatal. Used from the pipeline thread only.
#include <functional>

#include "core/libav.hpp"
#include "core/result.hpp"

namespace onair::encoder {

class Decoder {
  public:
    using FrameSink = std::function<void(AVFrame*)>;

    static core::Result<Decoder> open(const AVCodecParameters& params, AVRational time_base);
    // nullptr flushes. Errors in the data are counted (errors()) and skipped.
    void decode(const AVPacket* packet, const FrameSink& on_frame);
    AVRational time_base() const { return time_base_; }
    int64_t errors() const { return errors_; }

  private:
    Decoder() = default;
    core::CodecContextPtr context_;
    core::FramePtr frame_;
    AVRational time_base_{1, 90000};
    int64_t errors_ = 0;
};

}  // namespace onair::encoder
