#pragma once
// A clip request as POST /clips sends it: its JSON body checked against what
// the DVR holds, every problem at once, and the ids of clips. Pure
// functions; callable from any thread.
#include <boost/json/value.hpp>

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "origin/clip_catalog.hpp"

namespace onair::origin {

inline constexpr int64_t kMaxClipMs = 24 * 3600 * 1000;

// [A-Za-z0-9_-]{1,64}: safe as a folder name and in a URL as it is.
bool valid_clip_id(std::string_view id);

// An id for a clip the request named none: its UTC time (so generated ids
// sort by creation), then 32 random bits ("20261122T044800Z-1a2b3c4d").
std::string generated_clip_id(int64_t now_ms);

// Media time [first, last) the DVR holds on every rendition.
struct DvrWindow {
    int64_t first = 0;
    int64_t last = 0;
};

// A request that passed every check; times in UTC ms.
struct ClipRequest {
    std::optional<std::string> id;
    int64_t start_ms = 0;
    int64_t end_ms = 0;
    std::string title;
    std::optional<std::string> description;
    std::optional<std::string> event;
    ClipAccuracy accuracy = ClipAccuracy::segment;
};

// Parses POST's body {id?, start, end | last, title, description?, event?,
// accuracy?} and checks it against `window` (nullopt: the DVR holds nothing
// yet). Out: the request, or every problem found, each a sentence.
std::expected<ClipRequest, std::vector<std::string>> parse_clip_request(
    const boost::json::value& body, const std::optional<DvrWindow>& window);

}  // namespace onair::origin
