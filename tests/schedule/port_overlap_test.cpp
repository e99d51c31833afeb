// Port overlap between events: the ports a channel holds, the time an event
// holds them (by its teardown mode), refusal with both events and the port
// named, and the same port reused at times that do not overlap.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/config.hpp"
#include "schedule/port_overlap.hpp"
#include "schedule/schedule_check.hpp"

using namespace onair;
using namespace onair::schedule;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

TimePoint dec5(int hours, int minutes = 0) {
    return sys_days{2026y / December / 5} + std::chrono::hours(hours) +
           std::chrono::minutes(minutes);
}

// A valid channel file listening where it is told.
core::ChannelConfig channel(const std::string& listen, const std::string& input = "testsrc:") {
    auto text = fmt::format(R"(channel: c
inputs: {{a: "{}"}}
ladder:
  - {{name: only, width: 640, height: 360, bitrate: 800k}}
origin: {{listen: "{}"}}
)",
                            input, listen);
    auto config = core::parse_channel_config(text, "channel.yaml");
    if (!config)
        for (const auto& d : config.error()) UNSCOPED_INFO(d.to_string());
    REQUIRE(config);
    return std::move(*config);
}

EventSpec event(std::string id, TimePoint preroll, TimePoint end,
                Teardown teardown = {TeardownMode::automatic, {}}) {
    EventSpec e;
    e.id = std::move(id);
    e.preroll = preroll;
    e.start = preroll + 30min;
    e.end = end;
    e.teardown = teardown;
    return e;
}

std::vector<std::string> reasons(const std::vector<PortConflict>& conflicts) {
    std::vector<std::string> out;
    for (const auto& c : conflicts) out.push_back(c.reason);
    return out;
}

}  // namespace

TEST_CASE("a channel holds its origin's TCP port and its listening inputs' UDP ports",
          "[port_overlap]") {
    auto rtp = ports_of(channel("127.0.0.1:8080", "rtp://0.0.0.0:5000"));
    REQUIRE(rtp.size() == 3);
    CHECK(rtp[0].protocol == Protocol::tcp);
    CHECK(rtp[0].port == 8080);
    CHECK(rtp[0].key == "origin.listen");
    CHECK(rtp[1].protocol == Protocol::udp);
    CHECK(rtp[1].port == 5000);
    CHECK(rtp[1].key == "inputs.a");
    CHECK(rtp[2].port == 5001);  // RTCP
    CHECK(rtp[2].what == "UDP port 5001 (RTCP of 5000)");

    CHECK(ports_of(channel("127.0.0.1:8080", "srt://0.0.0.0:9001?mode=listener")).size() == 2);
    CHECK(ports_of(channel("127.0.0.1:8080", "srt://10.0.0.1:9001?mode=caller")).size() == 1);
    CHECK(ports_of(channel("127.0.0.1:8080")).size() == 1);  // testsrc listens on nothing
}

TEST_CASE("an event holds its ports from preroll until its teardown", "[port_overlap]") {
    auto automatic = busy_interval(event("a", dec5(18, 30), dec5(21)));
    CHECK(automatic.from == dec5(18, 30));
    CHECK(automatic.until == dec5(21));
    auto after = busy_interval(event("a", dec5(18, 30), dec5(21), {TeardownMode::after, 30min}));
    CHECK(after.until == dec5(21, 30));
    auto confirm = busy_interval(event("a", dec5(18, 30), dec5(21), {TeardownMode::confirm, {}}));
    CHECK_FALSE(confirm.until);  // until the operator confirms
    auto extended = busy_interval(event("a", dec5(18, 30), dec5(21)), dec5(22));
    CHECK(extended.until == dec5(22));

    CHECK_FALSE(overlap({dec5(18), dec5(19)}, {dec5(19), dec5(20)}));  // back to back
    CHECK(overlap({dec5(18), dec5(20)}, {dec5(19), std::nullopt})->until == dec5(20));
    CHECK_FALSE(overlap({dec5(18), std::nullopt}, {dec5(19), std::nullopt})->until);
}

