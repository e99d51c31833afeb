// Port overlap between events: interval arithmetic on the times each event
// holds its channel's ports, and the same ports as core/port_check.cpp binds.
#include "schedule/port_overlap.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>

#include <fmt/format.h>

namespace onair::schedule {
namespace {

bool every_address(const std::string& host) {
    return host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]";
}

bool ip_literal(const std::string& host) {
    unsigned char buffer[16];
    return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
           ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

std::string when_text(const BusyInterval& when) {
    if (when.until)
        return fmt::format("from {} until {}", time_text(when.from), time_text(*when.until));
    return fmt::format("from {} with no end", time_text(when.from));
}

// Why the overlap has no end: the events that wait for the operator.
std::string open_ended_note(const EventSpec& a, const EventSpec& b) {
    std::vector<std::string> waiting;
    for (const auto* e : {&a, &b})
        if (e->teardown.mode == TeardownMode::confirm) waiting.push_back(e->id);
    if (waiting.empty()) return {};
    if (waiting.size() == 2)
        return fmt::format(" ({} and {} wait for teardown confirmation)", waiting[0], waiting[1]);
    return fmt::format(" ({} waits for teardown confirmation)", waiting[0]);
}

std::optional<PortConflict> clash(const EventChannel& later, const EventChannel& earlier) {
    auto when =
        overlap(busy_interval(*later.event, later.end), busy_interval(*earlier.event, earlier.end));
    if (!when) return std::nullopt;
    auto earlier_ports = ports_of(*earlier.channel);
    for (const auto& port : ports_of(*later.channel)) {
        auto it = std::find_if(earlier_ports.begin(), earlier_ports.end(),
                               [&](const PortUse& other) { return same_port(port, other); });
        if (it == earlier_ports.end()) continue;
        PortConflict out;
        out.port = port;
        out.when = *when;
        auto keys = it->key == port.key ? fmt::format("{} of each", port.key)
                                        : fmt::format("{}'s {}, {}'s {}", earlier.event->id,
                                                      it->key, later.event->id, port.key);
        out.reason =
            fmt::format("events {} and {} both listen on {}, named by {}, {}{}", earlier.event->id,
                        later.event->id, port.what, keys, when_text(*when),
                        when->until ? "" : open_ended_note(*earlier.event, *later.event));
        return out;
    }
    return std::nullopt;
}

}  // namespace

std::vector<PortUse> ports_of(const core::ChannelConfig& channel) {
    std::vector<PortUse> out;
    out.push_back({Protocol::tcp, channel.origin.host, channel.origin.port, "origin.listen",
                   fmt::format("TCP port {}", channel.origin.port)});
    for (const auto& [id, input] : channel.inputs) {
        if (!input.listens()) continue;
        auto key = fmt::format("inputs.{}", id);
        out.push_back(
            {Protocol::udp, input.host, input.port, key, fmt::format("UDP port {}", input.port)});
        if (input.kind == core::InputKind::rtp)
            out.push_back({Protocol::udp, input.host, input.port + 1, key,
                           fmt::format("UDP port {} (RTCP of {})", input.port + 1, input.port)});
    }
    return out;
}

BusyInterval busy_interval(const EventSpec& event, std::optional<TimePoint> end) {
    auto last = end.value_or(event.end);
    switch (event.teardown.mode) {
        case TeardownMode::automatic:
            return {event.preroll, last};
        case TeardownMode::after:
            return {event.preroll, last + event.teardown.after};
        case TeardownMode::confirm:
            break;
    }
    return {event.preroll, std::nullopt};
}

std::optional<BusyInterval> overlap(const BusyInterval& a, const BusyInterval& b) {
    BusyInterval out{std::max(a.from, b.from), std::nullopt};
    if (a.until && b.until)
        out.until = std::min(*a.until, *b.until);
    else if (a.until || b.until)
        out.until = a.until ? a.until : b.until;
    if (out.until && *out.until <= out.from) return std::nullopt;
    return out;
}

bool same_port(const PortUse& a, const PortUse& b) {
    if (a.protocol != b.protocol || a.port != b.port) return false;
    if (a.host == b.host || every_address(a.host) || every_address(b.host)) return true;
    // Two different IP literals are two sockets; a name may be either.
    return !(ip_literal(a.host) && ip_literal(b.host));
}

std::vector<PortConflict> find_port_conflicts(std::span<const EventChannel> events) {
    std::vector<PortConflict> out;
    for (size_t i = 0; i < events.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            if (auto conflict = clash(events[i], events[j])) {
                conflict->event = i;
                conflict->other = j;
                out.push_back(std::move(*conflict));
            }
    return out;
}

std::vector<PortConflict> conflicts_with(const EventChannel& candidate,
                                         std::span<const EventChannel> scheduled) {
    std::vector<PortConflict> out;
    for (size_t j = 0; j < scheduled.size(); ++j) {
        if (scheduled[j].event->id == candidate.event->id) continue;  // its own older version
        if (auto conflict = clash(candidate, scheduled[j])) {
            conflict->other = j;
            out.push_back(std::move(*conflict));
        }
    }
    return out;
}

}  // namespace onair::schedule
