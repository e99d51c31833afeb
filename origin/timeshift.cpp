#include "origin/timeshift.hpp"

#include <boost/url/parse.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>

#include "core/media_time.hpp"

namespace onair::origin {

namespace http = boost::beast::http;

namespace {

constexpr int64_t kTicks = core::kMediaClock;
constexpr std::string_view kTimeHelp =
    "use ISO 8601 with a zone (2026-12-01T20:00:00Z, 2026-12-01T21:00:00+01:00) or epoch seconds";

// A cursor over the text: digits and literal characters, nothing else.
class Cursor {
  public:
    explicit Cursor(std::string_view text) : text_(text) {}
    bool done() const { return pos_ == text_.size(); }
    char peek() const { return done() ? '\0' : text_[pos_]; }
    bool take(char c) {
        if (peek() != c) return false;
        ++pos_;
        return true;
    }
    // Exactly `n` digits.
    std::optional<int64_t> digits(size_t n) {
        if (text_.size() - pos_ < n) return std::nullopt;
        int64_t v = 0;
        for (size_t i = 0; i < n; ++i) {
            char c = text_[pos_ + i];
            if (c < '0' || c > '9') return std::nullopt;
            v = v * 10 + (c - '0');
        }
        pos_ += n;
        return v;
    }
    // 1..max digits as a fraction of a second, in ticks (truncated).
    std::optional<int64_t> fraction(size_t max) {
        int64_t v = 0, scale = 1;
        size_t n = 0;
        while (!done() && peek() >= '0' && peek() <= '9') {
            if (++n > max) return std::nullopt;
            v = v * 10 + (text_[pos_++] - '0');
            scale *= 10;
        }
        if (n == 0) return std::nullopt;
        return v * kTicks / scale;
    }
    // 1..max digits.
    std::optional<int64_t> number(size_t max) {
        int64_t v = 0;
        size_t n = 0;
        while (!done() && peek() >= '0' && peek() <= '9') {
            if (++n > max) return std::nullopt;
            v = v * 10 + (text_[pos_++] - '0');
        }
        if (n == 0) return std::nullopt;
        return v;
    }

  private:
    std::string_view text_;
    size_t pos_ = 0;
};

std::optional<int64_t> parse_epoch(std::string_view text) {
    Cursor c(text);
    // 12 digits reach the year 33658: far enough, and far from overflow.
    auto seconds = c.number(12);
    if (!seconds) return std::nullopt;
    int64_t ticks = *seconds * kTicks;
    if (c.take('.')) {
        auto f = c.fraction(9);
        if (!f) return std::nullopt;
        ticks += *f;
    }
    if (!c.done()) return std::nullopt;
    return ticks;
}

std::optional<int64_t> parse_iso(std::string_view text) {
    using namespace std::chrono;
    Cursor c(text);
    auto y = c.digits(4);
    if (!y || !c.take('-')) return std::nullopt;
    auto mo = c.digits(2);
    if (!mo || !c.take('-')) return std::nullopt;
    auto d = c.digits(2);
    if (!d || !(c.take('T') || c.take('t'))) return std::nullopt;
    auto h = c.digits(2);
    if (!h || !c.take(':')) return std::nullopt;
    auto mi = c.digits(2);
    if (!mi) return std::nullopt;
    int64_t s = 0, frac = 0;
    if (c.take(':')) {
        auto sec = c.digits(2);
        if (!sec) return std::nullopt;
        s = *sec;
        if (c.take('.') || c.take(',')) {
            auto f = c.fraction(9);
            if (!f) return std::nullopt;
            frac = *f;
        }
    }
    int64_t offset = 0;  // seconds east of UTC
    if (c.take('Z') || c.take('z')) {
    } else {
        int sign = 0;
        if (c.take('+') || c.take(' '))
            sign = 1;
        else if (c.take('-'))
            sign = -1;
        else
            return std::nullopt;  // no zone: local time is ambiguous
        auto oh = c.digits(2);
        if (!oh) return std::nullopt;
        int64_t om = 0;
        if (!c.done()) {
            c.take(':');
            auto m = c.digits(2);
            if (!m) return std::nullopt;
            om = *m;
        }
        if (*oh > 23 || om > 59) return std::nullopt;
        offset = sign * (*oh * 3600 + om * 60);
    }
    if (!c.done()) return std::nullopt;
    year_month_day ymd{year(int(*y)), month(unsigned(*mo)), day(unsigned(*d))};
    if (!ymd.ok() || *h > 23 || *mi > 59 || s > 59) return std::nullopt;
    const int64_t days_since_epoch = sys_days(ymd).time_since_epoch().count();
    const int64_t utc = days_since_epoch * 86400 + *h * 3600 + *mi * 60 + s - offset;
    return utc * kTicks + frac;
}

// The value as a query parameter: times hold only [0-9A-Za-z:.,+ -], of
// which '+' (and the space standing for one) must be escaped.
std::string query_value(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '+' || c == ' ')
            out += "%2B";
        else
            out += c;
    }
    return out;
}

