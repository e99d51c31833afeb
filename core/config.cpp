// The channel file: yaml-cpp reads it into nodes, a Reader walks the schema
// below and collects every problem before giving up, so one `onair check`
// shows them all. Limits live in the constants at the top; every message
// states the allowed set or range.
#include "core/config.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <system_error>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>
#include <boost/url/parse.hpp>

namespace onair::core {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;

constexpr std::array kTopKeys = {
    "channel"sv, "inputs"sv,     "timecode"sv, "ladder"sv, "audio"sv, "encoder"sv, "hls"sv,
    "origin"sv,  "input_loss"sv, "failover"sv, "data"sv,   "dvr"sv,   "clips"sv};
constexpr std::array kInputKeys = {"a"sv, "b"sv};
constexpr std::array kRungKeys = {"name"sv,        "width"sv,   "height"sv,  "bitrate"sv,
                                  "max_bitrate"sv, "bufsize"sv, "profile"sv, "fps"sv};
constexpr std::array kAudioKeys = {"bitrate"sv, "channels"sv, "sample_rate"sv};
constexpr std::array kEncoderKeys = {"preset"sv, "gop"sv};
constexpr std::array kHlsKeys = {"segment"sv, "window"sv};
constexpr std::array kOriginKeys = {"listen"sv, "threads"sv, "ingest_token_file"sv,
                                    "api_token_file"sv};
constexpr std::array kInputLossKeys = {"after"sv, "repeat_last"sv, "then"sv, "slate"sv};
constexpr std::array kFailoverKeys = {"mode"sv,   "late_after"sv, "return_after"sv, "black"sv,
                                      "freeze"sv, "silence"sv,    "webhook"sv};
constexpr std::array kBlackKeys = {"threshold"sv, "pixel"sv, "duration"sv};
constexpr std::array kFreezeKeys = {"threshold"sv, "duration"sv};
constexpr std::array kSilenceKeys = {"threshold"sv, "duration"sv};
constexpr std::array kDvrKeys = {"window"sv, "max_size"sv};
constexpr std::array kClipsKeys = {"concurrency"sv, "rendition"sv, "webhook"sv};
constexpr std::array kLossFills = {"black"sv, "slate"sv};
constexpr std::array kFailoverModes = {"primary-preferred"sv, "equal"sv};

constexpr std::array kTimecodes = {"pts"sv, "systemclock"sv};
constexpr std::array kProfiles = {"baseline"sv, "main"sv, "high"sv};
constexpr std::array kPresets = {"ultrafast"sv, "superfast"sv, "veryfast"sv, "faster"sv,
                                 "fast"sv,      "medium"sv,    "slow"sv,     "slower"sv,
                                 "veryslow"sv,  "placebo"sv};
constexpr std::array<int64_t, 3> kAudioChannels = {1, 2, 6};
constexpr std::array<int64_t, 3> kSampleRates = {32000, 44100, 48000};

constexpr size_t kMaxChannelName = 64;
constexpr size_t kMaxRungName = 32;
constexpr size_t kMaxRungs = 8;
constexpr int64_t kMinWidth = 64, kMaxWidth = 7680;  // up to 8K UHD
constexpr int64_t kMinHeight = 64, kMaxHeight = 4320;
constexpr int64_t kMinVideoBitrate = 16'000, kMaxVideoBitrate = 100'000'000;
constexpr int64_t kMaxBufsize = 200'000'000;
constexpr int64_t kMinFps = 1, kMaxFps = 120;
constexpr int64_t kMinAudioBitrate = 16'000, kMaxAudioBitrate = 512'000;
constexpr Micros kMinGop = 100ms, kMaxGop = 10s;
constexpr Micros kMinSegment = 1s, kMaxSegment = 60s;
constexpr int64_t kMinWindowSegments = 3;  // RFC 8216 6.2.2: at least three target durations
constexpr Micros kMaxWindow = 24h;
constexpr int64_t kMaxThreads = 64;
constexpr Micros kMaxLossWait = 60s;
constexpr Micros kMinDvrWindow = 1min, kMaxDvrWindow = 720h;  // up to 30 days
constexpr int64_t kMinDvrBytes = 10'000'000;
constexpr int64_t kMaxClipJobs = 16;
constexpr Micros kMinLateAfter = 100ms;
constexpr Micros kMaxReturnAfter = 1h;
constexpr Micros kMinCheckDuration = 100ms, kMaxCheckDuration = 10min;
constexpr double kMinDb = -120, kMaxDb = 0;
constexpr size_t kMaxFileBytes = 1 << 20;  // a channel file is a page; this is plenty

constexpr auto kNameChars = "A-Z, a-z, 0-9, _ and -";
constexpr auto kListenForm = "HOST:PORT with an IPv4 address, [IPv6] address or host name";
constexpr auto kInputForms =
    "srt://HOST:PORT?mode=listener|caller&latency=MS&passphrase=...&streamid=..., "
    "udp://HOST:PORT, rtp://HOST:PORT, testsrc:?size=WxH&rate=FPS&tone=HZ";

SourcePosition position_of(const YAML::Node& node) {
    auto mark = node.Mark();
    if (mark.is_null() || mark.line < 0) return {};
    return {mark.line + 1, mark.column + 1};
}

bool before(const Diagnostic& a, const Diagnostic& b) {
    return std::pair(a.position.line, a.position.column) <
           std::pair(b.position.line, b.position.column);
}

std::string join(std::span<const std::string_view> items) {
    std::string out;
    for (auto item : items) out += (out.empty() ? "" : ", ") + std::string(item);
    return out;
}

std::string join(std::span<const int64_t> items) {
    std::string out;
    for (auto item : items) out += (out.empty() ? "" : ", ") + std::to_string(item);
    return out;
}

std::string key_path(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
}

std::string with_hint(std::string message, std::string_view word,
                      std::span<const std::string_view> candidates) {
    if (auto guess = closest_match(word, candidates); !guess.empty())
        message += fmt::format(", did you mean \"{}\"?", guess);
    return message;
}

// A plain decimal number: "3000", "-2", "12.5" (not "inf" or "1e3").
bool is_number(std::string_view text) {
    if (text.starts_with('-')) text.remove_prefix(1);
    bool digits = false, dot = false;
    for (char c : text) {
        if (std::isdigit(static_cast<unsigned char>(c)))
            digits = true;
        else if (c == '.' && !dot)
            dot = true;
        else
            return false;
    }
    return digits;
}

std::string shortened(const std::string& text) {
    constexpr size_t kMax = 40;
    return text.size() <= kMax ? text : text.substr(0, kMax) + "...";
}

// What a node is, for "expected X, got Y".
std::string describe(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map:
            return "a map";
        case YAML::NodeType::Sequence:
            return "a sequence";
        case YAML::NodeType::Scalar:
            if (is_number(node.Scalar())) return fmt::format("the number {}", node.Scalar());
            return fmt::format("the string \"{}\"", shortened(node.Scalar()));
        default:
            return "nothing";
    }
}

