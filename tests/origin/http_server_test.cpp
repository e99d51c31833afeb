// The HTTP server over real sockets on 127.0.0.1 (ephemeral ports), with
// Beast's synchronous client as the player.
#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "core/status.hpp"
#include "fakes.hpp"
#include "origin/http_server.hpp"
#include "origin/routes.hpp"
#include "tests/support/wait.hpp"

using namespace onair;
using namespace onair::origin;
using namespace onair::origin::testing;
using onair::testing::eventually;
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

HttpServerOptions test_options() {
    HttpServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.threads = 2;
    o.read_timeout = 1s;
    o.idle_timeout = 1s;
    o.write_timeout = 2s;
    return o;
}

struct Origin {
    SegmentStore store{options(5, {"720p", "480p"})};
    core::ChannelStatus status;
    Routes routes{store, status};
    HttpServer server;

    explicit Origin(HttpServerOptions o = test_options()) : server(std::move(o), routes.handler()) {
        status.channel = "demo";
        status.add('a', "testsrc:");
        for (int64_t s = 0; s < 7; ++s) {
            FakeSegment f;
            f.sequence = s;
            f.size = 200000 + std::size_t(s);  // larger than one socket write
            f.fill = uint8_t(s);
            store.on_segment(f.make());
        }
        auto started = server.start();
        REQUIRE(started);
        REQUIRE(server.port() != 0);
    }
};

struct Client {
    net::io_context ioc;
    tcp::socket socket{ioc};
    beast::flat_buffer buffer;

    explicit Client(uint16_t port) { socket.connect({net::ip::make_address("127.0.0.1"), port}); }

    http::response<http::string_body> get(std::string target, http::verb method = http::verb::get,
                                          bool keep_alive = true) {
        http::request<http::string_body> request{method, target, 11};
        request.set(http::field::host, "127.0.0.1");
        request.keep_alive(keep_alive);
        http::write(socket, request);
        http::response_parser<http::string_body> parser;
        parser.body_limit(16 * 1024 * 1024);
        if (method == http::verb::head) parser.skip(true);
        http::read(socket, buffer, parser);
        return parser.release();
    }

    // Waits up to `limit` for the server to close the connection; returns how
    // long that took, or nullopt if it stayed open.
    std::optional<std::chrono::steady_clock::duration> wait_closed(
        std::chrono::steady_clock::duration limit) {
        const auto t0 = std::chrono::steady_clock::now();
        std::optional<std::chrono::steady_clock::duration> closed;
        char byte;
        socket.async_read_some(net::buffer(&byte, 1), [&](beast::error_code ec, std::size_t) {
            if (ec) closed = std::chrono::steady_clock::now() - t0;
        });
        ioc.run_for(limit);
        return closed;
    }
};

std::string expected_bytes(int64_t sequence) {
    return std::string(200000 + std::size_t(sequence), char(sequence));
}

}  // namespace

TEST_CASE("server: GET a segment, then a playlist on the same connection", "[http]") {
    Origin origin;
    Client client(origin.server.port());
    auto r = client.get("/live/demo/720p/3.ts");
    REQUIRE(r.result() == http::status::ok);
    CHECK(r[http::field::content_type] == "video/mp2t");
    CHECK(r[http::field::content_length] == std::to_string(expected_bytes(3).size()));
    CHECK(r.body() == expected_bytes(3));
    CHECK(r.keep_alive());

    auto p = client.get("/live/demo/720p/index.m3u8");
    REQUIRE(p.result() == http::status::ok);
    CHECK(uris(p.body()) == std::vector<std::string>{"2.ts", "3.ts", "4.ts", "5.ts", "6.ts"});
    CHECK(origin.server.connections() == 1);

    // A preflight (204, no body) keeps the connection usable too.
    auto preflight = client.get("/live/demo/master.m3u8", http::verb::options);
    CHECK(preflight.result() == http::status::no_content);
    CHECK(preflight[http::field::access_control_allow_origin] == "*");

    auto e = client.get("/live/demo/../etc/passwd");
    CHECK(e.result() == http::status::bad_request);
    CHECK(client.get("/healthz").result() == http::status::ok);
}

