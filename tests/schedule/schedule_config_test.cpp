// The schedule file: the issue's example means what it says, defaults are
// inherited, and every problem is reported at once with its place. The
// messages are the ones users see; they are pinned byte for byte.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "schedule/kubernetes_objects.hpp"
#include "schedule/schedule_check.hpp"
#include "schedule/schedule_config.hpp"
#include "tests/support/temp_dir.hpp"

using namespace onair::schedule;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

// The issue's file, verbatim.
constexpr std::string_view kExample =
    R"(listen: 127.0.0.1:8090          # events API (and, later, the events page)
data: ./data/schedule           # the controller's state
events:
  - id: fight-night-main
    title: Fight night, main event
    channel: channels/fight.yaml
    preroll: 2026-12-05T18:30:00Z
    start: 2026-12-05T19:00:00Z
    end: 2026-12-05T21:00:00Z
    teardown: confirm           # or auto, or "after 30m"
    harvest: event              # or none
    webhook: http://ops.example:9000/onair/events
)";

constexpr std::string_view kChannel = R"(channel: fight
inputs: {a: "testsrc:"}
ladder:
  - {name: only, width: 640, height: 360, bitrate: 800k}
origin: {listen: 127.0.0.1:18080}
)";

// 2026-12-05 at HH:MM UTC.
TimePoint dec5(int hours, int minutes = 0) {
    return sys_days{2026y / December / 5} + std::chrono::hours(hours) +
           std::chrono::minutes(minutes);
}

std::string edit(std::string_view from, std::string_view to,
                 std::string text = std::string(kExample)) {
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    return text;
}

ScheduleConfig valid(const std::string& text, const std::string& file = "schedule.yaml") {
    auto result = parse_schedule_config(text, file);
    if (!result) {
        for (const auto& d : result.error()) UNSCOPED_INFO(d.to_string());
    }
    REQUIRE(result);
    return std::move(*result);
}

std::vector<std::string> errors(const std::string& text) {
    auto result = parse_schedule_config(text, "schedule.yaml");
    REQUIRE_FALSE(result);
    std::vector<std::string> out;
    for (const auto& d : result.error()) out.push_back(d.to_string());
    return out;
}

// The lines of README.md between <!-- NAME --> and <!-- /NAME -->.
std::vector<std::string> readme_block(const std::string& name) {
    std::ifstream readme(ONAIR_README);
    REQUIRE(readme);
    std::vector<std::string> out;
    std::string line;
    bool inside = false, closed = false;
    while (std::getline(readme, line)) {
        if (line == "<!-- /" + name + " -->") {
            closed = inside;
            break;
        }
        if (inside) out.push_back(line);
        if (line == "<!-- " + name + " -->") inside = true;
    }
    INFO("README.md: <!-- " << name << " --> ... <!-- /" << name << " -->");
    REQUIRE(closed);
    return out;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

}  // namespace

