// The failover choice per sequence number, without a store or a socket:
// which pipeline's copy is served, when the choice waits, and which switch
// events a broadcast engineer would see.
#include <catch2/catch.hpp>

#include "origin/failover.hpp"

using namespace onair;
using namespace onair::origin;

namespace {

constexpr int64_t kT0 = 1'800'000'000'000;  // UTC ms
constexpr int64_t kSegmentMs = 2000;

FailoverSettings settings(core::FailoverMode mode = core::FailoverMode::primary_preferred) {
    FailoverSettings s;
    s.mode = mode;
    s.late_after_ms = 1000;
    s.return_after_ms = 6000;
    return s;
}

struct Copy {
    bool slate = false;
    core::ContentHealth health{};
};

CopyArrival arrival(char pipeline, int64_t sequence, int64_t at, Copy copy = {}) {
    return {pipeline, sequence, copy.slate, copy.health, at};
}

// Feeds both pipelines' copies of `from..to`, A at the segment's due time
// plus `a_delay` (none when negative) and B plus `b_delay`, deciding each
// after both had their chance; returns the decisions.
std::string run(FailoverController& c, int64_t from, int64_t to, int64_t a_delay, int64_t b_delay,
                Copy a = {}, Copy b = {}) {
    std::string out;
    for (int64_t n = from; n <= to; ++n) {
        int64_t due = kT0 + n * kSegmentMs;
        if (a_delay >= 0) c.on_arrival(arrival('a', n, due + a_delay, a));
        if (b_delay >= 0) c.on_arrival(arrival('b', n, due + b_delay, b));
        char d = c.decide(n, due + std::max(a_delay, b_delay) + 1000);
        out += d ? d : '-';
    }
    return out;
}

}  // namespace

TEST_CASE("healthy A is served at once, B arriving first waits for A", "[failover]") {
    FailoverController c(settings());
    c.on_arrival(arrival('a', 1, kT0));
    CHECK(c.decide(1, kT0) == 'a');
    c.on_arrival(arrival('b', 2, kT0 + 2000));
    CHECK(c.decide(2, kT0 + 2000) == 0);
    CHECK(c.decide(2, kT0 + 2900) == 0);
    c.on_arrival(arrival('a', 2, kT0 + 2950));
    CHECK(c.decide(2, kT0 + 2950) == 'a');
    CHECK(c.switches() == 0);
    CHECK(c.take_events().empty());
    // Decisions are final.
    c.on_arrival(arrival('b', 1, kT0 + 10));
    CHECK(c.decide(1, kT0 + 99999) == 'a');
}

TEST_CASE("A late past late_after: B is served and one switch is reported", "[failover]") {
    FailoverController c(settings(core::FailoverMode::equal));
    CHECK(run(c, 0, 2, 0, 100) == "aaa");
    c.on_arrival(arrival('b', 3, kT0 + 3 * kSegmentMs));
    CHECK(c.decide(3, kT0 + 3 * kSegmentMs + 999) == 0);
    CHECK(c.decide(3, kT0 + 3 * kSegmentMs + 1000) == 'b');
    auto events = c.take_events();
    REQUIRE(events.size() == 1);
    CHECK(events[0].from == 'a');
    CHECK(events[0].to == 'b');
    CHECK(events[0].reason == SwitchReason::late);
    CHECK(events[0].sequence == 3);
    CHECK(c.active() == 'b');
    CHECK(c.view('a').late_segments == 1);
    // Equal: B stays even once A is back and healthy for long.
    CHECK(run(c, 4, 20, 0, 100) == std::string(17, 'b'));
    CHECK(c.switches() == 1);
}

TEST_CASE("primary-preferred returns to A after return_after of health", "[failover]") {
    FailoverController c(settings());
    CHECK(run(c, 0, 1, 0, 0) == "aa");
    CHECK(run(c, 2, 5, -1, 0) == "bbbb");  // A gone
    // A back: 6 s of healthy, on-time copies (three 2 s segments) first.
    CHECK(run(c, 6, 8, 0, 0) == "bbb");
    CHECK(run(c, 9, 10, 0, 0) == "aa");
    auto events = c.take_events();
    REQUIRE(events.size() == 2);
    CHECK(events[0].reason == SwitchReason::late);
    CHECK(events[1].reason == SwitchReason::primary_restored);
    CHECK(events[1].from == 'b');
    CHECK(events[1].to == 'a');
    CHECK(events[1].sequence == 9);
}

TEST_CASE("the return to A does not hang on B's copy arriving first", "[failover]") {
    FailoverController c(settings());
    CHECK(run(c, 0, 1, 0, 0) == "aa");
    CHECK(run(c, 2, 5, -1, 0) == "bbbb");  // A gone
    // A back and healthy, but each of its copies comes 40 ms after B's, and
    // each decision is asked for as a copy comes: B's is served meanwhile.
    auto decide_as_they_come = [&](int64_t n) {
        const int64_t due = kT0 + n * kSegmentMs;
        c.on_arrival(arrival('b', n, due));
        const char first = c.decide(n, due);
        c.on_arrival(arrival('a', n, due + 40));
        const char then = first ? first : c.decide(n, due + 40);
        return std::string{first ? first : '-', then};
    };
    for (int64_t n = 6; n <= 9; ++n) CHECK(decide_as_they_come(n) == "bb");
    // Healthy for 6 s (from A's copy of 6) when B's copy of 10 comes: it
    // waits for A's, which is served.
    CHECK(decide_as_they_come(10) == "-a");
    CHECK(c.active() == 'a');
    CHECK(run(c, 11, 12, 0, 0) == "aa");
    CHECK(c.switches() == 2);
}

