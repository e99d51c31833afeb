#include "schedule/events_api.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

namespace onair::schedule {
namespace {

namespace http = boost::beast::http;
using origin::Request;
using origin::Response;

constexpr std::string_view kReadAllow = "GET, HEAD, OPTIONS";

boost::json::value optional_time(const std::optional<TimePoint>& t) {
    return t ? boost::json::value(time_text(*t)) : boost::json::value(nullptr);
}

Response refused(const Refusal& r) {
    return origin::make_refusal(http::status(r.status), r.error, r.reasons);
}

boost::json::object history_json(const HistoryEntry& h) {
    boost::json::object json;
    json["event"] = h.event;
    json["from"] = to_string(h.from);
    json["to"] = to_string(h.to);
    json["time"] = time_text(h.at);
    json["reason"] = h.reason;
    return json;
}

bool valid_event_id(std::string_view id) {
    return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

}  // namespace

boost::json::object event_view_json(const EventView& v) {
    const auto& spec = v.stored.spec;
    const auto& st = v.stored.state;
    auto json = event_json(spec);
    json["source"] = std::string(kEventSources.name(v.stored.source));
    json["state"] = to_string(st.state);
    json["state_since"] = time_text(st.entered);
    json["effective_end"] = time_text(effective_end(spec, st));
    json["extended_end"] = optional_time(st.extended_end);
    json["live_since"] = optional_time(st.live_since);
    json["ended_at"] = optional_time(st.ended_at);
    json["next_due"] = optional_time(v.next_due);
    json["retry_at"] = optional_time(st.retry_at);
    json["attempts"] = st.attempts;
    json["restarts"] = st.restarts;
    json["last_failure"] =
        st.last_failure.empty() ? boost::json::value(nullptr) : boost::json::value(st.last_failure);
    json["teardown_confirmed"] = st.teardown_confirmed;
    json["cancel_requested"] = st.cancel_requested;
    json["playback"] =
        v.playback.empty() ? boost::json::value(nullptr) : boost::json::value(v.playback);
    if (const auto& d = v.stored.deployment) {
        boost::json::object dj;
        dj["runner"] = d->runner;
        dj["id"] = d->id;
        dj["origin"] = d->origin;
        dj["channel"] = d->channel;
        dj["data"] = d->data_dir;
        dj["started"] = time_text(TimePoint(Duration(d->started_ms)));
        json["deployment"] = std::move(dj);
    } else {
        json["deployment"] = nullptr;
    }
    json["channel_name"] = v.stored.channel_name.empty()
                               ? boost::json::value(nullptr)
                               : boost::json::value(v.stored.channel_name);
    json["channel_status"] = v.channel_status.empty() ? boost::json::value(nullptr)
                                                      : boost::json::value(v.channel_status);
    return json;
}

std::string controller_metrics(const ControllerFigures& f) {
    std::string out;
    out +=
        "# HELP onair_events Events in each state.\n"
        "# TYPE onair_events gauge\n";
    for (const auto& [state, n] : f.events_by_state)
        out += fmt::format("onair_events{{state=\"{}\"}} {}\n", to_string(state), n);
    auto counter = [&](std::string_view name, std::string_view help, int64_t value) {
        out +=
            fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, value);
    };
    counter("onair_event_transitions_total", "Lifecycle transitions since start-up.",
            f.transitions);
    counter("onair_event_retries_total", "Retries of a failed deploy, restart or teardown.",
            f.retries);
    counter("onair_event_failures_total", "Events that ended failed.", f.failures);
    counter("onair_event_channel_restarts_total", "Channels restarted after they died.",
            f.restarts);
    counter("onair_schedule_reloads_total", "Reloads of the schedule file.", f.reloads);
    counter("onair_event_webhooks_failed_total", "Transition webhooks given up.",
            f.webhooks_failed);
    return out;
}

EventsApi::EventsApi(Controller& controller, EventClips& clips, std::string api_token)
    : controller_(controller), clips_(clips), api_token_(std::move(api_token)) {}

Response EventsApi::operator()(const Request& request) const {
    auto response = route(request);
    if (request.method() == http::verb::head) origin::strip_body(response);
    return response;
}

Response EventsApi::route(const Request& request) const {
    auto target = request.target();
    auto parsed =
        boost::urls::parse_origin_form(boost::urls::string_view(target.data(), target.size()));
    if (!parsed) return origin::make_bad_request({"the request target is not an absolute path"});
    const std::string path(parsed->encoded_path());
    const auto method = request.method();
    const bool read = method == http::verb::get || method == http::verb::head;
    if (EventClips::handles(path)) return clips_(request);

    auto guard = [&](std::string_view allow) -> std::optional<Response> {
        if (method == http::verb::options) return origin::make_preflight(allow);
        if (allow.find(std::string_view(http::to_string(method))) == std::string_view::npos)
            return origin::make_not_allowed(allow);
        if (!read) return origin::refuse_without_bearer(request, api_token_);
        return std::nullopt;
    };
    auto json = [](http::status status, const boost::json::value& body) {
        return origin::make_json(status, body);
    };
    auto answer = [&](http::status ok, const Answer<EventView>& a) {
        if (!a) return refused(a.error());
        return json(ok, event_view_json(*a));
    };

    if (path == "/healthz") {
        if (auto r = guard(kReadAllow)) return *r;
        boost::json::object body;
        body["status"] = "ok";
        body["events"] = controller_.events().size();
        return json(http::status::ok, body);
    }
    if (path == "/metrics") {
        if (auto r = guard(kReadAllow)) return *r;
        return origin::make_response(
            http::status::ok, "text/plain; version=0.0.4", "no-store",
            origin::SharedBuffer::from_string(controller_metrics(controller_.figures())));
    }
    if (path == "/api/v1/reload") {
        if (auto r = guard("POST, OPTIONS")) return *r;
        auto changes = controller_.reload();
        if (!changes) return refused(changes.error());
        boost::json::array lines;
        for (const auto& l : *changes) lines.emplace_back(l);
        boost::json::object body;
        body["changes"] = std::move(lines);
        return json(http::status::ok, body);
    }
    if (path == "/api/v1/events") {
        if (auto r = guard("GET, HEAD, POST, OPTIONS")) return *r;
        if (method == http::verb::post)
            return answer(http::status::created, controller_.add(request.body()));
        boost::json::array list;
        for (const auto& v : controller_.events()) list.push_back(event_view_json(v));
        boost::json::object body;
        body["events"] = std::move(list);
        return json(http::status::ok, body);
    }
    auto s = origin::path_segments(path);
    if (s.size() >= 4 && s.size() <= 5 && s[0] == "api" && s[1] == "v1" && s[2] == "events") {
        const auto& id = s[3];
        if (!valid_event_id(id))
            return origin::make_bad_request(
                {"event ids are 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'"});
        if (s.size() == 4) {
            if (auto r = guard("GET, HEAD, PATCH, DELETE, OPTIONS")) return *r;
            if (method == http::verb::patch)
                return answer(http::status::ok, controller_.change(id, request.body()));
            if (method == http::verb::delete_)
                return answer(http::status::accepted, controller_.cancel(id));
            auto v = controller_.event(id);
            if (!v)
                return origin::make_error(http::status::not_found, "not_found",
                                          fmt::format("no event {}", id));
            auto body = event_view_json(*v);
            auto history = controller_.history(id);
            boost::json::array rows;
            if (history)
                for (const auto& h : *history) rows.push_back(history_json(h));
            body["history"] = std::move(rows);
            return json(http::status::ok, body);
        }
        if (s[4] == "teardown") {
            if (auto r = guard("POST, OPTIONS")) return *r;
            return answer(http::status::accepted, controller_.confirm_teardown(id));
        }
        if (s[4] == "extend") {
            if (auto r = guard("POST, OPTIONS")) return *r;
            return answer(http::status::ok, controller_.extend(id, request.body()));
        }
    }
    return origin::make_error(http::status::not_found, "not_found", "no such path");
}

}  // namespace onair::schedule
