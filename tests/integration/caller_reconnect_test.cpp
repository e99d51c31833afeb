// onair as the SRT caller: it keeps trying, with back-off, until the sender's
// listener is there; when the listener goes away it reconnects to the next
// one, and players see one contiguous timeline throughout.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "tests/integration/onair_fixture.hpp"
#include "tests/support/net.hpp"

using namespace onair::testing;

namespace {

int64_t field(const boost::json::object& pipeline, const char* name) {
    return pipeline.at(name).to_number<int64_t>();
}

int64_t input_field(const boost::json::object& pipeline, const char* name) {
    return pipeline.at("input").at(name).to_number<int64_t>();
}

}  // namespace

TEST_CASE("onair as SRT caller waits for its listener and reconnects after it drops",
          "[integration][caller]") {
    TempDir dir("onair-caller");
    ChannelSpec spec;
    spec.http_port = free_tcp_port();
    int input_port = free_udp_port();
    spec.input_url = input_url_for(SenderMode::srt_listener, input_port);
    SenderOptions sender_options{
        .mode = SenderMode::srt_listener, .port = input_port, .output_dir = dir.path()};
    INFO("onair input " << spec.input_url << ", files in " << dir.path().string());

    // No listener yet: onair keeps calling, serves nothing to play, stays up.
    Onair onair(spec, dir);
    REQUIRE(onair.wait_ready());
    auto waited = wait_until(
        "onair to have tried and failed to connect for a few seconds",
        [&] {
            auto p = onair.pipeline_status();
            return p && state_of(*p) == "reconnecting";
        },
        std::chrono::seconds(15));
    CHECK(waited);
    auto early = onair.get(onair.master_path());
    REQUIRE(early);
    CHECK(early->status == 503);
    REQUIRE(onair.process().running());

    // The listener comes up: onair finds it on its next try (back-off ≤ 5 s).
    std::optional<Process> sender(start_sender(sender_options));
    REQUIRE(onair.wait_segments(4, std::chrono::seconds(45)));
    PlaylistWatcher watcher(onair);
    REQUIRE(watcher.reload());
    auto status = onair.pipeline_status();
    REQUIRE(status);
    CHECK(state_of(*status) == "connected");
    CHECK(input_field(*status, "connects") == 1);

    // The listener goes away: onair fills, then calls again.
    sender->kill();
    auto noticed = wait_until(
        "/healthz to show the input gone",
        [&] {
            watcher.reload();
            auto p = onair.pipeline_status();
            return p && state_of(*p) != "connected" && p->at("filling").as_bool();
        },
        std::chrono::seconds(8));
    CHECK(noticed);
    sender.reset();
    sender.emplace(start_sender(sender_options));
    auto back = wait_until(
        "onair to reconnect and stop filling",
        [&] {
            watcher.reload();
            auto p = onair.pipeline_status();
            return p && state_of(*p) == "connected" && !p->at("filling").as_bool() &&
                   input_field(*p, "connects") >= 2;
        },
        std::chrono::seconds(40), std::chrono::milliseconds(500));
    REQUIRE(back);
    // A few more segments of real content after the reconnect.
    auto now_last = watcher.last_sequence().value_or(0);
    CHECK(wait_until(
        "the playlists to advance after the reconnect",
        [&] {
            watcher.reload();
            return watcher.last_sequence().value_or(0) >= now_last + 2;
        },
        std::chrono::seconds(20), std::chrono::milliseconds(700)));

    // One contiguous timeline across both drops, and the new segments are good.
    INFO(watcher.problems_text());
    CHECK(watcher.problems().empty());
    for (const auto& rung : spec.ladder) {
        INFO("rung " << rung.name);
        CHECK(watcher.tracker(rung.name).violations().empty());
        const auto& latest = watcher.latest(rung.name);
        REQUIRE(!latest.segments.empty());
        auto checked = check_segment(onair, rung, latest.segments.back(), dir.path());
        INFO(join_lines(checked.problems));
        CHECK(checked.problems.empty());
    }
    auto final_status = onair.pipeline_status();
    REQUIRE(final_status);
    CHECK(field(*final_status, "fill_frames") > 0);

    auto exit = onair.stop(std::chrono::seconds(10));
    REQUIRE(exit);
    CHECK(exit->describe() == "exit 0");
}
