// Process mode: `onair origin` alone, and one `onair encode` process per
// pipeline pushing to it over HTTP, both encoders fed the same MPEG-TS (one
// ffmpeg, tee muxer, two UDP ports). Encoder A is killed and started again:
// it must rejoin with the same numbering (its segments interchangeable with
// B's) while players see one contiguous timeline without a discontinuity.
#include <catch2/catch.hpp>

#include <signal.h>

#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "tests/integration/onair_fixture.hpp"
#include "tests/support/feed.hpp"
#include "tests/support/net.hpp"

using namespace onair::testing;

namespace {

constexpr const char* kToken = "itest-ingest-token";

// The newest segment the origin has from a pipeline (status API), -1 if none.
int64_t last_segment(Onair& origin, char pipeline) {
    auto s = origin.channel_status();
    if (!s) return -1;
    const auto& v = s->at("pipelines").at(std::string(1, pipeline)).at("last_segment");
    return v.is_null() ? -1 : v.to_number<int64_t>();
}

// A pipeline's own copy of one segment, probed; nullopt when it has none.
std::optional<ProbeResult> probe_copy(Onair& origin, const std::string& rendition, int64_t sequence,
                                      char pipeline, const TempDir& dir) {
    auto r = origin.get(fmt::format("/live/{}/{}/{}.ts?pipeline={}", origin.spec().channel,
                                    rendition, sequence, pipeline),
                        std::chrono::seconds(5));
    if (!r || r->status != 200) return std::nullopt;
    auto file = dir.path() / fmt::format("{}-{}-{}.ts", rendition, sequence, pipeline);
    std::ofstream(file, std::ios::binary).write(r->body.data(), std::streamsize(r->body.size()));
    return probe(file.string(), dir.path());
}

// Reloads every playlist (RFC checker + reload tracker) and counts what a
// player must never see.
struct Player {
    PlaylistWatcher watcher;
    int discontinuities = 0;
    explicit Player(Onair& origin) : watcher(origin) {}
    void poll(const ChannelSpec& spec) {
        if (!watcher.reload()) return;
        for (const auto& rung : spec.ladder) {
            for (const auto& s : watcher.latest(rung.name).segments)
                if (s.discontinuity) ++discontinuities;
            if (watcher.latest_text(rung.name).find("#EXT-X-DISCONTINUITY\n") != std::string::npos)
                ++discontinuities;
        }
    }
};

}  // namespace

