// Time-shifted playlists and DVR segments through the request handler (no
// sockets), as a player asking for ?start=&end= sees them.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "core/status.hpp"
#include "dvr_fakes.hpp"
#include "origin/routes.hpp"
#include "tests/support/hls.hpp"

using namespace onair;
using namespace onair::origin;
using namespace onair::origin::testing;
namespace http = boost::beast::http;
namespace hls = onair::testing;

namespace {

// ISO 8601 of base + `seconds`, as a player would write it.
std::string at(int64_t seconds) {
    return format_program_date_time(kBaseUtcMs + seconds * 1000);
}

// A channel whose DVR holds 720p and 480p segments 0..19 (120 s from the
// base time, 6 s each) but for those in `missing`; the live store is empty.
struct Fixture {
    onair::testing::TempDir dir{"onair-timeshift"};
    TestClock dvr_clock;
    std::unique_ptr<Dvr> dvr;
    SegmentStore store{options(5, {"720p", "480p"})};
    core::ChannelStatus status;
    int64_t now_ms = kBaseUtcMs + 125'000;
    Routes routes{store, status, [this] { return now_ms; }};

    explicit Fixture(std::vector<int64_t> missing = {}) {
        status.channel = "demo";
        dvr = open_dvr(dvr_options(dir.path(), dvr_clock));
        for (int64_t s = 0; s < 20; ++s) {
            if (std::find(missing.begin(), missing.end(), s) != missing.end()) continue;
            dvr->record(recorded("720p", s));
            dvr->record(recorded("480p", s, 400));
        }
        dvr->flush();
        routes.set_dvr(dvr.get());
    }
    Response get(std::string_view target) const {
        Request request{http::verb::get, target, 11};
        return routes(request).to_message();
    }
    std::string media(std::string_view query) const {
        return fmt::format("/live/demo/720p/index.m3u8?{}", query);
    }
};

std::string body(const Response& response) {
    return std::string(response.body().view());
}

std::string header(const Response& response, http::field field) {
    auto it = response.find(field);
    return it == response.end() ? std::string("<absent>") : std::string(it->value());
}

void check_error(const Response& response, http::status status, std::string_view error) {
    INFO("status " << response.result_int() << " body " << body(response));
    CHECK(response.result() == status);
    CHECK(header(response, http::field::content_type) == "application/json");
    auto json = boost::json::parse(body(response)).as_object();
    CHECK(json.at("error").as_string() == error);
    CHECK_FALSE(json.at("reason").as_string().empty());
}

std::vector<std::string> seq_uris(int64_t from, int64_t to) {
    std::vector<std::string> out;
    for (int64_t s = from; s <= to; ++s) out.push_back(std::to_string(s) + ".ts");
    return out;
}

// The playlist through the RFC checker. Sequence numbers count listed
// segments, so after a gap in the recording URIs no longer match them.
hls::MediaPlaylist checked(const Response& r, bool live, bool uri_is_sequence = true) {
    INFO(body(r));
    REQUIRE(r.result() == http::status::ok);
    CHECK(header(r, http::field::content_type) == "application/vnd.apple.mpegurl");
    auto p = hls::parse_media_playlist(body(r));
    hls::MediaCheckOptions o;
    o.uri_is_sequence = uri_is_sequence;
    o.live = live;
    auto problems = hls::check_media_playlist(p, o);
    INFO(fmt::format("{}", fmt::join(problems, "\n")));
    CHECK(problems.empty());
    for (const auto& s : p.segments) CHECK(s.program_date_time);
    return p;
}

}  // namespace

TEST_CASE("time-shift: a past window is VOD with ENDLIST, the segments overlapping it",
          "[routes][timeshift]") {
    Fixture f;
    // 13 s (in 2) to 48 s (the start of 8): 2..7.
    for (auto query : {fmt::format("start={}&end={}", at(13), at(48)),
                       fmt::format("start={}&end={}", (kBaseUtcMs + 13500) / 1000.0,
                                   (kBaseUtcMs + 48000) / 1000),
                       fmt::format("start={}&end={}", "2026-11-22T05:48:13%2B01:00",
                                   "2026-11-22T05:48:48+01:00")}) {
        INFO(query);
        auto r = f.get(f.media(query));
        auto p = checked(r, false);
        CHECK(p.playlist_type == "VOD");
        CHECK(p.endlist);
        CHECK(p.media_sequence == 2);
        CHECK(p.target_duration == 6);
        std::vector<std::string> u;
        for (const auto& s : p.segments) u.push_back(s.uri);
        CHECK(u == seq_uris(2, 7));
        CHECK(p.segments.front().pdt_ms == kBaseUtcMs + 12000);
        for (const auto& s : p.segments) CHECK_FALSE(s.discontinuity);
        CHECK(header(r, http::field::cache_control) == "max-age=60");
    }
}

