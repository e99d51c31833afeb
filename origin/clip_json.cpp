#include "origin/clip_json.hpp"

#include <boost/json.hpp>

#include "origin/clip_time.hpp"

namespace onair::origin {

boost::json::object clip_json(const ClipRecord& r) {
    auto optional_text = [](const std::optional<std::string>& v) -> boost::json::value {
        if (!v) return nullptr;
        return boost::json::string(*v);
    };
    auto url = [](const std::string& path) -> boost::json::value {
        if (path.empty()) return nullptr;
        return boost::json::string("/vod/" + path);
    };
    boost::json::object json;
    json["id"] = r.id;
    json["channel"] = r.channel;
    json["title"] = r.title;
    json["description"] = optional_text(r.description);
    json["event"] = optional_text(r.event);
    json["start"] = utc_text(r.start_ms);
    json["end"] = utc_text(r.end_ms);
    json["accuracy"] = to_string(r.accuracy);
    json["rendition"] = r.rendition;
    json["status"] = to_string(r.status);
    json["message"] = r.message.empty() ? boost::json::value(nullptr)
                                        : boost::json::value(boost::json::string(r.message));
    json["created"] = utc_text(r.created_ms);
    json["finished"] = r.finished_ms
                           ? boost::json::value(boost::json::string(utc_text(*r.finished_ms)))
                           : boost::json::value(nullptr);
    json["duration"] = r.duration_ms ? boost::json::value(double(*r.duration_ms) / 1000.0)
                                     : boost::json::value(nullptr);
    json["master"] = url(r.master);
    json["mp4"] = url(r.mp4);
    return json;
}

std::string harvest_job_notification(const ClipRecord& record) {
    boost::json::object json;
    json["event"] = "harvest_job";
    json["job"] = clip_json(record);
    return boost::json::serialize(json);
}

}  // namespace onair::origin
