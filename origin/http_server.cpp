#include "origin/http_server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/log.hpp"

namespace onair::origin {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr std::string_view kLog = "http";

std::string endpoint_text(const std::string& host, uint16_t port) {
    if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
    return fmt::format("{}:{}", host, port);
}

std::string error_text(const beast::error_code& ec) {
    std::string text = ec.message();
    if (!text.empty()) text[0] = char(std::tolower(static_cast<unsigned char>(text[0])));
    return text;
}

}  // namespace

class Session;

// Everything the server's threads share. Member order matters: the
// registry outlives the io_context, whose destruction destroys the
// sessions still queued in it.
class HttpServer::Impl {
  public:
    Impl(HttpServerOptions o, Handler h) : options(std::move(o)), handler(std::move(h)) {}

    core::Result<> start();
    void stop();
    void accept();
    void on_accept(beast::error_code ec, tcp::socket socket);
    void add(const std::shared_ptr<Session>& session);
    void remove(Session* session);

    const HttpServerOptions options;
    const Handler handler;
    std::atomic<bool> stopping{false};
    std::atomic<int> live{0};
    std::mutex mutex;
    std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
    std::atomic<uint16_t> port{0};
    bool started = false;
    bool stopped = false;

    net::io_context ioc;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
    tcp::acceptor acceptor{net::make_strand(ioc)};
    net::steady_timer retry{acceptor.get_executor()};
    std::vector<std::thread> threads;
};

