#include "core/units.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

namespace onair::core {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// Reads a non-negative decimal number at the front of `s`; advances `s`.
std::optional<double> take_number(std::string_view& s) {
    size_t i = 0;
    bool digits = false, dot = false;
    while (i < s.size()) {
        char c = s[i];
        if (std::isdigit(static_cast<unsigned char>(c))) {
            digits = true;
        } else if (c == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
        ++i;
    }
    if (!digits) return std::nullopt;
    double value = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + i, value);
    if (ec != std::errc() || ptr != s.data() + i) return std::nullopt;
    s.remove_prefix(i);
    return value;
}

std::string_view take_unit(std::string_view& s) {
    size_t i = 0;
    while (i < s.size() && (std::isalpha(static_cast<unsigned char>(s[i])) || s[i] == '/')) ++i;
    auto unit = s.substr(0, i);
    s.remove_prefix(i);
    return unit;
}

std::string trim_zeros(double v) {
    auto text = fmt::format("{:.3f}", v);
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
    return text;
}

}  // namespace

std::optional<Micros> parse_duration(std::string_view text) {
    auto s = trim(text);
    if (s.empty()) return std::nullopt;
    double total_us = 0;
    double last_scale = 0;  // units must come largest first, each once: "1h30m", not "30m1h"
    while (!s.empty()) {
        auto number = take_number(s);
        if (!number) return std::nullopt;
        s = trim(s);
        auto unit = take_unit(s);
        s = trim(s);
        double scale = 0;
        if (unit.empty()) {
            if (last_scale != 0 || !s.empty()) return std::nullopt;  // a bare number is seconds
            scale = 1e6;
        } else if (unit == "d") {
            scale = 86400e6;
        } else if (unit == "h") {
            scale = 3600e6;
        } else if (unit == "m" || unit == "min") {
            scale = 60e6;
        } else if (unit == "s") {
            scale = 1e6;
        } else if (unit == "ms") {
            scale = 1e3;
        } else if (unit == "us") {
            scale = 1;
        } else {
            return std::nullopt;
        }
        if (last_scale != 0 && scale >= last_scale) return std::nullopt;
        last_scale = scale;
        total_us += *number * scale;
    }
    if (total_us > 1e15) return std::nullopt;
    return Micros(static_cast<int64_t>(std::llround(total_us)));
}

namespace {

// A unit's spellings and what one of it is worth.
struct Unit {
    std::initializer_list<std::string_view> names;
    double scale;
};

// "NUMBER[ ]UNIT" as a whole count of the base unit, up to `max`; nullopt for
// an unknown unit or a value past `max`.
std::optional<int64_t> scaled(std::string_view text, std::initializer_list<Unit> units,
                              double max) {
    auto s = trim(text);
    auto number = take_number(s);
    if (!number) return std::nullopt;
    auto unit = trim(s);
    for (const auto& u : units) {
        if (std::find(u.names.begin(), u.names.end(), unit) == u.names.end()) continue;
        double value = *number * u.scale;
        if (value > max) return std::nullopt;
        return static_cast<int64_t>(std::llround(value));
    }
    return std::nullopt;
}

}  // namespace

std::optional<int64_t> parse_bitrate(std::string_view text) {
    return scaled(text,
                  {{{"", "bps", "b/s"}, 1},
                   {{"k", "K", "kbps", "Kbps", "kb/s", "Kb/s", "kbit/s"}, 1e3},
                   {{"M", "m", "Mbps", "mbps", "Mb/s", "Mbit/s"}, 1e6},
                   {{"G", "Gbps", "Gb/s"}, 1e9}},
                  1e12);
}

std::optional<int64_t> parse_size(std::string_view text) {
    return scaled(text,
                  {{{"", "B"}, 1},
                   {{"k", "K", "kB", "KB"}, 1e3},
                   {{"M", "MB"}, 1e6},
                   {{"G", "GB"}, 1e9},
                   {{"T", "TB"}, 1e12},
                   {{"KiB"}, 1024.0},
                   {{"MiB"}, 1024.0 * 1024},
                   {{"GiB"}, 1024.0 * 1024 * 1024},
                   {{"TiB"}, 1024.0 * 1024 * 1024 * 1024}},
                  1e17);
}

