#include "origin/clip_routes.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <limits>

#include "core/log.hpp"
#include "origin/clip_asset.hpp"
#include "origin/playlist.hpp"

namespace onair::origin {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kLog = "harvest";
constexpr std::string_view kVodPlaylistCache = "max-age=60";
constexpr std::string_view kVodMediaCache = "max-age=86400";
constexpr std::string_view kIdRule =
    "clip ids are 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'";

Response not_found(std::string_view reason) {
    return make_error(http::status::not_found, "not_found", reason);
}

Response bad_request(std::string reason) {
    return make_bad_request({std::move(reason)});
}

Response internal_error(std::string_view what) {
    return make_error(http::status::internal_server_error, "internal_error", what);
}

bool valid_rendition_name(std::string_view name) {
    return name.size() <= 32 && valid_clip_id(name);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Digits as a number; past uint64 it saturates (a huge offset is simply past the end).
std::optional<uint64_t> byte_position(std::string_view text) {
    if (text.empty() ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) return std::numeric_limits<uint64_t>::max();
    return value;
}

}  // namespace

std::optional<ByteRange> parse_byte_range(std::string_view header, std::size_t size) {
    header = trim(header);
    constexpr std::string_view kUnit = "bytes=";
    if (header.size() < kUnit.size()) return std::nullopt;
    for (size_t i = 0; i < kUnit.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(header[i])) != kUnit[i]) return std::nullopt;
    std::string_view spec = trim(header.substr(kUnit.size()));
    if (spec.find(',') != std::string_view::npos) return std::nullopt;  // several: send it all
    auto dash = spec.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    auto first_text = trim(spec.substr(0, dash));
    auto last_text = trim(spec.substr(dash + 1));
    const ByteRange unsatisfiable{false, 0, 0};
    if (first_text.empty()) {  // -n: the last n bytes
        auto n = byte_position(last_text);
        if (!n) return std::nullopt;
        if (*n == 0 || size == 0) return unsatisfiable;
        const auto count = std::min<uint64_t>(*n, size);
        return ByteRange{true, size_t(size - count), size - 1};
    }
    auto first = byte_position(first_text);
    if (!first) return std::nullopt;
    std::optional<uint64_t> last;
    if (!last_text.empty()) {
        last = byte_position(last_text);
        if (!last || *last < *first) return std::nullopt;  // invalid: ignored (RFC 9110 14.2)
    }
    if (*first >= size) return unsatisfiable;
    const uint64_t end = last ? std::min<uint64_t>(*last, size - 1) : size - 1;
    return ByteRange{true, size_t(*first), size_t(end)};
}

ClipRoutes::ClipRoutes(HarvestService& service, std::string api_token)
    : service_(service), api_token_(std::move(api_token)) {
    add_routes(router_);
}

void ClipRoutes::add_routes(Router& router) const {
    const Guard control{&api_token_};
    auto id_checked = [](std::string_view id, auto answer) -> Reply {
        // The id first: nothing below may see one that could name another folder.
        if (!valid_clip_id(id)) return bad_request(std::string(kIdRule));
        return answer();
    };
    router.add(http::verb::get, "/api/v1/clips",
               [this](const Call& call) { return list(call.request, nullptr); });
    router.add(http::verb::get, "/api/v1/clips/{id}", [this, id_checked](const Call& call) {
        return id_checked(call.param(0), [&] { return status(std::string(call.param(0))); });
    });
    router.add(
        http::verb::delete_, "/api/v1/clips/{id}",
        [this, id_checked](const Call& call) {
            return id_checked(call.param(0), [&] { return remove(std::string(call.param(0))); });
        },
        control);
    router.add(http::verb::get, "/api/v1/channels/{channel}/clips", [this](const Call& call) {
        const std::string channel(call.param(0));
        return list(call.request, &channel);
    });
    router.add(
        http::verb::post, "/api/v1/channels/{channel}/clips",
        [this](const Call& call) { return create(call.request, std::string(call.param(0))); },
        control);
    auto vod_file = [this, id_checked](VodFile kind) {
        return [this, id_checked, kind](const Call& call) {
            return id_checked(call.param(0), [&] { return vod(call, kind); });
        };
    };
    router.add(http::verb::get, "/vod/{id}/master.m3u8", vod_file(VodFile::master));
    router.add(http::verb::get, "/vod/{id}/clip.mp4", vod_file(VodFile::mp4));
    router.add(http::verb::get, "/vod/{id}/{rendition}/{file}", vod_file(VodFile::rendition));
}

