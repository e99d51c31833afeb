#pragma once
// Harvest jobs: Live-to-VOD clips cut from the DVR into the clip store.
//
// A request (POST's JSON body) is checked against what the DVR holds and
// becomes a catalog record (in_progress) and a queued job; a small pool of
// threads runs the jobs. A job builds DATA/clips/ID.partial/ (each rendition's
// segments hard-linked from the DVR, or copied across file systems, so DVR
// expiry never breaks a clip; VOD media playlists; a master; clip.mp4 of one
// rendition), renames it to DATA/clips/ID/ and only then records the clip as
// succeeded. A failed job is recorded as failed with its message and leaves
// no folder behind. Jobs a stop or crash interrupted are found in the
// catalog at start-up and run again while the DVR still holds their range,
// else recorded as failed.
//
// The service ties the parts together: harvest_request (the body's checks),
// clip_json (the record as JSON), harvest_pool (the queue and its threads),
// harvest_recovery (what a stop left), clip_asset (building the asset).
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "core/clip_cutter.hpp"
#include "core/config.hpp"
#include "core/result.hpp"
#include "origin/clip_catalog.hpp"
#include "origin/clip_json.hpp"
#include "origin/clip_time.hpp"
#include "origin/dvr.hpp"
#include "origin/harvest_pool.hpp"
#include "origin/harvest_request.hpp"

namespace onair::origin {

struct HarvestOptions {
    std::string channel;
    std::vector<core::Rung> ladder;         // the renditions of every clip, in order
    core::EncoderConfig encoder;            // for the frame-accurate ends
    int64_t segment_length = 0;             // ticks: the channel's (the playlists' target duration)
    std::string mp4_rendition;              // empty: the first rung
    std::filesystem::path folder;           // the clip store, DATA/clips
    int concurrency = 2;                    // jobs at once
    std::size_t max_waiting = 16;           // queued beyond the running ones (clips.max_queued)
    core::QueueRegistry* queues = nullptr;  // where the job queue is shown; none when null
    std::function<int64_t()> now_ms;        // UTC; the system clock when empty

    // From clips.*, the ladder, the encoder and data_dir.
    static HarvestOptions from_config(const core::ChannelConfig& config);
};

// Why submit() made no job; the routes turn it into the status code.
struct SubmitRefusal {
    enum class Kind {
        invalid,      // 400: reasons lists every problem
        duplicate,    // 409: the id is taken
        unavailable,  // 503: no DVR, or stopping
        busy,         // 429: as many jobs wait as clips.max_queued allows
        no_space,     // 507: the catalog's disk is full
        error,        // 500: the catalog failed
    };
    Kind kind = Kind::invalid;
    std::vector<std::string> reasons;
};

// In: submit() and remove() from the HTTP threads (they never wait for a
// job: a catalog write and a queue push); start() and stop() from the
// controlling thread. Out: catalog records, asset folders, and `notify`
// called with {"event": "harvest_job", "job": {...}} when a job ends (from
// a pool thread). Owns its pool; the catalog, the DVR and the clip cutter
// must outlive it (stop() first). A null DVR refuses new clips (503); a
// null clip cutter fails every job with "no clip media".
class HarvestService {
  public:
    using Notify = std::function<void(std::string json)>;
    enum class Removal { removed, not_found, running };

    HarvestService(HarvestOptions options, ClipCatalog& catalog, const Dvr* dvr,
                   core::ClipCutter* cutter, Notify notify = {});
    ~HarvestService();
    HarvestService(const HarvestService&) = delete;
    HarvestService& operator=(const HarvestService&) = delete;

    // Creates the clip store, clears what an interrupted run left in it,
    // resumes or fails unfinished jobs, and starts the pool.
    [[nodiscard]] core::Result<> start();
    // Stops the pool: waiting jobs stay in_progress (resumed at the next
    // start); a running one stops after its current step. Idempotent.
    void stop();

    // A new clip job from POST's body; the record (in_progress) when queued.
    std::expected<ClipRecord, SubmitRefusal> submit(const boost::json::value& body);
    // Removes a finished clip's record and asset (the folder is renamed
    // away at once and deleted by the pool); a job still running is refused.
    [[nodiscard]] core::Result<Removal> remove(std::string_view id);

    const ClipCatalog& catalog() const { return catalog_; }
    const HarvestOptions& options() const { return options_; }
    // DATA/clips/ID: the asset of a succeeded clip.
    std::filesystem::path asset_folder(std::string_view id) const { return options_.folder / id; }
    // Until no job waits or runs; false on timeout (tests, diagnostics).
    bool wait_idle(std::chrono::milliseconds timeout) const;

  private:
    std::optional<DvrWindow> window() const;
    void run_job(ClipRecord clip, std::stop_token stop);
    // Builds the asset in `partial`; the clip's duration in ticks.
    core::Result<int64_t> make_asset(const ClipRecord& clip, const std::filesystem::path& partial,
                                     std::stop_token stop) const;
    // Records the outcome (failed when `error` is not empty) and notifies.
    void finish(ClipRecord clip, const std::string& error, int64_t duration_ticks,
                std::stop_token stop = {});
    void notify(const ClipRecord& clip) const;
    [[nodiscard]] core::Result<> recover();
    int64_t now_ms() const;

    HarvestOptions options_;
    ClipCatalog& catalog_;
    const Dvr* dvr_;
    core::ClipCutter* cutter_;
    Notify notify_;

    // Held while a folder becomes a clip's asset or stops being one, so a
    // DELETE and a finishing job never see each other's half-done rename.
    std::mutex assets_mutex_;
    int64_t deletions_ = 0;  // names the renamed-away folders; under assets_mutex_
    HarvestPool pool_;       // last: its threads are joined before the rest goes
};

}  // namespace onair::origin
