// The schedule file: yaml-cpp reads it into nodes, the schema below (one
// declaration per key, core/schema.hpp) reads them into the written form
// (what each event left out stays empty), the rules between keys follow as
// plain code, and only a file without problems is resolved into events.
#include "schedule/schedule_config.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>
#include <boost/json.hpp>

#include "core/text_file.hpp"
#include "core/units.hpp"
#include "origin/clip_time.hpp"

namespace onair::schedule {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;
using namespace core::schema;
using core::Diagnostic;
using core::Micros;
using core::SourcePosition;

constexpr size_t kMaxEventId = 64;
constexpr Micros kMinTeardownAfter = 1s, kMaxTeardownAfter = 24h;
constexpr Micros kMaxPrerollBefore = 24h;
constexpr int64_t kMaxRetries = 10;
constexpr Micros kMinRetryDelay = 100ms, kMaxRetryDelay = 10min;
constexpr Micros kMinDeployTimeout = 1s, kMaxDeployTimeout = 1h;
constexpr size_t kMaxFileBytes = 4 << 20;  // a day of events is a few pages
constexpr std::array kTeardownWords = {"confirm"sv, "auto"sv, "after"sv};
constexpr auto kTimeForm =
    "ISO 8601 with a zone, e.g. 2026-12-05T19:00:00Z or 2026-12-05T20:00:00+01:00";

// ---- the written form: what each event said, before defaults -----------------

struct WrittenEvent {
    std::string id;
    std::string title;
    std::string channel;
    std::optional<WrittenTime> preroll;
    WrittenTime start;
    WrittenTime end;
    std::optional<Teardown> teardown;
    std::optional<Harvest> harvest;
    std::optional<std::string> webhook;
};

struct WrittenSchedule {
    HostPortValue listen{"127.0.0.1", 8090};
    std::string data = "./data/schedule";
    EventDefaults defaults;
    RetryConfig retries;
    RunnerConfig runner;
    std::vector<WrittenEvent> events;
};

Duration millis(Micros d) {
    return std::chrono::duration_cast<Duration>(d);
}

// ---- value types of the runner's keys (Kubernetes' own forms) -----------------

bool is_dns_label(std::string_view s, size_t max_size) {
    auto inner = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    };
    return !s.empty() && s.size() <= max_size && std::all_of(s.begin(), s.end(), inner) &&
           s.front() != '-' && s.back() != '-';
}

bool is_dns_subdomain(std::string_view s) {
    if (s.empty() || s.size() > 253) return false;
    for (;;) {
        auto dot = s.find('.');
        if (!is_dns_label(s.substr(0, dot), 63)) return false;
        if (dot == std::string_view::npos) return true;
        s.remove_prefix(dot + 1);
    }
}

// A DNS-1123 label (a namespace) or subdomain (dot-separated labels: a
// StorageClass, a Secret); `empty_ok` for keys whose empty value means none.
struct KubernetesName {
    bool subdomain = false;
    std::string_view what;  // "namespace"
    bool empty_ok = false;
    std::string allowed() const {
        return subdomain ? "lower case a-z, 0-9, - and ., at most 253 characters, each part "
                           "starting and ending with a letter or digit"
                         : "lower case a-z, 0-9 and -, at most 63 characters, starting and "
                           "ending with a letter or digit";
    }
    std::optional<std::string> read(Reader& r, const Field& f) const {
        auto text = r.scalar(f, "a string", allowed());
        if (!text) return std::nullopt;
        if (text->empty() && empty_ok) return text;
        if (subdomain ? !is_dns_subdomain(*text) : !is_dns_label(*text, 63)) {
            r.error(f.value_at, f.path,
                    fmt::format("\"{}\" is not a valid Kubernetes {}", shortened(*text), what),
                    allowed());
            return std::nullopt;
        }
        return text;
    }
};