bool valid_name(std::string_view name, size_t max_size) {
    if (name.empty() || name.size() > max_size) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
}

std::string host_port(std::string_view host, int port) {
    if (host.find(':') != std::string_view::npos) return fmt::format("[{}]:{}", host, port);
    return fmt::format("{}:{}", host, port);
}

// One key of a map (or one item of a sequence) and where it was written.
struct Field {
    std::string path;
    YAML::Node value;
    SourcePosition key_at;    // the key, or the item for sequence items
    SourcePosition value_at;  // the value; the key's place when the value is empty
};

using Fields = std::map<std::string, Field, std::less<>>;

// Walks the document. Each reader reports its own problems and returns
// nullopt on failure, so the caller can keep going with the default.
class Reader {
  public:
    Reader(std::string file, std::map<std::string, SourcePosition>& positions)
        : file_(std::move(file)), positions_(positions) {}

    void error(SourcePosition at, std::string key, std::string message, std::string allowed = {}) {
        diagnostics_.push_back({file_, at, std::move(key), std::move(message), std::move(allowed)});
    }

    bool failed() const { return !diagnostics_.empty(); }
    std::map<std::string, SourcePosition>& positions() { return positions_; }

    std::vector<Diagnostic> take() {
        std::stable_sort(diagnostics_.begin(), diagnostics_.end(), before);
        return std::move(diagnostics_);
    }

    // The entries of a map whose keys must be among `keys`. Unknown and
    // repeated keys are reported; positions of known ones are recorded.
    std::optional<Fields> fields(const Field& parent, std::span<const std::string_view> keys) {
        if (!parent.value.IsMap()) {
            error(parent.value_at, parent.path,
                  fmt::format("expected a map, got {}", describe(parent.value)),
                  fmt::format("a map with keys {}", join(keys)));
            return std::nullopt;
        }
        Fields out;
        for (const auto& entry : parent.value) {
            auto key_at = position_of(entry.first);
            if (!entry.first.IsScalar()) {
                error(key_at, parent.path,
                      fmt::format("expected a key, got {}", describe(entry.first)), join(keys));
                continue;
            }
            const auto& name = entry.first.Scalar();
            auto path = key_path(parent.path, name);
            if (name == "<<") {  // YAML 1.1 merge keys; yaml-cpp reads them as plain keys
                error(key_at, path, "merge keys (<<: *anchor) are not supported",
                      "the keys written out: " + join(keys));
                continue;
            }
            if (std::find(keys.begin(), keys.end(), name) == keys.end()) {
                error(key_at, path, with_hint("unknown key", name, keys), join(keys));
                continue;
            }
            if (auto first = out.find(name); first != out.end()) {
                error(
                    key_at, path,
                    fmt::format("repeated key, first given on line {}", first->second.key_at.line),
                    "each key once");
                continue;
            }
            // yaml-cpp marks an empty value where the next token starts.
            auto value_at = entry.second.IsNull() ? key_at : position_of(entry.second);
            if (value_at.line == 0) value_at = key_at;
            positions_[path] = key_at;
            out.emplace(name, Field{path, entry.second, key_at, value_at});
        }
        return out;
    }

    const Field* find(const Fields& fields, std::string_view name) {
        auto it = fields.find(name);
        return it == fields.end() ? nullptr : &it->second;
    }

    const Field* require(const Fields& fields, const Field& parent, std::string_view name,
                         std::string allowed) {
        if (auto* field = find(fields, name)) return field;
        error(parent.key_at, key_path(parent.path, name), "required key is missing",
              std::move(allowed));
        return nullptr;
    }

    std::optional<std::string> scalar(const Field& f, std::string_view expected,
                                      const std::string& allowed) {
        if (f.value.IsScalar()) return f.value.Scalar();
        error(f.value_at, f.path, fmt::format("expected {}, got {}", expected, describe(f.value)),
              allowed);
        return std::nullopt;
    }

    std::optional<int64_t> integer(const Field& f, const std::string& allowed) {
        auto text = scalar(f, "an integer", allowed);
        if (!text) return std::nullopt;
        int64_t value = 0;
        auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
        if (ec == std::errc::result_out_of_range && ptr == text->data() + text->size()) {
            error(f.value_at, f.path, fmt::format("{} is out of range", *text), allowed);
            return std::nullopt;
        }
        if (text->empty() || ec != std::errc() || ptr != text->data() + text->size()) {
            error(f.value_at, f.path, fmt::format("expected an integer, got {}", describe(f.value)),
                  allowed);
            return std::nullopt;
        }
        return value;
    }

    std::optional<int64_t> integer_in(const Field& f, int64_t lo, int64_t hi) {
        auto allowed = fmt::format("{}..{}", lo, hi);
        auto value = integer(f, allowed);
        if (!value) return std::nullopt;
        if (*value < lo || *value > hi) {
            error(f.value_at, f.path, fmt::format("{} is out of range", *value), allowed);
            return std::nullopt;
        }
        return value;
    }

    std::optional<int64_t> integer_of(const Field& f, std::span<const int64_t> options) {
        auto allowed = join(options);
        auto value = integer(f, allowed);
        if (!value) return std::nullopt;
        if (std::find(options.begin(), options.end(), *value) == options.end()) {
            error(f.value_at, f.path, fmt::format("{} is not supported", *value), allowed);
            return std::nullopt;
        }
        return value;
    }

    // Picture dimensions: even (4:2:0 chroma needs it) and within range.
    std::optional<int> dimension(const Field& f, int64_t lo, int64_t hi) {
        auto allowed = fmt::format("even integers {}..{}", lo, hi);
        auto value = integer(f, allowed);
        if (!value) return std::nullopt;
        if (*value < lo || *value > hi) {
            error(f.value_at, f.path, fmt::format("{} is out of range", *value), allowed);
            return std::nullopt;
        }
        if (*value % 2 != 0) {
            error(f.value_at, f.path, fmt::format("{} must be even", *value), allowed);
            return std::nullopt;
        }
        return static_cast<int>(*value);
    }