TEST_CASE("time-shift: no end, or an end to come, is an EVENT that grows", "[routes][timeshift]") {
    Fixture f;
    auto r = f.get(f.media(fmt::format("start={}", at(90))));
    auto p = checked(r, true);
    CHECK(p.playlist_type == "EVENT");
    CHECK_FALSE(p.endlist);
    CHECK(p.media_sequence == 15);
    CHECK(p.segments.size() == 5);
    CHECK(header(r, http::field::cache_control) == "max-age=1");
    // Players start an EVENT playlist near its live edge unless told otherwise.
    CHECK(body(r).find("#EXT-X-START:TIME-OFFSET=0\n") != std::string::npos);

    r = f.get(f.media(fmt::format("start={}&end={}", at(90), at(600))));
    p = checked(r, true);
    CHECK(p.playlist_type == "EVENT");
    CHECK(p.segments.size() == 5);

    // It grows as the DVR records.
    f.dvr->record(recorded("720p", 20));
    f.dvr->flush();
    p = checked(f.get(f.media(fmt::format("start={}", at(90)))), true);
    CHECK(p.media_sequence == 15);
    CHECK(p.segments.size() == 6);
}

TEST_CASE("time-shift: an end just past stays EVENT until its segment is recorded",
          "[routes][timeshift]") {
    Fixture f;  // recorded up to 120 s, now 125 s
    const auto query = fmt::format("start={}&end={}", at(100), at(124));
    auto p = checked(f.get(f.media(query)), true);
    CHECK(p.playlist_type == "EVENT");
    f.dvr->record(recorded("720p", 20));  // 120..126 s
    f.dvr->flush();
    f.now_ms += 2000;
    p = checked(f.get(f.media(query)), false);
    CHECK(p.playlist_type == "VOD");
    CHECK(p.segments.back().uri == "20.ts");
    // Never recorded (the channel stopped): VOD once it has had its time.
    const auto later = fmt::format("start={}&end={}", at(100), at(130));
    CHECK(checked(f.get(f.media(later)), true).playlist_type == "EVENT");
    f.now_ms = kBaseUtcMs + 130'000 + 18'000;
    CHECK(checked(f.get(f.media(later)), false).playlist_type == "VOD");
}

TEST_CASE("time-shift: a DISCONTINUITY only where the recording has a gap", "[routes][timeshift]") {
    Fixture f({10, 11});
    auto p = checked(f.get(f.media(fmt::format("start={}&end={}", at(30), at(90)))), false, false);
    std::vector<std::string> marked;
    for (const auto& s : p.segments)
        if (s.discontinuity) marked.push_back(s.uri);
    CHECK(marked == std::vector<std::string>{"12.ts"});
    CHECK(p.segments.size() == 8);  // 5..9, 12..14

    // Starting right at the resumption: nothing before it to break from.
    p = checked(f.get(f.media(fmt::format("start={}&end={}", at(72), at(90)))), false);
    CHECK(p.media_sequence == 12);
    for (const auto& s : p.segments) CHECK_FALSE(s.discontinuity);
}

TEST_CASE("time-shift: TARGETDURATION covers the longest segment", "[routes][timeshift]") {
    Fixture f;
    FakeSegment long_one;
    long_one.sequence = 20;
    long_one.duration = 7 * kSecond + kSecond / 2;  // 7.5 s rounds to 8
    f.dvr->record(std::make_shared<const core::Segment>(long_one.make()));
    f.dvr->flush();
    f.now_ms += 60'000;
    auto p = checked(f.get(f.media(fmt::format("start={}&end={}", at(100), at(130)))), false);
    CHECK(p.target_duration == 8);
    p = checked(f.get(f.media(fmt::format("start={}&end={}", at(0), at(30)))), false);
    CHECK(p.target_duration == 6);
}

