#include "origin/playlist.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <iterator>

#include "core/media_time.hpp"

namespace onair::origin {

namespace {

constexpr int64_t kTicksPerMs = core::kMediaClock / 1000;

const char* type_name(PlaylistType type) {
    switch (type) {
        case PlaylistType::event:
            return "EVENT";
        case PlaylistType::vod:
            return "VOD";
        case PlaylistType::none:
            break;
    }
    return "";
}

}  // namespace

int64_t extinf_ms(int64_t duration_ticks) {
    return core::floor_div(duration_ticks + kTicksPerMs / 2, kTicksPerMs);
}

std::string format_extinf(int64_t duration_ticks) {
    int64_t ms = std::max<int64_t>(0, extinf_ms(duration_ticks));
    return fmt::format("{}.{:03}", ms / 1000, ms % 1000);
}

int rounded_seconds(int64_t duration_ticks) {
    int64_t ms = std::max<int64_t>(0, extinf_ms(duration_ticks));
    return int((ms + 500) / 1000);
}

std::string format_program_date_time(int64_t utc_ms) {
    using namespace std::chrono;
    sys_time<milliseconds> t{milliseconds(utc_ms)};
    auto day = floor<days>(t);
    year_month_day ymd{day};
    hh_mm_ss<milliseconds> hms{t - day};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", int(ymd.year()),
                       unsigned(ymd.month()), unsigned(ymd.day()), hms.hours().count(),
                       hms.minutes().count(), hms.seconds().count(), hms.subseconds().count());
}

std::string segment_uri(int64_t sequence, core::Container container) {
    return fmt::format("{}{}", sequence, core::segment_extension(container));
}

