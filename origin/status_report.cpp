#include "origin/status_report.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <span>
#include <vector>

#include "core/media_time.hpp"
#include "origin/playlist.hpp"

namespace onair::origin {
namespace {

// A pipeline as people name its part: serving, ready to serve, or not.
std::string pipeline_state(char id, const core::PipelineRuntimeStatus& p,
                           const FailoverStatus& failover) {
    const PipelineView& v = id == 'b' ? failover.b : failover.a;
    const auto input = p.input.state.load();
    if (input == core::InputState::stopped) return "stopped";
    if (v.last_sequence < 0) return "starting";
    if (id == failover.active) return "active";
    return v.healthy_since_ms >= 0 ? "standby" : "unhealthy";
}

boost::json::value age_ms(int64_t since_ms, int64_t now_ms) {
    if (since_ms <= 0) return nullptr;
    return std::max<int64_t>(0, now_ms - since_ms);
}

// A time figure's JSON key: last_packet_utc_ms -> last_packet_age_ms.
std::string age_key(std::string_view name) {
    constexpr std::string_view kUtc = "_utc_ms";
    if (name.ends_with(kUtc)) name.remove_suffix(kUtc.size());
    return std::string(name) + "_age_ms";
}

// Every figure of `figures` (an InputStatus or a PipelineStatus) in table order.
template <class ForEach, class Figures>
std::vector<double> figure_values(ForEach for_each, const Figures& figures) {
    std::vector<double> values;
    for_each([&](const core::Figure&,
                 const auto& value) { values.push_back(double(core::figure_value(value))); },
             figures);
    return values;
}

}  // namespace

boost::json::object input_status_json(const core::PipelineRuntimeStatus& p, int64_t now_ms) {
    const core::InputStatus& in = p.input;
    const auto state = in.state.load();
    boost::json::object json;
    json["url"] = p.input_description;
    json["state"] = core::to_string(state);
    json["connected"] = state == core::InputState::connected;
    core::for_each_input_figure(
        [&](const core::Figure& f, const auto& value) {
            if (!f.shown_in(core::kInJson)) return;
            if (f.kind == core::FigureKind::time)
                json[age_key(f.name)] = age_ms(core::figure_value(value), now_ms);
            else
                json[f.name] = core::figure_value(value);
        },
        in);
    json["note"] = in.note();
    return json;
}

namespace {

boost::json::object pipeline_json(const core::PipelineRuntimeStatus& p,
                                  const FailoverStatus& failover, int64_t now_ms) {
    const PipelineView& v = p.id == 'b' ? failover.b : failover.a;
    const core::PipelineStatus& s = p.pipeline;
    boost::json::object health;
    health["slate"] = v.slate;
    health["black"] = v.health.black;
    health["frozen"] = v.health.frozen;
    health["silent"] = v.health.silent;
    boost::json::object now;  // what the pipeline sees this moment: its flags
    boost::json::object figures;
    core::for_each_pipeline_figure(
        [&](const core::Figure& f, const auto& value) {
            if (!f.shown_in(core::kInStatusApi)) return;
            (f.kind == core::FigureKind::flag ? now : figures)[f.name] = core::figure_value(value);
        },
        s);

    boost::json::object json;
    json["state"] = pipeline_state(p.id, p, failover);
    json["active"] = p.id == failover.active;
    if (v.last_sequence >= 0)
        json["last_segment"] = v.last_sequence;
    else
        json["last_segment"] = nullptr;
    json["last_segment_age_ms"] = age_ms(v.last_arrival_ms, now_ms);
    json["lag_ms"] = v.lag_ms;
    json["late_segments"] = v.late_segments;
    json["healthy_for_ms"] = age_ms(v.healthy_since_ms, now_ms);
    json["health"] = std::move(health);
    json["now"] = std::move(now);
    for (auto& [name, value] : figures) json[name] = std::move(value);
    return json;
}

// Prometheus text, one family at a time.
class Metrics {
  public:
    explicit Metrics(std::string channel) : channel_(std::move(channel)) {}

    void family(std::string_view name, std::string_view type, std::string_view help) {
        text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
        name_ = name;
    }
    void sample(double value, std::string_view labels = {}) {
        text_ += fmt::format("{}{{channel=\"{}\"{}{}}} {}\n", name_, channel_,
                             labels.empty() ? "" : ",", labels, value);
    }
    // A sample of the family under another name (a summary's _sum and _count).
    void sample_named(std::string_view name, double value) {
        text_ += fmt::format("{}{{channel=\"{}\"}} {}\n", name, channel_, value);
    }
    std::string take() { return std::move(text_); }

