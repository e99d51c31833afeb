// The request handler, called directly (no sockets): status codes, headers
// and bodies as a player, a browser or a monitoring probe sees them.
#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "core/status.hpp"
#include "fakes.hpp"
#include "origin/routes.hpp"

using namespace onair;
using namespace onair::origin;
using namespace onair::origin::testing;
namespace http = boost::beast::http;

namespace {

constexpr int64_t kNowMs = kBaseUtcMs + 60000;

struct Fixture {
    SegmentStore store{options(5, {"720p", "480p"})};
    core::ChannelStatus status;
    Routes routes{store, status, [] { return kNowMs; }};

    Fixture() {
        status.channel = "demo";
        status.add('a', "srt://0.0.0.0:9001?mode=listener&latency=200");
    }

    Response get(std::string_view target, http::verb method = http::verb::get) const {
        Request request{method, target, 11};
        return routes(request).to_message();
    }
    void fill() {
        for (int64_t s = 0; s < 7; ++s) store.on_segment(segment("720p", s));
    }
};

std::string body(const Response& response) {
    return std::string(response.body().view());
}

std::string header(const Response& response, http::field field) {
    auto it = response.find(field);
    return it == response.end() ? std::string("<absent>") : std::string(it->value());
}

// Headers every answer carries, and a Content-Length equal to the body sent.
void check_common(const Response& response) {
    CHECK(header(response, http::field::access_control_allow_origin) == "*");
    CHECK(header(response, http::field::content_length) == std::to_string(response.body().size()));
}

void check_error(const Response& response, http::status status, std::string_view error) {
    INFO("status " << response.result_int() << " body " << body(response));
    CHECK(response.result() == status);
    check_common(response);
    CHECK(header(response, http::field::content_type) == "application/json");
    CHECK(header(response, http::field::cache_control) == "no-store");
    auto json = boost::json::parse(body(response)).as_object();
    CHECK(json.size() == 2);
    CHECK(json.at("error").as_string() == error);
    CHECK_FALSE(json.at("reason").as_string().empty());
}

}  // namespace

TEST_CASE("master playlist: 200 with playlist headers once segments exist", "[routes]") {
    Fixture f;
    f.fill();
    auto r = f.get("/live/demo/master.m3u8");
    REQUIRE(r.result() == http::status::ok);
    check_common(r);
    CHECK(header(r, http::field::content_type) == "application/vnd.apple.mpegurl");
    CHECK(header(r, http::field::cache_control) == "max-age=1");
    CHECK(body(r) == *f.store.master_playlist());
    CHECK(body(r).find("720p/index.m3u8\n") != std::string::npos);
    // A query string does not change the route.
    CHECK(f.get("/live/demo/master.m3u8?token=x").result() == http::status::ok);
}

TEST_CASE("playlists before any segment: 503 with Retry-After", "[routes]") {
    Fixture f;
    for (auto target : {"/live/demo/master.m3u8", "/live/demo/720p/index.m3u8"}) {
        auto r = f.get(target);
        check_error(r, http::status::service_unavailable, "not_ready");
        CHECK(header(r, http::field::retry_after) == "2");
    }
    f.fill();  // 720p only
    CHECK(f.get("/live/demo/720p/index.m3u8").result() == http::status::ok);
    check_error(f.get("/live/demo/480p/index.m3u8"), http::status::service_unavailable,
                "not_ready");
}

TEST_CASE("media playlist: 200 with playlist headers", "[routes]") {
    Fixture f;
    f.fill();
    auto r = f.get("/live/demo/720p/index.m3u8");
    REQUIRE(r.result() == http::status::ok);
    check_common(r);
    CHECK(header(r, http::field::content_type) == "application/vnd.apple.mpegurl");
    CHECK(header(r, http::field::cache_control) == "max-age=1");
    CHECK(uris(body(r)) == std::vector<std::string>{"2.ts", "3.ts", "4.ts", "5.ts", "6.ts"});
}

