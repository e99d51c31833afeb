// The lifecycle table: every transition of an event as a pure function of
// the clock, the event and what the runner reports, with the reasons and
// actions the controller will log, POST and carry out.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "schedule/lifecycle.hpp"

using namespace onair::schedule;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

TimePoint dec5(int hours, int minutes = 0, int seconds = 0) {
    return sys_days{2026y / December / 5} + std::chrono::hours(hours) +
           std::chrono::minutes(minutes) + std::chrono::seconds(seconds);
}

// The event: preroll 18:30, start 19:00, end 21:00, harvested.
EventSpec fight(Teardown teardown = {TeardownMode::confirm, {}}) {
    EventSpec e;
    e.id = "fight-night-main";
    e.channel = "channels/fight.yaml";
    e.preroll = dec5(18, 30);
    e.start = dec5(19);
    e.end = dec5(21);
    e.teardown = teardown;
    e.harvest = Harvest::event;
    return e;
}

std::vector<std::string> kinds(const std::vector<Action>& actions) {
    std::vector<std::string> out;
    for (const auto& a : actions) out.emplace_back(kActionKinds.name(a.kind));
    return out;
}
using Kinds = std::vector<std::string>;

// One event's life: each call steps it and keeps the state, as the
// controller will.
struct Life {
    EventSpec event;
    EventState state;
    RetryPolicy policy;
    Step last;

    Step& at(TimePoint now, Report kind = Report::none, std::string reason = {}) {
        last = step(event, state, now, RunnerReport{kind, std::move(reason)}, policy);
        state = last.next;
        return last;
    }
    // A transition to `to`, with its reason.
    void expect(State to, const std::string& reason) {
        INFO("state " << to_string(state.state) << ", note: " << last.note);
        REQUIRE(last.transition);
        CHECK(to_string(last.transition->to) == std::string(to_string(to)));
        CHECK(last.transition->reason == reason);
        CHECK(state.state == to);
    }
    void expect_none() {
        INFO("state " << to_string(state.state) << ", note: " << last.note);
        CHECK_FALSE(last.transition.has_value());
    }
};

// An event brought to `state` the normal way, at its usual times.
Life brought_to(State target, Teardown teardown = {TeardownMode::confirm, {}}) {
    Life life{fight(teardown), {}, {}, {}};
    if (target == State::scheduled) return life;
    life.at(dec5(18, 30));
    if (target == State::deploying) return life;
    life.at(dec5(18, 31), Report::deploy_succeeded);
    if (target == State::ready) return life;
    life.at(dec5(19));
    if (target == State::live) return life;
    life.at(dec5(21));
    REQUIRE(life.state.state == State::ending);
    return life;
}

}  // namespace

TEST_CASE("an event goes from scheduled to done on time, torn down on the operator's word",
          "[lifecycle]") {
    Life life{fight(), {}, {}, {}};
    life.at(dec5(18));
    life.expect_none();
    CHECK(life.last.actions.empty());
    CHECK(life.last.wake_at == dec5(18, 30));

    life.at(dec5(18, 30));
    life.expect(State::deploying, "preroll reached");
    CHECK(kinds(life.last.actions) == Kinds{"notify", "deploy"});
    CHECK(life.last.transition->from == State::scheduled);
    CHECK(life.last.transition->at == dec5(18, 30));
    CHECK(life.state.entered == dec5(18, 30));
    CHECK(life.state.attempts == 1);
    CHECK(life.last.wake_at == dec5(18, 31));  // the deploy timeout

    life.at(dec5(18, 30, 2), Report::deploy_started);
    life.expect_none();
    CHECK(life.last.actions.empty());

    life.at(dec5(18, 30, 20), Report::deploy_succeeded);
    life.expect(State::ready, "the channel runs");
    CHECK(kinds(life.last.actions) == Kinds{"notify"});
    CHECK(life.state.attempts == 0);
    CHECK(life.last.wake_at == dec5(19));

    life.at(dec5(18, 45), Report::channel_healthy);
    life.expect_none();
    life.at(dec5(19));
    life.expect(State::live, "start reached");
    CHECK(life.state.live_since == dec5(19));
    CHECK(life.last.wake_at == dec5(21));

    life.at(dec5(21));
    life.expect(State::ending, "end reached");
    CHECK_FALSE(life.last.wake_at);  // only the operator's word ends it now
    life.at(dec5(22));
    life.expect_none();
    CHECK(life.state.state == State::ending);

    life.state.teardown_confirmed = true;
    life.at(dec5(22, 5));
    life.expect(State::tearing_down, "the operator confirmed teardown");
    CHECK(kinds(life.last.actions) == Kinds{"notify", "harvest", "stop"});
    CHECK(life.last.actions[1].from == dec5(19));  // start to the real end
    CHECK(life.last.actions[1].to == dec5(22, 5));
    CHECK(life.state.ended_at == dec5(22, 5));
    CHECK(life.last.wake_at == dec5(22, 6));  // the teardown timeout

    life.at(dec5(22, 5, 30), Report::teardown_finished);
    life.expect(State::done, "the channel stopped");
    CHECK_FALSE(life.last.wake_at);
    CHECK(is_final(life.state.state));
    CHECK_FALSE(has_channel(life.state.state));

    auto before = life.state;
    life.at(dec5(23), Report::channel_died);
    life.expect_none();
    CHECK(life.last.actions.empty());
    CHECK(life.state == before);
}

