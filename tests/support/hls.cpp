#include "tests/support/hls.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <regex>
#include <set>

#include <fmt/format.h>

namespace onair::testing {
namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        auto end = text.find('\n');
        auto line = text.substr(0, end);
        if (line.ends_with('\r')) line.remove_suffix(1);
        lines.push_back(line);
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return lines;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// "#TAG:value" -> value when the line is that tag.
std::optional<std::string_view> tag_value(std::string_view line, std::string_view tag) {
    if (!line.starts_with(tag)) return std::nullopt;
    auto rest = line.substr(tag.size());
    if (rest.empty()) return rest;
    if (rest.front() != ':') return std::nullopt;  // a longer tag name
    return rest.substr(1);
}

bool is_tag(std::string_view line, std::string_view tag) {
    auto value = tag_value(line, tag);
    return value && value->empty() && line.size() == tag.size();
}

template <class T>
std::optional<T> parse_int(std::string_view text) {
    T value{};
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

// A decimal-floating-point: digits with an optional fraction, no sign or exponent.
std::optional<double> parse_decimal(std::string_view text) {
    static const std::regex kDecimal(R"(^[0-9]+(\.[0-9]*)?$)");
    std::string s(text);
    if (!std::regex_match(s, kDecimal)) return std::nullopt;
    return std::stod(s);
}

std::string line_ref(int line) {
    return fmt::format("line {}", line);
}

}  // namespace

std::optional<std::map<std::string, std::string>> parse_attribute_list(std::string_view text) {
    std::map<std::string, std::string> out;
    size_t i = 0;
    while (i < text.size()) {
        auto eq = text.find('=', i);
        if (eq == std::string_view::npos) return std::nullopt;
        std::string name(text.substr(i, eq - i));
        if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
                return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
            }))
            return std::nullopt;
        i = eq + 1;
        std::string value;
        if (i < text.size() && text[i] == '"') {
            auto close = text.find('"', i + 1);
            if (close == std::string_view::npos) return std::nullopt;
            value = std::string(text.substr(i + 1, close - i - 1));
            i = close + 1;
        } else {
            auto comma = text.find(',', i);
            value = std::string(
                text.substr(i, comma == std::string_view::npos ? text.npos : comma - i));
            i = comma == std::string_view::npos ? text.size() : comma;
        }
        if (out.contains(name)) return std::nullopt;
        out[name] = std::move(value);
        if (i < text.size()) {
            if (text[i] != ',') return std::nullopt;
            ++i;
            if (i == text.size()) return std::nullopt;  // trailing comma
        }
    }
    return out;
}

std::optional<int64_t> parse_program_date_time(std::string_view text) {
    static const std::regex kDate(
        R"(^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})$)");
    std::string s(text);
    std::smatch m;
    if (!std::regex_match(s, m, kDate)) return std::nullopt;
    using namespace std::chrono;
    year_month_day ymd{year(std::stoi(m[1])), month(unsigned(std::stoi(m[2]))),
                       day(unsigned(std::stoi(m[3])))};
    if (!ymd.ok()) return std::nullopt;
    int hours = std::stoi(m[4]), minutes = std::stoi(m[5]), seconds = std::stoi(m[6]);
    if (hours > 23 || minutes > 59 || seconds > 60) return std::nullopt;
    int64_t ms = duration_cast<milliseconds>(sys_days(ymd).time_since_epoch()).count();
    ms += ((hours * 60 + minutes) * 60 + seconds) * 1000LL;
    if (m[7].matched) {
        std::string fraction = m[7].str().substr(1);
        fraction.resize(3, '0');
        ms += std::stoi(fraction.substr(0, 3));
    }
    std::string zone = m[8];
    if (zone != "Z") {
        int sign = zone[0] == '-' ? -1 : 1;
        std::string digits;
        for (char c : zone.substr(1))
            if (c != ':') digits += c;
        int offset_min = std::stoi(digits.substr(0, 2)) * 60 + std::stoi(digits.substr(2, 2));
        ms -= sign * offset_min * 60000LL;
    }
    return ms;
}

