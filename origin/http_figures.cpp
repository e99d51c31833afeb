#include "origin/http_figures.hpp"

#include <algorithm>
#include <bit>

namespace onair::origin {

int HttpRecorder::bucket(int64_t us) {
    if (us < 8) return int(std::max<int64_t>(us, 0));
    const int power = std::bit_width(uint64_t(us)) - 1;  // >= 3
    const int fraction = int((us >> (power - 3)) & 7);
    return std::min(kBuckets - 1, (power - 2) * 8 + fraction);
}

int64_t HttpRecorder::bucket_upper_us(int b) {
    if (b < 8) return b;
    const int power = b / 8 + 2;
    const int fraction = b % 8;
    return ((int64_t(8 + fraction) + 1) << (power - 3)) - 1;
}

void HttpRecorder::record(int64_t now_s, int64_t response_us) {
    Slot& slot = slots_[std::size_t(now_s % kSlots)];
    if (slot.second.load(std::memory_order_relaxed) != now_s) {
        for (auto& b : slot.buckets) b.store(0, std::memory_order_relaxed);
        slot.second.store(now_s, std::memory_order_release);
    }
    auto& b = slot.buckets[std::size_t(bucket(response_us))];
    b.store(b.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    add(requests_, 1);
    add(response_us_, response_us);
}

void HttpRecorder::collect(int64_t now_s, HttpFigures& out,
                           std::array<int64_t, kBuckets>& window) const {
    out.requests += requests_.load(std::memory_order_relaxed);
    out.accepted += accepted_.load(std::memory_order_relaxed);
    out.refused += refused_.load(std::memory_order_relaxed);
    out.response_seconds_sum += double(response_us_.load(std::memory_order_relaxed)) / 1e6;
    for (const Slot& slot : slots_) {
        const int64_t second = slot.second.load(std::memory_order_acquire);
        if (second <= now_s - kWindowSeconds || second > now_s) continue;
        for (int b = 0; b < kBuckets; ++b)
            window[std::size_t(b)] += slot.buckets[std::size_t(b)].load(std::memory_order_relaxed);
    }
}

void HttpRecorder::quantiles(const std::array<int64_t, kBuckets>& window, HttpFigures& out) {
    int64_t total = 0;
    for (auto n : window) total += n;
    out.window_requests = total;
    out.requests_per_second = double(total) / kWindowSeconds;
    if (total == 0) return;
    auto at = [&](double q) {
        const int64_t rank = std::max<int64_t>(1, int64_t(q * double(total) + 0.999999));
        int64_t seen = 0;
        for (int b = 0; b < kBuckets; ++b) {
            seen += window[std::size_t(b)];
            if (seen >= rank) return bucket_upper_us(b);
        }
        return bucket_upper_us(kBuckets - 1);
    };
    out.p50_us = at(0.50);
    out.p90_us = at(0.90);
    out.p99_us = at(0.99);
    out.max_us = at(1.0);
}

}  // namespace onair::origin
