// The controller with a runner that starts nothing: what the operator's
// commands answer (400 with every reason, 404, 409), what a reload applies,
// and what a restart of the controller adopts, restarts and catches up
// with. The "channels" are one small HTTP server answering the status a
// channel's origin gives, so readiness is the real check. Times are
// compressed to a few hundred milliseconds around the real clock.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <boost/json.hpp>

#include "origin/http_server.hpp"
#include "schedule/controller.hpp"
#include "schedule/event_store.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

using namespace onair;
using namespace onair::schedule;
using namespace std::chrono_literals;
using testing::TempDir;

namespace {

TimePoint now_ms() {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

// Starts nothing; every deployment points at `origin`. Tests decide what runs.
class FakeRunner final : public Runner {
  public:
    explicit FakeRunner(std::string origin) : origin_(std::move(origin)) {}
    std::string_view name() const override { return "fake"; }

    core::Result<Deployment> start(const DeployRequest& request) override {
        std::lock_guard lock(mutex_);
        starts_.push_back(request.event.id);
        if (!fail_with_.empty()) return core::fail(fail_with_);
        Deployment d{.runner = "fake",
                     .id = std::to_string(++next_),
                     .instance = "1",
                     .origin = origin_,
                     .channel = request.channel.channel,
                     .data_dir = "/nowhere",
                     .started_ms = 0};
        running_.insert(d.id);
        return d;
    }
    Liveness liveness(const Deployment& d) override {
        std::lock_guard lock(mutex_);
        if (running_.contains(d.id)) return {true, {}};
        return {false, "exited with status 1"};
    }
    core::Result<> stop(const Deployment& d, std::chrono::milliseconds) override {
        std::lock_guard lock(mutex_);
        running_.erase(d.id);
        ++stops_;
        return {};
    }

    void kill(const std::string& id) {
        std::lock_guard lock(mutex_);
        running_.erase(id);
    }
    void adopt_running(const std::string& id) {
        std::lock_guard lock(mutex_);
        running_.insert(id);
    }
    void fail_with(std::string reason) {
        std::lock_guard lock(mutex_);
        fail_with_ = std::move(reason);
    }
    std::vector<std::string> starts() {
        std::lock_guard lock(mutex_);
        return starts_;
    }
    int stops() {
        std::lock_guard lock(mutex_);
        return stops_;
    }

  private:
    std::string origin_;
    std::mutex mutex_;
    std::set<std::string> running_;
    std::vector<std::string> starts_;
    std::string fail_with_;
    int next_ = 100;
    int stops_ = 0;
};

// A channel's origin as far as the controller asks: every status says its
// pipeline has published a segment.
struct FakeOrigin {
    origin::HttpServer server{
        {.host = "127.0.0.1", .port = 0, .threads = 1}, [](const origin::Request&) {
            return origin::make_json(boost::beast::http::status::ok,
                                     boost::json::parse(R"({"active_pipeline": "a",
                                         "pipelines": {"a": {"state": "active", "last_segment": 7}}})"));
        }};
    FakeOrigin() { REQUIRE(server.start()); }
    std::string url() const { return fmt::format("http://127.0.0.1:{}", server.port()); }
};

std::string utc(TimePoint t) {
    return time_text(t);
}

std::string channel_yaml(const std::string& name, int port) {
    return fmt::format(
        "channel: {}\ninputs: {{a: \"testsrc:?size=160x90&rate=10\"}}\n"
        "ladder:\n  - {{name: 90p, width: 160, height: 90, bitrate: 100k}}\n"
        "encoder: {{gop: 1s}}\nhls: {{segment: 2s, window: 10s}}\n"
        "origin: {{listen: 127.0.0.1:{}}}\n",
        name, port);
}

struct Setup {
    TempDir dir{"onair-controller"};
    FakeOrigin origin;
    FakeRunner runner{origin.url()};
    std::unique_ptr<EventStore> store;
    std::unique_ptr<Controller> controller;

    Setup() {
        dir.write("one.yaml", channel_yaml("one", 28081));
        dir.write("two.yaml", channel_yaml("two", 28082));
        dir.write("three.yaml", channel_yaml("three", 28083));
        auto opened = EventStore::open((dir / "events.db").string());
        REQUIRE(opened);
        store = std::move(*opened);
    }

    void write_schedule(const std::string& events) {
        dir.write("schedule.yaml",
                  fmt::format("listen: 127.0.0.1:1\ndata: {}\n"
                              "retries: {{count: 1, first_delay: 100ms}}\nevents:\n{}",
                              (dir / "state").string(), events));
    }

    void start() {
        ControllerOptions options;
        options.poll = 50ms;
        auto schedule = load_schedule_config((dir / "schedule.yaml").string());
        REQUIRE(schedule);
        controller = std::make_unique<Controller>(std::move(*schedule), runner, *store, options);
        REQUIRE(controller->start());
    }

    State state(const std::string& id) {
        auto e = controller->event(id);
        REQUIRE(e);
        return e->stored.state.state;
    }
    testing::WaitResult wait_state(const std::string& id, State s,
                                   std::chrono::milliseconds timeout = 5s) {
        return testing::wait_until(
            fmt::format("{} {} (now {})", id, to_string(s), to_string(state(id))),
            [&] { return state(id) == s; }, timeout, 10ms);
    }
};

std::string event_yaml(const std::string& id, const std::string& file, TimePoint preroll,
                       TimePoint start, TimePoint end, const std::string& more = "") {
    return fmt::format(
        "  - id: {}\n    channel: {}\n    preroll: {}\n    start: {}\n    end: {}\n{}", id, file,
        utc(preroll), utc(start), utc(end), more);
}

bool mentions(const std::vector<std::string>& reasons, std::string_view text) {
    return std::any_of(reasons.begin(), reasons.end(),
                       [&](const auto& r) { return r.find(text) != std::string::npos; });
}

}  // namespace

TEST_CASE(
    "commands are checked: every reason at once, unknown events, events that can no "
    "longer change",
    "[controller]") {
    Setup s;
    const auto t = now_ms();
    s.write_schedule(event_yaml("later", "one.yaml", t + 1h, t + 2h, t + 3h));
    s.start();

    auto bad = s.controller->add(R"({"id": "no good", "start": "tomorrow", "teardown": "soon"})");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().status == 400);
    CHECK(mentions(bad.error().reasons, "request:1:"));
    for (auto key : {"id:", "start:", "teardown:", "channel:", "end:"})
        CHECK(mentions(bad.error().reasons, key));