std::expected<SegmentName, SegmentNameProblem> parse_segment_name(std::string_view name) {
    SegmentName parsed;
    std::string_view digits;
    for (core::Container c : {core::Container::ts, core::Container::fmp4}) {
        const auto extension = core::segment_extension(c);
        if (name.ends_with(extension)) {
            parsed.container = c;
            digits = name.substr(0, name.size() - extension.size());
        }
    }
    if (digits.empty() || (digits.size() > 1 && digits[0] == '0') ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::unexpected(SegmentNameProblem::malformed);
    if (digits.size() > kMaxSequenceDigits) return std::unexpected(SegmentNameProblem::too_long);
    std::from_chars(digits.data(), digits.data() + digits.size(), parsed.sequence);
    return parsed;
}

std::string part_uri(int64_t sequence, int k) {
    return fmt::format("{}.{}.m4s", sequence, k);
}

std::optional<PartName> parse_part_name(std::string_view name) {
    constexpr std::string_view kExtension = ".m4s";
    if (!name.ends_with(kExtension)) return std::nullopt;
    name.remove_suffix(kExtension.size());
    const auto dot = name.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    auto plain = [](std::string_view digits, std::size_t max) {
        return !digits.empty() && digits.size() <= max &&
               (digits.size() == 1 || digits[0] != '0') &&
               std::all_of(digits.begin(), digits.end(),
                           [](char c) { return c >= '0' && c <= '9'; });
    };
    const auto sequence = name.substr(0, dot), index = name.substr(dot + 1);
    if (!plain(sequence, kMaxSequenceDigits) || !plain(index, 3)) return std::nullopt;
    PartName out;
    std::from_chars(sequence.data(), sequence.data() + sequence.size(), out.sequence);
    std::from_chars(index.data(), index.data() + index.size(), out.index);
    return out;
}

namespace {

// "0.500": seconds with three decimals, from 90 kHz ticks.
std::string seconds_text(int64_t ticks) {
    return format_extinf(ticks);
}

void render_parts(std::back_insert_iterator<std::string> it, const std::vector<PartEntry>& parts) {
    for (const auto& p : parts)
        fmt::format_to(it, "#EXT-X-PART:DURATION={},URI=\"{}\"{}\n", seconds_text(p.duration),
                       p.uri, p.independent ? ",INDEPENDENT=YES" : "");
}

}  // namespace

std::string render_media_playlist(const MediaPlaylist& playlist) {
    std::string out;
    out.reserve(128 + playlist.segments.size() * 96);
    auto it = std::back_inserter(out);
    // EXT-X-MAP in a playlist of media segments needs version 6 (RFC 8216 7).
    const bool mapped = std::any_of(playlist.segments.begin(), playlist.segments.end(),
                                    [](const MediaEntry& s) { return !s.map_uri.empty(); });
    const auto& ll = playlist.low_latency;
    // EXT-X-SKIP needs version 9 (RFC 8216bis 7).
    const int version = ll && ll->skipped > 0 ? 9 : mapped ? 6 : 3;
    fmt::format_to(it, "#EXTM3U\n#EXT-X-VERSION:{}\n", version);
    fmt::format_to(it, "#EXT-X-TARGETDURATION:{}\n", playlist.target_duration);
    if (ll) {
        out += "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES";
        if (ll->can_skip_until > 0)
            fmt::format_to(it, ",CAN-SKIP-UNTIL={}", seconds_text(ll->can_skip_until));
        fmt::format_to(it, ",PART-HOLD-BACK={}\n", seconds_text(ll->part_hold_back));
        fmt::format_to(it, "#EXT-X-PART-INF:PART-TARGET={}\n", seconds_text(ll->part_target));
    }
    fmt::format_to(it, "#EXT-X-MEDIA-SEQUENCE:{}\n", playlist.media_sequence);
    if (playlist.discontinuity_sequence != 0)
        fmt::format_to(it, "#EXT-X-DISCONTINUITY-SEQUENCE:{}\n", playlist.discontinuity_sequence);
    if (playlist.type != PlaylistType::none)
        fmt::format_to(it, "#EXT-X-PLAYLIST-TYPE:{}\n", type_name(playlist.type));
    out += "#EXT-X-INDEPENDENT-SEGMENTS\n";
    if (playlist.start_at_beginning) out += "#EXT-X-START:TIME-OFFSET=0\n";
    if (ll && ll->skipped > 0) fmt::format_to(it, "#EXT-X-SKIP:SKIPPED-SEGMENTS={}\n", ll->skipped);
    const std::string* map = nullptr;  // the EXT-X-MAP in force
    for (const auto& s : playlist.segments) {
        if (s.discontinuity) out += "#EXT-X-DISCONTINUITY\n";
        // Stated again after a discontinuity: a player may reset there.
        if (!s.map_uri.empty() && (!map || *map != s.map_uri || s.discontinuity)) {
            fmt::format_to(it, "#EXT-X-MAP:URI=\"{}\"\n", s.map_uri);
            map = &s.map_uri;
        }
        fmt::format_to(it, "#EXT-X-PROGRAM-DATE-TIME:{}\n", format_program_date_time(s.utc_ms));
        render_parts(it, s.parts);
        fmt::format_to(it, "#EXTINF:{},\n{}\n", format_extinf(s.duration), s.uri);
    }
    if (ll) {
        // The segment in progress: its parts so far, then the next one's hint.
        if (!ll->open_parts.empty()) {
            if (ll->open_discontinuity) out += "#EXT-X-DISCONTINUITY\n";
            if (!ll->open_map_uri.empty() &&
                (!map || *map != ll->open_map_uri || ll->open_discontinuity))
                fmt::format_to(it, "#EXT-X-MAP:URI=\"{}\"\n", ll->open_map_uri);
            if (ll->open_utc_ms > 0)
                fmt::format_to(it, "#EXT-X-PROGRAM-DATE-TIME:{}\n",
                               format_program_date_time(ll->open_utc_ms));
            render_parts(it, ll->open_parts);
        }
        if (!ll->preload_hint.empty())
            fmt::format_to(it, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"{}\"\n", ll->preload_hint);
        for (const auto& r : ll->reports) {
            fmt::format_to(it, "#EXT-X-RENDITION-REPORT:URI=\"{}\",LAST-MSN={}", r.uri, r.last_msn);
            if (r.last_part >= 0) fmt::format_to(it, ",LAST-PART={}", r.last_part);
            out += "\n";
        }
    }
    if (playlist.end_list) out += "#EXT-X-ENDLIST\n";
    return out;
}

std::string render_master_playlist(const std::vector<Variant>& variants) {
    std::string out = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n";
    auto it = std::back_inserter(out);
    for (const auto& v : variants) {
        fmt::format_to(it, "#EXT-X-STREAM-INF:BANDWIDTH={}", v.bandwidth);
        if (v.average_bandwidth > 0)
            fmt::format_to(it, ",AVERAGE-BANDWIDTH={}", v.average_bandwidth);
        if (!v.codecs.empty()) fmt::format_to(it, ",CODECS=\"{}\"", v.codecs);
        if (v.width > 0 && v.height > 0) fmt::format_to(it, ",RESOLUTION={}x{}", v.width, v.height);
        if (v.frame_rate.valid()) fmt::format_to(it, ",FRAME-RATE={:.3f}", v.frame_rate.value());
        fmt::format_to(it, "\n{}\n", v.uri);
    }
    return out;
}

TargetDuration::TargetDuration(int64_t configured_ticks)
    : seconds_(std::max(1, rounded_seconds(configured_ticks))) {}

void TargetDuration::observe(int64_t duration_ticks) {
    seconds_ = std::max(seconds_, rounded_seconds(duration_ticks));
}

}  // namespace onair::origin
