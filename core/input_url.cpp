// Input URLs: Boost.URL splits them and percent-decodes the query; this file
// only knows what onair accepts in each part.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <set>

#include <fmt/format.h>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "core/config.hpp"

namespace onair::core {
namespace {

using namespace std::string_view_literals;

constexpr std::array kSchemes = {"srt"sv, "udp"sv, "rtp"sv, "testsrc"sv};
constexpr std::array kSrtParams = {"mode"sv, "latency"sv, "passphrase"sv, "pbkeylen"sv,
                                   "streamid"sv};
constexpr std::array kUdpParams = {"localaddr"sv};
constexpr std::array kTestsrcParams = {"size"sv, "rate"sv, "tone"sv};
constexpr std::array kSrtModes = {"listener"sv, "caller"sv};

constexpr int kMinLatencyMs = 20;
constexpr int kMaxLatencyMs = 10000;
constexpr size_t kMinPassphrase = 10;  // libsrt's limits
constexpr size_t kMaxPassphrase = 79;
constexpr size_t kMaxStreamid = 512;
constexpr int kMinTestWidth = 64, kMaxTestWidth = 3840;
constexpr int kMinTestHeight = 64, kMaxTestHeight = 2160;
constexpr int kMaxTestRate = 60;
constexpr int kMinToneHz = 20, kMaxToneHz = 20000;

constexpr auto kUrlForms =
    "srt://HOST:PORT?mode=listener|caller&latency=MS&passphrase=...&streamid=..., "
    "udp://HOST:PORT, rtp://HOST:PORT, testsrc:?size=WxH&rate=FPS&tone=HZ";

std::string join(std::span<const std::string_view> items) {
    std::string out;
    for (auto item : items) {
        if (!out.empty()) out += ", ";
        out += item;
    }
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Optimal string alignment distance: Levenshtein plus adjacent swaps.
size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.size()][b.size()];
}

std::optional<int> to_int(std::string_view text) {
    int value = 0;
    if (text.empty()) return std::nullopt;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
    return value;
}

std::string with_hint(std::string message, std::string_view word,
                      std::span<const std::string_view> candidates) {
    if (auto guess = closest_match(word, candidates); !guess.empty())
        message += fmt::format(", did you mean \"{}\"?", guess);
    return message;
}

bool is_any_address(std::string_view host) {
    return host.empty() || host == "0.0.0.0" || host == "::";
}

bool valid_host_name(std::string_view name) {
    if (name.empty() || name.size() > 253) return false;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
    return true;
}

std::string host_port(std::string_view host, int port) {
    if (host.find(':') != std::string_view::npos) return fmt::format("[{}]:{}", host, port);
    return fmt::format("{}:{}", host, port);
}

class UrlParser {
  public:
    explicit UrlParser(std::string_view url) { spec_.url = std::string(url); }

    std::expected<InputSpec, std::vector<UrlProblem>> run() {
        auto text = std::string_view(spec_.url);
        if (text.empty()) {
            problem("the URL is empty", kUrlForms);
            return finish();
        }
        // In YAML `a: testsrc:` is a key, so the bare word is accepted too.
        if (lower(text) == "testsrc") text = "testsrc:";
        const bool ascii = url_characters_only(text);
        auto parsed = boost::urls::parse_uri(ascii ? text : std::string_view());
        if (!ascii || !parsed) {
            // Not echoed: it may hold a passphrase.
            problem(
                "not a valid URL (spaces, # and % inside it must be percent-encoded: %20, "
                "%23, %25)",
                kUrlForms);
            return finish();
        }
        const auto& u = *parsed;
        auto scheme = lower(u.scheme());
        if (scheme == "srt") {
            spec_.kind = InputKind::srt;
        } else if (scheme == "udp") {
            spec_.kind = InputKind::udp;
        } else if (scheme == "rtp") {
            spec_.kind = InputKind::rtp;
        } else if (scheme == "testsrc") {
            spec_.kind = InputKind::testsrc;
        } else {
            problem(with_hint(fmt::format("unknown scheme \"{}\"", u.scheme()), scheme, kSchemes),
                    join(kSchemes));
            return finish();
        }
        if (u.has_fragment()) problem("unexpected # (write # inside a value as %23)", kUrlForms);
        if (spec_.kind == InputKind::testsrc) {
            read_testsrc(u);
        } else {
            read_address(u);
            read_params(u);
            if (spec_.kind == InputKind::srt)
                check_srt();
            else if (spec_.host.empty())
                spec_.host = "0.0.0.0";
            if (spec_.kind == InputKind::rtp && spec_.port == 65535)
                problem("rtp port 65535 leaves no port for RTCP (RTP uses PORT and PORT+1)",
                        "1..65534");
        }
        return finish();
    }

