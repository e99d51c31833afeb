// The schema machinery: value readers with their messages, map and
// sequence walking, and the README key table. The messages here are the
// ones users see; tests pin them byte for byte.
#include "core/schema.hpp"

#include "core/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <expected>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <boost/url/parse.hpp>

namespace onair::core {

std::string Diagnostic::to_string() const {
    std::string out = file;
    if (position.line > 0) out += fmt::format(":{}:{}", position.line, position.column);
    if (!out.empty()) out += ": ";
    if (!key.empty()) out += key + ": ";
    out += message;
    if (!allowed.empty()) out += fmt::format(" (allowed: {})", allowed);
    return out;
}

namespace {

// Where each document after the first begins, read with yaml-cpp's event
// parser (no nodes built). Only the root's events matter.
class LaterDocuments final : public YAML::EventHandler {
  public:
    bool empty = true;  // the document's root is null (or there is none)
    YAML::Mark root;

    void OnDocumentStart(const YAML::Mark&) override {
        depth_ = 0;
        empty = true;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { at_root(mark); }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  const std::string&) override {
        at_root(mark);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        at_root(mark);
        ++depth_;
    }
    void OnSequenceEnd() override { --depth_; }
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {
        at_root(mark);
        ++depth_;
    }
    void OnMapEnd() override { --depth_; }

