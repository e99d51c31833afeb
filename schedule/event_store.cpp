#include "schedule/event_store.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <expected>
#include <filesystem>
#include <limits>
#include <system_error>

namespace onair::schedule {
namespace {

namespace json = boost::json;

// Version 1: the tables below. A later change adds its migration in open()
// and raises the number.
constexpr int64_t kSchemaVersion = 1;

constexpr std::string_view kSchema = R"(
CREATE TABLE IF NOT EXISTS schema_version (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT OR IGNORE INTO schema_version (id, version) VALUES (1, 1);
CREATE TABLE IF NOT EXISTS events (
  id           TEXT PRIMARY KEY,
  position     INTEGER NOT NULL UNIQUE,
  spec         TEXT NOT NULL,
  source       TEXT NOT NULL,
  state        TEXT NOT NULL,
  deployment   TEXT,
  channel_name TEXT NOT NULL DEFAULT '',
  data_dir     TEXT NOT NULL DEFAULT '',
  created_ms   INTEGER NOT NULL,
  updated_ms   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  event      TEXT NOT NULL REFERENCES events (id),
  from_state TEXT NOT NULL,
  to_state   TEXT NOT NULL,
  at_ms      INTEGER NOT NULL,
  reason     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_event ON history (event, seq);
)";

constexpr std::string_view kEventColumns =
    "id, spec, source, state, deployment, channel_name, data_dir, created_ms, updated_ms";

// The schedule file's words for the teardown modes (`after` keeps its
// duration in a field of its own, in milliseconds, so nothing is rounded).
constexpr auto kTeardownModes = core::enum_names<TeardownMode>(
    std::pair{TeardownMode::confirm, "confirm"}, std::pair{TeardownMode::automatic, "auto"},
    std::pair{TeardownMode::after, "after"});

template <class T>
std::unexpected<core::Error> pass(const core::Result<T>& failed) {
    return std::unexpected(failed.error());
}

// What is wrong with one stored part, for the message naming its event.
template <class T>
using Parsed = std::expected<T, std::string>;

int64_t ms(TimePoint t) {
    return t.time_since_epoch().count();
}

TimePoint time_at(int64_t ms) {
    return TimePoint(Duration(ms));
}

json::value optional_ms(const std::optional<TimePoint>& t) {
    return t ? json::value(ms(*t)) : json::value(nullptr);
}

// ---- writing ----

std::string spec_json(const EventSpec& e) {
    json::object teardown;
    teardown["mode"] = kTeardownModes.name(e.teardown.mode);
    teardown["after_ms"] = e.teardown.after.count();
    json::object o;
    o["id"] = e.id;
    o["title"] = e.title;
    o["channel"] = e.channel;
    o["channel_path"] = e.channel_path;
    o["preroll_ms"] = ms(e.preroll);
    o["start_ms"] = ms(e.start);
    o["end_ms"] = ms(e.end);
    o["teardown"] = std::move(teardown);
    o["harvest"] = kHarvests.name(e.harvest);
    o["webhook"] = e.webhook;
    return json::serialize(o);
}

std::string state_json(const EventState& s) {
    json::object o;
    o["state"] = kStates.name(s.state);
    o["entered_ms"] = ms(s.entered);
    o["attempts"] = s.attempts;
    o["attempt_at_ms"] = optional_ms(s.attempt_at);
    o["retry_at_ms"] = optional_ms(s.retry_at);
    o["last_failure"] = s.last_failure;
    o["restarts"] = s.restarts;
    o["teardown_confirmed"] = s.teardown_confirmed;
    o["cancel_requested"] = s.cancel_requested;
    o["extended_end_ms"] = optional_ms(s.extended_end);
    o["live_since_ms"] = optional_ms(s.live_since);
    o["ended_at_ms"] = optional_ms(s.ended_at);
    return json::serialize(o);
}

std::string deployment_json(const Deployment& d) {
    json::object o;
    o["runner"] = d.runner;
    o["id"] = d.id;
    o["instance"] = d.instance;
    o["origin"] = d.origin;
    o["channel"] = d.channel;
    o["data_dir"] = d.data_dir;
    o["started_ms"] = d.started_ms;
    return json::serialize(o);
}

// ---- reading ----

// Reads the fields of one stored JSON object, keeping the first problem
// with the field's name ("state.retry_at_ms: not an integer").
class FieldReader {
  public:
    FieldReader(const json::object& object, std::string part)
        : object_(object), part_(std::move(part)) {}

    std::string text(std::string_view key) {
        const auto* v = field(key);
        if (!v) return {};
        if (!v->is_string()) {
            wrong(key, "not a string");
            return std::string();
        }
        return std::string(v->get_string());
    }
    int64_t integer(std::string_view key) {
        const auto* v = field(key);
        if (!v) return 0;
        if (!v->is_int64()) {
            wrong(key, "not an integer");
            return 0;
        }
        return v->get_int64();
    }
    int small_integer(std::string_view key) {
        const int64_t v = integer(key);
        if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
            wrong(key, "out of range");
            return 0;
        }
        return int(v);
    }
    bool boolean(std::string_view key) {
        const auto* v = field(key);
        if (!v) return false;
        if (!v->is_bool()) {
            wrong(key, "not true or false");
            return false;
        }
        return v->get_bool();
    }
    TimePoint time(std::string_view key) { return time_at(integer(key)); }
    // null or absent: none.
    std::optional<TimePoint> optional_time(std::string_view key) {
        const auto* v = object_.if_contains(key);
        if (!v || v->is_null()) return std::nullopt;
        return time(key);
    }
    template <class E, size_t N>
    E name(std::string_view key, const core::EnumNames<E, N>& names, E fallback) {
        auto word = text(key);
        if (problem_) return fallback;
        if (auto value = names.value(word)) return *value;
        wrong(key, fmt::format("unknown name \"{}\" ({})", word, fmt::join(names.names(), ", ")));
        return fallback;
    }
    const json::object* object(std::string_view key) {
        const auto* v = field(key);
        if (!v) return nullptr;
        if (!v->is_object()) {
            wrong(key, "not an object");
            return nullptr;
        }
        return &v->get_object();
    }

    const std::optional<std::string>& problem() const { return problem_; }
    void wrong(std::string_view key, std::string_view what) {
        if (!problem_) problem_ = fmt::format("{}.{}: {}", part_, key, what);
    }

  private:
    const json::value* field(std::string_view key) {
        const auto* v = object_.if_contains(key);
        if (!v) wrong(key, "missing");
        return v;
    }

    const json::object& object_;
    std::string part_;
    std::optional<std::string> problem_;
};

Parsed<json::object> parse_object(std::string_view text, std::string_view part) {
    std::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) return std::unexpected(fmt::format("{}: not JSON ({})", part, ec.message()));
    if (!v.is_object()) return std::unexpected(fmt::format("{}: not a JSON object", part));
    return std::move(v.get_object());
}

Parsed<EventSpec> read_spec(std::string_view text) {
    auto object = parse_object(text, "spec");
    if (!object) return std::unexpected(object.error());
    FieldReader r(*object, "spec");
    EventSpec e;
    e.id = r.text("id");
    e.title = r.text("title");
    e.channel = r.text("channel");
    e.channel_path = r.text("channel_path");
    e.preroll = r.time("preroll_ms");
    e.start = r.time("start_ms");
    e.end = r.time("end_ms");
    if (const auto* teardown = r.object("teardown")) {
        FieldReader t(*teardown, "spec.teardown");
        e.teardown.mode = t.name("mode", kTeardownModes, TeardownMode::confirm);
        e.teardown.after = Duration(t.integer("after_ms"));
        if (t.problem()) return std::unexpected(*t.problem());
    }
    e.harvest = r.name("harvest", kHarvests, Harvest::none);
    e.webhook = r.text("webhook");
    if (r.problem()) return std::unexpected(*r.problem());
    return e;
}

Parsed<EventState> read_state(std::string_view text) {
    auto object = parse_object(text, "state");
    if (!object) return std::unexpected(object.error());
    FieldReader r(*object, "state");
    EventState s;
    s.state = r.name("state", kStates, State::scheduled);
    s.entered = r.time("entered_ms");
    s.attempts = r.small_integer("attempts");
    s.attempt_at = r.optional_time("attempt_at_ms");
    s.retry_at = r.optional_time("retry_at_ms");
    s.last_failure = r.text("last_failure");
    s.restarts = r.small_integer("restarts");
    s.teardown_confirmed = r.boolean("teardown_confirmed");
    s.cancel_requested = r.boolean("cancel_requested");
    s.extended_end = r.optional_time("extended_end_ms");
    s.live_since = r.optional_time("live_since_ms");
    s.ended_at = r.optional_time("ended_at_ms");
    if (r.problem()) return std::unexpected(*r.problem());
    return s;
}

Parsed<Deployment> read_deployment(std::string_view text) {
    auto object = parse_object(text, "deployment");
    if (!object) return std::unexpected(object.error());
    FieldReader r(*object, "deployment");
    Deployment d;
    d.runner = r.text("runner");
    d.id = r.text("id");
    d.instance = r.text("instance");
    d.origin = r.text("origin");
    d.channel = r.text("channel");
    d.data_dir = r.text("data_dir");
    d.started_ms = r.integer("started_ms");
    if (r.problem()) return std::unexpected(*r.problem());
    return d;
}

// One row of `SELECT kEventColumns`.
Parsed<StoredEvent> read_event(const origin::SqliteStatement& s) {
    StoredEvent e;
    auto spec = read_spec(s.text(1));
    if (!spec) return std::unexpected(spec.error());
    e.spec = std::move(*spec);
    if (e.spec.id != s.text(0))
        return std::unexpected(fmt::format("spec.id: \"{}\" in a row of another id", e.spec.id));
    auto source = kEventSources.value(s.text(2));
    if (!source)
        return std::unexpected(fmt::format("source: unknown name \"{}\" ({})", s.text(2),
                                           fmt::join(kEventSources.names(), ", ")));
    e.source = *source;
    auto state = read_state(s.text(3));
    if (!state) return std::unexpected(state.error());
    e.state = std::move(*state);
    if (auto text = s.optional_text(4)) {
        auto deployment = read_deployment(*text);
        if (!deployment) return std::unexpected(deployment.error());
        e.deployment = std::move(*deployment);
    }
    e.channel_name = s.text(5);
    e.data_dir = s.text(6);
    e.created_ms = s.integer(7);
    e.updated_ms = s.integer(8);
    return e;
}

}  // namespace

