#pragma once
// Parsing of quantities as people write them in channel files: durations
// ("6s", "500ms", "2h", "1h30m"), bitrates ("3000k", "3.5M", "128kbps") and
// frame rates ("30", "29.97", "30000/1001").
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace onair::core {

using Micros = std::chrono::microseconds;

struct Rational {
    int num = 0;
    int den = 1;
    double value() const { return den ? double(num) / den : 0.0; }
    bool valid() const { return num > 0 && den > 0; }
    friend bool operator==(const Rational&, const Rational&) = default;
};

// Durations: a number with a unit (d, h, m/min, s, ms, us), or several, largest
// first ("1h30m"). A bare number means seconds. nullopt when not a duration.
std::optional<Micros> parse_duration(std::string_view text);
// Bitrates in bits per second: "3000k", "3.5M", "128kbps", "2Mb/s"; a bare
// number means bits per second. nullopt when not a bitrate.
std::optional<int64_t> parse_bitrate(std::string_view text);
// Sizes in bytes: "500M", "50G", "2T" (decimal, as disks are sold), "20GiB"
// (binary), "1000" (bytes). nullopt when not a size.
std::optional<int64_t> parse_size(std::string_view text);
std::string format_size(int64_t bytes);  // "50G", "1.5T", "500k"
// Frame rates: "25", "29.97" (read as 30000/1001), "30000/1001"; always
// returned in lowest terms ("60/2" is 30/1, "12.5" is 25/2).
std::optional<Rational> parse_frame_rate(std::string_view text);

std::string format_duration(Micros d);      // "6s", "500ms", "1.5s", "1h30m"; exact
std::string format_bitrate(int64_t bps);    // "3M", "3500k", "128k"; exact
std::string format_frame_rate(Rational r);  // "30", "29.97"

}  // namespace onair::core
