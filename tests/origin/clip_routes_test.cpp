// The clip API and VOD serving as a producer's tool and a player see them,
// through the origin's Routes (no sockets): status codes, headers, JSON
// bodies, bytes served, Range requests, and ids that try to leave the clip
// store.
#include <catch2/catch.hpp>

#include <fmt/ranges.h>

#include "core/status.hpp"
#include "fakes.hpp"
#include "harvest_fakes.hpp"
#include "origin/clip_routes.hpp"
#include "origin/routes.hpp"
#include "tests/support/wait.hpp"

using namespace onair;
using namespace onair::origin;
using namespace onair::origin::testing;
using onair::testing::eventually;
namespace http = boost::beast::http;
using namespace std::chrono_literals;

namespace {

constexpr const char* kToken = "s3cret-token";
const int64_t S = kBaseSequence;

struct Api {
    HarvestHarness h;
    SegmentStore store{onair::origin::testing::options(5, {"720p", "360p"})};
    core::ChannelStatus status;
    Routes routes{store, status, [] { return kBaseMs; }};
    std::unique_ptr<ClipRoutes> clips;

    explicit Api(std::string token = kToken, std::size_t max_waiting = 256) {
        h.dvr.add_range(S, 30);
        h.max_waiting = max_waiting;
        h.start();
        clips = std::make_unique<ClipRoutes>(*h.service, std::move(token));
        routes.set_clips(*clips);
    }

    Response call(http::verb method, std::string_view target, std::string body = {},
                  std::vector<std::pair<http::field, std::string>> headers = {}) const {
        Request request{method, target, 11};
        for (auto& [field, value] : headers) request.set(field, value);
        request.body() = std::move(body);
        request.prepare_payload();
        return routes(request).to_message();
    }
    Response get(std::string_view target,
                 std::vector<std::pair<http::field, std::string>> headers = {}) const {
        return call(http::verb::get, target, {}, std::move(headers));
    }
    Response post(std::string_view body, std::string token = kToken,
                  std::string_view channel = "demo") const {
        std::vector<std::pair<http::field, std::string>> headers;
        if (!token.empty()) headers.emplace_back(http::field::authorization, "Bearer " + token);
        return call(http::verb::post, fmt::format("/api/v1/channels/{}/clips", channel),
                    std::string(body), std::move(headers));
    }
    Response remove(std::string_view id, std::string token = kToken) const {
        std::vector<std::pair<http::field, std::string>> headers;
        if (!token.empty()) headers.emplace_back(http::field::authorization, "Bearer " + token);
        return call(http::verb::delete_, fmt::format("/api/v1/clips/{}", id), {},
                    std::move(headers));
    }
    // A succeeded clip of segments [S + first, S + first + count).
    void make(const std::string& id, int64_t first, int64_t count, std::string extra = {}) {
        auto r = post(clip_body(id, S + first, count, std::move(extra)));
        REQUIRE(r.result() == http::status::accepted);
        REQUIRE(h.service->wait_idle(5s));
        REQUIRE(h.record(id).status == ClipStatus::succeeded);
    }
};

std::string body(const Response& r) {
    return std::string(r.body().view());
}

std::string header(const Response& r, http::field field) {
    auto it = r.find(field);
    return it == r.end() ? std::string("<absent>") : std::string(it->value());
}

boost::json::object json_body(const Response& r) {
    INFO(body(r));
    REQUIRE(header(r, http::field::content_type) == "application/json");
    return boost::json::parse(body(r)).as_object();
}

void check_error(const Response& r, http::status status, std::string_view error) {
    INFO("status " << r.result_int() << " body " << body(r));
    CHECK(r.result() == status);
    auto json = json_body(r);
    CHECK(json.at("error").as_string() == error);
    CHECK_FALSE(json.at("reason").as_string().empty());
}

std::vector<std::string> reasons_of(const Response& r) {
    std::vector<std::string> out;
    const auto json = json_body(r);
    for (const auto& v : json.at("reasons").as_array()) out.emplace_back(v.as_string());
    return out;
}

}  // namespace

