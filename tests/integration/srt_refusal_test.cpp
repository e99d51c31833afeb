// An encoder refused at the SRT handshake no longer just never appears: onair
// logs the caller's address and why, and counts it in the status API and
// /metrics; the right caller still gets in, a second one is refused while it
// is there, and a relay killed and restarted at once takes over from its own
// silent connection. Real ffmpeg callers and srt-live-transmit on 127.0.0.1.
#include <catch2/catch.hpp>

#include <optional>

#include <fmt/format.h>

#include "tests/integration/onair_fixture.hpp"
#include "tests/support/feed.hpp"
#include "tests/support/net.hpp"

using namespace onair::testing;
using namespace std::chrono_literals;

namespace {

int64_t refused_callers(Onair& onair) {
    auto status = onair.channel_status();
    if (!status) return -1;
    return status->at("inputs").at("a").at("refused_callers").to_number<int64_t>();
}

}  // namespace

TEST_CASE("SRT listener: callers refused at the handshake are logged with their address and why",
          "[integration][srt]") {
    TempDir dir("onair-srt-refusals");
    ChannelSpec spec;
    spec.channel = "guarded";
    spec.http_port = free_tcp_port();
    const int port = free_udp_port();
    spec.input_url = fmt::format(
        "srt://127.0.0.1:{}?mode=listener&latency=200&passphrase=correct-horse-battery"
        "&streamid=studio-1",
        port);
    INFO("origin port " << spec.http_port << ", files in " << dir.path().string());
    Onair onair(spec, dir);
    REQUIRE(onair.wait_ready());
    REQUIRE(onair.process().running());
    auto caller = [&](std::string name, std::string options) {
        return start_sender({.mode = SenderMode::srt_caller,
                             .port = port,
                             .width = 640,
                             .height = 360,
                             .srt_options = std::move(options),
                             .output_dir = dir.path(),
                             .name = std::move(name)});
    };
    auto refused_within = [&](int64_t count) {
        return wait_until(
            fmt::format("{} refused callers in the status API", count),
            [&] { return refused_callers(onair) >= count; }, 10s, 200ms);
    };

    {
        Process wrong =
            caller("wrong-passphrase", "passphrase=not-the-passphrase&streamid=studio-1");
        REQUIRE(refused_within(1));
    }
    {
        Process wrong =
            caller("wrong-streamid", "passphrase=correct-horse-battery&streamid=studio-2");
        REQUIRE(refused_within(2));
    }
    const std::string log = onair.process().read_stderr();
    INFO(log);
    CHECK(log.find("refused a caller from 127.0.0.1:") != std::string::npos);
    CHECK(log.find(": wrong passphrase") != std::string::npos);
    CHECK(log.find(": wrong streamid \"studio-2\"") != std::string::npos);

    // The encoder with the right passphrase and streamid (a feed carried by
    // a relay) gets in; a second one is refused while it is there, and the
    // first goes on.
    const std::string right_options = "passphrase=correct-horse-battery&streamid=studio-1";
    const int udp_port = free_udp_port();
    Process feed = start_feed({.outputs = {{.port = udp_port}}, .output_dir = dir.path()});
    auto relay = [&] {
        return start_srt_relay({.udp_port = udp_port,
                                .srt_port = port,
                                .srt_options = right_options,
                                .output_dir = dir.path()});
    };
    std::optional<Process> right(relay());
    REQUIRE(onair.wait_segments(2, 30s));
    {
        Process second = caller("second", right_options);
        REQUIRE(refused_within(3));
    }
    CHECK(onair.process().read_stderr().find(": a caller is connected already") !=
          std::string::npos);
    PlaylistWatcher watcher(onair);
    auto segments_go_on = [&](std::string what) {
        REQUIRE(watcher.reload());
        const int64_t before = *watcher.last_sequence();
        return wait_until(
            what,
            [&] {
                watcher.reload();
                return *watcher.last_sequence() > before;
            },
            10s, 500ms);
    };
    REQUIRE(segments_go_on("the first caller's segments to go on"));

    // The relay killed and restarted at once: its new call is refused while
    // the old connection is fresh, then takes over once that has been silent
    // for a second, long before the 3 s after which onair would drop it.
    right->kill();
    right.emplace(relay());
    REQUIRE(wait_until(
        "the restarted relay to take over",
        [&] {
            return onair.process().read_stderr().find(", in place of a silent one") !=
                   std::string::npos;
        },
        10s, 100ms));
    const std::string after = onair.process().read_stderr();
    CHECK(after.find("input lost (silent, and a new caller is in)") != std::string::npos);
    CHECK(after.find("input lost (no data") == std::string::npos);
    REQUIRE(segments_go_on("segments from the restarted relay"));
    // (A handshake libsrt sends again is refused, and counted, again.)
    auto metrics = onair.get("/metrics");
    REQUIRE(metrics);
    const std::string sample =
        "onair_input_refused_callers_total{channel=\"guarded\",pipeline=\"a\"} ";
    const auto at = metrics->body.find(sample);
    REQUIRE(at != std::string::npos);
    CHECK(std::stod(metrics->body.substr(at + sample.size())) >= 3);
}
