#pragma once
// A clip's record as JSON: what GET /clips/ID answers and what the
// harvest_job webhook carries. Pure functions; callable from any thread.
#include <boost/json/object.hpp>

#include <string>

#include "origin/clip_catalog.hpp"

namespace onair::origin {

// The record as the API and the webhook show it: times as ISO 8601, the
// duration in seconds, asset paths as /vod/ URLs.
boost::json::object clip_json(const ClipRecord& record);

// {"event": "harvest_job", "job": clip_json(record)}, serialized: the
// notification of a job that ended, shaped like the cloud packagers' own.
std::string harvest_job_notification(const ClipRecord& record);

}  // namespace onair::origin
