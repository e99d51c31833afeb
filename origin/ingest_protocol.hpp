#pragma once
// The ingest wire format between a pipeline in its own process (`onair
// encode`) and the origin: request targets, the headers that carry a
// segment's metadata, and the JSON of anchor look-ups and status reports.
// Both sides use these functions, so the format is written down once.
// Pure functions; no I/O.
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/fields.hpp>
#include <boost/json/fwd.hpp>

#include "core/segment.hpp"
#include "core/status.hpp"

namespace onair::origin::ingest {

// PUT  /ingest/v1/CHANNEL/PIPELINE/RENDITION/SEQ.ts   the segment's MPEG-TS bytes
// PUT  /ingest/v1/CHANNEL/PIPELINE/RENDITION/SEQ.m4s  a CMAF segment (moof + mdat), its init
//                                                     section in the X-Onair-Init header
// PUT  /ingest/v1/CHANNEL/PIPELINE/RENDITION/SEQ.K.m4s an LL-HLS part K of segment SEQ
//                                                     (moof + mdat), before its segment
// POST /ingest/v1/CHANNEL/anchor                      AnchorQuery -> {"offset": N}
// PUT  /ingest/v1/CHANNEL/PIPELINE/status             StatusReport
// Every request carries "Authorization: Bearer TOKEN" (the ingest token).
inline constexpr std::string_view kPrefix = "/ingest/";
std::string segment_target(std::string_view channel, char pipeline, std::string_view rendition,
                           int64_t sequence, core::Container container = core::Container::ts);
std::string part_target(std::string_view channel, char pipeline, std::string_view rendition,
                        int64_t sequence, int index);
std::string anchor_target(std::string_view channel);
std::string status_target(std::string_view channel, char pipeline);

// Segment metadata headers. Times are media time (90 kHz ticks since the
// Unix epoch), durations 90 kHz ticks.
inline constexpr std::string_view kStart = "X-Onair-Start";
inline constexpr std::string_view kDuration = "X-Onair-Duration";
inline constexpr std::string_view kFrames = "X-Onair-Frames";
inline constexpr std::string_view kSlate = "X-Onair-Slate";    // 0 | 1
inline constexpr std::string_view kHealth = "X-Onair-Health";  // black,frozen,silent; "" = healthy
inline constexpr std::string_view kInputUtcMs = "X-Onair-Input-Utc-Ms";  // 0: unknown
inline constexpr std::string_view kWidth = "X-Onair-Width";
inline constexpr std::string_view kHeight = "X-Onair-Height";
inline constexpr std::string_view kFrameRate = "X-Onair-Frame-Rate";     // NUM/DEN
inline constexpr std::string_view kCodecs = "X-Onair-Codecs";            // RFC 6381 list
inline constexpr std::string_view kIndependent = "X-Onair-Independent";  // a part: 0 | 1
// A CMAF segment's or part's init section, base64 (about 1.6 kB), sent with
// every one: the origin needs no state from earlier pushes to serve it.
inline constexpr std::string_view kInit = "X-Onair-Init";
inline constexpr std::size_t kMaxInitBytes = 16 * 1024;

// Writes `segment`'s metadata as the headers above.
void set_segment_headers(boost::beast::http::fields& fields, const core::Segment& segment);

// The metadata from the headers: start, duration, frames, slate, health,
// input_utc_ms, width, height, frame_rate, codecs and init (when sent) are
// set; nothing else.
// On failure one line naming every missing header and every invalid one.
// Health and Input-Utc-Ms may be absent (healthy, unknown); the others must
// be there. Numbers are plain decimal integers (no sign but '-', no spaces).
std::expected<core::Segment, std::string> read_segment_headers(
    const boost::beast::http::fields& fields);

// A part's: start, duration, frames, independent, input_utc_ms and its init
// section (all required but Input-Utc-Ms); nothing else is set.
void set_part_headers(boost::beast::http::fields& fields, const core::Part& part);
std::expected<core::Part, std::string> read_part_headers(const boost::beast::http::fields& fields);

std::string health_text(const core::ContentHealth& health);  // "black,silent", "" when healthy

// Why a body is not whole MPEG-TS packets (188 bytes, each starting with
// 0x47); empty when it is.
std::string ts_problem(std::string_view body);
// Why a body is not a CMAF segment (whole boxes, a moof then an mdat);
// empty when it is.
std::string cmaf_problem(std::string_view body);

// POST .../anchor: the arguments of core::TimeAnchor::lock.
struct AnchorQuery {
    int64_t pts = 0;
    int64_t now = 0;
    int64_t lag = 0;
    int64_t tolerance = 0;
};
std::string anchor_json(const AnchorQuery& query);
std::expected<AnchorQuery, std::string> parse_anchor_query(std::string_view json);
std::expected<int64_t, std::string> parse_anchor_offset(std::string_view json);  // {"offset": N}

// PUT .../status: every figure of core::InputStatus and core::PipelineStatus
// (their tables in core/status.hpp), as plain values under their names:
// {"input": {"state": ..., "note": ..., FIGURES}, "pipeline": {FIGURES}}, the
// input's state as its to_string name.
struct StatusReport {
    core::InputState state = core::InputState::idle;
    std::string note;
    ONAIR_INPUT_FIGURES(ONAIR_PLAIN_FIGURE)
    ONAIR_PIPELINE_FIGURES(ONAIR_PLAIN_FIGURE)

    static StatusReport of(const core::PipelineRuntimeStatus& status);
    // Copies every field into `status` (its id and input description stay).
    void apply_to(core::PipelineRuntimeStatus& status) const;
};
std::string status_json(const StatusReport& report);
// On failure one line naming every missing or mistyped field.
std::expected<StatusReport, std::string> parse_status(std::string_view json);

}  // namespace onair::origin::ingest