  private:
    void problem(std::string message, std::string allowed) {
        problems_.push_back({std::move(message), std::move(allowed)});
    }

    std::expected<InputSpec, std::vector<UrlProblem>> finish() {
        if (!problems_.empty()) return std::unexpected(std::move(problems_));
        return std::move(spec_);
    }

    void read_address(const boost::urls::url_view& u) {
        auto scheme = to_string(spec_.kind);
        if (!u.has_authority()) {
            problem(fmt::format("{} needs //HOST:PORT, e.g. {}://0.0.0.0:9001", scheme, scheme),
                    kUrlForms);
            return;
        }
        if (u.has_userinfo())
            problem("a user name or password before the host is not allowed",
                    "HOST:PORT; SRT encryption takes ?passphrase=...");
        if (!u.encoded_path().empty() && u.encoded_path() != "/")
            problem(fmt::format("unexpected path \"{}\" after the port", u.encoded_path()),
                    fmt::format("{}://HOST:PORT?PARAMETERS", scheme));
        switch (u.host_type()) {
            case boost::urls::host_type::ipv4:
            case boost::urls::host_type::ipv6:
                spec_.host = u.host_address();
                break;
            case boost::urls::host_type::name:
                spec_.host = u.host_name();
                if (!spec_.host.empty() && !valid_host_name(spec_.host))
                    problem(fmt::format("\"{}\" is not a valid host name", spec_.host),
                            "an IPv4 address, [IPv6] address or host name");
                break;
            case boost::urls::host_type::none:
                break;
            default:
                problem(fmt::format("unsupported host \"{}\"", u.encoded_host()),
                        "an IPv4 address, [IPv6] address or host name");
                break;
        }
        if (!u.has_port() || u.port().empty()) {
            problem(fmt::format("{} needs a port, e.g. {}://{}:9001", scheme, scheme,
                                spec_.host.empty() ? "0.0.0.0" : spec_.host),
                    "1..65535");
            return;
        }
        auto port = to_int(u.port());
        if (!port || *port < 1 || *port > 65535) {
            problem(fmt::format("port {} is out of range", u.port()), "1..65535");
            return;
        }
        spec_.port = *port;
    }

    // Every parameter once, known to the scheme, with a value.
    void read_params(const boost::urls::url_view& u) {
        // Boost.URL 1.81 walks past an empty query ("...?#x"; found by fuzzing).
        if (u.encoded_query().empty()) return;
        std::span<const std::string_view> known =
            spec_.kind == InputKind::srt ? std::span<const std::string_view>(kSrtParams)
                                         : std::span<const std::string_view>(kUdpParams);
        if (spec_.kind == InputKind::testsrc) known = kTestsrcParams;
        std::set<std::string> seen;
        // No '+' as space: passphrases and stream ids are taken literally.
        boost::urls::encoding_opts opts;
        opts.space_as_plus = false;
        for (auto param : u.params(opts)) {
            auto key = param.key;
            if (std::find(known.begin(), known.end(), key) == known.end()) {
                problem(with_hint(
                            fmt::format("unknown {} parameter \"{}\"", to_string(spec_.kind), key),
                            key, known),
                        join(known));
                continue;
            }
            if (!seen.insert(key).second) {
                problem(fmt::format("parameter \"{}\" is given twice", key), "each parameter once");
                continue;
            }
            if (!param.has_value || param.value.empty()) {
                problem(fmt::format("parameter \"{}\" has no value", key),
                        fmt::format("{}=VALUE", key));
                continue;
            }
            read_param(key, param.value);
        }
    }

