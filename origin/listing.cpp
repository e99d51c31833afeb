#include "origin/listing.hpp"

#include <algorithm>
#include <cmath>

#include "core/media_time.hpp"

namespace onair::origin {

namespace {

int64_t bits_per_second(int64_t bytes, int64_t ticks) {
    if (ticks <= 0) return 0;
    return int64_t(std::llround(double(bytes) * 8 * core::kMediaClock / double(ticks)));
}

std::string map_uri(const std::string& init_id, const ListingWindow& window) {
    return init_id.empty() ? std::string() : core::init_file_name(init_id) + window.uri_suffix;
}

std::vector<PartEntry> part_entries(const std::vector<ListedPart>& parts) {
    std::vector<PartEntry> out;
    out.reserve(parts.size());
    for (const auto& p : parts)
        out.push_back({p.duration, p.independent, part_uri(p.sequence, p.index)});
    return out;
}

void add_low_latency(MediaPlaylist& playlist, const ListingWindow& window) {
    const LowLatencyWindow& w = *window.low_latency;
    const int64_t target = int64_t(playlist.target_duration) * core::kMediaClock;
    LowLatency ll;
    ll.part_target = w.part_target;
    ll.part_hold_back = std::max(3 * w.part_target, w.part_hold_back);
    ll.can_skip_until = 6 * target;
    // Parts of the segments that start within three target durations of
    // the playlist's end (the open segment's parts included).
    int64_t from_end = 0;
    for (const auto& p : w.open) from_end += p.duration;
    for (size_t i = playlist.segments.size(); i-- > 0;) {
        from_end += playlist.segments[i].duration;
        if (from_end > 3 * target) break;
        playlist.segments[i].parts = part_entries(window.segments[i].parts);
    }
    ll.open_parts = part_entries(w.open);
    ll.open_map_uri = map_uri(w.open_init_id, window);
    ll.open_discontinuity = w.open_gap && !w.open.empty();
    ll.open_utc_ms = w.open.empty() ? 0 : core::media_to_utc_ms(w.open_start);
    ll.preload_hint = part_uri(w.next.sequence, w.next.index);
    ll.reports = w.reports;
    if (w.skip) {
        // Leave out the head that ends before CAN-SKIP-UNTIL from the end.
        int64_t total = 0;
        for (const auto& s : playlist.segments) total += s.duration;
        int64_t end = 0;
        size_t skipped = 0;
        for (const auto& s : playlist.segments) {
            end += s.duration;
            if (total - end < ll.can_skip_until) break;
            ++skipped;
        }
        playlist.segments.erase(playlist.segments.begin(),
                                playlist.segments.begin() + long(skipped));
        ll.skipped = int64_t(skipped);
    }
    playlist.low_latency = std::move(ll);
}

}  // namespace

int target_duration(const ListingWindow& window) {
    int target = std::max({1, window.target_floor, rounded_seconds(window.configured_length)});
    for (const auto& s : window.segments) target = std::max(target, rounded_seconds(s.duration));
    return target;
}

MediaPlaylist media_playlist(const ListingWindow& window) {
    MediaPlaylist playlist;
    const auto& segments = window.segments;
    playlist.target_duration = target_duration(window);
    playlist.media_sequence =
        window.media_sequence.value_or(segments.empty() ? 0 : segments.front().sequence);
    playlist.discontinuity_sequence = window.discontinuity_sequence;
    switch (window.kind) {
        case WindowKind::live:
            break;
        case WindowKind::event:
            playlist.type = PlaylistType::event;
            playlist.start_at_beginning = true;  // players start EVENT playlists at the live edge
            break;
        case WindowKind::vod:
            playlist.type = PlaylistType::vod;
            playlist.end_list = true;
            break;
    }
    playlist.segments.reserve(segments.size());
    for (std::size_t i = 0; i < segments.size(); ++i) {
        const ListedSegment& s = segments[i];
        const bool skipped = i > 0 && s.sequence != segments[i - 1].sequence + 1;
        const bool starts_playlist = i == 0 && window.kind != WindowKind::live;
        playlist.segments.push_back({s.sequence,
                                     core::media_to_utc_ms(s.start),
                                     s.duration,
                                     !starts_playlist && (s.gap_before || skipped),
                                     segment_uri(s.sequence, s.container) + window.uri_suffix,
                                     map_uri(s.init_id, window),
                                     {}});
    }
    if (window.low_latency) add_low_latency(playlist, window);
    return playlist;
}

int64_t open_msn(const MediaPlaylist& playlist) {
    return playlist.media_sequence + playlist.low_latency.value_or(LowLatency{}).skipped +
           int64_t(playlist.segments.size());
}

int64_t peak_bitrate(const std::vector<ListedSegment>& segments, int target_seconds) {
    const int64_t target = int64_t(target_seconds) * core::kMediaClock;
    int64_t peak = 0;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        int64_t bytes = 0, ticks = 0;
        for (std::size_t j = i; j < segments.size() && 2 * ticks <= 3 * target; ++j) {
            bytes += segments[j].bytes;
            ticks += segments[j].duration;
            if (2 * ticks >= target && 2 * ticks <= 3 * target)
                peak = std::max(peak, bits_per_second(bytes, ticks));
        }
    }
    return peak > 0 ? peak : average_bitrate(segments);
}

int64_t average_bitrate(const std::vector<ListedSegment>& segments) {
    int64_t bytes = 0, ticks = 0;
    for (const auto& s : segments) {
        bytes += s.bytes;
        ticks += s.duration;
    }
    return bits_per_second(bytes, ticks);
}

Variant variant(const RenditionInfo& info, const ListingWindow& window) {
    Variant v;
    v.uri = info.uri;
    v.bandwidth = peak_bitrate(window.segments, target_duration(window));
    v.average_bandwidth = average_bitrate(window.segments);
    v.codecs = info.codecs;
    v.width = info.width;
    v.height = info.height;
    v.frame_rate = info.frame_rate;
    return v;
}

}  // namespace onair::origin