TEST_CASE("clip API: POST answers 202 with the job, which then succeeds", "[clip_routes]") {
    Api api;
    auto r = api.post(clip_body("goal", S + 4, 3, R"(, "event": "final")"));
    REQUIRE(r.result() == http::status::accepted);
    CHECK(header(r, http::field::location) == "/api/v1/clips/goal");
    CHECK(header(r, http::field::content_length) == std::to_string(r.body().size()));
    auto job = json_body(r);
    CHECK(job.at("id") == "goal");
    CHECK(job.at("status") == "in_progress");
    CHECK(job.at("channel") == "demo");
    CHECK(job.at("event") == "final");
    CHECK(job.at("accuracy") == "segment");
    CHECK(job.at("start").as_string() == format_program_date_time(segment_start_ms(S + 4)));
    CHECK(job.at("master").is_null());

    REQUIRE(api.h.service->wait_idle(5s));
    auto status = api.get("/api/v1/clips/goal");
    REQUIRE(status.result() == http::status::ok);
    auto done = json_body(status);
    CHECK(done.at("status") == "succeeded");
    CHECK(done.at("duration").as_double() == 6.0);
    CHECK(done.at("master") == "/vod/goal/master.m3u8");
    CHECK(done.at("message").is_null());
}

TEST_CASE("clip API: a bad request gets 400 with every reason, and nothing is written",
          "[clip_routes]") {
    Api api;
    auto r =
        api.post(fmt::format(R"({{"id": "a b", "start": {}, "end": {}, "accuracy": "exactly"}})",
                             segment_start_ms(S + 50) / 1000, segment_start_ms(S + 40) / 1000));
    check_error(r, http::status::bad_request, "bad_request");
    auto reasons = reasons_of(r);
    INFO(fmt::format("{}", fmt::join(reasons, "\n")));
    CHECK(reasons.size() == 5);  // id, title, accuracy, start >= end, end after the newest
    auto joined = std::string(json_body(r).at("reason").as_string());
    for (const auto& reason : reasons) CHECK_THAT(joined, Catch::Contains(reason));
    CHECK(api.h.sqlite->list({}).value().clips.empty());

    check_error(api.post("{not json"), http::status::bad_request, "bad_request");
    CHECK_THAT(reasons_of(api.post("{not json")).front(), Catch::Contains("not JSON"));
    check_error(api.post(""), http::status::bad_request, "bad_request");
    CHECK(api.h.sqlite->list({}).value().clips.empty());
}

TEST_CASE(
    "clip API: 401 without the token, 403 with none configured, 404 for another channel, "
    "409 for a taken id",
    "[clip_routes]") {
    Api api;
    const auto good = clip_body("goal", S, 3);
    auto none = api.post(good, "");
    check_error(none, http::status::unauthorized, "unauthorized");
    CHECK(header(none, http::field::www_authenticate) == "Bearer");
    auto wrong = api.post(good, "guess");
    check_error(wrong, http::status::unauthorized, "unauthorized");
    CHECK(header(wrong, http::field::www_authenticate) == "Bearer");
    check_error(api.post(good, kToken, "other"), http::status::not_found, "not_found");
    CHECK(api.h.sqlite->list({}).value().clips.empty());

    REQUIRE(api.post(good).result() == http::status::accepted);
    auto again = api.post(clip_body("goal", S + 5, 3));
    check_error(again, http::status::conflict, "conflict");
    REQUIRE(api.h.service->wait_idle(5s));
    CHECK(api.h.record("goal").start_ms == segment_start_ms(S));

    Api closed("");
    check_error(closed.post(good, "anything"), http::status::forbidden, "forbidden");
    check_error(closed.remove("goal", "anything"), http::status::forbidden, "forbidden");
}