    std::optional<int64_t> bitrate(const Field& f, int64_t lo, int64_t hi) {
        auto allowed = fmt::format("{}..{}", format_bitrate(lo), format_bitrate(hi));
        auto text = scalar(f, "a bitrate such as 3000k or 3.5M", allowed);
        if (!text) return std::nullopt;
        auto bps = parse_bitrate(*text);
        if (!bps) {
            error(
                f.value_at, f.path,
                fmt::format("expected a bitrate such as 3000k or 3.5M, got {}", describe(f.value)),
                allowed);
            return std::nullopt;
        }
        if (*bps == 0) {
            error(f.value_at, f.path, "must be greater than zero", allowed);
            return std::nullopt;
        }
        if (*bps < lo && is_number(*text)) {
            // A bare number is bits per second; "3000" almost always meant 3000k.
            std::string message = fmt::format("{} is {} bits/s, too low", *text, *bps);
            if (*bps * 1000 >= lo && *bps * 1000 <= hi)
                message += fmt::format("; did you mean {}k?", *text);
            else if (*bps * 1000000 >= lo && *bps * 1000000 <= hi)
                message += fmt::format("; did you mean {}M?", *text);
            error(f.value_at, f.path, std::move(message), allowed);
            return std::nullopt;
        }
        if (*bps < lo || *bps > hi) {
            error(f.value_at, f.path, fmt::format("{} is out of range", *text), allowed);
            return std::nullopt;
        }
        return bps;
    }

    std::optional<Micros> duration(const Field& f, Micros lo, Micros hi) {
        auto allowed = fmt::format("{}..{}", format_duration(lo), format_duration(hi));
        auto text = scalar(f, "a duration such as 6s or 500ms", allowed);
        if (!text) return std::nullopt;
        auto value = parse_duration(*text);
        if (!value) {
            error(f.value_at, f.path,
                  fmt::format("expected a duration such as 6s or 500ms, got {}", describe(f.value)),
                  allowed);
            return std::nullopt;
        }
        if (*value < lo || *value > hi) {
            error(f.value_at, f.path, fmt::format("{} is out of range", format_duration(*value)),
                  allowed);
            return std::nullopt;
        }
        return value;
    }

    std::optional<Rational> frame_rate(const Field& f, int64_t lo, int64_t hi) {
        auto allowed = fmt::format("{}..{}, written 30, 29.97 or 30000/1001", lo, hi);
        auto text = scalar(f, "a frame rate", allowed);
        if (!text) return std::nullopt;
        auto rate = parse_frame_rate(*text);
        if (!rate) {
            error(f.value_at, f.path,
                  fmt::format("expected a frame rate, got {}", describe(f.value)), allowed);
            return std::nullopt;
        }
        if (rate->value() < double(lo) || rate->value() > double(hi)) {
            error(f.value_at, f.path, fmt::format("{} is out of range", *text), allowed);
            return std::nullopt;
        }
        return rate;
    }

    // The index of the value among `options`.
    std::optional<size_t> choice(const Field& f, std::span<const std::string_view> options) {
        auto allowed = join(options);
        auto text = scalar(f, "a string", allowed);
        if (!text) return std::nullopt;
        auto it = std::find(options.begin(), options.end(), *text);
        if (it == options.end()) {
            error(f.value_at, f.path,
                  with_hint(fmt::format("unknown value \"{}\"", shortened(*text)), *text, options),
                  allowed);
            return std::nullopt;
        }
        return static_cast<size_t>(it - options.begin());
    }

    // A share: 0.98 or 98%, within 0..1.
    std::optional<double> ratio(const Field& f) {
        constexpr auto allowed = "0..1, written 0.98 or 98%";
        auto text = scalar(f, "a share such as 0.98 or 98%", allowed);
        if (!text) return std::nullopt;
        std::string_view t = *text;
        bool percent = t.ends_with('%');
        if (percent) t.remove_suffix(1);
        double value = 0;
        auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
        if (t.empty() || !is_number(t) || ec != std::errc() || ptr != t.data() + t.size()) {
            error(f.value_at, f.path,
                  fmt::format("expected a share such as 0.98 or 98%, got {}", describe(f.value)),
                  allowed);
            return std::nullopt;
        }
        if (percent) value /= 100;
        if (value < 0 || value > 1) {
            error(f.value_at, f.path, fmt::format("{} is out of range", *text), allowed);
            return std::nullopt;
        }
        return value;
    }

    // A level in decibels: -50dB (or -50), within lo..hi.
    std::optional<double> decibels(const Field& f, double lo, double hi) {
        auto allowed = fmt::format("{}dB..{}dB", lo, hi);
        auto text = scalar(f, "a level such as -50dB", allowed);
        if (!text) return std::nullopt;
        std::string_view t = *text;
        if (t.size() > 2 && (t.ends_with("dB") || t.ends_with("db"))) t.remove_suffix(2);
        double value = 0;
        auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
        if (t.empty() || !is_number(t) || ec != std::errc() || ptr != t.data() + t.size()) {
            error(f.value_at, f.path,
                  fmt::format("expected a level such as -50dB, got {}", describe(f.value)),
                  allowed);
            return std::nullopt;
        }
        if (value < lo || value > hi) {
            error(f.value_at, f.path, fmt::format("{} is out of range", *text), allowed);
            return std::nullopt;
        }
        return value;
    }

    // A switchable check: `off`/`false` disables it, `on`/`true` enables it
    // with its defaults, a map enables it and sets what it names. Returns the
    // map's fields (empty for on), or nullopt when off or wrong.
    std::optional<Fields> check(const Field& f, std::span<const std::string_view> keys,
                                bool& enabled) {
        auto allowed = fmt::format("off, on, or a map with {}", join(keys));
        if (f.value.IsScalar()) {
            const auto& v = f.value.Scalar();
            if (v == "off" || v == "false") {
                enabled = false;
                return std::nullopt;
            }
            if (v == "on" || v == "true") {
                enabled = true;
                return Fields{};
            }
        }
        if (!f.value.IsMap()) {
            error(f.value_at, f.path,
                  fmt::format("expected off, on or a map, got {}", describe(f.value)), allowed);
            return std::nullopt;
        }
        auto out = fields(f, keys);
        if (out) enabled = true;
        return out;
    }

    // An http:// URL (webhooks).
    std::optional<std::string> http_url(const Field& f) {
        constexpr auto allowed = "http://HOST[:PORT]/PATH";
        auto text = scalar(f, "a URL", allowed);
        if (!text) return std::nullopt;
        auto url = boost::urls::parse_absolute_uri(*text);
        if (!url || url->scheme() != "http" || !url->has_authority() || url->host().empty()) {
            error(f.value_at, f.path, fmt::format("\"{}\" is not an http:// URL", shortened(*text)),
                  allowed);
            return std::nullopt;
        }
        return text;
    }