    auto body =
        fmt::format(R"({{"id": "later", "channel": "two.yaml", "start": "{}", "end": "{}"}})",
                    utc(t + 5h), utc(t + 6h));
    auto duplicate = s.controller->add(body);
    REQUIRE_FALSE(duplicate);
    CHECK(duplicate.error().status == 409);

    // Same ports (one.yaml), overlapping times: refused with the port named.
    auto clash = s.controller->add(fmt::format(
        R"({{"id": "clash", "channel": "one.yaml", "start": "{}", "end": "{}", "teardown": "auto"}})",
        utc(t + 150min), utc(t + 4h)));
    REQUIRE_FALSE(clash);
    CHECK(clash.error().status == 409);
    CHECK(mentions(clash.error().reasons, "28081"));
    // The same ports once `later` is over (it holds them until confirmed, so
    // make it `auto`) are fine.
    REQUIRE(s.controller->change("later", R"({"teardown": "auto"})"));
    auto after = s.controller->add(
        fmt::format(R"({{"id": "clash", "channel": "one.yaml", "start": "{}", "end": "{}"}})",
                    utc(t + 4h), utc(t + 5h)));
    CHECK(after);

    auto missing = s.controller->cancel("nope");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().status == 404);
    auto early = s.controller->confirm_teardown("later");
    REQUIRE_FALSE(early);
    CHECK(early.error().status == 409);
    auto no_end = s.controller->extend("later", R"({"until": 3})");
    REQUIRE_FALSE(no_end);
    CHECK(no_end.error().status == 400);
    auto renamed = s.controller->change("later", R"({"id": "other"})");
    REQUIRE_FALSE(renamed);
    CHECK(renamed.error().status == 400);

    REQUIRE(s.controller->cancel("later"));
    REQUIRE(s.wait_state("later", State::cancelled));
    auto again = s.controller->change("later", R"({"title": "back"})");
    REQUIRE_FALSE(again);
    CHECK(again.error().status == 409);
    CHECK(s.runner.starts().empty());
}

