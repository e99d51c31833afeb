#pragma once
// The silent-audio check. libavfilter's silencedetect runs on the audio the
// AAC encoder takes in — the channel's format, 1024-sample frames on the
// media-time grid, including the silence onair makes for a source whose
// audio is missing — in a small graph of its own (abuffer -> silencedetect
// -> abuffersink, built on the first frame). Its verdicts, read from each
// frame's metadata (lavfi.silence_start / silence_end), go to a
// ConditionTracker, which applies the configured duration and keeps fill
// out of it. Frames are referenced, never copied. A failure of the check is
// logged once and ends the check, never the audio. Pipeline thread only.
#include <memory>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "core/fill_log.hpp"
#include "core/health_log.hpp"
#include "core/libav.hpp"
#include "core/status.hpp"
#include "encoder/condition_tracker.hpp"

namespace onair::encoder {

class SilenceMonitor {
  public:
    // Null when the check is not enabled.
    static std::unique_ptr<SilenceMonitor> make(const core::SilenceCheck& config,
                                                const core::FillLog& fill_log,
                                                core::HealthLog& health,
                                                core::PipelineStatus& status,
                                                const std::string& component);
    // One frame as the encoder takes it; `media` is the time of its first sample.
    void push(const AVFrame& frame, int64_t media);

    SilenceMonitor(const core::SilenceCheck& config, const core::FillLog& fill_log,
                   core::HealthLog& health, core::PipelineStatus& status,
                   std::string component);  // use make()

  private:
    core::Result<> build_graph(const AVFrame& frame);
    core::Result<> run(const AVFrame& frame, int64_t media);
    std::optional<int64_t> position(const char* key, int64_t media) const;

    double level_db_;
    const core::FillLog& fill_log_;
    std::string component_;
    ConditionTracker tracker_;
    core::FilterGraphPtr graph_;
    AVFilterContext* source_ = nullptr;
    AVFilterContext* sink_ = nullptr;
    int sample_rate_ = 0;
    core::FramePtr in_, out_;
    int64_t since_ = core::kNoMediaTime;  // start of the current silence
    bool stopped_ = false;
};

}  // namespace onair::encoder
