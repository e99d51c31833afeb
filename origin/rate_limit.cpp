#include "origin/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace onair::origin {

namespace {

constexpr int64_t kSweepEveryMs = 60'000;

RateLimitOptions with_whole_burst(RateLimitOptions o) {
    o.burst = std::max(1.0, o.burst);
    return o;
}

}  // namespace

RateLimiter::RateLimiter(RateLimitOptions options) : options_(with_whole_burst(options)) {}

int64_t RateLimiter::wait_ms(std::string_view client, int64_t now_ms) {
    if (!enabled()) return 0;
    std::lock_guard lock(mutex_);
    if (now_ms - swept_ms_ >= kSweepEveryMs) forget_full(now_ms);
    auto [it, added] = buckets_.try_emplace(std::string(client), Bucket{options_.burst, now_ms});
    Bucket& b = it->second;
    if (!added) {
        const double refill =
            double(std::max<int64_t>(0, now_ms - b.at_ms)) / 1000.0 * options_.per_second;
        b.tokens = std::min(options_.burst, b.tokens + refill);
        b.at_ms = now_ms;
    }
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return 0;
    }
    return int64_t(std::ceil((1.0 - b.tokens) / options_.per_second * 1000.0));
}

std::size_t RateLimiter::clients() const {
    std::lock_guard lock(mutex_);
    return buckets_.size();
}

void RateLimiter::forget_full(int64_t now_ms) {
    swept_ms_ = now_ms;
    std::erase_if(buckets_, [&](const auto& entry) {
        const Bucket& b = entry.second;
        return b.tokens + double(now_ms - b.at_ms) / 1000.0 * options_.per_second >= options_.burst;
    });
}

}  // namespace onair::origin
