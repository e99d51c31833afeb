#include "origin/http_server.hpp"

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <optional>
#include <thread>
#include <vector>

#include "core/log.hpp"

namespace onair::origin {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr std::string_view kLog = "http";
// Bytes asked of the socket per read: a request header rarely needs more
// (a small buffer per idle connection), a body being read (a pushed
// segment) takes larger reads.
constexpr std::size_t kReadChunk = 1024;
constexpr std::size_t kBodyReadChunk = 64 * 1024;
// A refused connection is answered, then given this long to close its side.
constexpr int64_t kRefusalLingerMs = 1000;
// A held request is dropped after this at the latest (its holder answers first).
constexpr int64_t kHoldLimitMs = 5 * 60 * 1000;

using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using Acceptor = net::basic_socket_acceptor<tcp, Executor>;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                        net::wait_traits<std::chrono::steady_clock>, Executor>;
using ReusePort = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
using TlsStream = net::ssl::stream<Socket&>;

int64_t steady_us() {
    using namespace std::chrono;
    return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

int64_t utc_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string endpoint_text(const std::string& host, uint16_t port) {
    if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
    return fmt::format("{}:{}", host, port);
}

std::string error_text(const beast::error_code& ec) {
    std::string text = ec.message();
    if (!text.empty()) text[0] = char(std::tolower(static_cast<unsigned char>(text[0])));
    return text;
}

// The cores this process may run on (its affinity), at least one.
int usable_cores() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
    return int(std::max(1u, std::thread::hardware_concurrency()));
}

// Each connection takes a descriptor: the soft open-files limit is raised
// to what the connection limit needs (as far as the hard limit allows), and
// a shortfall is said once, at start.
void ensure_descriptors(int max_connections) {
    constexpr rlim_t kReserve = 256;  // inputs, DVR, SQLite, logs, clip files being served
    rlimit limit{};
    if (max_connections <= 0 || getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    const rlim_t wanted = rlim_t(max_connections) + kReserve;
    if (limit.rlim_cur < wanted) {
        limit.rlim_cur = std::min(wanted, limit.rlim_max);
        setrlimit(RLIMIT_NOFILE, &limit);
        getrlimit(RLIMIT_NOFILE, &limit);
    }
    if (limit.rlim_cur < wanted)
        log::warn(kLog,
                  "the open files limit ({}) is below origin.max_connections ({}) + {}: "
                  "connections past it will fail; raise it (ulimit -n, LimitNOFILE=)",
                  limit.rlim_cur, max_connections, kReserve);
}

net::const_buffer bytes_of(const SharedBuffer& b) {
    return {b.data(), b.size()};
}

}  // namespace

class Session;

// One thread: its event loop, its listening socket, its connections.
// Member order matters: the session list and the recorder outlive the
// io_context, whose destruction destroys the sessions still queued in it.
struct Worker {
    HttpServer::Impl& server;
    Session* sessions = nullptr;  // every open session of this thread (intrusive list)
    HttpRecorder recorder;
    int64_t date_second = -1;
    std::string date_line;  // "Date: ...\r\n" of date_second
    // One thread per loop: its I/O objects are never touched from another
    // thread (stop() posts to it), so the reactor needs no locking.
    net::io_context ioc{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    Acceptor acceptor{ioc.get_executor()};
    Timer sweep{ioc.get_executor()};
    Timer retry{ioc.get_executor()};
    std::thread thread;

    explicit Worker(HttpServer::Impl& s) : server(s) {}
    const std::string& date(int64_t now_ms) {
        if (now_ms / 1000 != date_second) {
            date_second = now_ms / 1000;
            date_line = "Date: " + http_date(now_ms) + "\r\n";
        }
        return date_line;
    }
};

class HttpServer::Impl {
  public:
    Impl(HttpServerOptions o, Handler h) : options(std::move(o)), handler(std::move(h)) {
        if (options.threads <= 0) options.threads = usable_cores();
    }