// A storage request: a whole number of Ki, Mi, Gi or Ti (20Gi).
struct KubernetesQuantity {
    std::string allowed() const { return "a whole number of Ki, Mi, Gi or Ti, e.g. 20Gi"; }
    std::optional<std::string> read(Reader& r, const Field& f) const {
        auto text = r.scalar(f, "a size such as 20Gi", allowed());
        if (!text) return std::nullopt;
        static constexpr std::array kUnits = {"Ki"sv, "Mi"sv, "Gi"sv, "Ti"sv};
        std::string_view number = *text;
        bool unit = number.size() > 2 &&
                    std::find(kUnits.begin(), kUnits.end(), number.substr(number.size() - 2)) !=
                        kUnits.end();
        if (unit) number.remove_suffix(2);
        bool digits =
            unit && number.size() <= 12 &&
            std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits) {
            r.error(f.value_at, f.path,
                    fmt::format("\"{}\" is not a Kubernetes quantity of Ki, Mi, Gi or Ti",
                                shortened(*text)),
                    allowed());
            return std::nullopt;
        }
        if (number.find_first_not_of('0') == std::string_view::npos) {
            r.error(f.value_at, f.path, fmt::format("{} holds nothing", *text), allowed());
            return std::nullopt;
        }
        return text;
    }
};

constexpr auto kImageForm = "an image reference, e.g. registry.example/onair:1.0";

// Text that must say something and hold no blanks (an image reference, a program).
struct Word {
    std::string_view expected;  // "an image reference"
    std::string_view allowed_text;
    std::string allowed() const { return std::string(allowed_text); }
    std::optional<std::string> read(Reader& r, const Field& f) const {
        auto text = r.scalar(f, expected, allowed());
        if (!text) return std::nullopt;
        if (text->empty() || text->find_first_of(" \t\r\n") != std::string::npos) {
            r.error(f.value_at, f.path,
                    fmt::format("expected {}, got {}", expected, describe(f.value)), allowed());
            return std::nullopt;
        }
        return text;
    }
};

// ---- the schema: one declaration per key, in the order of the key table ----

Schema<WrittenEvent> event_schema() {
    return {
        key<WrittenEvent>("id", Name{kMaxEventId, "event id"}, &WrittenEvent::id,
                          {"the event's id (API paths, clip id, logs)", "required",
                           "1..64 of `A-Z a-z 0-9 _ -`, unique"})
            .required(),
        key<WrittenEvent>("title", Text{"a title", "any text"}, &WrittenEvent::title,
                          {"what people call it", "the id", "any text"}),
        key<WrittenEvent>("channel", Text{"a file path", "a channel file's path"},
                          &WrittenEvent::channel,
                          {"the channel file it runs, read again at preroll", "required",
                           "a path, relative to the schedule file's folder"})
            .required(),
        key<WrittenEvent>("preroll", UtcTime{}, &WrittenEvent::preroll,
                          {"when its channel is deployed", "`start` - `defaults.preroll_before`",
                           "ISO 8601 with a zone, at or before `start`"}),
        key<WrittenEvent>("start", UtcTime{}, &WrittenEvent::start,
                          {"when it goes live", "required", "ISO 8601 with a zone"})
            .required(),
        key<WrittenEvent>(
            "end", UtcTime{}, &WrittenEvent::end,
            {"when it is due to end", "required", "ISO 8601 with a zone, after `start`"})
            .required(),
        key<WrittenEvent>("teardown", TeardownType{}, &WrittenEvent::teardown,
                          {"what tears it down once it has ended", "`defaults.teardown`",
                           "`confirm`, `auto`, `after DURATION`"}),
        key<WrittenEvent>("harvest", Choice{kHarvests}, &WrittenEvent::harvest,
                          {"at teardown, cut `start` to the real end as clip ID",
                           "`defaults.harvest`", "`none`, `event`"}),
        key<WrittenEvent>("webhook", HttpUrl{}, &WrittenEvent::webhook,
                          {"POSTed a JSON record of every transition", "`defaults.webhook`",
                           "`http://HOST[:PORT]/PATH`"}),
    };
}

