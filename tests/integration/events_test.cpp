// The event controller as an operator meets it: `onair schedule FILE` with
// times compressed to seconds, its events API, the channels it starts (real
// `onair run` processes, the built-in test signal), and what a player sees
// of them. One event lives its whole life — its channel file edited before
// preroll, the controller SIGKILLed and started again while it is live, its
// channel SIGKILLed, an overrun past its end until the operator's teardown,
// the clip cut from it served by the controller — and one event whose
// port another program holds is retried, then failed, with a webhook.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <boost/json.hpp>

#include "origin/http_server.hpp"
#include "tests/integration/onair_fixture.hpp"
#include "tests/support/net.hpp"

using namespace onair::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr const char* kToken = "itest-events-token";

std::string utc_in(std::chrono::milliseconds from_now) {
    auto t = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now() +
                                                                from_now);
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", t);
}

std::string channel_file(const std::string& name, int port, const std::string& rung,
                         const fs::path& data) {
    return fmt::format(
        "channel: {}\n"
        "inputs:\n  a: \"testsrc:?size=320x180&rate=15\"\n"
        "timecode: pts\n"
        "ladder:\n  - {}\n"
        "encoder: {{preset: ultrafast, gop: 1s}}\n"
        "hls: {{segment: 2s, window: 20s}}\n"
        "dvr: {{window: 10m}}\n"
        "origin: {{listen: 127.0.0.1:{}}}\n"
        "data: {}\n",
        name, rung, port, data.string());
}

