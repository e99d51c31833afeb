#pragma once
// The one listing model: what a window of segments is as HLS. The live
// store (a sliding window), time-shift (EVENT and VOD windows from the DVR)
// and clips (VOD assets) each gather the segments a window holds; this turns
// them into a media playlist and a rendition into its master entry, with the
// same rules for all three:
//   - a discontinuity wherever media is missing before a segment (a gap the
//     source marked, or a sequence number skipped), except before the first
//     segment of an EVENT or VOD window, which starts the playlist; a live
//     window keeps the marks of the segments it still lists (their count
//     when they leave it is the DISCONTINUITY-SEQUENCE, kept by the store);
//   - EXT-X-TARGETDURATION: the largest rounded EXTINF listed, and at least
//     the configured segment length (a live window passes the value it has
//     used so far: it may never change, RFC 8216 6.2.1);
//   - BANDWIDTH: the peak segment bit rate (RFC 8216 4.3.4.2 / 8216bis
//     4.4.6.2): the largest bit rate of any run of contiguous listed
//     segments lasting 0.5 to 1.5 target durations (the whole window when
//     no run is that long); AVERAGE-BANDWIDTH: all listed bits over all
//     listed time.
// Pure: no I/O, no clock, no locks.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/units.hpp"
#include "origin/playlist.hpp"

namespace onair::origin {

// One LL-HLS part (of a listed segment, or of the one in progress).
struct ListedPart {
    int64_t sequence = 0;  // of its segment
    int index = 0;
    int64_t duration = 0;  // ticks
    bool independent = false;
};

// One segment a window holds.
struct ListedSegment {
    int64_t sequence = 0;     // names its URI
    int64_t start = 0;        // media time of its first frame (PROGRAM-DATE-TIME)
    int64_t duration = 0;     // 90 kHz ticks
    int64_t bytes = 0;        // as served
    bool gap_before = false;  // media is missing before it
    core::Container container = core::Container::ts;
    std::string init_id;            // fmp4: the init section it needs (EXT-X-MAP)
    std::vector<ListedPart> parts;  // LL-HLS: the parts it was published as
};

// What a live LL-HLS window adds: the segment in progress and the rules of
// RFC 8216bis for parts:
//   - parts are listed for the segments that start within the last three
//     target durations, and for the segment in progress;
//   - PART-HOLD-BACK is three part targets or the window's own, if longer; CAN-SKIP-UNTIL six
//   target
//     durations; a delta update leaves out the segments that end before it;
//   - the preload hint names the part after the newest.
struct LowLatencyWindow {
    int64_t part_target = 0;       // ticks: the configured part length
    int64_t part_hold_back = 0;    // ticks; at least three part targets
    std::vector<ListedPart> open;  // parts of the segment after the last listed one
    int64_t open_start = 0;        // media time of its first frame
    bool open_gap = false;         // media missing before it
    std::string open_init_id;
    ListedPart next;  // the part hinted (EXT-X-PRELOAD-HINT)
    std::vector<RenditionReport> reports;
    bool skip = false;  // a delta update (_HLS_skip=YES)
};

enum class WindowKind { live, event, vod };

// A window of one rendition, oldest segment first.
struct ListingWindow {
    WindowKind kind = WindowKind::live;
    std::vector<ListedSegment> segments;
    // EXT-X-MEDIA-SEQUENCE: given by a live window (the store counts listed
    // segments); else the first segment's sequence number.
    std::optional<int64_t> media_sequence;
    int64_t discontinuity_sequence = 0;  // live: the marks that left the window
    int64_t configured_length = 0;       // ticks: the channel's segment length
    int target_floor = 0;                // seconds the target may not go under (live: its own)
    std::string uri_suffix;  // after each URI ("SEQ.ts", "init-ID.mp4"), e.g. "?pipeline=a"
    std::optional<LowLatencyWindow> low_latency;  // live only
};

// What the master says of a rendition besides its measured bit rates.
struct RenditionInfo {
    std::string uri;  // relative, e.g. "720p/index.m3u8"
    std::string codecs;
    int width = 0;
    int height = 0;
    core::Rational frame_rate;
};

// EXT-X-TARGETDURATION of `window` (seconds).
int target_duration(const ListingWindow& window);
// The media playlist of `window` (its segments must not be empty).
MediaPlaylist media_playlist(const ListingWindow& window);
// The Media Sequence Number of the segment in progress in a live window.
int64_t open_msn(const MediaPlaylist& playlist);
// The master's entry for a rendition whose listed segments are `window`'s.
Variant variant(const RenditionInfo& info, const ListingWindow& window);

// Bits per second of `segments` as RFC 8216 defines the peak, for a target
// duration of `target_seconds`; 0 without segments.
int64_t peak_bitrate(const std::vector<ListedSegment>& segments, int target_seconds);
// All bits over all time; 0 without duration.
int64_t average_bitrate(const std::vector<ListedSegment>& segments);

}  // namespace onair::origin