  private:
    std::string channel_;
    std::string name_;
    std::string text_;
};

// The channel's queues, one sample per queue in each family.
void queue_families(Metrics& m, const std::vector<core::QueueFigures>& queues) {
    if (queues.empty()) return;
    auto family = [&](std::string_view name, std::string_view type, std::string_view help,
                      auto value) {
        m.family(name, type, help);
        for (const auto& q : queues)
            m.sample(double(value(q)), fmt::format("queue=\"{}\"", q.name));
    };
    using Q = const core::QueueFigures&;
    m.family("onair_queue_capacity", "gauge",
             "Items a queue holds at most; its overflow policy as a label.");
    for (const auto& q : queues)
        m.sample(double(q.capacity),
                 fmt::format("queue=\"{}\",overflow=\"{}\"", q.name, core::to_string(q.overflow)));
    family("onair_queue_depth", "gauge", "Items waiting in a queue now.",
           [](Q q) { return q.depth; });
    family("onair_queue_high_water", "gauge", "Most items ever waiting in a queue.",
           [](Q q) { return q.high_water; });
    family("onair_queue_pushed_total", "counter", "Items taken into a queue.",
           [](Q q) { return q.pushed; });
    family("onair_queue_popped_total", "counter", "Items a queue handed to its consumers.",
           [](Q q) { return q.popped; });
    family("onair_queue_dropped_total", "counter",
           "Items a queue lost to its overflow policy (the oldest dropped, or the newest "
           "refused).",
           [](Q q) { return q.dropped; });
}

}  // namespace

std::string channel_status_json(const core::ChannelStatus& status, const FailoverStatus& failover,
                                int64_t now_ms, const std::optional<DvrFigures>& dvr,
                                const std::optional<HttpFigures>& http) {
    boost::json::object inputs, pipelines;
    for (const auto& p : status.pipelines) {
        std::string id(1, p->id);
        inputs[id] = input_status_json(*p, now_ms);
        pipelines[id] = pipeline_json(*p, failover, now_ms);
    }
    boost::json::object fo;
    fo["mode"] = core::to_string(failover.mode);
    fo["active"] = std::string(1, failover.active);
    fo["manual_hold"] = failover.manual_hold;
    fo["switches"] = failover.switches;
    auto switch_json = [](const SwitchEvent& e) {
        boost::json::object o;
        o["from"] = std::string(1, e.from);
        o["to"] = std::string(1, e.to);
        o["reason"] = to_string(e.reason);
        o["sequence"] = e.sequence;
        o["time"] = format_program_date_time(e.utc_ms);
        return o;
    };
    if (failover.last_switch)
        fo["last_switch"] = switch_json(*failover.last_switch);
    else
        fo["last_switch"] = nullptr;
    boost::json::array history;  // newest first
    for (auto it = failover.recent_switches.rbegin(); it != failover.recent_switches.rend(); ++it)
        history.push_back(switch_json(*it));
    fo["history"] = std::move(history);
    boost::json::object latency;
    latency["samples"] = failover.latency_samples;
    latency["median_ms"] = failover.latency_median_ms;
    latency["worst_ms"] = failover.latency_worst_ms;

    boost::json::object json;
    json["channel"] = status.channel;
    json["active_pipeline"] = std::string(1, failover.active);
    json["failover"] = std::move(fo);
    json["inputs"] = std::move(inputs);
    json["pipelines"] = std::move(pipelines);
    json["latency"] = std::move(latency);
    if (dvr) {
        boost::json::object d;
        d["segments"] = dvr->segments;
        d["bytes"] = dvr->bytes;
        d["expired"] = dvr->expired;
        d["dropped"] = dvr->dropped;
        // Recording stopped (a full disk): why and since when; live goes on.
        d["recording"] = dvr->health.error.empty();
        d["failed"] = dvr->health.failed;
        if (dvr->health.error.empty()) {
            d["error"] = nullptr;
            d["failing_since"] = nullptr;
        } else {
            d["error"] = dvr->health.error;
            d["failing_since"] = format_program_date_time(dvr->health.failing_since_ms);
        }
        if (dvr->extent) {
            d["oldest"] = format_program_date_time(core::media_to_utc_ms(dvr->extent->first));
            d["newest"] = format_program_date_time(core::media_to_utc_ms(dvr->extent->second));
        } else {
            d["oldest"] = nullptr;
            d["newest"] = nullptr;
        }
        json["dvr"] = std::move(d);
    }
    boost::json::object queues;
    for (const core::QueueFigures& q : status.queues.figures()) {
        boost::json::object o;
        o["capacity"] = q.capacity;
        o["overflow"] = core::to_string(q.overflow);
        o["depth"] = q.depth;
        o["high_water"] = q.high_water;
        o["pushed"] = q.pushed;
        o["popped"] = q.popped;
        o["dropped"] = q.dropped;
        queues[q.name] = std::move(o);
    }
    json["queues"] = std::move(queues);
    if (http) {
        boost::json::object o;
        o["connections"] = http->connections;
        o["max_connections"] = http->max_connections;
        o["accepted"] = http->accepted;
        o["refused"] = http->refused;
        o["requests"] = http->requests;
        o["requests_per_second"] = http->requests_per_second;
        boost::json::object response;
        response["window_s"] = HttpRecorder::kWindowSeconds;
        response["p50_ms"] = double(http->p50_us) / 1000;
        response["p90_ms"] = double(http->p90_us) / 1000;
        response["p99_ms"] = double(http->p99_us) / 1000;
        response["max_ms"] = double(http->max_us) / 1000;
        o["response_time"] = std::move(response);
        json["origin"] = std::move(o);
    }
    return boost::json::serialize(json);
}

std::string prometheus_metrics(const core::ChannelStatus& status, const FailoverStatus& failover,
                               int64_t now_ms, const std::optional<DvrFigures>& dvr,
                               const std::optional<HttpFigures>& http) {
    Metrics m(status.channel);
    auto per_pipeline = [&](std::string_view name, std::string_view type, std::string_view help,
                            auto value) {
        m.family(name, type, help);
        for (const auto& p : status.pipelines)
            m.sample(double(value(*p)), fmt::format("pipeline=\"{}\"", p->id));
    };
    auto view = [&](const core::PipelineRuntimeStatus& p) -> const PipelineView& {
        return p.id == 'b' ? failover.b : failover.a;
    };
    using P = const core::PipelineRuntimeStatus&;

    per_pipeline("onair_input_connected", "gauge", "1 while the input is connected.",
                 [](P p) { return p.input.state.load() == core::InputState::connected ? 1 : 0; });
    // One family for each figure of a table that has a Prometheus name.
    auto table_families = [&](std::span<const core::Figure> table, auto values_of) {
        std::vector<std::vector<double>> values;  // [pipeline][figure]
        for (const auto& p : status.pipelines) values.push_back(values_of(*p));
        for (std::size_t i = 0; i < table.size(); ++i) {
            const core::Figure& f = table[i];
            if (f.metric.empty()) continue;
            m.family(f.metric, core::to_string(f.kind), f.help);
            for (std::size_t k = 0; k < values.size(); ++k) {
                double value = values[k][i];
                if (f.kind == core::FigureKind::time)  // its age in seconds
                    value = value > 0 ? std::max(0.0, double(now_ms) - value) / 1000 : -1.0;
                m.sample(value, fmt::format("pipeline=\"{}\"", status.pipelines[k]->id));
            }
        }
    };
    table_families(core::kInputFigures, [](P p) {
        return figure_values([](auto&&... a) { core::for_each_input_figure(a...); }, p.input);
    });
    table_families(core::kPipelineFigures, [](P p) {
        return figure_values([](auto&&... a) { core::for_each_pipeline_figure(a...); }, p.pipeline);
    });
    per_pipeline("onair_pipeline_last_sequence", "gauge",
                 "Newest sequence number that reached the origin.",
                 [&](P p) { return view(p).last_sequence; });
    per_pipeline("onair_pipeline_lag_seconds", "gauge",
                 "How long after the first copy the pipeline's newest segment arrived.",
                 [&](P p) { return double(view(p).lag_ms) / 1000; });
    per_pipeline("onair_pipeline_late_segments_total", "counter",
                 "Segments the pipeline did not deliver by their deadline.",
                 [&](P p) { return view(p).late_segments; });
    per_pipeline("onair_pipeline_active", "gauge", "1 for the pipeline being served.",
                 [&](P p) { return p.id == failover.active ? 1 : 0; });
    per_pipeline("onair_pipeline_healthy", "gauge",
                 "1 while every copy of the pipeline arrives on time and passes the checks.",
                 [&](P p) { return view(p).healthy_since_ms >= 0 ? 1 : 0; });

    m.family("onair_pipeline_check_failing", "gauge",
             "1 while the pipeline's newest segment failed the check.");
    for (const auto& p : status.pipelines) {
        const PipelineView& v = view(*p);
        const std::pair<const char*, bool> checks[] = {{"slate", v.slate},
                                                       {"black", v.health.black},
                                                       {"frozen", v.health.frozen},
                                                       {"silence", v.health.silent}};
        for (auto [check, failing] : checks)
            m.sample(failing ? 1 : 0, fmt::format("pipeline=\"{}\",check=\"{}\"", p->id, check));
    }
    m.family("onair_failover_switches_total", "counter", "Switches between pipelines.");
    m.sample(double(failover.switches));
    m.family("onair_failover_last_switch_timestamp_seconds", "gauge",
             "UTC time of the last switch (0: none).");
    m.sample(failover.last_switch ? double(failover.last_switch->utc_ms) / 1000 : 0);
    m.family("onair_segment_latency_median_seconds", "gauge",
             "From a segment's last frame entering the input to its listing: the median over "
             "the newest listings.");
    m.sample(double(failover.latency_median_ms) / 1000);
    m.family("onair_segment_latency_worst_seconds", "gauge",
             "From a segment's last frame entering the input to its listing: the worst over "
             "the newest listings.");
    m.sample(double(failover.latency_worst_ms) / 1000);
    if (dvr) {
        m.family("onair_dvr_segments", "gauge", "Segments the DVR holds, all renditions.");
        m.sample(double(dvr->segments));
        m.family("onair_dvr_bytes", "gauge", "Bytes the DVR holds on disk.");
        m.sample(double(dvr->bytes));
        m.family("onair_dvr_expired_total", "counter",
                 "Segments the DVR deleted (window or disk budget).");
        m.sample(double(dvr->expired));
        m.family("onair_dvr_dropped_total", "counter",
                 "Segments not recorded because the DVR's writer fell behind.");
        m.sample(double(dvr->dropped));
        m.family("onair_dvr_failed_total", "counter",
                 "Segments not recorded because writing them failed (a full disk, an I/O error).");
        m.sample(double(dvr->health.failed));
        m.family("onair_dvr_recording", "gauge",
                 "1 while the DVR records every served segment, 0 while its writes fail.");
        m.sample(dvr->health.error.empty() ? 1.0 : 0.0);
    }
    queue_families(m, status.queues.figures());
    if (http) {
        m.family("onair_http_connections", "gauge", "HTTP connections open now.");
        m.sample(double(http->connections));
        m.family("onair_http_connections_limit", "gauge",
                 "Connections served at once before new ones are refused (0: none).");
        m.sample(double(http->max_connections));
        m.family("onair_http_connections_accepted_total", "counter", "HTTP connections accepted.");
        m.sample(double(http->accepted));
        m.family("onair_http_connections_refused_total", "counter",
                 "Connections answered 503 and closed at the connection limit.");
        m.sample(double(http->refused));
        m.family("onair_http_requests_per_second", "gauge",
                 fmt::format("Requests answered per second over the last {} s.",
                             HttpRecorder::kWindowSeconds));
        m.sample(http->requests_per_second);
        m.family("onair_http_response_seconds", "summary",
                 fmt::format("From a request read to its response written; quantiles over the "
                             "last {} s.",
                             HttpRecorder::kWindowSeconds));
        m.sample(double(http->p50_us) / 1e6, "quantile=\"0.5\"");
        m.sample(double(http->p90_us) / 1e6, "quantile=\"0.9\"");
        m.sample(double(http->p99_us) / 1e6, "quantile=\"0.99\"");
        m.sample(double(http->max_us) / 1e6, "quantile=\"1\"");
        m.sample_named("onair_http_response_seconds_sum", http->response_seconds_sum);
        m.sample_named("onair_http_response_seconds_count", double(http->requests));
    }
    return m.take();
}

}  // namespace onair::origin
