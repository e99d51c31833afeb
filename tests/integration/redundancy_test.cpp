// Pipelines A and B in one onair, fed the same contribution (one ffmpeg, the
// same MPEG-TS carried over two SRT connections by srt-live-transmit relays):
// their segments must be interchangeable, and the origin must switch between
// them without a player seeing anything — across input loss, return, content
// failures, and with both inputs gone.
#include <catch2/catch.hpp>

#include <signal.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "origin/http_server.hpp"
#include "tests/integration/onair_fixture.hpp"
#include "tests/support/feed.hpp"
#include "tests/support/net.hpp"

using namespace onair::testing;
using namespace std::chrono_literals;

namespace {

constexpr double kFrame = 1.0 / 25;  // the feed's frame duration

std::string srt_listener(int port) {
    return fmt::format("srt://0.0.0.0:{}?mode=listener&latency=200", port);
}

// One channel with two SRT inputs, the feed writing to two UDP ports, and a
// relay per pipeline that the test starts and kills.
struct Redundant {
    TempDir dir;
    ChannelSpec spec;
    int udp_a = free_udp_port();
    int udp_b = free_udp_port();
    int srt_a = free_udp_port();
    int srt_b = free_udp_port();
    std::optional<Onair> onair;
    std::optional<Process> feed, relay_a, relay_b;

    explicit Redundant(const std::string& name, std::string extra_yaml = {}) : dir(name) {
        spec.http_port = free_tcp_port();
        spec.input_url = srt_listener(srt_a);
        spec.input_b_url = srt_listener(srt_b);
        spec.extra_yaml = std::move(extra_yaml);
    }
    void start_onair() {
        onair.emplace(spec, dir);
        REQUIRE(onair->wait_ready());
        REQUIRE(onair->process().running());
    }
    void start_feed() {
        feed.emplace(onair::testing::start_feed(
            {.outputs = {{.port = udp_a}, {.port = udp_b}}, .output_dir = dir.path()}));
    }
    Process relay(char pipeline) {
        return start_srt_relay({.udp_port = pipeline == 'a' ? udp_a : udp_b,
                                .srt_port = pipeline == 'a' ? srt_a : srt_b,
                                .output_dir = dir.path(),
                                .name = fmt::format("relay-{}", pipeline)});
    }
    // onair, the feed and both relays; returns once A and B both deliver,
    // three segments are listed and A is the active pipeline.
    void start_on_air_with_both_paths() {
        start_onair();
        start_feed();
        relay_a.emplace(relay('a'));
        relay_b.emplace(relay('b'));
        REQUIRE(wait_both_delivering(std::chrono::seconds(45)));
        REQUIRE(onair->wait_segments(3, std::chrono::seconds(30)));
        CHECK(active() == "a");
    }
    std::optional<boost::json::object> status() { return onair->channel_status(); }
    std::string active() {
        auto s = status();
        return s ? std::string(s->at("active_pipeline").as_string()) : std::string("?");
    }
    int64_t last_segment(char pipeline) {
        auto s = status();
        if (!s) return -1;
        auto& v = s->at("pipelines").at(std::string(1, pipeline)).at("last_segment");
        return v.is_null() ? -1 : v.to_number<int64_t>();
    }
    WaitResult wait_active(char pipeline, std::chrono::milliseconds timeout) {
        return wait_until(
            fmt::format("pipeline {} to be the active one", pipeline),
            [&] { return !onair->process().running() || active() == std::string(1, pipeline); },
            timeout, std::chrono::milliseconds(250));
    }
    // Both pipelines deliver: B's newest segment has caught up with A's.
    WaitResult wait_both_delivering(std::chrono::milliseconds timeout) {
        return wait_until(
            "both pipelines to deliver the same newest segments",
            [&] {
                auto a = last_segment('a'), b = last_segment('b');
                return !onair->process().running() || (a > 0 && b > 0 && std::abs(a - b) <= 1);
            },
            timeout, std::chrono::milliseconds(250));
    }
};

// Receives webhook POSTs (onair's own HTTP server, in the test process) and
// keeps their bodies.
class WebhookReceiver {
  public:
    WebhookReceiver()
        : server_({.host = "127.0.0.1", .port = 0, .threads = 1},
                  [this](const onair::origin::Request& request) {
                      std::lock_guard lock(mutex_);
                      bodies_.push_back(request.body());
                      return onair::origin::make_response(boost::beast::http::status::no_content,
                                                          "text/plain", "no-store", {});
                  }) {
        REQUIRE(server_.start());
    }
    std::string url() const { return fmt::format("http://127.0.0.1:{}/events", server_.port()); }
    std::vector<std::string> bodies() {
        std::lock_guard lock(mutex_);
        return bodies_;
    }

