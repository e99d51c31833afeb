// Fuzz target: the small readers of text a user or a player sends: times
// and durations, bit rates, sizes, frame rates, input URLs, a time-shift
// query, segment and part names, clip ids. Each reads or refuses; what it
// reads must survive the round trip through its writer where one is exact.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/config.hpp"
#include "core/units.hpp"
#include "origin/clip_time.hpp"
#include "origin/harvest_request.hpp"
#include "origin/playlist.hpp"
#include "origin/timeshift.hpp"

using namespace onair;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);

    if (auto d = core::parse_duration(text))
        if (core::parse_duration(core::format_duration(*d)) != d) __builtin_trap();
    if (auto b = core::parse_bitrate(text); b && *b >= 0)
        if (core::parse_bitrate(core::format_bitrate(*b)) != b) __builtin_trap();
    (void)core::parse_size(text);
    if (auto r = core::parse_frame_rate(text); r && !r->valid()) __builtin_trap();
    (void)core::parse_input_url(text);

    (void)origin::parse_utc_time(text);
    (void)origin::parse_time(text);
    if (auto window = origin::parse_timeshift(text); window && *window)
        if ((*window)->end && *(*window)->end <= (*window)->start) __builtin_trap();

    if (auto name = origin::parse_segment_name(text))
        if (origin::segment_uri(name->sequence, name->container) != text) __builtin_trap();
    if (auto part = origin::parse_part_name(text))
        if (part->sequence < 0 || part->index < 0) __builtin_trap();
    (void)origin::valid_clip_id(text);
    return 0;
}
