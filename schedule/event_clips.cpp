#include "schedule/event_clips.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "origin/router.hpp"

#include "core/log.hpp"

namespace onair::schedule {
namespace {

namespace http = boost::beast::http;
using origin::Reply;
using origin::Request;
using origin::Response;

}  // namespace

// One channel's catalog and clip store, read through the channel's own routes.
struct EventClips::Catalog {
    std::unique_ptr<origin::SqliteClipCatalog> catalog;
    std::unique_ptr<origin::HarvestService> service;  // never started: serves, cuts nothing
    std::unique_ptr<origin::ClipRoutes> routes;
};

EventClips::EventClips(const Controller& controller, std::string api_token)
    : controller_(controller), api_token_(std::move(api_token)) {}

EventClips::~EventClips() = default;

void EventClips::add_routes(origin::Router& router) {
    using origin::Call;
    router.add(http::verb::get, "/api/v1/clips",
               [this](const Call& call) { return list(call.request); });
    auto by_id = [this](const Call& call) { return of_clip(call.request, call.param(0)); };
    router.add(http::verb::get, "/api/v1/clips/{id}", by_id);
    router.add(http::verb::delete_, "/api/v1/clips/{id}", by_id);
    router.add(http::verb::get, "/vod/{id}/master.m3u8", by_id);
    router.add(http::verb::get, "/vod/{id}/clip.mp4", by_id);
    router.add(http::verb::get, "/vod/{id}/{rendition}/{file}", by_id);
}

EventClips::Catalog* EventClips::catalog(const std::string& channel, const std::string& data_dir) {
    std::lock_guard lock(mutex_);
    auto& slot = catalogs_[data_dir];
    if (slot) return slot.get();
    const std::filesystem::path data(data_dir);
    std::error_code ec;
    if (!std::filesystem::exists(data / "catalog.sqlite", ec)) {
        catalogs_.erase(data_dir);
        return nullptr;
    }
    auto opened = origin::SqliteClipCatalog::open(data / "catalog.sqlite");
    if (!opened) {
        log::warn("schedule", "clips of {}: {}", data_dir, opened.error().message);
        catalogs_.erase(data_dir);
        return nullptr;
    }
    auto c = std::make_unique<Catalog>();
    c->catalog = std::move(*opened);
    origin::HarvestOptions options;
    options.channel = channel;
    options.folder = data / "clips";
    c->service =
        std::make_unique<origin::HarvestService>(std::move(options), *c->catalog, nullptr, nullptr);
    c->routes = std::make_unique<origin::ClipRoutes>(*c->service, api_token_);
    slot = std::move(c);
    return slot.get();
}

// /api/v1/clips/ID or /vod/ID/...: the event's own channel first (its
// harvest clip has its id), then every channel in turn, each answering
// with its own routes (the token, too, is theirs to check).
Reply EventClips::of_clip(const Request& request, std::string_view clip_id) {
    const std::string id(clip_id);
    auto channels = controller_.channels_run();
    if (auto own = controller_.channel_of(id)) {
        std::erase(channels, *own);
        channels.insert(channels.begin(), *own);
    }
    std::optional<Reply> answer;
    for (const auto& [channel, data_dir] : channels) {
        auto* c = catalog(channel, data_dir);
        if (!c) continue;
        auto reply = (*c->routes)(request);
        if (reply.status() != unsigned(http::status::not_found)) return reply;
        if (!answer) answer = std::move(reply);
    }
    if (answer) return std::move(*answer);
    return origin::make_error(http::status::not_found, "not_found",
                              fmt::format("no clip {} in the catalog of any channel run", id));
}

// The list: the event's (or the channel's) catalog as its origin answers;
// otherwise every catalog's first page, merged newest first.
Reply EventClips::list(const Request& request) {
    std::optional<std::string> event, channel;
    auto target = request.target();
    auto parsed =
        boost::urls::parse_origin_form(boost::urls::string_view(target.data(), target.size()));
    if (parsed)
        for (auto param : parsed->params()) {
            if (param.key == "event" && param.has_value && !param.value.empty())
                event = std::string(param.value);
            if (param.key == "channel" && param.has_value && !param.value.empty())
                channel = std::string(param.value);
        }
    std::vector<std::pair<std::string, std::string>> chosen;
    if (event) {
        if (auto own = controller_.channel_of(*event))
            chosen.push_back(*own);
        else if (!controller_.event(*event))
            return origin::make_error(http::status::not_found, "not_found",
                                      fmt::format("no event {}", *event));
    } else {
        for (auto& c : controller_.channels_run())
            if (!channel || c.first == *channel) chosen.push_back(c);
    }
    std::vector<Catalog*> catalogs;
    for (const auto& [name, data_dir] : chosen)
        if (auto* c = catalog(name, data_dir)) catalogs.push_back(c);
    if (catalogs.size() == 1) return (*catalogs.front()->routes)(request);

    // Several catalogs (or none): each one's answer, merged.
    boost::json::array clips;
    for (auto* c : catalogs) {
        auto reply = (*c->routes)(request);
        if (reply.status() != unsigned(http::status::ok)) return reply;  // 400: the same for all
        const Response response = reply.to_message();
        boost::system::error_code ec;
        auto json = boost::json::parse(response.body().view(), ec);
        if (ec || !json.is_object()) continue;
        if (const auto* list = json.as_object().if_contains("clips"); list && list->is_array())
            for (const auto& clip : list->as_array()) clips.push_back(clip);
    }
    auto created = [](const boost::json::value& v) {
        const auto* c = v.is_object() ? v.as_object().if_contains("created") : nullptr;
        return c && c->is_string() ? std::string(c->as_string()) : std::string();
    };
    std::stable_sort(clips.begin(), clips.end(),
                     [&](const auto& a, const auto& b) { return created(a) > created(b); });
    boost::json::object json;
    json["clips"] = std::move(clips);
    json["next_cursor"] = nullptr;
    return origin::make_json(http::status::ok, json);
}

}  // namespace onair::schedule
