#pragma once
// One router for every HTTP route onair answers (a channel's origin: live,
// DVR, VOD, clips, status, metrics, ingest; the event controller's API).
// The rules every route shares are written here once:
//   - the target: printable ASCII only (400 otherwise);
//   - the path: percent-decoded per segment, refused (400) when a segment
//     could walk out of its place ("." "..", '/', '\\' or NUL after decoding,
//     or empty) or the path is longer than kMaxPath;
//   - the methods: GET also answers HEAD (the server drops the body), OPTIONS
//     is the CORS preflight (204 with Allow), any other method 405 with Allow;
//   - the bearer token of a guarded route (one rule, bearer_matches);
//   - an unknown path: 404 with a JSON reason.
// Handlers get the path's {placeholders} already decoded and checked.
#include <array>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/verb.hpp>

#include "origin/http_message.hpp"

namespace onair::origin {

// Who may call a route: anyone, or a caller bringing *token as
// "Authorization: Bearer" (401 otherwise; 403 with `when_unset` while no
// token is configured). The token is read at each call, so it may be set
// after the route is added (before serving).
struct Guard {
    const std::string* token = nullptr;  // null: open
    std::string_view when_unset = kApiTokenUnset;
};

// One request as a route sees it.
struct Call {
    static constexpr std::size_t kMaxParams = 6;
    const Request& request;
    std::string_view query;                           // after '?', raw; empty when none
    std::array<std::string_view, kMaxParams> params;  // the pattern's {names}, in order
    std::size_t param_count = 0;
    std::string_view param(std::size_t i) const { return params[i]; }
};

// The decoded value of `key` in a raw query ("a=1&b=%2B2"): nullopt when
// absent or the query is malformed, "" when given without a value.
std::optional<std::string> query_value(std::string_view query, std::string_view key);

class Router {
  public:
    using Answer = std::function<Reply(const Call&)>;
    static constexpr std::size_t kMaxPath = 1024;
    static constexpr std::size_t kMaxSegments = 12;

    // `pattern` is an absolute path of literal segments and {name}s, each
    // {name} matching any one segment: "/live/{channel}/{rendition}/index.m3u8".
    // Patterns are tried in the order added; add the more literal first.
    void add(boost::beast::http::verb method, std::string_view pattern, Answer answer,
             Guard guard = {});

    Reply operator()(const Request& request) const;
    // This router as a server's handler; it must outlive the server, and no
    // route may be added once serving began.
    Handler handler() const {
        return [this](const Request& request) { return (*this)(request); };
    }

  private:
    Reply route(const Request& request) const;  // HEAD answered as GET
    struct Method {
        boost::beast::http::verb verb;
        Answer answer;
        Guard guard;
    };
    struct Pattern {
        std::vector<std::string> segments;  // literal, or "{...}" for any
        std::vector<Method> methods;
        std::string allow;  // "GET, HEAD, OPTIONS"
    };
    std::vector<Pattern> patterns_;
};

}  // namespace onair::origin
