#include "origin/harvest.hpp"

#include <fmt/format.h>

#include <thread>

#include "core/durable.hpp"
#include "core/log.hpp"
#include "core/media_time.hpp"
#include "origin/clip_asset.hpp"
#include "origin/harvest_recovery.hpp"
#include "origin/sqlite.hpp"

namespace onair::origin {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kLog = "harvest";

int64_t system_now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

core::Result<> error_with(std::string_view what, const core::Error& error) {
    return core::fail(fmt::format("{}: {}", what, error.message), error.code);
}

}  // namespace

HarvestOptions HarvestOptions::from_config(const core::ChannelConfig& config) {
    HarvestOptions o;
    o.channel = config.channel;
    o.ladder = config.ladder;
    o.encoder = config.encoder;
    o.segment_length = core::micros_to_ticks(config.hls.segment);
    o.mp4_rendition = config.clips.rendition;
    o.folder = fs::path(config.data_dir) / "clips";
    o.concurrency = config.clips.concurrency;
    o.max_waiting = std::size_t(config.clips.max_queued);
    return o;
}

HarvestService::HarvestService(HarvestOptions options, ClipCatalog& catalog, const Dvr* dvr,
                               core::ClipCutter* cutter, Notify notify)
    : options_(std::move(options)),
      catalog_(catalog),
      dvr_(dvr),
      cutter_(cutter),
      notify_(std::move(notify)),
      pool_(options_.max_waiting, options_.queues) {
    if (options_.mp4_rendition.empty() && !options_.ladder.empty())
        options_.mp4_rendition = options_.ladder.front().name;
    if (!options_.now_ms) options_.now_ms = system_now_ms;
}

HarvestService::~HarvestService() {
    stop();
}

int64_t HarvestService::now_ms() const {
    return options_.now_ms();
}

core::Result<> HarvestService::start() {
    std::error_code ec;
    fs::create_directories(options_.folder, ec);
    if (ec)
        return core::fail(fmt::format("clip store {}: {}", options_.folder.string(), ec.message()));
    sweep_clip_store(options_.folder);
    if (auto ok = recover(); !ok) return ok;
    pool_.start(options_.concurrency);
    return {};
}

void HarvestService::stop() {
    pool_.stop();
}

core::Result<> HarvestService::recover() {
    auto unfinished = catalog_.unfinished();
    if (!unfinished) return error_with("clip catalog", unfinished.error());
    const auto held = window();
    for (auto& clip : *unfinished) {
        // Never a half asset: whatever the last run built is built again.
        std::error_code ec;
        fs::remove_all(asset_folder(clip.id), ec);
        if (auto failure = why_not_resumable(clip, dvr_ != nullptr, held)) {
            finish(std::move(clip), *failure, 0);
        } else {
            log::info(kLog, "clip {}: interrupted by a stop; cutting it again", clip.id);
            pool_.post([this, clip](std::stop_token stop) { run_job(clip, stop); });
        }
    }
    return {};
}

std::optional<DvrWindow> HarvestService::window() const {
    if (!dvr_ || options_.ladder.empty()) return std::nullopt;
    DvrWindow w{INT64_MIN, INT64_MAX};
    for (const auto& rung : options_.ladder) {
        auto span = dvr_->span(rung.name);
        if (!span) return std::nullopt;
        w.first = std::max(w.first, span->first);
        w.last = std::min(w.last, span->second);
    }
    if (w.first >= w.last) return std::nullopt;
    return w;
}

std::expected<ClipRecord, SubmitRefusal> HarvestService::submit(const boost::json::value& body) {
    using Kind = SubmitRefusal::Kind;
    auto refuse = [](Kind kind, std::string reason) {
        return std::unexpected(SubmitRefusal{kind, {std::move(reason)}});
    };
    if (!dvr_)
        return refuse(Kind::unavailable, "clips are cut from the DVR, and this origin runs none");
    auto request = parse_clip_request(body, window());
    if (!request) return std::unexpected(SubmitRefusal{Kind::invalid, std::move(request.error())});
    if (!pool_.load().accepting)
        return refuse(Kind::unavailable, "the origin is not taking clip jobs now");

    ClipRecord clip;
    clip.channel = options_.channel;
    clip.title = std::move(request->title);
    clip.description = std::move(request->description);
    clip.event = std::move(request->event);
    clip.start_ms = request->start_ms;
    clip.end_ms = request->end_ms;
    clip.accuracy = request->accuracy;
    clip.rendition = options_.mp4_rendition;
    clip.created_ms = now_ms();
    for (int attempt = 0;; ++attempt) {
        clip.id = request->id ? *request->id : generated_clip_id(clip.created_ms);
        auto inserted = catalog_.insert(clip);
        if (!inserted) {
            log::error(kLog, "clip catalog: {}", inserted.error().message);
            if (sqlite_disk_full(inserted.error()))
                return refuse(Kind::no_space,
                              "the clip catalog cannot be written: No space left on device");
            return refuse(Kind::error, "the clip catalog cannot be written");
        }
        if (*inserted) break;
        if (request->id)
            return refuse(Kind::duplicate, fmt::format("a clip with id \"{}\" exists", clip.id));
        if (attempt == 3) return refuse(Kind::error, "no free clip id found");
    }
    // The queue's own policy decides (refuse_newest, counted in /metrics): a
    // job it refuses takes its record back out, so nothing waits unlisted.
    if (!pool_.try_post([this, clip](std::stop_token stop) { run_job(clip, stop); })) {
        if (auto removed = catalog_.remove(clip.id); !removed)
            log::error(kLog, "clip {}: refused, and its record stays for the next start: {}",
                       clip.id, removed.error().message);
        return refuse(Kind::busy, fmt::format("{} clip jobs are waiting (clips.max_queued); try "
                                              "again later",
                                              pool_.load().waiting));
    }
    log::info(kLog, "clip {}: queued, {} to {} ({} accuracy)", clip.id, utc_text(clip.start_ms),
              utc_text(clip.end_ms), to_string(clip.accuracy));
    return clip;
}

