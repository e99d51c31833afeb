// The lifecycle's rules, state by state. Each call handles, in order: the
// operator's cancel and teardown, the runner's report, the step's retry or
// timeout, then the event's times; it stops at the first transition.
#include "schedule/lifecycle.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/units.hpp"

namespace onair::schedule {
namespace {

using namespace std::chrono_literals;

// Beyond this, a time that fell due is "already past" in the reason.
constexpr Duration kLate = 1s;

std::string duration_text(Duration d) {
    return core::format_duration(d);
}

class Stepper {
  public:
    Stepper(const EventSpec& event, const EventState& state, TimePoint now,
            const RetryPolicy& policy)
        : event_(event), now_(now), policy_(policy) {
        out_.next = state;
    }

    Step run(const RunnerReport& report) {
        switch (s().state) {
            case State::scheduled:
                scheduled();
                break;
            case State::deploying:
                deploying(report);
                break;
            case State::ready:
                ready(report);
                break;
            case State::live:
                live(report);
                break;
            case State::ending:
                ending(report);
                break;
            case State::tearing_down:
                tearing_down(report);
                break;
            case State::done:
            case State::failed:
            case State::cancelled:
                break;
        }
        out_.wake_at = next_due(event_, out_.next, policy_);
        return std::move(out_);
    }

  private:
    EventState& s() { return out_.next; }
    bool moved() const { return out_.transition.has_value(); }
    TimePoint end() const { return effective_end(event_, out_.next); }

    void note(std::string text) { out_.note += (out_.note.empty() ? "" : "; ") + text; }

    void go(State to, std::string reason) {
        out_.transition = Transition{s().state, to, now_, std::move(reason)};
        s().state = to;
        s().entered = now_;
        out_.actions.push_back(Action{ActionKind::notify, {}, {}});
    }

    void clear_step() {
        s().attempts = 0;
        s().attempt_at.reset();
        s().retry_at.reset();
    }

    void begin(ActionKind kind) {
        ++s().attempts;
        s().attempt_at = now_;
        s().retry_at.reset();
        if (kind == ActionKind::restart) ++s().restarts;
        out_.actions.push_back(Action{kind, {}, {}});
    }

    // The action that (re)tries the step of the current state.
    ActionKind step_action() const {
        switch (out_.next.state) {
            case State::deploying:
                return ActionKind::deploy;
            case State::tearing_down:
                return ActionKind::stop;
            default:
                return ActionKind::restart;
        }
    }
    const char* step_name() const {
        switch (step_action()) {
            case ActionKind::deploy:
                return "deploy";
            case ActionKind::stop:
                return "teardown";
            default:
                return "restart";
        }
    }
    Duration timeout() const {
        return out_.next.state == State::tearing_down ? policy_.teardown_timeout
                                                      : policy_.deploy_timeout;
    }

    // The attempt in flight failed: retry after the back-off, or give up.
    void fail(const std::string& reason) {
        s().last_failure = reason;
        if (s().attempts <= policy_.retries) {
            auto wait = backoff(policy_, s().attempts);
            note(fmt::format("{} failed ({}); retry {} of {} in {}", step_name(), reason,
                             s().attempts, policy_.retries, duration_text(wait)));
            s().attempt_at.reset();
            s().retry_at = now_ + wait;
            return;
        }
        auto what = step_name();
        auto attempts = s().attempts;
        bool channel_may_run = s().state != State::tearing_down;
        clear_step();
        go(State::failed,
           attempts == 1 ? fmt::format("{} failed: {}", what, reason)
                         : fmt::format("{} failed {} times; last: {}", what, attempts, reason));
        if (channel_may_run) out_.actions.push_back(Action{ActionKind::stop, {}, {}});
    }

    // A retry that fell due, or an attempt that took too long.
    void timers() {
        if (s().retry_at && now_ >= *s().retry_at) {
            note(fmt::format("{}: retry {} of {}", step_name(), s().attempts, policy_.retries));
            begin(step_action());
            return;
        }
        if (s().attempt_at && now_ >= *s().attempt_at + timeout())
            fail(fmt::format("{} within {}",
                             s().state == State::tearing_down ? "not stopped" : "not ready",
                             duration_text(timeout())));
    }

