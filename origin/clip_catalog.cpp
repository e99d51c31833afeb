#include "origin/clip_catalog.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <variant>
#include <vector>

namespace onair::origin {
namespace {

constexpr std::string_view kColumns =
    "id, channel, title, description, event, start_ms, end_ms, accuracy, rendition, status, "
    "message, created_ms, finished_ms, duration_ms, master, mp4";

constexpr std::string_view kSchema = R"(
CREATE TABLE clips (
  id          TEXT PRIMARY KEY,
  channel     TEXT NOT NULL,
  title       TEXT NOT NULL,
  description TEXT,
  event       TEXT,
  start_ms    INTEGER NOT NULL,
  end_ms      INTEGER NOT NULL,
  accuracy    TEXT NOT NULL CHECK (accuracy IN ('segment', 'frame')),
  rendition   TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('in_progress', 'succeeded', 'failed')),
  message     TEXT NOT NULL DEFAULT '',
  created_ms  INTEGER NOT NULL,
  finished_ms INTEGER,
  duration_ms INTEGER,
  master      TEXT NOT NULL DEFAULT '',
  mp4         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX clips_by_start ON clips (start_ms, id);
CREATE INDEX clips_by_event ON clips (event, start_ms, id);
CREATE INDEX clips_by_channel ON clips (channel, start_ms, id);
CREATE INDEX clips_unfinished ON clips (status) WHERE status = 'in_progress';
PRAGMA user_version = 1;
)";

template <class T>
std::unexpected<core::Error> pass(const core::Result<T>& failed) {
    return std::unexpected(failed.error());
}

std::optional<int64_t> optional_integer(const SqliteStatement& s, int column) {
    if (s.is_null(column)) return std::nullopt;
    return s.integer(column);
}

SqliteStatement& bind_optional(SqliteStatement& s, int index, const std::optional<int64_t>& v) {
    return v ? s.bind(index, *v) : s.bind(index, std::nullopt);
}

ClipRecord read_record(const SqliteStatement& s) {
    ClipRecord r;
    r.id = s.text(0);
    r.channel = s.text(1);
    r.title = s.text(2);
    r.description = s.optional_text(3);
    r.event = s.optional_text(4);
    r.start_ms = s.integer(5);
    r.end_ms = s.integer(6);
    r.accuracy = parse_clip_accuracy(s.text(7)).value_or(ClipAccuracy::segment);
    r.rendition = s.text(8);
    r.status = parse_clip_status(s.text(9)).value_or(ClipStatus::failed);
    r.message = s.text(10);
    r.created_ms = s.integer(11);
    r.finished_ms = optional_integer(s, 12);
    r.duration_ms = optional_integer(s, 13);
    r.master = s.text(14);
    r.mp4 = s.text(15);
    return r;
}

// Every row the statement gives.
core::Result<std::vector<ClipRecord>> read_all(SqliteStatement& s) {
    std::vector<ClipRecord> out;
    for (;;) {
        auto row = s.step();
        if (!row) return pass(row);
        if (!*row) return out;
        out.push_back(read_record(s));
    }
}

}  // namespace

const char* to_string(ClipStatus status) {
    switch (status) {
        case ClipStatus::in_progress:
            return "in_progress";
        case ClipStatus::succeeded:
            return "succeeded";
        case ClipStatus::failed:
            break;
    }
    return "failed";
}

const char* to_string(ClipAccuracy accuracy) {
    return accuracy == ClipAccuracy::frame ? "frame" : "segment";
}

std::optional<ClipStatus> parse_clip_status(std::string_view text) {
    for (auto s : {ClipStatus::in_progress, ClipStatus::succeeded, ClipStatus::failed})
        if (text == to_string(s)) return s;
    return std::nullopt;
}

std::optional<ClipAccuracy> parse_clip_accuracy(std::string_view text) {
    for (auto a : {ClipAccuracy::segment, ClipAccuracy::frame})
        if (text == to_string(a)) return a;
    return std::nullopt;
}

// Hex of "START:ID": opaque to clients, trivially checked when it comes back.
std::string ClipCursor::encode() const {
    std::string plain = fmt::format("{}:{}", start_ms, id);
    std::string out;
    out.reserve(plain.size() * 2);
    for (unsigned char c : plain) out += fmt::format("{:02x}", c);
    return out;
}

std::optional<ClipCursor> ClipCursor::decode(std::string_view text) {
    if (text.empty() || text.size() % 2 != 0 || text.size() > 256) return std::nullopt;
    std::string plain;
    for (size_t i = 0; i < text.size(); i += 2) {
        unsigned value = 0;
        auto [end, ec] = std::from_chars(text.data() + i, text.data() + i + 2, value, 16);
        if (ec != std::errc() || end != text.data() + i + 2) return std::nullopt;
        plain += char(value);
    }
    auto colon = plain.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == plain.size()) return std::nullopt;
    ClipCursor cursor;
    auto [end, ec] = std::from_chars(plain.data(), plain.data() + colon, cursor.start_ms);
    if (ec != std::errc() || end != plain.data() + colon) return std::nullopt;
    cursor.id = plain.substr(colon + 1);
    return cursor;
}