    core::Result<> start();
    void stop();
    void accept(Worker& worker);
    void on_accept(Worker& worker, Socket socket);
    void sweep(Worker& worker);
    HttpFigures figures() const;
    std::chrono::milliseconds sweep_interval() const {
        auto shortest =
            std::min({options.read_timeout, options.idle_timeout, options.write_timeout});
        return std::clamp(shortest / 4, std::chrono::milliseconds(10),
                          std::chrono::milliseconds(250));
    }

    HttpServerOptions options;
    const Handler handler;
    std::atomic<bool> stopping{false};
    std::atomic<int> live{0};      // sessions open, refusing ones included
    std::atomic<int> refusing{0};  // sessions answering 503 on their way out
    RateLimiter limiter{options.rate_limit};
    std::atomic<int64_t> rate_limited{0};  // requests answered 429
    std::optional<net::ssl::context> tls;  // with options.tls(), from start()
    std::atomic<uint16_t> port{0};
    bool started = false;
    bool stopped = false;
    std::vector<std::unique_ptr<Worker>> workers;
};

// One connection: reads a request, answers it, and repeats while the client
// keeps the connection alive. Runs on its worker's thread only; owned by the
// handlers of its pending operation (and so ends when none is pending).
class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(Socket&& socket, Worker& worker, bool refuse)
        : socket_(std::move(socket)), worker_(worker), server_(worker.server), refusing_(refuse) {
        if (server_.tls) tls_.emplace(socket_, *server_.tls);
        ++server_.live;
        if (refusing_) ++server_.refusing;
        next = worker_.sessions;
        if (next) next->prev = this;
        worker_.sessions = this;
    }
    ~Session() {
        if (prev)
            prev->next = next;
        else
            worker_.sessions = next;
        if (next) next->prev = prev;
        if (refusing_) --server_.refusing;
        --server_.live;
    }

    void start() {
        if (!tls_) return refusing_ ? refuse() : read();
        // HTTPS: the handshake first, within the time a request has to arrive.
        expires_after(server_.options.read_timeout);
        tls_->async_handshake(net::ssl::stream_base::server,
                              [self = shared_from_this()](beast::error_code ec) {
                                  if (ec) return;  // not TLS, or refused: the socket closes
                                  self->refusing_ ? self->refuse() : self->read();
                              });
    }
    // Past its deadline (sweep) or stopping: its pending operations end.
    void close() {
        beast::error_code ignored;
        socket_.close(ignored);
    }
    // From stop(): drop the connection if it waits for a request; one that
    // is answering finishes and then closes (keep-alive is off while stopping).
    void shutdown() {
        if ((reading_ && !parser_) || held_) close();
    }

    int64_t deadline_us = 0;  // 0: none
    Session* prev = nullptr;
    Session* next = nullptr;

  private:
    void expires_after(std::chrono::milliseconds timeout) {
        deadline_us = steady_us() + timeout.count() * 1000;
    }

    void read() {
        if (server_.stopping) return close();
        reading_ = true;
        // A request under way must arrive within read_timeout; the wait for
        // the next one on a kept-alive connection is idle_timeout.
        expires_after(first_ || parser_ ? server_.options.read_timeout
                                        : server_.options.idle_timeout);
        const bool body = parser_ && header_checked_;
        read_some(buffer_.prepare(body ? kBodyReadChunk : kReadChunk),
                  [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                      self->on_read(ec, n);
                  });
    }

    // From the socket, or through TLS.
    template <class Buffers, class Done>
    void read_some(const Buffers& buffers, Done&& done) {
        if (tls_)
            tls_->async_read_some(buffers, std::forward<Done>(done));
        else
            socket_.async_read_some(buffers, std::forward<Done>(done));
    }

    void on_read(beast::error_code ec, std::size_t n) {
        if (ec) {
            // End of stream (between requests or inside one), reset, timed
            // out or stopped: nothing to answer.
            reading_ = false;
            return;
        }
        buffer_.commit(n);
        if (!parse()) read();
    }