  private:
    std::mutex mutex_;
    std::vector<std::string> bodies_;
    onair::origin::HttpServer server_;
};

// Reloads every playlist through the RFC checker and the reload tracker,
// downloads every newly listed segment once (every listed segment must be
// downloadable), and keeps every problem.
struct Viewer {
    explicit Viewer(Onair& o) : onair(o), watcher(o) {}
    Onair& onair;
    PlaylistWatcher watcher;
    std::map<std::string, std::set<int64_t>> fetched;
    std::vector<std::string> problems;
    int reloads_with_discontinuity = 0;

    void poll() {
        if (!watcher.reload()) return;  // the watcher keeps the problem
        for (const auto& rung : onair.spec().ladder) {
            const auto& playlist = watcher.latest(rung.name);
            for (const auto& s : playlist.segments) {
                if (s.discontinuity) ++reloads_with_discontinuity;
                if (!fetched[rung.name].insert(s.sequence).second) continue;
                auto r = onair.get(onair.segment_path(rung.name, s.uri), std::chrono::seconds(5));
                if (!r || r->status != 200 || r->body.empty())
                    problems.push_back(fmt::format("{} segment {} listed but not downloadable: {}",
                                                   rung.name, s.sequence,
                                                   r ? std::to_string(r->status) : r.error()));
            }
        }
    }
    // Polls every 700 ms until `done` (or the deadline); returns its wait result.
    template <class Done>
    WaitResult watch_until(std::string what, Done&& done, std::chrono::milliseconds timeout) {
        return wait_until(
            std::move(what),
            [&] {
                poll();
                return done();
            },
            timeout, std::chrono::milliseconds(700));
    }
    void check() {
        INFO(watcher.problems_text());
        CHECK(watcher.problems().empty());
        INFO(join_lines(problems));
        CHECK(problems.empty());
        CHECK(reloads_with_discontinuity == 0);
        for (const auto& rung : onair.spec().ladder) {
            CHECK(watcher.tracker(rung.name).violations().empty());
            CHECK(watcher.tracker(rung.name).reloads() > 10);
        }
    }
};

// What ffprobe says about both pipelines' copies of one segment.
struct CopyPair {
    ProbeResult a, b;
};

CopyPair probe_copies(Onair& onair, const std::string& rendition, int64_t sequence,
                      const TempDir& dir) {
    CopyPair out;
    for (char p : {'a', 'b'}) {
        auto r = onair.get(fmt::format("/live/{}/{}/{}.ts?pipeline={}", onair.spec().channel,
                                       rendition, sequence, p),
                           std::chrono::seconds(5));
        REQUIRE(r);
        REQUIRE(r->status == 200);
        auto file = dir.path() / fmt::format("{}-{}-{}.ts", rendition, sequence, p);
        std::ofstream(file, std::ios::binary)
            .write(r->body.data(), std::streamsize(r->body.size()));
        (p == 'a' ? out.a : out.b) = probe(file.string(), dir.path());
    }
    return out;
}

// The listed segments of one pipeline's own view, by sequence number.
std::map<int64_t, MediaSegment> pipeline_view(Onair& onair, const std::string& rendition,
                                              char pipeline) {
    std::map<int64_t, MediaSegment> out;
    auto r = onair.get(onair.media_path(rendition) + "?pipeline=" + std::string(1, pipeline));
    if (!r || r->status != 200) return out;
    for (auto& s : parse_media_playlist(r->body).segments) out[s.sequence] = s;
    return out;
}

}  // namespace

