// The origin's ingest side, called directly (no sockets): what a pipeline in
// another process gets back for good and bad pushes, and what a player then
// sees from the origin.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <boost/json.hpp>

#include "core/media_time.hpp"
#include "core/status.hpp"
#include "fakes.hpp"
#include "origin/ingest_protocol.hpp"
#include "origin/ingest_routes.hpp"
#include "origin/routes.hpp"

using namespace onair;
using namespace onair::origin;
using namespace onair::origin::testing;
namespace http = boost::beast::http;

namespace {

constexpr std::string_view kToken = "s3cret-token";
constexpr int64_t kLength = 6 * kSecond;
// The sequence number of a segment starting at kBaseUtcMs.
constexpr int64_t kBase = kBaseUtcMs * 90 / kLength;

// Counts what reaches the store through the ingest side.
class CountingSink final : public core::SegmentSink {
  public:
    explicit CountingSink(core::SegmentSink& next) : next_(next) {}
    void on_segment(core::Segment segment) override {
        ++count;
        next_.on_segment(std::move(segment));
    }
    int count = 0;

  private:
    core::SegmentSink& next_;
};

std::string ts_bytes(std::size_t packets, uint8_t fill = 0x11) {
    std::string bytes(packets * 188, char(fill));
    for (std::size_t i = 0; i < packets; ++i) bytes[i * 188] = char(0x47);
    return bytes;
}

struct Fixture {
    SegmentStore store{options(5, {"720p", "480p"})};
    CountingSink sink{store};
    core::ChannelStatus status;
    core::TimeAnchor anchor{10 * kSecond};
    IngestRoutes ingest{IngestOptions::from_store(store.options(), std::string(kToken)), sink,
                        [this](std::string_view r, int64_t s, char p) {
                            return store.pipeline_copy(r, s, p) != nullptr;
                        },
                        status, anchor};
    Routes routes{store, status};

    Fixture() {
        status.channel = "demo";
        status.add('a', "udp://127.0.0.1:5000");
        status.add('b', "udp://127.0.0.1:5002");
        routes.set_ingest(ingest);
    }

    // A complete, valid push of segment kBase + n, headers spelled out.
    static Request push(int64_t n = 0, char pipeline = 'a', std::string rendition = "720p",
                        std::string body = ts_bytes(10)) {
        Request r{http::verb::put,
                  fmt::format("/ingest/v1/demo/{}/{}/{}.ts", pipeline, rendition, kBase + n), 11};
        r.set(http::field::authorization, fmt::format("Bearer {}", kToken));
        r.set("X-Onair-Start", std::to_string((kBase + n) * kLength));
        r.set("X-Onair-Duration", std::to_string(kLength));
        r.set("X-Onair-Frames", "180");
        r.set("X-Onair-Slate", "0");
        r.set("X-Onair-Health", "");
        r.set("X-Onair-Input-Utc-Ms", std::to_string(kBaseUtcMs + n * 6000 + 6100));
        r.set("X-Onair-Width", "1280");
        r.set("X-Onair-Height", "720");
        r.set("X-Onair-Frame-Rate", "30/1");
        r.set("X-Onair-Codecs", "avc1.64001f,mp4a.40.2");
        r.body() = std::move(body);
        r.prepare_payload();
        return r;
    }
    static Request json_request(http::verb method, std::string target, std::string body) {
        Request r{method, target, 11};
        r.set(http::field::authorization, fmt::format("Bearer {}", kToken));
        r.set(http::field::content_type, "application/json");
        r.body() = std::move(body);
        r.prepare_payload();
        return r;
    }
    // Through the origin's full request handler, as the server calls it.
    Response call(const Request& r) const { return routes(r).to_message(); }
    Response get(std::string target) const {
        return routes(Request{http::verb::get, target, 11}).to_message();
    }
};

std::string body(const Response& response) {
    return std::string(response.body().view());
}

std::string header(const Response& response, http::field field) {
    auto it = response.find(field);
    return it == response.end() ? std::string("<absent>") : std::string(it->value());
}

// A JSON error with that status; returns its reason.
std::string check_error(const Response& response, http::status status) {
    INFO("status " << response.result_int() << " body " << body(response));
    CHECK(response.result() == status);
    CHECK(header(response, http::field::content_type) == "application/json");
    auto json = boost::json::parse(body(response)).as_object();
    CHECK(json.contains("error"));
    return json.contains("reason") ? std::string(json.at("reason").as_string()) : std::string();
}

// Nothing reached the store.
void check_unchanged(const Fixture& f) {
    CHECK(f.sink.count == 0);
    CHECK(f.store.held("720p") == 0);
    CHECK(f.store.held("480p") == 0);
}

}  // namespace