    // Feeds what is buffered to the parser. True when a reply is on its way
    // (or the connection is being refused); false when more bytes are needed.
    bool parse() {
        while (buffer_.size() > 0) {
            if (!parser_) {
                parser_.emplace();
                parser_->header_limit(server_.options.header_limit);
                // Until the header says which limit applies, the larger one
                // (Beast checks Content-Length as the header ends).
                body_limit_ =
                    std::max(server_.options.body_limit, server_.options.ingest_body_limit);
                parser_->body_limit(body_limit_);
                header_checked_ = false;
            }
            beast::error_code ec;
            const std::size_t used = parser_->put(buffer_.data(), ec);
            buffer_.consume(used);
            if (ec == http::error::need_more) return false;
            if (ec) {
                on_parse_error(ec);
                return true;
            }
            if (!header_checked_ && parser_->is_header_done() && !check_header()) return true;
            if (parser_->is_done()) {
                respond();
                return true;
            }
            if (used == 0) return false;
        }
        return false;
    }

    // The header decides the body's limit; false when it is refused already.
    bool check_header() {
        header_checked_ = true;
        const auto& header = parser_->get();
        const bool ingest =
            (header.method() == http::verb::put || header.method() == http::verb::post) &&
            header.target().starts_with("/ingest/");
        body_limit_ = ingest ? server_.options.ingest_body_limit : server_.options.body_limit;
        if (auto length = parser_->content_length(); length && *length > body_limit_) {
            on_parse_error(http::error::body_limit);
            return false;
        }
        parser_->body_limit(body_limit_);  // no body byte is parsed yet
        expires_after(server_.options.read_timeout);
        return true;
    }

    // The 429 for a request over its client's rate; nullopt when it may go on.
    std::optional<Response> over_rate(const Request& request) {
        if (!server_.limiter.enabled()) return std::nullopt;
        const std::string_view target(request.target().data(), request.target().size());
        const auto& prefixes = server_.options.rate_limited_prefixes;
        if (std::none_of(prefixes.begin(), prefixes.end(),
                         [&](const std::string& p) { return target.starts_with(p); }))
            return std::nullopt;
        if (peer_.empty()) {
            beast::error_code ec;
            const auto endpoint = socket_.remote_endpoint(ec);
            peer_ = ec ? std::string("?") : endpoint.address().to_string();
        }
        const int64_t wait = server_.limiter.wait_ms(peer_, steady_us() / 1000);
        if (wait == 0) return std::nullopt;
        if (server_.rate_limited++ % 100 == 0)
            log::warn(kLog, "{}: over {} requests a second on {}; answered 429 (so far: {})", peer_,
                      server_.options.rate_limit.per_second, target, server_.rate_limited.load());
        auto response =
            make_error(http::status::too_many_requests, "too_many_requests",
                       fmt::format("more than {} requests a second from {}; try again in {} ms",
                                   server_.options.rate_limit.per_second, peer_, wait));
        response.set(http::field::retry_after, std::to_string((wait + 999) / 1000));
        return response;
    }

    void on_parse_error(beast::error_code ec) {
        reading_ = false;
        if (ec == http::error::header_limit)
            return reject(
                http::status::request_header_fields_too_large, "header_too_large",
                fmt::format("request header over {} bytes", server_.options.header_limit));
        if (ec == http::error::body_limit)
            return reject(http::status::payload_too_large, "body_too_large",
                          fmt::format("request body over {} bytes", body_limit_));
        reject(http::status::bad_request, "bad_request", ec.message());
    }

