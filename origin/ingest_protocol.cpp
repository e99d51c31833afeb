#include "origin/ingest_protocol.hpp"

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <limits>
#include <optional>
#include <type_traits>

#include <fmt/format.h>

#include "core/media_time.hpp"
#include "origin/playlist.hpp"

namespace onair::origin::ingest {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

constexpr std::size_t kTsPacket = 188;
constexpr uint8_t kTsSync = 0x47;

constexpr std::array kInputStates = {core::InputState::idle,         core::InputState::waiting,
                                     core::InputState::connected,    core::InputState::stalled,
                                     core::InputState::reconnecting, core::InputState::stopped};

template <class T>
std::optional<T> parse_integer(std::string_view text) {
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

// Reads named fields of one JSON object, collecting what is missing or mistyped.
class FieldReader {
  public:
    FieldReader(const json::object& object, std::string prefix)
        : object_(object), prefix_(std::move(prefix)) {}

    int64_t integer(std::string_view name) {
        const json::value* v = find(name);
        if (!v) return 0;
        if (v->is_int64()) return v->get_int64();
        if (v->is_uint64() && v->get_uint64() <= uint64_t(std::numeric_limits<int64_t>::max()))
            return int64_t(v->get_uint64());
        wrong(name, "an integer");
        return 0;
    }
    bool boolean(std::string_view name) {
        const json::value* v = find(name);
        if (!v) return false;
        if (v->is_bool()) return v->get_bool();
        wrong(name, "true or false");
        return false;
    }
    std::string string(std::string_view name) {
        const json::value* v = find(name);
        if (!v) return {};
        if (v->is_string()) return std::string(v->get_string());
        wrong(name, "a string");
        return {};
    }
    const json::object* object(std::string_view name) {
        const json::value* v = find(name);
        if (!v) return nullptr;
        if (v->is_object()) return &v->get_object();
        wrong(name, "an object");
        return nullptr;
    }
    void wrong(std::string_view name, std::string_view expected) {
        problems_.push_back(fmt::format("{}{} must be {}", prefix_, name, expected));
    }
    std::vector<std::string>& problems() { return problems_; }

  private:
    const json::value* find(std::string_view name) {
        const json::value* v = object_.if_contains(name);
        if (!v) problems_.push_back(fmt::format("{}{} is missing", prefix_, name));
        return v;
    }

    const json::object& object_;
    std::string prefix_;
    std::vector<std::string> problems_;
};

std::expected<json::object, std::string> parse_object(std::string_view text) {
    boost::system::error_code ec;
    json::value value = json::parse(json::string_view(text.data(), text.size()), ec);
    if (ec) return std::unexpected(fmt::format("the body is not JSON: {}", ec.message()));
    if (!value.is_object()) return std::unexpected(std::string("the body is not a JSON object"));
    return std::move(value.as_object());
}

}  // namespace

std::string segment_target(std::string_view channel, char pipeline, std::string_view rendition,
                           int64_t sequence, core::Container container) {
    return fmt::format("/ingest/v1/{}/{}/{}/{}", channel, pipeline, rendition,
                       segment_uri(sequence, container));
}

std::string part_target(std::string_view channel, char pipeline, std::string_view rendition,
                        int64_t sequence, int index) {
    return fmt::format("/ingest/v1/{}/{}/{}/{}", channel, pipeline, rendition,
                       part_uri(sequence, index));
}

std::string anchor_target(std::string_view channel) {
    return fmt::format("/ingest/v1/{}/anchor", channel);
}

std::string status_target(std::string_view channel, char pipeline) {
    return fmt::format("/ingest/v1/{}/{}/status", channel, pipeline);
}

std::string health_text(const core::ContentHealth& health) {
    std::vector<std::string> parts;
    if (health.black) parts.emplace_back("black");
    if (health.frozen) parts.emplace_back("frozen");
    if (health.silent) parts.emplace_back("silent");
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
    return out;
}

namespace {

// Reads metadata headers, collecting every missing and invalid one.
class HeaderReader {
  public:
    explicit HeaderReader(const http::fields& fields) : fields_(fields) {}

