#include "tests/support/ffprobe.hpp"

#include <sstream>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <boost/json.hpp>

namespace onair::testing {
namespace {

namespace json = boost::json;

std::optional<double> number(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) return std::nullopt;
    const auto& v = it->value();
    if (v.is_double()) return v.as_double();
    if (v.is_int64()) return static_cast<double>(v.as_int64());
    if (v.is_uint64()) return static_cast<double>(v.as_uint64());
    if (v.is_string()) {
        std::string s(v.as_string());
        if (s.empty() || s == "N/A") return std::nullopt;
        try {
            size_t used = 0;
            double d = std::stod(s, &used);
            if (used == s.size()) return d;
        } catch (...) {
        }
    }
    return std::nullopt;
}

std::string text(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_string()) return {};
    return std::string(it->value().as_string());
}

// "25/1" -> 25; "0/0" -> 0.
double rate(const std::string& s) {
    auto slash = s.find('/');
    if (slash == std::string::npos) return 0;
    try {
        double num = std::stod(s.substr(0, slash));
        double den = std::stod(s.substr(slash + 1));
        return den > 0 ? num / den : 0;
    } catch (...) {
        return 0;
    }
}

}  // namespace

const ProbeStream* ProbeResult::video() const {
    for (const auto& s : streams)
        if (s.codec_type == "video") return &s;
    return nullptr;
}

const ProbeStream* ProbeResult::audio() const {
    for (const auto& s : streams)
        if (s.codec_type == "audio") return &s;
    return nullptr;
}

std::optional<double> ProbeResult::frame_duration() const {
    for (const auto& f : video_frames)
        if (f.duration_time && *f.duration_time > 0) return f.duration_time;
    if (auto* v = video(); v && v->frame_rate > 0) return 1.0 / v->frame_rate;
    return std::nullopt;
}

std::optional<double> ProbeResult::video_duration() const {
    std::optional<double> first, last;
    for (const auto& f : video_frames) {
        if (!f.pts_time) continue;
        first = first ? std::min(*first, *f.pts_time) : *f.pts_time;
        last = last ? std::max(*last, *f.pts_time) : *f.pts_time;
    }
    auto frame = frame_duration();
    if (!first || !frame) return std::nullopt;
    return *last - *first + *frame;
}

std::string ProbeResult::summary() const {
    std::string out = fmt::format("ffprobe {}: {}", target,
                                  status ? status->describe() : std::string("timed out"));
    for (const auto& s : streams)
        out += fmt::format("; stream {} {} {} {} level {} {}x{} {:.3f} fps", s.index, s.codec_type,
                           s.codec_name, s.profile, s.level, s.width, s.height, s.frame_rate);
    out += fmt::format("; {} video frames", video_frames.size());
    if (!video_frames.empty())
        out += fmt::format(" (first: {} key={})", video_frames.front().pict_type,
                           video_frames.front().key_frame);
    if (auto d = video_duration()) out += fmt::format(", video {:.3f} s", *d);
    out += fmt::format("; {} audio frames", audio_frames);
    if (!errors.empty()) out += "; stderr: " + errors;
    if (!parse_error.empty()) out += "; " + parse_error;
    return out;
}