// One connection: reads a request, answers it, and repeats while the client
// keeps the connection alive. Runs on its own strand; owned by the handlers
// of its pending operation (and so ends when none is pending).
class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket&& socket, HttpServer::Impl& server)
        : stream_(std::move(socket)), server_(server) {
        ++server_.live;
    }
    ~Session() {
        server_.remove(this);
        --server_.live;
    }

    void start() {
        server_.add(shared_from_this());
        net::dispatch(stream_.get_executor(),
                      beast::bind_front_handler(&Session::read, shared_from_this()));
    }

    // From stop(): drop the connection if it waits for a request; one that is
    // answering finishes and then closes (keep-alive is off while stopping).
    void shutdown() {
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
            if (self->reading_) self->stream_.close();
        });
    }

  private:
    void read() {
        if (server_.stopping) return stream_.close();
        parser_.emplace();
        parser_->header_limit(server_.options.header_limit);
        // The header decides which limit applies (on_header); until then the
        // larger one, since Beast checks Content-Length as the header ends.
        body_limit_ = std::max(server_.options.body_limit, server_.options.ingest_body_limit);
        parser_->body_limit(body_limit_);
        reading_ = true;
        stream_.expires_after(first_ ? server_.options.read_timeout : server_.options.idle_timeout);
        http::async_read_header(stream_, buffer_, *parser_,
                                beast::bind_front_handler(&Session::on_header, shared_from_this()));
    }

    void on_header(beast::error_code ec, std::size_t) {
        if (ec) return on_read_error(ec);
        if (parser_->is_done()) return respond();
        const auto& header = parser_->get();
        const bool ingest =
            (header.method() == http::verb::put || header.method() == http::verb::post) &&
            header.target().starts_with("/ingest/");
        body_limit_ = ingest ? server_.options.ingest_body_limit : server_.options.body_limit;
        if (auto length = parser_->content_length(); length && *length > body_limit_)
            return on_read_error(http::error::body_limit);
        parser_->body_limit(body_limit_);  // no body byte is parsed yet
        stream_.expires_after(server_.options.read_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&Session::on_body, shared_from_this()));
    }

    void on_body(beast::error_code ec, std::size_t) {
        if (ec) return on_read_error(ec);
        respond();
    }

    void on_read_error(beast::error_code ec) {
        reading_ = false;
        if (ec == http::error::header_limit)
            return reject(
                http::status::request_header_fields_too_large, "header_too_large",
                fmt::format("request header over {} bytes", server_.options.header_limit));
        if (ec == http::error::body_limit)
            return reject(http::status::payload_too_large, "body_too_large",
                          fmt::format("request body over {} bytes", body_limit_));
        if (&ec.category() == &http::make_error_code(http::error::bad_target).category() &&
            ec != http::error::end_of_stream && ec != http::error::partial_message)
            return reject(http::status::bad_request, "bad_request", ec.message());
        if (ec == beast::error::timeout) log::debug(kLog, "connection timed out");
        // end of stream, timeout, reset or aborted: nothing to answer.
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    void respond() {
        reading_ = false;
        Request request = parser_->release();
        Response response;
        try {
            response = server_.handler(request);
        } catch (const std::exception& e) {
            log::error(kLog, "handler failed on {} {}: {}", request.method_string(),
                       request.target(), e.what());
            response = make_error(http::status::internal_server_error, "internal_error",
                                  "the server failed to answer");
        }
        if (request.method() == http::verb::head) strip_body(response);
        response.version(request.version());
        response.keep_alive(request.keep_alive() && !server_.stopping);
        write(std::move(response));
    }

    void reject(http::status status, std::string_view error, std::string reason) {
        Response response = make_error(status, error, reason);
        response.keep_alive(false);
        write(std::move(response));
    }

    void write(Response response) {
        response_ = std::move(response);
        stream_.expires_after(server_.options.write_timeout);
        http::async_write(stream_, response_,
                          beast::bind_front_handler(&Session::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        if (ec) return;  // the stream is closed with this session
        first_ = false;
        if (response_.need_eof()) {
            beast::error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
            return;
        }
        response_ = {};
        read();
    }

    beast::tcp_stream stream_;
    HttpServer::Impl& server_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    Response response_;
    uint64_t body_limit_ = 0;  // of the request being read
    bool reading_ = false;
    bool first_ = true;
};

void HttpServer::Impl::add(const std::shared_ptr<Session>& session) {
    std::lock_guard lock(mutex);
    sessions.emplace(session.get(), session);
}

void HttpServer::Impl::remove(Session* session) {
    std::lock_guard lock(mutex);
    sessions.erase(session);
}

core::Result<> HttpServer::Impl::start() {
    const std::string where = endpoint_text(options.host, options.port);
    beast::error_code ec;
    tcp::endpoint endpoint;
    auto address = net::ip::make_address(options.host, ec);
    if (!ec) {
        endpoint = tcp::endpoint(address, options.port);
    } else {
        tcp::resolver resolver(ioc);
        auto results = resolver.resolve(options.host, std::to_string(options.port),
                                        tcp::resolver::passive, ec);
        if (ec || results.empty())
            return core::fail(fmt::format("{}: cannot resolve host: {}", where, error_text(ec)),
                              ec.value());
        endpoint = results.begin()->endpoint();
    }
    auto failed = [&](std::string_view what) {
        beast::error_code ignored;
        acceptor.close(ignored);
        return core::fail(fmt::format("{}: {}{}", where, what, error_text(ec)), ec.value());
    };
    if (acceptor.open(endpoint.protocol(), ec)) return failed("cannot open socket: ");
    if (acceptor.set_option(net::socket_base::reuse_address(true), ec))
        return failed("cannot set SO_REUSEADDR: ");
    if (acceptor.bind(endpoint, ec)) return failed("");
    if (acceptor.listen(net::socket_base::max_listen_connections, ec)) return failed("");
    port = acceptor.local_endpoint(ec).port();

    started = true;
    work.emplace(ioc.get_executor());
    net::dispatch(acceptor.get_executor(), [this] { accept(); });
    const int count = std::max(1, options.threads);
    threads.reserve(count);
    for (int i = 0; i < count; ++i) {
        threads.emplace_back([this] {
            for (;;) {
                try {
                    ioc.run();
                    return;
                } catch (const std::exception& e) {
                    log::error(kLog, "unexpected exception: {}", e.what());
                }
            }
        });
    }
    log::info(kLog, "listening on {}", endpoint_text(options.host, port));
    return {};
}

void HttpServer::Impl::accept() {
    acceptor.async_accept(net::make_strand(ioc), beast::bind_front_handler(&Impl::on_accept, this));
}

void HttpServer::Impl::on_accept(beast::error_code ec, tcp::socket socket) {
    if (stopping || !acceptor.is_open()) return;
    if (ec) {
        // Out of descriptors and the like: wait a little rather than spin.
        log::warn(kLog, "accept failed: {}", ec.message());
        retry.expires_after(std::chrono::milliseconds(100));
        retry.async_wait([this](beast::error_code wait_ec) {
            if (!wait_ec && !stopping) accept();
        });
        return;
    }
    std::make_shared<Session>(std::move(socket), *this)->start();
    accept();
}

void HttpServer::Impl::stop() {
    if (!started || stopped) return;
    stopped = true;
    stopping = true;
    net::dispatch(acceptor.get_executor(), [this] {
        beast::error_code ignored;
        acceptor.close(ignored);
        retry.cancel();
    });
    std::vector<std::shared_ptr<Session>> open;
    {
        std::lock_guard lock(mutex);
        for (auto& [raw, weak] : sessions)
            if (auto session = weak.lock()) open.push_back(std::move(session));
    }
    for (auto& session : open) session->shutdown();
    open.clear();  // the sessions must not be kept alive from here
    const auto deadline = std::chrono::steady_clock::now() + options.stop_grace;
    while (live > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    work.reset();
    ioc.stop();
    for (auto& thread : threads) thread.join();
    threads.clear();
    log::info(kLog, "stopped");
}

HttpServer::HttpServer(HttpServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
    stop();
}

core::Result<> HttpServer::start() {
    if (impl_->started) return core::fail("the server is already started");
    return impl_->start();
}

void HttpServer::stop() {
    impl_->stop();
}

uint16_t HttpServer::port() const {
    return impl_->port;
}

int HttpServer::connections() const {
    return impl_->live;
}

}  // namespace onair::origin