TEST_CASE("clip API: status and catalog listing with filters and a cursor", "[clip_routes]") {
    Api api;
    const std::vector<std::string> events = {"final", "semi", "press"};
    for (int i = 0; i < 9; ++i)
        REQUIRE(api.post(clip_body(fmt::format("c{}", i), S + i, 2,
                                   fmt::format(R"(, "event": "{}")", events[size_t(i) % 3])))
                    .result() == http::status::accepted);
    REQUIRE(api.h.service->wait_idle(5s));

    check_error(api.get("/api/v1/clips/nope"), http::status::not_found, "not_found");
    check_error(api.get("/api/v1/clips/no.pe"), http::status::bad_request, "bad_request");

    std::vector<std::string> listed;
    std::string target = "/api/v1/clips?event=semi&limit=2";
    for (int pages = 0; pages < 10; ++pages) {
        auto r = api.get(target);
        REQUIRE(r.result() == http::status::ok);
        auto page = json_body(r);
        for (const auto& c : page.at("clips").as_array()) {
            CHECK(c.at("event") == "semi");
            listed.emplace_back(c.at("id").as_string());
        }
        if (page.at("next_cursor").is_null()) break;
        target = fmt::format("/api/v1/clips?event=semi&limit=2&cursor={}",
                             page.at("next_cursor").as_string());
    }
    CHECK(listed == std::vector<std::string>{"c1", "c4", "c7"});

    auto channel = api.get(fmt::format("/api/v1/channels/demo/clips?since={}&until={}",
                                       format_program_date_time(segment_start_ms(S + 2)),
                                       segment_start_ms(S + 4) / 1000));
    REQUIRE(channel.result() == http::status::ok);
    std::vector<std::string> in_window;
    const auto listing = json_body(channel);
    for (const auto& c : listing.at("clips").as_array())
        in_window.emplace_back(c.at("id").as_string());
    CHECK(in_window == std::vector<std::string>{"c2", "c3"});
    // The same window with the zone written as people do, '+' unescaped.
    auto local = [](int64_t utc_ms) {
        auto text = format_program_date_time(utc_ms + 3'600'000);
        return text.substr(0, text.size() - 1) + "+01:00";
    };
    auto zoned =
        api.get(fmt::format("/api/v1/channels/demo/clips?since={}&until={}",
                            local(segment_start_ms(S + 2)), local(segment_start_ms(S + 4))));
    REQUIRE(zoned.result() == http::status::ok);
    CHECK(json_body(zoned).at("clips").as_array().size() == 2);
    check_error(api.get("/api/v1/channels/other/clips"), http::status::not_found, "not_found");

    auto bad = api.get("/api/v1/clips?limit=501&since=later&cursor=xyz&status=done&colour=red");
    check_error(bad, http::status::bad_request, "bad_request");
    CHECK(reasons_of(bad).size() == 5);
    CHECK(api.get("/api/v1/clips?limit=500&event=").result() == http::status::ok);
}

TEST_CASE("clip API: DELETE removes asset and record, a running job gets 409", "[clip_routes]") {
    Api api;
    api.make("gone", 0, 3);
    check_error(api.remove("gone", ""), http::status::unauthorized, "unauthorized");
    REQUIRE(api.get("/vod/gone/master.m3u8").result() == http::status::ok);
    auto r = api.remove("gone");
    CHECK(r.result() == http::status::no_content);
    check_error(api.get("/api/v1/clips/gone"), http::status::not_found, "not_found");
    check_error(api.get("/vod/gone/master.m3u8"), http::status::not_found, "not_found");
    check_error(api.remove("gone"), http::status::not_found, "not_found");
    CHECK_FALSE(fs::exists(api.h.dir / "clips" / "gone"));

    api.h.media.close_gate();
    REQUIRE(api.post(clip_body("busy", S, 3)).result() == http::status::accepted);
    check_error(api.remove("busy"), http::status::conflict, "conflict");
    // Only a succeeded clip is served.
    check_error(api.get("/vod/busy/master.m3u8"), http::status::not_found, "not_found");
    api.h.media.open_gate();
    REQUIRE(api.h.service->wait_idle(5s));
    CHECK(api.get("/vod/busy/master.m3u8").result() == http::status::ok);
}

TEST_CASE("a burst of clip requests past clips.max_queued gets 429 with Retry-After",
          "[clip_routes]") {
    Api api(kToken, 3);
    api.h.media.close_gate();  // nothing finishes while the burst comes
    int accepted = 0, refused = 0;
    for (int i = 0; i < 20; ++i) {
        // The first two are taken by the two workers before the rest come.
        if (i == 2) REQUIRE(eventually([&] { return api.h.media.active() == 2; }, 5s));
        auto r = api.post(clip_body(fmt::format("burst-{}", i), S + i, 3));
        if (r.result() == http::status::accepted) {
            ++accepted;
            continue;
        }
        ++refused;
        check_error(r, http::status::too_many_requests, "too_many_requests");
        CHECK_THAT(std::string(json_body(r).at("reason").as_string()),
                   Catch::Contains("clip jobs are waiting"));
        CHECK(header(r, http::field::retry_after) == "10");
        // Nothing is listed for a refused job.
        check_error(api.get(fmt::format("/api/v1/clips/burst-{}", i)), http::status::not_found,
                    "not_found");
    }
    CHECK(accepted == 2 + 3);  // two being cut, three waiting
    CHECK(refused == 15);
    api.h.media.open_gate();
    REQUIRE(api.h.service->wait_idle(10s));
    // Room again once the queue drains.
    CHECK(api.post(clip_body("after", S, 3)).result() == http::status::accepted);
}