TEST_CASE("A and B fed the same contribution make interchangeable segments, B joining 7 s late",
          "[integration][redundancy]") {
    Redundant r("onair-align");
    r.start_onair();
    r.start_feed();
    r.relay_a.emplace(r.relay('a'));
    REQUIRE(wait_until(
        "pipeline A's first segment", [&] { return r.last_segment('a') > 0; }, 40s));
    const int64_t a_first = r.last_segment('a');
    std::this_thread::sleep_for(7s);  // the scenario itself: B's contribution starts 7 s later
    r.relay_b.emplace(r.relay('b'));
    REQUIRE(r.wait_both_delivering(45s));
    // Let a few common segments accumulate.
    const int64_t b_joined = r.last_segment('b');
    REQUIRE(wait_until(
        "four more segments from both", [&] { return r.last_segment('b') >= b_joined + 4; }, 30s));
    CHECK(b_joined > a_first);

    for (const auto& rung : r.spec.ladder) {
        INFO("rung " << rung.name);
        auto view_a = pipeline_view(*r.onair, rung.name, 'a');
        auto view_b = pipeline_view(*r.onair, rung.name, 'b');
        std::vector<int64_t> common;
        for (auto& [seq, s] : view_b)
            if (view_a.contains(seq)) common.push_back(seq);
        REQUIRE(common.size() >= 4);
        // B numbered from the same media time: its first copy sits on A's grid.
        CHECK(view_b.begin()->first > view_a.begin()->first);
        for (int64_t seq : common) {
            INFO("segment " << seq);
            const auto& sa = view_a.at(seq);
            const auto& sb = view_b.at(seq);
            REQUIRE(sa.pdt_ms);
            CHECK(sa.pdt_ms == sb.pdt_ms);
            CHECK(sa.duration_text == sb.duration_text);
            auto copies = probe_copies(*r.onair, rung.name, seq, r.dir);
            INFO("A: " << copies.a.summary() << "\nB: " << copies.b.summary());
            REQUIRE(copies.a.clean());
            REQUIRE(copies.b.clean());
            REQUIRE_FALSE(copies.a.video_frames.empty());
            REQUIRE_FALSE(copies.b.video_frames.empty());
            CHECK(copies.a.video_frames.size() == copies.b.video_frames.size());
            const auto& fa = copies.a.video_frames.front();
            const auto& fb = copies.b.video_frames.front();
            REQUIRE(fa.pts_time);
            REQUIRE(fb.pts_time);
            CHECK(*fa.pts_time == Approx(*fb.pts_time).margin(1e-6));
            CHECK((fa.key_frame && fa.pict_type == "I"));
            CHECK((fb.key_frame && fb.pict_type == "I"));
            REQUIRE(copies.a.video_duration());
            REQUIRE(copies.b.video_duration());
            CHECK(*copies.a.video_duration() == Approx(*copies.b.video_duration()).margin(1e-6));
            CHECK(*copies.a.video_duration() == Approx(sa.duration).margin(kFrame));
        }
    }
    auto exit = r.onair->stop(std::chrono::seconds(15));
    REQUIRE(exit);
    CHECK(exit->describe() == "exit 0");
}

