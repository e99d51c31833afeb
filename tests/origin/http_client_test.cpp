// origin::HttpClient against real sockets on 127.0.0.1 (ephemeral ports):
// keep-alive reuse, reconnecting, every step's deadline, stopping; and the
// server's body limits for ingest pushes (decided once the header is read).
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "origin/http_client.hpp"
#include "origin/http_server.hpp"

using namespace onair;
using namespace onair::origin;
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

HttpServerOptions server_options() {
    HttpServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.threads = 2;
    o.read_timeout = 2s;
    o.idle_timeout = 2s;
    return o;
}

// Answers every request with its method, target and body size.
struct Echo {
    std::atomic<int> requests{0};
    HttpServer server;
    explicit Echo(HttpServerOptions o = server_options())
        : server(std::move(o), [this](const Request& r) {
              ++requests;
              return make_response(
                  http::status::ok, "text/plain", "no-store",
                  SharedBuffer::from_string(
                      fmt::format("{} {} {}", r.method_string(), r.target(), r.body().size())));
          }) {
        REQUIRE(server.start());
    }
    uint16_t port() const { return server.port(); }
};

// Accepts connections and never answers (a hung origin).
struct Silent {
    net::io_context ioc;
    tcp::acceptor acceptor{ioc, {net::ip::make_address("127.0.0.1"), 0}};
    std::vector<tcp::socket> held;
    std::jthread thread;
    Silent() {
        thread = std::jthread([this](std::stop_token stop) {
            acceptor.non_blocking(true);
            while (!stop.stop_requested()) {
                beast::error_code ec;
                tcp::socket s = acceptor.accept(ec);
                if (!ec) held.push_back(std::move(s));
                std::this_thread::sleep_for(5ms);
            }
        });
    }
    uint16_t port() const { return acceptor.local_endpoint().port(); }
};

std::chrono::milliseconds since(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t);
}

bool wait_for_zero_connections(const HttpServer& server) {
    const auto deadline = Clock::now() + 3s;
    while (server.connections() > 0) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

// Sends only a request header and reads one response (raw socket, no client).
http::response<http::string_body> header_only(uint16_t port, std::string head) {
    net::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect({net::ip::make_address("127.0.0.1"), port});
    net::write(socket, net::buffer(head));
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    beast::error_code ec;
    http::read(socket, buffer, response, ec);
    REQUIRE_FALSE(ec);
    return response;
}

}  // namespace

TEST_CASE("http url: parts of http://HOST:PORT/PATH", "[http][client]") {
    auto u = parse_http_url("http://127.0.0.1:8080/hooks/failover?x=1");
    REQUIRE(u);
    CHECK(u->host == "127.0.0.1");
    CHECK(u->port == 8080);
    CHECK(u->target == "/hooks/failover?x=1");
    CHECK(u->text() == "http://127.0.0.1:8080");
    auto plain = parse_http_url("http://origin.example");
    REQUIRE(plain);
    CHECK(plain->port == 80);
    CHECK(plain->target == "/");
    auto v6 = parse_http_url("http://[::1]:9000");
    REQUIRE(v6);
    CHECK(v6->host == "::1");
    for (auto bad : {"https://x:1", "127.0.0.1:8080", "http://:80", "http://x:0", "http://x:70000",
                     "http://u:p@x:1", "ftp://x"}) {
        INFO(bad);
        CHECK_FALSE(parse_http_url(bad));
    }
}

TEST_CASE("http client: requests share one keep-alive connection", "[http][client]") {
    Echo echo;
    HttpClient client("127.0.0.1", echo.port());
    for (int i = 0; i < 3; ++i) {
        auto r = client.send(make_request(http::verb::put, "/ingest/x",
                                          SharedBuffer::from_string(std::string(1000, 'x'))));
        REQUIRE(r);
        CHECK(r->result() == http::status::ok);
        CHECK(r->body() == "PUT /ingest/x 1000");
    }
    CHECK(client.connects() == 1);
    CHECK(echo.server.connections() == 1);
}

TEST_CASE("http client: a connection the server closed while idle is replaced", "[http][client]") {
    auto o = server_options();
    o.idle_timeout = 150ms;
    Echo echo(o);
    HttpClient client("127.0.0.1", echo.port());
    REQUIRE(client.send(make_request(http::verb::get, "/a")));
    // The server drops the idle connection; the next send must not fail.
    REQUIRE(wait_for_zero_connections(echo.server));
    auto r = client.send(make_request(http::verb::get, "/b"));
    REQUIRE(r);
    CHECK(r->body() == "GET /b 0");
    CHECK(client.connects() == 2);
    CHECK(echo.requests == 2);
}