  private:
    void at_root(const YAML::Mark& mark) {
        if (depth_ != 0) return;
        empty = false;
        root = mark;
    }
    int depth_ = 0;
};

}  // namespace

std::expected<YAML::Node, Diagnostic> schema::load_one_document(std::string_view yaml_text,
                                                                const std::string& file,
                                                                const std::string& top_allowed,
                                                                std::string_view holds,
                                                                Reader& reader) {
    auto fail = [&](SourcePosition at, std::string message, std::string allowed = {}) {
        return std::unexpected(Diagnostic{file, at, "", std::move(message), std::move(allowed)});
    };
    const std::string text(yaml_text);
    YAML::Node document;
    try {
        document = YAML::Load(text);
        // Any later document is an error. Not YAML::LoadAll: on some
        // malformed streams (one starting with ',') yaml-cpp 0.7 reports
        // empty documents for ever without reading on (yaml-cpp #1040,
        // fixed after 0.8), so reading stops at the first empty one.
        std::istringstream stream(text);
        YAML::Parser parser(stream);
        LaterDocuments later;
        for (bool first = true; parser.HandleNextDocument(later); first = false) {
            if (first) continue;
            if (later.empty) break;
            reader.error({later.root.line + 1, later.root.column + 1}, "",
                         fmt::format("a second YAML document; {}", holds), "one document");
        }
    } catch (const YAML::ParserException& e) {
        return fail({e.mark.line + 1, e.mark.column + 1}, "YAML syntax error: " + e.msg);
    } catch (const YAML::Exception& e) {
        return fail({e.mark.line + 1, e.mark.column + 1}, "cannot read YAML: " + e.msg);
    }
    if (!document || document.IsNull()) return fail({1, 1}, "the file is empty", top_allowed);
    return document;
}

Diagnostic diagnostic_at(const std::string& file,
                         const std::map<std::string, SourcePosition>& positions,
                         const std::string& key, std::string message, std::string allowed) {
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

namespace schema {
namespace {

constexpr auto kNameChars = "A-Z, a-z, 0-9, _ and -";
constexpr auto kListenForm = "HOST:PORT with an IPv4 address, [IPv6] address or host name";

std::string join(std::span<const int64_t> items) {
    std::string out;
    for (auto item : items) out += (out.empty() ? "" : ", ") + std::to_string(item);
    return out;
}

std::string key_path(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
}

bool valid_name(std::string_view name, size_t max_size) {
    if (name.empty() || name.size() > max_size) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
}

// HOST:PORT, as Boost.URL reads an authority.
std::expected<HostPortValue, std::pair<std::string, std::string>> parse_listen(
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
    HostPortValue out;
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

}  // namespace

std::string join(std::span<const std::string_view> items) {
    std::string out;
    for (auto item : items) out += (out.empty() ? "" : ", ") + std::string(item);
    return out;
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

SourcePosition position_of(const YAML::Node& node) {
    auto mark = node.Mark();
    if (mark.is_null() || mark.line < 0) return {};
    return {mark.line + 1, mark.column + 1};
}

void Reader::error(SourcePosition at, std::string key, std::string message, std::string allowed) {
    diagnostics_.push_back({file_, at, std::move(key), std::move(message), std::move(allowed)});
}

std::vector<Diagnostic> Reader::take() {
    std::stable_sort(diagnostics_.begin(), diagnostics_.end(), before);
    return std::move(diagnostics_);
}

const Written* Reader::given(std::string_view path) const {
    auto it = written_.find(path);
    return it == written_.end() ? nullptr : &it->second;
}

bool Reader::valid(std::string_view path) const {
    auto* written = given(path);
    return written && written->valid;
}

void Reader::note(const Field& field) {
    written_[field.path] = {field.key_at, field.value_at, true};
}

void Reader::invalidate(std::string_view path) {
    if (auto it = written_.find(path); it != written_.end()) it->second.valid = false;
}

std::map<std::string, SourcePosition> Reader::key_positions() const {
    std::map<std::string, SourcePosition> out;
    for (const auto& [path, written] : written_) out.emplace(path, written.key_at);
    return out;
}

// The entries of a map whose keys must be among `keys`. Unknown and
// repeated keys are reported; positions of known ones are recorded.
std::optional<Fields> Reader::fields(const Field& parent, std::span<const std::string_view> keys,
                                     MapForm form) {
    if (!parent.value.IsMap()) {
        error(parent.value_at, parent.path,
              fmt::format("expected {}, got {}", form.expected, describe(parent.value)),
              form.allowed.empty() ? fmt::format("a map with keys {}", join(keys))
                                   : std::string(form.allowed));
        return std::nullopt;
    }
    Fields out;
    for (const auto& entry : parent.value) {
        auto key_at = position_of(entry.first);
        if (!entry.first.IsScalar()) {
            error(key_at, parent.path, fmt::format("expected a key, got {}", describe(entry.first)),
                  join(keys));
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
            error(key_at, path,
                  fmt::format("repeated key, first given on line {}", first->second.key_at.line),
                  "each key once");
            continue;
        }
        // yaml-cpp marks an empty value where the next token starts.
        auto value_at = entry.second.IsNull() ? key_at : position_of(entry.second);
        if (value_at.line == 0) value_at = key_at;
        Field field{path, entry.second, key_at, value_at};
        note(field);
        out.emplace(name, std::move(field));
    }
    return out;
}

std::optional<std::string> Reader::scalar(const Field& f, std::string_view expected,
                                          const std::string& allowed) {
    if (f.value.IsScalar()) return f.value.Scalar();
    error(f.value_at, f.path, fmt::format("expected {}, got {}", expected, describe(f.value)),
          allowed);
    return std::nullopt;
}

std::optional<int64_t> Reader::integer(const Field& f, const std::string& allowed) {
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

std::optional<int64_t> Reader::integer_in(const Field& f, int64_t lo, int64_t hi) {
    auto allowed = fmt::format("{}..{}", lo, hi);
    auto value = integer(f, allowed);
    if (!value) return std::nullopt;
    if (*value < lo || *value > hi) {
        error(f.value_at, f.path, fmt::format("{} is out of range", *value), allowed);
        return std::nullopt;
    }
    return value;
}

std::optional<int64_t> Reader::integer_of(const Field& f, std::span<const int64_t> options) {
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
std::optional<int64_t> Reader::even_integer(const Field& f, int64_t lo, int64_t hi) {
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
    return value;
}

std::optional<int64_t> Reader::bitrate(const Field& f, int64_t lo, int64_t hi) {
    auto allowed = fmt::format("{}..{}", format_bitrate(lo), format_bitrate(hi));
    auto text = scalar(f, "a bitrate such as 3000k or 3.5M", allowed);
    if (!text) return std::nullopt;
    auto bps = parse_bitrate(*text);
    if (!bps) {
        error(f.value_at, f.path,
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

std::optional<Micros> Reader::duration(const Field& f, Micros lo, Micros hi, std::string allowed) {
    if (allowed.empty()) allowed = fmt::format("{}..{}", format_duration(lo), format_duration(hi));
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

std::optional<Rational> Reader::frame_rate(const Field& f, int64_t lo, int64_t hi) {
    auto allowed = fmt::format("{}..{}, written 30, 29.97 or 30000/1001", lo, hi);
    auto text = scalar(f, "a frame rate", allowed);
    if (!text) return std::nullopt;
    auto rate = parse_frame_rate(*text);
    if (!rate) {
        error(f.value_at, f.path, fmt::format("expected a frame rate, got {}", describe(f.value)),
              allowed);
        return std::nullopt;
    }
    if (rate->value() < double(lo) || rate->value() > double(hi)) {
        error(f.value_at, f.path, fmt::format("{} is out of range", *text), allowed);
        return std::nullopt;
    }
    return rate;
}

// The index of the value among `options`.
std::optional<size_t> Reader::choice(const Field& f, std::span<const std::string_view> options) {
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
std::optional<double> Reader::share(const Field& f) {
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
std::optional<double> Reader::decibels(const Field& f, double lo, double hi) {
    auto allowed = fmt::format("{}dB..{}dB", lo, hi);
    auto text = scalar(f, "a level such as -50dB", allowed);
    if (!text) return std::nullopt;
    std::string_view t = *text;
    if (t.size() > 2 && (t.ends_with("dB") || t.ends_with("db"))) t.remove_suffix(2);
    double value = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
    if (t.empty() || !is_number(t) || ec != std::errc() || ptr != t.data() + t.size()) {
        error(f.value_at, f.path,
              fmt::format("expected a level such as -50dB, got {}", describe(f.value)), allowed);
        return std::nullopt;
    }
    if (value < lo || value > hi) {
        error(f.value_at, f.path, fmt::format("{} is out of range", *text), allowed);
        return std::nullopt;
    }
    return value;
}

// An http:// URL (webhooks).
std::optional<std::string> Reader::http_url(const Field& f) {
    constexpr auto allowed = "http://HOST[:PORT]/PATH";
    auto text = scalar(f, "a URL", allowed);
    if (!text) return std::nullopt;
    const std::string_view checked = url_characters_only(*text) ? std::string_view(*text) : "";
    auto url = boost::urls::parse_absolute_uri(checked);  // a view of *text
    if (!url || url->scheme() != "http" || !url->has_authority() || url->host().empty()) {
        error(f.value_at, f.path, fmt::format("\"{}\" is not an http:// URL", shortened(*text)),
              allowed);
        return std::nullopt;
    }
    return text;
}

std::optional<int64_t> Reader::size(const Field& f, int64_t lo) {
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

std::optional<std::string> Reader::name(const Field& f, size_t max_size, std::string_view what) {
    auto allowed = fmt::format("1..{} characters of {}", max_size, kNameChars);
    auto text = scalar(f, "a string", allowed);
    if (!text) return std::nullopt;
    if (!valid_name(*text, max_size)) {
        error(f.value_at, f.path, fmt::format("\"{}\" is not a valid {}", shortened(*text), what),
              allowed);
        return std::nullopt;
    }
    return text;
}

std::optional<HostPortValue> HostPort::read(Reader& r, const Field& f) const {
    auto text = r.scalar(f, "HOST:PORT", allowed());
    if (!text) return std::nullopt;
    auto address = parse_listen(*text);
    if (!address) {
        r.error(f.value_at, f.path, address.error().first, address.error().second);
        return std::nullopt;
    }
    return *address;
}

std::string HostPort::allowed() const {
    return kListenForm;
}
std::string Name::allowed() const {
    return fmt::format("1..{} characters of {}", max_size, kNameChars);
}
std::string IntegerRange::allowed() const {
    return fmt::format("{}..{}", lo, hi);
}
std::string IntegerOf::allowed() const {
    return join(options);
}
std::string EvenInteger::allowed() const {
    return fmt::format("even integers {}..{}", lo, hi);
}
std::string BitrateRange::allowed() const {
    return fmt::format("{}..{}", format_bitrate(lo), format_bitrate(hi));
}
std::string DurationRange::allowed() const {
    return fmt::format("{}..{}", format_duration(lo), format_duration(hi));
}
std::string DurationOrOff::allowed() const {
    return fmt::format("off, or {}..{}", format_duration(lo), format_duration(hi));
}
std::string FrameRate::allowed() const {
    return fmt::format("{}..{}, written 30, 29.97 or 30000/1001", lo, hi);
}
std::string Share::allowed() const {
    return "0..1, written 0.98 or 98%";
}
std::string Decibels::allowed() const {
    return fmt::format("{}dB..{}dB", lo, hi);
}
std::string Size::allowed() const {
    return fmt::format("at least {}, written 500M, 50G or 2T", format_size(min));
}
std::string HttpUrl::allowed() const {
    return "http://HOST[:PORT]/PATH";
}
std::string OneOf::allowed() const {
    return join(options);
}

std::string count_allowed(const SequenceForm& form) {
    if (form.max == 0) return fmt::format("at least {} {}", form.min, form.items);
    return fmt::format("{}..{} {}", form.min, form.max, form.items);
}

bool read_counted(Reader& r, const Field& f, const SequenceForm& form) {
    auto count = f.value.size();
    if (count == 0 && form.min > 0) {
        r.error(f.value_at, f.path, fmt::format("has no {}", form.items), count_allowed(form));
        return false;
    }
    if (count < form.min || (form.max > 0 && count > form.max)) {
        r.error(f.value_at, f.path, fmt::format("has {} {}", count, form.items),
                count_allowed(form));
        return false;
    }
    return true;
}

Field item_field(const Field& sequence, size_t index) {
    auto item = sequence.value[index];
    auto at = position_of(item);
    if (at.line == 0) at = sequence.value_at;
    return {fmt::format("{}[{}]", sequence.path, index), item, at, at};
}

namespace {

void render_rows(std::span<const KeyInfo> keys, const std::string& prefix, std::string& out) {
    auto cell = [](std::string_view text) {
        return text.empty() ? std::string(" |") : fmt::format(" {} |", text);
    };
    for (const auto& key : keys) {
        auto path = prefix + std::string(key.name);
        if (key.doc.row) {
            out += "|";
            out += cell(key.doc.key_text.empty() ? fmt::format("`{}`", path)
                                                 : std::string(key.doc.key_text));
            out += cell(key.doc.help) + cell(key.doc.default_text) + cell(key.doc.allowed_text);
            out += "\n";
        }
        render_rows(key.children, path + std::string(key.child_prefix), out);
    }
}

}  // namespace

std::string render_key_table(std::span<const KeyInfo> keys) {
    std::string out = "| key | meaning | default | allowed |\n|---|---|---|---|\n";
    render_rows(keys, "", out);
    return out;
}

}  // namespace schema
}  // namespace onair::core
