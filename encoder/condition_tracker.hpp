#pragma once
// Turns what a detector says about the content ("the condition holds since
// media time S", or "it does not hold") into onair's verdict: the check fails
// from S + duration until the condition ends. Input-loss fill is never judged
// (it is slate already): fill ends a failing interval, and content after fill
// is judged from the fill's end. Writes the failing intervals to a
// FailingIntervals (which the segmenter reads), keeps the status flag
// current (true while failing now), and logs one line when the check starts
// failing and one when it clears. Pipeline thread only.
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/health_log.hpp"
#include "core/media_time.hpp"

namespace onair::encoder {

class ConditionTracker {
  public:
    // `what` names the condition in the log ("black picture").
    ConditionTracker(std::string what, int64_t duration_ticks, core::FailingIntervals& intervals,
                     std::atomic<bool>& failing_now, std::string component);
    ~ConditionTracker();
    ConditionTracker(const ConditionTracker&) = delete;
    ConditionTracker& operator=(const ConditionTracker&) = delete;

    // One observation, in media order: at media time `media` the condition
    // holds since `since` (kNoMediaTime: it does not hold). `fill`: the
    // content at `media` is input-loss fill.
    void observe(int64_t media, int64_t since, bool fill);
    bool failing() const { return failing_since_ != core::kNoMediaTime; }

  private:
    // The condition has held since from_ up to `media` (and ends there if
    // `ends_here`): failing once it has lasted the duration.
    void catch_up(int64_t media, bool ends_here);
    void clear(int64_t at, std::string_view why);

    std::string what_;
    int64_t duration_;
    core::FailingIntervals& intervals_;
    std::atomic<bool>& failing_now_;
    std::string component_;
    bool in_fill_ = false;
    int64_t judged_from_ = core::kNoMediaTime;  // first real content after the last fill
    int64_t from_ = core::kNoMediaTime;         // the condition counts from here; none: not holding
    int64_t failing_since_ = core::kNoMediaTime;  // start of the open failing interval
};

}  // namespace onair::encoder
