#pragma once
// The black and frozen picture checks. libavfilter's own detectors run on
// the ladder's analysis branch (VideoLadder adds filters() to its graph):
// blackdetect and freezedetect, both with no minimum duration of their own,
// so they report every change at once. This reads their verdicts from the
// metadata of each analysed frame (lavfi.black_start / black_end,
// lavfi.freezedetect.freeze_start / freeze_end) and hands them to one
// ConditionTracker per check, which applies the configured duration and
// keeps fill out of it. Pipeline thread only.
#include <memory>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "core/fill_log.hpp"
#include "core/health_log.hpp"
#include "core/status.hpp"
#include "encoder/condition_tracker.hpp"
#include "encoder/video_ladder.hpp"

namespace onair::encoder {

class PictureMonitor final : public PictureAnalysis {
  public:
    // Null when neither check is enabled: then the ladder has no analysis branch.
    static std::unique_ptr<PictureMonitor> make(const core::BlackCheck& black,
                                                const core::FreezeCheck& freeze,
                                                const core::FillLog& fill_log,
                                                core::HealthLog& health,
                                                core::PipelineStatus& status,
                                                const std::string& component);

    std::string filters() const override { return filters_; }
    void restarted() override;
    void analysed(const AVFrame& frame, int64_t media) override;

    PictureMonitor(const core::BlackCheck& black, const core::FreezeCheck& freeze,
                   const core::FillLog& fill_log, core::HealthLog& health,
                   core::PipelineStatus& status, const std::string& component);  // use make()

  private:
    const core::FillLog& fill_log_;
    std::string filters_;
    std::optional<ConditionTracker> black_, frozen_;
    int64_t black_since_ = core::kNoMediaTime;   // first black picture of the current run
    int64_t frozen_since_ = core::kNoMediaTime;  // last picture that differed before the freeze
    int64_t previous_ = core::kNoMediaTime;      // media time of the previous analysed picture
};

}  // namespace onair::encoder
