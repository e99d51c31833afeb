#pragma once
// The origin's ingest side: pipelines in other processes push segments,
// ask for the shared time anchor and report their status over HTTP (the
// format is in ingest_protocol.hpp).
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/media_time.hpp"
#include "core/segment.hpp"
#include "core/status.hpp"
#include "origin/http_message.hpp"
#include "origin/playlist.hpp"
#include "origin/router.hpp"
#include "origin/segment_store.hpp"

namespace onair::origin {

struct IngestOptions {
    std::string channel;
    std::vector<std::string> renditions;  // the ladder's names
    int64_t segment_length = 0;           // 90 kHz ticks
    std::string token;                    // the ingest token; empty refuses every request
    core::Container container = core::Container::ts;  // what pushes must be
    int64_t part_length = 0;  // LL-HLS part length, 90 kHz ticks; 0: parts are refused

    static IngestOptions from_store(const StoreOptions& store, std::string token);
};

// Answers
//   PUT  /ingest/v1/CHANNEL/PIPELINE/RENDITION/SEQ.ts  201 stored, 200 duplicate
//        (SEQ.m4s with X-Onair-Init on an fmp4 channel)
//   PUT  /ingest/v1/CHANNEL/PIPELINE/RENDITION/SEQ.K.m4s  201: an LL-HLS part
//   POST /ingest/v1/CHANNEL/anchor                     200 {"offset": N}
//   PUT  /ingest/v1/CHANNEL/PIPELINE/status            200
// each only with "Authorization: Bearer TOKEN" (else 401, before anything
// else is looked at). A push is checked whole (path, every header, the TS
// packet structure, its sequence number against its start time) and reaches
// the sink only when all of it is right; otherwise a JSON 4xx says why and
// nothing changes. A status report is copied into that pipeline's entry of
// the ChannelStatus, so /healthz shows remote pipelines like local ones.
// Body size limits are the server's (HttpServerOptions::ingest_body_limit).
// In: a parsed request on any server thread (concurrently). Out: a complete
// response. Owns nothing; sink, store view, status and anchor outlive it.
class IngestRoutes {
  public:
    // Whether pipeline's copy of rendition/sequence is held already.
    using HeldCopy =
        std::function<bool(std::string_view rendition, int64_t sequence, char pipeline)>;

    IngestRoutes(IngestOptions options, core::SegmentSink& sink, HeldCopy held,
                 core::ChannelStatus& status, core::TimeAnchor& anchor);
    // The store both receives the segments and tells what it holds.
    IngestRoutes(IngestOptions options, SegmentStore& store, core::ChannelStatus& status,
                 core::TimeAnchor& anchor);
    using NowMs = std::function<int64_t()>;  // UTC ms; the system clock when not set
    void set_clock(NowMs now_ms) { now_ms_ = std::move(now_ms); }

    // Puts these routes on `router` (a channel's); this object must outlive it.
    void add_routes(Router& router) const;
    // These routes alone.
    Reply operator()(const Request& request) const { return router_(request); }
    Handler handler() const { return router_.handler(); }

    // A pipeline whose encoder has reported its status before but not for
    // `max_age_ms` (the process died or is cut off) is shown as stopped,
    // with a note saying so, until it reports again. Call periodically.
    void expire_reports(int64_t now_ms, int64_t max_age_ms = kReportMaxAgeMs) const;
    static constexpr int64_t kReportMaxAgeMs = 5000;

    // Counters for status pages and tests.
    int64_t stored() const { return stored_.load(); }
    int64_t duplicates() const { return duplicates_.load(); }
    int64_t rejected() const { return rejected_.load(); }

  private:
    // Checks what a push's path names (pipeline, rendition); empty when right.
    std::optional<Response> wrong_names(std::string_view pipeline,
                                        std::string_view rendition) const;
    Response push_part(const Request& request, std::string_view pipeline,
                       std::string_view rendition, PartName name) const;
    Response push_segment(const Request& request, std::string_view pipeline,
                          std::string_view rendition, std::string_view file) const;
    Response lock_anchor(const Request& request) const;
    Response put_status(const Request& request, std::string_view pipeline) const;
    bool authorized(const Request& request) const;
    Response unauthorized(const Request& request) const;
    Response unknown_channel(std::string_view channel) const;
    // The status entry of a pipeline named in a path; null when it is not configured.
    core::PipelineRuntimeStatus* pipeline_entry(std::string_view name) const;

    const IngestOptions options_;
    core::SegmentSink& sink_;
    HeldCopy held_;
    core::ChannelStatus& status_;
    core::TimeAnchor& anchor_;
    NowMs now_ms_;
    mutable std::atomic<int64_t> stored_{0}, duplicates_{0}, rejected_{0}, unauthorized_{0};
    // UTC ms of each pipeline's last status report ('a', 'b'); 0: none pending.
    mutable std::atomic<int64_t> reported_ms_[2] = {0, 0};
    Router router_;
};

}  // namespace onair::origin
