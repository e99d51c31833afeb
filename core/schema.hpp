#pragma once
// A file format's schema as data: one declaration per key (name, value type,
// where the value goes, whether it is required, its line in the README's key
// table). read_map() walks a YAML map against the declarations and reports
// every problem (unknown key with a hint, repeated key, merge key, wrong type,
// out of range, required key missing) through a Reader, which also records
// where each key was written and whether its value was valid, for the rules
// between keys that the caller checks afterwards. render_key_table() writes the
// markdown table from the same declarations. Used on one thread at start-up;
// the Reader owns the diagnostics until take().
#include <array>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/diagnostic.hpp"
#include "core/enum_names.hpp"
#include "core/units.hpp"

namespace onair::core {
// Declared with the input URLs (core/input_url.cpp).
std::string closest_match(std::string_view word, std::span<const std::string_view> candidates);
}  // namespace onair::core

namespace onair::core::schema {

// One key of a map (or one item of a sequence) and where it was written.
struct Field {
    std::string path;
    YAML::Node value;
    SourcePosition key_at;    // the key, or the item for sequence items
    SourcePosition value_at;  // the value; the key's place when the value is empty
};

using Fields = std::map<std::string, Field, std::less<>>;

// Where a key was written, and whether its value passed its own checks.
struct Written {
    SourcePosition key_at;
    SourcePosition value_at;
    bool valid = true;
};

// How a map that is not a map is reported: "expected a map of inputs, got ...".
struct MapForm {
    std::string_view expected = "a map";
    std::string_view allowed;  // empty: "a map with keys K1, K2, ..."
};

// How a sequence of maps is counted in its messages: "has 9 rungs (allowed: 1..8 rungs)".
struct SequenceForm {
    std::string_view items;  // plural noun: "rungs"
    size_t min = 0;
    size_t max = 0;  // 0: no limit
};

class Reader;

// What a node is, for "expected X, got Y": "a map", "the number 3", "the string \"x\"".
std::string describe(const YAML::Node& node);
std::string count_allowed(const SequenceForm& form);                     // "1..8 rungs"
bool read_counted(Reader& r, const Field& f, const SequenceForm& form);  // reports the count
Field item_field(const Field& sequence, size_t index);                   // "ladder[2]" at the item
SourcePosition position_of(const YAML::Node& node);

// The one document of a YAML file: its root, or the diagnostic that says why
// there is none (a syntax error; an empty file, `top_allowed` being what is
// allowed). Further documents are reported through `reader` ("a second YAML
// document; " + `holds`, e.g. "a channel file holds one channel").
std::expected<YAML::Node, Diagnostic> load_one_document(std::string_view yaml_text,
                                                        const std::string& file,
                                                        const std::string& top_allowed,
                                                        std::string_view holds, Reader& reader);

// Helpers the format readers share.
std::string join(std::span<const std::string_view> items);
std::string with_hint(std::string message, std::string_view word,
                      std::span<const std::string_view> candidates);
std::string shortened(const std::string& text);
bool is_number(std::string_view text);

// The parse of one file: diagnostics and what was written where.
class Reader {
  public:
    explicit Reader(std::string file) : file_(std::move(file)) {}

    void error(SourcePosition at, std::string key, std::string message, std::string allowed = {});
    bool failed() const { return !diagnostics_.empty(); }
    std::vector<Diagnostic> take();  // in file order

    // The key path as written, or nullptr when it was left out.
    const Written* given(std::string_view path) const;
    // Given, and its value (with everything under it) passed its checks.
    bool valid(std::string_view path) const;
    void note(const Field& field);
    void invalidate(std::string_view path);
    // Key path -> where its key was written.
    std::map<std::string, SourcePosition> key_positions() const;

    // The entries of a map whose keys must be among `keys`. Unknown, repeated
    // and merge keys are reported; known ones are noted.
    std::optional<Fields> fields(const Field& parent, std::span<const std::string_view> keys,
                                 MapForm form = {});