    void respond() {
        reading_ = false;
        Request request = parser_->release();
        parser_.reset();
        started_us_ = steady_us();
        Reply reply;
        try {
            if (auto refusal = over_rate(request))
                reply = std::move(*refusal);
            else
                reply = server_.handler(request);
        } catch (const std::exception& e) {
            log::error(kLog, "handler failed on {} {}: {}", request.method_string(),
                       request.target(), e.what());
            reply = make_error(http::status::internal_server_error, "internal_error",
                               "the server failed to answer");
        }
        keep_alive_ = request.keep_alive() && !server_.stopping;
        if (auto pending = reply.pending())
            return hold(std::move(pending), request.method() == http::verb::head,
                        request.version());
        write(std::move(reply), request.method() == http::verb::head, request.version());
    }

    // A held request (LL-HLS): nothing is written until its reply comes,
    // posted here from whichever thread completes it. Meanwhile a wait on
    // the socket keeps the session alive and notices a client that leaves;
    // the reply then finds no session and is dropped. Whoever holds the
    // request answers within its own time limit; kHoldLimit only bounds it.
    void hold(std::shared_ptr<PendingReply> pending, bool head_only, unsigned version) {
        held_ = true;
        deadline_us = steady_us() + kHoldLimitMs * 1000;
        socket_.async_wait(net::socket_base::wait_read,
                           [self = shared_from_this()](beast::error_code ec) {
                               // Readable while held: the client left (or sent
                               // more than LL-HLS players do); either way, done.
                               if (!ec && self->held_) self->close();
                           });
        std::weak_ptr<Session> weak = shared_from_this();
        pending->on_complete(
            [weak, executor = socket_.get_executor(), head_only, version](Reply reply) {
                // A session that is gone may have gone with its loop: nothing to post to.
                if (weak.expired()) return;
                net::post(executor, [weak, head_only, version, reply = std::move(reply)]() mutable {
                    if (auto self = weak.lock()) self->resume(std::move(reply), head_only, version);
                });
            });
    }

    void resume(Reply reply, bool head_only, unsigned version) {
        if (!held_) return;
        held_ = false;
        beast::error_code ignored;
        socket_.cancel(ignored);  // ends the wait
        // Its response time is how long the answer took to exist, not ours.
        started_us_ = steady_us();
        write(std::move(reply), head_only, version);
    }

    void reject(http::status status, std::string_view error, std::string reason) {
        started_us_ = steady_us();
        keep_alive_ = false;
        write(make_error(status, error, reason), false, 11);
    }

    // 503 at once, without reading the request; then the client's side is
    // drained until it closes (closing with its request unread would reset
    // the connection and could lose the answer).
    void refuse() {
        static const Prepared kRefusal = [] {
            auto response = make_error(http::status::service_unavailable, "overloaded",
                                       "the origin is at its connection limit; retry shortly");
            response.set(http::field::retry_after, "1");
            return PreparedResponse::make(response);
        }();
        started_us_ = steady_us();
        keep_alive_ = false;
        write(kRefusal, false, 11);
    }

    void drain() {
        deadline_us = steady_us() + kRefusalLingerMs * 1000;
        buffer_.clear();
        read_some(buffer_.prepare(1024),
                  [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      if (!ec) self->drain();
                  });
    }

    void write(Reply reply, bool head_only, unsigned version) {
        reply_ = std::move(reply);
        expires_after(server_.options.write_timeout);
        const SharedBuffer* body = nullptr;
        unsigned status = 0;
        if (const auto& prepared = reply_.prepared()) {
            head_view_ = bytes_of(prepared->head());
            body = &prepared->body();
            status = prepared->status();
        } else {
            head_ = render_head(reply_.message());
            head_view_ = net::buffer(head_);
            body = &reply_.message().body();
            status = reply_.message().result_int();
        }
        // The fields only this response can have, and the header's end.
        std::string_view date = worker_.date(utc_ms());
        std::string_view connection;
        if (!keep_alive_)
            connection = "Connection: close\r\n";
        else if (version < 11)
            connection = "Connection: keep-alive\r\n";
        tail_size_ = 0;
        for (std::string_view part : {date, connection, std::string_view("\r\n")}) {
            std::copy(part.begin(), part.end(), tail_.data() + tail_size_);
            tail_size_ += part.size();
        }
        const bool bodyless = head_only || status == 204 || status == 304 || status < 200;
        if (!bodyless && !tls_ && body->file() >= 0 && !body->empty()) {
            // The head, then the file's pages handed to the socket as they are.
            file_body_ = *body;
            file_sent_ = 0;
            head_sent_ = 0;
            cork(true);
            return send_with_file();
        }
        const std::array<net::const_buffer, 3> buffers = {
            head_view_, net::buffer(tail_.data(), tail_size_),
            bodyless ? net::const_buffer() : bytes_of(*body)};
        auto done = [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->on_write(ec);
        };
        if (tls_)
            net::async_write(*tls_, buffers, std::move(done));
        else
            net::async_write(socket_, buffers, std::move(done));
    }