TEST_CASE("ingest: a valid push is stored (201) and served to players", "[origin][ingest]") {
    Fixture f;
    const std::string bytes = ts_bytes(20, 0x5a);
    auto pushed = f.call(Fixture::push(0, 'a', "720p", bytes));
    INFO(body(pushed));
    CHECK(pushed.result() == http::status::created);
    CHECK(f.sink.count == 1);

    auto copy = f.store.pipeline_copy("720p", kBase, 'a');
    REQUIRE(copy);
    CHECK(std::string(copy->begin(), copy->end()) == bytes);

    auto segment = f.get(fmt::format("/live/demo/720p/{}.ts", kBase));
    CHECK(segment.result() == http::status::ok);
    CHECK(body(segment) == bytes);
    auto own = f.get(fmt::format("/live/demo/720p/{}.ts?pipeline=a", kBase));
    CHECK(body(own) == bytes);

    // The metadata headers are what the playlists are made of.
    auto playlist = f.get("/live/demo/720p/index.m3u8");
    REQUIRE(playlist.result() == http::status::ok);
    CHECK(tag_value(body(playlist), "#EXT-X-MEDIA-SEQUENCE") == std::to_string(kBase));
    CHECK(tag_value(body(playlist), "#EXTINF") == "6.000,");
    CHECK(tag_value(body(playlist), "#EXT-X-PROGRAM-DATE-TIME") == "2026-11-22T04:48:00.000Z");
    auto master = f.get("/live/demo/master.m3u8");
    CHECK(body(master).find("RESOLUTION=1280x720") != std::string::npos);
    CHECK(body(master).find("CODECS=\"avc1.64001f,mp4a.40.2\"") != std::string::npos);
}

TEST_CASE("ingest: the slate flag and health travel with the segment", "[origin][ingest]") {
    Fixture f;
    // B's real content, A's slate for the same sequence: the origin serves B.
    auto slate = Fixture::push(0, 'a', "720p", ts_bytes(4, 0xaa));
    slate.set("X-Onair-Slate", "1");
    slate.set("X-Onair-Health", "black,silent");
    CHECK(f.call(slate).result() == http::status::created);
    CHECK(f.call(Fixture::push(0, 'b', "720p", ts_bytes(4, 0xbb))).result() ==
          http::status::created);
    CHECK(f.store.served_copy("720p", kBase) == 'b');
}

TEST_CASE("ingest: a duplicate answers 200 and changes nothing", "[origin][ingest]") {
    Fixture f;
    const std::string first = ts_bytes(5, 0x01);
    REQUIRE(f.call(Fixture::push(0, 'a', "720p", first)).result() == http::status::created);
    auto again = f.call(Fixture::push(0, 'a', "720p", ts_bytes(7, 0x02)));
    CHECK(again.result() == http::status::ok);
    CHECK(f.sink.count == 1);
    auto copy = f.store.pipeline_copy("720p", kBase, 'a');
    REQUIRE(copy);
    CHECK(std::string(copy->begin(), copy->end()) == first);
    // The other pipeline's copy of the same sequence is not a duplicate.
    CHECK(f.call(Fixture::push(0, 'b')).result() == http::status::created);
    CHECK(f.ingest.stored() == 2);
    CHECK(f.ingest.duplicates() == 1);
}

