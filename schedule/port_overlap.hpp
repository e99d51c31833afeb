#pragma once
// Which events would listen on the same port at the same time. An event
// holds its channel's ports (the origin's TCP port, each listening input's
// UDP port, and PORT+1 for RTP's RTCP) from its preroll until its teardown:
// the end for `auto`, end + D for `after D`, and with no end for `confirm`
// (it waits for the operator). Two events are refused when their channels
// share a port and those times overlap; the same port at times that do not
// overlap is fine. Pure functions over parsed channel files; any thread.
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "schedule/schedule_config.hpp"

namespace onair::schedule {

enum class Protocol { tcp, udp };

// One port a channel binds, and the key of the channel file that names it.
struct PortUse {
    Protocol protocol = Protocol::tcp;
    std::string host;  // as written; empty or 0.0.0.0 or :: for every address
    int port = 0;
    std::string key;   // "origin.listen", "inputs.a"
    std::string what;  // "TCP port 8080", "UDP port 5001 (RTCP of 5000)"
};

std::vector<PortUse> ports_of(const core::ChannelConfig& channel);

// [from, until): until is empty when the event holds its ports until the
// operator confirms its teardown.
struct BusyInterval {
    TimePoint from;
    std::optional<TimePoint> until;
};

// `end` replaces the event's end (an `extend` that moved it).
BusyInterval busy_interval(const EventSpec& event, std::optional<TimePoint> end = std::nullopt);
std::optional<BusyInterval> overlap(const BusyInterval& a, const BusyInterval& b);

// Two uses of one port: same protocol and port, and addresses that can clash
// (the same, either one every address, or either one a host name).
bool same_port(const PortUse& a, const PortUse& b);

// An event with its channel, as the check sees it. Both outlive the call.
struct EventChannel {
    const EventSpec* event = nullptr;
    const core::ChannelConfig* channel = nullptr;
    std::optional<TimePoint> end;  // an extended end, if any
};

struct PortConflict {
    size_t event = 0;  // index of the later event in the list
    size_t other = 0;  // index of the earlier one it clashes with
    PortUse port;      // as the later event's channel names it
    BusyInterval when;
    // "events fight-night-main and undercard both listen on TCP port 8080,
    //  named by origin.listen of each, from 2026-12-05T19:30:00Z with no end
    //  (fight-night-main waits for teardown confirmation)"
    std::string reason;
};

// Every clash between two events of the list (one per pair: the first port found).
std::vector<PortConflict> find_port_conflicts(std::span<const EventChannel> events);

// The clashes of `candidate` with events already scheduled (for the API:
// an event added or changed is refused with these reasons). An event of
// `scheduled` with the candidate's id is its older version and is skipped.
std::vector<PortConflict> conflicts_with(const EventChannel& candidate,
                                         std::span<const EventChannel> scheduled);

}  // namespace onair::schedule