    // Writes the head and then the body with sendfile(2), as far as the
    // socket takes them now; waits for room and goes on where it stopped.
    // The socket is corked meanwhile (TCP_CORK, as nginx's tcp_nopush), so
    // head and body leave in full segments: MSG_MORE per call instead cost a
    // third more CPU per segment here (more pacing work per push).
    void send_with_file() {
        const int fd = socket_.native_handle();
        const std::size_t head_size = head_view_.size() + tail_size_;
        while (head_sent_ < head_size) {
            std::array<iovec, 2> iov{};
            std::size_t count = 0;
            auto add = [&](const void* data, std::size_t size, std::size_t skip) {
                if (skip >= size) return skip - size;
                iov[count++] = {const_cast<char*>(static_cast<const char*>(data)) + skip,
                                size - skip};
                return std::size_t(0);
            };
            std::size_t skip = add(head_view_.data(), head_view_.size(), head_sent_);
            add(tail_.data(), tail_size_, skip);
            msghdr message{};
            message.msg_iov = iov.data();
            message.msg_iovlen = count;
            const ssize_t n = ::sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return wait_writable();
            if (n < 0) return on_write(beast::error_code(errno, beast::system_category()));
            head_sent_ += std::size_t(n);
        }
        while (file_sent_ < file_body_.size()) {
            off_t offset = off_t(file_body_.file_offset() + int64_t(file_sent_));
            const ssize_t n =
                ::sendfile(fd, file_body_.file(), &offset, file_body_.size() - file_sent_);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return wait_writable();
            if (n <= 0)  // an error, or a file shorter than it was (never for ours)
                return on_write(beast::error_code(n < 0 ? errno : EIO, beast::system_category()));
            file_sent_ += std::size_t(n);
        }
        file_body_ = SharedBuffer();
        cork(false);
        on_write({});
    }

    void cork(bool on) {
        const int value = on ? 1 : 0;
        ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_CORK, &value, sizeof value);
    }

    void wait_writable() {
        socket_.async_wait(net::socket_base::wait_write,
                           [self = shared_from_this()](beast::error_code ec) {
                               if (ec) return self->on_write(ec);
                               self->send_with_file();
                           });
    }

    void on_write(beast::error_code ec) {
        const int64_t now = steady_us();
        worker_.recorder.record(now / 1000000, now - started_us_);
        reply_ = Reply();
        file_body_ = SharedBuffer();
        head_.clear();
        if (ec) return;  // the socket is closed with this session
        first_ = false;
        if (!keep_alive_) {
            beast::error_code ignored;
            socket_.shutdown(tcp::socket::shutdown_send, ignored);
            if (refusing_) drain();
            return;
        }
        if (parse()) return;  // a pipelined request was waiting
        read();
    }