TEST_CASE("teardown auto tears down at the end, after D waits D", "[lifecycle]") {
    auto automatic = brought_to(State::live, {TeardownMode::automatic, {}});
    automatic.at(dec5(21));
    automatic.expect(State::ending, "end reached");
    CHECK(automatic.last.wake_at <= dec5(21));  // more is due at once
    automatic.at(dec5(21));
    automatic.expect(State::tearing_down, "teardown: auto");
    CHECK(kinds(automatic.last.actions) == Kinds{"notify", "harvest", "stop"});
    CHECK(automatic.last.actions[1].to == dec5(21));

    auto after = brought_to(State::ending, {TeardownMode::after, 30min});
    CHECK(after.last.wake_at == dec5(21, 30));
    after.at(dec5(21, 29, 59));
    after.expect_none();
    after.at(dec5(21, 30));
    after.expect(State::tearing_down, "teardown: 30m after the end");
    CHECK(after.last.actions[1].from == dec5(19));
    CHECK(after.last.actions[1].to == dec5(21));  // the end, not the hold

    // The operator may release it during the hold.
    auto released = brought_to(State::ending, {TeardownMode::after, 30min});
    released.state.teardown_confirmed = true;
    released.at(dec5(21, 10));
    released.expect(State::tearing_down, "the operator confirmed teardown");
    CHECK(released.last.actions[1].to == dec5(21, 10));

    // Without harvest, teardown only stops the channel.
    auto plain = brought_to(State::live, {TeardownMode::automatic, {}});
    plain.event.harvest = Harvest::none;
    plain.at(dec5(21));
    plain.at(dec5(21));
    plain.expect(State::tearing_down, "teardown: auto");
    CHECK(kinds(plain.last.actions) == Kinds{"notify", "stop"});
}

TEST_CASE("a failed deploy is retried with back-off, then the event fails with the last reason",
          "[lifecycle]") {
    CHECK(backoff(RetryPolicy{}, 1) == 2s);
    CHECK(backoff(RetryPolicy{}, 2) == 4s);
    CHECK(backoff(RetryPolicy{}, 3) == 8s);
    CHECK(backoff(RetryPolicy{}, 20) == 5min);  // capped

    auto life = brought_to(State::deploying);
    const std::string taken = "origin.listen: 127.0.0.1:8080 is in use by another process";
    life.at(dec5(18, 30, 1), Report::deploy_failed, taken);
    life.expect_none();
    CHECK(life.last.actions.empty());
    CHECK(life.last.note == "deploy failed (" + taken + "); retry 1 of 3 in 2s");
    CHECK(life.state.retry_at == dec5(18, 30, 3));
    CHECK(life.last.wake_at == dec5(18, 30, 3));
    CHECK(life.state.last_failure == taken);

    life.at(dec5(18, 30, 2));  // not yet
    CHECK(life.last.actions.empty());
    life.at(dec5(18, 30, 3));
    CHECK(kinds(life.last.actions) == Kinds{"deploy"});
    CHECK(life.last.note == "deploy: retry 1 of 3");
    CHECK(life.state.attempts == 2);

    life.at(dec5(18, 30, 4), Report::deploy_failed, taken);
    CHECK(life.state.retry_at == dec5(18, 30, 8));  // 4 s
    life.at(dec5(18, 30, 8));
    life.at(dec5(18, 30, 9), Report::deploy_failed, taken);
    CHECK(life.state.retry_at == dec5(18, 30, 17));  // 8 s
    life.at(dec5(18, 30, 17));
    CHECK(life.state.attempts == 4);
    CHECK(life.state.state == State::deploying);

    life.at(dec5(18, 30, 18), Report::deploy_failed, taken);
    life.expect(State::failed, "deploy failed 4 times; last: " + taken);
    CHECK(kinds(life.last.actions) == Kinds{"notify", "stop"});
    CHECK_FALSE(life.last.wake_at);
    CHECK(is_final(State::failed));

    // A deploy that neither succeeds nor fails times out as a failure.
    auto silent = brought_to(State::deploying);
    silent.at(dec5(18, 31));
    silent.expect_none();
    CHECK(silent.last.note == "deploy failed (not ready within 60s); retry 1 of 3 in 2s");

    // A retry that works: ready, saying which attempt it was.
    auto second = brought_to(State::deploying);
    second.at(dec5(18, 30, 1), Report::deploy_failed, "exit code 1");
    second.at(dec5(18, 30, 3));
    second.at(dec5(18, 30, 10), Report::deploy_succeeded);
    second.expect(State::ready, "the channel runs (attempt 2)");
    CHECK(second.state.last_failure.empty());

    // The schedule file's `retries` become the policy.
    auto configured = RetryPolicy::from(RetryConfig{5, 1s, 2min});
    CHECK(configured.retries == 5);
    CHECK(backoff(configured, 1) == 1s);
    CHECK(backoff(configured, 3) == 4s);
    CHECK(configured.deploy_timeout == 2min);

    // No retries configured: the first failure is final.
    auto once = brought_to(State::deploying);
    once.policy.retries = 0;
    once.at(dec5(18, 30, 1), Report::channel_died, "exit code 1");
    once.expect(State::failed, "deploy failed: exit code 1");
}

