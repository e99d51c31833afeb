#pragma once
// The event controller's HTTP API:
//   GET|HEAD /healthz
//   GET|HEAD /api/v1/events                 every event: state, times, channel, playback URL,
//                                           the channel's status summary
//   POST     /api/v1/events                 a new event (the schedule file's keys, as JSON): 201
//   GET|HEAD /api/v1/events/ID              one event, with its history
//   PATCH    /api/v1/events/ID              change keys (times, channel, teardown, ...): 200
//   DELETE   /api/v1/events/ID              cancel it (tears it down if it runs): 202
//   POST     /api/v1/events/ID/teardown     the operator's confirmation: 202
//   POST     /api/v1/events/ID/extend       {"end": TIME} for an overrun: 200
//   POST     /api/v1/reload                 read the schedule file again: 200 + what changed
//   GET|HEAD /metrics                       events by state, transitions, retries, failures
//   GET|HEAD /api/v1/clips..., /vod/...     the clips of every channel an event ran
//                                           (schedule/event_clips.hpp)
// and OPTIONS (CORS preflight). Calls that change something need
// "Authorization: Bearer TOKEN" (ONAIR_API_TOKEN); without a token configured
// they are refused (403). Errors are JSON {"error", "reason", "reasons"}: 400
// with every problem, 404 for an unknown event, 409 for an event that can no
// longer change or a port clash. In: requests on any server thread. Out:
// complete responses. The controller and the clips must outlive it.
#include <string>

#include "origin/http_message.hpp"
#include "origin/router.hpp"
#include "origin/web_assets.hpp"
#include "schedule/controller.hpp"
#include "schedule/event_clips.hpp"

namespace onair::schedule {

class EventsApi {
  public:
    EventsApi(Controller& controller, EventClips& clips, std::string api_token);
    origin::Reply operator()(const origin::Request& request) const { return router_(request); }
    origin::Handler handler() const { return router_.handler(); }
    // The events page at "/" and its assets under /ui/ (before serving).
    void set_web(const origin::WebAssets& web) { web.add_routes(router_, "events.html"); }

  private:
    Controller& controller_;
    EventClips& clips_;
    std::string api_token_;
    origin::Router router_;
};

// An event as the API shows it (the list has no history).
boost::json::object event_view_json(const EventView& view);
std::string controller_metrics(const ControllerFigures& figures);

}  // namespace onair::schedule
