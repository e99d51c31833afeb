#pragma once
// Requests per client address, as token buckets: each address may make
// `per_second` requests a second on average, `burst` at once. The HTTP
// server asks before it answers a route the limit guards (the API and
// ingest), and answers 429 with Retry-After when the bucket is empty.
// Thread-safe: one mutex, taken only for guarded routes.
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace onair::origin {

struct RateLimitOptions {
    double per_second = 0;  // 0: no limit
    double burst = 0;       // bucket size; at least 1 when limited
};

class RateLimiter {
  public:
    explicit RateLimiter(RateLimitOptions options);
    bool enabled() const { return options_.per_second > 0; }
    // 0 when `client` may go on at `now_ms` (a token is taken); else how
    // many milliseconds until it may.
    int64_t wait_ms(std::string_view client, int64_t now_ms);
    std::size_t clients() const;  // buckets held (full ones are forgotten)

  private:
    struct Bucket {
        double tokens = 0;
        int64_t at_ms = 0;  // when `tokens` was counted
    };
    void forget_full(int64_t now_ms);  // caller holds mutex_

    const RateLimitOptions options_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Bucket> buckets_;
    int64_t swept_ms_ = 0;
};

}  // namespace onair::origin