namespace {

// A's contribution disappears for `outage`, then returns; players watch and
// record throughout. Returns the final channel status.
boost::json::object lose_a_and_return(Redundant& r, std::chrono::seconds outage,
                                      std::chrono::seconds watch_after_return,
                                      char expected_after) {
    r.start_on_air_with_both_paths();

    Viewer viewer{*r.onair};
    Recorder recorder(*r.onair, r.dir);
    REQUIRE(viewer.watch_until(
        "a few reloads before the loss", [&] { return viewer.watcher.reloads() >= 6; }, 20s));

    r.relay_a->kill();
    const auto lost_at = Clock::now();
    auto moved = viewer.watch_until(
        "the channel to move to B", [&] { return r.active() == "b"; }, 15s);
    CHECK(moved);
    auto during = r.status();
    REQUIRE(during);
    INFO(boost::json::serialize(*during));
    auto& last = during->at("failover").at("last_switch");
    REQUIRE(last.is_object());
    auto reason = std::string(last.at("reason").as_string());
    CHECK((reason == "input_loss" || reason == "late"));
    viewer.watch_until(
        "the outage", [] { return false; },
        std::chrono::duration_cast<std::chrono::milliseconds>(outage - (Clock::now() - lost_at)));

    r.relay_a.emplace(r.relay('a'));
    auto back = viewer.watch_until(
        fmt::format("pipeline A to deliver again and the channel to settle on {}", expected_after),
        [&] {
            auto s = r.status();
            return s && !s->at("pipelines").at("a").at("healthy_for_ms").is_null() &&
                   r.active() == std::string(1, expected_after);
        },
        40s);
    CHECK(back);
    viewer.watch_until(
        "watching after the return", [] { return false; },
        std::chrono::duration_cast<std::chrono::milliseconds>(watch_after_return));
    viewer.check();
    recorder.finish_and_check(r.dir, 30.0, kFrame);
    auto final_status = r.status();
    REQUIRE(final_status);
    return *final_status;
}

}  // namespace

TEST_CASE("failover: A's input lost for 20 s, primary-preferred returns to A unseen",
          "[integration][redundancy][failover]") {
    WebhookReceiver webhook;
    Redundant r("onair-failover-pp",
                fmt::format("failover: {{mode: primary-preferred, late_after: 1s, return_after: "
                            "6s, webhook: \"{}\"}}\n",
                            webhook.url()));
    auto status = lose_a_and_return(r, 20s, 6s, 'a');
    INFO(boost::json::serialize(status));
    CHECK(status.at("failover").at("switches").as_int64() == 2);
    CHECK(status.at("failover").at("last_switch").at("reason").as_string() == "primary_restored");

    // The DVR recorded what the failover served: no hole, no discontinuity
    // where A had none to give, over the whole run (RFC rules checked too).
    const auto& dvr = status.at("dvr").as_object();
    auto oldest = parse_program_date_time(std::string(dvr.at("oldest").as_string()));
    auto newest = parse_program_date_time(std::string(dvr.at("newest").as_string()));
    REQUIRE(oldest);
    REQUIRE(newest);
    auto recorded = r.onair->get(
        r.onair->media_path(r.spec.ladder[0].name) +
        fmt::format("?start={:.3f}&end={:.3f}", *oldest / 1000.0, (*newest - 4000) / 1000.0));
    REQUIRE(recorded);
    INFO(recorded->body);
    REQUIRE(recorded->status == 200);
    auto replay = parse_media_playlist(recorded->body);
    CHECK(replay.playlist_type == "VOD");
    MediaCheckOptions rules;
    rules.uri_is_sequence = true;
    rules.live = false;
    auto problems = check_media_playlist(replay, rules);
    INFO(fmt::format("{}", fmt::join(problems, "\n")));
    CHECK(problems.empty());
    double recorded_s = 0;
    for (const auto& segment : replay.segments) {
        CHECK_FALSE(segment.discontinuity);
        recorded_s += segment.duration;
    }
    CHECK(recorded_s > 40);  // before, through and after the 20 s outage
    auto exit = r.onair->stop(std::chrono::seconds(15));
    REQUIRE(exit);
    CHECK(exit->describe() == "exit 0");
    // One log line per switch.
    auto log = r.onair->process().read_stderr();
    size_t switches = 0;
    for (size_t at = log.find("switched from pipeline"); at != std::string::npos;
         at = log.find("switched from pipeline", at + 1))
        ++switches;
    CHECK(switches == 2);
    // And a webhook event per switch: channel, from, to, reason, time.
    auto events = webhook.bodies();
    REQUIRE(events.size() == 2);
    auto first = boost::json::parse(events[0]).as_object();
    auto second = boost::json::parse(events[1]).as_object();
    CHECK(first.at("event").as_string() == "input_switch");
    CHECK(first.at("channel").as_string() == r.spec.channel);
    CHECK(first.at("from").as_string() == "a");
    CHECK(first.at("to").as_string() == "b");
    CHECK((first.at("reason").as_string() == "input_loss" ||
           first.at("reason").as_string() == "late"));
    CHECK(second.at("from").as_string() == "b");
    CHECK(second.at("reason").as_string() == "primary_restored");
    CHECK(parse_program_date_time(std::string(second.at("time").as_string())));
}