Response ClipRoutes::create(const Request& request, const std::string& channel) const {
    if (channel != service_.options().channel)
        return not_found(fmt::format("unknown channel '{}'", channel));
    boost::system::error_code ec;
    auto body = boost::json::parse(request.body(), ec);
    if (ec) return bad_request(fmt::format("the body is not JSON: {}", ec.message()));
    auto clip = service_.submit(body);
    if (!clip) {
        const auto& refusal = clip.error();
        const std::string reason = refusal.reasons.empty() ? "" : refusal.reasons.front();
        switch (refusal.kind) {
            case SubmitRefusal::Kind::invalid:
                return make_bad_request(refusal.reasons);
            case SubmitRefusal::Kind::duplicate:
                return make_error(http::status::conflict, "conflict", reason);
            case SubmitRefusal::Kind::unavailable: {
                auto response = make_error(http::status::service_unavailable, "not_ready", reason);
                response.set(http::field::retry_after, "5");
                return response;
            }
            case SubmitRefusal::Kind::busy: {
                auto response =
                    make_error(http::status::too_many_requests, "too_many_requests", reason);
                response.set(http::field::retry_after, "10");
                return response;
            }
            case SubmitRefusal::Kind::no_space:
                return make_error(http::status::insufficient_storage, "insufficient_storage",
                                  reason);
            case SubmitRefusal::Kind::error:
                break;
        }
        return internal_error(reason);
    }
    auto response = make_json(http::status::accepted, clip_json(*clip));
    response.set(http::field::location, fmt::format("/api/v1/clips/{}", clip->id));
    return response;
}

Response ClipRoutes::list(const Request& request, const std::string* channel) const {
    if (channel && *channel != service_.options().channel)
        return not_found(fmt::format("unknown channel '{}'", *channel));
    auto target = request.target();
    auto parsed =
        boost::urls::parse_origin_form(boost::urls::string_view(target.data(), target.size()));
    if (!parsed)
        return bad_request(
            "the query is not a valid URL query (percent-encode what is not "
            "letters, digits or -._~)");
    ClipQuery query;
    if (channel) query.channel = *channel;
    std::vector<std::string> reasons;
    for (auto param : parsed->params()) {
        const std::string key(param.key);
        const std::string value = param.has_value ? std::string(param.value) : std::string();
        if (value.empty() && key != "cursor") continue;  // "?event=&since=": not given
        if (key == "channel") {
            if (channel && value != *channel)
                reasons.push_back(
                    fmt::format("channel={} does not match the path's channel", value));
            query.channel = value;
        } else if (key == "event") {
            query.event = value;
        } else if (key == "status") {
            if (!(query.status = parse_clip_status(value)))
                reasons.push_back("status must be in_progress, succeeded or failed");
        } else if (key == "since" || key == "until") {
            // An unescaped "+01:00" arrives as " 01:00" (form decoding).
            std::string time = value;
            std::replace(time.begin(), time.end(), ' ', '+');
            auto t = parse_utc_time(time);
            if (!t)
                reasons.push_back(fmt::format(
                    "{} must be ISO 8601 with a zone (2026-11-22T04:48:00Z) or epoch seconds",
                    key));
            (key == "since" ? query.since_ms : query.until_ms) = t;
        } else if (key == "limit") {
            int limit = 0;
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
            if (ec != std::errc() || end != value.data() + value.size() || limit < 1 ||
                limit > ClipQuery::kMaxLimit)
                reasons.push_back(fmt::format("limit must be 1 to {}", ClipQuery::kMaxLimit));
            else
                query.limit = limit;
        } else if (key == "cursor") {
            if (!value.empty() && !(query.after = ClipCursor::decode(value)))
                reasons.push_back("cursor is not one this server gave (use next_cursor as it is)");
        } else {
            reasons.push_back(fmt::format(
                "unknown parameter \"{}\" (channel, event, status, since, until, limit, cursor)",
                key.substr(0, 40)));
        }
    }
    if (!reasons.empty()) return make_bad_request(reasons);
    auto page = service_.catalog().list(query);
    if (!page) {
        log::error(kLog, "clip catalog: {}", page.error().message);
        return internal_error("the clip catalog cannot be read");
    }
    boost::json::array clips;
    for (const auto& clip : page->clips) clips.push_back(clip_json(clip));
    boost::json::object json;
    json["clips"] = std::move(clips);
    json["next_cursor"] = page->next ? boost::json::value(boost::json::string(page->next->encode()))
                                     : boost::json::value(nullptr);
    return make_json(http::status::ok, json);
}

