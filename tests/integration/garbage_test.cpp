// Random datagrams at the input port, before and while a real sender runs:
// onair survives, keeps answering, counts the garbage (UDP), and produces
// good segments from the real feed.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "tests/integration/onair_fixture.hpp"
#include "tests/support/net.hpp"

using namespace onair::testing;

namespace {

void run_garbage(SenderMode mode) {
    TempDir dir(fmt::format("onair-garbage-{}", to_string(mode)));
    ChannelSpec spec;
    spec.http_port = free_tcp_port();
    int input_port = free_udp_port();
    spec.input_url = input_url_for(mode, input_port);
    INFO("onair input " << spec.input_url << ", origin port " << spec.http_port << ", files in "
                        << dir.path().string());

    Onair onair(spec, dir);
    REQUIRE(onair.wait_ready());
    REQUIRE(onair.process().running());

    // Garbage alone for 5 s: onair stays up and answers all along.
    int unanswered = 0;
    {
        GarbageSender garbage(input_port, std::chrono::seconds(5));
        auto through = wait_until(
            "5 s of garbage",
            [&] {
                if (!onair.healthz()) ++unanswered;
                return garbage.done() || !onair.process().running();
            },
            std::chrono::seconds(15), std::chrono::milliseconds(250));
        CHECK(through);
        CHECK(garbage.bytes_sent() > 0);
    }
    REQUIRE(onair.process().running());
    CHECK(unanswered == 0);
    if (mode == SenderMode::udp) {
        int64_t counted = 0;
        auto seen = wait_until(
            "garbage_bytes > 0 in /healthz",
            [&] {
                auto p = onair.pipeline_status();
                if (p) counted = p->at("input").at("garbage_bytes").to_number<int64_t>();
                return counted > 0;
            },
            std::chrono::seconds(3));
        CHECK(seen);
    }

    // The real sender, with 4 s more garbage beside it at first.
    auto sender = start_sender({.mode = mode, .port = input_port, .output_dir = dir.path()});
    {
        GarbageSender garbage(input_port, std::chrono::seconds(4));
        auto through = wait_until(
            "4 s of garbage beside the sender",
            [&] {
                if (!onair.healthz()) ++unanswered;
                return garbage.done() || !onair.process().running();
            },
            std::chrono::seconds(15), std::chrono::milliseconds(250));
        CHECK(through);
    }
    REQUIRE(onair.process().running());
    CHECK(unanswered == 0);

    // Real content flows: connected, not filling, segments that probe well.
    std::string state;
    auto connected = wait_until(
        "the input to be connected and not filling",
        [&] {
            auto p = onair.pipeline_status();
            if (!p) return false;
            state = boost::json::serialize(*p);
            return p->at("input").at("state").as_string() == "connected" &&
                   !p->at("filling").as_bool() && p->at("frames_in").to_number<int64_t>() > 0;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(300));
    INFO("pipeline a: " << state);
    CHECK(connected);
    PlaylistWatcher watcher(onair);
    REQUIRE(onair.wait_segments(3, std::chrono::seconds(45)));
    REQUIRE(watcher.reload());
    auto from = watcher.last_sequence().value_or(0);
    auto advanced = wait_until(
        "two more segments of real content",
        [&] {
            watcher.reload();
            return watcher.last_sequence().value_or(0) >= from + 2;
        },
        std::chrono::seconds(20), std::chrono::milliseconds(700));
    CHECK(advanced);
    INFO(watcher.problems_text());
    CHECK(watcher.problems().empty());
    for (const auto& rung : spec.ladder) {
        const auto& segments = watcher.latest(rung.name).segments;
        std::vector<std::string> problems;
        for (size_t i = segments.size() >= 2 ? segments.size() - 2 : 0; i < segments.size(); ++i) {
            auto checked = check_segment(onair, rung, segments[i], dir.path());
            problems.insert(problems.end(), checked.problems.begin(), checked.problems.end());
        }
        INFO(join_lines(problems));
        CHECK(problems.empty());
    }

    auto exit = onair.stop(std::chrono::seconds(10));
    REQUIRE(exit);
    CHECK(exit->describe() == "exit 0");
}

}  // namespace

TEST_CASE("garbage at a UDP input", "[integration][garbage]") {
    run_garbage(SenderMode::udp);
}

TEST_CASE("garbage at an SRT listener", "[integration][garbage]") {
    run_garbage(SenderMode::srt_caller);
}