TEST_CASE("failover: in equal mode the channel stays on B after A returns",
          "[integration][redundancy][failover]") {
    Redundant r("onair-failover-equal",
                "failover: {mode: equal, late_after: 1s, return_after: 2s}\n");
    auto status = lose_a_and_return(r, 12s, 10s, 'b');
    INFO(boost::json::serialize(status));
    CHECK(status.at("failover").at("switches").as_int64() == 1);
    CHECK(status.at("active_pipeline").as_string() == "b");
    CHECK(status.at("pipelines").at("a").at("state").as_string() == "standby");
}

TEST_CASE("both inputs lost: slate is served and the playlist keeps advancing",
          "[integration][redundancy]") {
    Redundant r("onair-both-lost");
    r.start_onair();
    r.start_feed();
    r.relay_a.emplace(r.relay('a'));
    r.relay_b.emplace(r.relay('b'));
    REQUIRE(r.wait_both_delivering(45s));
    Viewer viewer{*r.onair};
    REQUIRE(viewer.watch_until(
        "a few reloads", [&] { return viewer.watcher.reloads() >= 4; }, 20s));
    r.relay_a->kill();
    r.relay_b->kill();
    auto before = viewer.watcher.last_sequence().value_or(0);
    // Both pipelines fill; the origin keeps listing (slate) segments.
    auto advanced = viewer.watch_until(
        "six more segments listed with both inputs gone",
        [&] { return viewer.watcher.last_sequence().value_or(0) >= before + 6; }, 30s);
    CHECK(advanced);
    auto s = r.status();
    REQUIRE(s);
    INFO(boost::json::serialize(*s));
    CHECK(s->at("pipelines").at("a").at("health").at("slate").as_bool());
    CHECK(s->at("pipelines").at("b").at("health").at("slate").as_bool());
    for (char p : {'a', 'b'})
        CHECK(s->at("inputs").at(std::string(1, p)).at("connected").as_bool() == false);
    // The newest listed segment is black pictures with a track of silence.
    const auto& rung = r.spec.ladder.front();
    auto newest = viewer.watcher.latest(rung.name).segments.back();
    auto checked = check_segment(*r.onair, rung, newest, r.dir.path());
    INFO(join_lines(checked.problems));
    CHECK(checked.problems.empty());
    auto luma = probe_luma(r.dir.path() / fmt::format("{}-{}.ts", rung.name, newest.sequence),
                           r.dir.path());
    REQUIRE(luma);
    CHECK(*luma < 20.0);
    // One comes back: real pictures again, still one timeline.
    r.relay_b.emplace(r.relay('b'));
    CHECK(viewer.watch_until(
        "pipeline B's real content to be served",
        [&] {
            auto st = r.status();
            return st && r.active() == "b" &&
                   !st->at("pipelines").at("b").at("health").at("slate").as_bool();
        },
        40s));
    viewer.check();
}