    // Value readers: each reports its own problem and returns nullopt on failure.
    std::optional<std::string> scalar(const Field& f, std::string_view expected,
                                      const std::string& allowed);
    std::optional<int64_t> integer(const Field& f, const std::string& allowed);
    std::optional<int64_t> integer_in(const Field& f, int64_t lo, int64_t hi);
    std::optional<int64_t> integer_of(const Field& f, std::span<const int64_t> options);
    std::optional<int64_t> even_integer(const Field& f, int64_t lo, int64_t hi);
    std::optional<int64_t> bitrate(const Field& f, int64_t lo, int64_t hi);
    // `allowed`: what the messages say is allowed; empty: "LO..HI".
    std::optional<Micros> duration(const Field& f, Micros lo, Micros hi, std::string allowed = {});
    std::optional<Rational> frame_rate(const Field& f, int64_t lo, int64_t hi);
    std::optional<size_t> choice(const Field& f, std::span<const std::string_view> options);
    std::optional<double> share(const Field& f);
    std::optional<double> decibels(const Field& f, double lo, double hi);
    std::optional<std::string> http_url(const Field& f);
    std::optional<int64_t> size(const Field& f, int64_t lo);
    std::optional<std::string> name(const Field& f, size_t max_size, std::string_view what);

  private:
    std::string file_;
    std::vector<Diagnostic> diagnostics_;
    std::map<std::string, Written, std::less<>> written_;
};

// ---- value types: what a key's value is, read into a C++ value -------------
// Each has `allowed()` (the "allowed:" text of its messages) and
// `read(Reader&, const Field&)` returning std::optional<value>.

struct Text {                   // any string
    std::string_view expected;  // "a file path"
    std::string_view allowed_text;
    std::string allowed() const { return std::string(allowed_text); }
    std::optional<std::string> read(Reader& r, const Field& f) const {
        return r.scalar(f, expected, allowed());
    }
};
using FilePath = Text;

struct Name {  // [A-Za-z0-9_-]{1,max}
    size_t max_size;
    std::string_view what;  // "channel name"
    std::string allowed() const;
    std::optional<std::string> read(Reader& r, const Field& f) const {
        return r.name(f, max_size, what);
    }
};

struct IntegerRange {
    int64_t lo, hi;
    std::string allowed() const;
    std::optional<int64_t> read(Reader& r, const Field& f) const { return r.integer_in(f, lo, hi); }
};

struct IntegerOf {  // one of a few integers: 1, 2, 6
    std::span<const int64_t> options;
    std::string allowed() const;
    std::optional<int64_t> read(Reader& r, const Field& f) const {
        return r.integer_of(f, options);
    }
};

struct EvenInteger {  // picture dimensions (4:2:0 chroma needs them even)
    int64_t lo, hi;
    std::string allowed() const;
    std::optional<int64_t> read(Reader& r, const Field& f) const {
        return r.even_integer(f, lo, hi);
    }
};

struct BitrateRange {  // 3000k, 3.5M
    int64_t lo, hi;
    std::string allowed() const;
    std::optional<int64_t> read(Reader& r, const Field& f) const { return r.bitrate(f, lo, hi); }
};

struct DurationRange {  // 6s, 500ms, 1h30m
    Micros lo, hi;
    std::string allowed() const;
    std::optional<Micros> read(Reader& r, const Field& f) const { return r.duration(f, lo, hi); }
};

struct DurationOrOff {  // off, 500ms: off reads as zero
    Micros lo, hi;
    std::string allowed() const;
    std::optional<Micros> read(Reader& r, const Field& f) const {
        if (f.value.IsScalar() && (f.value.Scalar() == "off" || f.value.Scalar() == "false"))
            return Micros(0);
        return r.duration(f, lo, hi, allowed());
    }
};

struct Switch {  // on | off (true | false, as YAML writes them too)
    std::string allowed() const { return "on or off"; }
    std::optional<bool> read(Reader& r, const Field& f) const {
        static constexpr std::array<std::string_view, 4> kWords{"off", "on", "false", "true"};
        auto i = r.choice(f, kWords);
        if (!i) return std::nullopt;
        return *i % 2 == 1;
    }
};

struct FrameRate {  // 30, 29.97, 30000/1001
    int64_t lo, hi;
    std::string allowed() const;
    std::optional<Rational> read(Reader& r, const Field& f) const {
        return r.frame_rate(f, lo, hi);
    }
};

struct Share {  // 0.98 or 98%
    std::string allowed() const;
    std::optional<double> read(Reader& r, const Field& f) const { return r.share(f); }
};

struct Decibels {  // -50dB
    double lo, hi;
    std::string allowed() const;
    std::optional<double> read(Reader& r, const Field& f) const { return r.decibels(f, lo, hi); }
};

struct Size {  // 500M, 50G, 2T
    int64_t min;
    std::string allowed() const;
    std::optional<int64_t> read(Reader& r, const Field& f) const { return r.size(f, min); }
};

struct HttpUrl {  // http://HOST[:PORT]/PATH
    std::string allowed() const;
    std::optional<std::string> read(Reader& r, const Field& f) const { return r.http_url(f); }
};

struct OneOf {  // one of a list of words, kept as the word
    std::span<const std::string_view> options;
    std::string allowed() const;
    std::optional<std::string> read(Reader& r, const Field& f) const {
        auto i = r.choice(f, options);
        if (!i) return std::nullopt;
        return std::string(options[*i]);
    }
};

// A value the format reserves but does not support yet, with its message.
struct Reserved {
    std::string_view word;
    std::string_view message;
};

template <class E, size_t N>
struct Choice {  // an enum, by its names
    const EnumNames<E, N>& names;
    std::span<const Reserved> reserved = {};
    std::string allowed() const;
    std::optional<E> read(Reader& r, const Field& f) const {
        auto words = names.names();
        if (f.value.IsScalar()) {
            for (const auto& word : reserved)
                if (f.value.Scalar() == word.word) {
                    r.error(f.value_at, f.path, std::string(word.message), allowed());
                    return std::nullopt;
                }
        }
        auto i = r.choice(f, words);
        if (!i) return std::nullopt;
        return names.entries[*i].first;
    }
};
// Spelled out for compilers without aggregate deduction (clang before 17).
template <class E, size_t N>
Choice(const EnumNames<E, N>&) -> Choice<E, N>;
template <class E, size_t N>
Choice(const EnumNames<E, N>&, std::span<const Reserved>) -> Choice<E, N>;

struct HostPortValue {
    std::string host;
    int port = 0;
};
struct HostPort {  // HOST:PORT, [IPv6]:PORT
    std::string allowed() const;
    std::optional<HostPortValue> read(Reader& r, const Field& f) const;
};

template <class T>
concept ValueType = requires(const T& type, Reader& r, const Field& f) {
    { type.allowed() } -> std::convertible_to<std::string>;
    { type.read(r, f).has_value() } -> std::convertible_to<bool>;
};

// ---- declarations ----------------------------------------------------------

// The key's line in the README's key table. `key_text` replaces the
// generated "`path`" cell; keys without help have no line of their own.
struct KeyDoc {
    std::string_view help;
    std::string_view default_text;
    std::string_view allowed_text;
    std::string_view key_text = {};
    bool row = true;
};
inline constexpr KeyDoc kNoRow{{}, {}, {}, {}, false};

// What the table needs of a key, whatever struct it fills.
struct KeyInfo {
    std::string_view name;
    bool required = false;
    KeyDoc doc = kNoRow;
    std::string_view child_prefix = ".";  // "[]." for sequences of maps
    std::vector<KeyInfo> children;
};

template <class T>
struct Key {
    KeyInfo info;
    std::string missing_allowed;  // "allowed:" of "required key is missing"
    // Reads the field into the target; false when the value was not valid.
    std::function<bool(Reader&, const Field&, T&)> read;

