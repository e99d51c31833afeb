#include "encoder/audio_encoder.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>
}

#include "core/media_time.hpp"

namespace onair::encoder {
namespace {
constexpr int kFrameSamples = 1024;  // AAC-LC frame
constexpr int kMaxSilenceFill = 10;  // seconds of gap filled with silence
using core::kMediaTimeBase;
}  // namespace

core::Result<std::unique_ptr<AudioEncoder>> AudioEncoder::open(const core::AudioConfig& config,
                                                               PacketSink sink) {
    const AVCodec* codec = avcodec_find_encoder_by_name("aac");
    if (!codec) return core::fail("this FFmpeg has no aac encoder");
    auto enc = std::make_unique<AudioEncoder>(Key{}, std::move(sink));
    AVCodecContext* c = avcodec_alloc_context3(codec);
    if (!c) return core::fail("out of memory");
    enc->context_.reset(c);
    c->sample_fmt = AV_SAMPLE_FMT_FLTP;
    c->sample_rate = config.sample_rate;
    av_channel_layout_default(&c->ch_layout, config.channels);
    c->bit_rate = config.bitrate;
    c->time_base = AVRational{1, config.sample_rate};
    c->profile = FF_PROFILE_AAC_LOW;
    int rc = avcodec_open2(c, codec, nullptr);
    if (rc < 0) return core::av_fail("open aac encoder", rc);
    enc->params_.reset(avcodec_parameters_alloc());
    if (!enc->params_) return core::fail("out of memory");
    avcodec_parameters_from_context(enc->params_.get(), c);
    enc->fifo_.reset(av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, config.channels, 8 * kFrameSamples));
    enc->converted_ = core::make_frame();
    enc->frame_ = core::make_frame();
    enc->packet_ = core::make_packet();
    if (!enc->fifo_) return core::fail("out of memory");
    return enc;
}

int64_t AudioEncoder::sample_index(int64_t media) const {
    return av_rescale(media, context_->sample_rate, core::kMediaClock);
}

int64_t AudioEncoder::position() const {
    if (fifo_start_ < 0) return core::kNoMediaTime;
    int64_t end = fifo_start_ + av_audio_fifo_size(fifo_.get());
    return av_rescale(end, core::kMediaClock, context_->sample_rate);
}

core::Result<> AudioEncoder::ensure_resampler(const AVFrame& frame) {
    InputFormat format{
        frame.format, frame.sample_rate, frame.ch_layout.nb_channels,
        frame.ch_layout.order == AV_CHANNEL_ORDER_NATIVE ? frame.ch_layout.u.mask : 0};
    if (resampler_ && format == input_format_) return {};
    AVChannelLayout in_layout{};
    if (frame.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || frame.ch_layout.nb_channels == 0) {
        av_channel_layout_default(&in_layout, std::max(1, frame.ch_layout.nb_channels));
    } else {
        av_channel_layout_copy(&in_layout, &frame.ch_layout);
    }
    SwrContext* swr = nullptr;
    int rc = swr_alloc_set_opts2(&swr, &context_->ch_layout, context_->sample_fmt,
                                 context_->sample_rate, &in_layout, AVSampleFormat(frame.format),
                                 frame.sample_rate, 0, nullptr);
    av_channel_layout_uninit(&in_layout);
    if (rc < 0) return core::av_fail("audio resampler", rc);
    resampler_.reset(swr);
    rc = swr_init(swr);
    if (rc < 0) return core::av_fail("audio resampler", rc);
    input_format_ = format;
    return {};
}

