#pragma once
// HLS playlists as a player sees them: a parser for master and media
// playlists (RFC 8216), a checker that lists the rules a playlist breaks,
// and a ReloadTracker that checks what successive reloads of one live media
// playlist may and may not change. Pure functions of text; no I/O.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace onair::testing {

struct Variant {
    std::map<std::string, std::string> attributes;  // as written; quotes removed
    int64_t bandwidth = 0;                          // 0 when absent or invalid
    std::optional<int64_t> average_bandwidth;
    std::string codecs;
    int width = 0;  // from RESOLUTION; 0 when absent or invalid
    int height = 0;
    std::optional<double> frame_rate;
    std::string uri;
    int line = 0;  // of the EXT-X-STREAM-INF tag
};

struct MasterPlaylist {
    bool starts_with_extm3u = false;
    std::optional<int> version;
    bool independent_segments = false;
    std::vector<Variant> variants;
    std::vector<std::string> problems;  // syntax the parser could not read
};

struct MediaSegment {
    int64_t sequence = 0;  // MEDIA-SEQUENCE + index
    double duration = 0;   // EXTINF
    std::string duration_text;
    std::string title;
    std::optional<std::string> program_date_time;  // as written
    std::optional<int64_t> pdt_ms;                 // UTC ms since the epoch, when it parsed
    bool discontinuity = false;
    std::string uri;
    std::string map_uri;  // the EXT-X-MAP in force (CMAF's init section); empty: none
    int line = 0;         // of the EXTINF tag
};

struct MediaPlaylist {
    bool starts_with_extm3u = false;
    std::optional<int> version;
    std::optional<int64_t> target_duration;
    std::optional<int64_t> media_sequence;
    int64_t discontinuity_sequence = 0;
    bool independent_segments = false;
    std::optional<std::string> playlist_type;
    bool endlist = false;
    std::vector<MediaSegment> segments;
    std::vector<std::string> problems;  // syntax the parser could not read

    std::optional<int64_t> first_sequence() const;
    std::optional<int64_t> last_sequence() const;
};

MasterPlaylist parse_master_playlist(std::string_view text);
MediaPlaylist parse_media_playlist(std::string_view text);

// "2024-05-01T12:00:00.250Z" or with an offset (+02:00, +0200) -> UTC ms.
std::optional<int64_t> parse_program_date_time(std::string_view text);
// An attribute list: NAME=VALUE,NAME="quoted, with commas",...; nullopt on bad syntax.
std::optional<std::map<std::string, std::string>> parse_attribute_list(std::string_view text);

struct MediaCheckOptions {
    double pdt_tolerance_s = 0.05;  // |PDT[n+1] - PDT[n] - EXTINF[n]|
    bool require_program_date_time = true;
    bool require_independent_segments = true;
    bool uri_is_sequence = false;  // onair: every URI is "SEQ.ts" with SEQ its sequence number
    bool live = true;              // no EXT-X-ENDLIST, no PLAYLIST-TYPE:VOD
};

struct MasterCheckOptions {
    bool require_average_bandwidth = true;
    bool require_codecs = true;  // avc1.PPCCLL,mp4a.40.2
    bool require_resolution = true;
    bool require_frame_rate = true;
};

// Human-readable violations; empty when the playlist follows the rules.
std::vector<std::string> check_media_playlist(const MediaPlaylist& playlist,
                                              const MediaCheckOptions& options = {});
std::vector<std::string> check_master_playlist(const MasterPlaylist& playlist,
                                               const MasterCheckOptions& options = {});

// True when `codecs` is avc1.PPCCLL (a known H.264 profile_idc and level_idc) and mp4a.40.2.
bool valid_avc_aac_codecs(std::string_view codecs, std::string* why = nullptr);

// Feed it every reload of one media playlist, in order. It records each
// sequence number's segment and reports: a segment that changed (URI,
// duration, PDT, discontinuity) under the same number, MEDIA-SEQUENCE going
// backwards, numbers skipped between reloads (a hole: segments a player
// never saw), DISCONTINUITY-SEQUENCE going backwards, TARGETDURATION changing.
class ReloadTracker {
  public:
    explicit ReloadTracker(std::string label = {}) : label_(std::move(label)) {}

    // Returns the violations this reload added (also kept in violations()).
    std::vector<std::string> add(const MediaPlaylist& playlist);

    const std::vector<std::string>& violations() const { return violations_; }
    size_t reloads() const { return reloads_; }
    // Over all reloads; nullopt before the first non-empty one.
    std::optional<int64_t> first_sequence() const;
    std::optional<int64_t> last_sequence() const;
    // Every segment seen, by sequence number (the first version seen of each).
    const std::map<int64_t, MediaSegment>& segments() const { return seen_; }

  private:
    std::string label_;
    size_t reloads_ = 0;
    std::optional<int64_t> media_sequence_;
    std::optional<int64_t> target_duration_;
    std::optional<int64_t> discontinuity_sequence_;
    std::map<int64_t, MediaSegment> seen_;
    std::vector<std::string> violations_;
};

}  // namespace onair::testing
