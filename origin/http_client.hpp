#pragma once
// A small synchronous HTTP/1.1 client (Boost.Beast) for onair's own pushes:
// segments and status to an origin, anchor look-ups, webhooks.
#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "core/result.hpp"
#include "origin/http_message.hpp"

namespace onair::origin {

// http://HOST[:PORT][/PATH[?QUERY]] taken apart. No https, no user info.
struct HttpUrl {
    std::string host;
    uint16_t port = 80;
    std::string target = "/";  // path and query as sent
    std::string text() const;  // http://HOST:PORT (no target)
};
[[nodiscard]] core::Result<HttpUrl> parse_http_url(std::string_view url);

struct HttpClientOptions {
    // Each step has its own deadline: resolve + connect, writing the whole
    // request, reading the whole response.
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds write_timeout{10000};
    std::chrono::milliseconds read_timeout{10000};
    // When not zero, a bound on the whole of one send() (all its steps, and
    // the retry on a fresh connection).
    std::chrono::milliseconds total_timeout{0};
    uint64_t body_limit = 1024 * 1024;  // responses larger than this fail
    std::string user_agent = "onair";
};

// Request bodies are SharedBuffers (a segment's bytes go out without a copy).
using ClientRequest = boost::beast::http::request<SharedBody>;
using ClientResponse = boost::beast::http::response<boost::beast::http::string_body>;

// A request with method, target, body and Content-Type; Host and
// Content-Length are set by send().
ClientRequest make_request(boost::beast::http::verb method, std::string_view target,
                           SharedBuffer body = {}, std::string_view content_type = {});

// One keep-alive connection to one HOST:PORT, opened on the first send and
// reused while the server keeps it open; on a failure it is dropped and the
// next send reconnects. A request that fails on a reused connection before
// any response byte arrived (the server closed it while idle) is sent once
// more on a fresh one. Any answer, 4xx and 5xx included, is a response;
// errors are only what kept an answer from arriving: "HOST:PORT PUT /x:
// connect: Connection refused". Not thread-safe: one thread at a time (the
// owner's). Owns its io_context and socket; blocks the calling thread for at
// most the step deadlines (or until `stop` is requested, which cancels).
class HttpClient {
  public:
    HttpClient(std::string host, uint16_t port, HttpClientOptions options = {});
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    [[nodiscard]] core::Result<ClientResponse> send(ClientRequest request,
                                                    std::stop_token stop = {});
    // Closes the connection (the next send opens a new one).
    void close();
    bool connected() const;
    // Connections opened so far (to see keep-alive at work).
    int64_t connects() const;

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace onair::origin