TEST_CASE("a channel that dies while ready, live or ending is restarted at once", "[lifecycle]") {
    for (auto state : {State::ready, State::live, State::ending}) {
        auto life = brought_to(state);
        auto now = life.state.entered + 1min;
        life.at(now, Report::channel_died, "exit code 137");
        life.expect_none();
        CHECK(life.state.state == state);
        CHECK(kinds(life.last.actions) == Kinds{"restart"});
        CHECK(life.last.note == "channel died (exit code 137): restarting");
        CHECK(life.state.restarts == 1);
        life.at(now + 2s, Report::deploy_succeeded);
        life.expect_none();
        CHECK(life.last.note == "channel restarted after 1 attempt");
        CHECK(life.state.attempts == 0);
        CHECK(life.state.state == state);
    }

    // A restart that keeps failing is retried, then the event fails.
    auto life = brought_to(State::live);
    life.at(dec5(20), Report::channel_died, "exit code 137");
    auto now = dec5(20);
    for (int attempt = 1; attempt <= 3; ++attempt) {
        now += 1s;
        life.at(now, Report::deploy_failed, "origin does not answer");
        CHECK(life.state.retry_at == now + backoff(life.policy, attempt));
        now = *life.state.retry_at;
        life.at(now);
        CHECK(kinds(life.last.actions) == Kinds{"restart"});
    }
    CHECK(life.state.restarts == 4);
    life.at(now + 1s, Report::deploy_failed, "origin does not answer");
    life.expect(State::failed, "restart failed 4 times; last: origin does not answer");
    CHECK(kinds(life.last.actions) == Kinds{"notify", "stop"});

    // While restarting, the event's times still hold: the end comes on time.
    auto restarting = brought_to(State::live, {TeardownMode::automatic, {}});
    restarting.at(dec5(20, 59, 59), Report::channel_died);
    restarting.at(dec5(21));
    restarting.expect(State::ending, "end reached");
}

TEST_CASE("extend moves the end: an overrun stays live, and an ended event goes live again",
          "[lifecycle]") {
    auto life = brought_to(State::live, {TeardownMode::automatic, {}});
    life.state.extended_end = dec5(22);
    CHECK(effective_end(life.event, life.state) == dec5(22));
    life.at(dec5(21));
    life.expect_none();
    CHECK(life.last.wake_at == dec5(22));
    life.at(dec5(22));
    life.expect(State::ending, "extended end reached");

    auto ended = brought_to(State::ending);
    ended.state.extended_end = dec5(22, 30);
    ended.at(dec5(21, 10));
    ended.expect(State::live, "end extended to 2026-12-05T22:30:00Z");
    CHECK(ended.state.live_since == dec5(19));  // still live since the start
    ended.at(dec5(22, 30));
    ended.expect(State::ending, "extended end reached");
}

TEST_CASE("the operator may end an event early, or cancel it", "[lifecycle]") {
    auto early = brought_to(State::live);
    early.state.teardown_confirmed = true;
    early.at(dec5(20));
    early.expect(State::tearing_down, "the operator ended it early (end was 2026-12-05T21:00:00Z)");
    CHECK(kinds(early.last.actions) == Kinds{"notify", "harvest", "stop"});
    CHECK(early.last.actions[1].from == dec5(19));
    CHECK(early.last.actions[1].to == dec5(20));

    auto before_start = brought_to(State::ready);
    before_start.state.teardown_confirmed = true;
    before_start.at(dec5(18, 40));
    before_start.expect(State::tearing_down, "the operator tore it down before its start");
    CHECK(kinds(before_start.last.actions) == Kinds{"notify", "stop"});  // nothing to harvest
    before_start.at(dec5(18, 41), Report::teardown_finished);
    before_start.expect(State::done, "the channel stopped");

    auto scheduled = brought_to(State::scheduled);
    scheduled.state.cancel_requested = true;
    scheduled.at(dec5(12));
    scheduled.expect(State::cancelled, "cancelled before preroll");
    CHECK(kinds(scheduled.last.actions) == Kinds{"notify"});
    CHECK(is_final(State::cancelled));

    // With a channel running, cancel stops it without harvesting.
    for (auto state : {State::deploying, State::ready, State::live, State::ending}) {
        auto life = brought_to(state);
        life.state.cancel_requested = true;
        auto now = life.state.entered + 1min;
        life.at(now);
        life.expect(State::tearing_down, "cancelled by the operator");
        CHECK(kinds(life.last.actions) == Kinds{"notify", "stop"});
        life.at(now + 5s, Report::teardown_finished);
        life.expect(State::cancelled, "the channel stopped");
    }
}

