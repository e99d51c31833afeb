// Clip requests as a producer's tool sends them: times as people write
// them, every rule of the API, and every problem of a bad body at once.
#include <catch2/catch.hpp>

#include <fmt/ranges.h>

#include "harvest_fakes.hpp"
#include "origin/harvest.hpp"
#include "origin/playlist.hpp"

using namespace onair::origin;
using namespace onair::origin::testing;

namespace {

// The DVR holds [base, base + 10 min).
const DvrWindow kWindow{kBaseMs * kTick, (kBaseMs + 600000) * kTick};

std::vector<std::string> problems(std::string_view body,
                                  std::optional<DvrWindow> window = kWindow) {
    auto r = parse_clip_request(json(body), window);
    REQUIRE_FALSE(r);
    return r.error();
}

bool mentions(const std::vector<std::string>& reasons, std::string_view text) {
    for (const auto& r : reasons)
        if (r.find(text) != std::string::npos) return true;
    return false;
}

std::string iso(int64_t ms) {
    return format_program_date_time(ms);
}

}  // namespace

TEST_CASE("harvest: times are ISO 8601 with a zone or epoch seconds", "[harvest]") {
    CHECK(parse_utc_time("2026-11-22T04:48:00Z") == kBaseMs);
    CHECK(parse_utc_time("2026-11-22T04:48:00.250Z") == kBaseMs + 250);
    CHECK(parse_utc_time("2026-11-22T04:48:00.2z") == kBaseMs + 200);
    CHECK(parse_utc_time("2026-11-22T05:48:00+01:00") == kBaseMs);
    CHECK(parse_utc_time("2026-11-21T23:48:00-0500") == kBaseMs);
    CHECK(parse_utc_time("2026-11-22T06:48:00.5+02") == kBaseMs + 500);
    CHECK(parse_utc_time("1795322880") == kBaseMs);
    CHECK(parse_utc_time("1795322880.125") == kBaseMs + 125);
    for (auto bad : {"2026-11-22T04:48:00", "2026-11-22 04:48:00Z", "2026-02-30T04:48:00Z",
                     "2026-11-22T24:48:00Z", "2026-11-22T04:48:00+25:00", "yesterday", "", "12x",
                     "2026-11-22T04:48:00.Z", "-5"}) {
        INFO(bad);
        CHECK_FALSE(parse_utc_time(bad));
    }
}

TEST_CASE("harvest: a time too large for milliseconds is malformed, not wrapped", "[harvest]") {
    for (auto huge : {"9223372036854775807", "18446744073709551615", "1000000000000"}) {
        INFO(huge);
        auto reasons = problems(
            fmt::format(R"({{"start": {}, "end": {}, "title": "t"}})", huge, kBaseMs / 1000 + 10));
        CHECK(mentions(reasons, "\"start\" must be ISO 8601"));
    }
}

TEST_CASE("harvest: a good request is read whole", "[harvest]") {
    auto r = parse_clip_request(json(fmt::format(R"({{"id": "goal_1-a", "start": "{}", "end": {},
        "title": "Goal", "description": "Header\nfrom the corner", "event": "final",
        "accuracy": "frame"}})",
                                                 iso(kBaseMs + 60000), (kBaseMs + 90000) / 1000)),
                                kWindow);
    REQUIRE(r);
    CHECK(r->id == "goal_1-a");
    CHECK(r->start_ms == kBaseMs + 60000);
    CHECK(r->end_ms == kBaseMs + 90000);
    CHECK(r->title == "Goal");
    CHECK(r->description == "Header\nfrom the corner");
    CHECK(r->event == "final");
    CHECK(r->accuracy == ClipAccuracy::frame);

    auto minimal =
        parse_clip_request(json(fmt::format(R"({{"start": {}, "end": {}, "title": "t"}})",
                                            kBaseMs / 1000, kBaseMs / 1000 + 1)),
                           kWindow);
    REQUIRE(minimal);
    CHECK_FALSE(minimal->id);
    CHECK_FALSE(minimal->event);
    CHECK(minimal->accuracy == ClipAccuracy::segment);
}

