// The schema machinery on a format of its own (so that the channel file is
// not the only one it can read), and the README's key table, which must be
// the one rendered from the channel file's declarations.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/schema.hpp"

using namespace onair::core;
using namespace onair::core::schema;
using namespace std::chrono_literals;

namespace {

enum class Teardown { confirm, automatic };
constexpr auto kTeardowns = enum_names<Teardown>(std::pair{Teardown::confirm, "confirm"},
                                                 std::pair{Teardown::automatic, "auto"});

struct Event {
    std::string id;
    Micros preroll = 5min;
    Teardown teardown = Teardown::confirm;
};

struct Schedule {
    HostPortValue listen{"127.0.0.1", 8090};
    std::vector<Event> events;
};

Schema<Schedule> schedule_schema() {
    Schema<Event> event = {
        key<Event>("id", Name{32, "event id"}, &Event::id, {"the event's id", "required", "a name"})
            .required(),
        key<Event>("preroll", DurationRange{0s, 1h}, &Event::preroll),
        key<Event>("teardown", Choice{kTeardowns}, &Event::teardown,
                   {"what ends the event", "`confirm`", "`confirm`, `auto`"}),
    };
    return {
        key<Schedule>("listen", HostPort{}, &Schedule::listen,
                      {"HTTP address", "`127.0.0.1:8090`", "`HOST:PORT`"}),
        sequence<Schedule>("events", std::move(event), &Schedule::events,
                           {.items = "events", .min = 1, .max = 4})
            .required(),
    };
}

struct Parsed {
    Schedule schedule;
    std::vector<std::string> messages;
    Reader reader{"schedule.yaml"};
};

void parse(const std::string& yaml, Parsed& out) {
    auto root = YAML::Load(yaml);
    Field top{"", root, position_of(root), position_of(root)};
    static const auto schema = schedule_schema();
    read_map(out.reader, top, schema, out.schedule);
    for (const auto& d : out.reader.take()) out.messages.push_back(d.to_string());
}

std::vector<std::string> table_lines(std::istream& in) {
    std::vector<std::string> out;
    std::string line;
    bool inside = false;
    while (std::getline(in, line)) {
        if (line == "| key | meaning | default | allowed |") inside = true;
        if (inside && !line.starts_with("|")) break;
        if (inside) out.push_back(line);
    }
    return out;
}

}  // namespace

TEST_CASE("a second format reads by its declarations", "[schema]") {
    Parsed ok;
    parse(
        "listen: 0.0.0.0:9000\nevents:\n  - {id: e1, preroll: 10m, teardown: auto}\n  - {id: e2}\n",
        ok);
    CHECK(ok.messages.empty());
    CHECK(ok.schedule.listen.host == "0.0.0.0");
    CHECK(ok.schedule.listen.port == 9000);
    REQUIRE(ok.schedule.events.size() == 2);
    CHECK(ok.schedule.events[0].preroll == 10min);
    CHECK(ok.schedule.events[0].teardown == Teardown::automatic);
    CHECK(ok.schedule.events[1].teardown == Teardown::confirm);  // the default
    CHECK(ok.reader.valid("events[1].id"));
    CHECK(ok.reader.given("events[1].preroll") == nullptr);
    CHECK(ok.reader.given("events[0].preroll")->value_at.line == 3);

    Parsed bad;
    parse("listen: 9000\nevents:\n  - {id: e1, teardwn: auto}\n  - {teardown: later}\n", bad);
    CHECK(bad.messages ==
          std::vector<std::string>{
              "schedule.yaml:1:9: listen: expected HOST:PORT, got 9000; did you mean "
              "127.0.0.1:9000? (allowed: HOST:PORT with an IPv4 address, [IPv6] address or host "
              "name)",
              "schedule.yaml:3:14: events[0].teardwn: unknown key, did you mean \"teardown\"? "
              "(allowed: id, preroll, teardown)",
              "schedule.yaml:4:5: events[1].id: required key is missing (allowed: 1..32 "
              "characters of A-Z, a-z, 0-9, _ and -)",
              "schedule.yaml:4:16: events[1].teardown: unknown value \"later\" (allowed: "
              "confirm, auto)"});
    CHECK_FALSE(bad.reader.valid("events[1]"));
    CHECK_FALSE(bad.reader.valid("listen"));

    Parsed none;
    parse("events: []\n", none);
    CHECK(none.messages == std::vector<std::string>{
                               "schedule.yaml:1:9: events: has no events (allowed: 1..4 events)"});

    auto keys = key_infos(schedule_schema());
    CHECK(render_key_table(keys) ==
          "| key | meaning | default | allowed |\n|---|---|---|---|\n"
          "| `listen` | HTTP address | `127.0.0.1:8090` | `HOST:PORT` |\n"
          "| `events[].id` | the event's id | required | a name |\n"
          "| `events[].teardown` | what ends the event | `confirm` | `confirm`, `auto` |\n");
}

TEST_CASE("the README's key table is the one the schema renders", "[schema][readme]") {
    std::ifstream readme(ONAIR_README);
    REQUIRE(readme);
    auto written = table_lines(readme);
    std::istringstream rendered_text(channel_key_table());
    auto rendered = table_lines(rendered_text);
    REQUIRE_FALSE(rendered.empty());
    INFO("README.md's table (section \"The channel file\") must be channel_key_table()'s:\n"
         << channel_key_table());
    CHECK(written == rendered);
}

TEST_CASE("enum names parse and print from one table", "[schema]") {
    CHECK(kH264Profiles.value("main") == H264Profile::main);
    CHECK_FALSE(kH264Profiles.value("extended"));
    CHECK(kFailoverModes.name(FailoverMode::primary_preferred) == "primary-preferred");
    CHECK(std::string(to_string(LossFill::slate)) == "slate");
    CHECK(std::string(to_string(FailoverMode::equal)) == "equal");
}
