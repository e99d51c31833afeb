#pragma once
// The clip catalog: one record per Live-to-VOD clip (harvest job), behind a
// small interface so the single-machine SQLite file can become PostgreSQL
// later without the harvest jobs or the routes noticing.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "origin/sqlite.hpp"

namespace onair::origin {

enum class ClipStatus { in_progress, succeeded, failed };
enum class ClipAccuracy { segment, frame };

const char* to_string(ClipStatus status);      // "in_progress", "succeeded", "failed"
const char* to_string(ClipAccuracy accuracy);  // "segment", "frame"
std::optional<ClipStatus> parse_clip_status(std::string_view text);
std::optional<ClipAccuracy> parse_clip_accuracy(std::string_view text);

// One clip. Times are UTC milliseconds since the epoch; asset paths are
// relative to the clip store ("ID/master.m3u8"), empty until it succeeded.
struct ClipRecord {
    std::string id;  // [A-Za-z0-9_-]{1,64}
    std::string channel;
    std::string title;
    std::optional<std::string> description;
    std::optional<std::string> event;
    int64_t start_ms = 0;  // as asked
    int64_t end_ms = 0;
    ClipAccuracy accuracy = ClipAccuracy::segment;
    std::string rendition;  // of the MP4
    ClipStatus status = ClipStatus::in_progress;
    std::string message;  // why it failed; empty otherwise
    int64_t created_ms = 0;
    std::optional<int64_t> finished_ms;
    std::optional<int64_t> duration_ms;  // of the asset made
    std::string master;                  // "ID/master.m3u8"
    std::string mp4;                     // "ID/clip.mp4"

    friend bool operator==(const ClipRecord&, const ClipRecord&) = default;
};

// Where a listing page ended: clips are ordered by (start_ms, id), so the
// next page is everything after this pair (keyset paging: stable while
// clips are added or removed).
struct ClipCursor {
    int64_t start_ms = 0;
    std::string id;
    std::string encode() const;  // opaque text for URLs
    static std::optional<ClipCursor> decode(std::string_view text);
    friend bool operator==(const ClipCursor&, const ClipCursor&) = default;
};

struct ClipQuery {
    static constexpr int kDefaultLimit = 50;
    static constexpr int kMaxLimit = 500;
    std::optional<std::string> channel;
    std::optional<std::string> event;
    std::optional<ClipStatus> status;
    std::optional<int64_t> since_ms;  // clips starting at or after
    std::optional<int64_t> until_ms;  // clips starting before
    int limit = kDefaultLimit;        // 1..kMaxLimit
    std::optional<ClipCursor> after;
};

struct ClipPage {
    std::vector<ClipRecord> clips;
    std::optional<ClipCursor> next;  // set when more clips follow
};

// In: records from the harvest jobs (pool threads) and the routes (HTTP
// threads). Out: records, listings. Implementations are thread-safe and own
// their storage.
class ClipCatalog {
  public:
    virtual ~ClipCatalog() = default;
    // False (and nothing written) when the id is taken.
    [[nodiscard]] virtual core::Result<bool> insert(const ClipRecord& record) = 0;
    [[nodiscard]] virtual core::Result<std::optional<ClipRecord>> get(
        std::string_view id) const = 0;
    // Writes the outcome of `record.id`: status, message, finished, duration
    // and asset paths. False when there is no such record.
    [[nodiscard]] virtual core::Result<bool> update(const ClipRecord& record) = 0;
    // Ordered by start time, then id; at most query.limit.
    [[nodiscard]] virtual core::Result<ClipPage> list(const ClipQuery& query) const = 0;
    // False when there was no such record.
    [[nodiscard]] virtual core::Result<bool> remove(std::string_view id) = 0;
    // Every record still in_progress (jobs a stop or crash interrupted), oldest first.
    [[nodiscard]] virtual core::Result<std::vector<ClipRecord>> unfinished() const = 0;
};

// The catalog in one SQLite file (DATA/catalog.sqlite), WAL mode, schema
// versioned with PRAGMA user_version (a file from a newer onair is refused).
// One connection behind a mutex, held for one statement or transaction.
class SqliteClipCatalog final : public ClipCatalog {
  public:
    static constexpr int kSchemaVersion = 1;
    // Opens (creating, with its schema) the catalog file.
    [[nodiscard]] static core::Result<std::unique_ptr<SqliteClipCatalog>> open(
        const std::filesystem::path& file);

    core::Result<bool> insert(const ClipRecord& record) override;
    core::Result<std::optional<ClipRecord>> get(std::string_view id) const override;
    core::Result<bool> update(const ClipRecord& record) override;
    core::Result<ClipPage> list(const ClipQuery& query) const override;
    core::Result<bool> remove(std::string_view id) override;
    core::Result<std::vector<ClipRecord>> unfinished() const override;

    explicit SqliteClipCatalog(SqliteDb db) : db_(std::move(db)) {}

  private:
    mutable std::mutex mutex_;
    mutable SqliteDb db_;
};

}  // namespace onair::origin