TEST_CASE("ingest: without the right token, 401 and nothing else", "[origin][ingest]") {
    Fixture f;
    auto request = Fixture::push();
    SECTION("no Authorization header") {
        request.erase(http::field::authorization);
    }
    SECTION("a wrong token") {
        request.set(http::field::authorization, "Bearer s3cret-tokem");
    }
    SECTION("the token with something after it") {
        request.set(http::field::authorization, fmt::format("Bearer {}x", kToken));
    }
    SECTION("a prefix of the token") {
        request.set(http::field::authorization, "Bearer s3cret");
    }
    SECTION("another scheme") {
        request.set(http::field::authorization, fmt::format("Basic {}", kToken));
    }
    SECTION("an unknown channel is not told apart without the token") {
        request.target(fmt::format("/ingest/v1/nosuch/a/720p/{}.ts", kBase));
        request.erase(http::field::authorization);
    }
    auto response = f.call(request);
    check_error(response, http::status::unauthorized);
    CHECK(header(response, http::field::www_authenticate).starts_with("Bearer"));
    CHECK(body(response).find(kToken) == std::string::npos);
    check_unchanged(f);
}

TEST_CASE("ingest: every route needs the token", "[origin][ingest]") {
    Fixture f;
    auto anchor = Fixture::json_request(http::verb::post, "/ingest/v1/demo/anchor",
                                        R"({"pts":1,"now":2,"lag":0,"tolerance":900000})");
    anchor.erase(http::field::authorization);
    check_error(f.call(anchor), http::status::unauthorized);
    CHECK(f.anchor.offsets() == 0);
    auto status = Fixture::json_request(http::verb::put, "/ingest/v1/demo/a/status", "{}");
    status.erase(http::field::authorization);
    check_error(f.call(status), http::status::unauthorized);
}

TEST_CASE("ingest: wrong place, 404 or 400", "[origin][ingest]") {
    Fixture f;
    auto request = Fixture::push();
    http::status expected = http::status::not_found;
    std::string reason_has;
    SECTION("unknown channel") {
        request.target(fmt::format("/ingest/v1/other/a/720p/{}.ts", kBase));
        reason_has = "channel";
    }
    SECTION("unknown rendition") {
        request.target(fmt::format("/ingest/v1/demo/a/1080p/{}.ts", kBase));
        reason_has = "rendition";
    }
    SECTION("pipeline neither a nor b") {
        request.target(fmt::format("/ingest/v1/demo/c/720p/{}.ts", kBase));
        expected = http::status::bad_request;
        reason_has = "pipeline";
    }
    SECTION("not a sequence number") {
        request.target("/ingest/v1/demo/a/720p/latest.ts");
        expected = http::status::bad_request;
        reason_has = "sequence";
    }
    SECTION("unknown version") {
        request.target(fmt::format("/ingest/v2/demo/a/720p/{}.ts", kBase));
        reason_has = "path";
    }
    auto reason = check_error(f.call(request), expected);
    CHECK(reason.find(reason_has) != std::string::npos);
    check_unchanged(f);
}

TEST_CASE("ingest: a pipeline the channel does not have is refused", "[origin][ingest]") {
    SegmentStore store{options(5, {"720p"})};
    core::ChannelStatus status;
    status.add('a', "udp://127.0.0.1:5000");
    core::TimeAnchor anchor{10 * kSecond};
    IngestRoutes ingest{IngestOptions::from_store(store.options(), std::string(kToken)), store,
                        status, anchor};
    check_error(ingest(Fixture::push(0, 'b')).to_message(), http::status::not_found);
    CHECK(store.held("720p") == 0);
    CHECK(ingest(Fixture::push(0, 'a')).status() == 201);
}