TEST_CASE("server: HEAD sends headers only, the connection stays usable", "[http]") {
    Origin origin;
    Client client(origin.server.port());
    auto head = client.get("/live/demo/720p/4.ts", http::verb::head);
    CHECK(head.result() == http::status::ok);
    CHECK(head[http::field::content_length] == std::to_string(expected_bytes(4).size()));
    CHECK(head.body().empty());
    // Had a body been sent, this would read it as the next response.
    auto get = client.get("/live/demo/720p/5.ts");
    REQUIRE(get.result() == http::status::ok);
    CHECK(get.body() == expected_bytes(5));
}

TEST_CASE("server: pipelined requests are answered in order", "[http]") {
    Origin origin;
    Client client(origin.server.port());
    std::string two =
        "GET /live/demo/720p/2.ts HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /live/demo/720p/6.ts HTTP/1.1\r\nHost: x\r\n\r\n";
    net::write(client.socket, net::buffer(two));
    for (int64_t s : {2, 6}) {
        http::response_parser<http::string_body> parser;
        parser.body_limit(1 << 20);
        http::read(client.socket, client.buffer, parser);
        CHECK(parser.get().body() == expected_bytes(s));
    }
}

TEST_CASE("server: Connection: close is honoured", "[http]") {
    Origin origin;
    Client client(origin.server.port());
    auto r = client.get("/healthz", http::verb::get, false);
    CHECK(r.result() == http::status::ok);
    CHECK_FALSE(r.keep_alive());
    CHECK(client.wait_closed(2s));
}

TEST_CASE("server: an oversized header gets 431 or the connection closed", "[http]") {
    Origin origin;
    Client client(origin.server.port());
    http::request<http::string_body> request{http::verb::get, "/healthz", 11};
    request.set(http::field::host, "127.0.0.1");
    request.set("X-Padding", std::string(10 * 1024, 'p'));
    beast::error_code ec;
    http::write(client.socket, request, ec);
    http::response<http::string_body> response;
    http::read(client.socket, client.buffer, response, ec);
    if (!ec) {
        CHECK(response.result() == http::status::request_header_fields_too_large);
        CHECK_FALSE(response.keep_alive());
    }
    CHECK(client.wait_closed(2s));
}

TEST_CASE("server: an oversized body gets 413 or the connection closed", "[http]") {
    auto o = test_options();
    o.body_limit = 1024;
    Origin origin(o);
    Client client(origin.server.port());
    http::request<http::string_body> request{http::verb::post, "/healthz", 11};
    request.set(http::field::host, "127.0.0.1");
    request.body() = std::string(4096, 'b');
    request.prepare_payload();
    beast::error_code ec;
    http::write(client.socket, request, ec);
    http::response<http::string_body> response;
    http::read(client.socket, client.buffer, response, ec);
    if (!ec) CHECK(response.result() == http::status::payload_too_large);
    CHECK(client.wait_closed(2s));
}

TEST_CASE("server: a malformed request gets 400 and the connection closed", "[http]") {
    Origin origin;
    Client client(origin.server.port());
    net::write(client.socket, net::buffer(std::string("GARBAGE\x01 / HTTP/9\r\n\r\n")));
    http::response<http::string_body> response;
    beast::error_code ec;
    http::read(client.socket, client.buffer, response, ec);
    REQUIRE_FALSE(ec);
    CHECK(response.result() == http::status::bad_request);
    CHECK(client.wait_closed(2s));
}

TEST_CASE("server: idle clients are dropped after the timeout", "[http]") {
    Origin origin;  // read and idle timeouts of 1 s
    SECTION("a client that never sends a request") {
        Client client(origin.server.port());
        auto closed = client.wait_closed(5s);
        REQUIRE(closed);
        CHECK(*closed > 800ms);
        CHECK(*closed < 3s);
    }
    SECTION("a keep-alive client that sends nothing more") {
        Client client(origin.server.port());
        CHECK(client.get("/healthz").result() == http::status::ok);
        auto closed = client.wait_closed(5s);
        REQUIRE(closed);
        CHECK(*closed > 800ms);
        CHECK(*closed < 3s);
    }
    SECTION("a client that sends half a header and stalls") {
        Client client(origin.server.port());
        net::write(client.socket, net::buffer(std::string("GET /healthz HTTP/1.1\r\nHo")));
        auto closed = client.wait_closed(5s);
        REQUIRE(closed);
        CHECK(*closed < 3s);
    }
    // The sessions are gone once their sockets are.
    for (int i = 0; i < 100 && origin.server.connections() > 0; ++i)
        std::this_thread::sleep_for(10ms);
    CHECK(origin.server.connections() == 0);
}