    std::optional<int64_t> size(const Field& f, int64_t lo) {
        auto allowed = fmt::format("at least {}, written 500M, 50G or 2T", format_size(lo));
        auto text = scalar(f, "a size such as 50G", allowed);
        if (!text) return std::nullopt;
        auto bytes = parse_size(*text);
        if (!bytes) {
            error(f.value_at, f.path,
                  fmt::format("expected a size such as 50G, got {}", describe(f.value)), allowed);
            return std::nullopt;
        }
        if (*bytes < lo) {
            error(f.value_at, f.path, fmt::format("{} is too small", *text), allowed);
            return std::nullopt;
        }
        return bytes;
    }

    std::optional<std::string> name(const Field& f, size_t max_size, std::string_view what) {
        auto allowed = fmt::format("1..{} characters of {}", max_size, kNameChars);
        auto text = scalar(f, "a string", allowed);
        if (!text) return std::nullopt;
        if (!valid_name(*text, max_size)) {
            error(f.value_at, f.path,
                  fmt::format("\"{}\" is not a valid {}", shortened(*text), what), allowed);
            return std::nullopt;
        }
        return text;
    }

  private:
    std::string file_;
    std::map<std::string, SourcePosition>& positions_;
    std::vector<Diagnostic> diagnostics_;
};

// HOST:PORT, as Boost.URL reads an authority.
struct ListenAddress {
    std::string host;
    int port = 0;
};

std::expected<ListenAddress, std::pair<std::string, std::string>> parse_listen(
    const std::string& text) {
    auto fail = [](std::string message, std::string allowed = kListenForm) {
        return std::unexpected(std::pair(std::move(message), std::move(allowed)));
    };
    if (is_number(text))
        return fail(
            fmt::format("expected HOST:PORT, got {}; did you mean 127.0.0.1:{}?", text, text));
    auto authority = boost::urls::parse_authority(text);
    if (!authority || authority->has_userinfo())
        return fail(fmt::format("expected HOST:PORT, got \"{}\"", shortened(text)));
    ListenAddress out;
    switch (authority->host_type()) {
        case boost::urls::host_type::ipv4:
        case boost::urls::host_type::ipv6:
            out.host = authority->host_address();
            break;
        case boost::urls::host_type::name:
            out.host = authority->host_name();
            break;
        default:
            break;
    }
    bool host_ok = !out.host.empty() && std::all_of(out.host.begin(), out.host.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':';
    });
    if (!host_ok)
        return fail(
            fmt::format("\"{}\" has no valid host (write 0.0.0.0:PORT to listen on all "
                        "interfaces)",
                        shortened(text)));
    if (!authority->has_port() || authority->port().empty())
        return fail(fmt::format("\"{}\" has no port", shortened(text)));
    auto port_text = authority->port();
    int port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 1 || port > 65535)
        return fail(fmt::format("port {} is out of range", port_text), "1..65535");
    out.port = port;
    return out;
}

// The local UDP ports an input binds: RTP takes PORT+1 for RTCP as well.
std::vector<int> local_ports(const InputSpec& input) {
    if (!input.listens()) return {};
    if (input.kind == InputKind::rtp) return {input.port, input.port + 1};
    return {input.port};
}

class ChannelReader {
  public:
    ChannelReader(Reader& r, ChannelConfig& config) : r_(r), config_(config) {}

    void read(const YAML::Node& root) {
        Field top{"", root, position_of(root), position_of(root)};
        auto fields = r_.fields(top, kTopKeys);
        if (!fields) return;

        if (auto* f =
                r_.require(*fields, top, "channel",
                           fmt::format("1..{} characters of {}", kMaxChannelName, kNameChars))) {
            if (auto name = r_.name(*f, kMaxChannelName, "channel name")) config_.channel = *name;
        }
        if (auto* f = r_.require(*fields, top, "inputs", "a: URL and optionally b: URL"))
            read_inputs(*f);
        if (auto* f = r_.find(*fields, "timecode")) read_timecode(*f);
        if (auto* f = r_.require(
                *fields, top, "ladder",
                fmt::format("1..{} rungs of {{name, width, height, bitrate}}", kMaxRungs)))
            read_ladder(*f);
        if (auto* f = r_.find(*fields, "audio")) read_audio(*f);
        if (auto* f = r_.find(*fields, "encoder")) read_encoder(*f);
        if (auto* f = r_.find(*fields, "hls")) read_hls(*f);
        if (auto* f = r_.find(*fields, "origin")) read_origin(*f);
        if (auto* f = r_.find(*fields, "input_loss")) read_input_loss(*f);
        if (auto* f = r_.find(*fields, "failover")) read_failover(*f);
        if (auto* f = r_.find(*fields, "data")) read_data(*f);
        if (auto* f = r_.find(*fields, "dvr")) read_dvr(*f);
        if (auto* f = r_.find(*fields, "clips")) read_clips(*f);
        check_timing();
        check_clips();
    }

  private:
    void read_inputs(const Field& parent) {
        if (!parent.value.IsMap()) {
            r_.error(parent.value_at, parent.path,
                     fmt::format("expected a map of inputs, got {}", describe(parent.value)),
                     "a: URL and optionally b: URL");
            return;
        }
        auto fields = r_.fields(parent, kInputKeys);
        if (!fields) return;
        r_.require(*fields, parent, "a", kInputForms);
        const Field* first = nullptr;  // inputs.a, when it parsed
        for (auto id : kInputKeys) {
            auto* f = r_.find(*fields, id);
            if (!f) continue;
            auto url = r_.scalar(*f, "a URL", kInputForms);
            if (!url) continue;
            auto spec = parse_input_url(*url);
            if (!spec) {
                for (auto& problem : spec.error())
                    r_.error(f->value_at, f->path, problem.message, problem.allowed);
                continue;
            }
            if (first) check_distinct_ports(*first, config_.inputs.front().input, *f, *spec);
            config_.inputs.push_back({id[0], std::move(*spec)});
            if (id == "a") first = f;
        }
    }

    // Both pipelines' inputs on one machine cannot bind the same UDP port.
    void check_distinct_ports(const Field& a, const InputSpec& a_spec, const Field& b,
                              const InputSpec& b_spec) {
        auto taken = local_ports(a_spec);
        for (int port : local_ports(b_spec)) {
            if (std::find(taken.begin(), taken.end(), port) == taken.end()) continue;
            r_.error(b.value_at, b.path,
                     fmt::format("UDP port {} is already used by {} (line {})", port, a.path,
                                 a.key_at.line),
                     "a port no other input listens on; rtp also takes PORT+1");
            return;
        }
    }

    void read_timecode(const Field& f) {
        if (f.value.IsScalar() && f.value.Scalar() == "embedded") {
            r_.error(f.value_at, f.path, "embedded (SMPTE timecode from SEI) is not supported yet",
                     join(kTimecodes));
            return;
        }
        if (auto i = r_.choice(f, kTimecodes))
            config_.timecode = *i == 0 ? TimecodeSource::pts : TimecodeSource::systemclock;
    }