TEST_CASE("ingest: missing or malformed headers, 400 naming them all", "[origin][ingest]") {
    Fixture f;
    auto request = Fixture::push();
    std::vector<std::string> named;
    SECTION("two missing") {
        request.erase("X-Onair-Start");
        request.erase("X-Onair-Frames");
        named = {"X-Onair-Start", "X-Onair-Frames"};
    }
    SECTION("every required one missing") {
        for (auto h : {"X-Onair-Start", "X-Onair-Duration", "X-Onair-Frames", "X-Onair-Slate",
                       "X-Onair-Width", "X-Onair-Height", "X-Onair-Frame-Rate", "X-Onair-Codecs"}) {
            request.erase(h);
            named.emplace_back(h);
        }
    }
    SECTION("not numbers") {
        request.set("X-Onair-Duration", "6s");
        request.set("X-Onair-Start", "12e9");
        request.set("X-Onair-Width", "+1280");
        named = {"X-Onair-Duration", "X-Onair-Start", "X-Onair-Width"};
    }
    SECTION("one missing, one malformed") {
        request.erase("X-Onair-Height");
        request.set("X-Onair-Input-Utc-Ms", "soon");
        named = {"X-Onair-Height", "X-Onair-Input-Utc-Ms"};
    }
    SECTION("slate neither 0 nor 1") {
        request.set("X-Onair-Slate", "yes");
        named = {"X-Onair-Slate"};
    }
    SECTION("unknown health word") {
        request.set("X-Onair-Health", "black,blurry");
        named = {"X-Onair-Health"};
    }
    SECTION("frame rate not NUM/DEN") {
        request.set("X-Onair-Frame-Rate", "29.97");
        named = {"X-Onair-Frame-Rate"};
    }
    SECTION("codecs that would break the master playlist") {
        request.set("X-Onair-Codecs", "avc1.64001f\",BANDWIDTH=1");
        named = {"X-Onair-Codecs"};
    }
    auto reason = check_error(f.call(request), http::status::bad_request);
    for (const auto& h : named) {
        INFO("reason: " << reason);
        CHECK(reason.find(h) != std::string::npos);
    }
    check_unchanged(f);
}

TEST_CASE("ingest: timing that does not add up, 400", "[origin][ingest]") {
    Fixture f;
    auto request = Fixture::push();
    std::string reason_has;
    SECTION("sequence is not floor(start / segment length)") {
        request.set("X-Onair-Start", std::to_string((kBase + 1) * kLength));
        reason_has = "sequence";
    }
    SECTION("start a tick before the segment") {
        request.set("X-Onair-Start", std::to_string(kBase * kLength - 1));
        reason_has = "sequence";
    }
    SECTION("zero duration") {
        request.set("X-Onair-Duration", "0");
        reason_has = "Duration";
    }
    SECTION("negative duration") {
        request.set("X-Onair-Duration", "-90000");
        reason_has = "Duration";
    }
    SECTION("longer than two segments") {
        request.set("X-Onair-Duration", std::to_string(2 * kLength + 1));
        reason_has = "Duration";
    }
    SECTION("no frames") {
        request.set("X-Onair-Frames", "0");
        reason_has = "Frames";
    }
    auto reason = check_error(f.call(request), http::status::bad_request);
    CHECK(reason.find(reason_has) != std::string::npos);
    check_unchanged(f);
}

TEST_CASE("ingest: a start within the segment and two segments' length are fine",
          "[origin][ingest]") {
    Fixture f;
    auto request = Fixture::push();
    request.set("X-Onair-Start", std::to_string(kBase * kLength + kLength - 1));
    request.set("X-Onair-Duration", std::to_string(2 * kLength));
    CHECK(f.call(request).result() == http::status::created);
}

TEST_CASE("ingest: a body that is not MPEG-TS, 400", "[origin][ingest]") {
    Fixture f;
    std::string bytes;
    SECTION("empty") {}
    SECTION("not a multiple of 188 bytes") {
        bytes = ts_bytes(3);
        bytes.pop_back();
    }
    SECTION("a packet without the sync byte") {
        bytes = ts_bytes(3);
        bytes[2 * 188] = 0x48;
    }
    SECTION("text") {
        bytes = std::string(188, 'x');
    }
    auto request = Fixture::push(0, 'a', "720p", bytes);
    check_error(f.call(request), http::status::bad_request);
    check_unchanged(f);
}

TEST_CASE("ingest: wrong method, 405 with Allow", "[origin][ingest]") {
    Fixture f;
    auto request = Fixture::push();
    request.method(http::verb::post);
    auto response = f.call(request);
    check_error(response, http::status::method_not_allowed);
    CHECK(header(response, http::field::allow) == "PUT, OPTIONS");
    check_unchanged(f);
}