EventStore::EventStore(origin::SqliteDb db) : db_(std::move(db)) {}

core::Result<std::unique_ptr<EventStore>> EventStore::open(const std::string& path) {
    const auto folder = std::filesystem::path(path).parent_path();
    if (!folder.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(folder, ec);
        if (ec) return core::fail(fmt::format("{}: {}", folder.string(), ec.message()));
    }
    auto db = origin::SqliteDb::open(path);
    if (!db) return pass(db);
    // IMMEDIATE: two controllers opening one file at once cannot both create.
    auto tx = origin::SqliteTransaction::begin(*db);
    if (!tx) return pass(tx);
    if (auto ok = db->exec(kSchema); !ok) return pass(ok);
    auto version_query = db->prepare("SELECT version FROM schema_version WHERE id = 1");
    if (!version_query) return pass(version_query);
    auto row = version_query->step();
    if (!row) return pass(row);
    const int64_t version = *row ? version_query->integer(0) : 0;
    version_query->reset();
    if (version != kSchemaVersion)
        return core::fail(fmt::format("{}: schema version {} (this onair knows {})", path, version,
                                      kSchemaVersion));
    if (auto ok = tx->commit(); !ok) return pass(ok);
    return std::unique_ptr<EventStore>(new EventStore(std::move(*db)));
}