    void read_ladder(const Field& parent) {
        auto count_allowed = fmt::format("1..{} rungs", kMaxRungs);
        if (!parent.value.IsSequence()) {
            r_.error(parent.value_at, parent.path,
                     fmt::format("expected a sequence of rungs, got {}", describe(parent.value)),
                     count_allowed + " of {name, width, height, bitrate}");
            return;
        }
        if (parent.value.size() == 0)
            r_.error(parent.value_at, parent.path, "has no rungs", count_allowed);
        if (parent.value.size() > kMaxRungs)
            r_.error(parent.value_at, parent.path, fmt::format("has {} rungs", parent.value.size()),
                     count_allowed);
        RungNames names;
        for (size_t i = 0; i < parent.value.size(); ++i) {
            auto item = parent.value[i];
            auto at = position_of(item);
            if (at.line == 0) at = parent.value_at;
            Field rung{fmt::format("{}[{}]", parent.path, i), item, at, at};
            r_.positions()[rung.path] = at;
            read_rung(rung, names);
        }
    }

    // Rung name -> the rung that has it and the line of the name.
    using RungNames = std::map<std::string, std::pair<std::string, int>>;

    void read_rung(const Field& rung_field, RungNames& names) {
        auto fields = r_.fields(rung_field, kRungKeys);
        if (!fields) return;
        Rung rung;
        bool ok = true;
        auto need = [&](std::string_view key, std::string allowed) {
            auto* f = r_.require(*fields, rung_field, key, std::move(allowed));
            ok = ok && f;
            return f;
        };
        auto keep = [&](auto value, auto& into) {
            if (value)
                into = *value;
            else
                ok = false;
        };
        auto bitrate_range = fmt::format("{}..{}", format_bitrate(kMinVideoBitrate),
                                         format_bitrate(kMaxVideoBitrate));
        if (auto* f =
                need("name", fmt::format("1..{} characters of {}", kMaxRungName, kNameChars))) {
            if (auto name = r_.name(*f, kMaxRungName, "rung name")) {
                auto [it, fresh] =
                    names.emplace(*name, std::pair(rung_field.path, f->value_at.line));
                if (!fresh) {
                    r_.error(f->value_at, f->path,
                             fmt::format("\"{}\" is already the name of {} (line {})", *name,
                                         it->second.first, it->second.second),
                             "a name used by one rung only");
                    ok = false;
                }
                rung.name = *name;
            } else {
                ok = false;
            }
        }
        if (auto* f = need("width", fmt::format("even integers {}..{}", kMinWidth, kMaxWidth)))
            keep(r_.dimension(*f, kMinWidth, kMaxWidth), rung.width);
        if (auto* f = need("height", fmt::format("even integers {}..{}", kMinHeight, kMaxHeight)))
            keep(r_.dimension(*f, kMinHeight, kMaxHeight), rung.height);
        bool bitrate_ok = false;
        if (auto* f = need("bitrate", bitrate_range)) {
            auto bitrate = r_.bitrate(*f, kMinVideoBitrate, kMaxVideoBitrate);
            bitrate_ok = bitrate.has_value();
            keep(bitrate, rung.bitrate);
        }
        rung.max_bitrate = rung.bitrate;
        if (auto* f = r_.find(*fields, "max_bitrate")) {
            auto max_bitrate = r_.bitrate(*f, kMinVideoBitrate, kMaxVideoBitrate);
            keep(max_bitrate, rung.max_bitrate);
            if (bitrate_ok && max_bitrate && *max_bitrate < rung.bitrate) {
                r_.error(f->value_at, f->path,
                         fmt::format("{} is below bitrate {}", format_bitrate(rung.max_bitrate),
                                     format_bitrate(rung.bitrate)),
                         fmt::format("{}..{}", format_bitrate(rung.bitrate),
                                     format_bitrate(kMaxVideoBitrate)));
                ok = false;
            }
        }
        rung.bufsize = 2 * rung.max_bitrate;
        if (auto* f = r_.find(*fields, "bufsize"))
            keep(r_.bitrate(*f, kMinVideoBitrate, kMaxBufsize), rung.bufsize);
        if (auto* f = r_.find(*fields, "profile")) {
            if (auto i = r_.choice(*f, kProfiles))
                rung.profile = static_cast<H264Profile>(*i);
            else
                ok = false;
        }
        if (auto* f = r_.find(*fields, "fps")) {
            if (auto rate = r_.frame_rate(*f, kMinFps, kMaxFps))
                rung.fps = *rate;
            else
                ok = false;
        }
        if (ok) config_.ladder.push_back(std::move(rung));
    }

    void read_audio(const Field& parent) {
        auto fields = r_.fields(parent, kAudioKeys);
        if (!fields) return;
        auto& audio = config_.audio;
        if (auto* f = r_.find(*fields, "bitrate"))
            audio.bitrate =
                r_.bitrate(*f, kMinAudioBitrate, kMaxAudioBitrate).value_or(audio.bitrate);
        if (auto* f = r_.find(*fields, "channels"))
            audio.channels =
                static_cast<int>(r_.integer_of(*f, kAudioChannels).value_or(audio.channels));
        if (auto* f = r_.find(*fields, "sample_rate"))
            audio.sample_rate =
                static_cast<int>(r_.integer_of(*f, kSampleRates).value_or(audio.sample_rate));
    }

    void read_encoder(const Field& parent) {
        auto fields = r_.fields(parent, kEncoderKeys);
        if (!fields) return;
        if (auto* f = r_.find(*fields, "preset")) {
            if (auto i = r_.choice(*f, kPresets))
                config_.encoder.preset = std::string(kPresets[*i]);
        }
        if (auto* f = r_.find(*fields, "gop")) {
            gop_at_ = *f;
            gop_ok_ = false;
            if (auto gop = r_.duration(*f, kMinGop, kMaxGop)) {
                config_.encoder.gop = *gop;
                gop_ok_ = true;
            }
        }
    }

    void read_hls(const Field& parent) {
        auto fields = r_.fields(parent, kHlsKeys);
        if (!fields) return;
        if (auto* f = r_.find(*fields, "segment")) {
            segment_at_ = *f;
            segment_ok_ = false;
            if (auto segment = r_.duration(*f, kMinSegment, kMaxSegment)) {
                config_.hls.segment = *segment;
                segment_ok_ = true;
            }
        }
        if (auto* f = r_.find(*fields, "window")) {
            window_at_ = *f;
            window_ok_ = false;
            if (auto window = r_.duration(*f, kMinSegment, kMaxWindow)) {
                config_.hls.window = *window;
                window_ok_ = true;
            }
        }
    }

