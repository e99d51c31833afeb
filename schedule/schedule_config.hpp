#pragma once
// The schedule file: YAML in, validated events out, read through the schema
// machinery of core/schema.hpp (one declaration per key). Every problem is
// reported at once as FILE:LINE:COL: key.path: what is wrong (what is
// allowed). Parsing reads text only; the channel files the events name are
// read by schedule/schedule_check.hpp. Called at start-up, on reload and for
// `onair schedule --check`, on one thread; the result owns everything.
#include <chrono>
#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/diagnostic.hpp"
#include "core/enum_names.hpp"
#include "core/schema.hpp"

namespace onair::schedule {

using Duration = std::chrono::milliseconds;
using TimePoint = std::chrono::sys_time<Duration>;  // UTC

// What ends an event once its end has passed: the operator's confirmation,
// at once, or a fixed time after the end.
enum class TeardownMode { confirm, automatic, after };
struct Teardown {
    TeardownMode mode = TeardownMode::confirm;
    Duration after{0};  // with `after`
    friend bool operator==(const Teardown&, const Teardown&) = default;
};

// At teardown, cut the event (start to its real end) as a clip, id = event id.
enum class Harvest { none, event };

inline constexpr auto kHarvests =
    core::enum_names<Harvest>(std::pair{Harvest::none, "none"}, std::pair{Harvest::event, "event"});

// One scheduled event, resolved: defaults applied, channel path made
// relative to the working directory.
struct EventSpec {
    std::string id;            // [A-Za-z0-9_-]{1,64}, unique in the schedule
    std::string title;         // default: the id
    std::string channel;       // the channel file as written
    std::string channel_path;  // resolved against the schedule file's folder
    TimePoint preroll;         // <= start; default: start - defaults.preroll_before
    TimePoint start;
    TimePoint end;  // > start
    Teardown teardown;
    Harvest harvest = Harvest::none;
    std::string webhook;  // http://HOST[:PORT]/PATH, POSTed every transition; empty: none
};

// What every event inherits unless it says otherwise.
struct EventDefaults {
    Teardown teardown;
    Harvest harvest = Harvest::none;
    std::string webhook;
    Duration preroll_before = std::chrono::minutes(5);  // for events without `preroll`
};

// How a failed step (deploy, restart, teardown) is retried: `count` retries
// after the first attempt, waiting first_delay, then twice as long each time.
struct RetryConfig {
    int count = 3;
    Duration first_delay = std::chrono::seconds(2);
    Duration deploy_timeout = std::chrono::seconds(60);  // not ready by then: a failed attempt
};

// Where the events' channels run (schedule/runner.hpp): `local`, `onair run`
// child processes on this machine, or `kubernetes`, objects in a cluster
// applied with kubectl. The other keys are the kubernetes runner's, mapped
// onto its KubernetesOptions by kubernetes_options()
// (schedule/kubernetes_objects.hpp); the parse refuses them with `local`.
enum class RunnerType { local, kubernetes };

inline constexpr auto kRunnerTypes = core::enum_names<RunnerType>(
    std::pair{RunnerType::local, "local"}, std::pair{RunnerType::kubernetes, "kubernetes"});

struct RunnerConfig {
    RunnerType type = RunnerType::local;
    std::string namespace_ = "onair";    // a DNS-1123 label
    std::string image = "onair:latest";  // holds `onair` on its PATH
    std::string storage_class;           // empty: the cluster's default StorageClass
    std::string storage_size = "20Gi";   // each event's data volume: 1..N of Ki, Mi, Gi, Ti
    std::string kubectl = "kubectl";     // the program the runner runs
    std::string api_token_secret;        // an existing Secret with ONAIR_API_TOKEN; empty: none
};

struct ScheduleConfig {
    std::string file;  // the path it was read from
    core::schema::HostPortValue listen{"127.0.0.1", 8090};
    std::string data = "./data/schedule";  // as written (relative to the working directory)
    EventDefaults defaults;
    RetryConfig retries;
    RunnerConfig runner;            // read at start-up only (a reload keeps the runner)
    std::vector<EventSpec> events;  // in file order
    // Where each key path was written, for problems found later (ports, channel files).
    std::map<std::string, core::SourcePosition> positions;

    const EventSpec* find(std::string_view id) const;
    core::Diagnostic diagnostic(const std::string& key, std::string message,
                                std::string allowed = {}) const;
};

using ScheduleResult = std::expected<ScheduleConfig, std::vector<core::Diagnostic>>;

// Reads and validates a schedule file. `file` names it in the messages, and
// its folder is where relative channel paths start.
ScheduleResult parse_schedule_config(std::string_view yaml_text, const std::string& file);
ScheduleResult load_schedule_config(const std::string& path);

// One event as the API's POST and PATCH send it: a JSON (or YAML) map with
// the keys of a schedule file's event, read by the same declarations, with
// `base`'s defaults, its channel path resolved as the file's events are.
// `name` stands for the file in the messages ("request").
std::expected<EventSpec, std::vector<core::Diagnostic>> parse_event(std::string_view text,
                                                                    const std::string& name,
                                                                    const ScheduleConfig& base);

// The event as those keys (what parse_event reads back to the same event).
boost::json::object event_json(const EventSpec& event);

// "2026-12-05T19:00:00Z" (milliseconds only when there are some).
std::string time_text(TimePoint t);
// "confirm", "auto", "after 30m".
std::string to_string(const Teardown& teardown);

// The README's key table of the schedule file, from the schema.
std::string schedule_key_table();

// ---- value types the schema machinery lacks (core/schema.hpp's conventions) ----

// An ISO 8601 time with a zone: 2026-12-05T19:00:00Z, 2026-12-05T20:00:00+01:00.
struct WrittenTime {
    TimePoint at;
    std::string text;  // as written, for messages
};
struct UtcTime {
    std::string allowed() const;
    std::optional<WrittenTime> read(core::schema::Reader& r, const core::schema::Field& f) const;
};

// confirm | auto | after DURATION
struct TeardownType {
    std::string allowed() const;
    std::optional<Teardown> read(core::schema::Reader& r, const core::schema::Field& f) const;
};

}  // namespace onair::schedule
