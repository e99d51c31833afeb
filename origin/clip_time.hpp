#pragma once
// The times of the clip API: UTC milliseconds parsed from what people write
// (ISO 8601 with a zone, epoch seconds) and shown as ISO 8601. Pure
// functions; callable from any thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace onair::origin {

// UTC milliseconds from ISO 8601 with a zone ("2026-11-22T04:48:00Z",
// "2026-11-22T06:48:00.250+02:00", "+0200") or epoch seconds ("1795322880",
// "1795322880.5"); nullopt for anything else (a time without a zone too).
std::optional<int64_t> parse_utc_time(std::string_view text);

// "2026-11-22T04:48:00.123Z": how the API, the webhook and the logs show a time.
std::string utc_text(int64_t utc_ms);

}  // namespace onair::origin