    // ready, live, ending: a channel that dies is restarted at once.
    void channel_report(const RunnerReport& report) {
        bool restarting = s().attempt_at.has_value();
        switch (report.kind) {
            case Report::channel_died:
            case Report::deploy_failed: {
                auto reason =
                    report.reason.empty() ? std::string("the channel died") : report.reason;
                if (restarting) {
                    fail(reason);
                } else if (!s().retry_at && report.kind == Report::channel_died) {
                    s().last_failure = reason;
                    note(fmt::format("channel died ({}): restarting", reason));
                    begin(ActionKind::restart);
                }
                break;
            }
            case Report::deploy_succeeded:
            case Report::channel_healthy:
                if (restarting) {
                    note(fmt::format("channel restarted after {} attempt{}", s().attempts,
                                     s().attempts == 1 ? "" : "s"));
                    clear_step();
                }
                break;
            default:
                break;
        }
    }

    // Harvest (if asked and it went live), then stop.
    void begin_teardown(std::string reason) {
        bool cancelled = s().cancel_requested;
        auto real_end = s().teardown_confirmed || cancelled ? now_ : std::min(now_, end());
        s().ended_at = real_end;
        clear_step();
        go(State::tearing_down, std::move(reason));
        if (!cancelled && event_.harvest == Harvest::event && s().live_since &&
            real_end > event_.start)
            out_.actions.push_back(Action{ActionKind::harvest, event_.start, real_end});
        begin(ActionKind::stop);
    }

    bool operator_ended() {
        if (s().cancel_requested) {
            begin_teardown("cancelled by the operator");
            return true;
        }
        if (s().teardown_confirmed) {
            auto due = end();
            begin_teardown(
                now_ < event_.start ? std::string("the operator tore it down before its start")
                : now_ < due
                    ? fmt::format("the operator ended it early (end was {})", time_text(due))
                    : std::string("the operator confirmed teardown"));
            return true;
        }
        return false;
    }

    // Whether the time the event would hold its channel is over already.
    bool hold_over() const {
        switch (event_.teardown.mode) {
            case TeardownMode::automatic:
                return now_ >= end();
            case TeardownMode::after:
                return now_ >= end() + event_.teardown.after;
            case TeardownMode::confirm:
                break;
        }
        return false;
    }

    std::string reached(std::string_view what, TimePoint at) const {
        if (now_ - at > kLate) return fmt::format("{} {} already past", what, time_text(at));
        return fmt::format("{} reached", what);
    }

    void scheduled() {
        if (s().cancel_requested) return go(State::cancelled, "cancelled before preroll");
        if (now_ < event_.preroll) return;
        if (hold_over())
            return go(State::failed, fmt::format("missed: its end {} passed before it could be "
                                                 "deployed (teardown: {})",
                                                 time_text(end()), to_string(event_.teardown)));
        clear_step();
        go(State::deploying, reached("preroll", event_.preroll) +
                                 (now_ - event_.preroll > kLate ? ": deploying at once" : ""));
        begin(ActionKind::deploy);
    }

    void deploying(const RunnerReport& report) {
        if (operator_ended()) return;
        switch (report.kind) {
            case Report::deploy_succeeded:
            case Report::channel_healthy: {
                auto attempts = s().attempts;
                clear_step();
                s().last_failure.clear();
                return go(State::ready, attempts > 1
                                            ? fmt::format("the channel runs (attempt {})", attempts)
                                            : std::string("the channel runs"));
            }
            case Report::deploy_failed:
            case Report::channel_died:
                if (s().attempt_at)
                    fail(report.reason.empty() ? std::string("the channel did not start")
                                               : report.reason);
                return;
            default:
                break;
        }
        timers();
    }