Schema<WrittenSchedule> make_schema() {
    Schema<EventDefaults> defaults = {
        key<EventDefaults>("teardown", TeardownType{}, &EventDefaults::teardown,
                           {"teardown of events that do not say", "`confirm`",
                            "`confirm`, `auto`, `after DURATION`"}),
        key<EventDefaults>("harvest", Choice{kHarvests}, &EventDefaults::harvest,
                           {"harvest of events that do not say", "`none`", "`none`, `event`"}),
        key<EventDefaults>(
            "webhook", HttpUrl{}, &EventDefaults::webhook,
            {"webhook of events that do not say", "none", "`http://HOST[:PORT]/PATH`"}),
        key<EventDefaults>("preroll_before", DurationRange{0s, kMaxPrerollBefore},
                           [](EventDefaults& d, Micros v) { d.preroll_before = millis(v); },
                           {"preroll of events without `preroll`: this long before `start`", "`5m`",
                            "`0s`..`24h`"}),
    };
    Schema<RetryConfig> retries = {
        key<RetryConfig>("count", IntegerRange{0, kMaxRetries}, &RetryConfig::count,
                         {"retries of a failed deploy, restart or teardown before `failed`", "`3`",
                          "`0`..`10`"}),
        key<RetryConfig>("first_delay", DurationRange{kMinRetryDelay, kMaxRetryDelay},
                         [](RetryConfig& c, Micros v) { c.first_delay = millis(v); },
                         {"wait before the first retry; each next one waits twice as long", "`2s`",
                          "`100ms`..`10m`"}),
        key<RetryConfig>("deploy_timeout", DurationRange{kMinDeployTimeout, kMaxDeployTimeout},
                         [](RetryConfig& c, Micros v) { c.deploy_timeout = millis(v); },
                         {"a channel not ready this long after it was started has failed", "`60s`",
                          "`1s`..`1h`"}),
    };
    Schema<RunnerConfig> runner = {
        key<RunnerConfig>(
            "type", Choice{kRunnerTypes}, &RunnerConfig::type,
            {"where the events' channels run: `local` = `onair run` child processes on this "
             "machine, `kubernetes` = objects in a cluster, applied with kubectl "
             "([docs/kubernetes.md](docs/kubernetes.md))",
             "`local`", "`local`, `kubernetes`"}),
        key<RunnerConfig>(
            "namespace", KubernetesName{false, "namespace"}, &RunnerConfig::namespace_,
            {"kubernetes: the namespace of the events' objects", "`onair`", "a DNS-1123 label"}),
        key<RunnerConfig>("image", Word{"an image reference", kImageForm}, &RunnerConfig::image,
                          {"kubernetes: the image of the pods, with `onair` on its PATH",
                           "`onair:latest`", "an image reference"}),
        key<RunnerConfig>("storage_class", KubernetesName{true, "StorageClass name", true},
                          &RunnerConfig::storage_class,
                          {"kubernetes: the StorageClass of each event's data volume (DVR, "
                           "clips)",
                           "the cluster's default", "a StorageClass name"}),
        key<RunnerConfig>("storage_size", KubernetesQuantity{}, &RunnerConfig::storage_size,
                          {"kubernetes: the size of each event's data volume", "`20Gi`",
                           "a whole number of `Ki`, `Mi`, `Gi`, `Ti`"}),
        key<RunnerConfig>("kubectl", Word{"a program", "a program name or path"},
                          &RunnerConfig::kubectl,
                          {"kubernetes: the kubectl the controller runs (its cluster: "
                           "`KUBECONFIG` or the pod's service account)",
                           "`kubectl`", "a program name or path"}),
        key<RunnerConfig>("api_token_secret", KubernetesName{true, "Secret name"},
                          &RunnerConfig::api_token_secret,
                          {"kubernetes: an existing Secret whose key `ONAIR_API_TOKEN` is the "
                           "origins' API token",
                           "the channel's own token", "a Secret name"}),
    };
    Schema<WrittenEvent> event = event_schema();
    return {
        key<WrittenSchedule>("listen", HostPort{}, &WrittenSchedule::listen,
                             {"the events API's address", "`127.0.0.1:8090`", "`HOST:PORT`"}),
        key<WrittenSchedule>("data", Text{"a folder path", "a folder path"}, &WrittenSchedule::data,
                             {"the controller's state", "`./data/schedule`", "a folder path"}),
        map<WrittenSchedule>("defaults", std::move(defaults), &WrittenSchedule::defaults),
        map<WrittenSchedule>("retries", std::move(retries), &WrittenSchedule::retries),
        map<WrittenSchedule>("runner", std::move(runner), &WrittenSchedule::runner),
        sequence<WrittenSchedule>("events", std::move(event), &WrittenSchedule::events,
                                  {.items = "events", .min = 0, .max = 0}),
    };
}

