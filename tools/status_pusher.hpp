#pragma once
// Reports a pipeline's live status to the origin once a second, so the
// origin's /healthz and status API show a pipeline in another process like
// one of its own.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <stop_token>
#include <string>
#include <thread>

#include "core/status.hpp"
#include "origin/http_client.hpp"

namespace onair::tools {

struct StatusPusherOptions {
    origin::HttpUrl origin;  // http://HOST:PORT of the origin
    std::string channel;
    std::string token;  // the ingest token
    std::chrono::milliseconds interval{1000};
    origin::HttpClientOptions http = {.connect_timeout = std::chrono::seconds(1),
                                      .write_timeout = std::chrono::seconds(1),
                                      .read_timeout = std::chrono::seconds(1),
                                      .total_timeout = std::chrono::seconds(2),
                                      .body_limit = 64 * 1024};
};

// In: the pipeline's status (read, never written). Out: a PUT of every
// status figure (core/status.hpp's tables, sent as origin/ingest_protocol.hpp's
// StatusReport) each interval from its
// own thread; a failure is logged once until the origin answers again, and
// the next interval simply tries again. stop() ends the thread promptly and
// then sends one last report (the stopped state), bounded by the client's
// timeouts. Owns its thread and connection; `status` must outlive it.
class StatusPusher {
  public:
    StatusPusher(StatusPusherOptions options, const core::PipelineRuntimeStatus& status);
    ~StatusPusher();
    StatusPusher(const StatusPusher&) = delete;
    StatusPusher& operator=(const StatusPusher&) = delete;

    void start();
    void stop();
    int64_t sent() const { return sent_.load(); }

  private:
    void run(std::stop_token stop);
    bool push(std::stop_token stop);

    const StatusPusherOptions options_;
    const core::PipelineRuntimeStatus& status_;
    origin::HttpClient client_;  // the pusher thread's, then stop()'s
    bool failing_ = false;
    std::atomic<int64_t> sent_{0};
    std::jthread worker_;
};

}  // namespace onair::tools
