#include "origin/status_report.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

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

}  // namespace

boost::json::object input_status_json(const core::PipelineRuntimeStatus& p, int64_t now_ms) {
    const core::InputStatus& in = p.input;
    const auto state = in.state.load();
    boost::json::object json;
    json["url"] = p.input_description;
    json["state"] = core::to_string(state);
    json["connected"] = state == core::InputState::connected;
    json["bitrate"] = in.bitrate.load();
    json["bytes"] = in.bytes.load();
    json["last_packet_age_ms"] = age_ms(in.last_packet_utc_ms.load(), now_ms);
    json["continuity_errors"] = in.continuity_errors.load();
    json["garbage_bytes"] = in.garbage_bytes.load();
    json["rtp_lost"] = in.rtp_lost.load();
    json["connects"] = in.connects.load();
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
    boost::json::object now;  // what the pipeline sees this moment
    now["filling"] = s.filling.load();
    now["black"] = s.black.load();
    now["frozen"] = s.frozen.load();
    now["silent"] = s.silent.load();

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
    json["segments"] = s.segments.load();
    json["frames_in"] = s.frames_in.load();
    json["fill_frames"] = s.fill_frames.load();
    json["timeline_jumps"] = s.timeline_jumps.load();
    json["decode_errors"] = s.decode_errors.load();
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
    std::string take() { return std::move(text_); }

  private:
    std::string channel_;
    std::string name_;
    std::string text_;
};

}  // namespace

std::string channel_status_json(const core::ChannelStatus& status, const FailoverStatus& failover,
                                int64_t now_ms, const std::optional<DvrFigures>& dvr) {
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
    if (failover.last_switch) {
        const SwitchEvent& e = *failover.last_switch;
        boost::json::object last;
        last["from"] = std::string(1, e.from);
        last["to"] = std::string(1, e.to);
        last["reason"] = to_string(e.reason);
        last["sequence"] = e.sequence;
        last["time"] = format_program_date_time(e.utc_ms);
        fo["last_switch"] = std::move(last);
    } else {
        fo["last_switch"] = nullptr;
    }
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
        if (dvr->extent) {
            d["oldest"] = format_program_date_time(core::media_to_utc_ms(dvr->extent->first));
            d["newest"] = format_program_date_time(core::media_to_utc_ms(dvr->extent->second));
        } else {
            d["oldest"] = nullptr;
            d["newest"] = nullptr;
        }
        json["dvr"] = std::move(d);
    }
    return boost::json::serialize(json);
}

std::string prometheus_metrics(const core::ChannelStatus& status, const FailoverStatus& failover,
                               int64_t now_ms, const std::optional<DvrFigures>& dvr) {
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
    per_pipeline("onair_input_bitrate_bits_per_second", "gauge",
                 "Input bitrate over the last second.", [](P p) { return p.input.bitrate.load(); });
    per_pipeline("onair_input_received_bytes_total", "counter", "Payload bytes received.",
                 [](P p) { return p.input.bytes.load(); });
    per_pipeline("onair_input_last_packet_age_seconds", "gauge",
                 "Seconds since the last input packet (-1: none yet).", [&](P p) {
                     int64_t last = p.input.last_packet_utc_ms.load();
                     return last > 0 ? double(std::max<int64_t>(0, now_ms - last)) / 1000 : -1.0;
                 });
    per_pipeline("onair_input_continuity_errors_total", "counter",
                 "MPEG-TS continuity counter errors.",
                 [](P p) { return p.input.continuity_errors.load(); });
    per_pipeline("onair_input_garbage_bytes_total", "counter", "Input bytes that were not MPEG-TS.",
                 [](P p) { return p.input.garbage_bytes.load(); });
    per_pipeline("onair_input_rtp_lost_total", "counter", "RTP packets lost (sequence gaps).",
                 [](P p) { return p.input.rtp_lost.load(); });
    per_pipeline("onair_input_connects_total", "counter", "Successful input connections.",
                 [](P p) { return p.input.connects.load(); });
    per_pipeline("onair_pipeline_frames_total", "counter", "Decoded video frames.",
                 [](P p) { return p.pipeline.frames_in.load(); });
    per_pipeline("onair_pipeline_fill_frames_total", "counter",
                 "Frames made up during input loss (slate).",
                 [](P p) { return p.pipeline.fill_frames.load(); });
    per_pipeline("onair_pipeline_decode_errors_total", "counter", "Decoder errors.",
                 [](P p) { return p.pipeline.decode_errors.load(); });
    per_pipeline("onair_pipeline_segments_total", "counter", "Segments produced, all renditions.",
                 [](P p) { return p.pipeline.segments.load(); });
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
    m.family("onair_segment_latency_seconds", "gauge",
             "From a segment's last frame entering the input to its listing, over recent "
             "segments.");
    m.sample(double(failover.latency_median_ms) / 1000, "quantile=\"0.5\"");
    m.sample(double(failover.latency_worst_ms) / 1000, "quantile=\"1\"");
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
    }
    return m.take();
}

}  // namespace onair::origin