TEST_CASE("ingest: the anchor answers from the origin's shared TimeAnchor", "[origin][ingest]") {
    Fixture f;
    const int64_t now = kBaseUtcMs * 90;
    const int64_t pts = 123456789;
    auto query = [&](int64_t p, int64_t at) {
        return Fixture::json_request(
            http::verb::post, "/ingest/v1/demo/anchor",
            fmt::format(R"({{"pts":{},"now":{},"lag":0,"tolerance":{}}})", p, at, 10 * kSecond));
    };
    auto first = f.call(query(pts, now));
    REQUIRE(first.result() == http::status::ok);
    int64_t offset = boost::json::parse(body(first)).at("offset").to_number<int64_t>();
    // Maps the timestamp onto the wall clock it was seen at...
    CHECK(core::unwrap_near((pts & (core::kPtsWrap - 1)) + offset, now) == now);
    // ...and a local pipeline of this origin finds the same offset for the
    // same source seen 0.3 s later.
    CHECK(f.anchor.lock(pts + 90000, now + 27000 + 90000, 0, 10 * kSecond) == offset);
    // So does a second remote pipeline.
    auto second = f.call(query(pts + 45000, now + 60000));
    CHECK(boost::json::parse(body(second)).at("offset").to_number<int64_t>() == offset);
    CHECK(f.anchor.offsets() == 1);
}

TEST_CASE("ingest: malformed anchor queries, 400", "[origin][ingest]") {
    Fixture f;
    std::string json;
    SECTION("not JSON") {
        json = "pts=1";
    }
    SECTION("a field missing") {
        json = R"({"pts":1,"now":2,"lag":0})";
    }
    SECTION("a string for a number") {
        json = R"({"pts":"1","now":2,"lag":0,"tolerance":9})";
    }
    SECTION("a fraction") {
        json = R"({"pts":1.5,"now":2,"lag":0,"tolerance":9})";
    }
    SECTION("negative tolerance") {
        json = R"({"pts":1,"now":2,"lag":0,"tolerance":-1})";
    }
    check_error(f.call(Fixture::json_request(http::verb::post, "/ingest/v1/demo/anchor", json)),
                http::status::bad_request);
    CHECK(f.anchor.offsets() == 0);
}

TEST_CASE("ingest: a status report shows in /healthz like a local pipeline", "[origin][ingest]") {
    Fixture f;
    ingest::StatusReport report;
    report.state = core::InputState::connected;
    report.bytes = 123456;
    report.connects = 2;
    report.segments = 42;
    report.last_sequence = kBase + 7;
    report.frames_in = 900;
    report.filling = true;
    report.frozen = true;
    report.note = "reconnected";
    auto response = f.call(Fixture::json_request(http::verb::put, "/ingest/v1/demo/b/status",
                                                 ingest::status_json(report)));
    INFO(body(response));
    REQUIRE(response.result() == http::status::ok);

    const auto& b = *f.status.find('b');
    CHECK(b.input.state.load() == core::InputState::connected);
    CHECK(b.input.note() == "reconnected");
    CHECK(b.pipeline.frozen.load());
    CHECK(b.input_description == "udp://127.0.0.1:5002");  // the origin's own
    auto health = boost::json::parse(body(f.get("/healthz")));
    const auto& json = health.at("pipelines").at("b");
    CHECK(json.at("input").at("state").as_string() == "connected");
    CHECK(json.at("input").at("bytes").to_number<int64_t>() == 123456);
    CHECK(json.at("input").at("connects").to_number<int64_t>() == 2);
    CHECK(json.at("segments").to_number<int64_t>() == 42);
    CHECK(json.at("last_sequence").to_number<int64_t>() == kBase + 7);
    CHECK(json.at("frames_in").to_number<int64_t>() == 900);
    CHECK(json.at("filling").as_bool());
    // Pipeline a is untouched.
    CHECK(f.status.find('a')->pipeline.segments.load() == 0);
}

TEST_CASE("ingest: a malformed status report, 400 and nothing changes", "[origin][ingest]") {
    Fixture f;
    ingest::StatusReport good;
    good.state = core::InputState::connected;
    good.segments = 5;
    auto json = boost::json::parse(ingest::status_json(good)).as_object();
    std::string text;
    std::string reason_has;
    SECTION("not JSON") {
        text = "{\"input\":";
        reason_has = "JSON";
    }
    SECTION("an unknown state") {
        json["input"].as_object()["state"] = "dancing";
        text = boost::json::serialize(json);
        reason_has = "input.state";
    }
    SECTION("a field missing") {
        json["pipeline"].as_object().erase("segments");
        text = boost::json::serialize(json);
        reason_has = "pipeline.segments";
    }
    SECTION("a mistyped field") {
        json["pipeline"].as_object()["filling"] = 1;
        text = boost::json::serialize(json);
        reason_has = "pipeline.filling";
    }
    auto reason = check_error(
        f.call(Fixture::json_request(http::verb::put, "/ingest/v1/demo/a/status", text)),
        http::status::bad_request);
    CHECK(reason.find(reason_has) != std::string::npos);
    const auto& a = *f.status.find('a');
    CHECK(a.input.state.load() == core::InputState::idle);
    CHECK(a.pipeline.segments.load() == 0);
}