TEST_CASE("harvest: \"last\" takes the newest part of the DVR", "[harvest]") {
    for (auto last : {R"("60s")", R"("1m")", "60", "60.0"}) {
        INFO(last);
        auto r =
            parse_clip_request(json(fmt::format(R"({{"last": {}, "title": "t"}})", last)), kWindow);
        REQUIRE(r);
        CHECK(r->end_ms == kBaseMs + 600000);
        CHECK(r->start_ms == kBaseMs + 540000);
    }
    CHECK(mentions(problems(R"({"last": "11m", "title": "t"})"), "before the DVR window"));
    CHECK(mentions(problems(R"({"last": "soon", "title": "t"})"), "\"last\" must be a duration"));
    CHECK(mentions(problems(R"({"last": "0s", "title": "t"})"), "\"last\" must be a duration"));
    CHECK(mentions(problems(R"({"last": "25h", "title": "t"})"), "at most 24h"));
    // Numbers whose milliseconds would not fit (and so wrap into the window).
    for (auto huge : {"9223372036854775807", "18446744073709551615", "-9223372036854775807"})
        CHECK(mentions(problems(fmt::format(R"({{"last": {}, "title": "t"}})", huge)),
                       "\"last\" must be a duration"));
    CHECK(mentions(
        problems(fmt::format(R"({{"last": "60s", "start": {}, "title": "t"}})", kBaseMs / 1000)),
        "either \"last\" or \"start\" and \"end\""));
}

TEST_CASE("harvest: each rule has its reason", "[harvest]") {
    const int64_t s = kBaseMs / 1000;
    auto body = [&](int64_t start, int64_t end, std::string extra = {}) {
        return fmt::format(R"({{"start": {}, "end": {}, "title": "t"{}}})", start, end, extra);
    };
    CHECK(mentions(problems(body(s + 60, s + 60)), "must be before \"end\""));
    CHECK(mentions(problems(body(s + 90, s + 60)), "must be before \"end\""));
    CHECK(mentions(problems(body(s + 60, s + 601)), "after the newest recorded segment"));
    CHECK(mentions(problems(body(s - 1, s + 60)), "before the DVR window"));
    // 24 h is allowed, a millisecond more is not (with a DVR that long).
    const DvrWindow day{kBaseMs * kTick, (kBaseMs + 2 * 86400000) * kTick};
    CHECK(parse_clip_request(json(body(s, s + 86400)), day));
    CHECK(mentions(
        problems(fmt::format(R"({{"start": {}, "end": {}.001, "title": "t"}})", s, s + 86400), day),
        "at most 24h"));
    for (const std::string& id :
         std::vector<std::string>{R"("")", R"("a/b")", R"("../x")", R"("a.b")", R"("é")", "7",
                                  "\"" + std::string(65, 'a') + "\""}) {
        INFO(id);
        CHECK(mentions(problems(body(s, s + 60, fmt::format(R"(, "id": {})", id))),
                       "\"id\" must be 1 to 64 characters"));
    }
    CHECK(parse_clip_request(json(body(s, s + 60, R"(, "id": ")" + std::string(64, 'a') + "\"")),
                             kWindow));
    CHECK(
        mentions(problems(R"({"start": 1795322880, "end": 1795322940})"), "\"title\" is required"));
    CHECK(mentions(problems(body(s, s + 60, R"(, "accuracy": "exact")")),
                   "\"accuracy\" must be \"segment\""));
    CHECK(mentions(problems(body(s, s + 60, R"(, "event": 5)")), "\"event\" must be a string"));
    CHECK(mentions(problems(body(s, s + 60, R"(, "strat": 5)")),
                   "unknown field \"strat\" (did you mean \"start\"?)"));
    CHECK(mentions(problems("[1, 2]"), "must be a JSON object"));
    CHECK(mentions(problems(body(s, s + 60), std::nullopt), "the DVR holds no segments yet"));
}

TEST_CASE("harvest: a bad body gets every problem at once", "[harvest]") {
    auto reasons = problems(
        R"({"id": "no/slashes", "start": "tomorrow", "end": "2026-11-22T04:49:00",
            "title": "", "accuracy": "exact", "colour": "red"})");
    INFO(fmt::format("{}", fmt::join(reasons, "\n")));
    CHECK(reasons.size() == 6);
    CHECK(mentions(reasons, "unknown field \"colour\""));
    CHECK(mentions(reasons, "\"id\" must be"));
    CHECK(mentions(reasons, "\"title\" must not be empty"));
    CHECK(mentions(reasons, "\"accuracy\" must be"));
    CHECK(mentions(reasons, "\"start\" must be ISO 8601"));
    CHECK(mentions(reasons, "\"end\" must be ISO 8601"));

    // Range problems come together too: outside the DVR at both ends.
    auto range = problems(fmt::format(R"({{"start": {}, "end": {}, "title": "t"}})",
                                      kBaseMs / 1000 - 10, kBaseMs / 1000 + 700));
    INFO(fmt::format("{}", fmt::join(range, "\n")));
    CHECK(range.size() == 2);
    CHECK(mentions(range, "\"start\" (2026-11-22T04:47:50.000Z) is before the DVR window"));
    CHECK(mentions(range, "\"end\" (2026-11-22T04:59:40.000Z) is after the newest recorded"));
}
