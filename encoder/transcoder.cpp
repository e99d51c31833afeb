#include "encoder/transcoder.hpp"

#include <fmt/format.h>

extern "C" {
#include <libavutil/imgutils.h>
}

#include "core/log.hpp"

namespace onair::encoder {
namespace {
using core::kMediaTimeBase;

int64_t ms_to_ticks(std::chrono::milliseconds ms) {
    return ms.count() * (core::kMediaClock / 1000);
}
}  // namespace

FillPolicy FillPolicy::from(const core::InputLossConfig& loss) {
    using std::chrono::duration_cast;
    using std::chrono::milliseconds;
    return {duration_cast<milliseconds>(loss.after), duration_cast<milliseconds>(loss.repeat_last),
            loss.then, loss.slate};
}

core::Result<std::unique_ptr<Transcoder>> Transcoder::create(
    TranscoderSettings settings, core::MediaClock& clock, core::PipelineStatus& status,
    core::FillLog& fill_log, core::HealthLog& health_log, std::string component,
    TranscoderOutput output) {
    auto t = std::make_unique<Transcoder>(Key{}, std::move(settings), clock, status, fill_log,
                                          health_log, std::move(component), std::move(output));
    auto audio = AudioEncoder::open(t->settings_.audio, t->output_.audio);
    if (!audio) return std::unexpected(audio.error());
    t->audio_ = std::move(*audio);
    t->silence_check_ = SilenceMonitor::make(t->settings_.checks.silence, fill_log, health_log,
                                             status, t->component_);
    if (auto* check = t->silence_check_.get())
        t->audio_->set_frame_tap(
            [check](const AVFrame& frame, int64_t media) { check->push(frame, media); });

    const FillPolicy& fill = t->settings_.fill;
    if (fill.then == core::LossFill::slate) {
        if (auto slate = Slate::load(fill.slate)) {
            log::info(t->component_, "input-loss slate \"{}\": {}x{}", fill.slate, slate->width(),
                      slate->height());
            t->slate_.emplace(std::move(*slate));
        } else {
            log::error(t->component_,
                       "input-loss slate \"{}\" unusable ({}): input loss will show black",
                       fill.slate, slate.error().message);
        }
    }
    return t;
}

Transcoder::Transcoder(Key, TranscoderSettings settings, core::MediaClock& clock,
                       core::PipelineStatus& status, core::FillLog& fill_log,
                       core::HealthLog& health_log, std::string component, TranscoderOutput output)
    : settings_(std::move(settings)),
      clock_(clock),
      status_(status),
      fill_log_(fill_log),
      component_(std::move(component)),
      output_(std::move(output)),
      picture_checks_(PictureMonitor::make(settings_.checks.black, settings_.checks.freeze,
                                           fill_log, health_log, status, component_)),
      ladder_(settings_.ladder, settings_.encoder, component_, output_.video,
              picture_checks_.get()) {}

core::Result<> Transcoder::handle(core::MediaEvent& event, int64_t now) {
    last_input_ = now;
    if (auto* streams = std::get_if<core::StreamsOpened>(&event)) return open_streams(*streams);
    if (auto* raw = std::get_if<core::RawFrame>(&event)) {
        if (raw->kind == core::MediaKind::video)
            return on_video(raw->frame.get(), raw->time_base, now);
        input_has_audio_ = true;
        return on_audio(raw->frame.get(), raw->time_base, now);
    }
    auto& media = std::get<core::MediaPacket>(event);
    auto& decoder = media.kind == core::MediaKind::video ? video_decoder_ : audio_decoder_;
    if (!decoder) return {};
    frame_error_ = {};
    AVRational time_base = decoder->time_base();
    int64_t errors_before = decoder->errors();
    decoder->decode(media.packet.get(), [&](AVFrame* frame) {
        if (!frame_error_) return;
        frame_error_ = media.kind == core::MediaKind::video ? on_video(frame, time_base, now)
                                                            : on_audio(frame, time_base, now);
    });
    status_.decode_errors.fetch_add(decoder->errors() - errors_before);
    return frame_error_;
}

core::Result<> Transcoder::open_streams(const core::StreamsOpened& streams) {
    // A new connection: the source's clock may have restarted.
    clock_.reset();
    video_decoder_.reset();
    audio_decoder_.reset();
    input_has_audio_ = false;
    if (streams.video_frame_rate.num > 0 && streams.video_frame_rate.den > 0) {
        source_rate_ = streams.video_frame_rate;
        frame_ticks_ = av_rescale_q(1, av_inv_q(source_rate_), kMediaTimeBase);
    }
    if (streams.video) {
        auto d = Decoder::open(*streams.video, streams.video_time_base);
        if (!d) {
            log::error(component_, "video: {}", d.error().message);
        } else {
            video_decoder_.emplace(std::move(*d));
        }
    }
    if (streams.audio) {
        auto d = Decoder::open(*streams.audio, streams.audio_time_base);
        if (!d) {
            log::error(component_, "audio: {}", d.error().message);
        } else {
            audio_decoder_.emplace(std::move(*d));
            input_has_audio_ = true;
        }
    }
    return {};
}

core::Result<> Transcoder::on_video(AVFrame* frame, AVRational time_base, int64_t now) {
    int64_t pts =
        frame->best_effort_timestamp != AV_NOPTS_VALUE ? frame->best_effort_timestamp : frame->pts;
    if (pts == AV_NOPTS_VALUE) return {};
    int64_t jumps_before = clock_.relocks();
    int64_t media = clock_.to_media(av_rescale_q(pts, time_base, kMediaTimeBase), now);
    if (clock_.relocks() != jumps_before) {
        status_.timeline_jumps.fetch_add(1);
        log::warn(component_, "source timestamps jumped: following the new timeline");
    }
    status_.frames_in.fetch_add(1);
    // Any real picture pauses the fill; the next tick resumes it if this was
    // a straggler from a connection that is gone.
    last_arrival_ = now;
    // At or before what was already sent (overlap with fill): late, dropped.
    if (last_video_media_ != core::kNoMediaTime && media <= last_video_media_) return {};
    arrival_lag_ = now - media;
    if (filling_) {
        filling_ = false;
        status_.filling = false;
        log::info(component_, "input back: real pictures again after {:.1f} s of fill",
                  core::ticks_to_seconds(media - fill_started_));
    }
    if (!last_frame_) last_frame_ = core::make_frame();
    av_frame_unref(last_frame_.get());
    if (int rc = av_frame_ref(last_frame_.get(), frame); rc < 0) return core::av_fail("frame", rc);
    last_frame_->pts = media;
    last_video_media_ = media;
    if (auto ok = push_picture(last_frame_.get(), now); !ok) return ok;
    return keep_audio_alongside(media);
}

core::Result<> Transcoder::on_audio(AVFrame* frame, AVRational time_base, int64_t now) {
    int64_t pts =
        frame->best_effort_timestamp != AV_NOPTS_VALUE ? frame->best_effort_timestamp : frame->pts;
    if (pts == AV_NOPTS_VALUE) return {};
    int64_t media = clock_.to_media(av_rescale_q(pts, time_base, kMediaTimeBase), now);
    if (filling_) return {};  // silence is running; real audio resumes with the pictures
    return audio_->push(frame, media);
}

// Sources without audio (or whose audio stalls) still get a track of silence.
core::Result<> Transcoder::keep_audio_alongside(int64_t media) {
    if (input_has_audio_ && !filling_) {
        int64_t position = audio_->position();
        // Real audio that has fallen more than 2 s behind the pictures is gone.
        if (position != core::kNoMediaTime && media - position < 2 * core::kMediaClock) return {};
        if (position == core::kNoMediaTime && media - last_video_media_ < 2 * core::kMediaClock)
            return {};
    }
    return audio_->push_silence_until(media);
}

core::Result<> Transcoder::tick(int64_t now) {
    if (last_video_media_ == core::kNoMediaTime || !last_frame_) return {};
    if (now - last_arrival_ < ms_to_ticks(settings_.fill.start_after)) return {};
    return emit_fill(now);
}

core::Result<> Transcoder::emit_fill(int64_t now) {
    if (!filling_) {
        filling_ = true;
        status_.filling = true;
        fill_started_ = last_video_media_ + frame_ticks_;
        log::warn(component_,
                  "no pictures for {} ms: repeating the last one for {} ms, then {}, with silence",
                  settings_.fill.start_after.count(), settings_.fill.repeat_last.count(),
                  slate_ ? "the slate" : "black");
    }
    // Keep media time running as it did for the real frames.
    int64_t due = now - arrival_lag_;
    while (last_video_media_ + frame_ticks_ <= due) {
        int64_t media = last_video_media_ + frame_ticks_;
        bool repeat = media - fill_started_ < ms_to_ticks(settings_.fill.repeat_last);
        AVFrame* picture = repeat ? last_frame_.get() : fill_picture();
        if (!picture) return core::fail("out of memory");
        picture->pts = media;
        // Logged first: the content checks must know this picture is fill.
        fill_log_.add(media, media + frame_ticks_);
        if (auto ok = push_picture(picture, now); !ok) return ok;
        status_.fill_frames.fetch_add(1);
        last_video_media_ = media;
        if (auto ok = audio_->push_silence_until(media + frame_ticks_); !ok) return ok;
    }
    return {};
}

core::Result<> Transcoder::push_picture(AVFrame* frame, int64_t entered) {
    return ladder_.push(frame, source_rate_, entered);
}

// After the repeats: the slate when there is one that can be shown, else black.
AVFrame* Transcoder::fill_picture() {
    if (!slate_) return black_frame();
    auto picture = slate_->picture_like(*last_frame_);
    if (picture) return *picture;
    log::error(component_, "input-loss slate: {}: showing black instead", picture.error().message);
    slate_.reset();
    return black_frame();
}

AVFrame* Transcoder::black_frame() {
    const AVFrame& like = *last_frame_;
    if (black_ && black_->width == like.width && black_->height == like.height &&
        black_->format == like.format)
        return black_.get();
    black_ = core::make_picture_like(like);
    if (!black_) return nullptr;
    ptrdiff_t linesizes[4];
    for (int i = 0; i < 4; ++i) linesizes[i] = black_->linesize[i];
    av_image_fill_black(black_->data, linesizes, AVPixelFormat(like.format), like.color_range,
                        like.width, like.height);
    return black_.get();
}

core::Result<> Transcoder::flush() {
    // What the decoders still hold (reordering, frame threads) comes out at
    // the time the last input came, as if it had arrived with it.
    frame_error_ = {};
    if (video_decoder_) {
        const AVRational time_base = video_decoder_->time_base();
        video_decoder_->decode(nullptr, [&](AVFrame* f) {
            if (frame_error_) frame_error_ = on_video(f, time_base, last_arrival_);
        });
    }
    if (audio_decoder_) {
        const AVRational time_base = audio_decoder_->time_base();
        audio_decoder_->decode(nullptr, [&](AVFrame* f) {
            if (frame_error_) frame_error_ = on_audio(f, time_base, last_input_);
        });
    }
    auto ladder = ladder_.flush();
    auto audio = audio_->flush();
    if (!frame_error_) return frame_error_;
    if (!ladder) return ladder;
    return audio;
}

}  // namespace onair::encoder