TEST_CASE("server: stop() returns promptly with connections open", "[http]") {
    auto o = test_options();
    o.idle_timeout = 30s;
    o.read_timeout = 30s;
    Origin origin(o);
    Client idle(origin.server.port());
    Client used(origin.server.port());
    CHECK(used.get("/healthz").result() == http::status::ok);
    const auto t0 = std::chrono::steady_clock::now();
    origin.server.stop();
    CHECK(std::chrono::steady_clock::now() - t0 < 1s);
    CHECK(idle.wait_closed(1s));
    CHECK(used.wait_closed(1s));
    // No longer accepting.
    net::io_context ioc;
    tcp::socket socket(ioc);
    beast::error_code ec;
    socket.connect({net::ip::make_address("127.0.0.1"), origin.server.port()}, ec);
    // Refused; or, when the kernel happens to give this client the freed
    // port itself (both come from the ephemeral range), a TCP self-connect.
    const bool self_connect = !ec && socket.local_endpoint() == socket.remote_endpoint();
    INFO(ec.message());
    CHECK((ec == net::error::connection_refused || self_connect));
    origin.server.stop();  // idempotent
}

TEST_CASE("server: a port in use is an error naming the address", "[http]") {
    Origin first;
    auto o = test_options();
    o.port = first.server.port();
    HttpServer second(o, first.routes.handler());
    auto started = second.start();
    REQUIRE_FALSE(started);
    CHECK(started.error().message ==
          "127.0.0.1:" + std::to_string(o.port) + ": address already in use");

    auto bad = test_options();
    bad.host = "no-such-host.invalid";
    HttpServer third(bad, first.routes.handler());
    auto resolved = third.start();
    REQUIRE_FALSE(resolved);
    CHECK(resolved.error().message.starts_with("no-such-host.invalid:0: "));
}

TEST_CASE("server: a handler that throws gives 500, and the server goes on", "[http]") {
    std::atomic<int> calls{0};
    HttpServer server(test_options(), [&](const Request& request) -> Response {
        if (++calls == 1) throw std::runtime_error("boom");
        return make_response(http::status::ok, "text/plain", "no-store",
                             SharedBuffer::from_string(std::string(request.target())));
    });
    REQUIRE(server.start());
    Client client(server.port());
    auto r = client.get("/x");
    CHECK(r.result() == http::status::internal_server_error);
    CHECK(r[http::field::content_type] == "application/json");
    auto ok = client.get("/y");
    CHECK(ok.result() == http::status::ok);
    CHECK(ok.body() == "/y");
}

TEST_CASE("server: many clients at once", "[http]") {
    Origin origin;
    std::atomic<int> good{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c) {
        clients.emplace_back([&, c] {
            Client client(origin.server.port());
            for (int i = 0; i < 10; ++i) {
                int64_t s = 2 + (c + i) % 5;
                auto r = client.get("/live/demo/720p/" + std::to_string(s) + ".ts");
                if (r.result() == http::status::ok && r.body() == expected_bytes(s)) ++good;
            }
        });
    }
    for (auto& t : clients) t.join();
    CHECK(good == 80);
}

namespace {

// One response read without sending anything first.
std::optional<http::response<http::string_body>> read_unasked(Client& client,
                                                              std::chrono::milliseconds limit) {
    std::optional<http::response<http::string_body>> out;
    http::response_parser<http::string_body> parser;
    http::async_read(client.socket, client.buffer, parser, [&](beast::error_code ec, std::size_t) {
        if (!ec) out = parser.release();
    });
    client.ioc.run_for(limit);
    client.ioc.restart();
    return out;
}

}  // namespace