TEST_CASE("the issue's schedule file means what it says", "[schedule_config]") {
    auto schedule = valid(std::string(kExample), "/srv/onair/schedule.yaml");
    CHECK(schedule.listen.host == "127.0.0.1");
    CHECK(schedule.listen.port == 8090);
    CHECK(schedule.data == "./data/schedule");
    REQUIRE(schedule.events.size() == 1);
    const auto& e = schedule.events[0];
    CHECK(e.id == "fight-night-main");
    CHECK(e.title == "Fight night, main event");
    CHECK(e.channel == "channels/fight.yaml");
    CHECK(e.channel_path == "/srv/onair/channels/fight.yaml");  // beside the schedule file
    CHECK(e.preroll == dec5(18, 30));
    CHECK(e.start == dec5(19));
    CHECK(e.end == dec5(21));
    CHECK(e.teardown == Teardown{TeardownMode::confirm, {}});
    CHECK(e.harvest == Harvest::event);
    CHECK(e.webhook == "http://ops.example:9000/onair/events");
    CHECK(schedule.find("fight-night-main") == &schedule.events[0]);
    CHECK(schedule.find("undercard") == nullptr);
    CHECK(time_text(e.preroll) == "2026-12-05T18:30:00Z");

    // The alternatives its comments name.
    auto automatic = valid(edit("teardown: confirm", "teardown: auto"));
    CHECK(automatic.events[0].teardown == Teardown{TeardownMode::automatic, {}});
    auto after = valid(edit("teardown: confirm", "teardown: \"after 30m\""));
    CHECK(after.events[0].teardown == Teardown{TeardownMode::after, 30min});
    CHECK(to_string(after.events[0].teardown) == "after 30m");
    auto none = valid(edit("harvest: event", "harvest: none"));
    CHECK(none.events[0].harvest == Harvest::none);
    // A zone other than Z is the same instant.
    auto offset = valid(edit("end: 2026-12-05T21:00:00Z", "end: 2026-12-05T22:00:00+01:00"));
    CHECK(offset.events[0].end == dec5(21));
}

TEST_CASE("the example and its channel file pass the checks", "[schedule_config]") {
    onair::testing::TempDir dir("onair-schedule");
    std::filesystem::create_directories(dir / "channels");
    dir.write("channels/fight.yaml", kChannel);
    auto path = dir.write("schedule.yaml", kExample);
    auto schedule = load_schedule_config(path.string());
    REQUIRE(schedule);
    CHECK(schedule->events[0].channel_path == (dir / "channels/fight.yaml").string());
    auto check = check_schedule(*schedule);
    CHECK(check.problems.empty());
    REQUIRE(check.channels.size() == 1);
    REQUIRE(check.channels[0]);
    CHECK(check.channels[0]->channel == "fight");
    CHECK(check.channels[0]->origin.port == 18080);
}

TEST_CASE("events inherit the defaults unless they say otherwise", "[schedule_config]") {
    auto schedule = valid(R"(defaults:
  teardown: after 10m
  harvest: event
  webhook: http://ops.example/hook
  preroll_before: 20m
retries: {count: 5, first_delay: 1s, deploy_timeout: 2m}
events:
  - id: inherits
    channel: a.yaml
    start: 2026-12-05T19:00:00Z
    end: 2026-12-05T21:00:00Z
  - id: own
    title: Its own
    channel: /abs/b.yaml
    preroll: 2026-12-05T18:00:00Z
    start: 2026-12-05T19:00:00Z
    end: 2026-12-05T21:00:00Z
    teardown: auto
    harvest: none
    webhook: http://other.example/hook
)",
                          "conf/schedule.yaml");
    CHECK(schedule.listen.host == "127.0.0.1");  // the defaults of the file itself
    CHECK(schedule.listen.port == 8090);
    CHECK(schedule.data == "./data/schedule");
    CHECK(schedule.retries.count == 5);
    CHECK(schedule.retries.first_delay == 1s);
    CHECK(schedule.retries.deploy_timeout == 2min);
    REQUIRE(schedule.events.size() == 2);
    const auto& inherits = schedule.events[0];
    CHECK(inherits.title == "inherits");
    CHECK(inherits.channel_path == "conf/a.yaml");
    CHECK(inherits.preroll == dec5(18, 40));
    CHECK(inherits.teardown == Teardown{TeardownMode::after, 10min});
    CHECK(inherits.harvest == Harvest::event);
    CHECK(inherits.webhook == "http://ops.example/hook");
    const auto& own = schedule.events[1];
    CHECK(own.title == "Its own");
    CHECK(own.channel_path == "/abs/b.yaml");
    CHECK(own.preroll == dec5(18));
    CHECK(own.teardown == Teardown{TeardownMode::automatic, {}});
    CHECK(own.harvest == Harvest::none);
    CHECK(own.webhook == "http://other.example/hook");

    // Without any defaults: confirm, none, no webhook, 5 minutes of preroll.
    auto bare = valid(R"(events:
  - {id: bare, channel: c.yaml, start: 2026-12-05T19:00:00Z, end: 2026-12-05T20:00:00Z}
)");
    CHECK(bare.events[0].teardown == Teardown{TeardownMode::confirm, {}});
    CHECK(bare.events[0].harvest == Harvest::none);
    CHECK(bare.events[0].webhook.empty());
    CHECK(bare.events[0].preroll == dec5(18, 55));
    CHECK(bare.retries.count == 3);
    CHECK(bare.retries.first_delay == 2s);
    // The key table for the docs comes from the same declarations.
    auto table = schedule_key_table();
    CHECK(table.find("| `events[].teardown` | what tears it down once it has ended | "
                     "`defaults.teardown` | `confirm`, `auto`, `after DURATION` |\n") !=
          std::string::npos);
    CHECK(table.find("| `defaults.preroll_before` |") != std::string::npos);
    // No events yet: they may come over the API.
    CHECK(valid("listen: 0.0.0.0:9000\n").events.empty());
}

