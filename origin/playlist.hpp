#pragma once
// HLS playlist rendering (RFC 8216), pure: structs describing a media or a
// master playlist go in, the text comes out. No I/O, no clock, no locks; the
// store decides what is listed, this decides only how it is written.
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/container.hpp"
#include "core/units.hpp"

namespace onair::origin {

// One LL-HLS partial segment (EXT-X-PART).
struct PartEntry {
    int64_t duration = 0;  // 90 kHz ticks
    bool independent = false;
    std::string uri;  // "SEQ.K.m4s"
};

// One listed media segment.
struct MediaEntry {
    int64_t sequence = 0;
    int64_t utc_ms = 0;            // EXT-X-PROGRAM-DATE-TIME
    int64_t duration = 0;          // 90 kHz ticks
    bool discontinuity = false;    // EXT-X-DISCONTINUITY before this segment
    std::string uri;               // relative, e.g. "1234.ts"
    std::string map_uri;           // its init section (EXT-X-MAP), e.g. "init-<id>.mp4"; ts: empty
    std::vector<PartEntry> parts;  // LL-HLS: listed before it (only the last segments have them)
};

// Another rendition's newest, for EXT-X-RENDITION-REPORT.
struct RenditionReport {
    std::string uri;  // relative, e.g. "../480p/index.m3u8"
    int64_t last_msn = 0;
    int last_part = -1;  // -1: none of LAST-MSN's parts yet
};

// What a Low-Latency HLS media playlist adds (RFC 8216bis 4.4.3.7/8, 4.4.4.9,
// 4.4.5.2/3).
struct LowLatency {
    int64_t part_target = 0;               // ticks: EXT-X-PART-INF:PART-TARGET
    int64_t part_hold_back = 0;            // ticks: at least 3 part targets
    int64_t can_skip_until = 0;            // ticks: 0 leaves out CAN-SKIP-UNTIL
    std::string open_map_uri;              // the open segment's init section
    bool open_discontinuity = false;       // a gap before the open segment
    int64_t open_utc_ms = 0;               // its PROGRAM-DATE-TIME; 0: none yet
    std::vector<PartEntry> open_parts;     // of the segment in progress
    std::string preload_hint;              // URI of the next part
    std::vector<RenditionReport> reports;  // of the other renditions
    int64_t skipped = 0;                   // a delta update: segments left out (EXT-X-SKIP)
};

enum class PlaylistType { none, event, vod };

struct MediaPlaylist {
    int target_duration = 0;  // seconds
    int64_t media_sequence = 0;
    int64_t discontinuity_sequence = 0;  // written only when non-zero
    PlaylistType type = PlaylistType::none;
    bool end_list = false;
    bool start_at_beginning = false;  // EXT-X-START:TIME-OFFSET=0: play from the first segment
    std::vector<MediaEntry> segments;
    std::optional<LowLatency> low_latency;
};

// One EXT-X-STREAM-INF entry. Attributes with a zero/empty value are left out.
struct Variant {
    std::string uri;  // relative, e.g. "720p/index.m3u8"
    int64_t bandwidth = 0;
    int64_t average_bandwidth = 0;
    std::string codecs;
    int width = 0;
    int height = 0;
    core::Rational frame_rate;
};

std::string render_media_playlist(const MediaPlaylist& playlist);
std::string render_master_playlist(const std::vector<Variant>& variants);

// The URI of segment `sequence` in a media playlist: "<SEQ>.ts", "<SEQ>.m4s".
std::string segment_uri(int64_t sequence, core::Container container = core::Container::ts);
// The URI of part `k` of segment `sequence`: "<SEQ>.<K>.m4s".
std::string part_uri(int64_t sequence, int k);
// Its inverse (same spelling rules, K at most 3 digits); nullopt when `name` is none.
struct PartName {
    int64_t sequence = 0;
    int index = 0;
};
std::optional<PartName> parse_part_name(std::string_view name);
// What a segment's name gives, its inverse: one spelling per number (no
// sign, no leading zeros), at most kMaxSequenceDigits digits.
struct SegmentName {
    int64_t sequence = 0;
    core::Container container = core::Container::ts;
};
enum class SegmentNameProblem { malformed, too_long };
inline constexpr std::size_t kMaxSequenceDigits = 18;
std::expected<SegmentName, SegmentNameProblem> parse_segment_name(std::string_view name);

// EXTINF as written: milliseconds, rounded half up from 90 kHz ticks.
int64_t extinf_ms(int64_t duration_ticks);
// "6.000", "5.967"
std::string format_extinf(int64_t duration_ticks);
// What a client gets rounding EXTINF (as written) to the nearest integer.
int rounded_seconds(int64_t duration_ticks);
// "2026-11-22T04:48:00.123Z"
std::string format_program_date_time(int64_t utc_ms);

// EXT-X-TARGETDURATION of one live rendition: the configured segment length
// rounded, raised to the rounded EXTINF of any segment observed. Never goes
// down, so it stays constant over the playlist's life once segments run true.
class TargetDuration {
  public:
    explicit TargetDuration(int64_t configured_ticks);
    void observe(int64_t duration_ticks);
    int seconds() const { return seconds_; }

  private:
    int seconds_ = 0;
};

}  // namespace onair::origin