TEST_CASE("server: past the connection limit a new connection gets 503 at once, the others go on",
          "[http]") {
    auto o = test_options();
    o.max_connections = 4;
    o.idle_timeout = 20s;
    o.read_timeout = 20s;
    Origin origin(o);
    std::vector<std::unique_ptr<Client>> held;
    for (int i = 0; i < 4; ++i) {
        held.push_back(std::make_unique<Client>(origin.server.port()));
        CHECK(held.back()->get("/healthz").result() == http::status::ok);
    }
    REQUIRE(origin.server.figures().connections == 4);

    // The fifth is answered before it asks, then closed.
    const auto t0 = std::chrono::steady_clock::now();
    Client fifth(origin.server.port());
    auto refused = read_unasked(fifth, 2s);
    REQUIRE(refused);
    CHECK(std::chrono::steady_clock::now() - t0 < 1s);
    CHECK(refused->result() == http::status::service_unavailable);
    CHECK((*refused)[http::field::retry_after] == "1");
    CHECK((*refused)[http::field::content_type] == "application/json");
    CHECK(refused->body().find("\"overloaded\"") != std::string::npos);
    CHECK_FALSE(refused->keep_alive());
    CHECK(fifth.wait_closed(2s));

    // The four keep being served, segments and all.
    for (auto& client : held) {
        auto r = client->get("/live/demo/720p/3.ts");
        CHECK(r.result() == http::status::ok);
        CHECK(r.body() == expected_bytes(3));
    }
    // One leaves: the next newcomer is served.
    held.pop_back();
    REQUIRE(eventually([&] { return origin.server.figures().connections == 3; }, 2s));
    Client sixth(origin.server.port());
    CHECK(sixth.get("/healthz").result() == http::status::ok);

    REQUIRE(eventually([&] { return origin.server.figures().requests >= 10; }, 2s));
    auto figures = origin.server.figures();
    CHECK(figures.max_connections == 4);
    CHECK(figures.refused == 1);
    CHECK(figures.accepted == 6);
    CHECK(figures.requests_per_second > 0);
    CHECK(figures.window_requests == figures.requests);
    CHECK(figures.p99_us >= figures.p50_us);
}

TEST_CASE("server: a prepared reply is written whole, file-backed or not, on one connection",
          "[http]") {
    Origin origin;
    Client client(origin.server.port());
    // A segment (sent with sendfile from its in-memory file), a playlist and
    // its 304, then an error, all on one connection, in order.
    auto segment = client.get("/live/demo/720p/4.ts");
    CHECK(segment.result() == http::status::ok);
    CHECK(segment.body() == expected_bytes(4));
    CHECK(segment[http::field::cache_control] == "max-age=86400, immutable");
    CHECK(!segment[http::field::date].empty());
    auto playlist = client.get("/live/demo/720p/index.m3u8");
    REQUIRE(playlist.result() == http::status::ok);
    const std::string etag(playlist[http::field::etag]);
    http::request<http::string_body> conditional{http::verb::get, "/live/demo/720p/index.m3u8", 11};
    conditional.set(http::field::host, "127.0.0.1");
    conditional.set(http::field::if_none_match, etag);
    http::write(client.socket, conditional);
    http::response_parser<http::string_body> parser;
    parser.skip(true);  // a 304 has no body
    http::read(client.socket, client.buffer, parser);
    CHECK(parser.get().result() == http::status::not_modified);
    CHECK(parser.get()[http::field::etag] == etag);
    CHECK(client.get("/nope").result() == http::status::not_found);
    auto again = client.get("/live/demo/720p/4.ts", http::verb::head);
    CHECK(again.result() == http::status::ok);
    CHECK(again[http::field::content_length] == std::to_string(expected_bytes(4).size()));
}

