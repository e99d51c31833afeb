#pragma once
// The time anchor of a pipeline in its own process: the origin keeps the
// list of offsets both pipelines share, so pipelines in two processes (or a
// restarted one) number segments alike.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "core/media_time.hpp"
#include "origin/http_client.hpp"

namespace onair::tools {

struct RemoteAnchorOptions {
    origin::HttpUrl origin;  // http://HOST:PORT of the origin
    std::string channel;
    std::string token;                        // the ingest token
    std::chrono::milliseconds timeout{1000};  // for one whole look-up
};

// lock() POSTs its arguments to the origin's /ingest/v1/CHANNEL/anchor and
// returns the origin's answer. When the origin does not answer within the
// timeout (or refuses), it falls back to the local list this object keeps
// (core::TimeAnchor's own lock) and logs a warning, once until the origin
// answers again. Called from the pipeline thread, rarely (at a lock or a
// re-lock); blocks it for at most the timeout. Thread-safe.
class RemoteTimeAnchor final : public core::TimeAnchor {
  public:
    RemoteTimeAnchor(RemoteAnchorOptions options, int64_t tolerance_ticks);

    int64_t lock(int64_t pts, int64_t now, int64_t lag, int64_t tolerance) override;

    int64_t remote_locks() const { return remote_.load(); }
    int64_t local_locks() const { return local_.load(); }

  private:
    const RemoteAnchorOptions options_;
    std::mutex mutex_;  // one look-up at a time: the client is not thread-safe
    origin::HttpClient client_;
    bool warned_ = false;
    std::atomic<int64_t> remote_{0}, local_{0};
};

}  // namespace onair::tools