    Key required() && {
        info.required = true;
        return std::move(*this);
    }
};

template <class T>
using Schema = std::vector<Key<T>>;

template <class T>
std::vector<std::string_view> key_names(const Schema<T>& schema) {
    std::vector<std::string_view> out;
    for (const auto& key : schema) out.push_back(key.info.name);
    return out;
}

template <class T>
std::vector<KeyInfo> key_infos(const Schema<T>& schema) {
    std::vector<KeyInfo> out;
    for (const auto& key : schema) out.push_back(key.info);
    return out;
}

// Reads a map into `target` by `schema`, in declaration order. True when
// every key given was valid and every required key was there.
template <class T>
bool read_map(Reader& r, const Field& parent, const Schema<T>& schema, T& target,
              MapForm form = {}) {
    auto names = key_names(schema);
    auto fields = r.fields(parent, names, form);
    if (!fields) return false;
    bool all_valid = true;
    for (const auto& key : schema) {
        auto it = fields->find(key.info.name);
        if (it == fields->end()) {
            if (key.info.required) {
                r.error(parent.key_at,
                        parent.path.empty() ? std::string(key.info.name)
                                            : parent.path + "." + std::string(key.info.name),
                        "required key is missing", key.missing_allowed);
                all_valid = false;
            }
            continue;
        }
        if (!key.read(r, it->second, target)) {
            r.invalidate(it->second.path);
            all_valid = false;
        }
    }
    return all_valid;
}

namespace detail {
// A member pointer assigns (converting, e.g. int64_t to int); a callable is called.
template <class T, class V, class Set>
void store(Set& set, T& target, V&& value) {
    if constexpr (std::is_member_object_pointer_v<Set>) {
        using Member = std::remove_reference_t<decltype(target.*set)>;
        target.*set = static_cast<Member>(std::forward<V>(value));
    } else {
        set(target, std::forward<V>(value));
    }
}
}  // namespace detail

// A key holding one value of `type`, stored by `set` (a member pointer of T,
// or a callable (T&, value)).
template <class T, ValueType Type, class Set>
Key<T> key(std::string_view name, Type type, Set set, KeyDoc doc = kNoRow) {
    Key<T> out;
    out.info.name = name;
    out.info.doc = doc;
    out.missing_allowed = type.allowed();
    out.read = [type, set](Reader& r, const Field& f, T& target) mutable {
        auto value = type.read(r, f);
        if (!value) return false;
        detail::store(set, target, std::move(*value));
        return true;
    };
    return out;
}

// A key holding a map of its own keys, read into the member `member`.
template <class T, class U>
Key<T> map(std::string_view name, Schema<U> sub, U T::*member, MapForm form = {},
           KeyDoc doc = kNoRow) {
    Key<T> out;
    out.info.name = name;
    out.info.doc = doc;
    out.info.children = key_infos(sub);
    out.missing_allowed = std::string(form.allowed);
    out.read = [sub = std::move(sub), member, form](Reader& r, const Field& f, T& target) {
        return read_map(r, f, sub, target.*member, form);
    };
    return out;
}

// A switchable check: `off`/`false` disables it, `on`/`true` enables it with
// its defaults, a map enables it and sets what it names.
template <class T, class U>
Key<T> check(std::string_view name, Schema<U> sub, U T::*member, bool U::*enabled,
             KeyDoc doc = kNoRow) {
    Key<T> out;
    out.info.name = name;
    out.info.doc = doc;
    out.info.children = key_infos(sub);
    for (auto& child : out.info.children) child.doc.row = false;  // the check's line tells them
    out.read = [sub = std::move(sub), member, enabled](Reader& r, const Field& f, T& target) {
        auto& check = target.*member;
        std::string keys;
        for (const auto& key : sub) keys += (keys.empty() ? "" : ", ") + std::string(key.info.name);
        if (f.value.IsScalar()) {
            const auto& v = f.value.Scalar();
            if (v == "off" || v == "false") return check.*enabled = false, true;
            if (v == "on" || v == "true") return check.*enabled = true, true;
        }
        if (!f.value.IsMap()) {
            r.error(f.value_at, f.path, "expected off, on or a map, got " + describe(f.value),
                    "off, on, or a map with " + keys);
            return false;
        }
        check.*enabled = true;
        return read_map(r, f, sub, check);
    };
    return out;
}

// A key holding a sequence of maps, each read by `item` into a new E appended
// to the member `member`. Every item is appended, valid or not: the caller's
// rules between items see them all; Reader::valid("key[i]") tells them apart.
template <class T, class E>
Key<T> sequence(std::string_view name, Schema<E> item, std::vector<E> T::*member, SequenceForm form,
                KeyDoc doc = kNoRow) {
    Key<T> out;
    out.info.name = name;
    out.info.doc = doc;
    out.info.child_prefix = "[].";
    out.info.children = key_infos(item);
    std::string required;
    for (const auto& key : item)
        if (key.info.required)
            required += (required.empty() ? "" : ", ") + std::string(key.info.name);
    out.missing_allowed = count_allowed(form) + " of {" + required + "}";
    out.read = [item = std::move(item), member, form, shape = out.missing_allowed](
                   Reader& r, const Field& f, T& target) {
        if (!f.value.IsSequence()) {
            r.error(
                f.value_at, f.path,
                "expected a sequence of " + std::string(form.items) + ", got " + describe(f.value),
                shape);
            return false;
        }
        bool all_valid = read_counted(r, f, form);
        for (size_t i = 0; i < f.value.size(); ++i) {
            auto element = item_field(f, i);
            r.note(element);
            E value{};
            if (!read_map(r, element, item, value)) {
                r.invalidate(element.path);
                all_valid = false;
            }
            (target.*member).push_back(std::move(value));
        }
        return all_valid;
    };
    return out;
}

// The markdown table `| key | meaning | default | allowed |` of every key
// with a line, in declaration order, paths from the top.
std::string render_key_table(std::span<const KeyInfo> keys);

template <class E, size_t N>
std::string Choice<E, N>::allowed() const {
    auto words = names.names();
    return join(words);
}

}  // namespace onair::core::schema