TEST_CASE("server: a client over its rate on the API gets 429 with Retry-After, players never",
          "[http]") {
    auto o = test_options();
    o.rate_limit = {.per_second = 1, .burst = 3};
    Origin origin(o);
    Client client(origin.server.port());
    for (int i = 0; i < 3; ++i)
        CHECK(client.get("/api/v1/channels/demo").result() == http::status::ok);
    auto refused = client.get("/api/v1/channels/demo");
    CHECK(refused.result() == http::status::too_many_requests);
    CHECK(refused[http::field::retry_after] == "1");
    CHECK(refused[http::field::content_type] == "application/json");
    CHECK_THAT(refused.body(), Catch::Contains("more than 1 requests a second from 127.0.0.1"));
    // Ingest is limited too (the bucket is the address's, whatever the route)...
    CHECK(client.get("/ingest/v1/demo/anchor").result() == http::status::too_many_requests);
    // ...playlists and segments never, and another connection from the same
    // address shares the bucket.
    for (int i = 0; i < 20; ++i)
        CHECK(client.get("/live/demo/720p/index.m3u8").result() == http::status::ok);
    Client other(origin.server.port());
    CHECK(other.get("/api/v1/channels/demo").result() == http::status::too_many_requests);
    // A second on, one more (a new connection: these idle out after 1 s).
    std::this_thread::sleep_for(1100ms);
    Client later(origin.server.port());
    CHECK(later.get("/api/v1/channels/demo").result() == http::status::ok);
}

namespace {

// A self-signed certificate for localhost and its key, made by openssl.
struct Certificate {
    inline static int made = 0;
    std::filesystem::path folder =
        std::filesystem::temp_directory_path() / fmt::format("onair-tls-{}-{}", ::getpid(), ++made);
    std::filesystem::path cert = folder / "cert.pem", key = folder / "key.pem";
    Certificate() {
        std::filesystem::create_directories(folder);
        const std::string command = fmt::format(
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
            "-subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout {} -out {} "
            ">/dev/null 2>&1",
            key.string(), cert.string());
        REQUIRE(std::system(command.c_str()) == 0);
    }
    ~Certificate() { std::filesystem::remove_all(folder); }
};

}  // namespace

TEST_CASE("server: HTTPS with the configured certificate; a segment's bytes whole, kept alive",
          "[http][tls]") {
    Certificate certificate;
    auto o = test_options();
    o.tls_certificate = certificate.cert.string();
    o.tls_key = certificate.key.string();
    Origin origin(o);

    net::io_context ioc;
    net::ssl::context trust(net::ssl::context::tls_client);
    trust.load_verify_file(certificate.cert.string());
    trust.set_verify_mode(net::ssl::verify_peer);
    net::ssl::stream<tcp::socket> stream(ioc, trust);
    stream.set_verify_callback(net::ssl::host_name_verification("localhost"));
    REQUIRE(SSL_set_tlsext_host_name(stream.native_handle(), "localhost"));
    stream.next_layer().connect({net::ip::make_address("127.0.0.1"), origin.server.port()});
    stream.handshake(net::ssl::stream_base::client);
    beast::flat_buffer buffer;
    for (int64_t sequence : {3, 4}) {  // two requests on one connection
        http::request<http::string_body> request{
            http::verb::get, fmt::format("/live/demo/720p/{}.ts", sequence), 11};
        request.set(http::field::host, "localhost");
        http::write(stream, request);
        http::response_parser<http::string_body> parser;
        parser.body_limit(16 * 1024 * 1024);
        http::read(stream, buffer, parser);
        auto response = parser.release();
        CHECK(response.result() == http::status::ok);
        CHECK(response.body() == expected_bytes(sequence));
    }

    // Plain HTTP on the HTTPS port gets no HTTP answer.
    Client plain(origin.server.port());
    CHECK_THROWS(plain.get("/healthz"));
}

TEST_CASE("server: HTTPS refuses to start with a missing file or a key not the certificate's",
          "[http][tls]") {
    Certificate one, other;
    auto o = test_options();
    o.tls_certificate = (one.folder / "missing.pem").string();
    o.tls_key = one.key.string();
    SegmentStore store{options(5, {"720p"})};
    core::ChannelStatus status;
    Routes routes{store, status};
    {
        HttpServer server(o, routes.handler());
        auto started = server.start();
        REQUIRE_FALSE(started);
        CHECK_THAT(started.error().message,
                   Catch::Contains("cannot use the certificate") && Catch::Contains("missing.pem"));
    }
    o.tls_certificate = one.cert.string();
    o.tls_key = other.key.string();
    HttpServer server(o, routes.handler());
    auto started = server.start();
    REQUIRE_FALSE(started);
    CHECK_THAT(started.error().message,
               Catch::Contains("cannot use the key") && Catch::Contains("key values mismatch"));
}
