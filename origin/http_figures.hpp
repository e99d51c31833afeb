#pragma once
// The HTTP server's own figures (connections, requests per second, response
// times) and the recorder its threads write them into: one per thread,
// written only by that thread (relaxed atomics, no lock, no shared cache
// line), read by whoever shows them (status API, /metrics).
#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

namespace onair::origin {

struct HttpFigures {
    int64_t connections = 0;      // open now
    int64_t max_connections = 0;  // the limit (0: none)
    int64_t accepted = 0;         // since start-up
    int64_t refused = 0;          // connections turned away at the limit
    int64_t requests = 0;         // answered since start-up
    // Over the last kWindowSeconds seconds (this one included):
    double requests_per_second = 0;
    int64_t window_requests = 0;
    int64_t p50_us = 0, p90_us = 0, p99_us = 0, max_us = 0;  // request read -> response written
    double response_seconds_sum = 0;                         // since start-up
};

// One thread's record of its responses: a histogram of response times per
// second for the last seconds (log-linear buckets: 8 per power of two,
// about 9% wide), and counters. record() is called by the owning thread only.
class HttpRecorder {
  public:
    static constexpr int kWindowSeconds = 10;
    static constexpr int kSlots = kWindowSeconds + 2;
    static constexpr int kBuckets = 8 * 27;  // up to 2^27 us (134 s)

    void record(int64_t now_s, int64_t response_us);
    void accepted() { add(accepted_, 1); }
    void refused() { add(refused_, 1); }

    // Adds this recorder's figures to `out` (counters) and its window to
    // `window` (bucket counts over the kWindowSeconds seconds up to now_s).
    void collect(int64_t now_s, HttpFigures& out, std::array<int64_t, kBuckets>& window) const;

    static int bucket(int64_t us);
    static int64_t bucket_upper_us(int b);
    // Fills the window figures of `out` from summed buckets.
    static void quantiles(const std::array<int64_t, kBuckets>& window, HttpFigures& out);

  private:
    // Written by one thread: load + store, not a locked read-modify-write.
    static void add(std::atomic<int64_t>& a, int64_t v) {
        a.store(a.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
    }
    struct Slot {
        std::atomic<int64_t> second{-1};
        std::array<std::atomic<uint32_t>, kBuckets> buckets{};
    };
    std::array<Slot, kSlots> slots_{};
    std::atomic<int64_t> requests_{0}, accepted_{0}, refused_{0}, response_us_{0};
};

}  // namespace onair::origin