core::Result<HarvestService::Removal> HarvestService::remove(std::string_view id) {
    std::lock_guard assets(assets_mutex_);
    auto clip = catalog_.get(id);
    if (!clip) return std::unexpected(clip.error());
    if (!*clip) return Removal::not_found;
    if ((*clip)->status == ClipStatus::in_progress) return Removal::running;
    // Renamed away first: a crash after it leaves a record whose files are
    // gone (DELETE again works), never files no record owns.
    const fs::path folder = asset_folder(id);
    fs::path trash;
    std::error_code ec;
    if (fs::exists(folder, ec)) {
        trash = deleted_asset_folder(options_.folder, id, now_ms(), ++deletions_);
        fs::rename(folder, trash, ec);
        if (ec)
            return core::fail(fmt::format("cannot remove {}: {}", folder.string(), ec.message()));
    }
    auto removed = catalog_.remove(id);
    if (!removed) {
        if (!trash.empty()) fs::rename(trash, folder, ec);
        return std::unexpected(removed.error());
    }
    if (!trash.empty())
        pool_.post([trash](std::stop_token) {
            std::error_code e;
            fs::remove_all(trash, e);
            if (e) log::warn(kLog, "cannot remove {}: {}", trash.string(), e.message());
        });
    log::info(kLog, "clip {}: deleted", id);
    return *removed ? Removal::removed : Removal::not_found;
}

bool HarvestService::wait_idle(std::chrono::milliseconds timeout) const {
    return pool_.wait_idle(timeout);
}

void HarvestService::run_job(ClipRecord clip, std::stop_token stop) {
    const fs::path partial = partial_asset_folder(options_.folder, clip.id);
    std::error_code ec;
    fs::remove_all(partial, ec);
    log::info(kLog, "clip {}: cutting", clip.id);
    auto made = make_asset(clip, partial, stop);
    if (!made) {
        fs::remove_all(partial, ec);
        if (stop.stop_requested()) {
            log::info(kLog, "clip {}: stopped; it is cut again at the next start", clip.id);
            return;
        }
        finish(std::move(clip), made.error().message, 0, stop);
        return;
    }
    // On the disk, then whole under its name (one rename), then the record
    // says so: not even a power loss leaves a half asset listed as succeeded.
    if (auto synced = core::sync_tree(partial); !synced) {
        fs::remove_all(partial, ec);
        finish(std::move(clip), synced.error().message, 0, stop);
        return;
    }
    {
        // Not held for finish(): a DELETE meanwhile sees in_progress (409).
        std::lock_guard assets(assets_mutex_);
        const fs::path folder = asset_folder(clip.id);
        fs::remove_all(folder, ec);  // only ever a leftover of a run that died before recording it
        fs::rename(partial, folder, ec);
    }
    if (!ec)
        if (auto synced = core::sync_path(options_.folder); !synced)
            log::warn(kLog, "clip {}: {}", clip.id, synced.error().message);
    if (ec) {
        std::error_code ignored;
        fs::remove_all(partial, ignored);
        finish(std::move(clip), fmt::format("cannot move the asset in place: {}", ec.message()), 0,
               stop);
        return;
    }
    clip.master = fmt::format("{}/{}", clip.id, kClipMaster);
    clip.mp4 = fmt::format("{}/{}", clip.id, kClipMp4);
    finish(std::move(clip), {}, *made, stop);
}

void HarvestService::finish(ClipRecord clip, const std::string& error, int64_t duration_ticks,
                            std::stop_token stop) {
    clip.status = error.empty() ? ClipStatus::succeeded : ClipStatus::failed;
    clip.message = error;
    clip.finished_ms = now_ms();
    if (error.empty()) {
        clip.duration_ms = core::media_to_utc_ms(duration_ticks);
    } else {
        clip.master.clear();
        clip.mp4.clear();
    }
    // A busy or briefly full disk should not leave the job in_progress until
    // the next start: a few tries, backing off (each after SQLite's own busy
    // wait), before giving up on it; none once the service is stopping.
    auto recorded = catalog_.update(clip);
    for (auto pause = std::chrono::milliseconds(100);
         !recorded && !stop.stop_requested() && pause <= std::chrono::milliseconds(400);
         pause *= 2) {
        log::warn(kLog, "clip {}: cannot record its outcome ({}), again in {} ms", clip.id,
                  recorded.error().message, pause.count());
        std::this_thread::sleep_for(pause);
        recorded = catalog_.update(clip);
    }
    if (!recorded) {
        log::error(kLog, "clip {}: cannot record its outcome: {}", clip.id,
                   recorded.error().message);
        return;  // still in_progress in the catalog: cut again at the next start
    }
    if (error.empty())
        log::info(kLog, "clip {}: succeeded, {:.3f} s", clip.id, double(duration_ticks) / 90000);
    else
        log::warn(kLog, "clip {}: failed: {}", clip.id, error);
    notify(clip);
}

void HarvestService::notify(const ClipRecord& clip) const {
    if (!notify_) return;
    notify_(harvest_job_notification(clip));
}

core::Result<int64_t> HarvestService::make_asset(const ClipRecord& clip, const fs::path& partial,
                                                 std::stop_token stop) const {
    if (!dvr_) return core::fail("no DVR");
    if (!cutter_) return core::fail("no clip media");
    return build_clip_asset(
        clip, {options_.ladder, options_.encoder, options_.segment_length, *dvr_, *cutter_},
        partial, stop);
}

}  // namespace onair::origin