    void read_origin(const Field& parent) {
        auto fields = r_.fields(parent, kOriginKeys);
        if (!fields) return;
        if (auto* f = r_.find(*fields, "listen")) {
            if (auto text = r_.scalar(*f, "HOST:PORT", kListenForm)) {
                if (auto address = parse_listen(*text)) {
                    config_.origin.host = address->host;
                    config_.origin.port = address->port;
                } else {
                    r_.error(f->value_at, f->path, address.error().first, address.error().second);
                }
            }
        }
        if (auto* f = r_.find(*fields, "threads"))
            config_.origin.threads = static_cast<int>(
                r_.integer_in(*f, 1, kMaxThreads).value_or(config_.origin.threads));
        for (auto key : {"ingest_token_file"sv, "api_token_file"sv}) {
            auto* f = r_.find(*fields, key);
            if (!f) continue;
            auto path = r_.scalar(*f, "a file path", "a readable file holding the token");
            if (!path) continue;
            if (::access(path->c_str(), R_OK) != 0) {
                r_.error(f->value_at, f->path,
                         fmt::format("cannot read \"{}\": {}", shortened(*path),
                                     std::system_category().message(errno)),
                         "a readable file holding the token");
                continue;
            }
            (key == "ingest_token_file" ? config_.origin.ingest_token_file
                                        : config_.origin.api_token_file) = *path;
        }
    }

    void read_input_loss(const Field& parent) {
        auto fields = r_.fields(parent, kInputLossKeys);
        if (!fields) return;
        auto& loss = config_.input_loss;
        if (auto* f = r_.find(*fields, "after"))
            loss.after = r_.duration(*f, 100ms, kMaxLossWait).value_or(loss.after);
        if (auto* f = r_.find(*fields, "repeat_last"))
            loss.repeat_last = r_.duration(*f, 0s, kMaxLossWait).value_or(loss.repeat_last);
        const Field* then = r_.find(*fields, "then");
        if (then) {
            if (auto i = r_.choice(*then, kLossFills)) loss.then = static_cast<LossFill>(*i);
        }
        const Field* slate = r_.find(*fields, "slate");
        if (slate) {
            if (auto path = r_.scalar(*slate, "a file path", "a PNG or JPEG file")) {
                loss.slate = *path;
                if (::access(path->c_str(), R_OK) != 0)
                    r_.error(slate->value_at, slate->path,
                             fmt::format("cannot read \"{}\": {}", shortened(*path),
                                         std::system_category().message(errno)),
                             "a readable PNG or JPEG file");
            }
            if (!then) loss.then = LossFill::slate;  // an image given means: show it
        }
        if (loss.then == LossFill::slate && !slate && then)
            r_.error(then->value_at, then->path, "then: slate needs input_loss.slate",
                     "input_loss.slate: a PNG or JPEG file");
    }

    void read_failover(const Field& parent) {
        auto fields = r_.fields(parent, kFailoverKeys);
        if (!fields) return;
        auto& fo = config_.failover;
        if (auto* f = r_.find(*fields, "mode")) {
            if (auto i = r_.choice(*f, kFailoverModes)) fo.mode = static_cast<FailoverMode>(*i);
        }
        if (auto* f = r_.find(*fields, "late_after")) {
            late_at_ = *f;
            late_ok_ = false;
            if (auto d = r_.duration(*f, kMinLateAfter, kMaxSegment)) {
                fo.late_after = *d;
                late_ok_ = true;
            }
        }
        if (auto* f = r_.find(*fields, "return_after"))
            fo.return_after = r_.duration(*f, 0s, kMaxReturnAfter).value_or(fo.return_after);
        if (auto* f = r_.find(*fields, "black")) {
            if (auto sub = r_.check(*f, kBlackKeys, fo.black.enabled)) {
                if (auto* g = r_.find(*sub, "threshold"))
                    fo.black.picture = r_.ratio(*g).value_or(fo.black.picture);
                if (auto* g = r_.find(*sub, "pixel"))
                    fo.black.pixel = r_.ratio(*g).value_or(fo.black.pixel);
                if (auto* g = r_.find(*sub, "duration"))
                    fo.black.duration = r_.duration(*g, kMinCheckDuration, kMaxCheckDuration)
                                            .value_or(fo.black.duration);
            }
        }
        if (auto* f = r_.find(*fields, "freeze")) {
            if (auto sub = r_.check(*f, kFreezeKeys, fo.freeze.enabled)) {
                if (auto* g = r_.find(*sub, "threshold"))
                    fo.freeze.noise_db =
                        r_.decibels(*g, kMinDb, kMaxDb).value_or(fo.freeze.noise_db);
                if (auto* g = r_.find(*sub, "duration"))
                    fo.freeze.duration = r_.duration(*g, kMinCheckDuration, kMaxCheckDuration)
                                             .value_or(fo.freeze.duration);
            }
        }
        if (auto* f = r_.find(*fields, "silence")) {
            if (auto sub = r_.check(*f, kSilenceKeys, fo.silence.enabled)) {
                if (auto* g = r_.find(*sub, "threshold"))
                    fo.silence.level_db =
                        r_.decibels(*g, kMinDb, kMaxDb).value_or(fo.silence.level_db);
                if (auto* g = r_.find(*sub, "duration"))
                    fo.silence.duration = r_.duration(*g, kMinCheckDuration, kMaxCheckDuration)
                                              .value_or(fo.silence.duration);
            }
        }
        if (auto* f = r_.find(*fields, "webhook")) fo.webhook = r_.http_url(*f).value_or("");
    }

    void read_data(const Field& f) {
        if (auto path = r_.scalar(f, "a folder path", "a folder onair may create and write"))
            config_.data_dir = *path;
    }

    void read_dvr(const Field& parent) {
        auto fields = r_.fields(parent, kDvrKeys);
        if (!fields) return;
        if (auto* f = r_.find(*fields, "window")) {
            dvr_at_ = *f;
            dvr_ok_ = false;
            if (auto d = r_.duration(*f, kMinDvrWindow, kMaxDvrWindow)) {
                config_.dvr.window = *d;
                dvr_ok_ = true;
            }
        }
        if (auto* f = r_.find(*fields, "max_size"))
            config_.dvr.max_bytes = r_.size(*f, kMinDvrBytes).value_or(0);
    }

    void read_clips(const Field& parent) {
        auto fields = r_.fields(parent, kClipsKeys);
        if (!fields) return;
        auto& clips = config_.clips;
        if (auto* f = r_.find(*fields, "concurrency"))
            clips.concurrency =
                static_cast<int>(r_.integer_in(*f, 1, kMaxClipJobs).value_or(clips.concurrency));
        if (auto* f = r_.find(*fields, "rendition")) {
            rendition_at_ = *f;
            clips.rendition =
                r_.scalar(*f, "a rung name", "the name of a ladder rung").value_or("");
        }
        if (auto* f = r_.find(*fields, "webhook")) clips.webhook = r_.http_url(*f).value_or("");
    }