TEST_CASE("time-shift: outside what the DVR holds is 404 with a reason", "[routes][timeshift]") {
    Fixture f({10, 11});
    for (auto query : {
             fmt::format("start={}&end={}", at(-100), at(-50)),  // before the oldest
             fmt::format("start={}&end={}", at(-100), at(0)),    // ends where it starts
             fmt::format("start={}", at(200)),                   // the future
             fmt::format("start={}&end={}", at(61), at(70)),     // inside the gap
         }) {
        INFO(query);
        check_error(f.get(f.media(query)), http::status::not_found, "not_found");
        check_error(f.get("/live/demo/master.m3u8?" + query), http::status::not_found, "not_found");
    }
    // A live window whose start has expired: an EVENT playlist may not lose
    // its head, so there is none. A past window still lists what is left.
    for (auto query :
         {fmt::format("start={}", at(-10)), fmt::format("start={}&end={}", at(-10), at(600))}) {
        INFO(query);
        auto r = f.get(f.media(query));
        check_error(r, http::status::not_found, "not_found");
        CHECK(body(r).find("start has left the DVR window") != std::string::npos);
    }
    // From the oldest segment's PROGRAM-DATE-TIME on (written to the ms): there.
    CHECK(checked(f.get(f.media(fmt::format("start={}", at(0)))), true, false).segments.size() ==
          18);  // 10 and 11 missing
    auto past = checked(f.get(f.media(fmt::format("start={}&end={}", at(-10), at(12)))), false);
    CHECK(past.segments.size() == 2);
    CHECK(
        body(f.get(f.media(fmt::format("start={}&end={}", at(-10), at(12))))).find("EXT-X-START") ==
        std::string::npos);

    f.now_ms = kBaseUtcMs + 1'000'000;  // the channel stopped long ago
    check_error(f.get(f.media(fmt::format("start={}&end={}", at(500), at(600)))),
                http::status::not_found, "not_found");
    check_error(f.get("/live/demo/1080p/index.m3u8?start=1"), http::status::not_found, "not_found");
    // A start after the newest recording but not in the future: soon there.
    f.now_ms = kBaseUtcMs + 125'000;
    auto r = f.get(f.media(fmt::format("start={}", at(121))));
    check_error(r, http::status::service_unavailable, "not_ready");
    CHECK(header(r, http::field::retry_after) == "2");

    // An origin without a DVR.
    SegmentStore store{options(5, {"720p", "480p"})};
    core::ChannelStatus status;
    Routes plain{store, status, [] { return kBaseUtcMs; }};
    Request request{http::verb::get, "/live/demo/720p/index.m3u8?start=1", 11};
    check_error(plain(request).to_message(), http::status::not_found, "not_found");
}

TEST_CASE("time-shift: malformed times and start >= end are 400 with a reason",
          "[routes][timeshift]") {
    Fixture f;
    for (auto query :
         {"start=yesterday", "start=2026-11-22T04:48:00", "start=2026-02-30T00:00:00Z",
          "start=1795322890&end=1795322880", "start=1795322880&end=1795322880", "end=1795322880",
          "start=1&start=2", "start=", "start=1795322880&pipeline=a"}) {
        INFO(query);
        check_error(f.get(f.media(query)), http::status::bad_request, "bad_request");
        if (std::string_view(query).find("pipeline") == std::string_view::npos)
            check_error(f.get(std::string("/live/demo/master.m3u8?") + query),
                        http::status::bad_request, "bad_request");
    }
}

TEST_CASE("time-shift: the master lists the renditions, its URIs carry the window",
          "[routes][timeshift]") {
    Fixture f;
    const std::string query = fmt::format("start={}&end={}", "2026-11-22T05:48:13+01:00", at(48));
    auto r = f.get("/live/demo/master.m3u8?" + query);
    INFO(body(r));
    REQUIRE(r.result() == http::status::ok);
    auto master = hls::parse_master_playlist(body(r));
    auto problems = hls::check_master_playlist(master);
    INFO(fmt::format("{}", fmt::join(problems, "\n")));
    CHECK(problems.empty());
    REQUIRE(master.variants.size() == 2);
    const std::string spelt = fmt::format("start=2026-11-22T05:48:13%2B01:00&end={}", at(48));
    CHECK(master.variants[0].uri == "720p/index.m3u8?" + spelt);
    CHECK(master.variants[1].uri == "480p/index.m3u8?" + spelt);
    // 1000 and 400 bytes per 6 s.
    CHECK(master.variants[0].bandwidth == 1333);
    CHECK(master.variants[0].average_bandwidth == 1333);
    CHECK(master.variants[1].bandwidth == 533);
    CHECK(master.variants[0].width == 1280);
    CHECK(master.variants[0].codecs == "avc1.64001f,mp4a.40.2");
    // The variant URIs work as they are.
    for (const auto& v : master.variants) {
        INFO(v.uri);
        auto p = checked(f.get("/live/demo/" + v.uri), false);
        CHECK(p.media_sequence == 2);
        CHECK(p.segments.size() == 6);
    }
}