core::Result<std::unique_ptr<SqliteClipCatalog>> SqliteClipCatalog::open(
    const std::filesystem::path& file) {
    auto db = SqliteDb::open(file.string());
    if (!db) return pass(db);
    auto version_query = db->prepare("PRAGMA user_version");
    if (!version_query) return pass(version_query);
    auto row = version_query->step();
    if (!row) return pass(row);
    const int64_t version = *row ? version_query->integer(0) : 0;
    version_query->reset();
    if (version > kSchemaVersion)
        return core::fail(fmt::format("{}: schema version {} is newer than this onair's ({})",
                                      file.string(), version, kSchemaVersion));
    if (version == 0) {
        auto tx = SqliteTransaction::begin(*db);
        if (!tx) return pass(tx);
        if (auto ok = db->exec(kSchema); !ok) return pass(ok);
        if (auto ok = tx->commit(); !ok) return pass(ok);
    }
    return std::make_unique<SqliteClipCatalog>(std::move(*db));
}

core::Result<bool> SqliteClipCatalog::insert(const ClipRecord& r) {
    std::lock_guard lock(mutex_);
    auto s = db_.prepare(fmt::format(
        "INSERT INTO clips ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
        "?14, ?15, ?16) ON CONFLICT (id) DO NOTHING",
        kColumns));
    if (!s) return pass(s);
    s->bind(1, r.id).bind(2, r.channel).bind(3, r.title);
    s->bind_optional(4, r.description).bind_optional(5, r.event);
    s->bind(6, r.start_ms).bind(7, r.end_ms).bind(8, to_string(r.accuracy)).bind(9, r.rendition);
    s->bind(10, to_string(r.status)).bind(11, r.message).bind(12, r.created_ms);
    bind_optional(*s, 13, r.finished_ms);
    bind_optional(*s, 14, r.duration_ms);
    s->bind(15, r.master).bind(16, r.mp4);
    if (auto ok = s->run(); !ok) return pass(ok);
    return db_.changes() == 1;
}

core::Result<std::optional<ClipRecord>> SqliteClipCatalog::get(std::string_view id) const {
    std::lock_guard lock(mutex_);
    auto s = db_.prepare(fmt::format("SELECT {} FROM clips WHERE id = ?1", kColumns));
    if (!s) return pass(s);
    s->bind(1, id);
    auto row = s->step();
    if (!row) return pass(row);
    if (!*row) return std::optional<ClipRecord>();
    return std::optional<ClipRecord>(read_record(*s));
}

core::Result<bool> SqliteClipCatalog::update(const ClipRecord& r) {
    std::lock_guard lock(mutex_);
    auto s = db_.prepare(
        "UPDATE clips SET status = ?2, message = ?3, finished_ms = ?4, duration_ms = ?5, "
        "master = ?6, mp4 = ?7 WHERE id = ?1");
    if (!s) return pass(s);
    s->bind(1, r.id).bind(2, to_string(r.status)).bind(3, r.message);
    bind_optional(*s, 4, r.finished_ms);
    bind_optional(*s, 5, r.duration_ms);
    s->bind(6, r.master).bind(7, r.mp4);
    if (auto ok = s->run(); !ok) return pass(ok);
    return db_.changes() == 1;
}

core::Result<ClipPage> SqliteClipCatalog::list(const ClipQuery& q) const {
    // Only the filters given go into the WHERE clause, so that SQLite can
    // use the index that leads with them (by event, by channel, by start).
    std::vector<std::string> terms;
    std::vector<std::variant<int64_t, std::string>> values;
    auto add = [&](std::string_view term, auto... bound) {
        terms.emplace_back(term);
        (values.emplace_back(bound), ...);
    };
    if (q.channel) add("channel = ?", *q.channel);
    if (q.event) add("event = ?", *q.event);
    if (q.status) add("status = ?", std::string(to_string(*q.status)));
    if (q.since_ms) add("start_ms >= ?", *q.since_ms);
    if (q.until_ms) add("start_ms < ?", *q.until_ms);
    if (q.after) add("(start_ms, id) > (?, ?)", q.after->start_ms, q.after->id);
    const int limit = std::clamp(q.limit, 1, ClipQuery::kMaxLimit);
    values.emplace_back(int64_t(limit) + 1);  // one more tells whether a next page exists
    const std::string sql =
        fmt::format("SELECT {} FROM clips{}{} ORDER BY start_ms, id LIMIT ?", kColumns,
                    terms.empty() ? "" : " WHERE ", fmt::join(terms, " AND "));
    std::lock_guard lock(mutex_);
    auto s = db_.prepare(sql);
    if (!s) return pass(s);
    for (size_t i = 0; i < values.size(); ++i)
        std::visit([&](const auto& v) { s->bind(int(i) + 1, v); }, values[i]);
    auto rows = read_all(*s);
    if (!rows) return pass(rows);
    ClipPage page;
    page.clips = std::move(*rows);
    if (page.clips.size() > size_t(limit)) {
        page.clips.resize(size_t(limit));
        page.next = ClipCursor{page.clips.back().start_ms, page.clips.back().id};
    }
    return page;
}

core::Result<bool> SqliteClipCatalog::remove(std::string_view id) {
    std::lock_guard lock(mutex_);
    auto s = db_.prepare("DELETE FROM clips WHERE id = ?1");
    if (!s) return pass(s);
    s->bind(1, id);
    if (auto ok = s->run(); !ok) return pass(ok);
    return db_.changes() == 1;
}

core::Result<std::vector<ClipRecord>> SqliteClipCatalog::unfinished() const {
    std::lock_guard lock(mutex_);
    auto s = db_.prepare(fmt::format(
        "SELECT {} FROM clips WHERE status = 'in_progress' ORDER BY created_ms, id", kColumns));
    if (!s) return pass(s);
    return read_all(*s);
}

}  // namespace onair::origin