TEST_CASE("ingest: without an ingest handler the origin has no /ingest/", "[origin][ingest]") {
    SegmentStore store{options()};
    core::ChannelStatus status;
    Routes routes{store, status};
    auto response = routes(Fixture::push()).to_message();
    CHECK(response.result() == http::status::not_found);
    CHECK(store.held("720p") == 0);
}

TEST_CASE("ingest protocol: segment headers round-trip", "[origin][ingest]") {
    FakeSegment fake;
    fake.slate = true;
    fake.frame_rate = {30000, 1001};
    core::Segment s = fake.make();
    s.health.black = true;
    s.health.silent = true;
    s.input_utc_ms = 1795322886100;
    http::fields fields;
    ingest::set_segment_headers(fields, s);
    CHECK(fields["X-Onair-Health"] == "black,silent");
    CHECK(fields["X-Onair-Frame-Rate"] == "30000/1001");
    auto back = ingest::read_segment_headers(fields);
    REQUIRE(back);
    CHECK(back->start == s.start);
    CHECK(back->duration == s.duration);
    CHECK(back->frames == s.frames);
    CHECK(back->slate);
    CHECK(back->health == s.health);
    CHECK(back->input_utc_ms == s.input_utc_ms);
    CHECK(back->width == s.width);
    CHECK(back->height == s.height);
    CHECK(back->frame_rate == s.frame_rate);
    CHECK(back->codecs == s.codecs);
}

TEST_CASE("ingest: an encoder that stops reporting is shown as stopped", "[origin][ingest]") {
    Fixture f;
    int64_t now = kBaseUtcMs;
    f.ingest.set_clock([&] { return now; });
    ingest::StatusReport report;
    report.state = core::InputState::connected;
    auto put = [&] {
        return f.call(Fixture::json_request(http::verb::put, "/ingest/v1/demo/a/status",
                                            ingest::status_json(report)));
    };
    REQUIRE(put().result() == http::status::ok);
    const auto& a = *f.status.find('a');
    f.ingest.expire_reports(now + 4000);
    CHECK(a.input.state.load() == core::InputState::connected);
    f.ingest.expire_reports(now + 6000);
    CHECK(a.input.state.load() == core::InputState::stopped);
    CHECK(a.input.note() == "no status report from its encoder for 6 s");
    // B never reported (or runs in this process): left alone.
    CHECK(f.status.find('b')->input.state.load() == core::InputState::idle);
    // Back when it reports again.
    now += 7000;
    REQUIRE(put().result() == http::status::ok);
    CHECK(a.input.state.load() == core::InputState::connected);
    f.ingest.expire_reports(now + 1000);
    CHECK(a.input.state.load() == core::InputState::connected);
}