    Socket socket_;
    std::optional<TlsStream> tls_;  // HTTPS: reads and writes go through it
    std::string peer_;              // the client's address, once a rate-limited route asked for it
    Worker& worker_;
    HttpServer::Impl& server_;
    const bool refusing_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    uint64_t body_limit_ = 0;  // of the request being read
    bool header_checked_ = false;
    bool reading_ = false;
    bool first_ = true;
    bool keep_alive_ = false;
    bool held_ = false;       // a reply is awaited (hold())
    int64_t started_us_ = 0;  // when the request being answered was read
    Reply reply_;             // being written
    std::string head_;        // the rendered head of a reply that is not prepared
    net::const_buffer head_view_;
    std::array<char, 96> tail_{};
    std::size_t tail_size_ = 0;
    SharedBuffer file_body_;  // a body sent with sendfile, and how far
    std::size_t file_sent_ = 0;
    std::size_t head_sent_ = 0;
};

core::Result<> HttpServer::Impl::start() {
    ensure_descriptors(options.max_connections);
    const std::string where = endpoint_text(options.host, options.port);
    beast::error_code ec;
    if (options.tls()) {
        tls.emplace(net::ssl::context::tls_server);
        tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                         net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                         net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
        if (tls->use_certificate_chain_file(options.tls_certificate, ec))
            return core::fail(fmt::format("{}: cannot use the certificate {}: {}", where,
                                          options.tls_certificate, error_text(ec)));
        // OpenSSL also refuses a key that is not the certificate's ("key values mismatch").
        if (tls->use_private_key_file(options.tls_key, net::ssl::context::pem, ec))
            return core::fail(fmt::format("{}: cannot use the key {}: {}", where, options.tls_key,
                                          error_text(ec)));
    }
    tcp::endpoint endpoint;
    auto address = net::ip::make_address(options.host, ec);
    if (!ec) {
        endpoint = tcp::endpoint(address, options.port);
    } else {
        net::io_context resolving;
        tcp::resolver resolver(resolving);
        auto results = resolver.resolve(options.host, std::to_string(options.port),
                                        tcp::resolver::passive, ec);
        if (ec || results.empty())
            return core::fail(fmt::format("{}: cannot resolve host: {}", where, error_text(ec)),
                              ec.value());
        endpoint = results.begin()->endpoint();
    }
    // Whether the port is free, asked without SO_REUSEPORT: the listening
    // sockets below share the port with each other, and would with another
    // program's (or another channel's) that did the same; this bind fails
    // on a port any other socket listens on. It also picks an ephemeral port.
    {
        net::io_context probing;
        tcp::acceptor probe(probing);
        if (probe.open(endpoint.protocol(), ec) ||
            probe.set_option(net::socket_base::reuse_address(true), ec) || probe.bind(endpoint, ec))
            return core::fail(fmt::format("{}: {}", where, error_text(ec)), ec.value());
        endpoint.port(probe.local_endpoint(ec).port());
    }
    // One listening socket per thread on that port.
    for (int i = 0; i < options.threads; ++i) {
        auto worker = std::make_unique<Worker>(*this);
        Acceptor& acceptor = worker->acceptor;
        auto failed = [&](std::string_view what) {
            auto error =
                core::fail(fmt::format("{}: {}{}", where, what, error_text(ec)), ec.value());
            beast::error_code ignored;
            for (auto& w : workers) w->acceptor.close(ignored);
            acceptor.close(ignored);
            workers.clear();
            return error;
        };
        if (acceptor.open(endpoint.protocol(), ec)) return failed("cannot open socket: ");
        if (acceptor.set_option(net::socket_base::reuse_address(true), ec))
            return failed("cannot set SO_REUSEADDR: ");
        if (acceptor.set_option(ReusePort(true), ec)) return failed("cannot set SO_REUSEPORT: ");
        if (acceptor.bind(endpoint, ec)) return failed("");
        if (acceptor.listen(net::socket_base::max_listen_connections, ec)) return failed("");
        workers.push_back(std::move(worker));
    }

    port = endpoint.port();
    started = true;
    for (auto& w : workers) {
        Worker& worker = *w;
        accept(worker);
        sweep(worker);
        worker.thread = std::thread([&worker] {
            pthread_setname_np(pthread_self(), "onair-http");  // what top -H shows
            for (;;) {
                try {
                    worker.ioc.run();
                    return;
                } catch (const std::exception& e) {
                    log::error(kLog, "unexpected exception: {}", e.what());
                }
            }
        });
    }
    log::info(kLog, "listening on {} ({} threads, at most {} connections)",
              endpoint_text(options.host, port), options.threads,
              options.max_connections > 0 ? std::to_string(options.max_connections) : "any");
    return {};
}

