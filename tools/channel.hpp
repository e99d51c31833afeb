#pragma once
// A whole channel in one process: the origin's store and HTTP server, and one
// pipeline per input, all from one validated config. Logs every switch
// between pipelines, and POSTs it to failover.webhook when one is set.
// Records every listed segment in the DVR under the data folder and, at
// start-up, lists again the live window it had before a restart. Clips
// (harvest jobs, catalog, VOD routes) are set up before the server serves
// and stopped after it. Starts consumers before producers (DVR, clips,
// store, server, then pipelines) and stops in reverse, so the last segments
// of a run still reach the store and the DVR before the server goes.
// start() and stop() are called from the main thread.
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "core/clip_cutter.hpp"
#include "core/config.hpp"
#include "core/media_time.hpp"
#include "core/result.hpp"
#include "core/status.hpp"
#include "media/thumbnail.hpp"
#include "origin/clip_catalog.hpp"
#include "origin/clip_routes.hpp"
#include "origin/dvr.hpp"
#include "origin/harvest.hpp"
#include "origin/http_server.hpp"
#include "origin/ingest_routes.hpp"
#include "origin/playback_signing.hpp"
#include "origin/routes.hpp"
#include "origin/segment_store.hpp"
#include "origin/web_assets.hpp"
#include "origin/webhook.hpp"
#include "tools/pipeline.hpp"

namespace onair::tools {

// What of the channel this process runs: `onair origin` runs no pipelines;
// with a token the origin also takes pushes from pipelines in other
// processes (IngestRoutes, under /ingest/).
struct ChannelOptions {
    bool run_pipelines = true;
    std::optional<std::string> ingest_token;
    // Cuts the clips' MP4s and frame-accurate ends (packager/'s, given by
    // main); not owned. Null: every clip job fails with "no clip media".
    core::ClipCutter* clip_media = nullptr;
};

class Channel {
  public:
    explicit Channel(core::ChannelConfig config, ChannelOptions options = {});
    ~Channel();
    [[nodiscard]] core::Result<> start();
    void stop();
    uint16_t http_port() const { return server_.port(); }

  private:
    void on_switch(const origin::SwitchEvent& event);
    // Clips (harvest): DATA/catalog.sqlite, the jobs cutting from `dvr`
    // into DATA/clips, and their routes. Started before the server serves;
    // stopped after it, and before the DVR they cut from.
    [[nodiscard]] core::Result<> start_clips(const origin::Dvr* dvr, const std::string& api_token);
    void stop_clips();

    // DVR: opened (and the live window restored) by start(), fed every
    // listed copy, flushed and closed by stop() once nothing publishes.
    [[nodiscard]] core::Result<> open_dvr();
    void on_published(std::shared_ptr<const core::Segment> segment);
    void close_dvr();

    core::ChannelConfig config_;
    core::ChannelStatus status_;
    core::TimeAnchor shared_anchor_;
    std::unique_ptr<origin::Dvr> dvr_;  // set before anything publishes, reset after
    std::vector<std::unique_ptr<core::TimeAnchor>> own_anchors_;  // timecode: systemclock
    origin::SegmentStore store_;
    origin::Routes routes_;
    ChannelOptions options_;
    std::unique_ptr<origin::IngestRoutes> ingest_;      // with an ingest token
    std::unique_ptr<origin::WebhookNotifier> webhook_;  // with failover.webhook
    std::optional<origin::WebAssets> web_;              // the control room, when installed
    std::optional<origin::PlaybackSigner> signer_;      // with origin.signed_urls
    std::unique_ptr<media::Thumbnailer> thumbnailer_;   // with the DVR: its timeline's pictures
    std::string thumbnail_rendition_;                   // the smallest rung
    // Clips: see start_clips().
    std::unique_ptr<origin::SqliteClipCatalog> clip_catalog_;
    std::unique_ptr<origin::WebhookNotifier> clip_webhook_;  // with clips.webhook
    std::unique_ptr<origin::HarvestService> harvest_;
    std::unique_ptr<origin::ClipRoutes> clip_routes_;
    origin::HttpServer server_;
    std::vector<std::unique_ptr<Pipeline>> pipelines_;
    std::jthread ticker_;  // publishes on deadlines while no segment or player comes
};

}  // namespace onair::tools