    // The clip rendition must be a rung; the data folder defaults per channel.
    void check_clips() {
        auto& clips = config_.clips;
        if (!clips.rendition.empty()) {
            bool known = std::any_of(config_.ladder.begin(), config_.ladder.end(),
                                     [&](const Rung& r) { return r.name == clips.rendition; });
            if (!known && !config_.ladder.empty()) {
                std::vector<std::string_view> names;
                for (const auto& r : config_.ladder) names.push_back(r.name);
                r_.error(
                    rendition_at_.value_at, rendition_at_.path,
                    with_hint(fmt::format("no rung is named \"{}\"", shortened(clips.rendition)),
                              clips.rendition, names),
                    join(names));
            }
        }
        if (config_.data_dir.empty() && !config_.channel.empty())
            config_.data_dir = "./data/" + config_.channel;
    }

    // Rules between keys, checked only when the keys themselves are valid.
    // A rule broken by a default is reported where the other key was given.
    void check_timing() {
        auto gop = config_.encoder.gop;
        auto segment = config_.hls.segment;
        auto window = config_.hls.window;
        auto shown = [](const Field& given, Micros value) {
            return format_duration(value) + (given.path.empty() ? " (the default)" : "");
        };
        auto place = [](const Field& given, const Field& other) {
            return given.path.empty() ? other.value_at : given.value_at;
        };
        if (gop_ok_ && segment_ok_ && segment.count() % gop.count() != 0) {
            // A segment must start on an IDR, and IDRs come every GOP.
            std::string multiples;
            int listed = 0;
            for (auto m = gop; m <= kMaxSegment && listed < 3; m += gop) {
                if (m < kMinSegment) continue;
                multiples += format_duration(m) + ", ";
                ++listed;
            }
            r_.error(place(segment_at_, gop_at_), "hls.segment",
                     fmt::format("{} is not a whole number of GOPs of {}",
                                 shown(segment_at_, segment), format_duration(gop)),
                     fmt::format("multiples of encoder.gop: {}...", multiples));
        }
        if (segment_ok_ && late_ok_ && config_.failover.late_after >= segment) {
            r_.error(
                late_at_.value_at, "failover.late_after",
                fmt::format("{} is not shorter than a segment ({})",
                            format_duration(config_.failover.late_after), format_duration(segment)),
                fmt::format("{}..less than hls.segment", format_duration(kMinLateAfter)));
        }
        if (dvr_ok_ && window_ok_ && !dvr_at_.path.empty() && config_.dvr.window < window) {
            r_.error(dvr_at_.value_at, "dvr.window",
                     fmt::format("{} is shorter than the live playlist's window ({})",
                                 format_duration(config_.dvr.window), shown(window_at_, window)),
                     fmt::format("{}..{}", format_duration(std::max(window, kMinDvrWindow)),
                                 format_duration(kMaxDvrWindow)));
        }
        auto min_window = segment * kMinWindowSegments;
        if (segment_ok_ && window_ok_ && window < min_window) {
            r_.error(
                place(window_at_, segment_at_), "hls.window",
                fmt::format("{} is shorter than {} segments of {}", shown(window_at_, window),
                            kMinWindowSegments, format_duration(segment)),
                fmt::format("{}..{}", format_duration(min_window), format_duration(kMaxWindow)));
        }
    }

    Reader& r_;
    ChannelConfig& config_;
    // Defaults are valid; a key that was given counts only if it parsed.
    bool gop_ok_ = true, segment_ok_ = true, window_ok_ = true, late_ok_ = false, dvr_ok_ = true;
    // Where the timing keys were written; empty paths when left to defaults.
    Field gop_at_, segment_at_, window_at_, late_at_, dvr_at_, rendition_at_;
};

ConfigResult parse_document(std::string_view yaml_text, const std::string& file) {
    auto fail = [&](SourcePosition at, std::string message, std::string allowed = {}) {
        return std::unexpected(
            std::vector<Diagnostic>{{file, at, "", std::move(message), std::move(allowed)}});
    };
    std::vector<YAML::Node> documents;
    try {
        documents = YAML::LoadAll(std::string(yaml_text));
    } catch (const YAML::ParserException& e) {
        return fail({e.mark.line + 1, e.mark.column + 1}, "YAML syntax error: " + e.msg);
    } catch (const YAML::Exception& e) {
        return fail({e.mark.line + 1, e.mark.column + 1}, "cannot read YAML: " + e.msg);
    }
    auto top_keys = fmt::format("a map with {}", join(kTopKeys));
    if (documents.empty() || documents.front().IsNull())
        return fail({1, 1}, "the file is empty", top_keys);

    ChannelConfig config;
    config.file = file;
    Reader reader(file, config.positions);
    for (size_t i = 1; i < documents.size(); ++i) {
        if (documents[i].IsNull()) continue;
        reader.error(position_of(documents[i]), "",
                     "a second YAML document; a channel file holds one channel", "one document");
    }
    ChannelReader(reader, config).read(documents.front());
    if (reader.failed()) return std::unexpected(reader.take());
    return config;
}

// 0 when `host`:`port` can be bound now (it is released at once), else the
// errno of the failure, or -1 with `why` set when the host does not resolve.
int try_bind(const std::string& host, int port, int socket_type, std::string& why) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socket_type;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    auto service = std::to_string(port);
    if (int rc =
            getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
        rc != 0) {
        why = gai_strerror(rc);
        return -1;
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found, freeaddrinfo);
    int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
    if (fd < 0) return errno;
    bool multicast = false;
    if (found->ai_family == AF_INET) {
        auto* in = reinterpret_cast<const sockaddr_in*>(found->ai_addr);
        multicast = IN_MULTICAST(ntohl(in->sin_addr.s_addr));
    } else if (found->ai_family == AF_INET6) {
        auto* in6 = reinterpret_cast<const sockaddr_in6*>(found->ai_addr);
        multicast = IN6_IS_ADDR_MULTICAST(&in6->sin6_addr);
    }
    // The origin sets SO_REUSEADDR so a restart need not wait out TIME_WAIT;
    // multicast receivers share their port the same way. A unicast UDP
    // receiver must have its port to itself, so it is tested without.
    if (socket_type == SOCK_STREAM || multicast) {
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    int result = ::bind(fd, found->ai_addr, found->ai_addrlen) == 0 ? 0 : errno;
    ::close(fd);
    return result;
}