Response ClipRoutes::status(const std::string& id) const {
    auto clip = service_.catalog().get(id);
    if (!clip) {
        log::error(kLog, "clip catalog: {}", clip.error().message);
        return internal_error("the clip catalog cannot be read");
    }
    if (!*clip) return not_found(fmt::format("no clip \"{}\"", id));
    return make_json(http::status::ok, clip_json(**clip));
}

Response ClipRoutes::remove(const std::string& id) const {
    auto removed = service_.remove(id);
    if (!removed) {
        log::error(kLog, "clip {}: cannot delete: {}", id, removed.error().message);
        return internal_error("the clip cannot be deleted now");
    }
    switch (*removed) {
        case HarvestService::Removal::not_found:
            return not_found(fmt::format("no clip \"{}\"", id));
        case HarvestService::Removal::running:
            return make_error(http::status::conflict, "conflict",
                              fmt::format("clip \"{}\" is still being cut; delete it once it "
                                          "has succeeded or failed",
                                          id));
        case HarvestService::Removal::removed:
            break;
    }
    Response response{http::status::no_content, 11};
    response.set(http::field::access_control_allow_origin, "*");
    response.set(http::field::cache_control, "no-store");
    return response;
}

Response ClipRoutes::vod(const Call& call, VodFile kind) const {
    // Which file, from names checked against fixed forms only.
    const std::string id(call.param(0));
    std::string relative, content_type;
    std::string_view cache = kVodMediaCache;
    bool ranges = true;
    if (kind == VodFile::master) {
        relative = kClipMaster;
        content_type = kMimePlaylist;
        cache = kVodPlaylistCache;
        ranges = false;
    } else if (kind == VodFile::mp4) {
        relative = kClipMp4;
        content_type = kMimeMp4;
    } else {
        const std::string_view rendition = call.param(1), file = call.param(2);
        const bool playlist = file == "index.m3u8";
        const bool init = !core::parse_init_file_name(file).empty();
        const auto segment = parse_segment_name(file);
        if (!valid_rendition_name(rendition) || (!playlist && !init && !segment))
            return not_found("no such path");
        // A service that only serves (the event controller's, ladder empty)
        // leaves it to the asset: a rendition it lacks is a missing file.
        const auto& ladder = service_.options().ladder;
        if (!ladder.empty() && std::none_of(ladder.begin(), ladder.end(), [&](const core::Rung& r) {
                return r.name == rendition;
            }))
            return not_found(fmt::format("no rendition '{}'", rendition));
        relative = fmt::format("{}/{}", rendition, file);
        content_type = playlist ? kMimePlaylist
                       : init   ? kMimeMp4
                                : segment_media_type(segment->container);
        cache = playlist ? kVodPlaylistCache : kVodMediaCache;
        ranges = !playlist;
    }
    const Request& request = call.request;

    auto clip = service_.catalog().get(id);
    if (!clip) {
        log::error(kLog, "clip catalog: {}", clip.error().message);
        return internal_error("the clip catalog cannot be read");
    }
    if (!*clip) return not_found(fmt::format("no clip \"{}\"", id));
    if ((*clip)->status != ClipStatus::succeeded)
        return not_found(fmt::format("clip \"{}\" is {}", id, to_string((*clip)->status)));

    auto file = SharedBuffer::map_file(service_.asset_folder(id) / relative);
    if (!file) {
        if (file.error().code == ENOENT || file.error().code == ENOTDIR)
            return not_found(fmt::format("clip \"{}\" has no {}", id, relative));
        log::error(kLog, "{}", file.error().message);
        return internal_error("the file cannot be read");
    }
    const std::size_t size = file->size();
    auto header = request[http::field::range];
    std::optional<ByteRange> range;
    if (ranges && !header.empty()) range = parse_byte_range(header, size);
    if (range && !range->satisfiable) {
        auto response = make_error(http::status::range_not_satisfiable, "range_not_satisfiable",
                                   fmt::format("the file has {} bytes", size));
        response.set(http::field::content_range, fmt::format("bytes */{}", size));
        response.set(http::field::accept_ranges, "bytes");
        return response;
    }
    Response response =
        range ? make_response(http::status::partial_content, content_type, cache,
                              file->slice(range->first, range->last - range->first + 1))
              : make_response(http::status::ok, content_type, cache, std::move(*file));
    if (range)
        response.set(http::field::content_range,
                     fmt::format("bytes {}-{}/{}", range->first, range->last, size));
    if (ranges) response.set(http::field::accept_ranges, "bytes");
    return response;
}

}  // namespace onair::origin