TEST_CASE("two events on the same port at overlapping times are refused, naming both",
          "[port_overlap]") {
    auto c8080 = channel("127.0.0.1:8080");
    auto a = event("a", dec5(18, 30), dec5(21));
    auto b = event("b", dec5(20, 30), dec5(22));
    std::vector<EventChannel> events{{&a, &c8080, {}}, {&b, &c8080, {}}};
    auto conflicts = find_port_conflicts(events);
    REQUIRE(conflicts.size() == 1);
    CHECK(conflicts[0].event == 1);
    CHECK(conflicts[0].other == 0);
    CHECK(conflicts[0].port.port == 8080);
    CHECK(conflicts[0].when.from == dec5(20, 30));
    CHECK(conflicts[0].when.until == dec5(21));
    CHECK(conflicts[0].reason ==
          "events a and b both listen on TCP port 8080, named by origin.listen of each, from "
          "2026-12-05T20:30:00Z until 2026-12-05T21:00:00Z");

    // An extension that moves a's end past b's preroll makes them clash.
    auto c = event("c", dec5(21, 30), dec5(23));
    std::vector<EventChannel> extended{{&a, &c8080, dec5(22)}, {&c, &c8080, {}}};
    CHECK(reasons(find_port_conflicts(extended)) ==
          std::vector<std::string>{
              "events a and c both listen on TCP port 8080, named by origin.listen of each, "
              "from 2026-12-05T21:30:00Z until 2026-12-05T22:00:00Z"});

    // `after D` holds the ports D past the end.
    auto held = event("held", dec5(18, 30), dec5(21), {TeardownMode::after, 30min});
    auto next = event("next", dec5(21, 15), dec5(23));
    std::vector<EventChannel> after{{&held, &c8080, {}}, {&next, &c8080, {}}};
    CHECK(reasons(find_port_conflicts(after)) ==
          std::vector<std::string>{
              "events held and next both listen on TCP port 8080, named by origin.listen of "
              "each, from 2026-12-05T21:15:00Z until 2026-12-05T21:30:00Z"});

    // `confirm` holds them until the operator's word: even the next day clashes.
    auto waits = event("waits", dec5(18, 30), dec5(21), {TeardownMode::confirm, {}});
    auto tomorrow =
        event("tomorrow", dec5(18, 30) + 24h, dec5(21) + 24h, {TeardownMode::confirm, {}});
    std::vector<EventChannel> confirm{{&waits, &c8080, {}}, {&tomorrow, &c8080, {}}};
    CHECK(reasons(find_port_conflicts(confirm)) ==
          std::vector<std::string>{
              "events waits and tomorrow both listen on TCP port 8080, named by origin.listen of "
              "each, from 2026-12-06T18:30:00Z with no end (waits and tomorrow wait for "
              "teardown confirmation)"});

    // Inputs clash too, RTP's RTCP port included.
    auto udp = channel("127.0.0.1:8081", "udp://0.0.0.0:5000");
    auto rtp = channel("127.0.0.1:8082", "rtp://0.0.0.0:4999");
    std::vector<EventChannel> inputs{{&a, &udp, {}}, {&b, &rtp, {}}};
    CHECK(reasons(find_port_conflicts(inputs)) ==
          std::vector<std::string>{
              "events a and b both listen on UDP port 5000 (RTCP of 4999), named by inputs.a of "
              "each, from 2026-12-05T20:30:00Z until 2026-12-05T21:00:00Z"});
    // Every address and one of them clash; so does a host name.
    auto any = channel("0.0.0.0:8080");
    auto named = channel("localhost:8080");
    std::vector<EventChannel> hosts{{&a, &any, {}}, {&b, &c8080, {}}};
    CHECK(find_port_conflicts(hosts).size() == 1);
    std::vector<EventChannel> names{{&a, &named, {}}, {&b, &c8080, {}}};
    CHECK(find_port_conflicts(names).size() == 1);
}