TEST_CASE("VOD: playlists, segments and the MP4 are served as stored", "[clip_routes]") {
    Api api;
    api.make("goal", 10, 3);
    const fs::path folder = api.h.dir / "clips" / "goal";

    auto master = api.get("/vod/goal/master.m3u8");
    REQUIRE(master.result() == http::status::ok);
    CHECK(header(master, http::field::content_type) == "application/vnd.apple.mpegurl");
    CHECK(body(master) == read_all(folder / "master.m3u8"));
    CHECK(uris(body(master)) == std::vector<std::string>{"720p/index.m3u8", "360p/index.m3u8"});

    auto media = api.get("/vod/goal/720p/index.m3u8");
    REQUIRE(media.result() == http::status::ok);
    CHECK(body(media).ends_with("#EXT-X-ENDLIST\n"));
    for (const auto& uri : uris(body(media))) {
        auto segment = api.get("/vod/goal/720p/" + uri);
        REQUIRE(segment.result() == http::status::ok);
        CHECK(header(segment, http::field::content_type) == "video/mp2t");
        CHECK(header(segment, http::field::accept_ranges) == "bytes");
        CHECK(body(segment) == read_all(folder / "720p" / uri));
    }

    auto mp4 = api.get("/vod/goal/clip.mp4");
    REQUIRE(mp4.result() == http::status::ok);
    CHECK(header(mp4, http::field::content_type) == "video/mp4");
    CHECK(header(mp4, http::field::accept_ranges) == "bytes");
    CHECK(header(mp4, http::field::content_length) == "10000");
    CHECK(body(mp4) == FakeClipCutter::mp4_bytes());

    auto head = api.call(http::verb::head, "/vod/goal/clip.mp4");
    CHECK(head.result() == http::status::ok);
    CHECK(header(head, http::field::content_length) == "10000");
    CHECK(head.body().size() == 0);

    check_error(api.get("/vod/goal/1080p/index.m3u8"), http::status::not_found, "not_found");
    check_error(api.get(fmt::format("/vod/goal/720p/0{}.ts", S + 10)), http::status::not_found,
                "not_found");
    check_error(api.get("/vod/goal/720p/1.ts"), http::status::not_found, "not_found");
    check_error(api.get("/vod/goal/catalog.sqlite"), http::status::not_found, "not_found");
    check_error(api.get("/vod/nope/master.m3u8"), http::status::not_found, "not_found");
    check_error(api.call(http::verb::post, "/vod/goal/clip.mp4"), http::status::method_not_allowed,
                "method_not_allowed");
    auto preflight = api.call(http::verb::options, "/vod/goal/clip.mp4");
    CHECK(preflight.result() == http::status::no_content);
    CHECK_THAT(header(preflight, http::field::access_control_allow_headers),
               Catch::Contains("Range"));
}

TEST_CASE("VOD: Range requests get exactly the bytes asked for", "[clip_routes]") {
    Api api;
    api.make("goal", 10, 3);
    const std::string all = FakeClipCutter::mp4_bytes();
    auto ranged = [&](std::string range) {
        return api.get("/vod/goal/clip.mp4", {{http::field::range, std::move(range)}});
    };
    struct Case {
        std::string range;
        size_t first, last;
    };
    for (const auto& c : std::vector<Case>{{"bytes=0-99", 0, 99},
                                           {"bytes=9990-", 9990, 9999},
                                           {"bytes=-10", 9990, 9999},
                                           {"bytes=100-100", 100, 100},
                                           {"bytes=5000-20000", 5000, 9999},
                                           {"bytes=-20000", 0, 9999},
                                           {"BYTES=1-2", 1, 2}}) {
        INFO(c.range);
        auto r = ranged(c.range);
        REQUIRE(r.result() == http::status::partial_content);
        CHECK(header(r, http::field::content_range) ==
              fmt::format("bytes {}-{}/10000", c.first, c.last));
        CHECK(header(r, http::field::content_length) == std::to_string(c.last - c.first + 1));
        CHECK(body(r) == all.substr(c.first, c.last - c.first + 1));
    }
    for (std::string unsatisfiable : {"bytes=10000-", "bytes=20000-30000", "bytes=-0"}) {
        INFO(unsatisfiable);
        auto r = ranged(unsatisfiable);
        check_error(r, http::status::range_not_satisfiable, "range_not_satisfiable");
        CHECK(header(r, http::field::content_range) == "bytes */10000");
    }
    // Not a single valid range: the whole file, as RFC 9110 allows.
    for (std::string ignored : {"bytes=5-2", "bytes=0-1,5-6", "items=0-1", "bytes=x-"}) {
        INFO(ignored);
        auto r = ranged(ignored);
        CHECK(r.result() == http::status::ok);
        CHECK(body(r) == all);
    }
    // A segment takes ranges too.
    auto segment =
        api.get(fmt::format("/vod/goal/360p/{}.ts", S + 10), {{http::field::range, "bytes=0-187"}});
    REQUIRE(segment.result() == http::status::partial_content);
    CHECK(body(segment) == ts_bytes("360p", S + 10, 50).substr(0, 188));
}