const Schema<WrittenSchedule>& the_schema() {
    static const auto schema = make_schema();
    return schema;
}

// ---- rules between keys ------------------------------------------------------

void check_unique_ids(Reader& r, const WrittenSchedule& s) {
    std::map<std::string, std::pair<std::string, int>> seen;  // id -> path, line
    for (size_t i = 0; i < s.events.size(); ++i) {
        auto path = fmt::format("events[{}].id", i);
        if (!r.valid(path)) continue;
        const auto* id = r.given(path);
        auto [it, fresh] = seen.emplace(s.events[i].id,
                                        std::pair(fmt::format("events[{}]", i), id->value_at.line));
        if (fresh) continue;
        r.error(id->value_at, path,
                fmt::format("\"{}\" is already the id of {} (line {})", s.events[i].id,
                            it->second.first, it->second.second),
                "an id used by one event only");
        r.invalidate(fmt::format("events[{}]", i));
    }
}

// end after start, preroll at or before start; `prefix` is the event's path.
void check_event_times(Reader& r, const WrittenEvent& e, const std::string& prefix) {
    auto at = [&](std::string_view key) {
        return prefix.empty() ? std::string(key) : fmt::format("{}.{}", prefix, key);
    };
    bool start_ok = r.valid(at("start"));
    if (start_ok && r.valid(at("end")) && e.end.at <= e.start.at) {
        r.error(r.given(at("end"))->value_at, at("end"),
                fmt::format("{} is not after start {}", e.end.text, e.start.text),
                "a time after start");
        r.invalidate(prefix);
    }
    if (start_ok && e.preroll && r.valid(at("preroll")) && e.preroll->at > e.start.at) {
        r.error(r.given(at("preroll"))->value_at, at("preroll"),
                fmt::format("{} is after start {}", e.preroll->text, e.start.text),
                "a time at or before start");
        r.invalidate(prefix);
    }
}

// The kubernetes runner's keys mean nothing to the local runner: refused
// rather than ignored (a file that names an image but runs locally is a mistake).
void check_runner_keys(Reader& r, const WrittenSchedule& s) {
    if (s.runner.type != RunnerType::local) return;
    const auto* type = r.given("runner.type");
    if (type && !type->valid) return;  // an unknown type is reported already
    for (auto name : {"namespace"sv, "image"sv, "storage_class"sv, "storage_size"sv, "kubectl"sv,
                      "api_token_secret"sv}) {
        auto path = fmt::format("runner.{}", name);
        const auto* written = r.given(path);
        if (!written) continue;
        r.error(written->key_at, path,
                type ? "only with type: kubernetes"
                     : "only with type: kubernetes; runner.type is local when left out",
                fmt::format("runner.type: kubernetes, or no {} with type: local", path));
        r.invalidate(path);
    }
}

void check_times(Reader& r, const WrittenSchedule& s) {
    for (size_t i = 0; i < s.events.size(); ++i)
        check_event_times(r, s.events[i], fmt::format("events[{}]", i));
}

std::string resolve_channel(const std::string& file, const std::string& channel) {
    std::filesystem::path written(channel);
    auto folder = std::filesystem::path(file).parent_path();
    if (written.is_absolute() || folder.empty()) return written.lexically_normal().string();
    return (folder / written).lexically_normal().string();
}