    void read_param(std::string_view key, const std::string& value) {
        if (key == "mode") {
            if (value == "listener") {
                spec_.srt_mode = SrtMode::listener;
                mode_given_ = true;
            } else if (value == "caller") {
                spec_.srt_mode = SrtMode::caller;
                mode_given_ = true;
            } else if (value == "rendezvous") {
                problem("mode=rendezvous is not supported", join(kSrtModes));
            } else {
                problem(
                    with_hint(fmt::format("mode={} is not an SRT mode", value), value, kSrtModes),
                    join(kSrtModes));
            }
        } else if (key == "latency") {
            auto ms = to_int(value);
            auto allowed = fmt::format("{}..{} ms", kMinLatencyMs, kMaxLatencyMs);
            if (!ms)
                problem(fmt::format("latency={} is not a whole number of milliseconds", value),
                        allowed);
            else if (*ms < kMinLatencyMs || *ms > kMaxLatencyMs)
                problem(fmt::format("latency={} is out of range", value), allowed);
            else
                spec_.latency_ms = *ms;
        } else if (key == "passphrase") {
            if (value.size() < kMinPassphrase || value.size() > kMaxPassphrase)
                // The length only: a passphrase is never echoed.
                problem(fmt::format("passphrase has {} characters", value.size()),
                        fmt::format("{}..{} characters", kMinPassphrase, kMaxPassphrase));
            else
                spec_.passphrase = value;
        } else if (key == "pbkeylen") {
            auto bytes = to_int(value);
            if (!bytes || (*bytes != 16 && *bytes != 24 && *bytes != 32))
                problem(fmt::format("pbkeylen={} is not an AES key length", value),
                        "16, 24, 32 (bytes: AES-128, AES-192, AES-256)");
            else
                spec_.pbkeylen = *bytes;
        } else if (key == "streamid") {
            if (value.size() > kMaxStreamid)
                problem(fmt::format("streamid has {} characters", value.size()),
                        fmt::format("at most {} characters", kMaxStreamid));
            else
                spec_.streamid = value;
        } else if (key == "localaddr") {
            if (!boost::urls::parse_ipv4_address(value) && !boost::urls::parse_ipv6_address(value))
                problem(fmt::format("localaddr={} is not an IP address", value),
                        "the IPv4 or IPv6 address of a local interface");
            else
                spec_.localaddr = value;
        } else if (key == "size") {
            read_size(value);
        } else if (key == "rate") {
            auto rate = parse_frame_rate(value);
            auto allowed =
                fmt::format("1..{} frames per second, e.g. 25, 29.97 or 30000/1001", kMaxTestRate);
            if (!rate)
                problem(fmt::format("rate={} is not a frame rate", value), allowed);
            else if (rate->value() < 1 || rate->value() > kMaxTestRate)
                problem(fmt::format("rate={} is out of range", value), allowed);
            else
                spec_.rate = *rate;
        } else if (key == "tone") {
            auto hz = to_int(value);
            auto allowed = fmt::format("{}..{} Hz", kMinToneHz, kMaxToneHz);
            if (!hz)
                problem(fmt::format("tone={} is not a whole number of hertz", value), allowed);
            else if (*hz < kMinToneHz || *hz > kMaxToneHz)
                problem(fmt::format("tone={} is out of range", value), allowed);
            else
                spec_.tone_hz = *hz;
        }
    }

    void read_size(const std::string& value) {
        auto allowed = fmt::format("WxH, even, from {}x{} to {}x{}", kMinTestWidth, kMinTestHeight,
                                   kMaxTestWidth, kMaxTestHeight);
        auto x = value.find_first_of("xX");
        auto w =
            x == std::string::npos ? std::nullopt : to_int(std::string_view(value).substr(0, x));
        auto h =
            x == std::string::npos ? std::nullopt : to_int(std::string_view(value).substr(x + 1));
        if (!w || !h) {
            problem(fmt::format("size={} is not WIDTHxHEIGHT", value), allowed);
        } else if (*w < kMinTestWidth || *w > kMaxTestWidth || *h < kMinTestHeight ||
                   *h > kMaxTestHeight) {
            problem(fmt::format("size={} is out of range", value), allowed);
        } else if (*w % 2 != 0 || *h % 2 != 0) {
            problem(fmt::format("size={}: width and height must be even", value), allowed);
        } else {
            spec_.width = *w;
            spec_.height = *h;
        }
    }