TEST_CASE("the same port at times that do not overlap, or other ports, are accepted",
          "[port_overlap]") {
    auto c8080 = channel("127.0.0.1:8080");
    auto a = event("a", dec5(18, 30), dec5(21));
    auto b = event("b", dec5(21), dec5(23));  // preroll right at a's end
    auto held = event("held", dec5(18, 30), dec5(21), {TeardownMode::after, 30min});
    auto later = event("later", dec5(21, 30), dec5(23));
    std::vector<EventChannel> back_to_back{{&a, &c8080, {}}, {&b, &c8080, {}}};
    CHECK(find_port_conflicts(back_to_back).empty());
    std::vector<EventChannel> after_hold{{&held, &c8080, {}}, {&later, &c8080, {}}};
    CHECK(find_port_conflicts(after_hold).empty());

    // At the same time on other ports, other protocols or other addresses.
    auto same_time = event("same", dec5(18, 30), dec5(21));
    auto c8081 = channel("127.0.0.1:8081");
    auto udp8080 = channel("127.0.0.1:8083", "udp://0.0.0.0:8080");  // UDP, not TCP
    auto other_ip = channel("127.0.0.2:8080");
    for (const auto* other : {&c8081, &udp8080, &other_ip}) {
        std::vector<EventChannel> events{{&a, &c8080, {}}, {&same_time, other, {}}};
        CHECK(find_port_conflicts(events).empty());
    }
}

TEST_CASE("an event added or changed is checked against the scheduled ones", "[port_overlap]") {
    auto c8080 = channel("127.0.0.1:8080");
    auto a = event("a", dec5(18, 30), dec5(21));
    auto b = event("b", dec5(22), dec5(23));
    std::vector<EventChannel> scheduled{{&a, &c8080, {}}, {&b, &c8080, {}}};
    auto moved_b = event("b", dec5(20), dec5(23));  // b, changed to start earlier
    auto conflicts = conflicts_with({&moved_b, &c8080, {}}, scheduled);
    REQUIRE(conflicts.size() == 1);  // with a, not with its own older version
    CHECK(conflicts[0].other == 0);
    CHECK(conflicts[0].reason ==
          "events a and b both listen on TCP port 8080, named by origin.listen of each, from "
          "2026-12-05T20:00:00Z until 2026-12-05T21:00:00Z");
    auto fits = event("fits", dec5(21), dec5(22));
    CHECK(conflicts_with({&fits, &c8080, {}}, scheduled).empty());
}

TEST_CASE("a schedule's port clash is reported at the later event's channel", "[port_overlap]") {
    auto schedule = parse_schedule_config(R"(events:
  - id: main
    channel: main.yaml
    preroll: 2026-12-05T18:30:00Z
    start: 2026-12-05T19:00:00Z
    end: 2026-12-05T21:00:00Z
  - id: undercard
    channel: undercard.yaml
    preroll: 2026-12-05T18:00:00Z
    start: 2026-12-05T18:15:00Z
    end: 2026-12-05T18:45:00Z
    teardown: auto
)",
                                          "schedule.yaml");
    REQUIRE(schedule);
    std::vector<std::optional<core::ChannelConfig>> channels{channel("127.0.0.1:8080"),
                                                             channel("0.0.0.0:8080")};
    std::vector<std::string> messages;
    for (const auto& d : port_overlap_problems(*schedule, channels))
        messages.push_back(d.to_string());
    CHECK(messages ==
          std::vector<std::string>{
              "schedule.yaml:8:5: events[1].channel: events main and undercard both listen on "
              "TCP port 8080, named by origin.listen of each, from 2026-12-05T18:30:00Z until "
              "2026-12-05T18:45:00Z (allowed: a port no event holds at the same time, or times "
              "that do not overlap)"});
    // An event whose channel is unknown is left out.
    channels[1].reset();
    CHECK(port_overlap_problems(*schedule, channels).empty());
}
