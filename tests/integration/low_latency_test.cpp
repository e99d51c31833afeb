// Low-Latency HLS from a real channel (the built-in signal at 30 fps, 2 s
// segments of four 500 ms parts): the playlist's LL tags by the spec's rules,
// a blocking reload answered as its part is published, many such requests
// answered together, a hinted part held until it exists, and what ffprobe
// reads from a part.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <future>
#include <regex>

#include <fmt/format.h>

#include "tests/integration/onair_fixture.hpp"
#include "tests/support/net.hpp"

using namespace onair::testing;
using namespace std::chrono_literals;

namespace {

struct Edge {
    int64_t open_msn = 0;  // the segment in progress
    std::string hint;      // the hinted part's URI
    int64_t hint_sequence = 0;
    int hint_part = 0;
    std::string map;
};

Edge edge_of(const std::string& text) {
    Edge e;
    auto playlist = parse_media_playlist(text);
    REQUIRE(playlist.media_sequence);
    e.open_msn = *playlist.media_sequence + int64_t(playlist.segments.size());
    std::smatch m;
    REQUIRE(std::regex_search(
        text, m, std::regex(R"re(#EXT-X-PRELOAD-HINT:TYPE=PART,URI="((\d+)\.(\d+)\.m4s)")re")));
    e.hint = m[1];
    e.hint_sequence = std::stoll(m[2]);
    e.hint_part = std::stoi(m[3]);
    REQUIRE_FALSE(playlist.segments.empty());
    e.map = playlist.segments.back().map_uri;
    return e;
}

// A live LL-HLS playlist, checked by the spec's rules (CMAF: SEQ.m4s URIs).
MediaPlaylist checked_playlist(const std::string& text) {
    auto playlist = parse_media_playlist(text);
    MediaCheckOptions rules;
    rules.uri_is_sequence = true;
    auto problems = check_media_playlist(playlist, rules);
    INFO(join_lines(problems));
    CHECK(problems.empty());
    return playlist;
}

// The blocking reload (`_HLS_msn`, `_HLS_part`) of `playlist` at `base` that
// waits for its hinted part: the hint names the open segment's next part, or
// the first of the one after.
std::string hinted_reload(const std::string& base, const MediaPlaylist& playlist, const Edge& e) {
    const int64_t last_sequence = std::stoll(playlist.segments.back().uri);
    return fmt::format("{}index.m3u8?_HLS_msn={}&_HLS_part={}", base,
                       e.open_msn + (e.hint_sequence - (last_sequence + 1)), e.hint_part);
}

int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

TEST_CASE("LL-HLS: blocking reloads and hinted parts are answered as each part is published",
          "[integration][llhls]") {
    TempDir dir("onair-llhls");
    ChannelSpec spec;
    spec.channel = "ll";
    spec.http_port = free_tcp_port();
    spec.input_url = "testsrc:?size=640x360&rate=30";
    spec.preset = "ultrafast";
    spec.container = "fmp4";
    spec.extra_yaml = fmt::format("data: {}\n", (dir.path() / "data").string());
    spec.part = "500ms";
    Onair onair(spec, dir);
    const std::string base = "/live/ll/360p/";
    auto get = [&](const std::string& target, std::chrono::milliseconds timeout = 10s) {
        return onair.get(target, timeout);
    };
    REQUIRE(wait_until(
        "three segments listed",
        [&] {
            auto r = get(base + "index.m3u8", 2s);
            return r && r->status == 200 && parse_media_playlist(r->body).segments.size() >= 3;
        },
        60s, 250ms));

    auto first = get(base + "index.m3u8");
    REQUIRE(first);
    INFO(first->body);
    auto playlist = checked_playlist(first->body);
    CHECK(first->body.find("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.000,"
                           "PART-HOLD-BACK=1.500\n") != std::string::npos);
    CHECK(first->body.find("#EXT-X-PART-INF:PART-TARGET=0.500\n") != std::string::npos);
    CHECK(first->body.find("#EXT-X-RENDITION-REPORT:URI=\"../234p/index.m3u8\"") !=
          std::string::npos);

    // Ask for the hinted part through the playlist, 200 clients at once: all
    // are held, then answered together once it is published.
    auto e = edge_of(first->body);
    const auto blocking = hinted_reload(base, playlist, e);
    const int64_t asked = now_ms();
    std::vector<std::future<std::pair<HttpResult, int64_t>>> clients;
    for (int i = 0; i < 200; ++i)
        clients.push_back(std::async(std::launch::async, [&] {
            auto r = get(blocking, 10s);
            return std::pair{std::move(r), now_ms()};
        }));
    auto part = get(base + e.hint, 10s);  // the hinted part itself, held too
    const int64_t part_at = now_ms();
    REQUIRE(part);
    REQUIRE(part->status == 200);
    int64_t earliest = INT64_MAX, latest = 0;
    for (auto& c : clients) {
        auto [r, at] = c.get();
        REQUIRE(r);
        REQUIRE(r->status == 200);
        CHECK(r->body.find("URI=\"" + e.hint + "\"") != std::string::npos);
        earliest = std::min(earliest, at);
        latest = std::max(latest, at);
    }
    INFO("asked at " << asked << ", answered from " << earliest << " to " << latest
                     << ", the part at " << part_at);
    // Held (a part is 500 ms away at most) and answered within one part of
    // being asked; every answer within 100 ms of the hinted part itself (held
    // until the part was published).
    CHECK(latest - asked <= 1500);
    CHECK(latest - part_at <= 100);
    CHECK(part_at - earliest <= 100);

    // What the part holds: init + part play; an independent part starts on a key frame.
    auto init = get(base + e.map);
    REQUIRE(init);
    REQUIRE(init->status == 200);
    const auto file = dir.path() / "part.mp4";
    std::ofstream(file, std::ios::binary) << init->body << part->body;
    auto probed = probe(file.string(), dir.path());
    INFO(probed.summary());
    CHECK(probed.clean());
    CHECK(probed.audio());
    CHECK(probed.video_frames.size() == 15);  // 500 ms at 30 fps
    if (e.hint_part == 0) CHECK(probed.video_frames.front().key_frame);

    // Limits: too far ahead is 400 at once; a part not hinted is 404.
    auto far = get(fmt::format("{}index.m3u8?_HLS_msn={}", base, e.open_msn + 5));
    REQUIRE(far);
    CHECK(far->status == 400);
    auto unhinted = get(fmt::format("{}{}.{}.m4s", base, e.hint_sequence + 3, 1));
    REQUIRE(unhinted);
    CHECK(unhinted->status == 404);
    REQUIRE(onair.stop());
}

// Process mode: `onair origin` alone, one `onair encode` pushing its parts
// (and segments) over the ingest API; players get the same LL-HLS.
TEST_CASE("LL-HLS in process mode: an encoder pushes its parts, the origin lists and holds them",
          "[integration][llhls][process]") {
    TempDir dir("onair-llhls-process");
    const std::string token = "itest-ll-ingest";
    ChannelSpec spec;
    spec.channel = "ll";
    spec.http_port = free_tcp_port();
    spec.input_url = "testsrc:?size=320x180&rate=25";
    spec.preset = "ultrafast";
    spec.container = "fmp4";
    spec.part = "200ms";  // five frames; five parts per 1 s GOP
    spec.ladder = {{"180p", 320, 180, "250k"}};
    spec.command = "origin";
    spec.env = {{"ONAIR_INGEST_TOKEN", token}};
    Onair origin(spec, dir);
    REQUIRE(origin.wait_ready());
    Process encoder =
        start_encoder(dir.path() / "channel.yaml", 'a', spec.http_port, dir, 1, token);
    const std::string base = "/live/ll/180p/";
    REQUIRE(wait_until(
        "parts listed at the origin",
        [&] {
            auto r = origin.get(base + "index.m3u8", 2s);
            return !encoder.running() ||
                   (r && r->status == 200 && r->body.find("#EXT-X-PART:") != std::string::npos &&
                    parse_media_playlist(r->body).segments.size() >= 2);
        },
        60s, 250ms));
    INFO(encoder.report());
    REQUIRE(encoder.running());

    auto listed = origin.get(base + "index.m3u8");
    REQUIRE(listed);
    INFO(listed->body);
    auto playlist = checked_playlist(listed->body);
    CHECK(listed->body.find("#EXT-X-PART-INF:PART-TARGET=0.200\n") != std::string::npos);

    // A blocking reload for the hinted part, and the part itself: both held
    // until the encoder's push of it, then answered.
    auto e = edge_of(listed->body);
    const auto blocking = hinted_reload(base, playlist, e);
    const int64_t asked = now_ms();
    auto reload = std::async(std::launch::async, [&] { return origin.get(blocking, 10s); });
    auto part = origin.get(base + e.hint, 10s);
    REQUIRE(part);
    REQUIRE(part->status == 200);
    auto reloaded = reload.get();
    REQUIRE(reloaded);
    REQUIRE(reloaded->status == 200);
    CHECK(reloaded->body.find("URI=\"" + e.hint + "\"") != std::string::npos);
    CHECK(now_ms() - asked <= 3000);  // held, then answered: not the 503 of a timeout

    auto init = origin.get(base + e.map);
    REQUIRE(init);
    REQUIRE(init->status == 200);
    // A part that is not independent decodes after the parts back to its
    // GOP's IDR (GOP 1 s: every fifth part), fetched as listed.
    const int first = e.hint_part - e.hint_part % 5;
    std::string parts;
    for (int k = first; k < e.hint_part; ++k) {
        auto earlier = origin.get(fmt::format("{}{}.{}.m4s", base, e.hint_sequence, k));
        REQUIRE(earlier);
        REQUIRE(earlier->status == 200);
        parts += earlier->body;
    }
    parts += part->body;
    const auto file = dir.path() / "pushed-part.mp4";
    std::ofstream(file, std::ios::binary) << init->body << parts;
    auto probed = probe(file.string(), dir.path());
    INFO(probed.summary() << "; parts " << first << " to " << e.hint_part);
    CHECK(probed.clean());
    // 200 ms at 25 fps a part, the first an IDR.
    CHECK(probed.video_frames.size() == std::size_t(5 * (e.hint_part - first + 1)));
    if (!probed.video_frames.empty()) CHECK(probed.video_frames.front().key_frame);
    encoder.signal(SIGTERM);
    CHECK(encoder.wait_for(15s));
    REQUIRE(origin.stop());
}
