#include "schedule/events_api.hpp"

#include "origin/status_report.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

namespace onair::schedule {
namespace {

namespace http = boost::beast::http;
using origin::Reply;
using origin::Request;
using origin::Response;

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
    : controller_(controller), clips_(clips), api_token_(std::move(api_token)) {
    using origin::Call;
    const origin::Guard control{&api_token_};
    auto json = [](http::status status, const boost::json::value& body) -> Reply {
        return origin::make_json(status, body);
    };
    auto answer = [json](http::status ok, const Answer<EventView>& a) -> Reply {
        if (!a) return refused(a.error());
        return json(ok, event_view_json(*a));
    };
    // An event's routes check its id before anything looks it up.
    auto event_route = [](auto act) {
        return [act](const Call& call) -> Reply {
            const std::string id(call.param(0));
            if (!valid_event_id(id))
                return origin::make_bad_request(
                    {"event ids are 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'"});
            return act(call, id);
        };
    };

    router_.add(http::verb::get, "/healthz", [this, json](const Call&) {
        boost::json::object body;
        body["status"] = "ok";
        body["events"] = controller_.events().size();
        return json(http::status::ok, body);
    });
    router_.add(http::verb::get, "/metrics", [this](const Call&) -> Reply {
        return origin::make_response(
            http::status::ok, origin::kMimePrometheus, "no-store",
            origin::SharedBuffer::from_string(controller_metrics(controller_.figures())));
    });
    router_.add(
        http::verb::post, "/api/v1/reload",
        [this, json](const Call&) -> Reply {
            auto changes = controller_.reload();
            if (!changes) return refused(changes.error());
            boost::json::array lines;
            for (const auto& l : *changes) lines.emplace_back(l);
            boost::json::object body;
            body["changes"] = std::move(lines);
            return json(http::status::ok, body);
        },
        control);
    router_.add(http::verb::get, "/api/v1/events", [this, json](const Call&) {
        boost::json::array list;
        for (const auto& v : controller_.events()) list.push_back(event_view_json(v));
        boost::json::object body;
        body["events"] = std::move(list);
        return json(http::status::ok, body);
    });
    router_.add(
        http::verb::post, "/api/v1/events",
        [this, answer](const Call& call) {
            return answer(http::status::created, controller_.add(call.request.body()));
        },
        control);
    router_.add(http::verb::get, "/api/v1/events/{id}",
                event_route([this, json](const Call&, const std::string& id) -> Reply {
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
                }));
    router_.add(http::verb::patch, "/api/v1/events/{id}",
                event_route([this, answer](const Call& call, const std::string& id) {
                    return answer(http::status::ok, controller_.change(id, call.request.body()));
                }),
                control);
    router_.add(http::verb::delete_, "/api/v1/events/{id}",
                event_route([this, answer](const Call&, const std::string& id) {
                    return answer(http::status::accepted, controller_.cancel(id));
                }),
                control);
    router_.add(http::verb::post, "/api/v1/events/{id}/teardown",
                event_route([this, answer](const Call&, const std::string& id) {
                    return answer(http::status::accepted, controller_.confirm_teardown(id));
                }),
                control);
    router_.add(http::verb::post, "/api/v1/events/{id}/extend",
                event_route([this, answer](const Call& call, const std::string& id) {
                    return answer(http::status::ok, controller_.extend(id, call.request.body()));
                }),
                control);
    clips_.add_routes(router_);
}

}  // namespace onair::schedule
