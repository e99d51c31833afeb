// The sender dies and comes back (SRT, onair listening): onair notices,
// keeps serving playlists that advance (fill), takes the new caller, stops
// filling, and players see one contiguous, unchanging timeline throughout.
#include <catch2/catch.hpp>

#include <signal.h>

#include <fmt/format.h>

#include "tests/integration/onair_fixture.hpp"
#include "tests/support/net.hpp"

using namespace onair::testing;

namespace {

int64_t number(const boost::json::value& v) {
    return v.to_number<int64_t>();
}

}  // namespace

TEST_CASE("the sender is killed and restarted", "[integration][restart]") {
    TempDir dir("onair-restart");
    ChannelSpec spec;
    spec.http_port = free_tcp_port();
    int input_port = free_udp_port();
    spec.input_url = input_url_for(SenderMode::srt_caller, input_port);
    SenderOptions sender_options{
        .mode = SenderMode::srt_caller, .port = input_port, .output_dir = dir.path()};
    INFO("onair input " << spec.input_url << ", origin port " << spec.http_port << ", files in "
                        << dir.path().string());

    Onair onair(spec, dir);
    REQUIRE(onair.wait_ready());
    REQUIRE(onair.process().running());
    std::optional<Process> sender(start_sender(sender_options));
    REQUIRE(onair.wait_segments(4, std::chrono::seconds(45)));
    REQUIRE(onair.process().running());

    PlaylistWatcher watcher(onair);
    REQUIRE(watcher.reload());
    auto first_status = onair.pipeline_status();
    REQUIRE(first_status);
    CHECK(state_of(*first_status) == "connected");

    // Kill the sender: the input is noticed gone within about a second.
    sender->kill();
    auto killed_at = Clock::now();
    auto last_before = watcher.last_sequence();
    REQUIRE(last_before);
    std::string state_after_kill;
    auto noticed = wait_until(
        "/healthz to show the input not connected after the sender died",
        [&] {
            auto p = onair.pipeline_status();
            if (!p) return false;
            state_after_kill = state_of(*p);
            return state_after_kill != "connected";
        },
        std::chrono::milliseconds(3500), std::chrono::milliseconds(200));
    INFO("state after the kill: " << state_after_kill);
    CHECK(noticed);

    // While it is gone: everything still answers, playlists advance (fill).
    bool saw_filling = false;
    int master_failures = 0;
    auto outage = wait_until(
        "8 s of outage with the playlists advancing by 3 segments",
        [&] {
            auto m = onair.get(onair.master_path());
            if (!m || m->status != 200) ++master_failures;
            watcher.reload();
            if (auto p = onair.pipeline_status(); p && p->at("filling").as_bool())
                saw_filling = true;
            auto last = watcher.last_sequence().value_or(0);
            return last >= *last_before + 3 && Clock::now() - killed_at >= std::chrono::seconds(8);
        },
        std::chrono::seconds(25), std::chrono::milliseconds(500));
    INFO(watcher.problems_text());
    REQUIRE(onair.process().running());
    CHECK(outage);
    CHECK(master_failures == 0);
    CHECK(saw_filling);
    auto during = onair.pipeline_status();
    REQUIRE(during);
    CHECK(number(during->at("fill_frames")) > 0);

    // The sender returns: onair takes it, and stops filling.
    sender.reset();
    sender.emplace(start_sender(sender_options));
    std::string state_now;
    auto resumed = wait_until(
        "/healthz to show the input connected and not filling",
        [&] {
            watcher.reload();
            auto p = onair.pipeline_status();
            if (!p) return false;
            state_now = state_of(*p) + (p->at("filling").as_bool() ? ", filling" : ", not filling");
            return state_of(*p) == "connected" && !p->at("filling").as_bool();
        },
        std::chrono::seconds(20), std::chrono::milliseconds(500));
    INFO("input now: " << state_now);
    REQUIRE(resumed);
    auto resumed_at = watcher.last_sequence().value_or(0);

    // New segments after the return, and a timeline without holes.
    auto advanced = wait_until(
        "the playlists to advance 3 segments past the return",
        [&] {
            watcher.reload();
            return watcher.last_sequence().value_or(0) >= resumed_at + 3;
        },
        std::chrono::seconds(20), std::chrono::milliseconds(700));
    CHECK(advanced);
    CHECK(watcher.problems().empty());
    for (const auto& rung : spec.ladder) {
        auto& tracker = watcher.tracker(rung.name);
        INFO("rung " << rung.name);
        CHECK(tracker.violations().empty());
        REQUIRE(tracker.first_sequence());
        CHECK(int64_t(tracker.segments().size()) ==
              *tracker.last_sequence() - *tracker.first_sequence() + 1);
        // Everything now listed: fill, the switch back and new content.
        std::vector<std::string> problems;
        for (const auto& segment : watcher.latest(rung.name).segments) {
            auto checked = check_segment(onair, rung, segment, dir.path());
            problems.insert(problems.end(), checked.problems.begin(), checked.problems.end());
        }
        INFO("playlist:\n" << watcher.latest_text(rung.name));
        INFO(join_lines(problems));
        CHECK(problems.empty());
    }
    auto after = onair.pipeline_status();
    REQUIRE(after);
    INFO(boost::json::serialize(*after));
    CHECK(number(after->at("input").at("connects")) >= 2);
    CHECK(after->at("filling").as_bool() == false);

    auto exit = onair.stop(std::chrono::seconds(10));
    REQUIRE(exit);
    CHECK(exit->describe() == "exit 0");
}
