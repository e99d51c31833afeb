#pragma once
// What the channel's status looks like to people and to monitoring: the
// status API's JSON and the Prometheus text of /metrics, from the failover's
// figures, the pipelines' live status (each figure as its row in
// core/status.hpp declares it) and the channel's queues. Pure: values in,
// text out.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <boost/json/object.hpp>

#include "core/status.hpp"
#include "origin/dvr.hpp"
#include "origin/http_figures.hpp"
#include "origin/segment_store.hpp"

namespace onair::origin {

// What the DVR holds, for the status API and /metrics.
struct DvrFigures {
    int64_t segments = 0;
    int64_t bytes = 0;
    int64_t expired = 0;
    int64_t dropped = 0;
    std::optional<std::pair<int64_t, int64_t>> extent;  // oldest start, newest end (media time)
    DvrHealth health;
};

// GET /api/v1/channels/CHANNEL: inputs, pipelines, the active pipeline,
// switches and latency; the DVR's figures when there is one; the channel's
// queues by name ("queues": {NAME: {capacity, overflow, depth, high_water,
// pushed, popped, dropped}}).
// With `http`, the origin's own figures ("origin": connections, limit,
// accepted, refused, requests, requests_per_second, response_time: p50_ms,
// p90_ms, p99_ms, max_ms over the last window_s).
std::string channel_status_json(const core::ChannelStatus& status, const FailoverStatus& failover,
                                int64_t now_ms, const std::optional<DvrFigures>& dvr = {},
                                const std::optional<HttpFigures>& http = {});

// One pipeline's input: state, bitrate, last packet age, damage counters.
boost::json::object input_status_json(const core::PipelineRuntimeStatus& pipeline, int64_t now_ms);

// GET /metrics: the same figures as Prometheus gauges and counters (text
// exposition format 0.0.4, one HELP and TYPE per family); the queues as
// onair_queue_{capacity,depth,high_water,pushed_total,popped_total,
// dropped_total}{queue="NAME"}.
// With `http`: onair_http_connections, _connections_limit,
// _connections_accepted_total, _connections_refused_total,
// _requests_per_second and the summary onair_http_response_seconds.
std::string prometheus_metrics(const core::ChannelStatus& status, const FailoverStatus& failover,
                               int64_t now_ms, const std::optional<DvrFigures>& dvr = {},
                               const std::optional<HttpFigures>& http = {});

inline constexpr const char* kMimePrometheus = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace onair::origin
