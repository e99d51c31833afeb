// The content checks of a pipeline (black, frozen, silent), end to end: a
// media chain fed good content, then a stretch of bad content longer than
// the check's duration, then good content again. What is checked is what
// the origin sees: the flags of the segments, and the pipeline's status.
#include <catch2/catch.hpp>

#include <string>

#include "tests/tools/chain_harness.hpp"

using namespace onair;
using namespace onair::testing;
using namespace std::chrono_literals;

namespace {

using Flag = bool core::ContentHealth::*;

struct Verdicts {
    int flagged = 0;  // segments flagged as they should be
    int clear = 0;    // segments clear as they should be
};

// Every segment of `rendition` must carry `flag` exactly when it overlaps
// the failing interval [from, to). Segments within a frame of either end are
// not judged (the ladder's frame-rate filter moves pictures by up to half a
// frame); nor is the last one (the end of the run).
Verdicts check_flag(const RecordingSink& sink, const std::string& rendition, Flag flag,
                    int64_t from, int64_t to) {
    Verdicts v;
    auto segments = sink.of(rendition);
    for (const auto& [sequence, s] : segments) {
        if (sequence == segments.rbegin()->first) break;
        const int64_t end = s.start + s.duration;
        if (std::llabs(end - from) < kFrame || std::llabs(s.start - to) < kFrame) continue;
        const bool failing = s.start < to && from < end;
        INFO(rendition << " segment " << sequence << " [" << s.start << ", " << end
                       << ") failing interval [" << from << ", " << to << ")");
        CHECK(s.health.*flag == failing);
        ++(failing ? v.flagged : v.clear);
    }
    return v;
}

// Only `flag` may be set on any segment (a check that is off never flags).
void check_only(const RecordingSink& sink, Flag flag) {
    for (Flag other : {&core::ContentHealth::black, &core::ContentHealth::frozen,
                       &core::ContentHealth::silent}) {
        if (other == flag) continue;
        for (const auto& s : sink.segments) CHECK_FALSE(s.health.*other);
    }
}

// 6 s of good content, 7 s of `bad`, 5 s of good content again; the
// pipeline's status flag `failing` is looked at after each stretch.
struct Run {
    bool during_good = false, during_bad = false, after = false;
};
Run run_with(Chain& c, const Source& source, Content bad, std::atomic<bool>& failing) {
    Run r;
    feed(*c.chain, source, 0, 150, kWallStart);
    r.during_good = failing;
    feed(*c.chain, source, 150, 325, kWallStart, bad);
    r.during_bad = failing;
    feed(*c.chain, source, 325, 450, kWallStart);
    r.after = failing;
    REQUIRE(c.chain->finish());
    return r;
}

// What a check that works shows for a run: its status flag off before and
// after the bad stretch and on during it; on both renditions `flag` on every
// segment overlapping [from + 2 s (its duration), to) and on no other; no
// other flag anywhere.
void check_flagged_while_bad(const Chain& c, const Run& run, Flag flag, int64_t from, int64_t to) {
    CHECK_FALSE(run.during_good);
    CHECK(run.during_bad);
    CHECK_FALSE(run.after);
    for (const char* rendition : {"180p", "90p"}) {
        auto v = check_flag(c.sink, rendition, flag, from + 2 * kSecond, to);
        CHECK(v.flagged >= 2);  // e.g. 8.1 s to 13 s
        CHECK(v.clear >= 5);    // before (the segment from 6 s too), and after
    }
    check_only(c.sink, flag);
}

}  // namespace