    std::optional<std::string_view> value(std::string_view name, bool required) {
        auto it = fields_.find(name);
        if (it == fields_.end()) {
            if (required) missing_.emplace_back(name);
            return std::nullopt;
        }
        return std::string_view(it->value().data(), it->value().size());
    }
    void bad(std::string_view name, std::string_view text, std::string_view expected) {
        invalid_.push_back(fmt::format("{} ('{}' is not {})", name, text.substr(0, 40), expected));
    }
    int64_t integer(std::string_view name, bool required, int64_t fallback) {
        auto text = value(name, required);
        if (!text) return fallback;
        auto n = parse_integer<int64_t>(*text);
        if (!n) bad(name, *text, "an integer");
        return n.value_or(fallback);
    }
    int frame_count(std::string_view name) {
        const int64_t frames = integer(name, true, 0);
        if (frames > std::numeric_limits<int>::max() || frames < std::numeric_limits<int>::min()) {
            bad(name, std::to_string(frames), "a frame count");
            return 0;
        }
        return int(frames);
    }
    std::optional<bool> flag(std::string_view name, bool required) {
        auto text = value(name, required);
        if (!text) return std::nullopt;
        if (*text == "0" || *text == "1") return *text == "1";
        bad(name, *text, "0 or 1");
        return std::nullopt;
    }
    core::SharedInit init() {
        auto text = value(kInit, false);
        if (!text) return nullptr;
        // Room for unpadded input too: Beast's decoded_size() counts whole
        // groups of four only, and the decoder writes a partial group's bytes.
        core::Bytes bytes((text->size() + 3) / 4 * 3);
        auto [written, read] =
            beast::detail::base64::decode(bytes.data(), text->data(), text->size());
        bytes.resize(written);
        // The decoder stops at the padding: what is left must be just that.
        const auto rest = text->substr(read);
        const bool whole =
            rest.size() <= 2 && rest.find_first_not_of('=') == std::string_view::npos;
        if (!whole || bytes.empty() || bytes.size() > kMaxInitBytes) {
            bad(kInit, *text, "an init section in base64");
            return nullptr;
        }
        return core::InitSection::of(std::move(bytes));
    }
    // Empty when every header was there and valid.
    std::string problems() const {
        std::string message;
        if (!missing_.empty()) message = "missing headers: " + join(missing_);
        if (!invalid_.empty())
            message +=
                (message.empty() ? "" : "; ") + std::string("invalid headers: ") + join(invalid_);
        return message;
    }

  private:
    const http::fields& fields_;
    std::vector<std::string> missing_, invalid_;
};

void set_init_header(http::fields& fields, const core::SharedInit& init) {
    if (!init) return;
    const auto& bytes = init->bytes;
    std::string encoded(beast::detail::base64::encoded_size(bytes.size()), '\0');
    encoded.resize(beast::detail::base64::encode(encoded.data(), bytes.data(), bytes.size()));
    fields.set(kInit, encoded);
}

}  // namespace

void set_segment_headers(http::fields& fields, const core::Segment& s) {
    fields.set(kStart, std::to_string(s.start));
    fields.set(kDuration, std::to_string(s.duration));
    fields.set(kFrames, std::to_string(s.frames));
    fields.set(kSlate, s.slate ? "1" : "0");
    fields.set(kHealth, health_text(s.health));
    fields.set(kInputUtcMs, std::to_string(s.input_utc_ms));
    fields.set(kWidth, std::to_string(s.width));
    fields.set(kHeight, std::to_string(s.height));
    fields.set(kFrameRate, fmt::format("{}/{}", s.frame_rate.num, s.frame_rate.den));
    fields.set(kCodecs, s.codecs);
    set_init_header(fields, s.init);
}

std::expected<core::Segment, std::string> read_segment_headers(const http::fields& fields) {
    HeaderReader headers(fields);
    core::Segment s;
    s.start = headers.integer(kStart, true, 0);
    s.duration = headers.integer(kDuration, true, 0);
    s.frames = headers.frame_count(kFrames);
    s.slate = headers.flag(kSlate, true).value_or(false);
    if (auto health = headers.value(kHealth, false); health && !health->empty()) {
        std::string_view rest = *health;
        while (true) {
            auto comma = rest.find(',');
            std::string_view word = rest.substr(0, comma);
            if (word == "black")
                s.health.black = true;
            else if (word == "frozen")
                s.health.frozen = true;
            else if (word == "silent")
                s.health.silent = true;
            else {
                headers.bad(kHealth, *health, "a list of black, frozen, silent");
                break;
            }
            if (comma == std::string_view::npos) break;
            rest = rest.substr(comma + 1);
        }
    }
    s.input_utc_ms = headers.integer(kInputUtcMs, false, 0);
    auto dimension = [&](std::string_view name) {
        int64_t n = headers.integer(name, true, 0);
        if (n < 0 || n > 16384) headers.bad(name, std::to_string(n), "a picture size (0 to 16384)");
        return int(std::clamp<int64_t>(n, 0, 16384));
    };
    s.width = dimension(kWidth);
    s.height = dimension(kHeight);
    if (auto rate = headers.value(kFrameRate, true)) {
        auto slash = rate->find('/');
        auto num = parse_integer<int>(rate->substr(0, slash));
        auto den = slash == std::string_view::npos ? std::optional<int>()
                                                   : parse_integer<int>(rate->substr(slash + 1));
        if (num && den && *num >= 0 && *den > 0)
            s.frame_rate = {*num, *den};
        else
            headers.bad(kFrameRate, *rate, "NUM/DEN");
    }
    if (auto codecs = headers.value(kCodecs, true)) {
        // It goes into the master playlist's CODECS="..." as it is.
        bool clean = !codecs->empty() && std::all_of(codecs->begin(), codecs->end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ',' || c == '-';
        });
        if (clean)
            s.codecs = std::string(*codecs);
        else
            headers.bad(kCodecs, *codecs, "an RFC 6381 codecs list");
    }
    s.init = headers.init();
    if (auto problems = headers.problems(); !problems.empty()) return std::unexpected(problems);
    return s;
}