TimeShiftRefusal refuse(http::status status, std::string reason) {
    return {status, std::move(reason)};
}

std::string pdt(int64_t media) {
    return format_program_date_time(core::media_to_utc_ms(media));
}

// The recorded segments of `rendition` in `window`, or why there are none.
TimeShiftResult<std::vector<DvrSegment>> select(const Dvr& dvr, std::string_view rendition,
                                                const TimeShiftWindow& window, int64_t now) {
    auto span = dvr.span(rendition);
    if (!span)
        return std::unexpected(
            refuse(http::status::not_found,
                   fmt::format("the DVR holds nothing of rendition '{}'", rendition)));
    const auto [oldest, newest] = *span;
    const int64_t end = window.end.value_or(std::numeric_limits<int64_t>::max());
    const std::string holds = fmt::format("the DVR holds {} to {}", pdt(oldest), pdt(newest));
    if (window.start > now)
        return std::unexpected(
            refuse(http::status::not_found, fmt::format("start is in the future; {}", holds)));
    const bool live = !window.end || *window.end > now;
    // (A start written as the oldest segment's PROGRAM-DATE-TIME is up to a
    // millisecond early.)
    if (live && window.start < oldest - kTicks / 1000)
        return std::unexpected(
            refuse(http::status::not_found,
                   fmt::format("start has left the DVR window, and a playlist growing live from it "
                               "could only lose its first segments; {}",
                               holds)));
    if (end <= oldest)
        return std::unexpected(refuse(
            http::status::not_found,
            fmt::format(
                "the window ends before the oldest recording (expired or never recorded); {}",
                holds)));
    if (window.start >= newest) {
        // Not recorded yet, but being recorded: a live window soon has its first segment.
        if (end > now)
            return std::unexpected(
                refuse(http::status::service_unavailable,
                       fmt::format("nothing recorded from start on yet; {}", holds)));
        return std::unexpected(
            refuse(http::status::not_found,
                   fmt::format("the window starts after the newest recording; {}", holds)));
    }
    auto segments = dvr.range(rendition, window.start, end);
    if (segments.empty())
        return std::unexpected(refuse(
            http::status::not_found,
            fmt::format("nothing was recorded in the window (a gap in the recording); {}", holds)));
    return segments;
}

}  // namespace

