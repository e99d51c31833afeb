#include "schedule/channel_probe.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

namespace onair::schedule {
namespace http = boost::beast::http;

ChannelProbe::ChannelProbe(const Deployment& deployment, std::chrono::milliseconds timeout)
    : deployment_(deployment), target_("/api/v1/channels/" + deployment.channel) {
    auto url = origin::parse_http_url(deployment.origin);
    if (!url) return;
    origin::HttpClientOptions options{.connect_timeout = timeout,
                                      .write_timeout = timeout,
                                      .read_timeout = timeout,
                                      .total_timeout = timeout * 2,
                                      .body_limit = 1024 * 1024};
    client_ = std::make_unique<origin::HttpClient>(url->host, url->port, options);
}

ChannelSummary ChannelProbe::probe() {
    ChannelSummary out;
    if (!client_) {
        out.problem = fmt::format("not an http URL: {}", deployment_.origin);
        return out;
    }
    auto response = client_->send(origin::make_request(http::verb::get, target_));
    if (!response) {
        out.problem = response.error().message;
        return out;
    }
    if (response->result() != http::status::ok) {
        out.problem = fmt::format("GET {}: {}", target_, response->result_int());
        return out;
    }
    boost::system::error_code ec;
    auto json = boost::json::parse(response->body(), ec);
    if (ec || !json.is_object()) {
        out.problem = fmt::format("GET {}: not a JSON object", target_);
        return out;
    }
    const auto& status = json.as_object();
    out.answering = true;
    const auto* pipelines = status.if_contains("pipelines");
    bool all_run = pipelines && pipelines->is_object() && !pipelines->as_object().empty();
    boost::json::object summary_pipelines;
    if (pipelines && pipelines->is_object()) {
        for (const auto& [id, p] : pipelines->as_object()) {
            if (!p.is_object()) continue;
            const auto& po = p.as_object();
            const auto* last = po.if_contains("last_segment");
            if (!last || last->is_null()) all_run = false;
            boost::json::object view;
            for (auto key : {"state", "active", "last_segment", "last_segment_age_ms", "lag_ms"})
                if (const auto* v = po.if_contains(key)) view[key] = *v;
            summary_pipelines[id] = std::move(view);
        }
    }
    out.pipelines_run = all_run;
    if (!all_run) out.problem = "its pipelines have not published a segment yet";
    if (const auto* v = status.if_contains("active_pipeline")) out.status["active_pipeline"] = *v;
    out.status["pipelines"] = std::move(summary_pipelines);
    if (const auto* v = status.if_contains("inputs")) out.status["inputs"] = *v;
    if (const auto* v = status.if_contains("latency")) out.status["latency"] = *v;
    return out;
}

}  // namespace onair::schedule