void HttpServer::Impl::accept(Worker& worker) {
    worker.acceptor.async_accept([this, &worker](beast::error_code ec, Socket socket) {
        if (stopping || !worker.acceptor.is_open()) return;
        if (ec) {
            // Out of descriptors and the like: wait a little rather than spin.
            log::warn(kLog, "accept failed: {}", ec.message());
            worker.retry.expires_after(std::chrono::milliseconds(100));
            worker.retry.async_wait([this, &worker](beast::error_code wait_ec) {
                if (!wait_ec && !stopping) accept(worker);
            });
            return;
        }
        on_accept(worker, std::move(socket));
        accept(worker);
    });
}

void HttpServer::Impl::on_accept(Worker& worker, Socket socket) {
    worker.recorder.accepted();
    beast::error_code ignored;
    const int limit = options.max_connections;
    const bool full = limit > 0 && live - refusing >= limit;
    if (full) {
        worker.recorder.refused();
        // Past the limit even for refusals (a flood): closed without a word.
        if (refusing >= std::max(64, limit / 8)) {
            socket.close(ignored);
            return;
        }
    }
    socket.set_option(tcp::no_delay(true), ignored);
    socket.non_blocking(true, ignored);  // sendfile(2) must never block the thread
    std::make_shared<Session>(std::move(socket), worker, full)->start();
}

void HttpServer::Impl::sweep(Worker& worker) {
    worker.sweep.expires_after(sweep_interval());
    worker.sweep.async_wait([this, &worker](beast::error_code ec) {
        if (ec) return;
        const int64_t now = steady_us();
        for (Session* s = worker.sessions; s; s = s->next)
            if (s->deadline_us && now >= s->deadline_us) {
                s->deadline_us = 0;
                s->close();
            }
        if (!stopping) sweep(worker);
    });
}

HttpFigures HttpServer::Impl::figures() const {
    HttpFigures out;
    std::array<int64_t, HttpRecorder::kBuckets> window{};
    const int64_t now_s = steady_us() / 1000000;
    for (const auto& w : workers) w->recorder.collect(now_s, out, window);
    HttpRecorder::quantiles(window, out);
    out.connections = live - refusing;
    out.max_connections = options.max_connections;
    return out;
}

void HttpServer::Impl::stop() {
    if (!started || stopped) return;
    stopped = true;
    stopping = true;
    // Every worker closes its own listener and sessions; stop() waits for all
    // of them (not only for the sessions to end: a worker without sessions
    // would otherwise be stopped before it closed its listener).
    std::atomic<std::size_t> closed{0};
    for (auto& w : workers)
        net::post(w->ioc, [&worker = *w, &closed] {
            beast::error_code ignored;
            worker.acceptor.close(ignored);
            worker.retry.cancel();
            for (Session* s = worker.sessions; s; s = s->next) s->shutdown();
            ++closed;
        });
    const auto deadline = std::chrono::steady_clock::now() + options.stop_grace;
    while ((live > 0 || closed < workers.size()) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    for (auto& w : workers) w->ioc.stop();
    for (auto& w : workers)
        if (w->thread.joinable()) w->thread.join();
    for (auto& w : workers) {  // the threads have ended: safe from here
        beast::error_code ignored;
        w->acceptor.close(ignored);
    }
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

HttpFigures HttpServer::figures() const {
    return impl_->figures();
}

}  // namespace onair::origin
