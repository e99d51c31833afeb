// Token buckets per client address, on a clock the test moves.
#include <catch2/catch.hpp>

#include "origin/rate_limit.hpp"

using namespace onair::origin;

TEST_CASE("rate limit: a burst, then the steady rate, per client", "[origin][rate]") {
    RateLimiter limiter({.per_second = 10, .burst = 5});
    int64_t now = 1'000'000;
    for (int i = 0; i < 5; ++i) CHECK(limiter.wait_ms("10.0.0.1", now) == 0);
    CHECK(limiter.wait_ms("10.0.0.1", now) == 100);  // one token every 100 ms
    CHECK(limiter.wait_ms("10.0.0.2", now) == 0);    // another client has its own
    now += 50;
    CHECK(limiter.wait_ms("10.0.0.1", now) == 50);
    now += 50;
    CHECK(limiter.wait_ms("10.0.0.1", now) == 0);
    CHECK(limiter.wait_ms("10.0.0.1", now) == 100);
    // A second later: ten more, but never more than the burst.
    now += 1000;
    for (int i = 0; i < 5; ++i) CHECK(limiter.wait_ms("10.0.0.1", now) == 0);
    CHECK(limiter.wait_ms("10.0.0.1", now) > 0);
    // 100 requests over 10 s at the rate are all let through.
    now += 1000;
    int refused = 0;
    for (int i = 0; i < 100; ++i, now += 100) refused += limiter.wait_ms("10.0.0.3", now) > 0;
    CHECK(refused == 0);
}

TEST_CASE("rate limit: off lets everything through; idle clients are forgotten", "[origin][rate]") {
    RateLimiter off({});
    CHECK_FALSE(off.enabled());
    for (int i = 0; i < 1000; ++i) CHECK(off.wait_ms("10.0.0.1", 0) == 0);
    CHECK(off.clients() == 0);

    RateLimiter limiter({.per_second = 1, .burst = 2});
    for (int i = 0; i < 1000; ++i) limiter.wait_ms("10.1." + std::to_string(i), 0);
    CHECK(limiter.clients() == 1000);
    limiter.wait_ms("10.9.9.9", 61'000);  // a minute on: the full buckets go
    CHECK(limiter.clients() == 1);
}