std::optional<int64_t> parse_time(std::string_view text) {
    if (text.empty() || text.size() > 64) return std::nullopt;
    const bool epoch = std::all_of(text.begin(), text.end(),
                                   [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
    return epoch ? parse_epoch(text) : parse_iso(text);
}

core::Result<std::optional<TimeShiftWindow>> parse_timeshift(std::string_view target) {
    auto parsed =
        boost::urls::parse_origin_form(boost::urls::string_view(target.data(), target.size()));
    if (!parsed) return core::fail("the request target is not an absolute path");
    // '+' stays '+': "+01:00" need not be escaped.
    auto params = parsed->params(boost::urls::encoding_opts(false, false, false));
    std::optional<std::string> start, end;
    for (auto param : params) {
        const bool is_start = param.key == "start";
        if (!is_start && param.key != "end") continue;
        auto& slot = is_start ? start : end;
        if (slot) return core::fail(fmt::format("{} is given twice", param.key));
        slot = param.has_value ? std::string(param.value) : std::string();
    }
    if (!start && !end) return std::nullopt;
    if (!start) return core::fail("end needs a start");
    TimeShiftWindow window;
    auto start_time = parse_time(*start);
    if (!start_time)
        return core::fail(fmt::format("start '{}' is not a time: {}", *start, kTimeHelp));
    window.start = *start_time;
    window.query = "start=" + query_value(*start);
    if (end) {
        auto end_time = parse_time(*end);
        if (!end_time)
            return core::fail(fmt::format("end '{}' is not a time: {}", *end, kTimeHelp));
        if (*end_time <= window.start) return core::fail("start must be before end");
        window.end = *end_time;
        window.query += "&end=" + query_value(*end);
    }
    return window;
}

namespace {

// The listing model's window over the recorded segments of a request.
ListingWindow recorded_window(const std::vector<DvrSegment>& segments, WindowKind kind,
                              int64_t segment_length) {
    ListingWindow w;
    w.kind = kind;
    w.configured_length = segment_length;
    w.segments.reserve(segments.size());
    for (const auto& s : segments)
        w.segments.push_back({s.sequence,
                              s.start,
                              s.duration,
                              s.bytes,
                              s.discontinuity,
                              s.container(),
                              s.init_id,
                              {}});
    return w;
}

// VOD once the window is over and recorded (or has had its time to be);
// EVENT while it still grows.
WindowKind kind_of(const TimeShiftWindow& window, const std::vector<DvrSegment>& segments,
                   int64_t now, int64_t segment_length) {
    const bool over = window.end && *window.end <= now;
    const bool recorded = window.end && (segments.back().end() >= *window.end ||
                                         now >= *window.end + kSettleSegments * segment_length);
    return over && recorded ? WindowKind::vod : WindowKind::event;
}

}  // namespace

TimeShiftResult<MediaPlaylist> timeshift_listing(const Dvr& dvr, std::string_view rendition,
                                                 const TimeShiftWindow& window, int64_t now,
                                                 int64_t segment_length) {
    auto selected = select(dvr, rendition, window, now);
    if (!selected) return std::unexpected(std::move(selected.error()));
    return media_playlist(recorded_window(
        *selected, kind_of(window, *selected, now, segment_length), segment_length));
}

TimeShiftResult<std::vector<Variant>> timeshift_variants(const Dvr& dvr,
                                                         const std::vector<std::string>& renditions,
                                                         const TimeShiftWindow& window, int64_t now,
                                                         int64_t segment_length) {
    std::vector<Variant> out;
    std::optional<TimeShiftRefusal> first_refusal;
    for (const auto& rendition : renditions) {
        auto selected = select(dvr, rendition, window, now);
        if (!selected) {
            if (!first_refusal) first_refusal = std::move(selected.error());
            continue;
        }
        const DvrSegment& newest = selected->back();
        RenditionInfo info{fmt::format("{}/index.m3u8?{}", rendition, window.query), newest.codecs,
                           newest.width, newest.height, newest.frame_rate};
        out.push_back(variant(
            info, recorded_window(*selected, kind_of(window, *selected, now, segment_length),
                                  segment_length)));
    }
    if (out.empty()) {
        if (first_refusal) return std::unexpected(std::move(*first_refusal));
        return std::unexpected(refuse(http::status::not_found, "the channel has no renditions"));
    }
    return out;
}

}  // namespace onair::origin
