#include "origin/router.hpp"

#include <boost/url/pct_string_view.hpp>

#include <fmt/format.h>

#include <algorithm>

#include "core/config.hpp"

namespace onair::origin {

namespace http = boost::beast::http;

namespace {

Response bad_request(std::string_view reason) {
    return make_error(http::status::bad_request, "bad_request", reason);
}

// Why a decoded path segment is refused, or empty when it is fine.
std::string_view segment_problem(std::string_view segment) {
    if (segment.empty()) return "empty path segment";
    if (segment == "." || segment == "..") return "dot segment in path";
    for (char c : segment) {
        if (c == '/') return "encoded slash in path segment";
        if (c == '\\') return "backslash in path segment";
        if (c == '\0') return "NUL byte in path segment";
    }
    return {};
}

bool placeholder(std::string_view segment) {
    return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// The path of a request target split into decoded segments, without copies
// unless a segment is percent-encoded.
struct Path {
    std::array<std::string_view, Router::kMaxSegments> segments;
    std::size_t count = 0;
    std::array<std::string, Router::kMaxSegments> decoded;  // where encoded ones live
};

// Splits and checks `path`; the refusal when it may not go on.
std::optional<Response> split(std::string_view path, Path& out) {
    if (path.empty() || path.front() != '/')
        return bad_request("the request target is not an absolute path");
    if (path.size() > Router::kMaxPath)
        return bad_request(fmt::format("path longer than {} bytes", Router::kMaxPath));
    if (path == "/") return std::nullopt;  // the root: no segment at all
    std::size_t at = 1;
    while (at <= path.size()) {
        auto next = path.find('/', at);
        if (next == std::string_view::npos) next = path.size();
        if (out.count == Router::kMaxSegments)
            return make_error(http::status::not_found, "not_found", "no such path");
        std::string_view segment = path.substr(at, next - at);
        if (segment.find('%') != std::string_view::npos) {
            auto encoded = boost::urls::make_pct_string_view(
                boost::urls::string_view(segment.data(), segment.size()));
            if (!encoded) return bad_request("malformed percent-encoding in path");
            out.decoded[out.count] = encoded->decode();
            segment = out.decoded[out.count];
        }
        if (auto problem = segment_problem(segment); !problem.empty()) return bad_request(problem);
        out.segments[out.count++] = segment;
        at = next + 1;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> query_value(std::string_view query, std::string_view key) {
    auto decoded = [](std::string_view text) -> std::optional<std::string> {
        auto pct =
            boost::urls::make_pct_string_view(boost::urls::string_view(text.data(), text.size()));
        if (!pct) return std::nullopt;
        return pct->decode();
    };
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view param = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        const auto eq = param.find('=');
        auto name = decoded(param.substr(0, eq));
        if (!name || *name != key) continue;
        if (eq == std::string_view::npos) return std::string();
        return decoded(param.substr(eq + 1));
    }
    return std::nullopt;
}

void Router::add(http::verb method, std::string_view pattern, Answer answer, Guard guard) {
    std::vector<std::string> segments;  // none for the root, "/"
    for (std::size_t at = 1; pattern != "/" && at <= pattern.size();) {
        auto next = pattern.find('/', at);
        if (next == std::string_view::npos) next = pattern.size();
        segments.emplace_back(pattern.substr(at, next - at));
        at = next + 1;
    }
    auto it = std::find_if(patterns_.begin(), patterns_.end(),
                           [&](const Pattern& p) { return p.segments == segments; });
    if (it == patterns_.end()) {
        patterns_.push_back({std::move(segments), {}, {}});
        it = std::prev(patterns_.end());
    }
    it->methods.push_back({method, std::move(answer), guard});
    std::string allow;
    for (auto verb : {http::verb::get, http::verb::head, http::verb::post, http::verb::put,
                      http::verb::patch, http::verb::delete_}) {
        const auto wanted = verb == http::verb::head ? http::verb::get : verb;
        if (std::none_of(it->methods.begin(), it->methods.end(),
                         [&](const Method& m) { return m.verb == wanted; }))
            continue;
        allow += std::string(http::to_string(verb)) + ", ";
    }
    it->allow = allow + "OPTIONS";
}

Reply Router::operator()(const Request& request) const {
    if (request.method() != http::verb::head) return route(request);
    Reply reply = route(request);
    // A held reply stays held: the server writes only its head for a HEAD.
    if (reply.pending()) return reply;
    // GET's headers without its body (rare enough to answer as a message).
    Response response = reply.to_message();
    strip_body(response);
    return response;
}

Reply Router::route(const Request& request) const {
    std::string_view target(request.target().data(), request.target().size());
    // RFC 9112: a target is ASCII; anything else is percent-encoded. Beast
    // lets other bytes through, and handlers' URL parsers must not see them.
    if (!core::url_characters_only(target))
        return make_error(http::status::bad_request, "bad_request",
                          "the request target must be printable ASCII (percent-encode the rest)");
    const auto mark = target.find('?');
    Path path;
    if (auto refused = split(target.substr(0, mark), path)) return std::move(*refused);
    const std::string_view query =
        mark == std::string_view::npos ? std::string_view() : target.substr(mark + 1);

    for (const Pattern& pattern : patterns_) {
        if (pattern.segments.size() != path.count) continue;
        Call call{request, query, {}, 0};
        bool match = true;
        for (std::size_t i = 0; i < path.count && match; ++i) {
            const std::string& p = pattern.segments[i];
            if (placeholder(p)) {
                if (call.param_count < Call::kMaxParams)
                    call.params[call.param_count++] = path.segments[i];
            } else {
                match = p == path.segments[i];
            }
        }
        if (!match) continue;

        const http::verb method = request.method();
        if (method == http::verb::options) return make_preflight(pattern.allow);
        const http::verb wanted = method == http::verb::head ? http::verb::get : method;
        auto entry = std::find_if(pattern.methods.begin(), pattern.methods.end(),
                                  [&](const Method& m) { return m.verb == wanted; });
        if (entry == pattern.methods.end()) return make_not_allowed(pattern.allow);
        if (entry->guard.token)
            if (auto refused =
                    refuse_without_bearer(request, *entry->guard.token, entry->guard.when_unset))
                return std::move(*refused);
        return entry->answer(call);
    }
    return make_error(http::status::not_found, "not_found", "no such path");
}

}  // namespace onair::origin
