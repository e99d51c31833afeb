// The status API and /metrics made from the status figures' tables and the
// channel's queue registry (origin/status_report), called as pure functions.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <type_traits>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "core/bounded_queue.hpp"
#include "core/status.hpp"
#include "fakes.hpp"
#include "origin/ingest_protocol.hpp"
#include "origin/status_report.hpp"

using namespace onair;
using namespace onair::origin;
using namespace onair::origin::testing;

namespace {

constexpr int64_t kNowMs = kBaseUtcMs + 60000;

struct Fixture {
    SegmentStore store{options(5, {"720p", "480p"})};
    core::ChannelStatus status;
    Fixture() {
        status.channel = "demo";
        status.add('a', "udp://127.0.0.1:5001");
    }
    std::string metrics() const {
        return prometheus_metrics(status, store.failover_status(), kNowMs);
    }
    boost::json::object json() const {
        return boost::json::parse(channel_status_json(status, store.failover_status(), kNowMs))
            .as_object();
    }
};

bool has_line(const std::string& text, const std::string& line) {
    return text.find(line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("metrics: every queue's figures, labelled with its name", "[status]") {
    Fixture f;
    core::BoundedQueue<int> input("input.a", 1024, {.registry = &f.status.queues});
    core::BoundedQueue<int> hook(
        "webhook.failover", 2,
        {.overflow = core::Overflow::drop_oldest, .registry = &f.status.queues});
    for (int i = 0; i < 3; ++i) hook.push(i);
    input.push(1);
    (void)input.try_pop();
    const std::string text = f.metrics();
    INFO(text);
    CHECK(has_line(text, "# TYPE onair_queue_depth gauge"));
    CHECK(has_line(text, "# TYPE onair_queue_dropped_total counter"));
    CHECK(has_line(
        text, R"(onair_queue_capacity{channel="demo",queue="input.a",overflow="block"} 1024)"));
    CHECK(has_line(
        text,
        R"(onair_queue_capacity{channel="demo",queue="webhook.failover",overflow="drop_oldest"} 2)"));
    CHECK(has_line(text, R"(onair_queue_depth{channel="demo",queue="webhook.failover"} 2)"));
    CHECK(has_line(text, R"(onair_queue_high_water{channel="demo",queue="webhook.failover"} 2)"));
    CHECK(has_line(text, R"(onair_queue_pushed_total{channel="demo",queue="webhook.failover"} 3)"));
    CHECK(
        has_line(text, R"(onair_queue_dropped_total{channel="demo",queue="webhook.failover"} 1)"));
    CHECK(has_line(text, R"(onair_queue_popped_total{channel="demo",queue="input.a"} 1)"));
    CHECK(has_line(text, R"(onair_queue_depth{channel="demo",queue="input.a"} 0)"));
}

TEST_CASE("metrics: one HELP and one TYPE per family, before its samples", "[status]") {
    Fixture f;
    f.status.add('b', "udp://127.0.0.1:5002");
    core::BoundedQueue<int> queue("dvr", 4, {.registry = &f.status.queues});
    std::map<std::string, int> help, type;
    std::set<std::string> sampled;
    for (const auto& line : lines(f.metrics())) {
        if (line.empty()) continue;
        INFO(line);
        if (line.starts_with("# HELP ")) {
            ++help[line.substr(7, line.find(' ', 7) - 7)];
        } else if (line.starts_with("# TYPE ")) {
            const auto name = line.substr(7, line.find(' ', 7) - 7);
            ++type[name];
            CHECK_FALSE(sampled.contains(name));  // no family resumes after another
        } else {
            const auto name = line.substr(0, line.find('{'));
            CHECK(type.contains(name));  // its TYPE came first
            sampled.insert(name);
        }
    }
    for (const auto& [name, count] : type) {
        INFO(name);
        CHECK(count == 1);
        CHECK(help[name] == 1);
    }
    CHECK(type.contains("onair_pipeline_frames_total"));
    CHECK(type.contains("onair_queue_pushed_total"));
}

TEST_CASE("metrics: a status figure with a Prometheus name is a family of its table's type",
          "[status]") {
    Fixture f;
    f.status.pipelines[0]->pipeline.frames_in = 1234;
    f.status.pipelines[0]->input.garbage_bytes = 99;
    const std::string text = f.metrics();
    INFO(text);
    CHECK(has_line(text, "# HELP onair_pipeline_frames_total Decoded video frames."));
    CHECK(has_line(text, "# TYPE onair_pipeline_frames_total counter"));
    CHECK(has_line(text, R"(onair_pipeline_frames_total{channel="demo",pipeline="a"} 1234)"));
    CHECK(has_line(text, "# TYPE onair_input_received_bytes_total counter"));
    CHECK(has_line(text, R"(onair_input_garbage_bytes_total{channel="demo",pipeline="a"} 99)"));
    for (const core::Figure& figure : core::kPipelineFigures)
        if (!figure.metric.empty())
            CHECK(has_line(text, fmt::format("# HELP {} {}", figure.metric, figure.help)));
}

TEST_CASE("status API: the channel's queues by name", "[status]") {
    Fixture f;
    CHECK(f.json().at("queues").as_object().empty());
    core::BoundedQueue<int> jobs(
        "harvest.jobs", 1,
        {.overflow = core::Overflow::refuse_newest, .registry = &f.status.queues});
    jobs.push(1);
    jobs.push(2);  // refused
    const auto json = f.json();
    const auto& q = json.at("queues").at("harvest.jobs");
    CHECK(q.at("capacity").to_number<int64_t>() == 1);
    CHECK(q.at("overflow").as_string() == "refuse_newest");
    CHECK(q.at("depth").to_number<int64_t>() == 1);
    CHECK(q.at("high_water").to_number<int64_t>() == 1);
    CHECK(q.at("pushed").to_number<int64_t>() == 1);
    CHECK(q.at("popped").to_number<int64_t>() == 0);
    CHECK(q.at("dropped").to_number<int64_t>() == 1);
}

TEST_CASE("status API: the pipeline's figures and flags, as the table shows them", "[status]") {
    Fixture f;
    auto& p = f.status.pipelines[0]->pipeline;
    p.segments = 3;
    p.timeline_jumps = 2;
    p.last_sequence = 40;
    p.black = true;
    const auto json = f.json();
    const auto& a = json.at("pipelines").at("a").as_object();
    CHECK(a.at("segments").to_number<int64_t>() == 3);
    CHECK(a.at("timeline_jumps").to_number<int64_t>() == 2);
    CHECK(a.at("now").at("black").as_bool());
    CHECK_FALSE(a.at("now").at("filling").as_bool());
    CHECK_FALSE(a.contains("black"));          // flags sit under "now"
    CHECK_FALSE(a.contains("last_sequence"));  // the failover's last_segment instead
    const auto& in = json.at("inputs").at("a").as_object();
    CHECK(in.contains("garbage_bytes"));
    CHECK_FALSE(in.contains("ts_packets"));  // on the wire only
    CHECK(in.at("last_packet_age_ms").is_null());
}

TEST_CASE("ingest protocol: every status figure round-trips the wire", "[status][ingest]") {
    core::ChannelStatus status;
    auto& from = status.add('a', "udp://127.0.0.1:5001");
    int64_t n = 1;
    auto set = [&](const core::Figure&, auto& member) {
        using T = decltype(core::figure_value(member));
        member = std::is_same_v<T, bool> ? T(n++ % 2) : T(n++ * 1000);
    };
    core::for_each_input_figure(set, from.input);
    core::for_each_pipeline_figure(set, from.pipeline);
    from.input.state = core::InputState::reconnecting;
    from.input.set_note("again");

    const std::string wire = ingest::status_json(ingest::StatusReport::of(from));
    const auto json = boost::json::parse(wire).as_object();
    for (const core::Figure& figure : core::kInputFigures)
        CHECK(json.at("input").as_object().contains(figure.name));
    for (const core::Figure& figure : core::kPipelineFigures)
        CHECK(json.at("pipeline").as_object().contains(figure.name));
    auto report = ingest::parse_status(wire);
    REQUIRE(report);
    auto& to = status.add('b', "udp://127.0.0.1:5002");
    report->apply_to(to);
    auto same = [](const core::Figure& figure, const auto& a, const auto& b) {
        INFO(figure.name);
        CHECK(core::figure_value(a) == core::figure_value(b));
    };
    core::for_each_input_figure(same, from.input, to.input);
    core::for_each_pipeline_figure(same, from.pipeline, to.pipeline);
    CHECK(to.input.state.load() == core::InputState::reconnecting);
    CHECK(to.input.note() == "again");
}

TEST_CASE("status API and metrics: a DVR whose writes fail says so and why and since when",
          "[status]") {
    Fixture f;
    DvrFigures dvr;
    dvr.segments = 10;
    auto json = [&] {
        return boost::json::parse(
                   channel_status_json(f.status, f.store.failover_status(), kNowMs, dvr))
            .as_object();
    };
    auto metrics = [&] {
        return prometheus_metrics(f.status, f.store.failover_status(), kNowMs, dvr);
    };
    CHECK(json().at("dvr").at("recording") == true);
    CHECK(json().at("dvr").at("error").is_null());
    CHECK(has_line(metrics(), "onair_dvr_recording{channel=\"demo\"} 1"));

    dvr.health = {.failed = 3,
                  .error = "cannot write DATA/dvr/720p/7.ts.tmp: No space left on device",
                  .failing_since_ms = kNowMs - 4000};
    const auto failing = json().at("dvr").as_object();
    CHECK(failing.at("recording") == false);
    CHECK(failing.at("failed").to_number<int64_t>() == 3);
    CHECK(failing.at("error") == "cannot write DATA/dvr/720p/7.ts.tmp: No space left on device");
    CHECK(failing.at("failing_since").as_string() == format_program_date_time(kNowMs - 4000));
    CHECK(has_line(metrics(), "onair_dvr_recording{channel=\"demo\"} 0"));
    CHECK(has_line(metrics(), "onair_dvr_failed_total{channel=\"demo\"} 3"));
}