bool alive(pid_t pid) {
    if (::kill(pid, 0) != 0) return false;
    // A zombie (not yet reaped by its new parent) is not running.
    auto stat = read_file(fmt::format("/proc/{}/stat", pid));
    auto close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

bool tcp_port_free(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

// `onair schedule FILE` and its events API.
class ControllerProcess {
  public:
    ControllerProcess(const TempDir& dir, fs::path schedule, int port, std::string name)
        : port_(port),
          process_(ProcessOptions{.argv = {onair_binary(), "schedule", schedule.string()},
                                  .env = {{"ONAIR_API_TOKEN", kToken}},
                                  .working_dir = dir.path(),
                                  .output_dir = dir.path(),
                                  .name = std::move(name)}) {}

    Process& process() { return process_; }

    HttpResult call(std::string method, std::string target, std::string body = {},
                    bool with_token = true) {
        HttpRequest r;
        r.method = std::move(method);
        r.target = std::move(target);
        r.body = std::move(body);
        if (!r.body.empty()) r.headers.emplace_back("Content-Type", "application/json");
        if (with_token) r.headers.emplace_back("Authorization", std::string("Bearer ") + kToken);
        return http_request("127.0.0.1", port_, r, 5s);
    }

    std::optional<boost::json::object> event(const std::string& id) {
        auto r = call("GET", "/api/v1/events/" + id);
        if (!r || r->status != 200) return std::nullopt;
        boost::system::error_code ec;
        auto json = boost::json::parse(r->body, ec);
        if (ec || !json.is_object()) return std::nullopt;
        return json.as_object();
    }

    std::string state(const std::string& id) {
        auto e = event(id);
        return e ? std::string(e->at("state").as_string()) : std::string("(no answer)");
    }

    // The pid of the event's channel, 0 when none runs.
    pid_t channel_pid(const std::string& id) {
        auto e = event(id);
        if (!e || !e->at("deployment").is_object()) return 0;
        return pid_t(std::stol(std::string(e->at("deployment").at("id").as_string())));
    }

    WaitResult wait_state(const std::string& id, const std::string& state,
                          std::chrono::milliseconds timeout) {
        return wait_until(
            fmt::format("event {} {} (now {})", id, state, this->state(id)),
            [&] { return this->state(id) == state; }, timeout, 100ms);
    }

  private:
    int port_;
    Process process_;
};

// Reloads one media playlist in the background: when its newest segment
// changed, and every discontinuity it ever showed.
class PlaylistPoller {
  public:
    PlaylistPoller(int port, std::string target) : port_(port), target_(std::move(target)) {
        thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
    }
    ~PlaylistPoller() { thread_.request_stop(); }

    // The longest time the newest segment stayed the same, since `from`.
    std::chrono::milliseconds longest_stall() {
        std::lock_guard lock(mutex_);
        return longest_;
    }
    int64_t last_sequence() {
        std::lock_guard lock(mutex_);
        return last_;
    }
    size_t discontinuities() {
        std::lock_guard lock(mutex_);
        return discontinuities_.size();
    }
    void reset_stall() {
        std::lock_guard lock(mutex_);
        longest_ = 0ms;
        changed_ = std::chrono::steady_clock::now();
    }

  private:
    void run(std::stop_token stop) {
        while (!stop.stop_requested()) {
            auto r = http_get("127.0.0.1", port_, target_, 1s);
            auto now = std::chrono::steady_clock::now();
            std::lock_guard lock(mutex_);
            if (r && r->status == 200) {
                auto p = parse_media_playlist(r->body);
                for (const auto& s : p.segments)
                    if (s.discontinuity) discontinuities_.insert(s.sequence);
                if (auto last = p.last_sequence(); last && *last != last_) {
                    last_ = *last;
                    changed_ = now;
                }
            }
            if (last_ >= 0)
                longest_ =
                    std::max(longest_,
                             std::chrono::duration_cast<std::chrono::milliseconds>(now - changed_));
            std::this_thread::sleep_for(200ms);
        }
    }

    int port_;
    std::string target_;
    std::mutex mutex_;
    int64_t last_ = -1;
    std::chrono::steady_clock::time_point changed_ = std::chrono::steady_clock::now();
    std::chrono::milliseconds longest_{0};
    std::set<int64_t> discontinuities_;
    std::jthread thread_;  // last: stops before the rest goes
};

// Kills what a failed test left running: the channel processes (their own
// process groups, so the Process destructors do not reach them).
struct ChannelReaper {
    std::vector<pid_t> pids;
    ~ChannelReaper() {
        for (auto pid : pids)
            if (pid > 1) ::kill(-pid, SIGKILL);
    }
};

}  // namespace

TEST_CASE(
    "an event's whole life: edited before preroll, its controller and its channel killed "
    "on the way, torn down on the operator's word, its clip served",
    "[events]") {
    TempDir dir("onair-events");
    const int api_port = free_tcp_port();
    const int channel_port = free_tcp_port();
    const fs::path data = dir / "data" / "fight";
    fs::create_directories(dir / "channels");
    dir.write("channels/fight.yaml",
              channel_file("fight", channel_port,
                           "{name: 180p, width: 320, height: 180, bitrate: 300k}", data));
    // Times compressed to seconds; the end leaves room for both kills.
    const auto schedule =
        dir.write("schedule.yaml", fmt::format("listen: 127.0.0.1:{}\n"
                                               "data: ./data/schedule\n"
                                               "events:\n"
                                               "  - id: fight-night-main\n"
                                               "    title: Fight night, main event\n"
                                               "    channel: channels/fight.yaml\n"
                                               "    preroll: {}\n"
                                               "    start: {}\n"
                                               "    end: {}\n"
                                               "    teardown: confirm\n"
                                               "    harvest: event\n",
                                               api_port, utc_in(5s), utc_in(12s), utc_in(45s)));
    const std::string id = "fight-night-main";
    ChannelReaper reaper;

    auto controller = std::make_unique<ControllerProcess>(dir, schedule, api_port, "schedule-1");
    REQUIRE(wait_until(
        "the events API answers", [&] { return controller->event(id).has_value(); }, 10s));
    CHECK(controller->state(id) == "scheduled");

    // The latest configuration wins: the ladder changed before preroll is what plays.
    dir.write("channels/fight.yaml",
              channel_file("fight", channel_port,
                           "{name: 144p, width: 256, height: 144, bitrate: 200k}", data));

    REQUIRE(controller->wait_state(id, "ready", 40s));
    const pid_t first_pid = controller->channel_pid(id);
    REQUIRE(first_pid > 0);
    reaper.pids.push_back(first_pid);
    CHECK(::getpgid(first_pid) == first_pid);  // its own process group
    auto master = http_get("127.0.0.1", channel_port, "/live/fight/master.m3u8");
    REQUIRE(master);
    REQUIRE(master->status == 200);
    CHECK(master->body.find("RESOLUTION=256x144") != std::string::npos);
    CHECK(master->body.find("180p") == std::string::npos);
    auto listed = controller->call("GET", "/api/v1/events");
    REQUIRE(listed);
    CHECK(listed->body.find(fmt::format("http://127.0.0.1:{}/live/fight/master.m3u8",
                                        channel_port)) != std::string::npos);

    REQUIRE(controller->wait_state(id, "live", 15s));
    PlaylistPoller playlist(channel_port, "/live/fight/144p/index.m3u8");

    // Two events on one port at overlapping times are refused when scheduled.
    auto clash = controller->call(
        "POST", "/api/v1/events",
        fmt::format(
            R"({{"id": "undercard", "channel": "channels/fight.yaml", "start": "{}", "end": "{}"}})",
            utc_in(60s), utc_in(120s)));
    REQUIRE(clash);
    CHECK(clash->status == 409);
    CHECK(clash->body.find(std::to_string(channel_port)) != std::string::npos);
    auto bad = controller->call("POST", "/api/v1/events",
                                R"({"id": "x y", "start": "tomorrow", "teardown": "later"})");
    REQUIRE(bad);
    CHECK(bad->status == 400);
    for (auto key : {"id", "start", "teardown", "channel", "end"})
        CHECK(bad->body.find(fmt::format("{}:", key)) != std::string::npos);

    // The controller SIGKILLed while live, then started again: the same
    // channel process is adopted, and the playlist never stopped advancing.
    playlist.reset_stall();
    controller->process().kill();
    CHECK(alive(first_pid));
    controller = std::make_unique<ControllerProcess>(dir, schedule, api_port, "schedule-2");
    REQUIRE(wait_until(
        "the events API answers again", [&] { return controller->event(id).has_value(); }, 10s));
    CHECK(controller->state(id) == "live");
    CHECK(controller->channel_pid(id) == first_pid);
    const auto sequence_at_adoption = playlist.last_sequence();
    REQUIRE(wait_until(
        "two more segments", [&] { return playlist.last_sequence() >= sequence_at_adoption + 2; },
        10s));
    CHECK(controller->channel_pid(id) == first_pid);
    CHECK(playlist.longest_stall() < 4s);  // two 2 s segments
    CHECK(playlist.discontinuities() == 0);

    // The channel SIGKILLed while live: restarted at once, the playlist goes
    // on with at most one discontinuity.
    const auto killed_at = std::chrono::steady_clock::now();
    REQUIRE(::kill(first_pid, SIGKILL) == 0);
    pid_t second_pid = 0;
    auto restarted = wait_until(
        "a new channel process",
        [&] {
            second_pid = controller->channel_pid(id);
            return second_pid > 0 && second_pid != first_pid;
        },
        10s, 50ms);
    REQUIRE(restarted);
    reaper.pids.push_back(second_pid);
    CHECK(std::chrono::steady_clock::now() - killed_at < 2s);
    const auto before_resume = playlist.last_sequence();
    REQUIRE(wait_until(
        "the playlist resumes", [&] { return playlist.last_sequence() >= before_resume + 2; },
        20s));
    CHECK(playlist.discontinuities() <= 1);
    CHECK(controller->state(id) == "live");

    // At its end it keeps serving until the operator confirms.
    REQUIRE(controller->wait_state(id, "ending", 40s));
    const auto at_end = playlist.last_sequence();
    REQUIRE(wait_until(
        "segments past the end", [&] { return playlist.last_sequence() >= at_end + 2; }, 10s));
    CHECK(controller->state(id) == "ending");
    CHECK(alive(second_pid));

    auto without_token = controller->call("POST", "/api/v1/events/" + id + "/teardown", {}, false);
    REQUIRE(without_token);
    CHECK(without_token->status == 401);
    auto teardown = controller->call("POST", "/api/v1/events/" + id + "/teardown");
    REQUIRE(teardown);
    CHECK(teardown->status == 202);
    REQUIRE(controller->wait_state(id, "done", 60s));

    // The channel is gone and its ports free; the event's clip is the controller's to serve.
    CHECK(eventually([&] { return !alive(second_pid); }, 5s));
    CHECK(tcp_port_free(channel_port));
    auto clips = controller->call("GET", "/api/v1/clips?event=" + id);
    REQUIRE(clips);
    REQUIRE(clips->status == 200);
    auto clip_list = boost::json::parse(clips->body).as_object().at("clips").as_array();
    REQUIRE(clip_list.size() == 1);
    CHECK(clip_list[0].at("id").as_string() == id);
    CHECK(clip_list[0].at("status").as_string() == "succeeded");
    auto vod =
        probe(fmt::format("http://127.0.0.1:{}/vod/{}/master.m3u8", api_port, id), dir.path());
    CHECK(vod.clean());
    REQUIRE(vod.video());
    CHECK(vod.video()->width == 256);
    CHECK(vod.video_duration().value_or(0) > 20.0);  // start .. the real end

    // Its history, in order; and it can no longer change.
    auto event = controller->event(id);
    REQUIRE(event);
    std::vector<std::string> path;
    for (const auto& h : event->at("history").as_array())
        path.push_back(fmt::format("{}->{}", std::string(h.at("from").as_string()),
                                   std::string(h.at("to").as_string())));
    CHECK(path == std::vector<std::string>{"scheduled->deploying", "deploying->ready",
                                           "ready->live", "live->ending", "ending->tearing_down",
                                           "tearing_down->done"});
    auto late = controller->call("PATCH", "/api/v1/events/" + id, R"({"title": "again"})");
    REQUIRE(late);
    CHECK(late->status == 409);
}

TEST_CASE("an event whose port another program holds is retried, then failed, with a webhook",
          "[events]") {
    TempDir dir("onair-events");
    const int api_port = free_tcp_port();
    const int channel_port = free_tcp_port();

    // Another program holds the channel's origin port.
    int holder = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(channel_port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(holder, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(holder, 4) == 0);

    std::mutex hooks_mutex;
    std::vector<boost::json::object> hooks;
    onair::origin::HttpServer receiver(
        {.host = "127.0.0.1", .port = 0, .threads = 1}, [&](const onair::origin::Request& r) {
            std::lock_guard lock(hooks_mutex);
            boost::system::error_code ec;
            auto json = boost::json::parse(r.body(), ec);
            if (!ec && json.is_object()) hooks.push_back(json.as_object());
            return onair::origin::make_response(boost::beast::http::status::no_content, "", "", {});
        });
    REQUIRE(receiver.start());

    fs::create_directories(dir / "channels");
    dir.write(
        "channels/taken.yaml",
        channel_file("taken", channel_port, "{name: 144p, width: 256, height: 144, bitrate: 200k}",
                     dir / "data" / "taken"));
    const auto schedule =
        dir.write("schedule.yaml",
                  fmt::format("listen: 127.0.0.1:{}\n"
                              "data: ./data/schedule\n"
                              "retries: {{count: 2, first_delay: 500ms}}\n"
                              "events:\n"
                              "  - id: taken\n"
                              "    channel: channels/taken.yaml\n"
                              "    preroll: {}\n"
                              "    start: {}\n"
                              "    end: {}\n"
                              "    webhook: http://127.0.0.1:{}/hooks\n",
                              api_port, utc_in(2s), utc_in(60s), utc_in(120s), receiver.port()));
    ControllerProcess controller(dir, schedule, api_port, "schedule");
    REQUIRE(controller.wait_state("taken", "failed", 30s));
    auto event = controller.event("taken");
    REQUIRE(event);
    const std::string failure(event->at("last_failure").as_string());
    CHECK(failure.find(fmt::format("127.0.0.1:{}", channel_port)) != std::string::npos);
    CHECK(failure.find("in use") != std::string::npos);
    CHECK(event->at("attempts").as_int64() == 0);  // the step is over
    CHECK(event->at("deployment").is_null());
    auto history = event->at("history").as_array();
    REQUIRE(history.size() == 2);
    CHECK(history[1].at("to").as_string() == "failed");
    CHECK(std::string(history[1].at("reason").as_string()).find("3 times") != std::string::npos);

    // Every transition was POSTed; the last one says why it failed.
    REQUIRE(wait_until(
        "two webhooks",
        [&] {
            std::lock_guard lock(hooks_mutex);
            return hooks.size() >= 2;
        },
        10s));
    {
        std::lock_guard lock(hooks_mutex);
        CHECK(hooks[0].at("to").as_string() == "deploying");
        CHECK(hooks[1].at("event").as_string() == "taken");
        CHECK(hooks[1].at("from").as_string() == "deploying");
        CHECK(hooks[1].at("to").as_string() == "failed");
        CHECK(std::string(hooks[1].at("reason").as_string()).find("in use") != std::string::npos);
    }
    auto metrics = controller.call("GET", "/metrics");
    REQUIRE(metrics);
    CHECK(metrics->body.find("onair_events{state=\"failed\"} 1") != std::string::npos);
    CHECK(metrics->body.find("onair_event_retries_total 2") != std::string::npos);

    // SIGHUP reads the file again: an event added there is scheduled.
    dir.write("channels/later.yaml",
              channel_file("later", free_tcp_port(),
                           "{name: 144p, width: 256, height: 144, bitrate: 200k}",
                           dir / "data" / "later"));
    dir.write("schedule.yaml", read_file(schedule) +
                                   "  - id: later\n    channel: channels/later.yaml\n"
                                   "    start: 2030-01-01T10:00:00Z\n"
                                   "    end: 2030-01-01T11:00:00Z\n");
    controller.process().signal(SIGHUP);
    CHECK(controller.wait_state("later", "scheduled", 5s));
    CHECK(controller.state("taken") == "failed");
    ::close(holder);
}

// The control room's events page (tests/web/events_page.mjs) through one
// time-compressed event: its states in order, then the teardown button.
TEST_CASE(
    "control room: the events page shows an event's states in order and its teardown button ends "
    "it",
    "[events][web]") {
    TempDir dir("onair-events-page");
    const int api_port = free_tcp_port();
    const int channel_port = free_tcp_port();
    fs::create_directories(dir / "channels");
    dir.write(
        "channels/match.yaml",
        channel_file("match", channel_port, "{name: 144p, width: 256, height: 144, bitrate: 200k}",
                     dir / "data" / "match"));
    const auto schedule =
        dir.write("schedule.yaml", fmt::format("listen: 127.0.0.1:{}\n"
                                               "data: ./data/schedule\n"
                                               "events:\n"
                                               "  - id: cup-final\n"
                                               "    title: Cup final\n"
                                               "    channel: channels/match.yaml\n"
                                               "    preroll: {}\n"
                                               "    start: {}\n"
                                               "    end: {}\n"
                                               "    teardown: confirm\n",
                                               api_port, utc_in(6s), utc_in(14s), utc_in(22s)));
    ChannelReaper reaper;
    ControllerProcess controller(dir, schedule, api_port, "schedule");
    REQUIRE(wait_until(
        "the events API answers", [&] { return controller.event("cup-final").has_value(); }, 10s));
    std::filesystem::create_directories(ONAIR_SCREENSHOT_DIR);
    Process page(
        ProcessOptions{.argv = {"node", std::string(ONAIR_WEB_TESTS) + "/events_page.mjs",
                                fmt::format("http://127.0.0.1:{}", api_port), kToken,
                                std::string(ONAIR_SCREENSHOT_DIR) + "/events.png", "cup-final"},
                       .output_dir = dir.path(),
                       .name = "events-page"});
    auto exit = page.wait_for(150s);
    if (const pid_t pid = controller.channel_pid("cup-final"); pid > 0) reaper.pids.push_back(pid);
    INFO(page.read_stdout());
    INFO(page.read_stderr());
    REQUIRE(exit);
    CHECK(exit->success());
    CHECK(said_line(page, "ok"));
    CHECK(controller.state("cup-final") == "done");
    // The controller's /metrics pass promtool's checks.
    auto metrics = controller.call("GET", "/metrics");
    REQUIRE(metrics);
    REQUIRE(metrics->status == 200);
    CHECK(promtool_problems(metrics->body, dir) == "");
}