TEST_CASE("segment: 200 with its bytes, long caching", "[routes]") {
    Fixture f;
    f.fill();
    auto r = f.get("/live/demo/720p/3.ts");
    REQUIRE(r.result() == http::status::ok);
    check_common(r);
    CHECK(header(r, http::field::content_type) == "video/mp2t");
    CHECK(header(r, http::field::cache_control) == "max-age=86400, immutable");
    auto bytes = f.store.segment("720p", 3);
    REQUIRE(bytes);
    CHECK(r.body().view() ==
          std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
    // One prepared response for every request: the same bytes, put once in a
    // file the server hands to sendfile(2), never copied per request.
    auto again = f.routes(Request{http::verb::get, "/live/demo/720p/3.ts", 11});
    REQUIRE(again.prepared());
    CHECK(again.prepared()->body().data() == r.body().data());
    CHECK(again.prepared()->body().file() >= 0);
}

TEST_CASE("unknown channel, rendition, sequence or path: 404 with a JSON reason", "[routes]") {
    Fixture f;
    f.fill();
    for (auto target : {
             "/live/other/master.m3u8",
             "/live/other/720p/index.m3u8",
             "/live/other/720p/3.ts",
             "/live/demo/1080p/index.m3u8",
             "/live/demo/1080p/3.ts",
             "/live/demo/720p/99.ts",
             "/live/demo/720p/abc.ts",
             "/live/demo/720p/-1.ts",
             "/live/demo/720p/+1.ts",
             "/live/demo/720p/03.ts",
             "/live/demo/720p/3.mp4",
             "/live/demo/720p/3",
             "/live/demo/720p/.ts",
             "/live/demo/720p/3.ts.ts",
             "/live/demo/720p/index.m3u",
             "/live/demo/720p/3.ts/x",
             "/live/demo",
             "/live",
             "/",
             "/index.html",
             "/etc/passwd",
             "/healthz/x",
         }) {
        INFO(target);
        check_error(f.get(target), http::status::not_found, "not_found");
    }
}

TEST_CASE("a sequence number longer than 18 digits is a bad request", "[routes]") {
    Fixture f;
    f.fill();
    check_error(f.get("/live/demo/720p/1234567890123456789.ts"), http::status::bad_request,
                "bad_request");
    check_error(f.get("/live/demo/720p/123456789012345678.ts"), http::status::not_found,
                "not_found");
}

TEST_CASE("traversal attempts get 400, never 200", "[routes]") {
    Fixture f;
    f.fill();
    const std::string long_path = "/live/demo/720p/" + std::string(1100, 'x') + ".ts";
    for (std::string target : {
             std::string("/live/demo/../x"),
             std::string("/live/demo/../demo/master.m3u8"),
             std::string("/live/demo/720p/../../demo/master.m3u8"),
             std::string("/live/demo/./master.m3u8"),
             std::string("/live/demo/%2e%2e/master.m3u8"),
             std::string("/live/demo/720p/%2E%2E"),
             std::string("/live/demo/%2e/master.m3u8"),
             std::string("/live/demo/720p%2F3.ts"),
             std::string("/live/demo/720p/..%2F..%2F..%2Fetc%2Fpasswd"),
             std::string("/live/demo%2f720p/index.m3u8"),
             std::string("/live/demo/720p\\3.ts"),
             std::string("/live/demo/720p/..\\..\\x.ts"),
             std::string("/live/demo/720p/%5C3.ts"),
             std::string("/live/demo/720p/3.ts%00"),
             std::string("/live/demo/720p/%00"),
             std::string("/live//demo/master.m3u8"),
             std::string("/live/demo/720p/"),
             std::string("//etc/passwd"),
             std::string("live/demo/master.m3u8"),
             std::string("*"),
             std::string("/live/demo/720p/3.ts%"),
             long_path,
         }) {
        INFO(target);
        auto r = f.get(target);
        CHECK(r.result() != http::status::ok);
        check_error(r, http::status::bad_request, "bad_request");
    }
    // Right at the limit is fine (and then simply not found).
    std::string at_limit = "/live/demo/720p/";
    at_limit += std::string(Router::kMaxPath - at_limit.size() - 3, '1') + ".ts";
    REQUIRE(at_limit.size() == Router::kMaxPath);
    CHECK(f.get(at_limit).result() == http::status::bad_request);  // > 18 digits
    at_limit = "/live/demo/720p/" + std::string(Router::kMaxPath - 16, 'y');
    check_error(f.get(at_limit), http::status::not_found, "not_found");
}

TEST_CASE("HEAD gets GET's headers and no body", "[routes]") {
    Fixture f;
    f.fill();
    for (auto target : {"/live/demo/master.m3u8", "/live/demo/720p/index.m3u8",
                        "/live/demo/720p/3.ts", "/live/demo/720p/99.ts", "/healthz", "/nope",
                        "/live/demo/../x", "/live/demo/480p/index.m3u8"}) {
        INFO(target);
        auto get = f.get(target);
        auto head = f.get(target, http::verb::head);
        CHECK(head.result() == get.result());
        CHECK(head.body().size() == 0);
        CHECK(header(head, http::field::content_length) == std::to_string(get.body().size()));
        for (auto field : {http::field::content_type, http::field::cache_control,
                           http::field::access_control_allow_origin, http::field::retry_after})
            CHECK(header(head, field) == header(get, field));
    }
}

TEST_CASE("OPTIONS answers the CORS preflight with 204", "[routes]") {
    Fixture f;
    f.fill();
    for (auto target : {"/live/demo/master.m3u8", "/live/demo/720p/3.ts", "/healthz"}) {
        auto r = f.get(target, http::verb::options);
        CHECK(r.result() == http::status::no_content);
        CHECK(header(r, http::field::access_control_allow_origin) == "*");
        CHECK(header(r, http::field::access_control_allow_methods) == "GET, HEAD, OPTIONS");
        CHECK(header(r, http::field::access_control_allow_headers).find("Range") !=
              std::string::npos);
        CHECK(header(r, http::field::allow) == "GET, HEAD, OPTIONS");
        CHECK(r.body().size() == 0);
    }
}

TEST_CASE("other methods: 405 with Allow", "[routes]") {
    Fixture f;
    f.fill();
    for (auto method :
         {http::verb::post, http::verb::put, http::verb::delete_, http::verb::patch}) {
        auto r = f.get("/live/demo/720p/3.ts", method);
        check_error(r, http::status::method_not_allowed, "method_not_allowed");
        CHECK(header(r, http::field::allow) == "GET, HEAD, OPTIONS");
    }
    CHECK(f.store.held("720p") == 7);  // nothing changed
}

TEST_CASE("healthz: the channel's pipelines as JSON", "[routes]") {
    Fixture f;
    auto& a = *f.status.pipelines.front();
    a.input.state = core::InputState::connected;
    a.input.bitrate = 123;
    a.input.bytes = 1;
    a.input.last_packet_utc_ms = kNowMs - 12;
    a.input.connects = 1;
    a.pipeline.segments = 12;
    a.pipeline.last_sequence = 123;

    auto r = f.get("/healthz");
    REQUIRE(r.result() == http::status::ok);
    check_common(r);
    CHECK(header(r, http::field::content_type) == "application/json");
    CHECK(
        body(r) ==
        R"({"status":"ok","channel":"demo","pipelines":{"a":{"input":{)"
        R"("url":"srt://0.0.0.0:9001?mode=listener&latency=200","state":"connected","connected":true,)"
        R"("bitrate":123,"bytes":1,"last_packet_age_ms":12,"continuity_errors":0,)"
        R"("garbage_bytes":0,"rtp_lost":0,"connects":1,"refused_callers":0,"note":""},"segments":12,)"
        R"("last_sequence":123,"filling":false,"fill_frames":0,"timeline_jumps":0,)"
        R"("frames_in":0,"decode_errors":0}}})");

    SECTION("no packet yet: the age is null; both pipelines are listed") {
        a.input.last_packet_utc_ms = 0;
        a.input.set_note("waiting for a caller");
        auto& b = f.status.add('b', "udp://0.0.0.0:9002");
        b.pipeline.filling = true;
        auto json = boost::json::parse(body(f.get("/healthz"))).as_object();
        auto& pipes = json.at("pipelines").as_object();
        REQUIRE(pipes.size() == 2);
        CHECK(pipes.at("a").at("input").at("last_packet_age_ms").is_null());
        CHECK(pipes.at("a").at("input").at("note").as_string() == "waiting for a caller");
        CHECK(pipes.at("b").at("input").at("url").as_string() == "udp://0.0.0.0:9002");
        CHECK(pipes.at("b").at("input").at("state").as_string() == "idle");
        CHECK(pipes.at("b").at("filling").as_bool());
    }
}

namespace {

// A channel with pipelines A and B whose clock the test moves.
struct RedundantFixture {
    TestClock clock;
    SegmentStore store{options(5, {"720p", "480p"}, clock)};
    core::ChannelStatus status;
    Routes routes{store, status, [this] { return clock.now(); }};

    RedundantFixture() {
        status.channel = "demo";
        status.add('a', "srt://0.0.0.0:9001?mode=listener&latency=200");
        status.add('b', "srt://0.0.0.0:9002?mode=listener&latency=200");
        routes.set_api_token("t0ken");
    }
    Response call(http::verb method, std::string_view target, std::string body = {},
                  std::string_view token = {}) const {
        Request request{method, target, 11};
        if (!token.empty())
            request.set(http::field::authorization, fmt::format("Bearer {}", token));
        request.body() = std::move(body);
        request.prepare_payload();
        return routes(request).to_message();
    }
    boost::json::object status_json() const {
        auto r = call(http::verb::get, "/api/v1/channels/demo");
        REQUIRE(r.result() == http::status::ok);
        return boost::json::parse(onair::origin::testing::lines(r.body().view()).front())
            .as_object();
    }
};

}  // namespace

TEST_CASE("status API: each input and pipeline, the active one, switches", "[routes]") {
    RedundantFixture f;
    f.status.pipelines[0]->input.state = core::InputState::connected;
    f.status.pipelines[0]->input.continuity_errors = 3;
    for (int64_t s = 0; s < 3; ++s) {
        f.store.on_segment(segment("720p", s, 'a'));
        f.clock.advance(200);
        f.store.on_segment(segment("720p", s, 'b'));
        f.clock.advance(1800);
    }
    auto json = f.status_json();
    INFO(boost::json::serialize(json));
    CHECK(json.at("channel").as_string() == "demo");
    CHECK(json.at("active_pipeline").as_string() == "a");
    auto& fo = json.at("failover").as_object();
    CHECK(fo.at("mode").as_string() == "primary-preferred");
    CHECK(fo.at("switches").as_int64() == 0);
    CHECK(fo.at("last_switch").is_null());
    auto& in_a = json.at("inputs").at("a").as_object();
    CHECK(in_a.at("connected").as_bool());
    CHECK(in_a.at("continuity_errors").as_int64() == 3);
    CHECK(json.at("inputs").at("b").at("connected").as_bool() == false);
    auto& pa = json.at("pipelines").at("a").as_object();
    auto& pb = json.at("pipelines").at("b").as_object();
    CHECK(pa.at("state").as_string() == "active");
    CHECK(pb.at("state").as_string() == "standby");
    CHECK(pa.at("last_segment").as_int64() == 2);
    CHECK(pb.at("lag_ms").as_int64() == 200);
    CHECK(pa.at("lag_ms").as_int64() == 0);
    CHECK(pb.at("health").at("slate").as_bool() == false);

    // A stops delivering: after late_after the channel is on B, and says why.
    f.store.on_segment(segment("720p", 3, 'b'));
    f.clock.advance(1000);
    f.store.tick();
    json = f.status_json();
    CHECK(json.at("active_pipeline").as_string() == "b");
    CHECK(json.at("failover").at("switches").as_int64() == 1);
    auto& last = json.at("failover").at("last_switch").as_object();
    CHECK(last.at("from").as_string() == "a");
    CHECK(last.at("to").as_string() == "b");
    CHECK(last.at("reason").as_string() == "late");
    CHECK(last.at("sequence").as_int64() == 3);
    CHECK(json.at("pipelines").at("a").at("state").as_string() == "unhealthy");
    CHECK(json.at("pipelines").at("a").at("late_segments").as_int64() == 1);
    CHECK(f.call(http::verb::get, "/api/v1/channels/other").result() == http::status::not_found);
}

TEST_CASE("manual switch: token required, body checked, the switch reported", "[routes]") {
    RedundantFixture f;
    const auto url = "/api/v1/channels/demo/switch";
    check_error(f.call(http::verb::post, url, R"({"to":"b"})"), http::status::unauthorized,
                "unauthorized");
    CHECK(header(f.call(http::verb::post, url, R"({"to":"b"})"), http::field::www_authenticate) ==
          "Bearer");
    check_error(f.call(http::verb::post, url, R"({"to":"b"})", "wrong"), http::status::unauthorized,
                "unauthorized");
    check_error(f.call(http::verb::post, url, "to=b", "t0ken"), http::status::bad_request,
                "bad_request");
    check_error(f.call(http::verb::post, url, R"({"to":"c"})", "t0ken"), http::status::bad_request,
                "bad_request");
    check_error(f.call(http::verb::get, url), http::status::method_not_allowed,
                "method_not_allowed");
    CHECK(f.status_json().at("failover").at("switches").as_int64() == 0);

    auto r = f.call(http::verb::post, url, R"({"to":"b"})", "t0ken");
    REQUIRE(r.result() == http::status::ok);
    auto json = boost::json::parse(body(r)).as_object();
    CHECK(json.at("active_pipeline").as_string() == "b");
    CHECK(json.at("failover").at("manual_hold").as_bool());
    CHECK(json.at("failover").at("last_switch").at("reason").as_string() == "manual");
    // The history, newest first, bounded.
    for (int i = 0; i < 25; ++i)
        REQUIRE(f.call(http::verb::post, url, i % 2 ? R"({"to":"b"})" : R"({"to":"a"})", "t0ken")
                    .result() == http::status::ok);
    auto history = f.status_json().at("failover").at("history").as_array();
    CHECK(history.size() == 20);
    CHECK(history.front().at("from").as_string() == "b");  // the newest (the 25th): back to a
    CHECK(history.front().at("to").as_string() == "a");
    CHECK(history.front().at("reason").as_string() == "manual");
    CHECK(history[1].at("to").as_string() == "b");

    SECTION("without a configured token, control calls are refused") {
        Fixture plain;
        Request request{http::verb::post, "/api/v1/channels/demo/switch", 11};
        request.body() = R"({"to":"a"})";
        check_error(plain.routes(request).to_message(), http::status::forbidden, "forbidden");
    }
}

TEST_CASE("metrics: Prometheus text with the status figures", "[routes]") {
    RedundantFixture f;
    f.status.pipelines[0]->input.state = core::InputState::connected;
    f.status.pipelines[0]->input.bitrate = 2500000;
    f.store.on_segment(segment("720p", 7, 'a'));
    auto r = f.call(http::verb::get, "/metrics");
    REQUIRE(r.result() == http::status::ok);
    CHECK(header(r, http::field::content_type) == "text/plain; version=0.0.4; charset=utf-8");
    auto text = body(r);
    auto has = [&](std::string_view line) {
        INFO(text);
        CHECK(text.find(std::string(line) + "\n") != std::string::npos);
    };
    has("# TYPE onair_input_connected gauge");
    has(R"(onair_input_connected{channel="demo",pipeline="a"} 1)");
    has(R"(onair_input_connected{channel="demo",pipeline="b"} 0)");
    // A rate is Prometheus's to take: the byte counter, no bit-rate gauge (promtool's rule).
    CHECK(text.find("onair_input_bitrate") == std::string::npos);
    has(R"(onair_pipeline_last_sequence{channel="demo",pipeline="a"} 7)");
    has(R"(onair_pipeline_last_sequence{channel="demo",pipeline="b"} -1)");
    has(R"(onair_pipeline_active{channel="demo",pipeline="a"} 1)");
    has("# TYPE onair_failover_switches_total counter");
    has(R"(onair_failover_switches_total{channel="demo"} 0)");
    has(R"(onair_pipeline_check_failing{channel="demo",pipeline="b",check="black"} 0)");
    // Every sample line is NAME{labels} VALUE.
    for (auto& line : onair::origin::testing::lines(text)) {
        if (line.empty() || line[0] == '#') continue;
        INFO(line);
        CHECK(line.find("{channel=\"demo\"") != std::string::npos);
        CHECK(line.rfind(' ') > line.find('}'));
    }
}

TEST_CASE("conditional GET: 304 on an unchanged playlist, 200 after the next publish", "[routes]") {
    Fixture f;
    f.fill();
    int64_t next = 7;
    for (std::string target : {"/live/demo/720p/index.m3u8", "/live/demo/master.m3u8"}) {
        INFO(target);
        auto first = f.get(target);
        REQUIRE(first.result() == http::status::ok);
        const std::string etag = header(first, http::field::etag);
        CHECK(etag.size() == 18);  // a quoted 64-bit hash
        CHECK(!header(first, http::field::last_modified).empty());

        Request again{http::verb::get, target, 11};
        again.set(http::field::if_none_match, etag);
        auto unchanged = f.routes(again).to_message();
        CHECK(unchanged.result() == http::status::not_modified);
        CHECK(unchanged.body().size() == 0);
        CHECK(header(unchanged, http::field::etag) == etag);

        // The next segment is published: the same validator now gets the new playlist.
        FakeSegment f7;
        f7.sequence = next++;
        f7.size = 3000;  // a new peak: the master changes too
        f.store.on_segment(f7.make());
        auto changed = f.routes(again).to_message();
        CHECK(changed.result() == http::status::ok);
        CHECK(header(changed, http::field::etag) != etag);
        CHECK(changed.body().view() != first.body().view());
    }
}