TEST_CASE("every problem of a schedule file is reported at once", "[schedule_config]") {
    auto all = errors(R"(listen: 8090
data: ./state
defaults: {teardown: never, preroll_before: 2h}
retries: {count: 11}
event: []
events:
  - id: fight night
    channel: a.yaml
    start: 2026-12-05T19:00:00
    end: tomorrow
  - id: e2
    channel: b.yaml
    preroll: 2026-12-05T19:30:00Z
    start: 2026-12-05T19:00:00Z
    end: 2026-12-05T19:00:00Z
    teardown: confrim
    harvest: all
    webhook: https://ops.example/hook
  - id: e2
    start: 1795322880
    teardown: after
  - id: e4
    channel: d.yaml
    start: 2026-12-05T19:00:00Z
    end: 2026-12-05T21:00:00+01:00
    teardown: after 2d
)");
    const std::string time_form =
        "ISO 8601 with a zone, e.g. 2026-12-05T19:00:00Z or 2026-12-05T20:00:00+01:00";
    const std::string teardown_form =
        "confirm, auto, or after DURATION from 1s to 24h, e.g. after 30m";
    CHECK(all ==
          std::vector<std::string>{
              "schedule.yaml:1:9: listen: expected HOST:PORT, got 8090; did you mean "
              "127.0.0.1:8090? (allowed: HOST:PORT with an IPv4 address, [IPv6] address or host "
              "name)",
              "schedule.yaml:3:22: defaults.teardown: unknown value \"never\" (allowed: " +
                  teardown_form + ")",
              "schedule.yaml:4:18: retries.count: 11 is out of range (allowed: 0..10)",
              "schedule.yaml:5:1: event: unknown key, did you mean \"events\"? (allowed: listen, "
              "data, defaults, retries, runner, events)",
              "schedule.yaml:7:9: events[0].id: \"fight night\" is not a valid event id (allowed: "
              "1..64 characters of A-Z, a-z, 0-9, _ and -)",
              "schedule.yaml:9:12: events[0].start: 2026-12-05T19:00:00 has no zone; write Z for "
              "UTC or an offset such as +01:00 (allowed: " +
                  time_form + ")",
              "schedule.yaml:10:10: events[0].end: expected an ISO 8601 time with a zone, got the "
              "string \"tomorrow\" (allowed: " +
                  time_form + ")",
              "schedule.yaml:13:14: events[1].preroll: 2026-12-05T19:30:00Z is after start "
              "2026-12-05T19:00:00Z (allowed: a time at or before start)",
              "schedule.yaml:15:10: events[1].end: 2026-12-05T19:00:00Z is not after start "
              "2026-12-05T19:00:00Z (allowed: a time after start)",
              "schedule.yaml:16:15: events[1].teardown: unknown value \"confrim\", did you mean "
              "\"confirm\"? (allowed: " +
                  teardown_form + ")",
              "schedule.yaml:17:14: events[1].harvest: unknown value \"all\" (allowed: none, "
              "event)",
              "schedule.yaml:18:14: events[1].webhook: \"https://ops.example/hook\" is not an "
              "http:// URL (allowed: http://HOST[:PORT]/PATH)",
              "schedule.yaml:19:5: events[2].channel: required key is missing (allowed: a "
              "channel file's path)",
              "schedule.yaml:19:5: events[2].end: required key is missing (allowed: " + time_form +
                  ")",
              "schedule.yaml:19:9: events[2].id: \"e2\" is already the id of events[1] (line 11) "
              "(allowed: an id used by one event only)",
              "schedule.yaml:20:12: events[2].start: expected an ISO 8601 time with a zone, got "
              "the number 1795322880 (allowed: " +
                  time_form + ")",
              "schedule.yaml:21:15: events[2].teardown: \"after\" does not say after how long "
              "(allowed: " +
                  teardown_form + ")",
              "schedule.yaml:26:15: events[3].teardown: 48h is out of range (allowed: " +
                  teardown_form + ")",
          });
}

