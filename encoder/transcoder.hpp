#pragma once
// One pipeline's media work between its input and its segmenters: decodes the
// input once, stamps every frame with the channel's media time (MediaClock),
// and feeds the video ladder and the audio encoder. When the input goes
// quiet it keeps the output going — the last picture repeated for a while,
// then black or the slate image, with silence — paced by the wall clock, and
// logs those intervals in the FillLog so segments holding them can be marked
// as slate. With content checks enabled it runs them (PictureMonitor on the
// ladder's analysis branch, SilenceMonitor on the audio the encoder takes)
// and they log failing intervals in the HealthLog. Every picture carries
// when it entered (its event handed in, or fill made it) to the packets made
// from it (EncodedVideo::entered), so the segmenter can stamp
// Segment.input_utc_ms without asking back.
// Owned and called by the pipeline's thread only.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/config.hpp"
#include "core/fill_log.hpp"
#include "core/health_log.hpp"
#include "core/media_event.hpp"
#include "core/media_time.hpp"
#include "core/status.hpp"
#include "encoder/audio_encoder.hpp"
#include "encoder/decoder.hpp"
#include "encoder/picture_monitor.hpp"
#include "encoder/silence_monitor.hpp"
#include "encoder/slate.hpp"
#include "encoder/video_ladder.hpp"

namespace onair::encoder {

struct FillPolicy {
    std::chrono::milliseconds start_after{1000};  // no input this long: start filling
    std::chrono::milliseconds repeat_last{1000};  // repeat the last picture, then `then`
    core::LossFill then = core::LossFill::black;
    std::string slate;  // the image shown for then: slate

    static FillPolicy from(const core::InputLossConfig& loss);
};

// The content checks to run; each off unless enabled (then it costs nothing).
struct ContentChecks {
    core::BlackCheck black;
    core::FreezeCheck freeze;
    core::SilenceCheck silence;
};

struct TranscoderSettings {
    std::vector<core::Rung> ladder;
    core::EncoderConfig encoder;
    core::AudioConfig audio;
    FillPolicy fill;
    ContentChecks checks;
};

struct TranscoderOutput {
    std::function<void(const EncodedVideo&)> video;
    std::function<void(AVPacket* packet, const AVCodecParameters& params)> audio;
};

class Transcoder {
  public:
    // Loads the slate (then: slate) here, once; one that cannot be read is
    // logged and the fill shows black instead.
    static core::Result<std::unique_ptr<Transcoder>> create(
        TranscoderSettings settings, core::MediaClock& clock, core::PipelineStatus& status,
        core::FillLog& fill_log, core::HealthLog& health_log, std::string component,
        TranscoderOutput output);
    // An event from the input; `now` is UTC media time at its arrival.
    core::Result<> handle(core::MediaEvent& event, int64_t now);
    // Called regularly (every ~100 ms) whether or not input arrived.
    core::Result<> tick(int64_t now);
    // End of the run: drain everything into packets, the decoders' last
    // frames (video and audio) first.
    core::Result<> flush();

    struct Key {
        explicit Key() = default;
    };
    Transcoder(Key, TranscoderSettings settings, core::MediaClock& clock,
               core::PipelineStatus& status, core::FillLog& fill_log, core::HealthLog& health_log,
               std::string component, TranscoderOutput output);

  private:
    core::Result<> open_streams(const core::StreamsOpened& streams);
    core::Result<> on_video(AVFrame* frame, AVRational time_base, int64_t now);
    core::Result<> on_audio(AVFrame* frame, AVRational time_base, int64_t now);
    core::Result<> emit_fill(int64_t now);
    core::Result<> keep_audio_alongside(int64_t media);
    core::Result<> push_picture(AVFrame* frame, int64_t entered);
    AVFrame* fill_picture();
    AVFrame* black_frame();

    TranscoderSettings settings_;
    core::MediaClock& clock_;
    core::PipelineStatus& status_;
    core::FillLog& fill_log_;
    std::string component_;
    TranscoderOutput output_;
    std::unique_ptr<PictureMonitor> picture_checks_;  // null: off; before ladder_, which uses it
    VideoLadder ladder_;
    std::unique_ptr<AudioEncoder> audio_;
    std::unique_ptr<SilenceMonitor> silence_check_;  // null: off
    std::optional<Slate> slate_;

    std::optional<Decoder> video_decoder_, audio_decoder_;
    AVRational source_rate_{0, 1};
    bool input_has_audio_ = false;
    core::Result<> frame_error_;  // first error raised inside a decoder callback

    int64_t last_video_media_ = core::kNoMediaTime;  // of the last frame sent to the ladder
    int64_t last_arrival_ = 0;                       // UTC media time the last real frame came
    int64_t last_input_ = 0;                         // UTC media time the last event came
    int64_t arrival_lag_ = 0;                        // now - media time of real frames
    int64_t frame_ticks_ = core::kMediaClock / 25;   // source frame duration
    bool filling_ = false;
    int64_t fill_started_ = 0;
    core::FramePtr last_frame_;  // last real picture, for repeats
    core::FramePtr black_;
};

}  // namespace onair::encoder
