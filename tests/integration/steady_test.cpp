// A steady feed over each input protocol: onair must produce a valid master
// and media playlists (RFC 8216 rules), segments that are what the playlists
// say they are, stable across reloads, and stop cleanly on SIGINT.
#include <catch2/catch.hpp>

#include <signal.h>

#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "tests/integration/onair_fixture.hpp"
#include "tests/support/net.hpp"

using namespace onair::testing;

namespace {

// "360p/index.m3u8" -> "360p" (also for "/live/CH/360p/index.m3u8").
std::string rendition_of(const std::string& uri) {
    auto end = uri.rfind('/');
    if (end == std::string::npos) return {};
    auto start = uri.rfind('/', end - 1);
    return uri.substr(start == std::string::npos ? 0 : start + 1,
                      end - (start == std::string::npos ? 0 : start + 1));
}

void run_steady(SenderMode mode) {
    TempDir dir(fmt::format("onair-steady-{}", to_string(mode)));
    ChannelSpec spec;
    spec.http_port = free_tcp_port();
    int input_port = mode == SenderMode::rtp ? free_udp_port_pair() : free_udp_port();
    spec.input_url = input_url_for(mode, input_port);
    SenderOptions sender_options{.mode = mode, .port = input_port, .output_dir = dir.path()};
    INFO("mode " << to_string(mode) << ", onair input " << spec.input_url << ", origin port "
                 << spec.http_port << ", files in " << dir.path().string());

    // The sender that listens goes first; otherwise onair goes first so
    // that it is there when the sender starts sending.
    std::optional<Process> sender;
    if (mode == SenderMode::srt_listener) sender.emplace(start_sender(sender_options));
    Onair onair(spec, dir);
    auto ready = onair.wait_ready();
    REQUIRE(onair.process().running());
    REQUIRE(ready);
    if (!sender) {
        // No media yet: the master playlist is not available.
        auto early = onair.get(onair.master_path());
        REQUIRE(early);
        CHECK(early->status == 503);
        sender.emplace(start_sender(sender_options));
    }

    auto listed = onair.wait_segments(8, std::chrono::seconds(50));
    REQUIRE(onair.process().running());
    REQUIRE(listed);

    // The master playlist.
    auto master_response = onair.get(onair.master_path());
    REQUIRE(master_response);
    REQUIRE(master_response->status == 200);
    CHECK_THAT(master_response->header("Content-Type").value_or(""),
               Catch::Contains("mpegurl", Catch::CaseSensitive::No));
    CHECK(master_response->header("Access-Control-Allow-Origin") == "*");
    INFO("master playlist:\n" << master_response->body);
    auto master = parse_master_playlist(master_response->body);
    auto master_violations = check_master_playlist(master);
    INFO(join_lines(master_violations));
    CHECK(master_violations.empty());
    REQUIRE(master.variants.size() == spec.ladder.size());
    std::map<std::string, const Variant*> variants;
    for (const auto& v : master.variants) variants[rendition_of(v.uri)] = &v;
    for (const auto& rung : spec.ladder) {
        INFO("rung " << rung.name);
        REQUIRE(variants.contains(rung.name));
        CHECK(variants[rung.name]->width == rung.width);
        CHECK(variants[rung.name]->height == rung.height);
        REQUIRE(variants[rung.name]->frame_rate);
        CHECK(*variants[rung.name]->frame_rate == Approx(25.0).margin(0.01));
    }

    // Every media playlist, and every segment it lists.
    PlaylistWatcher watcher(onair);
    REQUIRE(watcher.reload());
    for (const auto& rung : spec.ladder) {
        const auto& playlist = watcher.latest(rung.name);
        INFO("rung " << rung.name << ", playlist:\n" << watcher.latest_text(rung.name));
        REQUIRE(playlist.segments.size() >= 8);
        REQUIRE(playlist.target_duration);
        CHECK(*playlist.target_duration == 2);
        // Numbers come from media time: about UTC / segment length.
        const auto& first = playlist.segments.front();
        REQUIRE(first.pdt_ms);
        double numbered_s = double(first.sequence) * spec.segment_seconds;
        CHECK(std::abs(numbered_s - *first.pdt_ms / 1000.0) < 86400.0);

        std::set<std::string> codec_strings;
        std::vector<std::string> problems;
        for (const auto& segment : playlist.segments) {
            auto checked = check_segment(onair, rung, segment, dir.path());
            problems.insert(problems.end(), checked.problems.begin(), checked.problems.end());
            if (checked.sps) codec_strings.insert(checked.sps->codec_string());
        }
        INFO(join_lines(problems));
        CHECK(problems.empty());
        // CODECS in the master names the real profile/level of the rung.
        REQUIRE(codec_strings.size() == 1);
        auto expected_codecs = *codec_strings.begin() + ",mp4a.40.2";
        CHECK(variants[rung.name]->codecs == expected_codecs);
    }
    auto media_response = onair.get(onair.media_path(spec.ladder.front().name));
    REQUIRE(media_response);
    CHECK_THAT(media_response->header("Content-Type").value_or(""),
               Catch::Contains("mpegurl", Catch::CaseSensitive::No));
    CHECK(media_response->header("Access-Control-Allow-Origin") == "*");

    // Reloads: the playlist advances, and what it listed stays as it was.
    for (int round = 0; round < 3; ++round) {
        auto before = watcher.last_sequence().value_or(0);
        auto advanced = wait_until(
            fmt::format("round {}: every playlist to advance past {}", round + 1, before),
            [&] {
                watcher.reload();
                return watcher.last_sequence().value_or(0) > before;
            },
            std::chrono::seconds(12), std::chrono::milliseconds(700));
        CHECK(advanced);
    }
    INFO(watcher.problems_text());
    CHECK(watcher.problems().empty());
    for (const auto& rung : spec.ladder) CHECK(watcher.tracker(rung.name).violations().empty());

    // /healthz agrees.
    auto status = onair.pipeline_status("a");
    REQUIRE(status);
    INFO(boost::json::serialize(*status));
    CHECK(status->at("input").at("state").as_string() == "connected");
    CHECK(status->at("filling").as_bool() == false);
    CHECK(status->at("frames_in").to_number<int64_t>() > 0);
    CHECK(status->at("input").at("bytes").to_number<int64_t>() > 0);

    // SIGINT: a clean exit within 10 s.
    REQUIRE(onair.process().running());
    auto exit = onair.stop(std::chrono::seconds(10));
    REQUIRE(exit);
    CHECK(exit->describe() == "exit 0");
}

}  // namespace

TEST_CASE("steady feed over SRT with onair listening", "[integration][steady]") {
    run_steady(SenderMode::srt_caller);
}

TEST_CASE("steady feed over SRT with onair calling", "[integration][steady]") {
    run_steady(SenderMode::srt_listener);
}

TEST_CASE("steady feed over UDP", "[integration][steady]") {
    run_steady(SenderMode::udp);
}

TEST_CASE("steady feed over RTP", "[integration][steady]") {
    run_steady(SenderMode::rtp);
}