TEST_CASE("http client: nothing listening is a connect error", "[http][client]") {
    uint16_t port = 0;
    {
        Echo gone;
        port = gone.port();
        gone.server.stop();
    }
    HttpClient client("127.0.0.1", port);
    auto start = Clock::now();
    auto r = client.send(make_request(http::verb::get, "/x"));
    REQUIRE_FALSE(r);
    INFO(r.error().message);
    CHECK(r.error().message.find("connect") != std::string::npos);
    CHECK(r.error().message.find(fmt::format("127.0.0.1:{} GET /x", port)) == 0);
    CHECK(since(start) < 1s);
}

TEST_CASE("http client: a server that never answers times out on time", "[http][client]") {
    Silent silent;
    HttpClientOptions o;
    o.read_timeout = 300ms;
    HttpClient client("127.0.0.1", silent.port(), o);
    auto start = Clock::now();
    auto r = client.send(make_request(http::verb::get, "/x"));
    auto took = since(start);
    REQUIRE_FALSE(r);
    INFO(r.error().message);
    CHECK(r.error().message.find("read: timed out") != std::string::npos);
    CHECK(took >= 250ms);
    CHECK(took < 1500ms);
    CHECK_FALSE(client.connected());
}

TEST_CASE("http client: total_timeout bounds the whole call", "[http][client]") {
    Silent silent;
    HttpClientOptions o;
    o.read_timeout = 10s;
    o.total_timeout = 300ms;
    HttpClient client("127.0.0.1", silent.port(), o);
    auto start = Clock::now();
    CHECK_FALSE(client.send(make_request(http::verb::get, "/x")));
    CHECK(since(start) < 1500ms);
}

TEST_CASE("http client: a stop request cancels a call in flight", "[http][client]") {
    Silent silent;
    HttpClientOptions o;
    o.read_timeout = 20s;
    HttpClient client("127.0.0.1", silent.port(), o);
    std::stop_source stop;
    std::jthread stopper([&] {
        std::this_thread::sleep_for(200ms);
        stop.request_stop();
    });
    auto start = Clock::now();
    auto r = client.send(make_request(http::verb::get, "/x"), stop.get_token());
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("stopped") != std::string::npos);
    CHECK(since(start) < 1s);
}

TEST_CASE("http client: a response over the body limit is an error", "[http][client]") {
    HttpServer big(server_options(), [](const Request&) {
        return make_response(http::status::ok, "text/plain", "no-store",
                             SharedBuffer::from_string(std::string(5000, 'x')));
    });
    REQUIRE(big.start());
    HttpClientOptions o;
    o.body_limit = 1000;
    HttpClient client("127.0.0.1", big.port(), o);
    CHECK_FALSE(client.send(make_request(http::verb::get, "/x")));
}

TEST_CASE("server: ingest pushes get the larger body limit, everything else 64 KiB",
          "[http][ingest]") {
    auto o = server_options();
    o.ingest_body_limit = 1024 * 1024;
    Echo echo(o);
    HttpClient client("127.0.0.1", echo.port());
    const std::string segment(600 * 1024, 'x');

    auto pushed = client.send(make_request(http::verb::put, "/ingest/v1/demo/a/720p/1.ts",
                                           SharedBuffer::from_string(segment)));
    REQUIRE(pushed);
    CHECK(pushed->result() == http::status::ok);
    CHECK(pushed->body() == fmt::format("PUT /ingest/v1/demo/a/720p/1.ts {}", segment.size()));

    // The same size elsewhere, or with another method, is refused once the
    // header is read: no body byte needs to arrive.
    for (auto [method, target] :
         {std::pair{"PUT", "/live/demo/720p/1.ts"}, std::pair{"GET", "/ingest/v1/demo/a/720p/1.ts"},
          std::pair{"POST", "/ingestx/1"}}) {
        INFO(method << " " << target);
        auto r = header_only(echo.port(), fmt::format("{} {} HTTP/1.1\r\nHost: x\r\n"
                                                      "Content-Length: {}\r\n\r\n",
                                                      method, target, segment.size()));
        CHECK(r.result() == http::status::payload_too_large);
        CHECK(r.body().find("65536") != std::string::npos);
    }
    // Over the ingest limit, even under /ingest/.
    auto r = header_only(echo.port(),
                         "PUT /ingest/v1/demo/a/720p/1.ts HTTP/1.1\r\nHost: x\r\n"
                         "Content-Length: 2000000\r\n\r\n");
    CHECK(r.result() == http::status::payload_too_large);
    CHECK(r.body().find("1048576") != std::string::npos);
    // Neither refusal reached the handler.
    CHECK(echo.requests == 1);
}
