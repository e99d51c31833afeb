#include <catch2/catch.hpp>

#include "core/media_time.hpp"

using namespace onair::core;

namespace {
constexpr int64_t kSecond = kMediaClock;
constexpr int64_t kNow = 1'795'000'000LL * kSecond;  // a UTC instant in 2026, in media time
}  // namespace

TEST_CASE("unwrap_near picks the 33-bit congruent value closest to the reference") {
    CHECK(unwrap_near(100, 100) == 100);
    // Just after a wrap, the small value belongs after the big reference.
    CHECK(unwrap_near(10, kPtsWrap - 10) == kPtsWrap + 10);
    // Just before a wrap seen from after it.
    CHECK(unwrap_near(kPtsWrap - 10, kPtsWrap + 10) == kPtsWrap - 10);
    // Far from zero (epoch media time) the result keeps the high bits.
    int64_t reference = kNow + 12345;
    CHECK(unwrap_near(reference & (kPtsWrap - 1), reference) == reference);
    CHECK(unwrap_near((reference + 3000) & (kPtsWrap - 1), reference) == reference + 3000);
    CHECK(unwrap_near((reference - 3000) & (kPtsWrap - 1), reference) == reference - 3000);
}

TEST_CASE("segment grid numbers segments from media time, negatives included") {
    SegmentGrid grid{6 * kSecond};
    CHECK(grid.index_of(0) == 0);
    CHECK(grid.index_of(6 * kSecond - 1) == 0);
    CHECK(grid.index_of(6 * kSecond) == 1);
    CHECK(grid.index_of(-1) == -1);
    CHECK(grid.start_of(grid.index_of(kNow)) <= kNow);
    CHECK(grid.start_of(grid.index_of(kNow) + 1) > kNow);
    CHECK(floor_div(-7, 2) == -4);
    CHECK(floor_div(7, 2) == 3);
}

TEST_CASE("LL-HLS parts: part k of segment N covers N*D + k*P, through the 33-bit PTS wrap") {
    const SegmentGrid grid{2 * kSecond, kSecond / 2};
    CHECK(grid.parts_per_segment() == 4);
    CHECK(SegmentGrid{2 * kSecond}.parts_per_segment() == 0);
    const int64_t n = grid.index_of(kNow);
    for (int k = 0; k < 4; ++k) {
        const int64_t start = grid.part_start(n, k);
        CHECK(start == grid.start_of(n) + k * kSecond / 2);
        CHECK(grid.part_of(start) == k);
        CHECK(grid.part_of(start + kSecond / 2 - 1) == k);
        CHECK(grid.index_of(start) == n);
    }
    CHECK(grid.part_of(grid.start_of(n + 1)) == 0);
    CHECK(grid.part_of(-1) == 3);  // the last part of segment -1
    // A source whose 33-bit PTS wraps mid-segment: its frames' media time
    // runs straight on, and so do part numbers (one frame at 30 fps = 3000).
    TimeAnchor anchor(10 * kSecond);
    MediaClock clock(anchor, 2 * kSecond);
    const int64_t pts0 = kPtsWrap - 45 * 3000;  // 1.5 s before the wrap
    const int64_t first = clock.to_media(pts0, kNow);
    int64_t previous_part = grid.part_of(first), previous_segment = grid.index_of(first);
    int changes = 0;
    for (int i = 1; i <= 120; ++i) {  // 4 s of frames across the wrap
        const int64_t media = clock.to_media((pts0 + i * 3000) & (kPtsWrap - 1), kNow + i * 3000);
        REQUIRE(media == first + i * 3000);
        const int part = grid.part_of(media);
        const int64_t segment = grid.index_of(media);
        if (part != previous_part) {
            ++changes;
            // Parts count up one by one, back to 0 only where a segment starts.
            CHECK(((segment == previous_segment && part == previous_part + 1) ||
                   (segment == previous_segment + 1 && part == 0 && previous_part == 3)));
        }
        previous_part = part;
        previous_segment = segment;
    }
    CHECK(changes == 8);  // 4 s of 500 ms parts
}

