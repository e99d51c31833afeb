// The encoder process's side of process mode against a real origin (an
// HttpServer with Routes and IngestRoutes on an ephemeral port of
// 127.0.0.1): the remote time anchor, the segment pusher and the status
// pusher, including an origin that is down, hung, or refuses the token.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <optional>
#include <thread>

#include "core/media_time.hpp"
#include "core/status.hpp"
#include "origin/http_server.hpp"
#include "origin/ingest_routes.hpp"
#include "origin/playlist.hpp"
#include "origin/routes.hpp"
#include "origin/segment_store.hpp"
#include "tests/support/wait.hpp"
#include "tools/remote_anchor.hpp"
#include "tools/segment_pusher.hpp"
#include "tools/status_pusher.hpp"

using namespace onair;
using namespace onair::tools;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr const char* kToken = "tok-123";
constexpr int64_t kLength = 2 * core::kMediaClock;  // 2 s segments
constexpr int64_t kTolerance = 10 * core::kMediaClock;

origin::StoreOptions store_options() {
    origin::StoreOptions o;
    o.channel = "pm";
    o.renditions = {"360p", "234p"};
    o.segment_length = kLength;
    o.window_segments = 10;
    o.failover.has_b = false;  // copies are listed as they come
    return o;
}

// `onair origin` in miniature.
struct Origin {
    origin::SegmentStore store{store_options()};
    core::ChannelStatus status;
    core::TimeAnchor anchor{kTolerance};
    origin::IngestRoutes ingest{origin::IngestOptions::from_store(store.options(), kToken), store,
                                status, anchor};
    origin::Routes routes{store, status};
    origin::HttpServer server;

    explicit Origin(uint16_t port = 0) : server(options(port), routes.handler()) {
        status.channel = "pm";
        status.add('a', "udp://127.0.0.1:5000");
        status.add('b', "udp://127.0.0.1:5002");
        routes.set_ingest(ingest);
        REQUIRE(server.start());
    }
    static origin::HttpServerOptions options(uint16_t port) {
        origin::HttpServerOptions o;
        o.port = port;
        o.threads = 2;
        return o;
    }
    origin::HttpUrl url() const { return {"127.0.0.1", server.port(), "/"}; }
};

// A port where nothing listens (an origin that is down).
uint16_t closed_port() {
    net::io_context ioc;
    tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
}

// Accepts connections and never answers (a hung origin).
struct Hung {
    net::io_context ioc;
    tcp::acceptor acceptor{ioc, {net::ip::make_address("127.0.0.1"), 0}};
    std::vector<tcp::socket> held;
    std::jthread thread{[this](std::stop_token stop) {
        acceptor.non_blocking(true);
        while (!stop.stop_requested()) {
            boost::system::error_code ec;
            tcp::socket s = acceptor.accept(ec);
            if (!ec) held.push_back(std::move(s));
            std::this_thread::sleep_for(5ms);
        }
    }};
    uint16_t port() const { return acceptor.local_endpoint().port(); }
};

using onair::testing::eventually;

// Segment number `sequence`, bytes that are whole TS packets.
core::Segment segment_at(int64_t sequence, std::string rendition = "360p", char pipeline = 'a',
                         uint8_t fill = 0x22) {
    core::Segment s;
    s.rendition = std::move(rendition);
    s.pipeline = pipeline;
    s.sequence = sequence;
    s.start = s.sequence * kLength;
    s.duration = kLength;
    s.frames = 50;
    s.width = 640;
    s.height = 360;
    s.frame_rate = {25, 1};
    s.codecs = "avc1.64001e,mp4a.40.2";
    core::Bytes bytes(188 * 8, fill);
    for (size_t i = 0; i < bytes.size(); i += 188) bytes[i] = 0x47;
    s.bytes = std::make_shared<const core::Bytes>(std::move(bytes));
    return s;
}

