#pragma once
// Time-shifted playback: `?start=T&end=T` on the master and media playlist
// routes, answered from the DVR. Parses the times, chooses the recorded
// segments that overlap [start, end) and describes the playlist (VOD when
// the window is over and recorded, EVENT while it still grows). Pure but for
// the DVR's reads: the clock comes in as an argument. Any thread.
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/status.hpp>

#include "core/result.hpp"
#include "origin/dvr.hpp"
#include "origin/listing.hpp"
#include "origin/playlist.hpp"

namespace onair::origin {

// A point in time as media time (90 kHz ticks since the Unix epoch), from
// ISO 8601 with a zone ("2026-12-01T20:00:00Z", "2026-12-01T21:00:00.250+01:00",
// "+0100", "+01"; seconds optional; a space where the '+' was, as form
// encoding leaves it) or epoch seconds ("1796155200", "1796155200.5").
// nullopt when malformed, without a zone or out of range.
std::optional<int64_t> parse_time(std::string_view text);

// The window a request asks for.
struct TimeShiftWindow {
    int64_t start = 0;           // media time
    std::optional<int64_t> end;  // absent: from start on, growing live
    std::string query;           // "start=...&end=..." for the variant URIs
};

// The window in a request target's query: nullopt when it has neither
// `start` nor `end`; an error whose message is the reason for a 400 when a
// time is malformed, given twice, `end` comes without `start`, or start >= end.
[[nodiscard]] core::Result<std::optional<TimeShiftWindow>> parse_timeshift(std::string_view target);

// Why a window cannot be answered: 404 (outside what the DVR holds, or a live
// window whose start has expired: an EVENT playlist may only grow), 503
// (starts after the newest recording but not in the future: soon there).
struct TimeShiftRefusal {
    boost::beast::http::status status = boost::beast::http::status::not_found;
    std::string reason;
};
template <class T>
using TimeShiftResult = std::expected<T, TimeShiftRefusal>;

// How long after `end` the segment holding it may still be on its way (one
// segment to finish, one for the slowest pipeline and the failover grace):
// until then a window that is over but not all recorded stays EVENT.
inline constexpr int kSettleSegments = 3;

// The media playlist of `rendition` over `window` at media time `now`:
// every recorded segment overlapping [start, end), listed by the listing
// model (listing.hpp). VOD with ENDLIST once end <= now and the recording
// reaches end (or has had kSettleSegments to); EVENT otherwise. URIs are
// "SEQ.ts".
TimeShiftResult<MediaPlaylist> timeshift_listing(const Dvr& dvr, std::string_view rendition,
                                                 const TimeShiftWindow& window, int64_t now,
                                                 int64_t segment_length);

// The master playlist's variants over `window`: each rendition (ladder
// order) with recordings in it, measured over those segments by the listing
// model, its URI carrying the window's query. The first rendition's refusal
// when none has.
TimeShiftResult<std::vector<Variant>> timeshift_variants(const Dvr& dvr,
                                                         const std::vector<std::string>& renditions,
                                                         const TimeShiftWindow& window, int64_t now,
                                                         int64_t segment_length);

}  // namespace onair::origin
