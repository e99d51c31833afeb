#include "origin/failover.hpp"

#include <algorithm>

#include "core/enum_names.hpp"

namespace onair::origin {
namespace {

constexpr size_t kRememberedSequences = 512;

char other(char p) {
    return p == 'a' ? 'b' : 'a';
}

int64_t to_ms(core::Micros d) {
    return d.count() / 1000;
}

constexpr auto kSwitchReasonNames = core::enum_names<SwitchReason>(
    std::pair{SwitchReason::late, "late"}, std::pair{SwitchReason::input_loss, "input_loss"},
    std::pair{SwitchReason::black, "black"}, std::pair{SwitchReason::frozen, "frozen"},
    std::pair{SwitchReason::silence, "silence"},
    std::pair{SwitchReason::primary_restored, "primary_restored"},
    std::pair{SwitchReason::manual, "manual"});

}  // namespace

const char* to_string(SwitchReason reason) {
    return kSwitchReasonNames.name(reason).data();
}

FailoverSettings FailoverSettings::from_config(const core::FailoverConfig& config) {
    FailoverSettings s;
    s.mode = config.mode;
    s.late_after_ms = to_ms(config.late_after);
    s.return_after_ms = to_ms(config.return_after);
    return s;
}

SwitchReason FailoverController::reason_for(const Copy& copy) {
    if (copy.slate) return SwitchReason::input_loss;
    if (copy.health.black) return SwitchReason::black;
    if (copy.health.frozen) return SwitchReason::frozen;
    return SwitchReason::silence;
}

void FailoverController::on_arrival(const CopyArrival& arrival) {
    if (arrival.pipeline != 'a' && arrival.pipeline != 'b') return;
    Sequence& s = sequences_[arrival.sequence];
    Copy& c = s.copy(arrival.pipeline);
    if (!c.present) {
        c.present = true;
        c.arrived_ms = arrival.arrived_ms;
        if (s.due_ms == 0) s.due_ms = arrival.arrived_ms;
    }
    c.slate = c.slate || arrival.slate;
    c.health.black = c.health.black || arrival.health.black;
    c.health.frozen = c.health.frozen || arrival.health.frozen;
    c.health.silent = c.health.silent || arrival.health.silent;

    PipelineView& v = view_of(arrival.pipeline);
    if (arrival.sequence >= v.last_sequence) {
        v.last_sequence = arrival.sequence;
        v.lag_ms = c.arrived_ms - s.due_ms;
        v.last_arrival_ms = c.arrived_ms;
        v.slate = c.slate;
        v.health = c.health;
    }
    const bool on_time = c.arrived_ms - s.due_ms <= settings_.late_after_ms;
    if (c.bad() || !on_time) {
        v.healthy_since_ms = -1;
    } else if (v.healthy_since_ms < 0) {
        v.healthy_since_ms = c.arrived_ms;
    }
    while (sequences_.size() > kRememberedSequences) sequences_.erase(sequences_.begin());
}

void FailoverController::switch_to(char to, SwitchReason reason, int64_t sequence, int64_t now_ms) {
    if (to == active_) return;
    SwitchEvent event{active_, to, reason, sequence, now_ms};
    active_ = to;
    manual_hold_ = reason == SwitchReason::manual;
    ++switches_;
    recent_switches_.push_back(event);
    if (recent_switches_.size() > kRecentSwitches) recent_switches_.pop_front();
    events_.push_back(event);
}

void FailoverController::mark_late(Sequence& s, int64_t now_ms) {
    if (s.lateness_counted || now_ms < s.due_ms + settings_.late_after_ms) return;
    s.lateness_counted = true;
    if (!settings_.has_b) return;
    for (char p : {'a', 'b'}) {
        if (s.copy(p).present) continue;
        PipelineView& v = view_of(p);
        ++v.late_segments;
        v.healthy_since_ms = -1;
    }
}

char FailoverController::decide(int64_t sequence, int64_t now_ms) {
    auto it = sequences_.find(sequence);
    if (it == sequences_.end()) return 0;
    Sequence& s = it->second;
    mark_late(s, now_ms);
    if (s.decision) return s.decision;
    auto settle = [&](char p) { return s.decision = p; };
    if (!settings_.has_b) return s.a.present ? settle('a') : 0;

    const char act = active_, oth = other(active_);
    const Copy& mine = s.copy(act);
    const Copy& theirs = s.copy(oth);
    const bool past_deadline = now_ms >= s.due_ms + settings_.late_after_ms;

    // Back to A once it has been healthy long enough. B's copy often comes
    // first by a few milliseconds: A's is then waited for until the deadline,
    // else the return would hang on which pipeline wins each race.
    if (settings_.mode == core::FailoverMode::primary_preferred && act == 'b' && !manual_hold_ &&
        a_.healthy_since_ms >= 0 && now_ms - a_.healthy_since_ms >= settings_.return_after_ms) {
        if (s.a.present && !s.a.bad()) {
            switch_to('a', SwitchReason::primary_restored, sequence, now_ms);
            return settle('a');
        }
        if (!s.a.present && !past_deadline) return 0;
    }
    if (mine.present && !mine.bad()) return settle(act);
    if (mine.present) {
        // The active copy is slate or failed a check: the other's if it is better.
        if (theirs.present && !theirs.bad()) {
            switch_to(oth, reason_for(mine), sequence, now_ms);
            return settle(oth);
        }
        if (theirs.present && mine.slate && !theirs.slate) {
            switch_to(oth, SwitchReason::input_loss, sequence, now_ms);
            return settle(oth);
        }
        // Neither is good: stay, once the other has had its chance.
        if (theirs.present || past_deadline) return settle(act);
        return 0;
    }
    if (!theirs.present || !past_deadline) return 0;
    switch_to(oth, SwitchReason::late, sequence, now_ms);
    return settle(oth);
}

void FailoverController::tick(int64_t now_ms) {
    for (auto& [sequence, s] : sequences_) {
        if (s.decision) {
            mark_late(s, now_ms);
            continue;
        }
        if (now_ms < s.due_ms + settings_.late_after_ms) break;  // later ones are due later
        decide(sequence, now_ms);
    }
}

bool FailoverController::manual_switch(char to, int64_t now_ms) {
    if (to != 'a' && to != 'b') return false;
    if (to == 'b' && !settings_.has_b) return false;
    int64_t next = 0;
    for (auto it = sequences_.rbegin(); it != sequences_.rend(); ++it) {
        if (it->second.decision) {
            next = it->first + 1;
            break;
        }
    }
    if (to == active_) {
        manual_hold_ = true;
        return true;
    }
    switch_to(to, SwitchReason::manual, next, now_ms);
    return true;
}

std::vector<SwitchEvent> FailoverController::take_events() {
    std::vector<SwitchEvent> out;
    out.swap(events_);
    return out;
}

}  // namespace onair::origin
