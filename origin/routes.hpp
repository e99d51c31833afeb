#pragma once
// The routes of a channel's origin, and the one router that answers them
// all: live playlists and segments, time-shift from the DVR, status,
// metrics, the operator's switch; the clip routes (ClipRoutes) and ingest
// routes (IngestRoutes) register on the same router.
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"
#include "origin/clip_routes.hpp"
#include "origin/dvr.hpp"
#include "origin/http_figures.hpp"
#include "origin/http_message.hpp"
#include "origin/ingest_routes.hpp"
#include "origin/playback_signing.hpp"
#include "origin/router.hpp"
#include "origin/segment_store.hpp"
#include "origin/status_report.hpp"
#include "origin/timeshift.hpp"
#include "origin/web_assets.hpp"

namespace onair::origin {

// Answers
//   GET|HEAD /live/CHANNEL/master.m3u8[?start=T[&end=T]]
//   GET|HEAD /live/CHANNEL/RENDITION/index.m3u8[?start=T[&end=T]]   time-shift from the DVR
//   GET|HEAD /live/CHANNEL/RENDITION/SEQ.ts     the store's, else the DVR's
//   GET|HEAD /healthz
//   GET|HEAD /api/v1/channels/CHANNEL          status: inputs, pipelines, failover, origin
//   POST     /api/v1/channels/CHANNEL/switch   {"to": "a"|"b"} (Bearer API token)
//   GET|HEAD /metrics                          Prometheus text
// and OPTIONS (CORS preflight) on each (the router's rules). Live playlists
// and segments are the store's prepared responses, served as they are
// (If-None-Match / If-Modified-Since answered 304 from them); everything
// else comes from the DVR and the channel's status; the only files read
// are the DVR's, for a well-formed sequence number of a known rendition.
// In: a parsed request, on any server thread (concurrently). Out: a
// complete reply. Does not own the store, the status or the routes it is
// given; they must outlive it.
class Routes {
  public:
    using NowMs = std::function<int64_t()>;  // UTC now in ms (injectable for tests)

    Routes(SegmentStore& store, const core::ChannelStatus& status, NowMs now_ms = {});

    // The token control calls (POST) must bring as "Authorization: Bearer";
    // without one, control calls are refused (403). Set before serving.
    void set_api_token(std::string token) { api_token_ = std::move(token); }

    Reply operator()(const Request& request) const;
    // This object as a server's handler; it must outlive the server.
    Handler handler() const {
        return [this](const Request& request) { return (*this)(request); };
    }
    // Signed playback URLs: with a signer, GET and HEAD under /live/ and
    // /vod/ need a valid token (403 with a JSON reason otherwise), and the
    // playlists served carry it on to every URI they name. It must outlive
    // the serving; set before serving.
    void set_playback_signer(const PlaybackSigner* signer) { signer_ = signer; }
    // Puts the ingest routes (/ingest/...) and the clip routes (/vod/...,
    // /api/v1/clips..., /api/v1/channels/CHANNEL/clips) on this router. Call
    // before serving; each must outlive the serving.
    void set_ingest(const IngestRoutes& ingest) { ingest.add_routes(router_); }
    void set_clips(const ClipRoutes& clips) { clips.add_routes(router_); }
    // The control room: the channel page at "/" and its assets under /ui/.
    void set_web(const WebAssets& web) { web.add_routes(router_, "channel.html"); }
    // Time-shifted playlists and segments gone from the store come from
    // `dvr` when set (else time-shift requests get 404). It must outlive the
    // serving (or be set back to null first).
    void set_dvr(const Dvr* dvr) { dvr_ = dvr; }
    // The HTTP server's own figures, for the status API and /metrics.
    void set_http_figures(std::function<HttpFigures()> figures) {
        http_figures_ = std::move(figures);
    }

  private:
    Reply master(const Call& call) const;
    Reply media_playlist(const Call& call) const;
    Reply segment(const Call& call) const;
    Reply thumbnail(const Call& call) const;
    Reply init_section(std::string_view rendition, std::string_view id) const;
    std::optional<Reply> low_latency_playlist(const Call& call, std::string_view rendition) const;
    Reply healthz(const Call& call) const;
    Reply channel_status(const Call& call) const;
    Reply switch_pipeline(const Call& call) const;
    Reply metrics(const Call& call) const;
    bool known_channel(std::string_view channel) const;
    Response timeshift_master(const TimeShiftWindow& window) const;
    Response timeshift_media(std::string_view rendition, const TimeShiftWindow& window) const;
    std::optional<DvrFigures> dvr_figures() const;
    std::optional<HttpFigures> http_figures() const;
    Reply signed_playback(const Request& request) const;

    SegmentStore& store_;
    const core::ChannelStatus& status_;
    NowMs now_ms_;
    std::string api_token_;
    std::atomic<const Dvr*> dvr_{nullptr};
    std::function<HttpFigures()> http_figures_;
    const PlaybackSigner* signer_ = nullptr;
    Router router_;
};

}  // namespace onair::origin