// A segment of the current time (so it is still useful). A loop making
// several takes one base first: a boundary may pass between two calls.
core::Segment live_segment(int64_t offset = 0, std::string rendition = "360p", char pipeline = 'a',
                           uint8_t fill = 0x22) {
    return segment_at(core::floor_div(core::utc_now_media(), kLength) + offset,
                      std::move(rendition), pipeline, fill);
}

SegmentPusherOptions pusher_options(origin::HttpUrl url, std::string token = kToken) {
    SegmentPusherOptions o;
    o.origin = std::move(url);
    o.channel = "pm";
    o.token = std::move(token);
    o.useful_ticks = 20 * core::kMediaClock;
    o.first_backoff = 50ms;
    o.max_backoff = 200ms;
    return o;
}

RemoteTimeAnchor remote_anchor(origin::HttpUrl url, std::string token = kToken) {
    return RemoteTimeAnchor({std::move(url), "pm", std::move(token)}, kTolerance);
}

std::chrono::milliseconds since(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t);
}

}  // namespace

TEST_CASE("remote anchor: two processes on one source share the origin's offset",
          "[process][anchor]") {
    Origin origin;
    auto a = remote_anchor(origin.url());
    auto b = remote_anchor(origin.url());
    const int64_t now = core::utc_now_media();
    const int64_t pts = 5'000'000'000;  // beyond 2^32: 33-bit values travel whole
    // Through MediaClock, as the pipelines use it: B sees the same frames 0.4 s later.
    core::MediaClock clock_a(a, 2 * core::kMediaClock), clock_b(b, 2 * core::kMediaClock);
    const int64_t media_a = clock_a.to_media(pts, now);
    const int64_t media_b = clock_b.to_media(pts, now + 36000);
    CHECK(media_a == media_b);
    CHECK(a.remote_locks() == 1);
    CHECK(b.remote_locks() == 1);
    CHECK(a.local_locks() + b.local_locks() == 0);
    CHECK(origin.anchor.offsets() == 1);
    // A pipeline that restarts later (a new process) joins the same timeline.
    auto restarted = remote_anchor(origin.url());
    core::MediaClock clock_r(restarted, 2 * core::kMediaClock);
    CHECK(clock_r.to_media(pts + 90 * core::kMediaClock, now + 90 * core::kMediaClock + 9000) ==
          media_a + 90 * core::kMediaClock);
    CHECK(origin.anchor.offsets() == 1);
}

TEST_CASE("remote anchor: with nothing listening it falls back to a local anchor",
          "[process][anchor]") {
    auto anchor = remote_anchor({"127.0.0.1", closed_port(), "/"});
    const int64_t now = core::utc_now_media();
    auto start = Clock::now();
    const int64_t offset = anchor.lock(777, now, 0, kTolerance);
    CHECK(since(start) < 1500ms);
    CHECK(core::unwrap_near(777 + offset, now) == now);
    CHECK(anchor.local_locks() == 1);
    CHECK(anchor.remote_locks() == 0);
    // The local list is used consistently: the same source finds it again.
    CHECK(anchor.lock(777 + 90000, now + 90000, 0, kTolerance) == offset);
}

TEST_CASE("remote anchor: a hung origin costs at most about a second", "[process][anchor]") {
    Hung hung;
    auto anchor = remote_anchor({"127.0.0.1", hung.port(), "/"});
    const int64_t now = core::utc_now_media();
    auto start = Clock::now();
    const int64_t offset = anchor.lock(1234, now, 0, kTolerance);
    auto took = since(start);
    CHECK(took >= 900ms);
    CHECK(took < 1600ms);
    CHECK(core::unwrap_near(1234 + offset, now) == now);
    CHECK(anchor.local_locks() == 1);
}

TEST_CASE("remote anchor: a refused token falls back too", "[process][anchor]") {
    Origin origin;
    auto anchor = remote_anchor(origin.url(), "wrong");
    anchor.lock(1, core::utc_now_media(), 0, kTolerance);
    CHECK(anchor.local_locks() == 1);
    CHECK(origin.anchor.offsets() == 0);
}