EventSpec resolve(const WrittenEvent& w, const EventDefaults& d, const std::string& file) {
    EventSpec e;
    e.id = w.id;
    e.title = w.title.empty() ? w.id : w.title;
    e.channel = w.channel;
    e.channel_path = resolve_channel(file, w.channel);
    e.start = w.start.at;
    e.end = w.end.at;
    e.preroll = w.preroll ? w.preroll->at : w.start.at - d.preroll_before;
    e.teardown = w.teardown.value_or(d.teardown);
    e.harvest = w.harvest.value_or(d.harvest);
    e.webhook = w.webhook.value_or(d.webhook);
    return e;
}

ScheduleResult parse_document(std::string_view yaml_text, const std::string& file) {
    Reader reader(file);
    auto loaded = load_one_document(yaml_text, file,
                                    fmt::format("a map with {}", join(key_names(the_schema()))),
                                    "a schedule file holds one schedule", reader);
    if (!loaded) return std::unexpected(std::vector<Diagnostic>{std::move(loaded.error())});
    const YAML::Node& root = *loaded;
    WrittenSchedule written;
    Field top{"", root, position_of(root), position_of(root)};
    read_map(reader, top, the_schema(), written);
    if (root.IsMap()) {
        check_unique_ids(reader, written);
        check_times(reader, written);
        check_runner_keys(reader, written);
    }
    if (reader.failed()) return std::unexpected(reader.take());

    ScheduleConfig out;
    out.file = file;
    out.listen = written.listen;
    out.data = written.data;
    out.defaults = written.defaults;
    out.retries = written.retries;
    out.runner = written.runner;
    for (const auto& event : written.events)
        out.events.push_back(resolve(event, written.defaults, file));
    out.positions = reader.key_positions();
    return out;
}

}  // namespace

// ---- value types -------------------------------------------------------------

std::string UtcTime::allowed() const {
    return kTimeForm;
}

std::optional<WrittenTime> UtcTime::read(Reader& r, const Field& f) const {
    auto text = r.scalar(f, "a time", allowed());
    if (!text) return std::nullopt;
    // parse_utc_time also reads epoch seconds; a schedule is written in dates.
    auto looks_iso = text->size() >= 11 && (*text)[4] == '-' && (*text)[10] == 'T';
    auto ms = looks_iso ? origin::parse_utc_time(*text) : std::nullopt;
    if (!ms) {
        if (looks_iso && origin::parse_utc_time(*text + "Z"))
            r.error(f.value_at, f.path,
                    fmt::format("{} has no zone; write Z for UTC or an offset such as +01:00",
                                shortened(*text)),
                    allowed());
        else
            r.error(f.value_at, f.path,
                    fmt::format("expected an ISO 8601 time with a zone, got {}", describe(f.value)),
                    allowed());
        return std::nullopt;
    }
    return WrittenTime{TimePoint(Duration(*ms)), *text};
}

std::string TeardownType::allowed() const {
    return fmt::format("confirm, auto, or after DURATION from {} to {}, e.g. after 30m",
                       core::format_duration(kMinTeardownAfter),
                       core::format_duration(kMaxTeardownAfter));
}

std::optional<Teardown> TeardownType::read(Reader& r, const Field& f) const {
    auto text = r.scalar(f, "a string", allowed());
    if (!text) return std::nullopt;
    if (*text == "confirm") return Teardown{TeardownMode::confirm, {}};
    if (*text == "auto") return Teardown{TeardownMode::automatic, {}};
    std::string_view rest = *text;
    if (rest.starts_with("after")) {
        rest.remove_prefix(5);
        auto spaces = rest.find_first_not_of(' ');
        auto d = spaces == 0 || spaces == std::string_view::npos
                     ? std::nullopt
                     : core::parse_duration(rest.substr(spaces));
        if (!d) {
            r.error(f.value_at, f.path,
                    fmt::format("\"{}\" does not say after how long", shortened(*text)), allowed());
            return std::nullopt;
        }
        if (*d < kMinTeardownAfter || *d > kMaxTeardownAfter) {
            r.error(f.value_at, f.path,
                    fmt::format("{} is out of range", core::format_duration(*d)), allowed());
            return std::nullopt;
        }
        return Teardown{TeardownMode::after, millis(*d)};
    }
    r.error(f.value_at, f.path,
            with_hint(fmt::format("unknown value \"{}\"", shortened(*text)), *text, kTeardownWords),
            allowed());
    return std::nullopt;
}

