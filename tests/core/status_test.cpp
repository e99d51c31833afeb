// The status figures' tables (core/status.hpp): what every user of them
// (the push wire, the JSON documents, /metrics) relies on.
#include <catch2/catch.hpp>

#include <iterator>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "core/status.hpp"

using namespace onair::core;

namespace {

void check_table(std::span<const Figure> table, std::set<std::string_view>& names,
                 std::set<std::string_view>& metrics) {
    for (const Figure& f : table) {
        INFO(f.name);
        CHECK(names.insert(f.name).second);  // wire and JSON keys are unique
        CHECK_FALSE(f.help.empty());
        if (f.kind == FigureKind::flag) CHECK(f.unit.empty());
        // A time is shown as its age: NAME_utc_ms -> NAME_age_ms, ..._age_seconds.
        if (f.kind == FigureKind::time) {
            CHECK(f.name.ends_with("_utc_ms"));
            CHECK((f.metric.empty() || f.metric.ends_with("_age_seconds")));
        }
        if (f.metric.empty()) continue;
        CHECK(metrics.insert(f.metric).second);
        CHECK(f.metric.starts_with("onair_"));
        // Prometheus naming: counters, and only counters, end in _total.
        CHECK(f.metric.ends_with("_total") == (f.kind == FigureKind::counter));
    }
}

}  // namespace

TEST_CASE("status figures: names and metric names are unique and well formed", "[status]") {
    std::set<std::string_view> names = {"state", "note"};  // named by hand on the wire
    std::set<std::string_view> metrics;
    check_table(kInputFigures, names, metrics);
    check_table(kPipelineFigures, names, metrics);
    CHECK(metrics.contains("onair_pipeline_frames_total"));
    CHECK(metrics.contains("onair_input_received_bytes_total"));
}

TEST_CASE("status figures: the visitor walks the members in table order", "[status]") {
    PipelineStatus status;
    CHECK(status.last_sequence.load() == -1);  // the table's initial value
    status.frames_in = 5;
    status.frozen = true;
    std::size_t i = 0;
    for_each_pipeline_figure(
        [&](const Figure& f, const auto& member) {
            REQUIRE(i < std::size(kPipelineFigures));
            CHECK(f.name == kPipelineFigures[i].name);
            CHECK(f.metric == kPipelineFigures[i].metric);
            if (f.name == "frames_in") CHECK(int64_t(figure_value(member)) == 5);
            if (f.name == "frozen") CHECK(int64_t(figure_value(member)) == 1);
            ++i;
        },
        status);
    CHECK(i == std::size(kPipelineFigures));
}

TEST_CASE("status figures: kinds as Prometheus types", "[status]") {
    CHECK(std::string(to_string(FigureKind::counter)) == "counter");
    CHECK(std::string(to_string(FigureKind::gauge)) == "gauge");
    CHECK(std::string(to_string(FigureKind::flag)) == "gauge");
    CHECK(std::string(to_string(FigureKind::time)) == "gauge");
}
