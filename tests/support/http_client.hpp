#pragma once
// A small synchronous HTTP/1.1 client for tests (Boost.Beast). Every step —
// resolve, connect, write, read — shares one deadline, so a call returns
// within `timeout` whatever the server does: a response, or an error text
// such as "127.0.0.1:8080 GET /healthz: read: The socket was closed due to a
// timeout". One connection per call (Connection: close). Any thread.
#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace onair::testing {

struct HttpResponse {
    int status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;  // in order received
    std::string body;

    // The first header of that name, compared case-insensitively.
    std::optional<std::string> header(std::string_view name) const;
};

struct HttpRequest {
    std::string method = "GET";
    std::string target = "/";
    std::vector<std::pair<std::string, std::string>> headers;  // Host is added
    std::string body;
};

using HttpResult = std::expected<HttpResponse, std::string>;

constexpr std::chrono::milliseconds kHttpTimeout{5000};

HttpResult http_request(const std::string& host, int port, const HttpRequest& request,
                        std::chrono::milliseconds timeout = kHttpTimeout);
HttpResult http_get(const std::string& host, int port, const std::string& target,
                    std::chrono::milliseconds timeout = kHttpTimeout);
// Sends `raw` bytes exactly as given (malformed requests welcome) and reads
// one response. `head`: the response has no body whatever it says.
HttpResult http_raw(const std::string& host, int port, std::string_view raw,
                    std::chrono::milliseconds timeout = kHttpTimeout, bool head = false);

// http_get that throws std::runtime_error with the error text instead.
HttpResponse must_get(const std::string& host, int port, const std::string& target,
                      std::chrono::milliseconds timeout = kHttpTimeout);

}  // namespace onair::testing
