#pragma once
// The origin's request handler: a small table of path patterns, each with
// its methods and a function that answers it.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"
#include "origin/dvr.hpp"
#include "origin/http_message.hpp"
#include "origin/segment_store.hpp"
#include "origin/status_report.hpp"
#include "origin/timeshift.hpp"

namespace onair::origin {

// Answers
//   GET|HEAD /live/CHANNEL/master.m3u8[?start=T[&end=T]]
//   GET|HEAD /live/CHANNEL/RENDITION/index.m3u8[?start=T[&end=T]]   time-shift from the DVR
//   GET|HEAD /live/CHANNEL/RENDITION/SEQ.ts     the store's, else the DVR's
//   GET|HEAD /healthz
//   GET|HEAD /api/v1/channels/CHANNEL          status: inputs, pipelines, failover
//   POST     /api/v1/channels/CHANNEL/switch   {"to": "a"|"b"} (Bearer API token)
//   GET|HEAD /metrics                          Prometheus text
// and OPTIONS (CORS preflight) on each. Everything comes from the store,
// the DVR and the channel's status; the only files read are the DVR's, for a
// well-formed sequence number of a known rendition. Paths are
// decoded per segment and refused (400) if any segment could walk out of its
// place ("." "..", '/', '\\' or NUL after decoding, empty) or the path is
// longer than kMaxPath. In: a parsed request, on any server thread
// (concurrently). Out: a complete response. Does not own the store or the
// status; both must outlive it.
class Routes {
  public:
    using NowMs = std::function<int64_t()>;  // UTC now in ms (injectable for tests)
    static constexpr std::size_t kMaxPath = 1024;

    Routes(SegmentStore& store, const core::ChannelStatus& status, NowMs now_ms = {});

    // The token control calls (POST) must bring as "Authorization: Bearer";
    // without one, control calls are refused (403). Set before serving.
    void set_api_token(std::string token) { api_token_ = std::move(token); }

    Response operator()(const Request& request) const;
    // This object as a server's handler; it must outlive the server.
    Handler handler() const {
        return [this](const Request& request) { return (*this)(request); };
    }
    // Requests under /ingest/ go to `ingest` (IngestRoutes) when set; set it
    // before serving.
    void set_ingest(Handler ingest) { ingest_ = std::move(ingest); }
    // Clip requests go to `clips` when set (after the path checks): /vod/...,
    // /api/v1/clips..., /api/v1/channels/CHANNEL/clips. Set before serving.
    void set_clips(Handler clips) { clips_ = std::move(clips); }
    // Time-shifted playlists and segments gone from the store come from
    // `dvr` when set (else time-shift requests get 404). Set before serving;
    // it must outlive the serving.
    void set_dvr(const Dvr* dvr) { dvr_ = dvr; }

  private:
    struct Call {
        const Request& request;
        std::vector<std::string> params;  // the pattern's {placeholders}, in order
    };
    using Answer = Response (Routes::*)(const Call&) const;
    struct Route {
        std::vector<std::string_view> pattern;  // literal segments or "{name}"
        std::vector<boost::beast::http::verb> methods;
        std::string_view allow;  // the Allow header: methods + OPTIONS
        Answer answer;
    };

    Response route(const Request& request) const;  // HEAD answered as GET
    Response master(const Call& call) const;
    Response media_playlist(const Call& call) const;
    Response segment(const Call& call) const;
    Response healthz(const Call& call) const;
    Response channel_status(const Call& call) const;
    Response switch_pipeline(const Call& call) const;
    Response metrics(const Call& call) const;
    // Why the request may not make control calls; empty when it may.
    std::optional<Response> refuse_control(const Request& request) const;
    bool known_channel(std::string_view channel) const;
    Response timeshift_master(const TimeShiftWindow& window) const;
    std::optional<DvrFigures> dvr_figures() const;
    Response timeshift_media(const std::string& rendition, const TimeShiftWindow& window) const;

    SegmentStore& store_;
    const core::ChannelStatus& status_;
    NowMs now_ms_;
    std::string api_token_;
    std::vector<Route> routes_;
    Handler ingest_;
    Handler clips_;
    const Dvr* dvr_ = nullptr;
};

}  // namespace onair::origin