void check_port(const ChannelConfig& config, const std::string& key, const std::string& host,
                int port, bool tcp, const std::string& what, std::vector<Diagnostic>& out) {
    std::string why;
    int error = try_bind(host, port, tcp ? SOCK_STREAM : SOCK_DGRAM, why);
    if (error == 0) return;
    auto address = host_port(host.empty() ? "0.0.0.0" : host, port);
    auto protocol = tcp ? "TCP" : "UDP";
    switch (error) {
        case -1:
            out.push_back(config.diagnostic(key,
                                            fmt::format("cannot resolve \"{}\": {}", host, why),
                                            "an IP address or a host name that resolves"));
            break;
        case EADDRINUSE:
            out.push_back(config.diagnostic(
                key, fmt::format("{}{} is in use by another process", address, what),
                fmt::format("a free {} port", protocol)));
            break;
        case EACCES:
            out.push_back(
                config.diagnostic(key, fmt::format("{}{} needs privileges to bind", address, what),
                                  "a port above 1023, or the CAP_NET_BIND_SERVICE capability"));
            break;
        case EADDRNOTAVAIL:
            out.push_back(config.diagnostic(
                key, fmt::format("{}{}: {} is not an address of this machine", address, what, host),
                "a local address, or 0.0.0.0 for all interfaces"));
            break;
        default:
            out.push_back(config.diagnostic(key,
                                            fmt::format("cannot bind {}{}: {}", address, what,
                                                        std::system_category().message(error)),
                                            fmt::format("a free {} port", protocol)));
            break;
    }
}

// The whole file, or one diagnostic naming the OS error.
ConfigResult read_file(const std::string& path) {
    auto fail = [&](std::string message) {
        return std::unexpected(std::vector<Diagnostic>{{path, {}, "", std::move(message), ""}});
    };
    struct File {
        int fd;
        ~File() {
            if (fd >= 0) ::close(fd);
        }
    } file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (file.fd < 0)
        return fail(fmt::format("cannot open: {}", std::system_category().message(errno)));
    std::string text;
    char buffer[16384];
    int error = 0;
    for (;;) {
        auto n = ::read(file.fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) error = errno;
        if (n <= 0) break;
        text.append(buffer, static_cast<size_t>(n));
        if (text.size() > kMaxFileBytes) break;
    }
    if (error != 0)
        return fail(fmt::format("cannot read: {}", std::system_category().message(error)));
    if (text.size() > kMaxFileBytes)
        return fail(fmt::format("larger than {} KiB; a channel file is a page of YAML",
                                kMaxFileBytes / 1024));
    return parse_channel_config(text, path);
}

}  // namespace

std::string Diagnostic::to_string() const {
    std::string out = file;
    if (position.line > 0) out += fmt::format(":{}:{}", position.line, position.column);
    if (!out.empty()) out += ": ";
    if (!key.empty()) out += key + ": ";
    out += message;
    if (!allowed.empty()) out += fmt::format(" (allowed: {})", allowed);
    return out;
}

Diagnostic ChannelConfig::diagnostic(const std::string& key, std::string message,
                                     std::string allowed) const {
    // The key itself, else the nearest enclosing key that was written down.
    SourcePosition at;
    for (std::string path = key; !path.empty();) {
        if (auto it = positions.find(path); it != positions.end()) {
            at = it->second;
            break;
        }
        auto cut = path.find_last_of(".[");
        path = cut == std::string::npos ? std::string() : path.substr(0, cut);
    }
    return {file, at, key, std::move(message), std::move(allowed)};
}

ConfigResult parse_channel_config(std::string_view yaml_text, const std::string& file) {
    try {
        return parse_document(yaml_text, file);
    } catch (const std::exception& e) {
        return std::unexpected(std::vector<Diagnostic>{
            {file, {}, "", fmt::format("cannot read the channel file: {}", e.what()), ""}});
    }
}

ConfigResult load_channel_config(const std::string& path) {
    try {
        return read_file(path);
    } catch (const std::exception& e) {
        return std::unexpected(std::vector<Diagnostic>{
            {path, {}, "", fmt::format("cannot read the channel file: {}", e.what()), ""}});
    }
}

std::vector<Diagnostic> check_ports_free(const ChannelConfig& config) {
    std::vector<Diagnostic> out;
    try {
        check_port(config, "origin.listen", config.origin.host, config.origin.port, true, "", out);
        for (const auto& [id, input] : config.inputs) {
            if (!input.listens()) continue;
            auto key = fmt::format("inputs.{}", id);
            check_port(config, key, input.host, input.port, false, " (UDP)", out);
            if (input.kind == InputKind::rtp)
                check_port(config, key, input.host, input.port + 1, false,
                           fmt::format(" (UDP, RTCP of port {})", input.port), out);
        }
    } catch (const std::exception& e) {
        out.push_back(config.diagnostic("", fmt::format("cannot check ports: {}", e.what())));
    }
    std::stable_sort(out.begin(), out.end(), before);
    return out;
}

const char* to_string(TimecodeSource source) {
    switch (source) {
        case TimecodeSource::pts:
            return "pts";
        case TimecodeSource::systemclock:
            return "systemclock";
    }
    return "?";
}

const char* to_string(H264Profile profile) {
    switch (profile) {
        case H264Profile::baseline:
            return "baseline";
        case H264Profile::main:
            return "main";
        case H264Profile::high:
            return "high";
    }
    return "?";
}

const char* to_string(FailoverMode mode) {
    return mode == FailoverMode::equal ? "equal" : "primary-preferred";
}

const char* to_string(LossFill fill) {
    return fill == LossFill::slate ? "slate" : "black";
}

std::optional<std::string> read_token(const char* env, const std::string& file, std::string& why) {
    auto trimmed = [](std::string text) {
        auto end = text.find_first_of("\r\n");
        if (end != std::string::npos) text.resize(end);
        while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
            text.pop_back();
        return text;
    };
    if (const char* value = std::getenv(env); value && *value) return trimmed(value);
    if (file.empty()) {
        why = fmt::format("set {} (or name a token file in the channel file)", env);
        return std::nullopt;
    }
    std::FILE* f = std::fopen(file.c_str(), "r");
    if (!f) {
        why = fmt::format("cannot read {}: {}", file, std::system_category().message(errno));
        return std::nullopt;
    }
    char line[512] = {};
    bool got = std::fgets(line, sizeof line, f) != nullptr;
    std::fclose(f);
    auto token = got ? trimmed(line) : std::string();
    if (token.empty()) {
        why = fmt::format("{} holds no token on its first line", file);
        return std::nullopt;
    }
    return token;
}

const char* to_string(InputKind kind) {
    switch (kind) {
        case InputKind::srt:
            return "srt";
        case InputKind::udp:
            return "udp";
        case InputKind::rtp:
            return "rtp";
        case InputKind::testsrc:
            return "testsrc";
    }
    return "?";
}

}  // namespace onair::core
