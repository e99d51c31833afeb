#pragma once
// What the controller asks a running channel's origin: its status
// (GET /api/v1/channels/CHANNEL), reduced to what the events API shows and
// what readiness needs. One keep-alive connection per channel; a short
// deadline, so a hung channel never holds the monitor. Owned and called by
// the controller's monitor thread only.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "origin/http_client.hpp"
#include "schedule/runner.hpp"

namespace onair::schedule {

struct ChannelSummary {
    bool answering = false;  // the origin answered 200 with a status
    // Every pipeline has published a segment (slate counts: it runs).
    bool pipelines_run = false;
    std::string problem;  // why not, for the log: "connect: Connection refused"
    // {"active_pipeline", "pipelines": {"a": {"state", "last_segment"}},
    //  "inputs": {"a": {"state", "bitrate_bps"...}}, "latency": {...}}
    boost::json::object status;
};

class ChannelProbe {
  public:
    explicit ChannelProbe(const Deployment& deployment,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(800));
    ChannelSummary probe();
    const Deployment& deployment() const { return deployment_; }

  private:
    Deployment deployment_;
    std::string target_;
    std::unique_ptr<origin::HttpClient> client_;
};

}  // namespace onair::schedule
