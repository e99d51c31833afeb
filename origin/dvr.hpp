#pragma once
// The DVR: every segment the origin served (the copy the failover chose, so
// it has no holes where one pipeline did), on disk under the channel's data
// folder as DATA/dvr/RENDITION/SEQ.ts (or SEQ.m4s beside its init-ID.mp4), with an index (SQLite,
// DATA/dvr/index.sqlite) that survives a restart. Segments older than the window, or beyond the
// disk budget (oldest first), are deleted in the background. Clips hard-link the files they use, so
// expiry never breaks a clip.
//
// In: record() from the store's publishing (any thread; never blocks: a
// bounded queue to the DVR's writer thread). Out: what was recorded, by time
// or sequence, to the time-shift playlists, the segment route and the
// harvest jobs (any thread). Thread-safe. Owns its threads, files and index.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/queue_registry.hpp"
#include "core/result.hpp"
#include "core/segment.hpp"
#include "core/units.hpp"

namespace onair::origin {

struct DvrOptions {
    std::filesystem::path folder;         // DATA/dvr; created when missing
    std::vector<std::string> renditions;  // ladder order
    int64_t segment_length = 6 * 90000;   // ticks
    int64_t window_ms = 2 * 3600 * 1000;  // kept this long (by media time, against now)
    int64_t max_bytes = 0;                // 0: no budget beyond the window
    std::function<int64_t()> now_ms;      // UTC; the system clock when empty
    // Segments waiting for the writer; beyond it the oldest waiting is
    // dropped (counted, logged), so record() never waits for the disk.
    size_t queue_capacity = 256;
    core::QueueRegistry* queues = nullptr;  // where that queue ("dvr") registers; null: nowhere
    // Expired segments deleted per transaction, so one pass never holds the
    // index (or the writer) for long.
    int expiry_batch = 64;
};

// One recorded segment, as the index has it.
struct DvrSegment {
    std::string rendition;
    int64_t sequence = 0;
    int64_t start = 0;     // media time of the first frame, 90 kHz since the epoch
    int64_t duration = 0;  // ticks
    int frames = 0;
    bool slate = false;
    bool discontinuity = false;  // a real gap in the recording before it
    int64_t bytes = 0;
    int width = 0, height = 0;
    core::Rational frame_rate;
    std::string codecs;
    std::string init_id;              // fmp4: its init section's id; ts: empty
    std::filesystem::path file;       // where it is on disk
    std::filesystem::path init_file;  // fmp4: where its init section is; ts: empty
    int64_t utc_ms() const { return start / 90; }
    int64_t end() const { return start + duration; }
    core::Container container() const {
        return init_id.empty() ? core::Container::ts : core::Container::fmp4;
    }
};

// Whether the DVR is recording: a write that fails (a full disk, an I/O
// error) leaves that segment out; the next one recorded after it is marked as
// a discontinuity, and live playback, served from memory, goes on.
struct DvrHealth {
    int64_t failed = 0;            // segments not recorded because writing them failed
    std::string error;             // the newest failure while they last; empty: recording
    int64_t failing_since_ms = 0;  // UTC of the first failure of the current run of them
};

class Dvr {
  public:
    [[nodiscard]] static core::Result<std::unique_ptr<Dvr>> open(DvrOptions options);
    virtual ~Dvr() = default;

    // A served segment: written and indexed by the DVR's thread. A segment
    // whose sequence does not follow the rendition's newest recorded one is
    // marked as a discontinuity.
    virtual void record(std::shared_ptr<const core::Segment> segment) = 0;
    // Waits until everything recorded before the call is on disk and indexed.
    virtual void flush() = 0;

    // Recorded segments of `rendition` overlapping media time [from, to), oldest first.
    virtual std::vector<DvrSegment> range(std::string_view rendition, int64_t from,
                                          int64_t to) const = 0;
    virtual std::optional<DvrSegment> find(std::string_view rendition, int64_t sequence) const = 0;
    // The newest `count` of a rendition, oldest first (to resume the live
    // playlists after a restart).
    virtual std::vector<DvrSegment> newest(std::string_view rendition, size_t count) const = 0;
    // Media time from the start of the oldest to the end of the newest
    // recorded segment of `rendition`; nullopt when it has none.
    virtual std::optional<std::pair<int64_t, int64_t>> span(std::string_view rendition) const = 0;
    // A recorded segment's bytes, read from disk; null when it is gone.
    virtual core::SharedBytes read(const DvrSegment& segment) const = 0;
    // Where the init section `id` of `rendition` is on disk (fmp4); nullopt
    // when it has none by that id.
    virtual std::optional<std::filesystem::path> init_file(std::string_view rendition,
                                                           std::string_view id) const = 0;

    // DATA/dvr: where it keeps its files.
    virtual std::filesystem::path folder() const { return {}; }

    virtual int64_t bytes_on_disk() const = 0;
    virtual int64_t segments_on_disk() const = 0;
    virtual int64_t expired() const = 0;  // deleted so far by window or budget
    // Segments record() had to drop because the writer fell behind.
    virtual int64_t dropped() const { return 0; }
    virtual DvrHealth health() const { return {}; }
    // Oldest start and newest end over all renditions; nullopt when empty.
    virtual std::optional<std::pair<int64_t, int64_t>> extent() const { return std::nullopt; }
};

// Where the thumbnail of segment `sequence` is kept (media/thumbnail.hpp
// writes it): DVR/thumbs/SEQ.jpg. The DVR deletes it with the segment.
std::filesystem::path thumbnail_file(const std::filesystem::path& dvr_folder, int64_t sequence);

// A recorded fmp4 segment's init section, read from disk; null for a ts
// segment, or when the file is gone or not what its name says.
core::SharedInit read_init_section(const DvrSegment& segment);

}  // namespace onair::origin