void set_part_headers(http::fields& fields, const core::Part& part) {
    fields.set(kStart, std::to_string(part.start));
    fields.set(kDuration, std::to_string(part.duration));
    fields.set(kFrames, std::to_string(part.frames));
    fields.set(kIndependent, part.independent ? "1" : "0");
    fields.set(kInputUtcMs, std::to_string(part.input_utc_ms));
    set_init_header(fields, part.init);
}

std::expected<core::Part, std::string> read_part_headers(const http::fields& fields) {
    HeaderReader headers(fields);
    core::Part part;
    part.start = headers.integer(kStart, true, 0);
    part.duration = headers.integer(kDuration, true, 0);
    part.frames = headers.frame_count(kFrames);
    part.independent = headers.flag(kIndependent, true).value_or(false);
    part.input_utc_ms = headers.integer(kInputUtcMs, false, 0);
    part.init = headers.init();
    if (!part.init) headers.value(kInit, true);  // counted as missing when absent
    if (auto problems = headers.problems(); !problems.empty()) return std::unexpected(problems);
    return part;
}

std::string ts_problem(std::string_view body) {
    if (body.empty()) return "the body is empty";
    if (body.size() % kTsPacket != 0)
        return fmt::format("the body is {} bytes, not a whole number of {}-byte TS packets",
                           body.size(), kTsPacket);
    for (std::size_t at = 0; at < body.size(); at += kTsPacket)
        if (uint8_t(body[at]) != kTsSync)
            return fmt::format("TS packet {} does not start with the sync byte 0x47",
                               at / kTsPacket);
    return {};
}

std::string cmaf_problem(std::string_view body) {
    if (body.empty()) return "the body is empty";
    bool fragment = false, data = false;
    for (std::size_t at = 0; at < body.size();) {
        if (body.size() - at < 8)
            return fmt::format("{} bytes after the last box at {}", body.size() - at, at);
        const auto* p = reinterpret_cast<const uint8_t*>(body.data() + at);
        const uint64_t size = uint64_t(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3];
        const std::string_view type = body.substr(at + 4, 4);
        if (size < 8 || size > body.size() - at)
            return fmt::format("the box '{}' at {} claims {} bytes", type, at, size);
        fragment = fragment || type == "moof";
        data = data || (type == "mdat" && fragment);
        at += size;
    }
    if (!fragment || !data) return "the body holds no moof box followed by an mdat box";
    return {};
}