TEST_CASE("segments gone from the live store come from the DVR, nothing else from disk",
          "[routes][timeshift]") {
    Fixture f({10});
    auto r = f.get("/live/demo/480p/3.ts");
    REQUIRE(r.result() == http::status::ok);
    CHECK(header(r, http::field::content_type) == "video/mp2t");
    CHECK(header(r, http::field::cache_control) == "max-age=86400, immutable");
    const auto expected = recorded("480p", 3, 400)->bytes;
    CHECK(std::string(r.body().view()) == std::string(expected->begin(), expected->end()));
    // The live store's copy wins when it has one.
    f.store.on_segment(segment("480p", 3));
    r = f.get("/live/demo/480p/3.ts");
    REQUIRE(r.result() == http::status::ok);
    CHECK(r.body().size() == 1000);

    for (auto target : {"/live/demo/480p/10.ts", "/live/demo/480p/99.ts", "/live/demo/480p/03.ts",
                        "/live/demo/1080p/3.ts", "/live/demo/480p/3.ts?pipeline=b",
                        "/live/demo/480p/index.sqlite", "/live/demo/dvr/index.sqlite",
                        "/live/demo/480p/..%2F720p%2F3.ts"}) {
        INFO(target);
        auto answer = f.get(target);
        CHECK(answer.result() != http::status::ok);
        CHECK(header(answer, http::field::content_type) == "application/json");
    }
}

TEST_CASE("status API and metrics show what the DVR holds", "[routes][timeshift]") {
    Fixture f({10});
    f.status.add('a', "testsrc:");
    auto r = f.get("/api/v1/channels/demo");
    REQUIRE(r.result() == http::status::ok);
    auto json = boost::json::parse(body(r)).as_object();
    const auto& dvr = json.at("dvr").as_object();
    CHECK(dvr.at("segments").as_int64() == 38);
    CHECK(dvr.at("bytes").as_int64() == 19 * 1000 + 19 * 400);
    CHECK(dvr.at("expired").as_int64() == 0);
    CHECK(dvr.at("dropped").as_int64() == 0);
    CHECK(dvr.at("oldest").as_string() == at(0));
    CHECK(dvr.at("newest").as_string() == at(120));
    auto metrics = body(f.get("/metrics"));
    CHECK_THAT(metrics, Catch::Contains("onair_dvr_segments{channel=\"demo\"} 38"));
    CHECK_THAT(metrics, Catch::Contains("onair_dvr_bytes{channel=\"demo\"} 26600"));
}

TEST_CASE("thumbnails: a recorded segment's JPEG by its number, 404 otherwise",
          "[routes][timeshift]") {
    Fixture f;
    const auto file = thumbnail_file(f.dvr->folder(), 5);
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << "\xff\xd8 a jpeg";
    auto r = f.get("/thumbs/demo/5.jpg");
    REQUIRE(r.result() == http::status::ok);
    CHECK(header(r, http::field::content_type) == "image/jpeg");
    CHECK(header(r, http::field::cache_control) == "max-age=86400, immutable");
    CHECK(body(r) == "\xff\xd8 a jpeg");
    for (const char* target :
         {"/thumbs/demo/6.jpg", "/thumbs/other/5.jpg", "/thumbs/demo/05.jpg", "/thumbs/demo/5.png",
          "/thumbs/demo/x.jpg", "/thumbs/demo/.jpg", "/thumbs/demo/-5.jpg"}) {
        INFO(target);
        check_error(f.get(target), http::status::not_found, "not_found");
    }
}
