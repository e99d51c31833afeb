#pragma once
// The segment sink of a pipeline in its own process: pushes each segment
// (and, in LL-HLS, each part before it) to the origin over HTTP PUT (format
// in origin/ingest_protocol.hpp).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <variant>

#include "core/bounded_queue.hpp"
#include "core/segment.hpp"
#include "origin/http_client.hpp"

namespace onair::tools {

struct SegmentPusherOptions {
    origin::HttpUrl origin;  // http://HOST:PORT of the origin
    std::string channel;
    std::string token;                      // the ingest token
    std::size_t capacity = 64;              // segments waiting; beyond it the oldest is dropped
    std::string queue_name = "push";        // in the status API and /metrics
    core::QueueRegistry* queues = nullptr;  // where the queue registers; null: nowhere
    // A segment is worth pushing until its end is this old (ticks): past the
    // playlist window no player can ask for it.
    int64_t useful_ticks = 60 * 90000;
    // A part, until its end is this old: past it players have moved on.
    int64_t part_useful_ticks = 3 * 90000;
    // A part is queued only while fewer than this many items wait: parts help
    // only a pusher that keeps up, and must never crowd segments out.
    std::size_t part_backlog = 8;
    std::chrono::milliseconds first_backoff{250};
    std::chrono::milliseconds max_backoff{4000};
    origin::HttpClientOptions http = {.connect_timeout = std::chrono::seconds(2),
                                      .write_timeout = std::chrono::seconds(10),
                                      .read_timeout = std::chrono::seconds(10),
                                      .body_limit = 64 * 1024};
};

// In: on_segment() from the pipeline thread; it never blocks (a bounded
// queue, drop_oldest: when full the oldest segment is dropped, counted and
// logged). Out:
// one PUT per segment, in order, from the pusher's own thread over one
// keep-alive connection. No answer or a 5xx (or 408/429) is retried with
// doubling waits while the segment is still useful; any other 4xx drops it
// (a retry cannot change the answer) with a log line. start() and stop()
// from the owning thread; stop(grace) delivers what is queued for at most
// `grace`, then ends the thread, interrupting a wait or a request in flight.
class SegmentPusher final : public core::SegmentSink {
  public:
    explicit SegmentPusher(SegmentPusherOptions options);
    ~SegmentPusher() override;
    SegmentPusher(const SegmentPusher&) = delete;
    SegmentPusher& operator=(const SegmentPusher&) = delete;

    void start();
    void on_segment(core::Segment segment) override;
    void on_part(core::Part part) override;
    void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

    int64_t stored() const { return stored_.load(); }              // answered 201 (parts too)
    int64_t duplicates() const { return duplicates_.load(); }      // answered 200
    int64_t dropped() const { return int64_t(queue_.dropped()); }  // queue overflow
    int64_t refused() const { return refused_.load(); }            // answered 4xx
    int64_t expired() const { return expired_.load(); }            // no longer useful, or stopped
    int64_t retries() const { return retries_.load(); }
    int64_t parts_skipped() const { return parts_skipped_.load(); }  // behind, or failed once

  private:
    void run(std::stop_token stop);
    // A segment or a part, pushed in the order the pipeline made them.
    using Item = std::variant<core::Segment, core::Part>;
    void deliver(const Item& item, std::stop_token stop);
    // Why an item is no longer worth pushing; empty while it is.
    std::string_view useless(const Item& item);
    // Waits `d`, or less when stopping; false when the thread must end.
    bool pause(std::chrono::milliseconds d, const std::stop_token& stop);

    const SegmentPusherOptions options_;
    origin::HttpClient client_;  // the pusher thread's only
    core::BoundedQueue<Item> queue_;
    std::mutex mutex_;  // closing_, close_deadline_, finished_
    std::condition_variable_any wake_;
    bool closing_ = false;
    bool finished_ = false;  // the thread has ended
    std::chrono::steady_clock::time_point close_deadline_{};
    bool failing_ = false;  // the pusher thread's: logging once per outage
    int64_t failures_ = 0;
    std::atomic<int64_t> stored_{0}, duplicates_{0}, refused_{0}, expired_{0}, retries_{0},
        parts_skipped_{0};
    std::jthread worker_;  // last: it stops and joins before the rest goes
};

}  // namespace onair::tools