    void ready(const RunnerReport& report) {
        if (operator_ended()) return;
        channel_report(report);
        if (moved()) return;
        timers();
        if (moved()) return;
        if (now_ >= event_.start) {
            s().live_since = now_;
            go(State::live, reached("start", event_.start));
        }
    }

    void live(const RunnerReport& report) {
        if (operator_ended()) return;
        channel_report(report);
        if (moved()) return;
        timers();
        if (moved()) return;
        if (now_ >= end())
            go(State::ending, reached(s().extended_end ? "extended end" : "end", end()));
    }

    void ending(const RunnerReport& report) {
        if (s().cancel_requested) return begin_teardown("cancelled by the operator");
        if (s().extended_end && *s().extended_end > now_)
            return go(State::live, fmt::format("end extended to {}", time_text(*s().extended_end)));
        if (s().teardown_confirmed) return begin_teardown("the operator confirmed teardown");
        channel_report(report);
        if (moved()) return;
        timers();
        if (moved()) return;
        switch (event_.teardown.mode) {
            case TeardownMode::automatic:
                return begin_teardown("teardown: auto");
            case TeardownMode::after:
                if (now_ >= end() + event_.teardown.after)
                    begin_teardown(fmt::format("teardown: {} after the end",
                                               duration_text(event_.teardown.after)));
                return;
            case TeardownMode::confirm:
                return;  // the operator's word
        }
    }

    void tearing_down(const RunnerReport& report) {
        switch (report.kind) {
            case Report::teardown_finished:
                clear_step();
                return go(s().cancel_requested ? State::cancelled : State::done,
                          "the channel stopped");
            case Report::teardown_failed:
                if (s().attempt_at)
                    fail(report.reason.empty() ? std::string("the channel did not stop")
                                               : report.reason);
                return;
            default:
                break;
        }
        timers();
    }

    const EventSpec& event_;
    TimePoint now_;
    const RetryPolicy& policy_;
    Step out_;
};

}  // namespace

const char* to_string(State state) {
    return kStates.name(state).data();
}

bool is_final(State state) {
    return state == State::done || state == State::failed || state == State::cancelled;
}

bool has_channel(State state) {
    return state == State::deploying || state == State::ready || state == State::live ||
           state == State::ending || state == State::tearing_down;
}

RetryPolicy RetryPolicy::from(const RetryConfig& config) {
    RetryPolicy out;
    out.retries = config.count;
    out.first_delay = config.first_delay;
    out.deploy_timeout = config.deploy_timeout;
    return out;
}

Duration backoff(const RetryPolicy& policy, int retry) {
    auto wait = policy.first_delay;
    for (int i = 1; i < retry && wait < policy.max_delay; ++i) wait *= 2;
    return std::min(wait, policy.max_delay);
}

TimePoint effective_end(const EventSpec& event, const EventState& state) {
    return state.extended_end.value_or(event.end);
}

Step step(const EventSpec& event, const EventState& state, TimePoint now,
          const RunnerReport& report, const RetryPolicy& policy) {
    return Stepper(event, state, now, policy).run(report);
}

std::optional<TimePoint> next_due(const EventSpec& event, const EventState& state,
                                  const RetryPolicy& policy) {
    std::optional<TimePoint> due;
    auto consider = [&](TimePoint t) { due = due ? std::min(*due, t) : t; };
    if (state.retry_at)
        consider(*state.retry_at);
    else if (state.attempt_at)
        consider(*state.attempt_at + (state.state == State::tearing_down ? policy.teardown_timeout
                                                                         : policy.deploy_timeout));
    auto end = effective_end(event, state);
    switch (state.state) {
        case State::scheduled:
            consider(event.preroll);
            break;
        case State::ready:
            consider(event.start);
            break;
        case State::live:
            consider(end);
            break;
        case State::ending:
            if (event.teardown.mode == TeardownMode::automatic) consider(end);
            if (event.teardown.mode == TeardownMode::after) consider(end + event.teardown.after);
            break;
        default:
            break;
    }
    return due;
}

}  // namespace onair::schedule