ProbeResult probe(const std::string& target, const std::filesystem::path& output_dir,
                  std::chrono::milliseconds timeout) {
    ProbeResult result;
    result.target = target;
    ProcessOptions options;
    options.argv = {"ffprobe",
                    "-hide_banner",
                    "-v",
                    "error",
                    "-print_format",
                    "json",
                    "-show_entries",
                    "stream=index,codec_type,codec_name,profile,level,width,height,r_frame_rate,"
                    "avg_frame_rate,sample_rate,channels:format=duration:frame=media_type,"
                    "stream_index,key_frame,pict_type,pts_time,pkt_duration_time,duration_time",
                    target};
    options.output_dir = output_dir;
    options.name = "ffprobe";
    options.report_on_failure = false;  // the result carries stderr
    {
        Process p(options);
        result.command = p.command_line();
        result.status = p.wait_for(timeout);
        if (!result.status) p.kill();
        result.errors = p.read_stderr();
        auto out = p.read_stdout();
        boost::system::error_code ec;
        auto doc = json::parse(out, ec);
        if (ec || !doc.is_object()) {
            result.parse_error = fmt::format("ffprobe output is not JSON: {}", ec.message());
            return result;
        }
        const auto& root = doc.as_object();
        std::optional<int> video_index;
        if (auto it = root.find("streams"); it != root.end() && it->value().is_array()) {
            for (const auto& v : it->value().as_array()) {
                if (!v.is_object()) continue;
                const auto& o = v.as_object();
                ProbeStream s;
                s.index = static_cast<int>(number(o, "index").value_or(-1));
                s.codec_type = text(o, "codec_type");
                s.codec_name = text(o, "codec_name");
                s.profile = text(o, "profile");
                s.level = static_cast<int>(number(o, "level").value_or(0));
                s.width = static_cast<int>(number(o, "width").value_or(0));
                s.height = static_cast<int>(number(o, "height").value_or(0));
                s.frame_rate = rate(text(o, "avg_frame_rate"));
                if (s.frame_rate <= 0) s.frame_rate = rate(text(o, "r_frame_rate"));
                s.sample_rate = static_cast<int>(number(o, "sample_rate").value_or(0));
                s.channels = static_cast<int>(number(o, "channels").value_or(0));
                if (s.codec_type == "video" && !video_index) video_index = s.index;
                result.streams.push_back(std::move(s));
            }
        }
        if (auto it = root.find("format"); it != root.end() && it->value().is_object())
            result.format_duration = number(it->value().as_object(), "duration");
        if (auto it = root.find("frames"); it != root.end() && it->value().is_array()) {
            for (const auto& v : it->value().as_array()) {
                if (!v.is_object()) continue;
                const auto& o = v.as_object();
                auto type = text(o, "media_type");
                if (type == "audio") {
                    ++result.audio_frames;
                    continue;
                }
                if (type != "video") continue;
                auto index = number(o, "stream_index");
                if (video_index && index && static_cast<int>(*index) != *video_index) continue;
                ProbeFrame f;
                f.pts_time = number(o, "pts_time");
                f.duration_time = number(o, "duration_time");
                if (!f.duration_time) f.duration_time = number(o, "pkt_duration_time");
                f.key_frame = number(o, "key_frame").value_or(0) != 0;
                f.pict_type = text(o, "pict_type");
                result.video_frames.push_back(std::move(f));
            }
        }
    }
    return result;
}

std::optional<double> probe_luma(const std::filesystem::path& file,
                                 const std::filesystem::path& output_dir) {
    ProcessOptions options;
    // movie= takes a filter-graph string: escape what it treats specially.
    std::string path = file.string();
    std::string escaped;
    for (char c : path) {
        if (c == ':' || c == '\\' || c == '\'' || c == ',' || c == ';' || c == '[' || c == ']')
            escaped += '\\';
        escaped += c;
    }
    options.argv = {"ffprobe",
                    "-hide_banner",
                    "-v",
                    "error",
                    "-f",
                    "lavfi",
                    "-i",
                    fmt::format("movie={},signalstats", escaped),
                    "-show_entries",
                    "frame_tags=lavfi.signalstats.YAVG",
                    "-of",
                    "csv=p=0"};
    options.output_dir = output_dir;
    options.name = "ffprobe-luma";
    options.report_on_failure = false;
    Process p(options);
    auto status = p.wait_for(std::chrono::seconds(30));
    if (!status || !status->success()) return std::nullopt;
    std::optional<double> last;
    std::istringstream lines(p.read_stdout());
    for (std::string line; std::getline(lines, line);) {
        if (line.empty()) continue;
        try {
            last = std::stod(line);
        } catch (const std::exception&) {
        }
    }
    return last;
}

std::string AvcSps::codec_string() const {
    return fmt::format("avc1.{:02x}{:02x}{:02x}", profile_idc, constraint_flags, level_idc);
}