std::string format_size(int64_t bytes) {
    for (auto [unit, scale] :
         {std::pair{"T", int64_t(1'000'000'000'000)}, std::pair{"G", int64_t(1'000'000'000)},
          std::pair{"M", int64_t(1'000'000)}, std::pair{"k", int64_t(1000)}})
        if (bytes >= scale) return trim_zeros(double(bytes) / double(scale)) + unit;
    return fmt::format("{}B", bytes);
}

std::optional<Rational> parse_frame_rate(std::string_view text) {
    // Far above any real frame rate, and small enough that num/den never overflow.
    constexpr int kMaxPart = 1'000'000;
    auto reduced = [](int num, int den) {
        int g = std::gcd(num, den);
        return Rational{num / g, den / g};
    };
    auto s = trim(text);
    if (auto slash = s.find('/'); slash != std::string_view::npos) {
        int num = 0, den = 0;
        auto a = s.substr(0, slash), b = s.substr(slash + 1);
        if (a.empty() || b.empty() ||
            std::from_chars(a.data(), a.data() + a.size(), num).ptr != a.data() + a.size() ||
            std::from_chars(b.data(), b.data() + b.size(), den).ptr != b.data() + b.size() ||
            num <= 0 || den <= 0 || num > kMaxPart || den > kMaxPart)
            return std::nullopt;
        return reduced(num, den);
    }
    auto rest = s;
    auto value = take_number(rest);
    if (!value || !rest.empty() || *value <= 0 || *value > kMaxPart / 1000) return std::nullopt;
    // NTSC rates as people write them.
    for (int base : {24, 30, 60, 120}) {
        double ntsc = base * 1000.0 / 1001.0;
        if (std::fabs(*value - ntsc) < 0.006) return Rational{base * 1000, 1001};
    }
    // A whole rate, but not one that rounds to 0 frames (0.0000000001).
    if (const long whole = std::lround(*value); whole >= 1 && std::fabs(*value - whole) < 1e-9)
        return Rational{static_cast<int>(whole), 1};
    auto millis = static_cast<int>(std::lround(*value * 1000));
    if (millis <= 0) return std::nullopt;
    return reduced(millis, 1000);
}

std::string format_duration(Micros d) {
    int64_t us = d.count();
    if (us == 0) return "0s";
    if (us < 0) return "-" + format_duration(Micros(-us));
    if (us % 1000000 != 0) {
        if (us < 1000000 && us % 1000 == 0) return fmt::format("{}ms", us / 1000);
        if (us < 1000) return fmt::format("{}us", us);
        if (us % 1000 == 0) return trim_zeros(us / 1e6) + "s";
        return fmt::format("{}us", us);  // exact rather than rounded
    }
    int64_t s = us / 1000000;
    if (s < 120) return fmt::format("{}s", s);  // "60s" reads better than "1m" for a window
    std::string out;
    if (s >= 3600) out += fmt::format("{}h", s / 3600), s %= 3600;
    if (s >= 60) out += fmt::format("{}m", s / 60), s %= 60;
    if (s > 0) out += fmt::format("{}s", s);
    return out;
}

std::string format_bitrate(int64_t bps) {
    // Video people write "3000k" up to about 10 Mb/s, then "12M".
    if (bps >= 10000000 && bps % 1000000 == 0) return fmt::format("{}M", bps / 1000000);
    if (bps >= 1000 && bps % 1000 == 0) return fmt::format("{}k", bps / 1000);
    if (bps >= 1000) return trim_zeros(bps / 1e3) + "k";
    return fmt::format("{}", bps);
}

std::string format_frame_rate(Rational r) {
    if (r.den == 1) return fmt::format("{}", r.num);
    return trim_zeros(r.value());
}

}  // namespace onair::core