TEST_CASE("ingest: a CMAF push carries its init section, players get EXT-X-MAP, it and the .m4s",
          "[origin][ingest][fmp4]") {
    auto o = options(5, {"720p", "480p"});
    o.container = core::Container::fmp4;
    SegmentStore store{o};
    core::ChannelStatus status;
    status.channel = "demo";
    status.add('a', "udp://127.0.0.1:5000");
    core::TimeAnchor anchor{10 * kSecond};
    IngestRoutes ingest{IngestOptions::from_store(store.options(), std::string(kToken)), store,
                        [&](std::string_view r, int64_t s, char p) {
                            return store.pipeline_copy(r, s, p) != nullptr;
                        },
                        status, anchor};
    Routes routes{store, status};
    routes.set_ingest(ingest);

    const std::string init_bytes = box("ftyp", 24) + box("moov", 700);
    const std::string media = box("moof", 120) + box("mdat", 5000);
    core::Segment segment = FakeSegment{}.make();
    segment.container = core::Container::fmp4;
    segment.init = core::InitSection::of(core::Bytes(init_bytes.begin(), init_bytes.end()));
    auto push = [&](std::string target, std::string body, bool with_init = true) {
        Request r{http::verb::put, std::move(target), 11};
        r.set(http::field::authorization, fmt::format("Bearer {}", kToken));
        core::Segment s = segment;
        if (!with_init) s.init = nullptr;
        ingest::set_segment_headers(r, s);
        r.body() = std::move(body);
        r.prepare_payload();
        return routes(r).to_message();
    };
    auto get = [&](std::string target) {
        return routes(Request{http::verb::get, std::move(target), 11}).to_message();
    };
    const auto target = ingest::segment_target("demo", 'a', "720p", kBase, core::Container::fmp4);
    CHECK(target.ends_with(".m4s"));

    // Refused: a .ts name, no init section, a body that is not boxes, a bad init.
    CHECK_THAT(check_error(push(ingest::segment_target("demo", 'a', "720p", kBase), media),
                           http::status::bad_request),
               Catch::Contains(".m4s"));
    CHECK_THAT(check_error(push(target, media, false), http::status::bad_request),
               Catch::Contains("X-Onair-Init"));
    CHECK_THAT(check_error(push(target, ts_bytes(10)), http::status::bad_request),
               Catch::Contains("box"));
    CHECK_THAT(
        check_error(push(target, box("mdat", 100) + box("moof", 20)), http::status::bad_request),
        Catch::Contains("moof"));
    {
        Request r{http::verb::put, target, 11};
        r.set(http::field::authorization, fmt::format("Bearer {}", kToken));
        ingest::set_segment_headers(r, segment);
        r.set("X-Onair-Init", "not base64!");
        r.body() = media;
        r.prepare_payload();
        CHECK_THAT(check_error(routes(r).to_message(), http::status::bad_request),
                   Catch::Contains("X-Onair-Init"));
    }
    CHECK(store.held("720p") == 0);

    auto pushed = push(target, media);
    INFO(body(pushed));
    REQUIRE(pushed.result() == http::status::created);
    auto playlist = get("/live/demo/720p/index.m3u8");
    REQUIRE(playlist.result() == http::status::ok);
    const std::string map = core::init_file_name(segment.init->id);
    CHECK(tag_value(body(playlist), "#EXT-X-VERSION") == "6");
    CHECK(tag_value(body(playlist), "#EXT-X-MAP") == fmt::format("URI=\"{}\"", map));
    CHECK(body(playlist).find(fmt::format("\n{}.m4s\n", kBase)) != std::string::npos);

    auto init = get("/live/demo/720p/" + map);
    REQUIRE(init.result() == http::status::ok);
    CHECK(body(init) == init_bytes);
    CHECK(header(init, http::field::content_type) == "video/mp4");
    CHECK(header(init, http::field::cache_control) == "max-age=86400, immutable");
    auto served = get(fmt::format("/live/demo/720p/{}.m4s", kBase));
    REQUIRE(served.result() == http::status::ok);
    CHECK(body(served) == media);
    CHECK(header(served, http::field::content_type) == "video/mp4");
    // Another id, or a .ts name, is no file of this channel.
    CHECK(get("/live/demo/720p/init-0123456789abcdef.mp4").result() == http::status::not_found);
    CHECK(get(fmt::format("/live/demo/720p/{}.ts", kBase)).result() == http::status::not_found);
}

TEST_CASE("ingest protocol: an init section round-trips in its header, whatever its padding",
          "[origin][ingest][fmp4]") {
    for (std::size_t size : {700, 701, 702}) {  // base64 with no, two and one '='
        INFO(size << " bytes");
        core::Bytes bytes(size);
        for (std::size_t i = 0; i < size; ++i) bytes[i] = uint8_t(i * 7 + 3);
        core::Segment s = FakeSegment{}.make();
        s.container = core::Container::fmp4;
        s.init = core::InitSection::of(bytes);
        http::fields fields;
        ingest::set_segment_headers(fields, s);
        auto back = ingest::read_segment_headers(fields);
        REQUIRE(back);
        REQUIRE(back->init);
        CHECK(back->init->bytes == bytes);
        CHECK(back->init->id == s.init->id);
    }
}
