#pragma once
// Webhook notifications (failover switches, clip jobs): JSON events POSTed
// to one URL, off the caller's thread.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/bounded_queue.hpp"
#include "core/result.hpp"
#include "origin/http_client.hpp"

namespace onair::origin {

struct WebhookOptions {
    std::size_t capacity = 64;              // events waiting; beyond it the oldest is dropped
    std::string queue_name = "webhook";     // in the status API and /metrics
    core::QueueRegistry* queues = nullptr;  // where the queue registers; null: nowhere
    // Waits between attempts; once they are used up the event is given up.
    std::vector<std::chrono::milliseconds> backoff = {
        std::chrono::milliseconds(500), std::chrono::seconds(1), std::chrono::seconds(2),
        std::chrono::seconds(4), std::chrono::seconds(8)};
    HttpClientOptions http = {.connect_timeout = std::chrono::seconds(2),
                              .write_timeout = std::chrono::seconds(5),
                              .read_timeout = std::chrono::seconds(5),
                              .body_limit = 64 * 1024};
};

// In: post(json) from any thread; it never blocks (a bounded queue,
// drop_oldest: when full the oldest event is dropped and counted). Out: each event POSTed in
// order with Content-Type: application/json by the notifier's own thread;
// an answer other than 2xx, or none, is retried after each wait in
// `backoff`, then given up with a log line (4xx other than 408 and 429 at
// once: the receiver refuses it). stop() (and the destructor) end the thread
// promptly, interrupting a wait or a request in flight; what is still
// queued is dropped with a log line. Owns its thread and connection.
class WebhookNotifier {
  public:
    // Fails when `url` is not http://HOST[:PORT][/PATH].
    static core::Result<std::unique_ptr<WebhookNotifier>> create(std::string_view url,
                                                                 WebhookOptions options = {});
    explicit WebhookNotifier(HttpUrl url, WebhookOptions options = {});
    ~WebhookNotifier();
    WebhookNotifier(const WebhookNotifier&) = delete;
    WebhookNotifier& operator=(const WebhookNotifier&) = delete;

    void post(std::string json);
    void stop();

    const HttpUrl& url() const { return url_; }
    int64_t delivered() const { return delivered_.load(); }
    int64_t dropped() const { return int64_t(queue_.dropped()); }  // queue overflow
    int64_t failed() const { return failed_.load(); }  // given up after retries or refused
    int64_t attempts() const { return attempts_.load(); }

  private:
    void run(std::stop_token stop);
    bool deliver(HttpClient& client, const std::string& json, std::stop_token stop);

    const HttpUrl url_;
    const WebhookOptions options_;
    core::BoundedQueue<std::string> queue_;
    std::mutex pause_mutex_;  // the waits between attempts
    std::condition_variable_any pause_;
    std::atomic<int64_t> delivered_{0}, failed_{0}, attempts_{0};
    std::jthread worker_;  // last: it stops and joins before the rest goes
};

}  // namespace onair::origin
