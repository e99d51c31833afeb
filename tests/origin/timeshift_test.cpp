// Time-shift: the times people write in ?start= and ?end=, and the window
// a request target asks for.
#include <catch2/catch.hpp>

#include "origin/timeshift.hpp"

using namespace onair::origin;

namespace {

constexpr int64_t kTicks = 90000;
// 2026-12-01T20:00:00Z
constexpr int64_t kEight = 1796155200LL * kTicks;

}  // namespace

TEST_CASE("time: ISO 8601 with a zone", "[timeshift]") {
    CHECK(parse_time("2026-12-01T20:00:00Z") == kEight);
    CHECK(parse_time("2026-12-01t20:00:00z") == kEight);
    CHECK(parse_time("2026-12-01T21:00:00+01:00") == kEight);
    CHECK(parse_time("2026-12-01T21:00:00+0100") == kEight);
    CHECK(parse_time("2026-12-01T21:00:00+01") == kEight);
    CHECK(parse_time("2026-12-01T15:30:00-04:30") == kEight);
    CHECK(parse_time("2026-12-01T21:00:00 01:00") == kEight);  // '+' read as a space
    CHECK(parse_time("2026-12-01T20:00Z") == kEight);          // no seconds
    CHECK(parse_time("2026-12-01T20:00:00.5Z") == kEight + kTicks / 2);
    CHECK(parse_time("2026-12-01T20:00:00,250Z") == kEight + kTicks / 4);
    CHECK(parse_time("2026-12-01T20:00:00.123456789Z") == kEight + 11111);
    CHECK(parse_time("2024-02-29T00:00:00Z") == 1709164800LL * kTicks);
    CHECK(parse_time("2026-12-02T00:30:00+04:30") == kEight);  // across midnight
}

TEST_CASE("time: epoch seconds, whole or fractional", "[timeshift]") {
    CHECK(parse_time("1796155200") == kEight);
    CHECK(parse_time("1796155200.5") == kEight + kTicks / 2);
    CHECK(parse_time("1796155200.000011") == kEight);  // below a tick
    CHECK(parse_time("0") == 0);
}

TEST_CASE("time: malformed, zoneless or impossible times are refused", "[timeshift]") {
    for (const char* text : {"",
                             "yesterday",
                             "2026-12-01T20:00:00",
                             "2026-12-01 20:00:00Z",
                             "2026-12-01",
                             "2026-13-01T20:00:00Z",
                             "2026-02-30T20:00:00Z",
                             "2026-12-01T24:00:00Z",
                             "2026-12-01T20:60:00Z",
                             "2026-12-01T20:00:60Z",
                             "2026-12-01T20:00:00+25:00",
                             "2026-12-01T20:00:00+01:60",
                             "2026-12-01T20:00:00.Z",
                             "2026-12-01T20:00:00Zjunk",
                             "26-12-01T20:00:00Z",
                             "-1796155200",
                             "1796155200.",
                             ".5",
                             "1.2.3",
                             "1e9",
                             "9999999999999",
                             "1796155200.1234567890",
                             "+1796155200",
                             "0x10"}) {
        INFO("'" << text << "'");
        CHECK_FALSE(parse_time(text));
    }
}

TEST_CASE("window: start and end from the query, spelt again for variant URIs", "[timeshift]") {
    auto w =
        parse_timeshift("/live/demo/master.m3u8?start=2026-12-01T21:00:00+01:00&end=1796155260");
    REQUIRE(w);
    REQUIRE(*w);
    CHECK((*w)->start == kEight);
    CHECK((*w)->end == kEight + 60 * kTicks);
    CHECK((*w)->query == "start=2026-12-01T21:00:00%2B01:00&end=1796155260");

    w = parse_timeshift("/x?end=2026-12-01T20:01:00Z&start=2026-12-01T21:00:00%2B01:00&other=1");
    REQUIRE(w);
    REQUIRE(*w);
    CHECK((*w)->start == kEight);
    CHECK((*w)->query == "start=2026-12-01T21:00:00%2B01:00&end=2026-12-01T20:01:00Z");

    w = parse_timeshift("/x?start=1796155200");
    REQUIRE(w);
    REQUIRE(*w);
    CHECK_FALSE((*w)->end);
    CHECK((*w)->query == "start=1796155200");

    w = parse_timeshift("/x?pipeline=a");
    REQUIRE(w);
    CHECK_FALSE(*w);
    w = parse_timeshift("/x");
    REQUIRE(w);
    CHECK_FALSE(*w);
}

TEST_CASE("window: what makes a 400, with the reason", "[timeshift]") {
    struct Case {
        const char* target;
        const char* reason;
    };
    for (auto [target, reason] : {
             Case{"/x?start=yesterday", "start 'yesterday' is not a time"},
             Case{"/x?start=2026-12-01T20:00:00", "is not a time"},
             Case{"/x?start=1796155200&end=noon", "end 'noon' is not a time"},
             Case{"/x?start=1796155200&end=1796155200", "start must be before end"},
             Case{"/x?start=1796155260&end=1796155200", "start must be before end"},
             Case{"/x?end=1796155200", "end needs a start"},
             Case{"/x?start=1&start=2", "start is given twice"},
             Case{"/x?start=", "is not a time"},
             Case{"/x?start", "is not a time"},
         }) {
        INFO(target);
        auto w = parse_timeshift(target);
        REQUIRE_FALSE(w);
        CHECK(w.error().message.find(reason) != std::string::npos);
    }
}