TEST_CASE("a reload applies the file's changes to events not yet deployed", "[controller]") {
    Setup s;
    const auto t = now_ms();
    s.write_schedule(
        event_yaml("soon", "one.yaml", t - 1s, t + 1h, t + 2h) +
        event_yaml("later", "two.yaml", t + 1h, t + 2h, t + 3h) +
        event_yaml("dropped", "two.yaml", t + 4h, t + 5h, t + 6h, "    teardown: auto\n"));
    s.start();
    REQUIRE(s.wait_state("soon", State::ready));

    s.write_schedule(event_yaml("soon", "one.yaml", t - 1s, t + 90min, t + 2h) +
                     event_yaml("later", "two.yaml", t + 1h, t + 150min, t + 3h) +
                     event_yaml("added", "three.yaml", t + 10h, t + 11h, t + 12h));
    auto changes = s.controller->reload();
    REQUIRE(changes);
    CHECK(mentions(*changes, "soon: not applied: it is ready already"));
    CHECK(mentions(*changes, "later: changed"));
    CHECK(mentions(*changes, "added: added"));
    CHECK(mentions(*changes, "dropped: cancelled"));
    CHECK(s.controller->event("later")->stored.spec.start == t + 150min);
    CHECK(s.controller->event("soon")->stored.spec.start == t + 1h);
    REQUIRE(s.wait_state("dropped", State::cancelled));

    // A file that is not valid changes nothing.
    s.dir.write("schedule.yaml", "events: [{id: broken}]\n");
    auto refused = s.controller->reload();
    REQUIRE_FALSE(refused);
    CHECK(refused.error().status == 400);
    CHECK(mentions(refused.error().reasons, "channel"));
    CHECK(s.controller->event("added"));
}

TEST_CASE("a restarted controller adopts what runs, restarts what died, and catches up",
          "[controller]") {
    Setup s;
    const auto t = now_ms();
    s.write_schedule(event_yaml("running", "one.yaml", t - 1s, t + 300ms, t + 1h) +
                     event_yaml("dying", "two.yaml", t - 1s, t + 300ms, t + 1h));
    s.start();
    REQUIRE(s.wait_state("running", State::live));
    REQUIRE(s.wait_state("dying", State::live));
    REQUIRE(s.runner.starts().size() == 2);
    const auto running_id = s.controller->event("running")->stored.deployment->id;
    const auto dying_id = s.controller->event("dying")->stored.deployment->id;
    s.controller->stop();
    s.controller.reset();

    // While it was down: one channel died.
    s.runner.kill(dying_id);
    s.write_schedule(event_yaml("running", "one.yaml", t - 1s, t + 300ms, t + 2h) +
                     event_yaml("dying", "two.yaml", t - 1s, t + 300ms, t + 1h));
    s.start();
    // Adopted, not started again; it is live, so the file's change is not applied.
    CHECK(s.controller->event("running")->stored.deployment->id == running_id);
    CHECK(s.controller->event("running")->stored.spec.end == t + 1h);
    REQUIRE(testing::wait_until(
        "dying restarted",
        [&] {
            auto e = s.controller->event("dying");
            return e->stored.deployment && e->stored.deployment->id != dying_id &&
                   e->stored.state.attempts == 0;
        },
        5s, 10ms));
    CHECK(s.state("dying") == State::live);
    CHECK(s.controller->event("dying")->stored.state.restarts == 1);
    CHECK(s.runner.starts().size() == 3);  // only the dead one was started again
    CHECK(s.state("running") == State::live);

    // Teardown on the operator's word still works on the adopted channel.
    REQUIRE(s.controller->confirm_teardown("running"));
    REQUIRE(s.wait_state("running", State::done));
    CHECK(!s.controller->event("running")->stored.deployment);
    auto history = s.controller->history("running");
    REQUIRE(history);
    REQUIRE(history->size() == 5);
    CHECK(history->back().to == State::done);
}

TEST_CASE("a deploy that keeps failing is retried, then failed with the runner's reason",
          "[controller]") {
    Setup s;
    const auto t = now_ms();
    s.write_schedule(event_yaml("doomed", "one.yaml", t - 1s, t + 1h, t + 2h));
    s.runner.fail_with("origin.listen: 127.0.0.1:28081 is in use by another process");
    s.start();
    REQUIRE(s.wait_state("doomed", State::failed));
    CHECK(s.runner.starts().size() == 2);  // one retry
    auto e = s.controller->event("doomed");
    CHECK(e->stored.state.last_failure.find("in use") != std::string::npos);
    auto f = s.controller->figures();
    CHECK(f.failures == 1);
    CHECK(f.retries == 1);
    CHECK(f.events_by_state[State::failed] == 1);
}