MasterPlaylist parse_master_playlist(std::string_view text) {
    MasterPlaylist out;
    auto lines = split_lines(text);
    out.starts_with_extm3u = !lines.empty() && lines.front() == "#EXTM3U";
    std::optional<Variant> pending;
    for (size_t i = 0; i < lines.size(); ++i) {
        int number = static_cast<int>(i + 1);
        auto line = trim(lines[i]);
        if (line.empty()) continue;
        if (auto v = tag_value(line, "#EXT-X-VERSION")) {
            out.version = parse_int<int>(*v);
            if (!out.version) out.problems.push_back(line_ref(number) + ": bad EXT-X-VERSION");
        } else if (is_tag(line, "#EXT-X-INDEPENDENT-SEGMENTS")) {
            out.independent_segments = true;
        } else if (auto v = tag_value(line, "#EXT-X-STREAM-INF")) {
            if (pending)
                out.problems.push_back(line_ref(pending->line) +
                                       ": EXT-X-STREAM-INF without a URI line after it");
            Variant variant;
            variant.line = number;
            auto attributes = parse_attribute_list(*v);
            if (!attributes) {
                out.problems.push_back(line_ref(number) + ": unreadable attribute list");
                attributes.emplace();
            }
            variant.attributes = *attributes;
            auto get = [&](const char* name) -> std::optional<std::string> {
                auto it = variant.attributes.find(name);
                if (it == variant.attributes.end()) return std::nullopt;
                return it->second;
            };
            if (auto b = get("BANDWIDTH")) variant.bandwidth = parse_int<int64_t>(*b).value_or(0);
            if (auto b = get("AVERAGE-BANDWIDTH"))
                variant.average_bandwidth = parse_int<int64_t>(*b).value_or(0);
            if (auto c = get("CODECS")) variant.codecs = *c;
            if (auto r = get("RESOLUTION")) {
                auto x = r->find('x');
                if (x != std::string::npos) {
                    variant.width = parse_int<int>(std::string_view(*r).substr(0, x)).value_or(0);
                    variant.height = parse_int<int>(std::string_view(*r).substr(x + 1)).value_or(0);
                }
            }
            if (auto f = get("FRAME-RATE")) variant.frame_rate = parse_decimal(*f);
            pending = std::move(variant);
        } else if (line.starts_with("#")) {
            continue;  // other tags and comments
        } else if (pending) {
            pending->uri = std::string(line);
            out.variants.push_back(std::move(*pending));
            pending.reset();
        } else {
            out.problems.push_back(line_ref(number) + ": URI \"" + std::string(line) +
                                   "\" without EXT-X-STREAM-INF");
        }
    }
    if (pending)
        out.problems.push_back(line_ref(pending->line) +
                               ": EXT-X-STREAM-INF without a URI line after it");
    return out;
}

MediaPlaylist parse_media_playlist(std::string_view text) {
    MediaPlaylist out;
    auto lines = split_lines(text);
    out.starts_with_extm3u = !lines.empty() && lines.front() == "#EXTM3U";
    // Tags that apply to the next segment.
    std::optional<MediaSegment> pending;
    std::optional<std::string> pdt;
    std::string map;
    bool discontinuity = false;
    int64_t index = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
        int number = static_cast<int>(i + 1);
        auto line = trim(lines[i]);
        if (line.empty()) continue;
        auto problem = [&](std::string what) {
            out.problems.push_back(line_ref(number) + ": " + what);
        };
        if (auto v = tag_value(line, "#EXT-X-VERSION")) {
            out.version = parse_int<int>(*v);
            if (!out.version) problem("bad EXT-X-VERSION");
        } else if (auto v = tag_value(line, "#EXT-X-TARGETDURATION")) {
            out.target_duration = parse_int<int64_t>(*v);
            if (!out.target_duration) problem("bad EXT-X-TARGETDURATION");
        } else if (auto v = tag_value(line, "#EXT-X-MEDIA-SEQUENCE")) {
            out.media_sequence = parse_int<int64_t>(*v);
            if (!out.media_sequence) problem("bad EXT-X-MEDIA-SEQUENCE");
            if (!out.segments.empty() || pending)
                problem("EXT-X-MEDIA-SEQUENCE after the first segment");
        } else if (auto v = tag_value(line, "#EXT-X-DISCONTINUITY-SEQUENCE")) {
            auto value = parse_int<int64_t>(*v);
            if (!value) problem("bad EXT-X-DISCONTINUITY-SEQUENCE");
            out.discontinuity_sequence = value.value_or(0);
        } else if (auto v = tag_value(line, "#EXT-X-PLAYLIST-TYPE")) {
            out.playlist_type = std::string(*v);
        } else if (is_tag(line, "#EXT-X-INDEPENDENT-SEGMENTS")) {
            out.independent_segments = true;
        } else if (is_tag(line, "#EXT-X-ENDLIST")) {
            out.endlist = true;
        } else if (is_tag(line, "#EXT-X-DISCONTINUITY")) {
            discontinuity = true;
        } else if (auto v = tag_value(line, "#EXT-X-PROGRAM-DATE-TIME")) {
            pdt = std::string(*v);
        } else if (auto v = tag_value(line, "#EXTINF")) {
            if (pending) problem("EXTINF while the previous one has no URI yet");
            MediaSegment segment;
            segment.line = number;
            auto comma = v->find(',');
            auto duration = v->substr(0, comma);
            segment.duration_text = std::string(duration);
            if (comma != std::string_view::npos) segment.title = std::string(v->substr(comma + 1));
            if (auto d = parse_decimal(duration))
                segment.duration = *d;
            else
                problem(fmt::format("bad EXTINF duration \"{}\"", duration));
            pending = std::move(segment);
        } else if (auto v = tag_value(line, "#EXT-X-MAP")) {
            const std::string_view prefix = "URI=\"";
            if (!v->starts_with(prefix) || v->size() < prefix.size() + 2 || v->back() != '"')
                problem("EXT-X-MAP without a URI=\"...\" attribute");
            else
                map = std::string(v->substr(prefix.size(), v->size() - prefix.size() - 1));
        } else if (line.starts_with("#")) {
            continue;
        } else {
            if (!pending) {
                problem(fmt::format("URI \"{}\" without EXTINF", line));
                continue;
            }
            pending->uri = std::string(line);
            pending->map_uri = map;
            pending->discontinuity = discontinuity;
            if (pdt) {
                pending->program_date_time = pdt;
                pending->pdt_ms = parse_program_date_time(*pdt);
                if (!pending->pdt_ms)
                    problem(fmt::format("bad EXT-X-PROGRAM-DATE-TIME \"{}\"", *pdt));
            }
            pending->sequence = out.media_sequence.value_or(0) + index++;
            out.segments.push_back(std::move(*pending));
            pending.reset();
            pdt.reset();
            discontinuity = false;
        }
    }
    if (pending) out.problems.push_back(line_ref(pending->line) + ": EXTINF without a URI line");
    return out;
}