TEST_CASE("a schedule file that is not one says so", "[schedule_config]") {
    CHECK(errors("") == std::vector<std::string>{
                            "schedule.yaml:1:1: the file is empty (allowed: a map with listen, "
                            "data, defaults, retries, runner, events)"});
    CHECK(errors("events: [\n") ==
          std::vector<std::string>{
              "schedule.yaml:2:1: YAML syntax error: end of sequence flow not found"});
    CHECK(errors("listen: 127.0.0.1:8090\n---\nlisten: 127.0.0.1:8091\n") ==
          std::vector<std::string>{"schedule.yaml:3:1: a second YAML document; a schedule file "
                                   "holds one schedule (allowed: one document)"});
    CHECK(errors("events: {id: x}\n") ==
          std::vector<std::string>{
              "schedule.yaml:1:9: events: expected a sequence of events, got a map (allowed: at "
              "least 0 events of {id, channel, start, end})"});
    auto missing = load_schedule_config("/nonexistent/schedule.yaml");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().front().to_string() ==
          "/nonexistent/schedule.yaml: cannot open: No such file or directory");
}

TEST_CASE("an event whose channel file is missing or invalid is reported where it is named",
          "[schedule_config]") {
    onair::testing::TempDir dir("onair-schedule");
    dir.write("bad.yaml", "channel: bad\nladder: []\n");
    auto path = dir.write("schedule.yaml", R"(events:
  - id: missing
    channel: none.yaml
    start: 2026-12-05T19:00:00Z
    end: 2026-12-05T21:00:00Z
  - id: invalid
    channel: bad.yaml
    start: 2026-12-05T19:00:00Z
    end: 2026-12-05T21:00:00Z
)");
    auto schedule = load_schedule_config(path.string());
    REQUIRE(schedule);
    auto check = check_schedule(*schedule);
    REQUIRE(check.channels.size() == 2);
    CHECK_FALSE(check.channels[0]);
    CHECK_FALSE(check.channels[1]);
    std::vector<std::string> messages;
    for (const auto& d : check.problems) messages.push_back(d.to_string());
    REQUIRE(messages.size() >= 3);
    // The channel file's own problems come first, citing it.
    CHECK(messages.front().starts_with((dir / "bad.yaml").string() + ":"));
    auto n = messages.size() - 2;  // the channel file's problems
    CHECK(messages[n] == fmt::format("{}:3:5: events[0].channel: {}: cannot open: No such file "
                                     "or directory (allowed: a readable channel file)",
                                     path.string(), (dir / "none.yaml").string()));
    CHECK(messages[n + 1] ==
          fmt::format("{}:7:5: events[1].channel: {} is not a valid channel file ({} problem{} "
                      "above) (allowed: a channel file that `onair check` accepts)",
                      path.string(), (dir / "bad.yaml").string(), n, n == 1 ? "" : "s"));
}

