#pragma once
// Clips outlive their channel: the controller answers the clip routes of
// every channel an event ran (GET /api/v1/clips?event=&channel=...,
// GET /api/v1/clips/ID, DELETE /api/v1/clips/ID, /vod/ID/...) from each
// channel's own catalog and clip store (DATA/catalog.sqlite, DATA/clips/),
// with the same routes and answers as the channel's origin (ClipRoutes).
// New clips are cut at a running channel's origin; here POST is refused.
//
// A request names its catalog: `event=` (the event's channel), the clip id
// (an event's harvest clip has the event's id; else each catalog is asked in
// turn), `channel=`; a list without either merges every catalog's answer,
// newest first. Catalogs are opened on first use and kept; SQLite's WAL lets
// the channel write while the controller reads. In: requests on any server
// thread. Out: responses. Owns the catalogs; the controller outlives it.
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "origin/clip_catalog.hpp"
#include "origin/clip_routes.hpp"
#include "origin/harvest.hpp"
#include "origin/http_message.hpp"
#include "origin/router.hpp"
#include "schedule/controller.hpp"

namespace onair::schedule {

class EventClips {
  public:
    EventClips(const Controller& controller, std::string api_token);
    ~EventClips();

    // Puts the clip routes on `router` (the controller's); this object must outlive it.
    void add_routes(origin::Router& router);

  private:
    struct Catalog;
    Catalog* catalog(const std::string& channel, const std::string& data_dir);
    origin::Reply list(const origin::Request& request);
    origin::Reply of_clip(const origin::Request& request, std::string_view id);

    const Controller& controller_;
    std::string api_token_;
    std::mutex mutex_;
    std::map<std::string, std::unique_ptr<Catalog>> catalogs_;  // by data folder
};

}  // namespace onair::schedule