TEST_CASE("content checks: A goes black, then silent, the origin moves to B each time",
          "[integration][redundancy][health]") {
    // A's picture is black from 26 s to 40 s of the feed, its sound silent
    // from 54 s to 70 s; B's content stays good. Checks need 2 s of it.
    TempDir dir("onair-health");
    ChannelSpec spec;
    spec.http_port = free_tcp_port();
    int udp_a = free_udp_port(), udp_b = free_udp_port();
    spec.input_url = fmt::format("udp://127.0.0.1:{}", udp_a);
    spec.input_b_url = fmt::format("udp://127.0.0.1:{}", udp_b);
    spec.extra_yaml =
        "failover:\n  mode: primary-preferred\n  return_after: 4s\n"
        "  black: {threshold: 98%, duration: 2s}\n  silence: {threshold: -50dB, duration: 2s}\n";
    Onair onair(spec, dir);
    REQUIRE(onair.wait_ready());
    const double black_from = 26, black_to = 40, silent_from = 54, silent_to = 70;
    Process feed =
        start_feed({.outputs = {{.port = udp_a,
                                 .video_filter = black_between(black_from, black_to),
                                 .audio_filter = silence_between(silent_from, silent_to)},
                                {.port = udp_b}},
                    .output_dir = dir.path()});
    const auto feed_start = Clock::now();
    auto at = [&](double seconds) {
        return feed_start + std::chrono::milliseconds(int64_t(seconds * 1000));
    };
    auto status = [&] { return onair.channel_status(); };
    auto reason_now = [&]() -> std::string {
        auto s = status();
        if (!s || !s->at("failover").at("last_switch").is_object()) return {};
        return std::string(s->at("failover").at("last_switch").at("reason").as_string());
    };
    auto active = [&]() -> std::string {
        auto s = status();
        return s ? std::string(s->at("active_pipeline").as_string()) : std::string();
    };
    REQUIRE(onair.wait_segments(2, 20s));
    Viewer viewer{onair};
    REQUIRE(viewer.watch_until(
        "segments listed before A goes black", [&] { return viewer.watcher.reloads() >= 3; }, 30s));
    REQUIRE(Clock::now() < at(black_from - 4));  // the start took too long to see a switch
    CHECK(active() == "a");

    // Black: the check fails 2 s in; within two more segments the channel is on B.
    auto to_b = viewer.watch_until(
        "a switch to B for black pictures", [&] { return active() == "b"; }, 30s);
    REQUIRE(to_b);
    const auto switched_at = Clock::now();
    CHECK(reason_now() == "black");
    CHECK(switched_at > at(black_from));
    CHECK(switched_at < at(black_from + 2 + 2 * spec.segment_seconds + 2));
    // Pictures back: A healthy for 4 s, then primary-preferred takes it back.
    auto to_a = viewer.watch_until(
        "the return to A after the black", [&] { return active() == "a"; }, 30s);
    CHECK(to_a);
    CHECK(reason_now() == "primary_restored");
    CHECK(Clock::now() > at(black_to));
    // Silence.
    auto silent = viewer.watch_until(
        "a switch to B for silence", [&] { return active() == "b"; }, 45s);
    CHECK(silent);
    CHECK(reason_now() == "silence");
    CHECK(Clock::now() > at(silent_from));
    CHECK(Clock::now() < at(silent_from + 2 + 2 * spec.segment_seconds + 2));
    viewer.check();
}

TEST_CASE("LL-HLS A/B: hls.js plays 60 s in low-latency mode while A's input is cut and restored",
          "[integration][redundancy][llhls][player]") {
    Redundant r("onair-llhls-player",
                "failover: {mode: primary-preferred, late_after: 300ms, return_after: 6s}\n");
    r.spec.container = "fmp4";
    r.spec.part = "200ms";  // five frames at the feed's 25 fps; five parts per 1 s GOP
    // One small rung: two pipelines, the feed, the recorder and a browser
    // share two cores, and a pipeline that falls behind is a failover of its own.
    r.spec.ladder = {{"180p", 320, 180, "250k"}};
    r.start_on_air_with_both_paths();

    Recorder recorder(*r.onair, r.dir);
    Process player(ProcessOptions{
        .argv = {"node", ONAIR_HLS_PLAYER,
                 fmt::format("http://127.0.0.1:{}{}", r.onair->port(), r.onair->master_path()),
                 "60", "1"},
        .output_dir = r.dir.path(),
        .name = "player"});
    REQUIRE(wait_until(
        "hls.js to start playing",
        [&] {
            return player.read_stdout().find("playing") != std::string::npos || !player.running();
        },
        60s, 200ms));
    INFO(player.report());
    REQUIRE(player.running());
    const auto started = Clock::now();
    // 15 s in: A's path is cut; 20 s later it is back; the player plays on.
    std::this_thread::sleep_until(started + 15s);
    r.relay_a->kill();
    CHECK(r.wait_active('b', 15s));
    std::this_thread::sleep_until(started + 35s);
    r.relay_a.emplace(r.relay('a'));
    CHECK(r.wait_active('a', 25s));
    auto exit = player.wait_for(
        std::chrono::duration_cast<std::chrono::milliseconds>(started + 90s - Clock::now()));
    REQUIRE(exit);
    REQUIRE(exit->success());
    auto out = player.read_stdout();
    auto json = boost::json::parse(out.substr(out.rfind('{'))).as_object();
    INFO(boost::json::serialize(json));
    // No player error, no stall longer than a part, latency as targeted
    // (PART-HOLD-BACK is a GOP plus late_after here, 1.3 s: what a switch to
    // B's next IDR may take), and the minute played.
    INFO(player.read_stderr());
    CHECK(json.at("errors").as_array().empty());
    CHECK(json.at("longest_stall_ms").to_number<double>() <= 200);
    CHECK(json.at("played").to_number<double>() >= 55);
    CHECK(json.at("median").to_number<double>() <= 2000);
    CHECK(json.at("worst").to_number<double>() <= 3000);
    // What ffmpeg's own HLS reader recorded across both switches.
    recorder.finish_and_check(r.dir, 50.0, kFrame);
    auto status = r.status();
    REQUIRE(status);
    CHECK(status->at("failover").at("switches").as_int64() == 2);
}

