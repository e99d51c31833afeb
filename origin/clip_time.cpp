#include "origin/clip_time.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "origin/playlist.hpp"

namespace onair::origin {

namespace {

bool digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// `text` as an unsigned decimal of exactly text.size() digits.
std::optional<int> number(std::string_view text) {
    if (!digits(text)) return std::nullopt;
    int value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
}

// "SS[.fff...]" fraction digits as milliseconds (beyond the third: dropped).
std::optional<int64_t> fraction_ms(std::string_view text) {
    if (!digits(text)) return std::nullopt;
    int64_t ms = 0;
    for (size_t i = 0; i < 3; ++i) ms = ms * 10 + (i < text.size() ? text[i] - '0' : 0);
    return ms;
}

std::optional<int64_t> parse_epoch_seconds(std::string_view text) {
    auto dot = text.find('.');
    auto whole = text.substr(0, dot);
    if (!digits(whole) || whole.size() > 12) return std::nullopt;
    int64_t seconds = 0;
    std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
    int64_t ms = 0;
    if (dot != std::string_view::npos) {
        auto f = fraction_ms(text.substr(dot + 1));
        if (!f) return std::nullopt;
        ms = *f;
    }
    return seconds * 1000 + ms;
}

// Z, +HH:MM, +HHMM or +HH as minutes east of UTC.
std::optional<int> zone_minutes(std::string_view zone) {
    if (zone == "Z" || zone == "z") return 0;
    if (zone.size() < 3 || (zone[0] != '+' && zone[0] != '-')) return std::nullopt;
    const int sign = zone[0] == '-' ? -1 : 1;
    std::string_view rest = zone.substr(1);
    std::optional<int> hours = number(rest.substr(0, 2)), minutes = 0;
    if (rest.size() == 5 && rest[2] == ':')
        minutes = number(rest.substr(3));
    else if (rest.size() == 4)
        minutes = number(rest.substr(2));
    else if (rest.size() != 2)
        return std::nullopt;
    if (!hours || !minutes || *hours > 23 || *minutes > 59) return std::nullopt;
    return sign * (*hours * 60 + *minutes);
}

std::optional<int64_t> parse_iso8601(std::string_view text) {
    // YYYY-MM-DDTHH:MM:SS[.fff][zone]
    if (text.size() < 20 || text[4] != '-' || text[7] != '-' ||
        (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':')
        return std::nullopt;
    auto year = number(text.substr(0, 4)), month = number(text.substr(5, 2)),
         day = number(text.substr(8, 2)), hour = number(text.substr(11, 2)),
         minute = number(text.substr(14, 2)), second = number(text.substr(17, 2));
    if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
    std::string_view rest = text.substr(19);
    int64_t ms = 0;
    if (rest.starts_with('.')) {
        auto end = rest.find_first_not_of("0123456789", 1);
        if (end == std::string_view::npos) return std::nullopt;  // no zone
        auto f = fraction_ms(rest.substr(1, end - 1));
        if (!f) return std::nullopt;
        ms = *f;
        rest = rest.substr(end);
    }
    auto zone = zone_minutes(rest);
    using namespace std::chrono;
    year_month_day date{std::chrono::year(*year), std::chrono::month(unsigned(*month)),
                        std::chrono::day(unsigned(*day))};
    if (!zone || !date.ok() || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
    const int64_t days_since_epoch = sys_days(date).time_since_epoch().count();
    const int64_t seconds =
        days_since_epoch * 86400 + *hour * 3600 + *minute * 60 + *second - int64_t(*zone) * 60;
    return seconds * 1000 + ms;
}

}  // namespace

std::optional<int64_t> parse_utc_time(std::string_view text) {
    if (!text.empty() && (digits(text.substr(0, 1))) && text.find('-') == std::string_view::npos)
        return parse_epoch_seconds(text);
    return parse_iso8601(text);
}

std::string utc_text(int64_t utc_ms) {
    return format_program_date_time(utc_ms);
}

}  // namespace onair::origin
