#include "tools/channel.hpp"

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <mutex>

#include <fmt/format.h>

#include <boost/json.hpp>

#include "core/log.hpp"
#include "core/token.hpp"
#include "origin/dvr_restore.hpp"

namespace onair::tools {
namespace {

// How far apart two pipelines' views of one source may be and still share
// its anchor; also how far a first timestamp may be from the wall clock.
constexpr int64_t kAnchorTolerance = 10 * core::kMediaClock;

origin::HttpServerOptions server_options(const core::ChannelConfig& config) {
    origin::HttpServerOptions options;
    options.host = config.origin.host;
    options.port = uint16_t(config.origin.port);
    options.threads = config.origin.threads;
    options.max_connections = config.origin.max_connections;
    options.rate_limit = {.per_second = double(config.origin.api_rate),
                          .burst = double(config.origin.api_burst)};
    options.tls_certificate = config.origin.tls_certificate;
    options.tls_key = config.origin.tls_key;
    return options;
}

}  // namespace

Channel::Channel(core::ChannelConfig config, ChannelOptions options)
    : config_(std::move(config)),
      shared_anchor_(kAnchorTolerance),
      store_(
          origin::StoreOptions::from_config(config_),
          [this](const origin::SwitchEvent& event) { on_switch(event); },
          [this](std::shared_ptr<const core::Segment> segment) {
              on_published(std::move(segment));
          }),
      routes_(store_, status_),
      options_(std::move(options)),
      server_(server_options(config_), routes_.handler()) {
    status_.channel = config_.channel;
    routes_.set_http_figures([this] { return server_.figures(); });
    for (const auto& input : config_.inputs) status_.add(input.id, input.input.describe());
    if (options_.ingest_token) {
        ingest_ = std::make_unique<origin::IngestRoutes>(
            origin::IngestOptions::from_store(store_.options(), *options_.ingest_token), store_,
            status_, shared_anchor_);
        routes_.set_ingest(*ingest_);
    }
    if (const auto root = origin::find_web_root(); root.empty()) {
        log::warn("http",
                  "no web assets found (ONAIR_WEB_ROOT, or share/onair/web beside the "
                  "binary): the control room page is not served");
    } else if (auto web = origin::WebAssets::load(root)) {
        web_ = std::move(*web);
        routes_.set_web(*web_);
    } else {
        log::error("http", "web assets: {}", web.error().message);
    }
    if (!config_.failover.webhook.empty()) {
        auto notifier = origin::WebhookNotifier::create(
            config_.failover.webhook,
            {.queue_name = "webhook.failover", .queues = &status_.queues});
        if (notifier)
            webhook_ = std::move(*notifier);
        else
            log::error("failover", "webhook {}: {}", config_.failover.webhook,
                       notifier.error().message);
    }
}

Channel::~Channel() {
    stop();
}

void Channel::on_switch(const origin::SwitchEvent& event) {
    log::warn("failover", "switched from pipeline {} to {} at segment {}: {}", event.from, event.to,
              event.sequence, origin::to_string(event.reason));
    if (!webhook_) return;
    // Shaped like the cloud packagers' input-switch notification.
    boost::json::object json;
    json["event"] = "input_switch";
    json["channel"] = config_.channel;
    json["from"] = std::string(1, event.from);
    json["to"] = std::string(1, event.to);
    json["reason"] = origin::to_string(event.reason);
    json["sequence"] = event.sequence;
    json["time"] = origin::format_program_date_time(event.utc_ms);
    webhook_->post(boost::json::serialize(json));
}

// --- DVR -----------------------------------------------------------------

core::Result<> Channel::open_dvr() {
    const std::filesystem::path folder = std::filesystem::path(config_.data_dir) / "dvr";
    origin::DvrOptions options;
    options.folder = folder;
    options.renditions = store_.options().renditions;
    options.segment_length = store_.options().segment_length;
    options.window_ms = config_.dvr.window.count() / 1000;
    options.max_bytes = config_.dvr.max_bytes;
    options.queues = &status_.queues;
    auto dvr = origin::Dvr::open(std::move(options));
    if (!dvr) return core::fail(fmt::format("DVR in {}: {}", folder.string(), dvr.error().message));
    dvr_ = std::move(*dvr);
    // What is still inside the window goes on in the live playlists.
    const int64_t not_before = core::utc_now_media() - core::micros_to_ticks(config_.dvr.window);
    origin::restore_from_dvr(*dvr_, store_, not_before);
    routes_.set_dvr(dvr_.get());
    // One thumbnail per segment of the smallest rung, for the control room.
    const auto smallest = std::min_element(
        config_.ladder.begin(), config_.ladder.end(),
        [](const auto& x, const auto& y) { return x.width * x.height < y.width * y.height; });
    if (smallest != config_.ladder.end()) {
        thumbnail_rendition_ = smallest->name;
        thumbnailer_ = std::make_unique<media::Thumbnailer>(media::Thumbnailer::Options{
            .folder = origin::thumbnail_file(folder, 0).parent_path(), .queues = &status_.queues});
    }
    return {};
}

void Channel::on_published(std::shared_ptr<const core::Segment> segment) {
    if (thumbnailer_ && segment->rendition == thumbnail_rendition_ && !segment->slate)
        thumbnailer_->add(segment);
    if (dvr_) dvr_->record(std::move(segment));
}

void Channel::close_dvr() {
    thumbnailer_.reset();
    if (!dvr_) return;
    dvr_->flush();
    log::info("dvr", "closed: {} segments, {} on disk", dvr_->segments_on_disk(),
              core::format_size(dvr_->bytes_on_disk()));
    routes_.set_dvr(nullptr);
    dvr_.reset();
}

// --------------------------------------------------------------------------

core::Result<> Channel::start() {
    std::string why;
    auto token = core::read_token("ONAIR_API_TOKEN", config_.origin.api_token_file, why);
    // (A token file named but unreadable was refused with the channel file.)
    if (!token) log::info("origin", "control and clip calls are off: {}", why);
    const std::string api_token = token.value_or("");
    if (!api_token.empty()) routes_.set_api_token(api_token);
    if (config_.origin.signed_urls) {
        auto secret =
            core::read_token("ONAIR_PLAYBACK_SECRET", config_.origin.playback_secret_file, why);
        if (!secret) return core::fail("origin.signed_urls is on, but there is no secret: " + why);
        signer_.emplace(std::move(*secret));
        routes_.set_playback_signer(&*signer_);
        log::info("origin", "playback needs signed URLs (?{}=...)", origin::kTokenParameter);
    }
    if (auto ok = open_dvr(); !ok) return ok;
    if (auto ok = start_clips(dvr_.get(), api_token); !ok) return ok;
    if (auto ok = server_.start(); !ok) return ok;
    if (web_) log::info("http", "control room: http://{}:{}/", config_.origin.host, server_.port());
    ticker_ = std::jthread([this](std::stop_token stop) {
        std::mutex m;
        std::condition_variable_any cv;
        std::unique_lock lock(m);
        while (!stop.stop_requested()) {
            cv.wait_for(lock, stop, std::chrono::milliseconds(100), [] { return false; });
            if (!stop.stop_requested()) store_.tick();
            if (ingest_) ingest_->expire_reports(core::media_to_utc_ms(core::utc_now_media()));
        }
    });
    log::info("origin", "serving http://{}:{}/live/{}/master.m3u8",
              config_.origin.host == "0.0.0.0" ? "127.0.0.1" : config_.origin.host, server_.port(),
              config_.channel);
    if (ingest_) log::info("origin", "taking pushes under /ingest/v1/{}/", config_.channel);
    if (!options_.run_pipelines) return {};
    for (size_t i = 0; i < config_.inputs.size(); ++i) {
        core::TimeAnchor* anchor = &shared_anchor_;
        if (config_.timecode == core::TimecodeSource::systemclock) {
            // Each pipeline maps its own arrival times: no shared timeline.
            own_anchors_.push_back(std::make_unique<core::TimeAnchor>(kAnchorTolerance));
            anchor = own_anchors_.back().get();
        }
        auto& pipeline = pipelines_.emplace_back(std::make_unique<Pipeline>(
            config_, config_.inputs[i], *anchor, *status_.pipelines[i], store_));
        pipeline->start();
    }
    return {};
}

void Channel::stop() {
    for (auto& p : pipelines_) p->stop();
    pipelines_.clear();
    if (ticker_.joinable()) {
        ticker_.request_stop();
        ticker_.join();
    }
    server_.stop();
    stop_clips();  // no job reads the DVR any more
    close_dvr();   // nothing publishes any more: the last segments are recorded
}

core::Result<> Channel::start_clips(const origin::Dvr* dvr, const std::string& api_token) {
    const std::filesystem::path data(config_.data_dir);
    std::error_code ec;
    std::filesystem::create_directories(data, ec);
    if (ec) return core::fail(fmt::format("data folder {}: {}", data.string(), ec.message()));
    auto catalog = origin::SqliteClipCatalog::open(data / "catalog.sqlite");
    if (!catalog) return std::unexpected(catalog.error());
    clip_catalog_ = std::move(*catalog);
    if (!config_.clips.webhook.empty()) {
        auto notifier = origin::WebhookNotifier::create(
            config_.clips.webhook, {.queue_name = "webhook.clips", .queues = &status_.queues});
        if (notifier)
            clip_webhook_ = std::move(*notifier);
        else
            log::error("harvest", "webhook {}: {}", config_.clips.webhook,
                       notifier.error().message);
    }
    origin::HarvestService::Notify notify;
    if (clip_webhook_)
        notify = [hook = clip_webhook_.get()](std::string json) { hook->post(std::move(json)); };
    auto harvest_options = origin::HarvestOptions::from_config(config_);
    harvest_options.queues = &status_.queues;
    harvest_ = std::make_unique<origin::HarvestService>(
        std::move(harvest_options), *clip_catalog_, dvr, options_.clip_media, std::move(notify));
    if (auto ok = harvest_->start(); !ok) return ok;
    clip_routes_ = std::make_unique<origin::ClipRoutes>(*harvest_, api_token);
    routes_.set_clips(*clip_routes_);
    return {};
}

void Channel::stop_clips() {
    if (harvest_) harvest_->stop();
    if (clip_webhook_) clip_webhook_->stop();
}

}  // namespace onair::tools