core::Result<> AudioEncoder::push(const AVFrame* frame, int64_t media) {
    if (auto ok = ensure_resampler(*frame); !ok) return ok;
    // Convert into our format.
    int capacity = swr_get_out_samples(resampler_.get(), frame->nb_samples);
    av_frame_unref(converted_.get());
    converted_->format = context_->sample_fmt;
    converted_->sample_rate = context_->sample_rate;
    av_channel_layout_copy(&converted_->ch_layout, &context_->ch_layout);
    converted_->nb_samples = std::max(capacity, 1);
    int rc = av_frame_get_buffer(converted_.get(), 0);
    if (rc < 0) return core::av_fail("audio buffer", rc);
    int samples = swr_convert(resampler_.get(), converted_->extended_data, capacity,
                              const_cast<const uint8_t**>(frame->extended_data), frame->nb_samples);
    if (samples < 0) return core::av_fail("audio resample", samples);
    if (samples == 0) return {};

    const int rate = context_->sample_rate;
    int64_t start = sample_index(media);
    int skip = 0;
    if (fifo_start_ < 0) {
        fifo_start_ = start;
    } else {
        int64_t expected = fifo_start_ + av_audio_fifo_size(fifo_.get());
        int64_t drift = start - expected;
        if (std::llabs(drift) <= rate / 50) {
            // Jitter of a few ms: treat as continuous.
        } else if (drift > 0 && drift <= kMaxSilenceFill * int64_t(rate)) {
            if (auto ok = append_silence(drift); !ok) return ok;  // a gap: fill it
        } else if (drift < 0) {
            // Overlaps what we already have (audio resuming behind the fill):
            // keep only the new part; media time never goes backwards.
            if (-drift >= samples) return {};
            skip = int(-drift);
        } else {
            // Far ahead: start again on the grid, later.
            av_audio_fifo_reset(fifo_.get());
            fifo_start_ = start;
        }
    }
    std::vector<uint8_t*> planes(size_t(converted_->ch_layout.nb_channels));
    for (size_t c = 0; c < planes.size(); ++c)
        planes[c] = converted_->extended_data[c] + size_t(skip) * sizeof(float);
    if (auto ok = append(planes.data(), samples - skip); !ok) return ok;
    return drain();
}

core::Result<> AudioEncoder::push_silence_until(int64_t media) {
    int64_t target = sample_index(media);
    if (fifo_start_ < 0) fifo_start_ = target;
    int64_t have = fifo_start_ + av_audio_fifo_size(fifo_.get());
    if (target > have) {
        if (auto ok = append_silence(target - have); !ok) return ok;
    }
    return drain();
}

core::Result<> AudioEncoder::append(uint8_t** planes, int samples) {
    if (samples <= 0) return {};
    int rc = av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(planes), samples);
    if (rc < samples) return core::av_fail("audio fifo", rc < 0 ? rc : AVERROR(ENOMEM));
    return {};
}

core::Result<> AudioEncoder::append_silence(int64_t samples) {
    static const std::vector<float> zeros(kFrameSamples, 0.0f);
    std::vector<uint8_t*> planes(size_t(context_->ch_layout.nb_channels),
                                 reinterpret_cast<uint8_t*>(const_cast<float*>(zeros.data())));
    while (samples > 0) {
        int n = int(std::min<int64_t>(samples, kFrameSamples));
        if (auto ok = append(planes.data(), n); !ok) return ok;
        samples -= n;
    }
    return {};
}

core::Result<> AudioEncoder::drain() {
    // Align the first frame to the grid by dropping the samples before it.
    int64_t misalign = fifo_start_ % kFrameSamples;
    if (misalign != 0) {
        int drop =
            int(std::min<int64_t>(kFrameSamples - misalign, av_audio_fifo_size(fifo_.get())));
        av_audio_fifo_drain(fifo_.get(), drop);
        fifo_start_ += drop;
        if (fifo_start_ % kFrameSamples != 0) return {};  // not enough yet
    }
    while (av_audio_fifo_size(fifo_.get()) >= kFrameSamples) {
        av_frame_unref(frame_.get());
        frame_->format = context_->sample_fmt;
        frame_->sample_rate = context_->sample_rate;
        av_channel_layout_copy(&frame_->ch_layout, &context_->ch_layout);
        frame_->nb_samples = kFrameSamples;
        int rc = av_frame_get_buffer(frame_.get(), 0);
        if (rc < 0) return core::av_fail("audio buffer", rc);
        av_audio_fifo_read(fifo_.get(), reinterpret_cast<void**>(frame_->extended_data),
                           kFrameSamples);
        frame_->pts = fifo_start_;
        fifo_start_ += kFrameSamples;
        if (tap_) tap_(*frame_, av_rescale(frame_->pts, core::kMediaClock, context_->sample_rate));
        if (auto ok = encode(frame_.get()); !ok) return ok;
    }
    return {};
}

core::Result<> AudioEncoder::encode(AVFrame* frame) {
    int rc = avcodec_send_frame(context_.get(), frame);
    if (rc < 0 && rc != AVERROR_EOF) return core::av_fail("aac", rc);
    for (;;) {
        rc = avcodec_receive_packet(context_.get(), packet_.get());
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) break;
        if (rc < 0) return core::av_fail("aac", rc);
        av_packet_rescale_ts(packet_.get(), context_->time_base, kMediaTimeBase);
        sink_(packet_.get(), *params_);
        av_packet_unref(packet_.get());
    }
    return {};
}

core::Result<> AudioEncoder::flush() {
    return encode(nullptr);
}

}  // namespace onair::encoder