TEST_CASE("black pictures flag the segments from black.duration after they start until they end") {
    auto config = small_channel();
    config.failover.black.enabled = true;
    config.failover.black.duration = 2s;
    core::TimeAnchor anchor(10 * kSecond);
    Chain c(config, anchor);
    Source source(900'000);
    auto run = run_with(c, source, {Picture::black}, c.status.black);
    check_flagged_while_bad(c, run, &core::ContentHealth::black,
                            kWallStart + source.video_time(150),
                            kWallStart + source.video_time(325));
}

TEST_CASE(
    "a frozen picture flags the segments from freeze.duration after it froze until it moves") {
    auto config = small_channel();
    config.failover.freeze.enabled = true;
    config.failover.freeze.duration = 2s;
    core::TimeAnchor anchor(10 * kSecond);
    Chain c(config, anchor);
    Source source(900'000);
    auto run = run_with(c, source, {Picture::still}, c.status.frozen);
    // Frame 150 is the picture shown from then on: frozen from there.
    check_flagged_while_bad(c, run, &core::ContentHealth::frozen,
                            kWallStart + source.video_time(150),
                            kWallStart + source.video_time(325));
}

TEST_CASE("silent audio flags the segments from silence.duration after it falls silent") {
    auto config = small_channel();
    config.failover.silence.enabled = true;
    config.failover.silence.duration = 2s;
    core::TimeAnchor anchor(10 * kSecond);
    Chain c(config, anchor);
    Source source(900'000);
    auto run = run_with(c, source, {Picture::moving, /*silent=*/true}, c.status.silent);
    check_flagged_while_bad(c, run, &core::ContentHealth::silent,
                            kWallStart + Source::audio_time(first_audio_of(source, 150)),
                            kWallStart + Source::audio_time(first_audio_of(source, 325)));
}

TEST_CASE("a condition shorter than its duration flags nothing") {
    auto config = small_channel();
    config.failover.black.enabled = true;
    config.failover.black.duration = 4s;
    core::TimeAnchor anchor(10 * kSecond);
    Chain c(config, anchor);
    Source source(900'000);
    feed(*c.chain, source, 0, 150, kWallStart);
    feed(*c.chain, source, 150, 225, kWallStart, {Picture::black});  // 3 s
    feed(*c.chain, source, 225, 350, kWallStart);
    REQUIRE(c.chain->finish());
    REQUIRE(c.sink.segments.size() >= 10);
    for (const auto& s : c.sink.segments) CHECK(s.health.healthy());
    CHECK_FALSE(c.status.black);
}

TEST_CASE("with the checks off, black, frozen and silent content flags nothing") {
    auto config = small_channel();  // failover checks are off unless given
    core::TimeAnchor anchor(10 * kSecond);
    Chain c(config, anchor);
    Source source(900'000);
    feed(*c.chain, source, 0, 150, kWallStart);
    feed(*c.chain, source, 150, 325, kWallStart, {Picture::black, /*silent=*/true});
    CHECK_FALSE(c.status.black);
    CHECK_FALSE(c.status.frozen);
    CHECK_FALSE(c.status.silent);
    feed(*c.chain, source, 325, 450, kWallStart);
    REQUIRE(c.chain->finish());
    REQUIRE(c.sink.segments.size() >= 14);
    for (const auto& s : c.sink.segments) CHECK(s.health.healthy());
}

TEST_CASE("input-loss fill is slate, never black, frozen or silent, whatever the checks") {
    auto config = small_channel();
    for (auto* duration : {&config.failover.black.duration, &config.failover.freeze.duration,
                           &config.failover.silence.duration})
        *duration = 1s;
    config.failover.black.enabled = config.failover.freeze.enabled =
        config.failover.silence.enabled = true;
    core::TimeAnchor anchor(10 * kSecond);
    Chain c(config, anchor);
    auto& [runtime, status, sink, chain] = c;
    Source source(900'000);
    feed(*chain, source, 0, 125, kWallStart);
    // 6 s without input: 1 s repeating the last picture, then black, with silence.
    for (int64_t t = source.video_time(125); t < source.video_time(275); t += kFrame / 2)
        REQUIRE(chain->tick(kWallStart + t));
    CHECK(status.filling);
    CHECK_FALSE(status.black);
    CHECK_FALSE(status.frozen);
    CHECK_FALSE(status.silent);
    feed(*chain, source, 275, 400, kWallStart);
    REQUIRE(chain->finish());
    int slate = 0;
    for (const auto& s : sink.segments) {
        INFO(s.rendition << " segment " << s.sequence);
        CHECK(s.health.healthy());
        slate += s.slate;
    }
    CHECK(slate >= 6);  // 3 or more per rendition
}

TEST_CASE("content after fill is judged from when the input came back") {
    auto config = small_channel();
    config.failover.black.enabled = true;
    config.failover.black.duration = 2s;
    core::TimeAnchor anchor(10 * kSecond);
    Chain c(config, anchor);
    auto& [runtime, status, sink, chain] = c;
    Source source(900'000);
    feed(*chain, source, 0, 125, kWallStart);
    for (int64_t t = source.video_time(125); t < source.video_time(275); t += kFrame / 2)
        REQUIRE(chain->tick(kWallStart + t));
    // The input comes back black: failing 2 s after it is back, not after the fill's black.
    feed(*chain, source, 275, 400, kWallStart, {Picture::black});
    CHECK(status.black);
    REQUIRE(chain->finish());
    const int64_t back = kWallStart + source.video_time(275);
    for (const char* rendition : {"180p", "90p"}) {
        auto v =
            check_flag(sink, rendition, &core::ContentHealth::black, back + 2 * kSecond, INT64_MAX);
        CHECK(v.flagged >= 1);
        CHECK(v.clear >= 4);
    }
}