TEST_CASE("a preroll already past at start-up deploys at once, a missed event fails",
          "[lifecycle]") {
    Life late{fight(), {}, {}, {}};
    late.at(dec5(18, 45));
    late.expect(State::deploying, "preroll 2026-12-05T18:30:00Z already past: deploying at once");
    CHECK(kinds(late.last.actions) == Kinds{"notify", "deploy"});
    late.at(dec5(19, 20), Report::deploy_succeeded);
    late.expect(State::ready, "the channel runs");
    late.at(dec5(19, 20));
    late.expect(State::live, "start 2026-12-05T19:00:00Z already past");

    // Its end passed too: what happens depends on how it is torn down.
    Life missed{fight({TeardownMode::automatic, {}}), {}, {}, {}};
    missed.at(dec5(22));
    missed.expect(State::failed,
                  "missed: its end 2026-12-05T21:00:00Z passed before it could "
                  "be deployed (teardown: auto)");
    CHECK(kinds(missed.last.actions) == Kinds{"notify"});
    Life held{fight({TeardownMode::after, 30min}), {}, {}, {}};
    held.at(dec5(21, 10));
    held.expect(State::deploying, "preroll 2026-12-05T18:30:00Z already past: deploying at once");
    Life held_over{fight({TeardownMode::after, 30min}), {}, {}, {}};
    held_over.at(dec5(21, 40));
    held_over.expect(State::failed,
                     "missed: its end 2026-12-05T21:00:00Z passed before it could "
                     "be deployed (teardown: after 30m)");
    Life waiting{fight(), {}, {}, {}};  // confirm: it runs until the operator says
    waiting.at(dec5(23));
    CHECK(waiting.state.state == State::deploying);

    // A live event whose end passed while the controller was down.
    auto automatic = brought_to(State::live, {TeardownMode::automatic, {}});
    automatic.at(dec5(21, 20));
    automatic.expect(State::ending, "end 2026-12-05T21:00:00Z already past");
    automatic.at(dec5(21, 20));
    automatic.expect(State::tearing_down, "teardown: auto");
    CHECK(automatic.last.actions[1].to == dec5(21));  // cut to the end, not to now
    auto confirm = brought_to(State::live);
    confirm.at(dec5(21, 20));
    confirm.expect(State::ending, "end 2026-12-05T21:00:00Z already past");
    confirm.at(dec5(21, 20));
    confirm.expect_none();
}

TEST_CASE("a teardown that fails is retried, then the event fails", "[lifecycle]") {
    auto life = brought_to(State::ending);
    life.state.teardown_confirmed = true;
    life.at(dec5(21, 5));
    auto now = dec5(21, 5);
    for (int attempt = 1; attempt <= 3; ++attempt) {
        now += 1s;
        life.at(now, Report::teardown_failed, "harvest: the catalog is busy");
        life.expect_none();
        now = *life.state.retry_at;
        life.at(now);
        CHECK(kinds(life.last.actions) == Kinds{"stop"});  // the harvest is not cut twice
    }
    life.at(now + 1s, Report::teardown_failed, "harvest: the catalog is busy");
    life.expect(State::failed, "teardown failed 4 times; last: harvest: the catalog is busy");
    CHECK(kinds(life.last.actions) == Kinds{"notify"});

    // A stop that never reports times out.
    auto stuck = brought_to(State::ending);
    stuck.state.teardown_confirmed = true;
    stuck.at(dec5(21, 5));
    stuck.at(dec5(21, 6));
    CHECK(stuck.last.note == "teardown failed (not stopped within 60s); retry 1 of 3 in 2s");
}

TEST_CASE("states print by their names", "[lifecycle]") {
    CHECK(std::string(to_string(State::tearing_down)) == "tearing_down");
    CHECK(kStates.value("ending") == State::ending);
    CHECK(has_channel(State::deploying));
    CHECK_FALSE(has_channel(State::scheduled));
}
