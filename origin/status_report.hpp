#pragma once
// What the channel's status looks like to people and to monitoring: the
// status API's JSON and the Prometheus text of /metrics, from the failover's
// figures and the pipelines' live status. Pure: values in, text out.
#include <cstdint>
#include <string>

#include <boost/json/object.hpp>

#include "core/status.hpp"
#include "origin/segment_store.hpp"

namespace onair::origin {

// GET /api/v1/channels/CHANNEL: inputs, pipelines, the active pipeline,
// switches and latency.
std::string channel_status_json(const core::ChannelStatus& status, const FailoverStatus& failover,
                                int64_t now_ms);

// One pipeline's input: state, bitrate, last packet age, damage counters.
boost::json::object input_status_json(const core::PipelineRuntimeStatus& pipeline, int64_t now_ms);

// GET /metrics: the same figures as Prometheus gauges and counters (text
// exposition format 0.0.4).
std::string prometheus_metrics(const core::ChannelStatus& status, const FailoverStatus& failover,
                               int64_t now_ms);

inline constexpr const char* kMimePrometheus = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace onair::origin