TEST_CASE("segment pusher: segments reach the origin with their metadata", "[process][push]") {
    Origin origin;
    SegmentPusher pusher(pusher_options(origin.url()));
    pusher.start();
    auto first = live_segment(0, "360p");
    first.slate = true;
    pusher.on_segment(first);
    pusher.on_segment(segment_at(first.sequence, "234p"));
    pusher.on_segment(segment_at(first.sequence + 1, "360p", 'a', 0x33));
    REQUIRE(eventually([&] { return pusher.stored() == 3; }));
    CHECK(origin.ingest.stored() == 3);
    auto copy = origin.store.pipeline_copy("360p", first.sequence, 'a');
    REQUIRE(copy);
    CHECK(*copy == *first.bytes);
    auto listing = origin.store.media_playlist("360p");
    REQUIRE(listing);
    CHECK(listing->find(fmt::format("#EXTINF:{},\n{}.ts\n", origin::format_extinf(kLength),
                                    first.sequence)) != std::string::npos);
    CHECK(listing->find(fmt::format("\n{}.ts\n", first.sequence + 1)) != std::string::npos);
    CHECK(listing->find(fmt::format("\n{}.ts\n", first.sequence + 2)) == std::string::npos);
    // Pushing the same again is harmless.
    pusher.on_segment(first);
    REQUIRE(eventually([&] { return pusher.duplicates() == 1; }));
    CHECK(origin.store.held("360p") == 2);
    pusher.stop();
    CHECK(pusher.dropped() == 0);
    CHECK(pusher.refused() == 0);
}

TEST_CASE("segment pusher: an origin that comes up late still gets the segments",
          "[process][push]") {
    const uint16_t port = closed_port();
    SegmentPusher pusher(pusher_options({"127.0.0.1", port, "/"}));
    pusher.start();
    pusher.on_segment(live_segment(0));
    pusher.on_segment(live_segment(1));
    REQUIRE(eventually([&] { return pusher.retries() >= 2; }));
    CHECK(pusher.stored() == 0);
    Origin origin(port);
    REQUIRE(eventually([&] { return pusher.stored() == 2; }));
    CHECK(origin.store.held("360p") == 2);
}

TEST_CASE("segment pusher: on_segment never blocks, a full queue drops the oldest",
          "[process][push]") {
    const uint16_t port = closed_port();
    auto options = pusher_options({"127.0.0.1", port, "/"});
    options.capacity = 2;
    SegmentPusher pusher(options);
    pusher.start();
    const int64_t base = live_segment(0).sequence;
    auto start = Clock::now();
    for (int i = 0; i < 6; ++i) pusher.on_segment(segment_at(base + i));
    CHECK(since(start) < 50ms);
    // The first may be in flight already; of the rest only the newest two wait.
    CHECK(pusher.dropped() >= 3);
    Origin origin(port);
    REQUIRE(eventually([&] { return pusher.stored() + pusher.dropped() == 6; }));
    CHECK(origin.store.pipeline_copy("360p", base + 5, 'a'));
    CHECK(origin.store.pipeline_copy("360p", base + 4, 'a'));
    CHECK_FALSE(origin.store.pipeline_copy("360p", base + 3, 'a'));
    CHECK_FALSE(origin.store.pipeline_copy("360p", base + 2, 'a'));
}

TEST_CASE("segment pusher: a part is tried once, never holds its segment back nor crowds it out",
          "[process][push]") {
    const uint16_t port = closed_port();
    auto options = pusher_options({"127.0.0.1", port, "/"});
    options.part_backlog = 2;
    SegmentPusher pusher(options);
    pusher.start();
    const auto segment = live_segment(0);
    for (int k = 0; k < 6; ++k) {
        core::Part part;
        part.rendition = segment.rendition;
        part.sequence = segment.sequence;
        part.index = k;
        part.start = segment.start + k * kLength / 6;
        part.duration = kLength / 6;
        part.frames = 5;
        part.bytes = segment.bytes;
        pusher.on_part(std::move(part));
    }
    pusher.on_segment(segment);
    // With the origin down every part is given up (skipped behind a backlog,
    // or after its one attempt) while the segment is retried...
    REQUIRE(eventually([&] { return pusher.parts_skipped() == 6 && pusher.retries() >= 2; }));
    CHECK(pusher.dropped() == 0);
    // ...and reaches the origin once it is there.
    Origin origin(port);
    REQUIRE(eventually([&] { return pusher.stored() == 1; }));
    CHECK(origin.store.pipeline_copy("360p", segment.sequence, 'a'));
}