TEST_CASE("a return to A that is due waits for A's copy only until the deadline", "[failover]") {
    FailoverController c(settings());
    CHECK(run(c, 0, 1, 0, 0) == "aa");
    CHECK(run(c, 2, 5, -1, 0) == "bbbb");  // A gone
    CHECK(run(c, 6, 8, 100, 0) == "bbb");  // A back, healthy from its copy of 6
    const int64_t late_before = c.view('a').late_segments;
    const int64_t due = kT0 + 9 * kSegmentMs;
    c.on_arrival(arrival('b', 9, due));
    CHECK(c.decide(9, due + 500) == 0);     // due back: A's copy is waited for
    CHECK(c.decide(9, due + 1000) == 'b');  // it never came: B's, and A was late
    CHECK(c.active() == 'b');
    CHECK(c.switches() == 1);
    CHECK(c.view('a').late_segments == late_before + 1);
}

TEST_CASE("slate (input loss) and failed content checks move to the healthy copy", "[failover]") {
    auto check_reason = [](Copy bad, SwitchReason reason) {
        FailoverController c(settings(core::FailoverMode::equal));
        CHECK(run(c, 0, 0, 0, 0) == "a");
        CHECK(run(c, 1, 3, 0, 50, bad) == "bbb");
        auto events = c.take_events();
        REQUIRE(events.size() == 1);
        CHECK(events[0].reason == reason);
        CHECK(events[0].sequence == 1);
    };
    check_reason({true, {}}, SwitchReason::input_loss);
    check_reason({false, {true, false, false}}, SwitchReason::black);
    check_reason({false, {false, true, false}}, SwitchReason::frozen);
    check_reason({false, {false, false, true}}, SwitchReason::silence);
}

TEST_CASE("an unhealthy active copy waits for the other only until its deadline", "[failover]") {
    FailoverController c(settings());
    c.on_arrival(arrival('a', 1, kT0, {true, {}}));
    CHECK(c.decide(1, kT0 + 500) == 0);     // B may still bring real content
    CHECK(c.decide(1, kT0 + 1000) == 'a');  // it did not: slate keeps the playlist moving
    CHECK(c.switches() == 0);
}

TEST_CASE("real content beats slate even when it fails a check, both lost stays put",
          "[failover]") {
    FailoverController c(settings(core::FailoverMode::equal));
    CHECK(run(c, 0, 0, 0, 0, {true, {}}, {false, {true, false, false}}) == "b");
    CHECK(c.take_events().at(0).reason == SwitchReason::input_loss);
    // Both slate: the active one's slate, no switching back and forth.
    CHECK(run(c, 1, 6, 0, 0, {true, {}}, {true, {}}) == "bbbbbb");
    CHECK(c.switches() == 1);
}

TEST_CASE("a manual switch holds until an automatic one", "[failover]") {
    FailoverController c(settings());
    CHECK(run(c, 0, 1, 0, 0) == "aa");
    CHECK(c.manual_switch('b', kT0 + 2 * kSegmentMs));
    CHECK(c.manual_hold());
    auto events = c.take_events();
    REQUIRE(events.size() == 1);
    CHECK(events[0].reason == SwitchReason::manual);
    CHECK(events[0].sequence == 2);
    // A healthy for long: primary-preferred does not take it back while held.
    CHECK(run(c, 2, 12, 0, 0) == std::string(11, 'b'));
    // B fails: automatic switch to A, the hold is over.
    CHECK(run(c, 13, 13, 0, -1) == "a");
    CHECK_FALSE(c.manual_hold());
    CHECK_FALSE(c.manual_switch('c', kT0));
}

TEST_CASE("a single-pipeline channel serves A's copies as they come", "[failover]") {
    auto s = settings();
    s.has_b = false;
    FailoverController c(s);
    c.on_arrival(arrival('a', 1, kT0, {true, {}}));
    CHECK(c.decide(1, kT0) == 'a');
    CHECK(c.decide(2, kT0) == 0);
    CHECK_FALSE(c.manual_switch('b', kT0));
    CHECK(c.view('b').late_segments == 0);
}

TEST_CASE("tick decides what passed its deadline, in order, with nobody asking", "[failover]") {
    FailoverController c(settings(core::FailoverMode::equal));
    c.on_arrival(arrival('b', 1, kT0));
    c.on_arrival(arrival('b', 2, kT0 + 2000));
    c.tick(kT0 + 1500);
    CHECK(c.active() == 'b');
    CHECK(c.decide(1, kT0 + 1500) == 'b');
    CHECK(c.view('a').late_segments == 1);
    CHECK(c.decide(2, kT0 + 2000) == 'b');  // B is active now: served at once
}

TEST_CASE("pipeline views: newest sequence, lag behind due, health", "[failover]") {
    FailoverController c(settings());
    c.on_arrival(arrival('a', 5, kT0));
    c.on_arrival(arrival('b', 5, kT0 + 300, {false, {false, true, false}}));
    CHECK(c.view('a').last_sequence == 5);
    CHECK(c.view('a').lag_ms == 0);
    CHECK(c.view('a').healthy_since_ms == kT0);
    CHECK(c.view('b').lag_ms == 300);
    CHECK(c.view('b').health.frozen);
    CHECK(c.view('b').healthy_since_ms == -1);
}