core::Result<std::vector<StoredEvent>> EventStore::load() const {
    std::lock_guard lock(mutex_);
    auto s = db_.prepare(fmt::format("SELECT {} FROM events ORDER BY position", kEventColumns));
    if (!s) return pass(s);
    std::vector<StoredEvent> out;
    for (;;) {
        auto row = s->step();
        if (!row) return pass(row);
        if (!*row) return out;
        auto event = read_event(*s);
        if (!event)
            return core::fail(
                fmt::format("{}: event \"{}\": {}", db_.path(), s->text(0), event.error()));
        out.push_back(std::move(*event));
    }
}

core::Result<std::optional<StoredEvent>> EventStore::find(std::string_view id) const {
    std::lock_guard lock(mutex_);
    auto s = db_.prepare(fmt::format("SELECT {} FROM events WHERE id = ?1", kEventColumns));
    if (!s) return pass(s);
    s->bind(1, id);
    auto row = s->step();
    if (!row) return pass(row);
    if (!*row) return std::optional<StoredEvent>();
    auto event = read_event(*s);
    if (!event)
        return core::fail(fmt::format("{}: event \"{}\": {}", db_.path(), id, event.error()));
    return std::optional<StoredEvent>(std::move(*event));
}

core::Result<> EventStore::put_spec(const EventSpec& spec, EventSource source, int64_t now_ms) {
    EventState fresh;
    fresh.state = State::scheduled;
    fresh.entered = time_at(now_ms);
    std::lock_guard lock(mutex_);
    auto s = db_.prepare(
        "INSERT INTO events (id, position, spec, source, state, created_ms, updated_ms) "
        "VALUES (?1, (SELECT COALESCE(MAX(position), 0) + 1 FROM events), ?2, ?3, ?4, ?5, ?5) "
        "ON CONFLICT (id) DO UPDATE SET spec = excluded.spec, source = excluded.source, "
        "updated_ms = excluded.updated_ms");
    if (!s) return pass(s);
    s->bind(1, spec.id).bind(2, spec_json(spec)).bind(3, kEventSources.name(source));
    s->bind(4, state_json(fresh)).bind(5, now_ms);
    return s->run();
}