TEST_CASE("process mode: two encoders push to an origin, A restarts with the same numbering",
          "[integration][process]") {
    TempDir dir("onair-process");
    const int udp_a = free_udp_port();
    const int udp_b = free_udp_port();
    ChannelSpec spec;
    spec.http_port = free_tcp_port();
    spec.input_url = fmt::format("udp://127.0.0.1:{}", udp_a);
    spec.input_b_url = fmt::format("udp://127.0.0.1:{}", udp_b);
    spec.command = "origin";
    spec.env = {{"ONAIR_INGEST_TOKEN", kToken}};
    INFO("origin port " << spec.http_port << ", inputs " << udp_a << "/" << udp_b << ", files in "
                        << dir.path().string());

    Onair origin(spec, dir);
    REQUIRE(origin.wait_ready());
    REQUIRE(origin.process().running());
    const auto file = dir.path() / "channel.yaml";
    std::optional<Process> encoder_a(start_encoder(file, 'a', spec.http_port, dir, 1, kToken));
    Process encoder_b = start_encoder(file, 'b', spec.http_port, dir, 1, kToken);
    FeedOptions feed_options;
    for (int port : {udp_a, udp_b}) {
        FeedOutput out;
        out.port = port;
        feed_options.outputs.push_back(out);
    }
    feed_options.output_dir = dir.path();
    Process feed = start_feed(feed_options);

    // Both pipelines' segments reach the origin.
    auto both = wait_until(
        "segments from both encoders at the origin",
        [&] {
            if (!origin.process().running() || !encoder_b.running() || !encoder_a->running())
                return true;
            auto a = last_segment(origin, 'a'), b = last_segment(origin, 'b');
            return a > 0 && b > 0 && std::abs(a - b) <= 1;
        },
        std::chrono::seconds(60), std::chrono::milliseconds(500));
    REQUIRE(origin.process().running());
    REQUIRE(encoder_a->running());
    REQUIRE(encoder_b.running());
    REQUIRE(both);
    REQUIRE(origin.wait_segments(2, std::chrono::seconds(20)));

    Player player(origin);
    player.poll(spec);
    const int64_t before_kill = last_segment(origin, 'b');
    for (const auto& rung : spec.ladder) {
        INFO("rung " << rung.name << ", segment " << before_kill - 1);
        CHECK(probe_copy(origin, rung.name, before_kill - 1, 'a', dir));
        CHECK(probe_copy(origin, rung.name, before_kill - 1, 'b', dir));
    }
    // The origin shows the remote pipelines like local ones (status pushes).
    auto b_status = origin.pipeline_status("b");
    REQUIRE(b_status);
    CHECK(state_of(*b_status) == "connected");

    // Kill A hard; B carries on alone for a few segments.
    encoder_a->kill();
    const int64_t a_last = last_segment(origin, 'a');
    auto alone = wait_until(
        "three segments from B alone",
        [&] {
            player.poll(spec);
            return last_segment(origin, 'b') >= before_kill + 3;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(700));
    CHECK(alone);
    CHECK(last_segment(origin, 'a') == a_last);
    // A dead encoder does not stay "connected" on /healthz.
    CHECK(wait_until(
        "/healthz to show A stopped",
        [&] {
            player.poll(spec);
            auto a = origin.pipeline_status("a");
            return a && state_of(*a) == "stopped";
        },
        std::chrono::seconds(10), std::chrono::milliseconds(700)));

    // A again: it must push again, on B's numbering.
    encoder_a.reset();
    encoder_a.emplace(start_encoder(file, 'a', spec.http_port, dir, 2, kToken));
    auto rejoined = wait_until(
        "the restarted A to push again",
        [&] {
            player.poll(spec);
            return !encoder_a->running() || last_segment(origin, 'a') > a_last;
        },
        std::chrono::seconds(60), std::chrono::milliseconds(700));
    REQUIRE(encoder_a->running());
    REQUIRE(rejoined);
    const int64_t rejoined_at = last_segment(origin, 'a');
    CHECK(rejoined_at > before_kill + 3);  // it joined where B was, not where it had stopped
    auto three = wait_until(
        "three segments from the restarted A",
        [&] {
            player.poll(spec);
            return last_segment(origin, 'a') >= rejoined_at + 2;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(700));
    REQUIRE(three);
    const int64_t newest = rejoined_at + 2;
    // Keep watching a little longer: every rendition of those is in, and
    // the failover may return to A meanwhile.
    CHECK(wait_until(
        "two more segments",
        [&] {
            player.poll(spec);
            return last_segment(origin, 'a') >= newest + 2;
        },
        std::chrono::seconds(20), std::chrono::milliseconds(700)));

    auto a_status = origin.pipeline_status("a");
    REQUIRE(a_status);
    CHECK(state_of(*a_status) == "connected");

    // The same sequence numbers carry the same content: same first frame.
    for (const auto& rung : spec.ladder) {
        int compared = 0;
        for (int64_t seq = newest - 2; seq <= newest; ++seq) {
            INFO("rung " << rung.name << ", segment " << seq);
            auto a = probe_copy(origin, rung.name, seq, 'a', dir);
            auto b = probe_copy(origin, rung.name, seq, 'b', dir);
            REQUIRE(a);
            REQUIRE(b);
            INFO("A: " << a->summary() << "\nB: " << b->summary());
            REQUIRE(a->clean());
            REQUIRE(b->clean());
            REQUIRE_FALSE(a->video_frames.empty());
            REQUIRE_FALSE(b->video_frames.empty());
            REQUIRE(a->video_frames.front().pts_time);
            REQUIRE(b->video_frames.front().pts_time);
            CHECK(*a->video_frames.front().pts_time ==
                  Approx(*b->video_frames.front().pts_time).margin(1e-6));
            CHECK(a->video_frames.front().key_frame);
            CHECK(a->video_frames.size() == b->video_frames.size());
            ++compared;
        }
        CHECK(compared == 3);
    }

    // Players saw one timeline throughout.
    INFO(player.watcher.problems_text());
    CHECK(player.watcher.problems().empty());
    CHECK(player.discontinuities == 0);
    for (const auto& rung : spec.ladder) {
        INFO("rung " << rung.name);
        auto& tracker = player.watcher.tracker(rung.name);
        CHECK(tracker.violations().empty());
        REQUIRE(tracker.first_sequence());
        CHECK(int64_t(tracker.segments().size()) ==
              *tracker.last_sequence() - *tracker.first_sequence() + 1);
        CHECK(*tracker.last_sequence() >= newest - 1);
        CHECK(tracker.reloads() > 10);
    }

    // The real server refuses a push without the token.
    HttpRequest push;
    push.method = "PUT";
    push.target =
        fmt::format("/ingest/v1/{}/a/{}/{}.ts", spec.channel, spec.ladder[0].name, newest + 100);
    push.body = std::string(188, '\x47');
    auto refused = http_request("127.0.0.1", spec.http_port, push);
    REQUIRE(refused);
    CHECK(refused->status == 401);
    CHECK(refused->header("WWW-Authenticate").value_or("").starts_with("Bearer"));

    // Everything stops cleanly.
    encoder_a->signal(SIGTERM);
    encoder_b.signal(SIGTERM);
    auto a_exit = encoder_a->wait_for(std::chrono::seconds(15));
    auto b_exit = encoder_b.wait_for(std::chrono::seconds(15));
    REQUIRE(a_exit);
    REQUIRE(b_exit);
    CHECK(a_exit->describe() == "exit 0");
    CHECK(b_exit->describe() == "exit 0");
    auto origin_exit = origin.stop(std::chrono::seconds(10));
    REQUIRE(origin_exit);
    CHECK(origin_exit->describe() == "exit 0");
}