TEST_CASE("segment pusher: a segment past the playlist window is not pushed", "[process][push]") {
    Origin origin;
    SegmentPusher pusher(pusher_options(origin.url()));
    pusher.start();
    pusher.on_segment(live_segment(-20));  // ended 38 s ago; useful for 20 s
    pusher.on_segment(live_segment(0));
    REQUIRE(eventually([&] { return pusher.stored() == 1; }));
    CHECK(pusher.expired() == 1);
    CHECK(origin.store.held("360p") == 1);
}

TEST_CASE("segment pusher: a refused token is not retried", "[process][push]") {
    Origin origin;
    SegmentPusher pusher(pusher_options(origin.url(), "wrong"));
    pusher.start();
    pusher.on_segment(live_segment(0));
    REQUIRE(eventually([&] { return pusher.refused() == 1; }));
    CHECK(pusher.retries() == 0);
    CHECK(origin.store.held("360p") == 0);
}

TEST_CASE("segment pusher: stop() delivers what is queued", "[process][push]") {
    Origin origin;
    SegmentPusher pusher(pusher_options(origin.url()));
    pusher.start();
    const int64_t base = live_segment(0).sequence;
    for (int i = 0; i < 8; ++i) pusher.on_segment(segment_at(base + i, i % 2 ? "234p" : "360p"));
    pusher.stop(5s);
    CHECK(pusher.stored() == 8);
    CHECK(origin.ingest.stored() == 8);
}

TEST_CASE("segment pusher: stop() with the origin down takes only its grace", "[process][push]") {
    SegmentPusher pusher(pusher_options({"127.0.0.1", closed_port(), "/"}));
    pusher.start();
    pusher.on_segment(live_segment(0));
    pusher.on_segment(live_segment(1));
    REQUIRE(eventually([&] { return pusher.retries() >= 1; }));
    auto start = Clock::now();
    pusher.stop(300ms);
    auto took = since(start);
    CHECK(took >= 250ms);
    CHECK(took < 1000ms);
    CHECK(pusher.stored() == 0);
    CHECK(pusher.expired() == 2);
}

TEST_CASE("status pusher: the origin shows the remote pipeline's status", "[process][status]") {
    Origin origin;
    core::PipelineRuntimeStatus local;
    local.id = 'b';
    local.input.state = core::InputState::connected;
    local.input.bytes = 4242;
    local.input.set_note("listening");
    local.pipeline.segments = 12;
    local.pipeline.last_sequence = 99;
    StatusPusherOptions o;
    o.origin = origin.url();
    o.channel = "pm";
    o.token = kToken;
    o.interval = 100ms;
    StatusPusher pusher(o, local);
    pusher.start();
    const auto& seen = *origin.status.find('b');
    REQUIRE(eventually([&] { return seen.pipeline.segments.load() == 12; }));
    CHECK(seen.input.state.load() == core::InputState::connected);
    CHECK(seen.input.bytes.load() == 4242);
    CHECK(seen.input.note() == "listening");
    CHECK(seen.pipeline.last_sequence.load() == 99);
    // Updates follow; the last report after stop() carries the final state.
    local.pipeline.segments = 13;
    REQUIRE(eventually([&] { return seen.pipeline.segments.load() == 13; }));
    local.input.state = core::InputState::stopped;
    pusher.stop();
    CHECK(seen.input.state.load() == core::InputState::stopped);
    CHECK(origin.status.find('a')->pipeline.segments.load() == 0);
}