TEST_CASE("the first timestamp is anchored to the wall clock") {
    TimeAnchor anchor(10 * kSecond);
    MediaClock clock(anchor, 2 * kSecond);
    int64_t pts = 1'400'000;  // ~15.5 s, as a fresh encoder starts
    CHECK(clock.to_media(pts, kNow) == kNow);
    // One frame later, one frame later in media time.
    CHECK(clock.to_media(pts + 3600, kNow + 3600) == kNow + 3600);
    CHECK(clock.relocks() == 0);
}

TEST_CASE("media time runs straight through the 33-bit PTS wrap") {
    TimeAnchor anchor(10 * kSecond);
    MediaClock clock(anchor, 2 * kSecond);
    int64_t pts = kPtsWrap - 2 * 3600;
    int64_t first = clock.to_media(pts, kNow);
    for (int i = 1; i <= 4; ++i) {
        int64_t wrapped = (pts + i * 3600) & (kPtsWrap - 1);
        CHECK(clock.to_media(wrapped, kNow + i * 3600) == first + i * 3600);
    }
    CHECK(clock.relocks() == 0);
}

TEST_CASE("two pipelines fed the same timestamps get the same media time, whichever starts first") {
    TimeAnchor anchor(10 * kSecond);
    MediaClock a(anchor, 2 * kSecond), b(anchor, 2 * kSecond);
    int64_t pts = 5'000'000;
    int64_t ma = a.to_media(pts, kNow);
    // B joins 7 s later, through a path 150 ms slower.
    int64_t later = pts + 7 * kSecond;
    int64_t mb = b.to_media(later, kNow + 7 * kSecond + kSecond * 15 / 100);
    CHECK(mb == ma + 7 * kSecond);
    CHECK(a.to_media(later, kNow + 7 * kSecond) == mb);
    CHECK(anchor.offsets() == 1);
}

TEST_CASE("a restarted source starts a new timeline that continues where the old one was") {
    TimeAnchor anchor(10 * kSecond);
    MediaClock clock(anchor, 2 * kSecond);
    int64_t t = kNow;
    int64_t pts = 9'000'000;
    for (int i = 0; i < 100; ++i) clock.to_media(pts + i * 3600, t + i * 3600);
    int64_t lag = clock.lag();
    // The encoder restarts 30 s later with timestamps from near zero.
    int64_t restart = t + 30 * kSecond;
    int64_t m = clock.to_media(126'000, restart);
    CHECK(clock.relocks() == 1);
    CHECK(m == restart - lag);  // continues at the pipeline's lag behind the wall clock
    CHECK(clock.to_media(126'000 + 3600, restart + 3600) == m + 3600);
}

TEST_CASE("a late frame of the same timeline is not a jump") {
    TimeAnchor anchor(10 * kSecond);
    MediaClock clock(anchor, 2 * kSecond);
    int64_t pts = 9'000'000;
    int64_t m0 = clock.to_media(pts, kNow);
    // Flushed from a buffer 3 s after it should have come.
    int64_t m1 = clock.to_media(pts + 3600, kNow + 3 * kSecond);
    CHECK(m1 == m0 + 3600);
    CHECK(clock.relocks() == 0);
}

TEST_CASE("after a reconnect the same timeline is found again, a new one is told apart") {
    TimeAnchor anchor(10 * kSecond);
    MediaClock clock(anchor, 2 * kSecond);
    int64_t pts = 9'000'000;
    int64_t m0 = clock.to_media(pts, kNow);
    // Same encoder, link down for 20 s: timestamps kept running.
    clock.reset();
    CHECK(clock.to_media(pts + 20 * kSecond, kNow + 20 * kSecond) == m0 + 20 * kSecond);
    CHECK(clock.relocks() == 0);
    // Another reconnect onto an encoder restarted from zero.
    clock.reset();
    clock.to_media(0, kNow + 40 * kSecond);
    CHECK(clock.relocks() == 1);
}