core::Result<> EventStore::put_state(std::string_view id, const EventState& state,
                                     const std::optional<Transition>& transition, int64_t now_ms) {
    std::lock_guard lock(mutex_);
    auto tx = origin::SqliteTransaction::begin(db_);
    if (!tx) return pass(tx);
    auto update = db_.prepare("UPDATE events SET state = ?2, updated_ms = ?3 WHERE id = ?1");
    if (!update) return pass(update);
    update->bind(1, id).bind(2, state_json(state)).bind(3, now_ms);
    if (auto ok = update->run(); !ok) return ok;
    if (db_.changes() == 0) return core::fail(fmt::format("{}: no event \"{}\"", db_.path(), id));
    if (transition) {
        auto insert = db_.prepare(
            "INSERT INTO history (event, from_state, to_state, at_ms, reason) "
            "VALUES (?1, ?2, ?3, ?4, ?5)");
        if (!insert) return pass(insert);
        insert->bind(1, id).bind(2, kStates.name(transition->from));
        insert->bind(3, kStates.name(transition->to)).bind(4, ms(transition->at));
        insert->bind(5, transition->reason);
        if (auto ok = insert->run(); !ok) return ok;
    }
    return tx->commit();
}

core::Result<> EventStore::put_deployment(std::string_view id,
                                          const std::optional<Deployment>& deployment,
                                          int64_t now_ms) {
    std::lock_guard lock(mutex_);
    auto s =
        deployment
            ? db_.prepare(
                  "UPDATE events SET deployment = ?2, channel_name = ?3, "
                  "data_dir = ?4, updated_ms = ?5 WHERE id = ?1")
            : db_.prepare("UPDATE events SET deployment = NULL, updated_ms = ?5 WHERE id = ?1");
    if (!s) return pass(s);
    s->bind(1, id).bind(5, now_ms);
    if (deployment)
        s->bind(2, deployment_json(*deployment))
            .bind(3, deployment->channel)
            .bind(4, deployment->data_dir);
    if (auto ok = s->run(); !ok) return ok;
    if (db_.changes() == 0) return core::fail(fmt::format("{}: no event \"{}\"", db_.path(), id));
    return {};
}

core::Result<std::vector<HistoryEntry>> EventStore::history(std::string_view id) const {
    std::lock_guard lock(mutex_);
    auto s = db_.prepare(fmt::format(
        "SELECT seq, event, from_state, to_state, at_ms, reason FROM history{} ORDER BY seq",
        id.empty() ? "" : " WHERE event = ?1"));
    if (!s) return pass(s);
    if (!id.empty()) s->bind(1, id);
    std::vector<HistoryEntry> out;
    for (;;) {
        auto row = s->step();
        if (!row) return pass(row);
        if (!*row) return out;
        HistoryEntry h;
        h.seq = s->integer(0);
        h.event = s->text(1);
        auto from = kStates.value(s->text(2));
        auto to = kStates.value(s->text(3));
        if (!from || !to)
            return core::fail(fmt::format("{}: event \"{}\": history row {}: unknown state \"{}\"",
                                          db_.path(), h.event, h.seq,
                                          from ? s->text(3) : s->text(2)));
        h.from = *from;
        h.to = *to;
        h.at = time_at(s->integer(4));
        h.reason = s->text(5);
        out.push_back(std::move(h));
    }
}

}  // namespace onair::schedule