TEST_CASE("the runner is local unless the file says kubernetes", "[schedule_config]") {
    auto local = valid(std::string(kExample));
    CHECK(local.runner.type == RunnerType::local);
    CHECK(valid("runner: {type: local}\n").runner.type == RunnerType::local);

    // Left out, the kubernetes keys are the runner's own defaults.
    auto bare = valid("runner: {type: kubernetes}\n");
    CHECK(bare.runner.type == RunnerType::kubernetes);
    const auto defaults = kubernetes_options(bare.runner);
    const KubernetesOptions built_in;
    CHECK(defaults.namespace_ == built_in.namespace_);
    CHECK(defaults.image == built_in.image);
    CHECK(defaults.storage_class == built_in.storage_class);
    CHECK(defaults.storage_size == built_in.storage_size);
    CHECK(defaults.kubectl == built_in.kubectl);
    CHECK(defaults.api_token_secret == built_in.api_token_secret);
    CHECK(defaults.namespace_ == "onair");
    CHECK(defaults.image == "onair:latest");
    CHECK(defaults.storage_class.empty());
    CHECK(defaults.storage_size == "20Gi");
    CHECK(defaults.kubectl == "kubectl");
    CHECK(defaults.api_token_secret.empty());

    auto cluster = valid(edit("events:", R"(runner:
  type: kubernetes
  namespace: sport-live
  image: registry.example:5000/onair:1.4
  storage_class: fast.ssd
  storage_size: 500Gi
  kubectl: /usr/local/bin/kubectl
  api_token_secret: onair-api
events:)"));
    REQUIRE(cluster.events.size() == 1);  // the rest of the file as before
    auto options = kubernetes_options(cluster.runner);
    CHECK(options.namespace_ == "sport-live");
    CHECK(options.image == "registry.example:5000/onair:1.4");
    CHECK(options.storage_class == "fast.ssd");
    CHECK(options.storage_size == "500Gi");
    CHECK(options.kubectl == "/usr/local/bin/kubectl");
    CHECK(options.api_token_secret == "onair-api");
    CHECK(options.image_pull_policy == built_in.image_pull_policy);  // not the file's to say
    CHECK(options.termination_grace_seconds == built_in.termination_grace_seconds);
    CHECK(valid("runner: {type: kubernetes, storage_class: \"\", storage_size: 512Mi}\n")
              .runner.storage_size == "512Mi");
}

TEST_CASE("every problem of the runner key is reported", "[schedule_config]") {
    const std::string label_form =
        "lower case a-z, 0-9 and -, at most 63 characters, starting and ending with a letter or "
        "digit";
    const std::string subdomain_form =
        "lower case a-z, 0-9, - and ., at most 253 characters, each part starting and ending "
        "with a letter or digit";
    const std::string size_form = "a whole number of Ki, Mi, Gi or Ti, e.g. 20Gi";
    CHECK(errors(R"(runner:
  type: kubernetes
  namespace: Sport_Live
  image: ""
  storage_class: fast..ssd
  storage_size: 20GB
  kubectl: ""
  api_token_secret: -token
  replica: 2
)") == std::vector<std::string>{
           "schedule.yaml:3:14: runner.namespace: \"Sport_Live\" is not a valid Kubernetes "
           "namespace (allowed: " +
               label_form + ")",
           "schedule.yaml:4:10: runner.image: expected an image reference, got the string "
           "\"\" (allowed: an image reference, e.g. registry.example/onair:1.0)",
           "schedule.yaml:5:18: runner.storage_class: \"fast..ssd\" is not a valid "
           "Kubernetes StorageClass name (allowed: " +
               subdomain_form + ")",
           "schedule.yaml:6:17: runner.storage_size: \"20GB\" is not a Kubernetes quantity "
           "of Ki, Mi, Gi or Ti (allowed: " +
               size_form + ")",
           "schedule.yaml:7:12: runner.kubectl: expected a program, got the string \"\" "
           "(allowed: a program name or path)",
           "schedule.yaml:8:21: runner.api_token_secret: \"-token\" is not a valid "
           "Kubernetes Secret name (allowed: " +
               subdomain_form + ")",
           "schedule.yaml:9:3: runner.replica: unknown key (allowed: type, namespace, image, "
           "storage_class, storage_size, kubectl, api_token_secret)",
       });
    CHECK(errors("runner: {type: kubernetes, storage_size: 0Gi, image: onair latest}\n") ==
          std::vector<std::string>{
              "schedule.yaml:1:42: runner.storage_size: 0Gi holds nothing (allowed: " + size_form +
                  ")",
              "schedule.yaml:1:54: runner.image: expected an image reference, got the string "
              "\"onair latest\" (allowed: an image reference, e.g. registry.example/onair:1.0)",
          });

    // The kubernetes runner's keys with the local runner: refused, not ignored.
    CHECK(errors(R"(runner:
  type: local
  image: onair:1.4
  storage_size: 50Gi
)") == std::vector<std::string>{
           "schedule.yaml:3:3: runner.image: only with type: kubernetes (allowed: "
           "runner.type: kubernetes, or no runner.image with type: local)",
           "schedule.yaml:4:3: runner.storage_size: only with type: kubernetes (allowed: "
           "runner.type: kubernetes, or no runner.storage_size with type: local)",
       });
    CHECK(errors("runner: {namespace: onair}\n") ==
          std::vector<std::string>{
              "schedule.yaml:1:10: runner.namespace: only with type: kubernetes; runner.type is "
              "local when left out (allowed: runner.type: kubernetes, or no runner.namespace "
              "with type: local)"});
    // An unknown type is the one problem: which keys it allows is not known.
    CHECK(errors("runner: {type: kubernetis, image: onair:1.4}\n") ==
          std::vector<std::string>{
              "schedule.yaml:1:16: runner.type: unknown value \"kubernetis\", did you mean "
              "\"kubernetes\"? (allowed: local, kubernetes)"});
    CHECK(errors("runner: kubernetes\n") ==
          std::vector<std::string>{"schedule.yaml:1:9: runner: expected a map, got the string "
                                   "\"kubernetes\" (allowed: a map with keys type, namespace, "
                                   "image, storage_class, storage_size, kubectl, "
                                   "api_token_secret)"});
}

TEST_CASE("the README's schedule key table is the one the schema renders",
          "[schedule_config][readme]") {
    auto rendered = lines_of(schedule_key_table());
    REQUIRE(rendered.size() > 2);
    INFO(
        "README.md's table (section \"Events\", between <!-- schedule-keys --> markers) must "
        "be schedule_key_table()'s:\n"
        << schedule_key_table());
    CHECK(readme_block("schedule-keys") == rendered);
}

TEST_CASE("the README's example schedule is valid", "[schedule_config][readme]") {
    auto block = readme_block("schedule-example");
    REQUIRE(block.size() > 2);
    CHECK(block.front() == "```yaml");
    CHECK(block.back() == "```");
    std::string text;
    for (size_t i = 1; i + 1 < block.size(); ++i) text += block[i] + "\n";
    // The issue's file, as written there.
    CHECK(text == kExample);
    onair::testing::TempDir dir("onair-schedule");
    std::filesystem::create_directories(dir / "channels");
    dir.write("channels/fight.yaml", kChannel);
    auto path = dir.write("schedule.yaml", text);
    auto schedule = load_schedule_config(path.string());
    REQUIRE(schedule);
    CHECK(check_schedule(*schedule).problems.empty());
}