// ---- the rest of the public API ------------------------------------------------

const EventSpec* ScheduleConfig::find(std::string_view id) const {
    auto it = std::find_if(events.begin(), events.end(), [&](const auto& e) { return e.id == id; });
    return it == events.end() ? nullptr : &*it;
}

Diagnostic ScheduleConfig::diagnostic(const std::string& key, std::string message,
                                      std::string allowed) const {
    return core::diagnostic_at(file, positions, key, std::move(message), std::move(allowed));
}

ScheduleResult parse_schedule_config(std::string_view yaml_text, const std::string& file) {
    try {
        return parse_document(yaml_text, file);
    } catch (const std::exception& e) {
        return std::unexpected(std::vector<Diagnostic>{
            {file, {}, "", fmt::format("cannot read the schedule file: {}", e.what()), ""}});
    }
}

ScheduleResult load_schedule_config(const std::string& path) {
    auto text = core::read_text_file(path, kMaxFileBytes);
    if (!text) {
        auto message = text.error();
        if (message.starts_with("larger")) message += "; a schedule file is a few pages of YAML";
        return std::unexpected(std::vector<Diagnostic>{{path, {}, "", std::move(message), ""}});
    }
    return parse_schedule_config(*text, path);
}

std::expected<EventSpec, std::vector<Diagnostic>> parse_event(std::string_view text,
                                                              const std::string& name,
                                                              const ScheduleConfig& base) {
    try {
        Reader reader(name);
        auto loaded = load_one_document(
            text, name, fmt::format("a map with {}", join(key_names(event_schema()))), "one event",
            reader);
        if (!loaded) return std::unexpected(std::vector<Diagnostic>{std::move(loaded.error())});
        const YAML::Node& root = *loaded;
        static const auto schema = event_schema();
        WrittenEvent written;
        Field top{"", root, position_of(root), position_of(root)};
        read_map(reader, top, schema, written);
        if (root.IsMap()) check_event_times(reader, written, "");
        if (reader.failed()) return std::unexpected(reader.take());
        return resolve(written, base.defaults, base.file);
    } catch (const std::exception& e) {
        return std::unexpected(std::vector<Diagnostic>{
            {name, {}, "", fmt::format("cannot read the event: {}", e.what()), ""}});
    }
}

boost::json::object event_json(const EventSpec& event) {
    boost::json::object json;
    json["id"] = event.id;
    json["title"] = event.title;
    json["channel"] = event.channel;
    json["preroll"] = time_text(event.preroll);
    json["start"] = time_text(event.start);
    json["end"] = time_text(event.end);
    json["teardown"] = to_string(event.teardown);
    json["harvest"] = std::string(kHarvests.name(event.harvest));
    if (!event.webhook.empty()) json["webhook"] = event.webhook;
    return json;
}

std::string time_text(TimePoint t) {
    auto text = origin::utc_text(t.time_since_epoch().count());
    if (text.ends_with(".000Z")) text.replace(text.size() - 5, 5, "Z");
    return text;
}

std::string to_string(const Teardown& teardown) {
    switch (teardown.mode) {
        case TeardownMode::confirm:
            return "confirm";
        case TeardownMode::automatic:
            return "auto";
        case TeardownMode::after:
            return "after " + core::format_duration(teardown.after);
    }
    return "?";
}

std::string schedule_key_table() {
    auto keys = key_infos(the_schema());
    return render_key_table(keys);
}

}  // namespace onair::schedule
