#pragma once
// The lifecycle of one event as a pure function: from the event (times,
// teardown, harvest), its state with the facts its history holds, the clock
// and what the runner reported, to the next state (at most one transition
// per call, with its reason), the actions to take, and when to be called
// again. No clock, threads or I/O: the controller owns the state (in SQLite
// later), calls step() when a report or an operator's command arrives and
// whenever wake_at falls due, stores `next`, and carries out the actions.
//
//   scheduled --preroll--> deploying --deploy ok--> ready --start--> live
//   live --end--> ending --confirm | auto | after D--> tearing_down --stopped--> done
//   ending --extend past now--> live       live --confirm before end--> tearing_down
//   any step that fails is retried with back-off, then --> failed (with the last reason)
//   cancel: scheduled --> cancelled; with a channel: --> tearing_down --> cancelled
//   a channel that dies while ready, live or ending is restarted at once (same state)
#include <optional>
#include <string>
#include <vector>

#include "core/enum_names.hpp"
#include "schedule/schedule_config.hpp"

namespace onair::schedule {

enum class State {
    scheduled,
    deploying,
    ready,
    live,
    ending,
    tearing_down,
    done,
    failed,
    cancelled
};

inline constexpr auto kStates = core::enum_names<State>(
    std::pair{State::scheduled, "scheduled"}, std::pair{State::deploying, "deploying"},
    std::pair{State::ready, "ready"}, std::pair{State::live, "live"},
    std::pair{State::ending, "ending"}, std::pair{State::tearing_down, "tearing_down"},
    std::pair{State::done, "done"}, std::pair{State::failed, "failed"},
    std::pair{State::cancelled, "cancelled"});

const char* to_string(State state);
bool is_final(State state);  // done, failed, cancelled
// Whether a channel may be running for the event (it holds its ports).
bool has_channel(State state);

// How a failed step is retried (from the schedule file's `retries`).
struct RetryPolicy {
    int retries = 3;                                 // after the first attempt
    Duration first_delay = std::chrono::seconds(2);  // then 4 s, 8 s, ...
    Duration max_delay = std::chrono::minutes(5);
    Duration deploy_timeout = std::chrono::seconds(60);    // started, not ready: failed
    Duration teardown_timeout = std::chrono::seconds(60);  // stop asked, not stopped: failed

    static RetryPolicy from(const RetryConfig& config);
};

// The wait before retry number `retry` (1 for the first retry).
Duration backoff(const RetryPolicy& policy, int retry);

// The event's state and the facts of its history that the rules need.
struct EventState {
    State state = State::scheduled;
    TimePoint entered{};  // when `state` was entered

    // The step in progress: deploy (deploying), restart (ready, live,
    // ending; attempts > 0 while one runs) or stop (tearing_down).
    int attempts = 0;                     // attempts begun
    std::optional<TimePoint> attempt_at;  // when the attempt in flight began
    std::optional<TimePoint> retry_at;    // when the next attempt is due
    std::string last_failure;
    int restarts = 0;  // channel restarts since it was deployed

    // The operator's word.
    bool teardown_confirmed = false;        // POST .../teardown
    bool cancel_requested = false;          // DELETE before it is over
    std::optional<TimePoint> extended_end;  // POST .../extend

    std::optional<TimePoint> live_since;  // when it went live
    std::optional<TimePoint> ended_at;    // its real end: when teardown began

    friend bool operator==(const EventState&, const EventState&) = default;
};

// The end in force: the extended one, if any.
TimePoint effective_end(const EventSpec& event, const EventState& state);

// What the runner reports about the event's channel.
enum class Report {
    none,
    deploy_started,
    deploy_succeeded,  // its origin answers and its pipelines run (also after a restart)
    deploy_failed,
    channel_healthy,
    channel_unhealthy,
    channel_died,
    teardown_finished,
    teardown_failed,
};
inline constexpr auto kReports = core::enum_names<Report>(
    std::pair{Report::none, "none"}, std::pair{Report::deploy_started, "deploy_started"},
    std::pair{Report::deploy_succeeded, "deploy_succeeded"},
    std::pair{Report::deploy_failed, "deploy_failed"},
    std::pair{Report::channel_healthy, "channel_healthy"},
    std::pair{Report::channel_unhealthy, "channel_unhealthy"},
    std::pair{Report::channel_died, "channel_died"},
    std::pair{Report::teardown_finished, "teardown_finished"},
    std::pair{Report::teardown_failed, "teardown_failed"});

struct RunnerReport {
    Report kind = Report::none;
    std::string reason;  // for failures and deaths: what the runner saw
};

enum class ActionKind {
    deploy,   // re-read the event's channel file, check it, start the channel
    restart,  // start the channel again (same data folder: DVR and numbering go on)
    harvest,  // cut [from, to] as clip `event id` into the channel's catalog
    stop,     // stop the channel cleanly (last segments flushed, DVR kept)
    notify,   // the transition: a log line, a webhook POST, a history row
};
inline constexpr auto kActionKinds = core::enum_names<ActionKind>(
    std::pair{ActionKind::deploy, "deploy"}, std::pair{ActionKind::restart, "restart"},
    std::pair{ActionKind::harvest, "harvest"}, std::pair{ActionKind::stop, "stop"},
    std::pair{ActionKind::notify, "notify"});

struct Action {
    ActionKind kind = ActionKind::notify;
    TimePoint from{};  // harvest: the clip's window
    TimePoint to{};
    friend bool operator==(const Action&, const Action&) = default;
};

struct Transition {
    State from = State::scheduled;
    State to = State::scheduled;
    TimePoint at{};
    std::string reason;
};

struct Step {
    EventState next;                       // what to store
    std::optional<Transition> transition;  // at most one per call
    std::vector<Action> actions;           // in order
    // Call step() again by then even without a report; at or before `now`:
    // at once (more is due). Empty: only on a report or a command.
    std::optional<TimePoint> wake_at;
    std::string note;  // a retry or a restart (not a transition), for the log
};

// One step of the lifecycle. Operator commands are facts of `state`
// (teardown_confirmed, cancel_requested, extended_end) that the controller
// sets before calling.
Step step(const EventSpec& event, const EventState& state, TimePoint now,
          const RunnerReport& report = {}, const RetryPolicy& policy = {});

// When something falls due for `state` without a report: a time of the
// event, a retry, or an attempt's timeout. Empty when nothing will.
std::optional<TimePoint> next_due(const EventSpec& event, const EventState& state,
                                  const RetryPolicy& policy);

}  // namespace onair::schedule
