#include "encoder/condition_tracker.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/chrono.h>

#include "core/log.hpp"

namespace onair::encoder {
namespace {
// Media time as the UTC clock time it stands for, e.g. "12:34:56.789".
std::string clock_time(int64_t media) {
    using namespace std::chrono;
    const int64_t ms = core::media_to_utc_ms(media);
    return fmt::format("{:%H:%M:%S}.{:03}", sys_seconds(seconds(core::floor_div(ms, 1000))),
                       ms - core::floor_div(ms, 1000) * 1000);
}
}  // namespace

ConditionTracker::ConditionTracker(std::string what, int64_t duration_ticks,
                                   core::FailingIntervals& intervals,
                                   std::atomic<bool>& failing_now, std::string component)
    : what_(std::move(what)),
      duration_(duration_ticks),
      intervals_(intervals),
      failing_now_(failing_now),
      component_(std::move(component)) {}

ConditionTracker::~ConditionTracker() {
    failing_now_ = false;  // nothing checks any more
}

void ConditionTracker::observe(int64_t media, int64_t since, bool fill) {
    if (fill) {
        catch_up(media, /*ends_here=*/true);
        if (failing()) clear(media, "gave way to input-loss fill (slate)");
        in_fill_ = true;
        from_ = core::kNoMediaTime;
        return;
    }
    if (in_fill_) {
        in_fill_ = false;
        judged_from_ = media;
    }
    if (since == core::kNoMediaTime) {
        catch_up(media, /*ends_here=*/true);  // it may have lasted long enough just before
        if (failing()) clear(media, "ended");
        from_ = core::kNoMediaTime;
        return;
    }
    from_ = judged_from_ == core::kNoMediaTime ? since : std::max(since, judged_from_);
    catch_up(media, false);
}

void ConditionTracker::catch_up(int64_t media, bool ends_here) {
    if (failing() || from_ == core::kNoMediaTime) return;
    // Failing from exactly from_ + duration_ on; ending there, it never failed.
    if (ends_here ? media <= from_ + duration_ : media < from_ + duration_) return;
    failing_since_ = from_ + duration_;
    intervals_.open(failing_since_);
    failing_now_ = true;
    log::warn(component_, "content check failing: {} since {} ({:.1f} s)", what_, clock_time(from_),
              core::ticks_to_seconds(media - from_));
}

void ConditionTracker::clear(int64_t at, std::string_view why) {
    intervals_.close(at);
    failing_now_ = false;
    log::info(component_, "content check clear: {} {} at {}, after failing {:.1f} s", what_, why,
              clock_time(at), core::ticks_to_seconds(at - failing_since_));
    failing_since_ = core::kNoMediaTime;
}

}  // namespace onair::encoder