    void read_testsrc(const boost::urls::url_view& u) {
        // "testsrc:" and "testsrc://" are the same thing; anything else is a typo.
        if ((u.has_authority() && !u.encoded_authority().empty()) || !u.encoded_path().empty())
            problem("testsrc takes no host, port or path, only parameters",
                    "testsrc:?size=WxH&rate=FPS&tone=HZ");
        read_params(u);
    }

    void check_srt() {
        if (!mode_given_)
            spec_.srt_mode = is_any_address(spec_.host) ? SrtMode::listener : SrtMode::caller;
        if (spec_.srt_mode == SrtMode::caller && is_any_address(spec_.host))
            problem(fmt::format("mode=caller needs the address to call, e.g. "
                                "srt://203.0.113.5:{}?mode=caller",
                                spec_.port ? spec_.port : 9001),
                    "a host name or IP address other than 0.0.0.0 and ::");
        if (spec_.pbkeylen != 0 && spec_.passphrase.empty())
            problem("pbkeylen without a passphrase has no effect",
                    fmt::format("a passphrase of {}..{} characters with it", kMinPassphrase,
                                kMaxPassphrase));
        if (spec_.srt_mode == SrtMode::listener && spec_.host.empty()) spec_.host = "0.0.0.0";
    }

    InputSpec spec_;
    bool mode_given_ = false;
    std::vector<UrlProblem> problems_;
};

}  // namespace

std::string closest_match(std::string_view word, std::span<const std::string_view> candidates) {
    auto folded = lower(word);
    for (auto candidate : candidates)
        if (lower(candidate) == folded) return std::string(candidate);
    std::string_view best;
    size_t best_distance = 3;  // at most two edits
    for (auto candidate : candidates) {
        auto distance = edit_distance(folded, lower(candidate));
        // Two edits turn "http" into "rtp": short words get one.
        size_t limit = candidate.size() <= 4 ? 1 : 2;
        if (distance <= limit && distance < best_distance &&
            distance < std::max(word.size(), candidate.size())) {
            best = candidate;
            best_distance = distance;
        }
    }
    return std::string(best);
}

bool url_characters_only(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::expected<InputSpec, std::vector<UrlProblem>> parse_input_url(std::string_view url) {
    try {
        return UrlParser(url).run();
    } catch (const std::exception& e) {  // allocation failure; nothing else throws here
        return std::unexpected(std::vector<UrlProblem>{{e.what(), kUrlForms}});
    }
}

bool InputSpec::listens() const {
    return kind == InputKind::udp || kind == InputKind::rtp ||
           (kind == InputKind::srt && srt_mode == SrtMode::listener);
}

std::string InputSpec::describe() const {
    switch (kind) {
        case InputKind::srt: {
            auto out = fmt::format("srt {} {} {}, latency {} ms",
                                   srt_mode == SrtMode::listener ? "listener" : "caller",
                                   srt_mode == SrtMode::listener ? "on" : "to",
                                   host_port(host, port), latency_ms);
            if (!passphrase.empty())
                out += fmt::format(", encrypted (AES-{})", (pbkeylen ? pbkeylen : 16) * 8);
            if (!streamid.empty()) out += fmt::format(", streamid \"{}\"", streamid);
            return out;
        }
        case InputKind::udp:
        case InputKind::rtp: {
            auto out = fmt::format("{} on {}", to_string(kind),
                                   host_port(host.empty() ? "0.0.0.0" : host, port));
            if (!localaddr.empty()) out += fmt::format(", interface {}", localaddr);
            return out;
        }
        case InputKind::testsrc:
            return fmt::format("test signal {}x{} @ {} fps, {} Hz tone", width, height,
                               format_frame_rate(rate), tone_hz);
    }
    return url;
}

}  // namespace onair::core
