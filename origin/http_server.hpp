#pragma once
// The origin's HTTP/1.1 server (Boost.Asio sockets, Beast's parser).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "origin/http_figures.hpp"
#include "origin/http_message.hpp"
#include "origin/rate_limit.hpp"

namespace onair::origin {

struct HttpServerOptions {
    std::string host = "127.0.0.1";  // IP address or name to bind
    uint16_t port = 8080;            // 0: an ephemeral port (see HttpServer::port())
    int threads = 0;                 // 0: one per core this process may run on
    // Connections served at once; past it a new connection is answered 503
    // at once and closed (0: no limit).
    int max_connections = 10000;
    // A request's header (body) must arrive within read_timeout of the
    // connection opening (of the header's end); a response must be written
    // within write_timeout; a keep-alive connection may wait idle_timeout for
    // its next request. Checked a few times a second, not to the millisecond.
    std::chrono::milliseconds read_timeout{15000};
    std::chrono::milliseconds write_timeout{30000};
    std::chrono::milliseconds idle_timeout{30000};
    // stop() lets responses in flight finish for at most this long.
    std::chrono::milliseconds stop_grace{1000};
    uint32_t header_limit = 8 * 1024;
    uint64_t body_limit = 64 * 1024;
    // PUT and POST under /ingest/ carry segments: their own, larger limit,
    // chosen once the request's header is read.
    uint64_t ingest_body_limit = 64 * 1024 * 1024;
    // Requests per client address on paths under these prefixes (the API and
    // ingest): past the rate a client gets 429 with Retry-After and the
    // handler is not called. Live playlists and segments are never limited.
    RateLimitOptions rate_limit{};
    std::vector<std::string> rate_limited_prefixes = {"/api/", "/ingest/"};
    // HTTPS: with both set, every connection speaks TLS (1.2 or 1.3) with
    // this certificate chain and key (PEM files, read by start()); bodies
    // are then written from memory, not with sendfile(2).
    std::string tls_certificate{};
    std::string tls_key{};
    bool tls() const { return !tls_certificate.empty(); }
};

// Listens on one TCP endpoint and answers each request through `handler`.
// In: connections; out: the handler's replies. Each thread runs its own
// event loop with its own listening socket on the same port (SO_REUSEPORT:
// the kernel spreads new connections over them), so a connection lives on
// one thread from accept to close, with no lock and no hand-over between
// threads. Requests on a connection are answered in order, one at a time
// (pipelined requests wait in the read buffer). A prepared reply is written
// as it is: its rendered head, the Date (and, where needed, Connection)
// field, and its shared body, in one gather write; other replies have their
// head rendered per response. An oversized header gets 431, an oversized
// body 413 (as soon as Content-Length says so, else once the limit is
// passed), a malformed request 400, then the connection closes. The server
// owns its threads, sockets and sessions; the handler's captures must
// outlive it. start() and stop() are called from one controlling thread,
// never from a handler (stop() joins the threads). Not restartable after
// stop().
class HttpServer {
  public:
    HttpServer(HttpServerOptions options, Handler handler);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and starts serving. Errors read "HOST:PORT: what went wrong".
    [[nodiscard]] core::Result<> start();
    // Stops accepting, closes idle connections, gives responses in flight up
    // to stop_grace, then stops the threads and joins them. Idempotent.
    void stop();
    // The bound port (useful with port 0); 0 before start().
    uint16_t port() const;
    // Connections open now (refused ones on their way out included).
    int connections() const;
    // Connections, requests per second, response times (any thread).
    HttpFigures figures() const;

  private:
    friend struct Worker;
    friend class Session;
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace onair::origin