std::string anchor_json(const AnchorQuery& q) {
    json::object o;
    o["pts"] = q.pts;
    o["now"] = q.now;
    o["lag"] = q.lag;
    o["tolerance"] = q.tolerance;
    return json::serialize(o);
}

std::expected<AnchorQuery, std::string> parse_anchor_query(std::string_view text) {
    auto object = parse_object(text);
    if (!object) return std::unexpected(object.error());
    FieldReader read(*object, "");
    AnchorQuery q;
    q.pts = read.integer("pts");
    q.now = read.integer("now");
    q.lag = read.integer("lag");
    q.tolerance = read.integer("tolerance");
    if (read.problems().empty() && (q.tolerance < 0 || q.tolerance > core::kPtsWrap / 2))
        read.wrong("tolerance", "between 0 and 2^32 ticks");
    if (!read.problems().empty()) return std::unexpected(join(read.problems()));
    return q;
}

std::expected<int64_t, std::string> parse_anchor_offset(std::string_view text) {
    auto object = parse_object(text);
    if (!object) return std::unexpected(object.error());
    FieldReader read(*object, "");
    int64_t offset = read.integer("offset");
    if (!read.problems().empty()) return std::unexpected(join(read.problems()));
    return offset;
}

StatusReport StatusReport::of(const core::PipelineRuntimeStatus& status) {
    StatusReport r;
    r.state = status.input.state.load();
    r.note = status.input.note();
    auto copy = [](const core::Figure&, auto& to, const auto& from) {
        to = core::figure_value(from);
    };
    core::for_each_input_figure(copy, r, status.input);
    core::for_each_pipeline_figure(copy, r, status.pipeline);
    return r;
}

void StatusReport::apply_to(core::PipelineRuntimeStatus& status) const {
    status.input.state = state;
    status.input.set_note(note);
    auto copy = [](const core::Figure&, auto& to, const auto& from) { to = from; };
    core::for_each_input_figure(copy, status.input, *this);
    core::for_each_pipeline_figure(copy, status.pipeline, *this);
}

std::string status_json(const StatusReport& r) {
    json::object input;
    input["state"] = core::to_string(r.state);
    input["note"] = r.note;
    core::for_each_input_figure(
        [&](const core::Figure& f, const auto& value) { input[f.name] = value; }, r);
    json::object pipeline;
    core::for_each_pipeline_figure(
        [&](const core::Figure& f, const auto& value) { pipeline[f.name] = value; }, r);
    json::object o;
    o["input"] = std::move(input);
    o["pipeline"] = std::move(pipeline);
    return json::serialize(o);
}

namespace {

// Reads every figure of a table into the members of `r` of the same names.
template <class ForEach>
void read_figures(FieldReader& read, StatusReport& r, ForEach for_each) {
    for_each(
        [&](const core::Figure& f, auto& member) {
            if constexpr (std::is_same_v<std::remove_cvref_t<decltype(member)>, bool>)
                member = read.boolean(f.name);
            else
                member = read.integer(f.name);
        },
        r);
}

}  // namespace

std::expected<StatusReport, std::string> parse_status(std::string_view text) {
    auto object = parse_object(text);
    if (!object) return std::unexpected(object.error());
    FieldReader top(*object, "");
    const json::object* input = top.object("input");
    const json::object* pipeline = top.object("pipeline");
    std::vector<std::string> problems = std::move(top.problems());
    StatusReport r;
    if (input) {
        FieldReader read(*input, "input.");
        std::string state = read.string("state");
        bool known = false;
        for (auto s : kInputStates)
            if (state == core::to_string(s)) r.state = s, known = true;
        if (read.problems().empty() && !known)
            read.wrong("state", "idle, waiting, connected, stalled, reconnecting or stopped");
        read_figures(read, r, [](auto&&... a) { core::for_each_input_figure(a...); });
        r.note = read.string("note");
        problems.insert(problems.end(), read.problems().begin(), read.problems().end());
    }
    if (pipeline) {
        FieldReader read(*pipeline, "pipeline.");
        read_figures(read, r, [](auto&&... a) { core::for_each_pipeline_figure(a...); });
        problems.insert(problems.end(), read.problems().begin(), read.problems().end());
    }
    if (!problems.empty()) return std::unexpected(join(problems));
    return r;
}

}  // namespace onair::origin::ingest