std::optional<int64_t> MediaPlaylist::first_sequence() const {
    if (segments.empty()) return std::nullopt;
    return segments.front().sequence;
}

std::optional<int64_t> MediaPlaylist::last_sequence() const {
    if (segments.empty()) return std::nullopt;
    return segments.back().sequence;
}

std::vector<std::string> check_media_playlist(const MediaPlaylist& p,
                                              const MediaCheckOptions& options) {
    std::vector<std::string> out = p.problems;
    if (!p.starts_with_extm3u) out.push_back("the first line is not #EXTM3U");
    if (!p.version) out.push_back("no EXT-X-VERSION");
    if (!p.target_duration)
        out.push_back("no EXT-X-TARGETDURATION");
    else if (*p.target_duration <= 0)
        out.push_back(fmt::format("EXT-X-TARGETDURATION {} is not positive", *p.target_duration));
    if (!p.media_sequence) out.push_back("no EXT-X-MEDIA-SEQUENCE");
    if (options.require_independent_segments && !p.independent_segments)
        out.push_back("no EXT-X-INDEPENDENT-SEGMENTS");
    if (options.live && p.endlist) out.push_back("a live playlist has EXT-X-ENDLIST");
    if (options.live && p.playlist_type == "VOD")
        out.push_back("a live playlist has EXT-X-PLAYLIST-TYPE:VOD");
    if (p.playlist_type && *p.playlist_type != "VOD" && *p.playlist_type != "EVENT")
        out.push_back(
            fmt::format("EXT-X-PLAYLIST-TYPE \"{}\" is neither VOD nor EVENT", *p.playlist_type));

    std::set<std::string> uris;
    const MediaSegment* previous = nullptr;
    for (const auto& s : p.segments) {
        auto where = fmt::format("segment {} ({}, line {})", s.sequence, s.uri, s.line);
        if (s.duration <= 0)
            out.push_back(fmt::format("{}: EXTINF {} is not positive", where, s.duration_text));
        if (p.target_duration && std::lround(s.duration) > *p.target_duration)
            out.push_back(
                fmt::format("{}: EXTINF {} rounds to {} s, more than EXT-X-TARGETDURATION {}",
                            where, s.duration_text, std::lround(s.duration), *p.target_duration));
        if (!uris.insert(s.uri).second) out.push_back(fmt::format("{}: URI listed twice", where));
        const char* extension = s.map_uri.empty() ? "ts" : "m4s";
        if (options.uri_is_sequence && s.uri != fmt::format("{}.{}", s.sequence, extension))
            out.push_back(fmt::format("{}: URI is not \"{}.{}\" (its sequence number)", where,
                                      s.sequence, extension));
        // RFC 8216 section 7: EXT-X-MAP in a media playlist needs version 6.
        if (!s.map_uri.empty() && p.version && *p.version < 6)
            out.push_back(fmt::format("{}: EXT-X-MAP with EXT-X-VERSION {}", where, *p.version));
        if (s.uri.ends_with(".m4s") && s.map_uri.empty())
            out.push_back(fmt::format("{}: a CMAF segment without EXT-X-MAP", where));
        if (options.require_program_date_time && !s.program_date_time)
            out.push_back(fmt::format("{}: no EXT-X-PROGRAM-DATE-TIME", where));
        if (previous && previous->pdt_ms && s.pdt_ms) {
            double step = (*s.pdt_ms - *previous->pdt_ms) / 1000.0;
            if (step <= 0)
                out.push_back(
                    fmt::format("{}: PROGRAM-DATE-TIME {} is not after the previous "
                                "segment's {}",
                                where, *s.program_date_time, *previous->program_date_time));
            else if (!s.discontinuity &&
                     std::abs(step - previous->duration) > options.pdt_tolerance_s)
                out.push_back(fmt::format(
                    "{}: PROGRAM-DATE-TIME is {:.3f} s after the previous segment's, whose "
                    "EXTINF is {} (tolerance {:.3f} s)",
                    where, step, previous->duration_text, options.pdt_tolerance_s));
        }
        previous = &s;
    }
    return out;
}

