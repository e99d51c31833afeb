#include "origin/dvr.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <stop_token>
#include <thread>
#include <unordered_set>

#include "core/bounded_queue.hpp"
#include "core/durable.hpp"
#include "core/log.hpp"
#include "core/media_time.hpp"
#include "origin/playlist.hpp"
#include "origin/sqlite.hpp"

namespace onair::origin {
namespace {

constexpr std::string_view kSchema = R"(
CREATE TABLE IF NOT EXISTS segments (
  rendition TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  start INTEGER NOT NULL,
  duration INTEGER NOT NULL,
  frames INTEGER NOT NULL,
  slate INTEGER NOT NULL,
  discontinuity INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  rate_num INTEGER NOT NULL,
  rate_den INTEGER NOT NULL,
  codecs TEXT NOT NULL,
  init TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS segments_by_sequence ON segments (rendition, sequence);
CREATE INDEX IF NOT EXISTS segments_by_start ON segments (rendition, start);
CREATE INDEX IF NOT EXISTS segments_by_age ON segments (start);
)";

// The columns row_to_segment() reads, in its order.
#define DVR_COLUMNS                                                                      \
    "rendition, sequence, start, duration, frames, slate, discontinuity, bytes, width, " \
    "height, rate_num, rate_den, codecs, init"

// Media missing between two consecutive segments beyond this is a gap
// (within a run they join exactly; the players' PDT checks allow ~50 ms).
constexpr int64_t kJoinTolerance = core::kMediaClock / 25;
constexpr int kMaxReaders = 4;                              // connections open for readers at most
constexpr int kMaxWriteBatch = 32;                          // segments indexed per transaction
constexpr auto kIdleWake = std::chrono::milliseconds(500);  // expiry runs at least this often

int64_t system_now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

core::SharedBytes read_whole_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return nullptr;
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return nullptr;
    auto bytes = std::make_shared<core::Bytes>(size);
    in.read(reinterpret_cast<char*>(bytes->data()), std::streamsize(size));
    if (!in || in.gcount() != std::streamsize(size)) return nullptr;
    return bytes;
}

// A segment's container is in its row: an init id (fmp4) or none (ts).
core::Container container_of(std::string_view init_id) {
    return init_id.empty() ? core::Container::ts : core::Container::fmp4;
}

std::filesystem::path segment_file(const std::filesystem::path& folder, std::string_view rendition,
                                   int64_t sequence, std::string_view init_id) {
    return folder / std::string(rendition) / segment_uri(sequence, container_of(init_id));
}

std::filesystem::path init_path(const std::filesystem::path& folder, std::string_view rendition,
                                std::string_view init_id) {
    return folder / std::string(rendition) / core::init_file_name(init_id);
}

// Indexes written before fmp4 lack the init column: added, every row ts.
core::Result<> migrate(SqliteDb& db) {
    auto has = db.prepare("SELECT 1 FROM pragma_table_info('segments') WHERE name = 'init'");
    if (!has) return std::unexpected(has.error());
    auto row = has->step();
    if (!row) return std::unexpected(row.error());
    if (*row) return {};
    log::info("dvr", "index from an older onair: adding the init column");
    return db.exec("ALTER TABLE segments ADD COLUMN init TEXT NOT NULL DEFAULT ''");
}

// A rendition name that is one plain path element (config allows
// [A-Za-z0-9_-]; the DVR checks again because it builds paths from it).
bool plain_name(std::string_view name) {
    return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

// Writes `bytes` to `tmp` and renames it to `file`, so a reader (or a
// restart) never sees half a segment under its real name.
core::Result<> write_then_rename(const std::filesystem::path& tmp,
                                 const std::filesystem::path& file, const core::Bytes& bytes) {
    if (auto ok = core::write_file(tmp, bytes); !ok) return ok;
    // On the disk before its index row is committed: after a power loss a row
    // never names a file that lost its data.
    if (auto ok = core::sync_path(tmp); !ok) {
        std::error_code ignored;
        std::filesystem::remove(tmp, ignored);
        return ok;
    }
    std::error_code ec;
    std::filesystem::rename(tmp, file, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        return core::fail(fmt::format("cannot rename to {}: {}", file.string(), ec.message()));
    }
    return {};
}

// One read connection and its prepared queries; used by one thread at a time.
struct Reader {
    SqliteDb db;
    SqliteStatement range, find, newest, oldest_of, newest_of, oldest_all, newest_all;

    static core::Result<std::unique_ptr<Reader>> open(const std::string& path) {
        auto db = SqliteDb::open(path);
        if (!db) return std::unexpected(db.error());
        if (auto ok = db->exec("PRAGMA query_only=1"); !ok) return std::unexpected(ok.error());
        auto range = db->prepare("SELECT " DVR_COLUMNS
                                 " FROM segments WHERE rendition = ?1 AND start < ?3 AND start > "
                                 "?2 - ?4 AND start + duration > ?2 ORDER BY start");
        auto find = db->prepare("SELECT " DVR_COLUMNS
                                " FROM segments WHERE rendition = ?1 AND sequence = ?2");
        auto newest = db->prepare("SELECT " DVR_COLUMNS
                                  " FROM segments WHERE rendition = ?1 ORDER BY sequence DESC "
                                  "LIMIT ?2");
        auto oldest_of =
            db->prepare("SELECT start FROM segments WHERE rendition = ?1 ORDER BY start LIMIT 1");
        auto newest_of = db->prepare(
            "SELECT start + duration FROM segments WHERE rendition = ?1 ORDER BY start DESC "
            "LIMIT 1");
        auto oldest_all = db->prepare("SELECT start FROM segments ORDER BY start LIMIT 1");
        auto newest_all =
            db->prepare("SELECT start + duration FROM segments ORDER BY start DESC LIMIT 1");
        for (auto* s : {&range, &find, &newest, &oldest_of, &newest_of, &oldest_all, &newest_all})
            if (!*s) return std::unexpected(s->error());
        return std::make_unique<Reader>(std::move(*db), std::move(*range), std::move(*find),
                                        std::move(*newest), std::move(*oldest_of),
                                        std::move(*newest_of), std::move(*oldest_all),
                                        std::move(*newest_all));
    }
};

DvrSegment row_to_segment(const SqliteStatement& row, const std::filesystem::path& folder) {
    DvrSegment s;
    s.rendition = row.text(0);
    s.sequence = row.integer(1);
    s.start = row.integer(2);
    s.duration = row.integer(3);
    s.frames = int(row.integer(4));
    s.slate = row.integer(5) != 0;
    s.discontinuity = row.integer(6) != 0;
    s.bytes = row.integer(7);
    s.width = int(row.integer(8));
    s.height = int(row.integer(9));
    s.frame_rate = {int(row.integer(10)), int(row.integer(11))};
    s.codecs = row.text(12);
    s.init_id = row.text(13);
    s.file = segment_file(folder, s.rendition, s.sequence, s.init_id);
    if (!s.init_id.empty()) s.init_file = init_path(folder, s.rendition, s.init_id);
    return s;
}

// Steps `statement` to its end, turning every row into a DvrSegment; resets it.
std::vector<DvrSegment> all_rows(SqliteStatement& statement, const std::filesystem::path& folder) {
    std::vector<DvrSegment> out;
    for (;;) {
        auto row = statement.step();
        if (!row) {
            log::error("dvr", "index query: {}", row.error().message);
            break;
        }
        if (!*row) break;
        out.push_back(row_to_segment(statement, folder));
    }
    statement.reset();
    return out;
}

std::optional<int64_t> one_integer(SqliteStatement& statement) {
    std::optional<int64_t> out;
    auto row = statement.step();
    if (!row)
        log::error("dvr", "index query: {}", row.error().message);
    else if (*row && !statement.is_null(0))
        out = statement.integer(0);
    statement.reset();
    return out;
}

// The implementation behind Dvr::open. One writer thread owns the write
// connection, the files' creation and deletion; readers borrow one of a few
// read connections (WAL: they never wait for the writer). The queue between
// record() and the writer (drop_oldest, never a flush marker) is the only
// lock record() takes.
class FileDvr final : public Dvr {
  public:
    static core::Result<std::unique_ptr<Dvr>> create(DvrOptions options);
    ~FileDvr() override;
    FileDvr(const FileDvr&) = delete;
    FileDvr& operator=(const FileDvr&) = delete;

    void record(std::shared_ptr<const core::Segment> segment) override;
    void flush() override;
    std::vector<DvrSegment> range(std::string_view rendition, int64_t from,
                                  int64_t to) const override;
    std::optional<DvrSegment> find(std::string_view rendition, int64_t sequence) const override;
    std::vector<DvrSegment> newest(std::string_view rendition, size_t count) const override;
    std::optional<std::pair<int64_t, int64_t>> span(std::string_view rendition) const override;
    core::SharedBytes read(const DvrSegment& segment) const override;
    std::optional<std::filesystem::path> init_file(std::string_view rendition,
                                                   std::string_view id) const override;
    int64_t bytes_on_disk() const override { return bytes_.load(); }
    int64_t segments_on_disk() const override { return segments_.load(); }
    int64_t expired() const override { return expired_.load(); }
    std::filesystem::path folder() const override { return options_.folder; }
    int64_t dropped() const override { return int64_t(queue_.dropped()); }
    DvrHealth health() const override;
    std::optional<std::pair<int64_t, int64_t>> extent() const override;

  private:
    struct Pending {
        uint64_t ticket = 0;                           // a flush marker's
        std::shared_ptr<const core::Segment> segment;  // null: a flush marker
    };
    // The writer's connection and statements; the writer thread's alone
    // once it runs (create() uses them before).
    struct Writer {
        SqliteDb db;
        SqliteStatement insert, window_candidates, oldest_candidates, remove;
    };
    struct Victim {
        int64_t rowid = 0;
        std::string rendition;
        int64_t sequence = 0;
        int64_t bytes = 0;
        std::string init;
    };

  public:
    // Use create(); public only so make_unique can build it.
    FileDvr(DvrOptions options, Writer writer);

  private:
    // Borrowed read connection, returned to the pool when it dies.
    class Lease {
      public:
        Lease(const FileDvr& dvr, std::unique_ptr<Reader> reader)
            : dvr_(dvr), reader_(std::move(reader)) {}
        ~Lease();
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Reader* operator->() const { return reader_.get(); }
        explicit operator bool() const { return reader_ != nullptr; }

      private:
        const FileDvr& dvr_;
        std::unique_ptr<Reader> reader_;
    };
    Lease borrow() const;

    core::Result<> load();  // counters and each rendition's newest; sweeps strays
    void run(std::stop_token stop);
    void write(std::vector<Pending>& batch);
    // Deletes what is out of the window or over the budget, a batch at a
    // time; returns early when segments wait to be written unless `all`.
    void expire(bool all);
    bool expire_batch(SqliteStatement& candidates, bool by_budget);
    bool queue_waiting() const;
    int64_t now_ms() const { return options_.now_ms ? options_.now_ms() : system_now_ms(); }
    bool known(std::string_view rendition) const;
    // A segment (or `count` of them) not recorded because of `why`: logged
    // once when recording stops, then counted.
    void not_recorded(const core::Segment& s, const std::string& why, int64_t count = 1);
    void recorded();  // after a commit: logs that recording resumed

    const DvrOptions options_;
    const std::string index_path_;
    Writer writer_;
    struct Newest {
        int64_t sequence = 0;
        int64_t end = 0;  // media time
    };
    std::map<std::string, Newest, std::less<>> newest_;  // the writer's, per rendition

    core::BoundedQueue<Pending> queue_;  // record() and flush() to the writer
    std::mutex flush_mutex_;             // the tickets and stopping_
    std::condition_variable done_cv_;    // flush() waits for its ticket
    uint64_t next_ticket_ = 0;
    uint64_t done_ticket_ = 0;  // every flush marker up to this one is done
    bool stopping_ = false;

    mutable std::mutex readers_mutex_;
    mutable std::condition_variable readers_cv_;
    mutable std::vector<std::unique_ptr<Reader>> idle_readers_;
    mutable int open_readers_ = 0;

    std::atomic<int64_t> bytes_{0}, segments_{0}, expired_{0};
    std::atomic<int64_t> longest_{0};  // longest duration indexed: bounds range()'s scan
    mutable std::mutex health_mutex_;
    DvrHealth health_;
    int64_t failed_in_run_ = 0;  // the writer's: segments lost since recording stopped

    std::jthread thread_;  // last: stops before the members it uses go
};

FileDvr::FileDvr(DvrOptions options, Writer writer)
    : options_(std::move(options)),
      index_path_((options_.folder / "index.sqlite").string()),
      writer_(std::move(writer)),
      queue_("dvr", options_.queue_capacity,
             {.overflow = core::Overflow::drop_oldest,
              .registry = options_.queues,
              // A dropped segment leaves a hole, which the next one marks as
              // a discontinuity; a flush marker is never dropped.
              .keep = [](const Pending& p) { return p.segment == nullptr; },
              .on_drop =
                  [](const Pending& lost, uint64_t n) {
                      // The first and then every 100th: a stuck disk must not flood the log.
                      if (n == 1 || n % 100 == 0)
                          log::warn("dvr",
                                    "writer behind: dropped segment {}/{} ({} dropped so far)",
                                    lost.segment->rendition, lost.segment->sequence, n);
                  }}) {}

core::Result<std::unique_ptr<Dvr>> FileDvr::create(DvrOptions options) {
    std::error_code ec;
    std::filesystem::create_directories(options.folder, ec);
    if (ec)
        return core::fail(fmt::format("cannot create the DVR folder {}: {}",
                                      options.folder.string(), ec.message()));
    for (const auto& r : options.renditions) {
        if (!plain_name(r))
            return core::fail(fmt::format("rendition name '{}' is not a plain name", r));
        std::filesystem::create_directories(options.folder / r, ec);
        if (ec)
            return core::fail(
                fmt::format("cannot create {}: {}", (options.folder / r).string(), ec.message()));
    }
    const std::string path = (options.folder / "index.sqlite").string();
    auto db = SqliteDb::open(path);
    if (!db) return std::unexpected(db.error());
    if (auto ok = db->exec(kSchema); !ok) return std::unexpected(ok.error());
    if (auto ok = migrate(*db); !ok) return std::unexpected(ok.error());
    auto insert =
        db->prepare("INSERT INTO segments (" DVR_COLUMNS
                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
    // Segments whose end is at or before ?1; `start < ?1` lets it use the index.
    auto window = db->prepare(
        "SELECT rowid, rendition, sequence, bytes, init FROM segments WHERE start < ?1 AND start "
        "+ duration <= ?1 ORDER BY start LIMIT ?2");
    auto oldest = db->prepare(
        "SELECT rowid, rendition, sequence, bytes, init FROM segments ORDER BY start LIMIT ?1");
    auto remove = db->prepare("DELETE FROM segments WHERE rowid = ?1");
    for (auto* s : {&insert, &window, &oldest, &remove})
        if (!*s) return std::unexpected(s->error());
    auto dvr = std::make_unique<FileDvr>(
        std::move(options), Writer{std::move(*db), std::move(*insert), std::move(*window),
                                   std::move(*oldest), std::move(*remove)});
    if (auto ok = dvr->load(); !ok) return std::unexpected(ok.error());
    dvr->thread_ = std::jthread([raw = dvr.get()](std::stop_token stop) { raw->run(stop); });
    return std::unique_ptr<Dvr>(std::move(dvr));
}

core::Result<> FileDvr::load() {
    auto& db = writer_.db;
    auto totals = db.prepare(
        "SELECT COUNT(*), COALESCE(SUM(bytes), 0), COALESCE(MAX(duration), 0) FROM segments");
    if (!totals) return std::unexpected(totals.error());
    auto count = [&]() -> core::Result<> {
        if (auto row = totals->step(); !row) return std::unexpected(row.error());
        segments_ = totals->integer(0);
        bytes_ = totals->integer(1);
        longest_ = totals->integer(2);
        totals->reset();
        return {};
    };

    // SQLite gives the bare column of the row that has the MAX.
    auto newest = db.prepare(
        "SELECT rendition, MAX(sequence), start + duration FROM segments GROUP BY rendition");
    if (!newest) return std::unexpected(newest.error());
    for (;;) {
        auto row = newest->step();
        if (!row) return std::unexpected(row.error());
        if (!*row) break;
        newest_[newest->text(0)] = {newest->integer(1), newest->integer(2)};
    }

    // Files of a run that stopped between writing and indexing are strays;
    // rows whose file is gone (removed by hand) would only answer 404.
    auto sequences =
        db.prepare("SELECT rowid, sequence, bytes, init FROM segments WHERE rendition = ?1");
    auto remove = db.prepare("DELETE FROM segments WHERE rowid = ?1");
    if (!sequences) return std::unexpected(sequences.error());
    if (!remove) return std::unexpected(remove.error());
    auto tx = SqliteTransaction::begin(db);
    if (!tx) return std::unexpected(tx.error());
    std::set<int64_t> kept_sequences;  // of any rendition: their thumbnails stay
    for (const auto& r : options_.renditions) {
        std::set<std::string, std::less<>> indexed;  // file names
        std::vector<int64_t> missing;
        sequences->bind(1, std::string_view(r));
        for (;;) {
            auto row = sequences->step();
            if (!row) return std::unexpected(row.error());
            if (!*row) break;
            const int64_t seq = sequences->integer(1);
            const std::string init = sequences->text(3);
            const auto file = segment_file(options_.folder, r, seq, init);
            // A file cut short (a disk that lost what it had not flushed) is
            // as good as gone: it goes, with its row; so does one whose init
            // section is gone.
            std::error_code ec, init_ec;
            const auto size = std::filesystem::file_size(file, ec);
            const bool init_ok = init.empty() || std::filesystem::is_regular_file(
                                                     init_path(options_.folder, r, init), init_ec);
            if (!ec && int64_t(size) == sequences->integer(2) && init_ok) {
                kept_sequences.insert(seq);
                indexed.insert(file.filename().string());
                if (!init.empty()) indexed.insert(core::init_file_name(init));
            } else {
                missing.push_back(sequences->integer(0));
            }
        }
        sequences->reset();
        for (int64_t rowid : missing)
            if (auto ok = remove->bind(1, rowid).run(); !ok) return std::unexpected(ok.error());
        std::error_code ec;
        int strays = 0;
        for (const auto& entry : std::filesystem::directory_iterator(options_.folder / r, ec)) {
            const auto name = entry.path().filename().string();
            // Segments and init sections no row needs (init sections stay
            // when their segments expire: the next start removes them).
            const bool ours =
                parse_segment_name(name).has_value() || !core::parse_init_file_name(name).empty();
            if (ours && indexed.contains(name)) continue;
            if (ours || name.ends_with(".tmp")) {
                std::error_code ignored;
                std::filesystem::remove(entry.path(), ignored);
                ++strays;
            }
        }
        if (!missing.empty() || strays > 0)
            log::warn("dvr",
                      "{}: {} index rows without their whole file dropped, {} stray files removed",
                      r, missing.size(), strays);
    }
    // Thumbnails of segments no longer held (expired while the thumbnail was
    // still being made, dropped before recording, or cut off by a crash) and
    // half-written ones.
    std::error_code ec;
    int stray_thumbnails = 0;
    const auto thumbnails = thumbnail_file(options_.folder, 0).parent_path();
    for (const auto& entry : std::filesystem::directory_iterator(thumbnails, ec)) {
        const auto stem = entry.path().stem().string();
        int64_t seq = 0;
        auto [end, parsed] = std::from_chars(stem.data(), stem.data() + stem.size(), seq);
        const bool kept = entry.path().extension() == ".jpg" && parsed == std::errc() &&
                          end == stem.data() + stem.size() && kept_sequences.contains(seq);
        if (kept) continue;
        std::error_code ignored;
        std::filesystem::remove(entry.path(), ignored);
        ++stray_thumbnails;
    }
    if (stray_thumbnails > 0)
        log::info("dvr", "{} thumbnails without their segment removed", stray_thumbnails);
    if (auto ok = tx->commit(); !ok) return ok;
    if (auto ok = count(); !ok) return ok;
    log::info("dvr", "{}: {} segments, {} on disk", options_.folder.string(), segments_.load(),
              core::format_size(bytes_.load()));
    return {};
}

FileDvr::~FileDvr() {
    {
        std::lock_guard lock(flush_mutex_);
        stopping_ = true;
    }
    done_cv_.notify_all();
    queue_.close();
    if (thread_.joinable()) thread_.join();  // drains what was recorded first
}

bool FileDvr::known(std::string_view rendition) const {
    return std::find(options_.renditions.begin(), options_.renditions.end(), rendition) !=
           options_.renditions.end();
}

void FileDvr::record(std::shared_ptr<const core::Segment> segment) {
    if (!segment || !segment->bytes) return;
    queue_.push({0, std::move(segment)});  // refused once closed: stopping
}

void FileDvr::flush() {
    std::unique_lock lock(flush_mutex_);
    if (stopping_) return;
    const uint64_t ticket = ++next_ticket_;
    if (!queue_.force_push({ticket, nullptr})) return;
    done_cv_.wait(lock, [&] { return done_ticket_ >= ticket || stopping_; });
}

bool FileDvr::queue_waiting() const {
    return !queue_.empty();
}

void FileDvr::run(std::stop_token) {
    for (;;) {
        std::vector<Pending> batch;
        Pending first;
        if (queue_.pop_for(first, kIdleWake)) {
            batch.push_back(std::move(first));
            // A flush ends the batch: expire before going on.
            while (batch.back().segment && int(batch.size()) < kMaxWriteBatch) {
                auto next = queue_.try_pop();
                if (!next) break;
                batch.push_back(std::move(*next));
            }
        }
        // Closed and drained, checked under the queue's lock: a record() that
        // came after the pop above is still written before the writer ends.
        if (batch.empty() && queue_.closed_and_empty()) break;
        const bool stopping = queue_.closed();
        const bool marker = !batch.empty() && !batch.back().segment;
        write(batch);
        if (!stopping) expire(marker);
        if (marker) {
            {
                std::lock_guard lock(flush_mutex_);
                done_ticket_ = std::max(done_ticket_, batch.back().ticket);
            }
            done_cv_.notify_all();
        }
    }
    std::lock_guard lock(flush_mutex_);
    done_ticket_ = next_ticket_;
    done_cv_.notify_all();
}

void FileDvr::write(std::vector<Pending>& batch) {
    struct Written {
        const core::Segment* segment;
        bool discontinuity;
        std::filesystem::path file;
    };
    std::vector<Written> written;
    bool failed = false;  // a segment of this batch not written: still not recording
    const auto newest_before = newest_;
    for (const auto& p : batch) {
        if (!p.segment) continue;
        const core::Segment& s = *p.segment;
        if (!known(s.rendition)) {
            log::warn("dvr", "segment {}/{} not recorded: rendition not in the ladder", s.rendition,
                      s.sequence);
            continue;
        }
        auto newest = newest_.find(s.rendition);
        if (newest != newest_.end() && s.sequence <= newest->second.sequence) {
            log::debug("dvr", "segment {}/{} not after the newest recorded ({}): skipped",
                       s.rendition, s.sequence, newest->second.sequence);
            continue;
        }
        // A gap: numbers skipped, or media missing between the two (the
        // newest was cut short, as the last segment of a stopped run is).
        const bool gap = newest != newest_.end() && (s.sequence != newest->second.sequence + 1 ||
                                                     s.start > newest->second.end + kJoinTolerance);
        const std::string init_id = s.init ? s.init->id : std::string();
        auto file = segment_file(options_.folder, s.rendition, s.sequence, init_id);
        auto tmp = file;
        tmp += ".tmp";
        // The init section first, so no indexed segment lacks it.
        if (s.init) {
            auto init_file = init_path(options_.folder, s.rendition, init_id);
            std::error_code ec;
            if (!std::filesystem::is_regular_file(init_file, ec)) {
                auto init_tmp = init_file;
                init_tmp += ".tmp";
                if (auto ok = write_then_rename(init_tmp, init_file, s.init->bytes); !ok) {
                    not_recorded(s, ok.error().message);
                    failed = true;
                    continue;
                }
            }
        }
        if (auto ok = write_then_rename(tmp, file, *s.bytes); !ok) {
            not_recorded(s, ok.error().message);
            failed = true;
            continue;
        }
        newest_[s.rendition] = {s.sequence, s.start + s.duration};
        written.push_back({&s, gap, std::move(file)});
    }
    if (written.empty()) return;

    auto fail = [&](const core::Error& e) {
        not_recorded(*written.front().segment, "index: " + e.message, int64_t(written.size()));
        for (const auto& w : written) {
            std::error_code ignored;
            std::filesystem::remove(w.file, ignored);
        }
        newest_ = newest_before;  // the next one then marks the hole
    };
    // The renames too reach the disk before the rows that name them.
    std::set<std::filesystem::path> folders;
    for (const auto& w : written) folders.insert(w.file.parent_path());
    for (const auto& folder : folders)
        if (auto ok = core::sync_path(folder); !ok) log::warn("dvr", "{}", ok.error().message);
    auto tx = SqliteTransaction::begin(writer_.db);
    if (!tx) return fail(tx.error());
    int64_t bytes = 0, longest = longest_.load();
    for (const auto& w : written) {
        const core::Segment& s = *w.segment;
        auto& insert = writer_.insert;
        insert.bind(1, std::string_view(s.rendition))
            .bind(2, s.sequence)
            .bind(3, s.start)
            .bind(4, s.duration)
            .bind(5, int64_t(s.frames))
            .bind(6, int64_t(s.slate))
            .bind(7, int64_t(w.discontinuity))
            .bind(8, int64_t(s.bytes->size()))
            .bind(9, int64_t(s.width))
            .bind(10, int64_t(s.height))
            .bind(11, int64_t(s.frame_rate.num))
            .bind(12, int64_t(s.frame_rate.den))
            .bind(13, std::string_view(s.codecs))
            .bind(14, s.init ? std::string_view(s.init->id) : std::string_view(""));  // not NULL
        if (auto ok = insert.run(); !ok) {
            insert.reset();
            return fail(ok.error());
        }
        bytes += int64_t(s.bytes->size());
        longest = std::max(longest, s.duration);
        if (w.discontinuity)
            log::info("dvr", "{}: gap before segment {}; marked as a discontinuity", s.rendition,
                      s.sequence);
    }
    // Raised before the rows are visible, so range() never misses one.
    longest_ = longest;
    if (auto ok = tx->commit(); !ok) return fail(ok.error());
    bytes_ += bytes;
    segments_ += int64_t(written.size());
    if (!failed) recorded();
}

void FileDvr::not_recorded(const core::Segment& s, const std::string& why, int64_t count) {
    std::lock_guard lock(health_mutex_);
    if (health_.error.empty()) {
        log::error("dvr",
                   "recording stopped at segment {}/{}: {}; live playback goes on, the gap "
                   "will be marked",
                   s.rendition, s.sequence, why);
        health_.failing_since_ms = now_ms();
        failed_in_run_ = 0;
    } else {
        log::debug("dvr", "segment {}/{} not recorded: {}", s.rendition, s.sequence, why);
    }
    health_.error = why;
    health_.failed += count;
    failed_in_run_ += count;
}

void FileDvr::recorded() {
    std::lock_guard lock(health_mutex_);
    if (health_.error.empty()) return;
    log::info("dvr",
              "recording resumed after {} s: {} segments not recorded (the gap is a "
              "discontinuity)",
              (now_ms() - health_.failing_since_ms) / 1000, failed_in_run_);
    health_.error.clear();
}

DvrHealth FileDvr::health() const {
    std::lock_guard lock(health_mutex_);
    return health_;
}

void FileDvr::expire(bool all) {
    for (bool by_budget : {false, true}) {
        auto& candidates = by_budget ? writer_.oldest_candidates : writer_.window_candidates;
        for (;;) {
            if (by_budget && (options_.max_bytes <= 0 || bytes_.load() <= options_.max_bytes))
                break;
            if (!expire_batch(candidates, by_budget)) break;
            // New segments first: expiry can wait, the recording cannot.
            if (!all && queue_waiting()) return;
        }
    }
}

bool FileDvr::expire_batch(SqliteStatement& candidates, bool by_budget) {
    const int limit = std::max(1, options_.expiry_batch);
    if (by_budget) {
        candidates.bind(1, int64_t(limit));
    } else {
        const int64_t cutoff = core::utc_ms_to_media(now_ms() - options_.window_ms);
        candidates.bind(1, cutoff).bind(2, int64_t(limit));
    }
    std::vector<Victim> victims;
    int64_t over = bytes_.load() - options_.max_bytes;
    for (;;) {
        if (by_budget && over <= 0) break;
        auto row = candidates.step();
        if (!row) {
            log::error("dvr", "expiry query: {}", row.error().message);
            break;
        }
        if (!*row) break;
        Victim v{candidates.integer(0), candidates.text(1), candidates.integer(2),
                 candidates.integer(3), candidates.text(4)};
        over -= v.bytes;
        victims.push_back(std::move(v));
    }
    candidates.reset();
    if (victims.empty()) return false;

    // Rows first: a reader that finds no row never reaches for a deleted
    // file; a crash in between leaves stray files the next open removes.
    auto tx = SqliteTransaction::begin(writer_.db);
    if (!tx) {
        log::error("dvr", "expiry: {}", tx.error().message);
        return false;
    }
    for (const auto& v : victims) {
        if (auto ok = writer_.remove.bind(1, v.rowid).run(); !ok) {
            writer_.remove.reset();
            log::error("dvr", "expiry: {}", ok.error().message);
            return false;
        }
    }
    if (auto ok = tx->commit(); !ok) {
        log::error("dvr", "expiry: {}", ok.error().message);
        return false;
    }
    int64_t bytes = 0;
    for (const auto& v : victims) {
        // Only the DVR's name goes: a clip's hard link keeps the data.
        std::error_code ec;
        std::filesystem::remove(segment_file(options_.folder, v.rendition, v.sequence, v.init), ec);
        if (ec) log::warn("dvr", "cannot remove {}/{}: {}", v.rendition, v.sequence, ec.message());
        std::filesystem::remove(thumbnail_file(options_.folder, v.sequence), ec);  // if any
        bytes += v.bytes;
    }
    bytes_ -= bytes;
    segments_ -= int64_t(victims.size());
    expired_ += int64_t(victims.size());
    log::debug("dvr", "expired {} segments ({}) by {}", victims.size(), core::format_size(bytes),
               by_budget ? "the disk budget" : "the window");
    return true;
}

FileDvr::Lease::~Lease() {
    if (!reader_) return;
    {
        std::lock_guard lock(dvr_.readers_mutex_);
        dvr_.idle_readers_.push_back(std::move(reader_));
    }
    dvr_.readers_cv_.notify_one();
}

FileDvr::Lease FileDvr::borrow() const {
    {
        std::unique_lock lock(readers_mutex_);
        readers_cv_.wait(lock,
                         [&] { return !idle_readers_.empty() || open_readers_ < kMaxReaders; });
        if (!idle_readers_.empty()) {
            auto reader = std::move(idle_readers_.back());
            idle_readers_.pop_back();
            return Lease(*this, std::move(reader));
        }
        ++open_readers_;
    }
    // Opened outside the lock: other readers go on meanwhile.
    auto reader = Reader::open(index_path_);
    if (!reader) {
        log::error("dvr", "cannot open a reader on {}: {}", index_path_, reader.error().message);
        {
            std::lock_guard lock(readers_mutex_);
            --open_readers_;
        }
        readers_cv_.notify_one();
        return Lease(*this, nullptr);
    }
    return Lease(*this, std::move(*reader));
}

std::vector<DvrSegment> FileDvr::range(std::string_view rendition, int64_t from, int64_t to) const {
    if (to <= from) return {};
    auto reader = borrow();
    if (!reader) return {};
    auto& q = reader->range;
    q.bind(1, rendition).bind(2, from).bind(3, to).bind(4, std::max<int64_t>(longest_.load(), 1));
    return all_rows(q, options_.folder);
}

std::optional<DvrSegment> FileDvr::find(std::string_view rendition, int64_t sequence) const {
    auto reader = borrow();
    if (!reader) return std::nullopt;
    auto& q = reader->find;
    q.bind(1, rendition).bind(2, sequence);
    auto rows = all_rows(q, options_.folder);
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
}

std::vector<DvrSegment> FileDvr::newest(std::string_view rendition, size_t count) const {
    if (count == 0) return {};
    auto reader = borrow();
    if (!reader) return {};
    auto& q = reader->newest;
    q.bind(1, rendition).bind(2, int64_t(std::min<size_t>(count, INT64_MAX)));
    auto rows = all_rows(q, options_.folder);
    std::reverse(rows.begin(), rows.end());
    return rows;
}

std::optional<std::pair<int64_t, int64_t>> FileDvr::span(std::string_view rendition) const {
    auto reader = borrow();
    if (!reader) return std::nullopt;
    auto first = one_integer(reader->oldest_of.bind(1, rendition));
    auto last = one_integer(reader->newest_of.bind(1, rendition));
    if (!first || !last) return std::nullopt;
    return std::pair{*first, *last};
}

std::optional<std::pair<int64_t, int64_t>> FileDvr::extent() const {
    auto reader = borrow();
    if (!reader) return std::nullopt;
    auto first = one_integer(reader->oldest_all);
    auto last = one_integer(reader->newest_all);
    if (!first || !last) return std::nullopt;
    return std::pair{*first, *last};
}

core::SharedBytes FileDvr::read(const DvrSegment& segment) const {
    return read_whole_file(segment.file);
}

std::optional<std::filesystem::path> FileDvr::init_file(std::string_view rendition,
                                                        std::string_view id) const {
    if (!known(rendition) || core::parse_init_file_name(core::init_file_name(id)) != id)
        return std::nullopt;
    auto path = init_path(options_.folder, rendition, id);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
    return path;
}

}  // namespace

std::filesystem::path thumbnail_file(const std::filesystem::path& dvr_folder, int64_t sequence) {
    return dvr_folder / "thumbs" / fmt::format("{}.jpg", sequence);
}

core::SharedInit read_init_section(const DvrSegment& segment) {
    if (segment.init_file.empty()) return nullptr;
    auto bytes = read_whole_file(segment.init_file);
    if (!bytes) return nullptr;
    auto init = core::InitSection::of(*bytes);
    // A file that is not what its name says is as good as gone.
    return init->id == segment.init_id ? init : nullptr;
}

core::Result<std::unique_ptr<Dvr>> Dvr::open(DvrOptions options) {
    return FileDvr::create(std::move(options));
}

}  // namespace onair::origin