TEST_CASE("VOD: an id that could leave the clip store gets 400 and never reaches the disk",
          "[clip_routes]") {
    Api api;
    api.make("goal", 10, 3);
    write_all(api.h.dir / "secret" / "master.m3u8", "SECRET");
    write_all(api.h.dir / "secret" / "clip.mp4", "SECRET");
    const int before = api.h.catalog->calls.load();
    for (std::string target :
         {"/vod/..%2F..%2Fsecret/master.m3u8", "/vod/..%2fsecret/clip.mp4",
          "/vod/%2E%2E/secret/clip.mp4", "/vod/../secret/clip.mp4", "/vod/..%5Csecret/clip.mp4",
          "/vod/goal%2F..%2F..%2Fsecret/master.m3u8", "/vod/goal%00/master.m3u8",
          "/vod/.%2e/master.m3u8", "/vod/a.b/master.m3u8", "/vod/%20goal/master.m3u8",
          "/api/v1/clips/..%2F..%2Fsecret", "/api/v1/clips/%2e%2e"}) {
        INFO(target);
        for (auto method : {http::verb::get, http::verb::head, http::verb::delete_}) {
            auto r = api.call(method, target, {},
                              {{http::field::authorization, std::string("Bearer ") + kToken}});
            // A VOD file is never deleted on its own: 405 before any name is read.
            const bool vod_delete = target.starts_with("/vod/") && method == http::verb::delete_;
            if (vod_delete)  // 400 for a path that could walk out, else 405
                CHECK((r.result() == http::status::bad_request ||
                       r.result() == http::status::method_not_allowed));
            else
                CHECK(r.result() == http::status::bad_request);
            CHECK(body(r).find("SECRET") == std::string::npos);
        }
        // Straight to the clip handler too, without Routes' own checks in front.
        Request request{http::verb::get, target, 11};
        auto direct = (*api.clips)(request).to_message();
        CHECK(direct.result() == http::status::bad_request);
    }
    CHECK(api.h.catalog->calls.load() == before);  // no look-up, so no file either
    CHECK(fs::exists(api.h.dir / "secret" / "master.m3u8"));
}

TEST_CASE("SharedBuffer: a mapped file is served whole or in slices, and outlives its name",
          "[http_message]") {
    TempFolder dir;
    const std::string bytes = FakeClipCutter::mp4_bytes();
    write_all(dir / "f.bin", bytes);
    auto mapped = SharedBuffer::map_file(dir / "f.bin");
    REQUIRE(mapped);
    fs::remove(dir / "f.bin");  // the mapping keeps the data
    CHECK(mapped->view() == bytes);
    auto slice = mapped->slice(9990, 100);
    CHECK(slice.view() == bytes.substr(9990));
    CHECK(mapped->slice(10000, 1).empty());
    write_all(dir / "empty", "");
    auto empty = SharedBuffer::map_file(dir / "empty");
    REQUIRE(empty);
    CHECK(empty->empty());
    auto missing = SharedBuffer::map_file(dir / "missing");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == ENOENT);
    CHECK_FALSE(SharedBuffer::map_file(dir.path()));  // a folder
}

TEST_CASE("clip API: a list query that is not a valid URL query is 400, not a crash",
          "[clip_routes]") {
    // Found by fuzzing: the query's parser failed and its result was used anyway.
    Api api;
    for (const char* query : {"?limit=%zz", "?event=%", "?%g0=1"}) {
        INFO(query);
        auto r = api.get(fmt::format("/api/v1/channels/demo/clips{}", query));
        CHECK(r.result() == http::status::bad_request);
        CHECK_THAT(std::string(r.body().view()), Catch::Contains("bad_request"));
    }
}