bool valid_avc_aac_codecs(std::string_view codecs, std::string* why) {
    auto fail = [&](std::string text) {
        if (why) *why = std::move(text);
        return false;
    };
    static const std::regex kAvc(R"(^avc1\.([0-9a-fA-F]{2})([0-9a-fA-F]{2})([0-9a-fA-F]{2})$)");
    static const std::set<int> kProfiles = {66, 77, 88, 100, 110, 122, 244};
    static const std::set<int> kLevels = {9,  10, 11, 12, 13, 20, 21, 22, 30, 31,
                                          32, 40, 41, 42, 50, 51, 52, 60, 61, 62};
    std::vector<std::string> items;
    std::string_view rest = codecs;
    while (true) {
        auto comma = rest.find(',');
        items.emplace_back(trim(rest.substr(0, comma)));
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    int avc = 0, aac = 0;
    for (const auto& item : items) {
        std::smatch m;
        if (std::regex_match(item, m, kAvc)) {
            ++avc;
            int profile = std::stoi(m[1], nullptr, 16);
            int level = std::stoi(m[3], nullptr, 16);
            if (!kProfiles.contains(profile))
                return fail(
                    fmt::format("\"{}\": profile_idc {} is not an H.264 profile", item, profile));
            if (!kLevels.contains(level))
                return fail(fmt::format("\"{}\": level_idc {} is not an H.264 level", item, level));
        } else if (item == "mp4a.40.2") {
            ++aac;
        } else {
            return fail(fmt::format("\"{}\" is neither avc1.PPCCLL nor mp4a.40.2", item));
        }
    }
    if (avc != 1 || aac != 1)
        return fail(fmt::format("\"{}\" is not one avc1.PPCCLL and one mp4a.40.2", codecs));
    return true;
}

std::vector<std::string> check_master_playlist(const MasterPlaylist& p,
                                               const MasterCheckOptions& options) {
    std::vector<std::string> out = p.problems;
    if (!p.starts_with_extm3u) out.push_back("the first line is not #EXTM3U");
    if (!p.version) out.push_back("no EXT-X-VERSION");
    if (p.variants.empty()) out.push_back("no variant streams");
    std::set<std::string> uris;
    for (const auto& v : p.variants) {
        auto where = fmt::format("variant {} (line {})", v.uri, v.line);
        if (v.uri.empty()) out.push_back(where + ": no URI");
        if (!uris.insert(v.uri).second) out.push_back(where + ": URI listed twice");
        auto attribute = [&](const char* name) { return v.attributes.contains(name); };
        if (!attribute("BANDWIDTH"))
            out.push_back(where + ": no BANDWIDTH");
        else if (v.bandwidth <= 0)
            out.push_back(fmt::format("{}: BANDWIDTH \"{}\" is not a positive integer", where,
                                      v.attributes.at("BANDWIDTH")));
        if (options.require_average_bandwidth && !attribute("AVERAGE-BANDWIDTH"))
            out.push_back(where + ": no AVERAGE-BANDWIDTH");
        if (v.average_bandwidth) {
            if (*v.average_bandwidth <= 0)
                out.push_back(fmt::format("{}: AVERAGE-BANDWIDTH \"{}\" is not a positive integer",
                                          where, v.attributes.at("AVERAGE-BANDWIDTH")));
            else if (v.bandwidth > 0 && *v.average_bandwidth > v.bandwidth)
                out.push_back(fmt::format("{}: AVERAGE-BANDWIDTH {} is above BANDWIDTH {}", where,
                                          *v.average_bandwidth, v.bandwidth));
        }
        if (options.require_codecs) {
            std::string why;
            if (!attribute("CODECS"))
                out.push_back(where + ": no CODECS");
            else if (!valid_avc_aac_codecs(v.codecs, &why))
                out.push_back(where + ": CODECS " + why);
        }
        if (options.require_resolution || attribute("RESOLUTION")) {
            if (!attribute("RESOLUTION"))
                out.push_back(where + ": no RESOLUTION");
            else if (v.width <= 0 || v.height <= 0)
                out.push_back(fmt::format("{}: RESOLUTION \"{}\" is not WxH", where,
                                          v.attributes.at("RESOLUTION")));
        }
        if (options.require_frame_rate || attribute("FRAME-RATE")) {
            if (!attribute("FRAME-RATE"))
                out.push_back(where + ": no FRAME-RATE");
            else if (!v.frame_rate || *v.frame_rate <= 0)
                out.push_back(fmt::format("{}: FRAME-RATE \"{}\" is not a positive decimal", where,
                                          v.attributes.at("FRAME-RATE")));
        }
    }
    return out;
}

std::vector<std::string> ReloadTracker::add(const MediaPlaylist& p) {
    std::vector<std::string> added;
    auto report = [&](std::string text) {
        added.push_back(
            fmt::format("{}reload {}: {}", label_.empty() ? "" : label_ + " ", reloads_ + 1, text));
    };
    if (p.media_sequence && media_sequence_ && *p.media_sequence < *media_sequence_)
        report(fmt::format("EXT-X-MEDIA-SEQUENCE went back from {} to {}", *media_sequence_,
                           *p.media_sequence));
    if (p.target_duration && target_duration_ && *p.target_duration != *target_duration_)
        report(fmt::format("EXT-X-TARGETDURATION changed from {} to {}", *target_duration_,
                           *p.target_duration));
    if (discontinuity_sequence_ && p.discontinuity_sequence < *discontinuity_sequence_)
        report(fmt::format("EXT-X-DISCONTINUITY-SEQUENCE went back from {} to {}",
                           *discontinuity_sequence_, p.discontinuity_sequence));
    auto last = last_sequence();
    if (last && !p.segments.empty() && p.segments.front().sequence > *last + 1)
        report(fmt::format(
            "sequence numbers {}..{} were never listed (the previous reload ended "
            "at {}, this one starts at {})",
            *last + 1, p.segments.front().sequence - 1, *last, p.segments.front().sequence));
    for (const auto& s : p.segments) {
        auto it = seen_.find(s.sequence);
        if (it == seen_.end()) {
            seen_.emplace(s.sequence, s);
            continue;
        }
        const auto& before = it->second;
        if (before.uri != s.uri)
            report(fmt::format("segment {}: URI changed from \"{}\" to \"{}\"", s.sequence,
                               before.uri, s.uri));
        if (std::abs(before.duration - s.duration) > 1e-9)
            report(fmt::format("segment {}: EXTINF changed from {} to {}", s.sequence,
                               before.duration_text, s.duration_text));
        if (before.pdt_ms != s.pdt_ms)
            report(fmt::format("segment {}: PROGRAM-DATE-TIME changed from {} to {}", s.sequence,
                               before.program_date_time.value_or("none"),
                               s.program_date_time.value_or("none")));
        if (before.discontinuity != s.discontinuity)
            report(fmt::format("segment {}: EXT-X-DISCONTINUITY {}", s.sequence,
                               s.discontinuity ? "appeared" : "disappeared"));
    }
    if (p.media_sequence) media_sequence_ = p.media_sequence;
    if (p.target_duration && !target_duration_) target_duration_ = p.target_duration;
    discontinuity_sequence_ = p.discontinuity_sequence;
    ++reloads_;
    violations_.insert(violations_.end(), added.begin(), added.end());
    return added;
}

std::optional<int64_t> ReloadTracker::first_sequence() const {
    if (seen_.empty()) return std::nullopt;
    return seen_.begin()->first;
}

std::optional<int64_t> ReloadTracker::last_sequence() const {
    if (seen_.empty()) return std::nullopt;
    return seen_.rbegin()->first;
}

}  // namespace onair::testing