// The control room's channel page in headless Chromium (tests/web/channel_page.mjs),
// on a real A/B channel: it plays, shows A's loss and the switch to B, switches
// back with the API token only, and cuts a clip from marks set on the picture.
TEST_CASE(
    "control room: the channel page plays, shows the switch, switches with the token, cuts a clip",
    "[integration][redundancy][web]") {
    const std::string token = "itest-control-room-token";
    Redundant r("onair-control-room",
                "failover: {mode: equal, late_after: 500ms}\n"
                "dvr: {window: 10m}\nclips: {concurrency: 1, rendition: 180p}\n");
    r.spec.extra_yaml += fmt::format("data: {}\n", (r.dir.path() / "data").string());
    r.spec.env = {{"ONAIR_API_TOKEN", token}};
    r.spec.ladder = {{"180p", 320, 180, "250k"}, {"144p", 256, 144, "150k"}};
    r.start_on_air_with_both_paths();

    std::filesystem::create_directories(ONAIR_SCREENSHOT_DIR);
    Process page(ProcessOptions{.argv = {"node", std::string(ONAIR_WEB_TESTS) + "/channel_page.mjs",
                                         fmt::format("http://127.0.0.1:{}", r.onair->port()), token,
                                         std::string(ONAIR_SCREENSHOT_DIR) + "/channel.png"},
                                .output_dir = r.dir.path(),
                                .name = "channel-page"});
    auto said = [&](std::string_view word, std::chrono::seconds timeout) {
        return wait_until(
            fmt::format("the page script to say '{}'", word),
            [&] { return said_line(page, word) || !page.running(); }, timeout, 200ms);
    };
    REQUIRE(said("playing", 90s));
    INFO(page.read_stdout());
    REQUIRE(page.running());
    r.relay_a->kill();
    REQUIRE(said("switched", 60s));
    REQUIRE(page.running());
    r.relay_a.emplace(r.relay('a'));
    auto exit = page.wait_for(180s);
    INFO(page.read_stdout());
    INFO(page.read_stderr());
    REQUIRE(exit);
    CHECK(exit->success());
    CHECK(said_line(page, "ok"));
    CHECK(r.active() == "a");  // the page's switch, after the failover to B

    // The same channel's /metrics, as Prometheus and the shipped Grafana
    // dashboard read it: promtool finds nothing wrong, and every metric the
    // dashboard queries is there.
    auto metrics = r.onair->get("/metrics");
    REQUIRE(metrics);
    REQUIRE(metrics->status == 200);
    CHECK(promtool_problems(metrics->body, r.dir) == "");
    const auto names = dashboard_metric_names();
    CHECK(names.size() >= 20);
    for (const auto& name : names) {
        INFO(name);
        CHECK(metrics->body.find("# TYPE " + name + " ") != std::string::npos);
    }
}
