// ConditionTracker: how a detector's "holds since S" becomes failing
// intervals (from S + duration until it ends), with fill kept out.
#include <catch2/catch.hpp>

#include <atomic>

#include "core/health_log.hpp"
#include "encoder/condition_tracker.hpp"

using namespace onair;

namespace {
constexpr int64_t kSecond = core::kMediaClock;
constexpr int64_t kFrame = kSecond / 25;
constexpr int64_t kNone = core::kNoMediaTime;

struct Tracked {
    core::FailingIntervals intervals;
    std::atomic<bool> failing{false};
    encoder::ConditionTracker tracker{"black picture", 2 * kSecond, intervals, failing, "test"};
    // One observation per frame over [from, to).
    void frames(int64_t from, int64_t to, int64_t since, bool fill = false) {
        for (int64_t t = from; t < to; t += kFrame) tracker.observe(t, since, fill);
    }
};
}  // namespace

TEST_CASE("a condition fails from its start plus the duration until it ends") {
    Tracked t;
    t.frames(0, 10 * kSecond, kNone);
    t.frames(10 * kSecond, 11 * kSecond, 10 * kSecond);
    CHECK_FALSE(t.failing);  // 1 s in: not yet
    t.frames(11 * kSecond, 15 * kSecond, 10 * kSecond);
    CHECK(t.failing);
    CHECK(t.intervals.is_open());
    CHECK(t.intervals.overlaps(14 * kSecond, 100 * kSecond));  // open: ongoing
    t.frames(15 * kSecond, 16 * kSecond, kNone);
    CHECK_FALSE(t.failing);
    CHECK_FALSE(t.intervals.is_open());
    CHECK_FALSE(t.intervals.overlaps(0, 12 * kSecond));
    CHECK(t.intervals.overlaps(12 * kSecond, 12 * kSecond + 1));
    CHECK(t.intervals.overlaps(15 * kSecond - 1, 15 * kSecond));
    CHECK_FALSE(t.intervals.overlaps(15 * kSecond, 20 * kSecond));
}

TEST_CASE("a condition that ends before its duration leaves nothing") {
    Tracked t;
    t.frames(0, kSecond, 0);
    t.frames(kSecond, 3 * kSecond, kNone);
    t.frames(3 * kSecond, 5 * kSecond - kFrame, 3 * kSecond);  // one frame short
    t.frames(5 * kSecond, 6 * kSecond, kNone);
    CHECK_FALSE(t.failing);
    CHECK_FALSE(t.intervals.overlaps(0, 10 * kSecond));
}

TEST_CASE("a condition that ends between two observations still counts its failing part") {
    Tracked t;
    t.tracker.observe(0, 0, false);
    t.tracker.observe(3 * kSecond, kNone, false);  // sparse: held 3 s, ended at 3 s
    CHECK_FALSE(t.failing);
    CHECK(t.intervals.overlaps(2 * kSecond, 2 * kSecond + 1));
    CHECK_FALSE(t.intervals.overlaps(0, 2 * kSecond));
    CHECK_FALSE(t.intervals.overlaps(3 * kSecond, 4 * kSecond));
}

TEST_CASE("fill ends a failing condition, and what follows is judged from the fill's end") {
    Tracked t;
    t.frames(0, 5 * kSecond, 0);
    CHECK(t.failing);
    t.frames(5 * kSecond, 8 * kSecond, 0, /*fill=*/true);
    CHECK_FALSE(t.failing);
    CHECK(t.intervals.overlaps(4 * kSecond, 5 * kSecond));
    CHECK_FALSE(t.intervals.overlaps(5 * kSecond, 8 * kSecond));
    // Still black after the fill (the detector never saw it end): 2 s from 8 s.
    t.frames(8 * kSecond, 10 * kSecond - kFrame, 0);
    CHECK_FALSE(t.failing);
    t.frames(10 * kSecond - kFrame, 11 * kSecond, 0);
    CHECK(t.failing);
    CHECK_FALSE(t.intervals.overlaps(5 * kSecond, 10 * kSecond));
    CHECK(t.intervals.overlaps(10 * kSecond, 10 * kSecond + 1));
}

TEST_CASE("a tracker that goes away leaves the status clear") {
    core::FailingIntervals intervals;
    std::atomic<bool> failing{false};
    {
        encoder::ConditionTracker tracker("silent audio", kSecond, intervals, failing, "test");
        tracker.observe(0, 0, false);
        tracker.observe(2 * kSecond, 0, false);
        CHECK(failing);
    }
    CHECK_FALSE(failing);
}
