#pragma once
// The checks of a valid schedule that need its channel files: each event's
// channel file is read (and must be valid), and no two events listen on the
// same port at overlapping times. What `onair schedule --check` and the
// controller's start-up and reload run after parse_schedule_config. Reads
// files; one thread; the result owns the channel configs.
#include <optional>
#include <vector>

#include "core/config.hpp"
#include "core/diagnostic.hpp"
#include "schedule/schedule_config.hpp"

namespace onair::schedule {

struct ScheduleCheck {
    // One per event, in the schedule's order; empty when it could not be read.
    std::vector<std::optional<core::ChannelConfig>> channels;
    // Problems of the channel files (citing them), then of the schedule
    // (events[i].channel when its file is not valid or its ports clash).
    std::vector<core::Diagnostic> problems;
};

ScheduleCheck check_schedule(const ScheduleConfig& schedule);

// The port clashes of the events whose channels are known, as diagnostics at
// the later event's `channel` key. Pure; used by check_schedule.
std::vector<core::Diagnostic> port_overlap_problems(
    const ScheduleConfig& schedule,
    const std::vector<std::optional<core::ChannelConfig>>& channels);

}  // namespace onair::schedule