std::string h264_elementary_stream(std::string_view ts, size_t limit) {
    constexpr size_t kPacket = 188;
    auto byte = [&](size_t i) { return static_cast<uint8_t>(ts[i]); };
    int pmt_pid = -1, video_pid = -1;
    std::string es;
    for (size_t at = 0; at + kPacket <= ts.size() && es.size() < limit; at += kPacket) {
        if (byte(at) != 0x47) break;  // lost sync: keep what we have
        bool start = byte(at + 1) & 0x40;
        int pid = ((byte(at + 1) & 0x1f) << 8) | byte(at + 2);
        int adaptation = (byte(at + 3) >> 4) & 0x3;
        size_t payload = at + 4;
        if (adaptation == 0 || adaptation == 2) continue;  // no payload
        if (adaptation == 3) payload += 1 + byte(at + 4);
        if (payload >= at + kPacket) continue;
        std::string_view data = ts.substr(payload, at + kPacket - payload);
        auto u8 = [&](size_t i) { return static_cast<uint8_t>(data[i]); };
        if (pid == video_pid) {
            if (start) {
                // PES header: 00 00 01 stream_id, length(2), flags(2), header_data_length.
                if (data.size() < 9 || u8(0) != 0 || u8(1) != 0 || u8(2) != 1) continue;
                size_t skip = 9 + u8(8);
                if (skip >= data.size()) continue;
                data.remove_prefix(skip);
            }
            es.append(data);
            continue;
        }
        if ((pid != 0 && pid != pmt_pid) || !start) continue;
        // A PSI section: pointer field, then table_id, section_length.
        size_t p = 1 + u8(0);
        if (p + 3 > data.size()) continue;
        size_t section_length = ((u8(p + 1) & 0x0f) << 8) | u8(p + 2);
        size_t end = std::min(data.size(), p + 3 + section_length);
        if (end < 4) continue;
        end -= 4;  // CRC
        if (pid == 0 && u8(p) == 0x00) {
            for (size_t i = p + 8; i + 4 <= end; i += 4) {
                int program = (u8(i) << 8) | u8(i + 1);
                if (program != 0) {
                    pmt_pid = ((u8(i + 2) & 0x1f) << 8) | u8(i + 3);
                    break;
                }
            }
        } else if (pid == pmt_pid && u8(p) == 0x02 && video_pid < 0) {
            if (p + 12 > data.size()) continue;
            size_t info = ((u8(p + 10) & 0x0f) << 8) | u8(p + 11);
            for (size_t i = p + 12 + info; i + 5 <= end;) {
                int type = u8(i);
                int es_pid = ((u8(i + 1) & 0x1f) << 8) | u8(i + 2);
                size_t es_info = ((u8(i + 3) & 0x0f) << 8) | u8(i + 4);
                if (type == 0x1b) {
                    video_pid = es_pid;
                    break;
                }
                i += 5 + es_info;
            }
        }
    }
    return es;
}

namespace {

// Calls f(nal_unit_type, offset of the NAL header) for each NAL unit until f returns true.
template <class F>
void for_each_nal(const std::string& es, F&& f) {
    for (size_t i = 0; i + 3 < es.size(); ++i) {
        if (es[i] == 0 && es[i + 1] == 0 && es[i + 2] == 1) {
            if (f(static_cast<uint8_t>(es[i + 3]) & 0x1f, i + 3)) return;
            i += 2;
        }
    }
}

}  // namespace

std::optional<AvcSps> find_avc_sps(std::string_view ts) {
    auto es = h264_elementary_stream(ts, 1u << 20);
    std::optional<AvcSps> out;
    for_each_nal(es, [&](int type, size_t at) {
        if (type != 7 || at + 3 >= es.size()) return false;
        out = AvcSps{static_cast<uint8_t>(es[at + 1]), static_cast<uint8_t>(es[at + 2]),
                     static_cast<uint8_t>(es[at + 3])};
        return true;
    });
    return out;
}

std::optional<int> first_slice_nal_type(std::string_view ts) {
    auto es = h264_elementary_stream(ts, 1u << 20);
    std::optional<int> out;
    for_each_nal(es, [&](int type, size_t) {
        if (type != 1 && type != 5) return false;
        out = type;
        return true;
    });
    return out;
}

int profile_idc_from_name(std::string_view name) {
    if (name == "Baseline" || name == "Constrained Baseline") return 66;
    if (name == "Main") return 77;
    if (name == "Extended") return 88;
    if (name == "High" || name == "Constrained High" || name == "Progressive High") return 100;
    if (name == "High 10" || name == "High 10 Intra") return 110;
    if (name == "High 4:2:2" || name == "High 4:2:2 Intra") return 122;
    if (name == "High 4:4:4 Predictive" || name == "High 4:4:4 Intra") return 244;
    return 0;
}

}  // namespace onair::testing
