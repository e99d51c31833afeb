// Reads each event's channel file with core's reader and runs the port
// overlap check on the ones that are valid.
#include "schedule/schedule_check.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "schedule/port_overlap.hpp"

namespace onair::schedule {

std::vector<core::Diagnostic> port_overlap_problems(
    const ScheduleConfig& schedule,
    const std::vector<std::optional<core::ChannelConfig>>& channels) {
    std::vector<EventChannel> known;
    std::vector<size_t> index;  // position in `known` -> event index
    for (size_t i = 0; i < schedule.events.size() && i < channels.size(); ++i) {
        if (!channels[i]) continue;
        known.push_back({&schedule.events[i], &*channels[i], std::nullopt});
        index.push_back(i);
    }
    std::vector<core::Diagnostic> out;
    for (const auto& conflict : find_port_conflicts(known)) {
        out.push_back(schedule.diagnostic(
            fmt::format("events[{}].channel", index[conflict.event]), conflict.reason,
            "a port no event holds at the same time, or times that do not overlap"));
    }
    return out;
}

ScheduleCheck check_schedule(const ScheduleConfig& schedule) {
    ScheduleCheck out;
    std::vector<core::Diagnostic> own;  // the schedule's, after the channel files'
    for (size_t i = 0; i < schedule.events.size(); ++i) {
        const auto& event = schedule.events[i];
        auto channel = core::load_channel_config(event.channel_path);
        if (channel) {
            out.channels.push_back(std::move(*channel));
            continue;
        }
        out.channels.push_back(std::nullopt);
        auto key = fmt::format("events[{}].channel", i);
        const auto& problems = channel.error();
        if (problems.size() == 1 && problems.front().position.line == 0) {
            // The file itself could not be read: say so where the schedule names it.
            own.push_back(schedule.diagnostic(
                key, fmt::format("{}: {}", event.channel_path, problems.front().message),
                "a readable channel file"));
            continue;
        }
        out.problems.insert(out.problems.end(), problems.begin(), problems.end());
        own.push_back(schedule.diagnostic(
            key,
            fmt::format("{} is not a valid channel file ({} problem{} above)", event.channel_path,
                        problems.size(), problems.size() == 1 ? "" : "s"),
            "a channel file that `onair check` accepts"));
    }
    auto clashes = port_overlap_problems(schedule, out.channels);
    own.insert(own.end(), clashes.begin(), clashes.end());
    std::stable_sort(own.begin(), own.end(), core::before);
    out.problems.insert(out.problems.end(), own.begin(), own.end());
    return out;
}

}  // namespace onair::schedule
