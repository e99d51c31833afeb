#include "origin/harvest_request.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <random>

#include "core/config.hpp"
#include "core/media_time.hpp"
#include "core/units.hpp"
#include "origin/clip_time.hpp"

namespace onair::origin {

namespace {

constexpr size_t kMaxTitle = 500;
constexpr size_t kMaxDescription = 5000;
constexpr size_t kMaxEvent = 200;
constexpr std::array<std::string_view, 8> kFields = {"id",    "start",       "end",   "last",
                                                     "title", "description", "event", "accuracy"};

std::string quoted(std::string_view text) {
    constexpr size_t kShown = 40;
    if (text.size() > kShown) return fmt::format("\"{}...\"", text.substr(0, kShown));
    return fmt::format("\"{}\"", text);
}

// A time field: ISO 8601 text with a zone, epoch seconds as text or number.
std::optional<int64_t> time_value(const boost::json::value& v) {
    if (v.is_string()) return parse_utc_time(v.as_string());
    // Below 1e12 s (tens of thousands of years): no overflow in ms.
    constexpr int64_t kMaxSeconds = 1'000'000'000'000;
    if (v.is_int64() && v.as_int64() >= 0 && v.as_int64() < kMaxSeconds) return v.as_int64() * 1000;
    if (v.is_double() && v.as_double() >= 0 && v.as_double() < 1e12)
        return std::llround(v.as_double() * 1000);
    return std::nullopt;
}

// "60s", "1m30s", "90" (seconds) or a number of seconds, in ms.
std::optional<int64_t> duration_value(const boost::json::value& v) {
    if (v.is_string()) {
        auto d = core::parse_duration(v.as_string());
        if (!d) return std::nullopt;
        return std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
    }
    constexpr int64_t kMaxSeconds = int64_t(1) << 40;  // no overflow in ms
    if (v.is_int64() && v.as_int64() > -kMaxSeconds && v.as_int64() < kMaxSeconds)
        return v.as_int64() * 1000;
    if (v.is_double() && std::abs(v.as_double()) < 1e12) return std::llround(v.as_double() * 1000);
    return std::nullopt;
}

bool has_control_characters(std::string_view text) {
    return std::any_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

// An optional text field (absent or null: nullopt); a problem goes to `reasons`.
std::optional<std::string> text_field(const boost::json::object& body, std::string_view key,
                                      size_t max, bool one_line,
                                      std::vector<std::string>& reasons) {
    const auto* v = body.if_contains(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_string()) {
        reasons.push_back(fmt::format("\"{}\" must be a string", key));
        return std::nullopt;
    }
    std::string_view text = v->as_string();
    if (text.empty()) {
        reasons.push_back(fmt::format("\"{}\" must not be empty", key));
        return std::nullopt;
    }
    if (text.size() > max) {
        reasons.push_back(fmt::format("\"{}\" is longer than {} bytes", key, max));
        return std::nullopt;
    }
    if (one_line && has_control_characters(text)) {
        reasons.push_back(fmt::format("\"{}\" must be one line without control characters", key));
        return std::nullopt;
    }
    return std::string(text);
}

}  // namespace

bool valid_clip_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

std::string generated_clip_id(int64_t now_ms) {
    thread_local std::mt19937_64 random{std::random_device{}()};
    // UTC time first, so generated ids sort by creation; then 32 random bits.
    std::string stamp = utc_text(now_ms);  // 2026-11-22T04:48:00.123Z
    std::string compact;
    for (char c : stamp.substr(0, 19))
        if (c != '-' && c != ':') compact += c;
    return fmt::format("{}Z-{:08x}", compact, uint32_t(random()));
}

std::expected<ClipRequest, std::vector<std::string>> parse_clip_request(
    const boost::json::value& value, const std::optional<DvrWindow>& window) {
    std::vector<std::string> reasons;
    if (!value.is_object())
        return std::unexpected(std::vector<std::string>{
            "the body must be a JSON object such as {\"start\": \"2026-11-22T04:48:00Z\", \"end\": "
            "\"2026-11-22T04:49:00Z\", \"title\": \"...\"}"});
    const auto& body = value.as_object();
    ClipRequest request;

    for (const auto& [key, unused] : body) {
        if (std::find(kFields.begin(), kFields.end(), key) != kFields.end()) continue;
        auto hint = core::closest_match(key, kFields);
        reasons.push_back(hint.empty() ? fmt::format("unknown field {}", quoted(key))
                                       : fmt::format("unknown field {} (did you mean \"{}\"?)",
                                                     quoted(key), hint));
    }

    if (const auto* id = body.if_contains("id"); id && !id->is_null()) {
        if (id->is_string() && valid_clip_id(id->as_string()))
            request.id = std::string(id->as_string());
        else
            reasons.push_back(
                "\"id\" must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-' (or left out)");
    }

    const auto* title = body.if_contains("title");
    if (!title || title->is_null())
        reasons.push_back("\"title\" is required");
    else if (auto t = text_field(body, "title", kMaxTitle, true, reasons))
        request.title = std::move(*t);
    request.description = text_field(body, "description", kMaxDescription, false, reasons);
    request.event = text_field(body, "event", kMaxEvent, true, reasons);

    if (const auto* a = body.if_contains("accuracy"); a && !a->is_null()) {
        auto accuracy = a->is_string() ? parse_clip_accuracy(a->as_string()) : std::nullopt;
        if (accuracy)
            request.accuracy = *accuracy;
        else
            reasons.push_back("\"accuracy\" must be \"segment\" (the default) or \"frame\"");
    }

    // The range: start and end, or the last so long of what the DVR holds.
    const auto* start = body.if_contains("start");
    const auto* end = body.if_contains("end");
    const auto* last = body.if_contains("last");
    std::optional<int64_t> start_ms, end_ms;
    if (last && (start || end)) {
        reasons.push_back("give either \"last\" or \"start\" and \"end\", not both");
    } else if (last) {
        auto length = duration_value(*last);
        if (!length || *length <= 0)
            reasons.push_back(
                "\"last\" must be a duration such as \"60s\", \"5m\" or 60 (seconds)");
        else if (*length > kMaxClipMs)
            reasons.push_back(
                fmt::format("\"last\" is {}; a clip lasts at most 24h",
                            core::format_duration(std::chrono::milliseconds(*length))));
        else if (window) {
            end_ms = core::media_to_utc_ms(window->last);
            start_ms = *end_ms - *length;
        }
    } else {
        constexpr std::string_view kTimeForm =
            "ISO 8601 with a zone (2026-11-22T04:48:00Z, 2026-11-22T05:48:00+01:00) or epoch "
            "seconds";
        if (!start)
            reasons.push_back("\"start\" is required (or \"last\", such as \"60s\")");
        else if (!(start_ms = time_value(*start)))
            reasons.push_back(fmt::format("\"start\" must be {}", kTimeForm));
        if (!end)
            reasons.push_back("\"end\" is required");
        else if (!(end_ms = time_value(*end)))
            reasons.push_back(fmt::format("\"end\" must be {}", kTimeForm));
    }

    if (start_ms && end_ms) {
        if (*start_ms >= *end_ms)
            reasons.push_back(fmt::format("\"start\" ({}) must be before \"end\" ({})",
                                          utc_text(*start_ms), utc_text(*end_ms)));
        else if (*end_ms - *start_ms > kMaxClipMs)
            reasons.push_back(
                fmt::format("the clip would last {}; at most 24h",
                            core::format_duration(std::chrono::milliseconds(*end_ms - *start_ms))));
    }
    if ((start_ms || end_ms || last) && !window) {
        reasons.push_back("the DVR holds no segments yet");
    } else if (window) {
        if (end_ms && core::utc_ms_to_media(*end_ms) > window->last)
            reasons.push_back(
                fmt::format("\"end\" ({}) is after the newest recorded segment, which ends at {}",
                            utc_text(*end_ms), utc_text(core::media_to_utc_ms(window->last))));
        if (start_ms && core::utc_ms_to_media(*start_ms) < window->first)
            reasons.push_back(fmt::format(
                "\"start\" ({}) is before the DVR window, whose oldest segment starts at {}",
                utc_text(*start_ms), utc_text(core::media_to_utc_ms(window->first))));
    }

    if (!reasons.empty()) return std::unexpected(std::move(reasons));
    request.start_ms = *start_ms;
    request.end_ms = *end_ms;
    return request;
}

}  // namespace onair::origin
