#pragma once
// The audio side of a pipeline: resample whatever the source has to the
// channel's format, then AAC-LC. Frames of 1024 samples are cut on a grid
// counted from the epoch in media time (sample index % 1024 == 0), so two
// pipelines fed the same audio produce AAC frames at the same timestamps and
// their segments start with the same audio. Small timestamp jitter is
// absorbed; gaps are filled with silence; overlaps are trimmed.
// Also makes silence on its own: during input loss, and for sources with no
// audio, so every segment carries an audio track. Pipeline thread only.
#include <functional>
#include <memory>

#include "core/config.hpp"
#include "core/libav.hpp"
#include "core/result.hpp"

namespace onair::encoder {

class AudioEncoder {
  public:
    // `packet` pts/dts in media time (1/90000).
    using PacketSink = std::function<void(AVPacket* packet, const AVCodecParameters& params)>;
    // Sees every frame just before it is encoded (lent for the call);
    // `media` is the media time of its first sample.
    using FrameTap = std::function<void(const AVFrame& frame, int64_t media)>;

    static core::Result<std::unique_ptr<AudioEncoder>> open(const core::AudioConfig& config,
                                                            PacketSink sink);
    // A decoded frame whose first sample is at media time `media`.
    core::Result<> push(const AVFrame* frame, int64_t media);
    // Silence from where the audio is now up to media time `media`.
    core::Result<> push_silence_until(int64_t media);
    core::Result<> flush();
    const AVCodecParameters& parameters() const { return *params_; }
    void set_frame_tap(FrameTap tap) { tap_ = std::move(tap); }
    // Media time just past the last sample taken in; kNoMediaTime before the first.
    int64_t position() const;

    struct Key {
        explicit Key() = default;
    };
    AudioEncoder(Key, PacketSink sink) : sink_(std::move(sink)) {}  // use open()

  private:
    core::Result<> ensure_resampler(const AVFrame& frame);
    core::Result<> append(uint8_t** planes, int samples);
    core::Result<> append_silence(int64_t samples);
    core::Result<> drain();
    core::Result<> encode(AVFrame* frame);
    int64_t sample_index(int64_t media) const;

    PacketSink sink_;
    FrameTap tap_;
    core::CodecContextPtr context_;
    core::CodecParametersPtr params_;
    core::SwrPtr resampler_;
    struct InputFormat {
        int format = -1, rate = 0, channels = 0;
        uint64_t layout_mask = 0;
        friend bool operator==(const InputFormat&, const InputFormat&) = default;
    } input_format_;
    core::AudioFifoPtr fifo_;
    core::FramePtr converted_;
    core::FramePtr frame_;
    core::PacketPtr packet_;
    int64_t fifo_start_ = -1;  // sample index of the fifo's first sample; -1: not started
};

}  // namespace onair::encoder
