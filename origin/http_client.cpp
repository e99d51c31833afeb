#include "origin/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include <fmt/format.h>

#include "core/config.hpp"

namespace onair::origin {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// How often a blocked call looks at its stop token.
constexpr auto kStopPoll = std::chrono::milliseconds(50);

std::string error_text(const beast::error_code& ec) {
    if (ec == beast::error::timeout) return "timed out";
    std::string text = ec.message();
    if (!text.empty()) text[0] = char(std::tolower(static_cast<unsigned char>(text[0])));
    return text;
}

// A failure the server causes by closing an idle keep-alive connection.
bool closed_by_peer(const beast::error_code& ec) {
    return ec == http::error::end_of_stream || ec == net::error::eof ||
           ec == net::error::connection_reset || ec == net::error::broken_pipe ||
           ec == http::error::partial_message;
}

}  // namespace

std::string HttpUrl::text() const {
    if (host.find(':') != std::string::npos) return fmt::format("http://[{}]:{}", host, port);
    return fmt::format("http://{}:{}", host, port);
}

core::Result<HttpUrl> parse_http_url(std::string_view text) {
    if (!core::url_characters_only(text))
        return core::fail(fmt::format("'{}' is not an absolute URL", text));
    auto parsed =
        boost::urls::parse_absolute_uri(boost::urls::string_view(text.data(), text.size()));
    if (!parsed) return core::fail(fmt::format("'{}' is not an absolute URL", text));
    const auto& url = *parsed;
    if (url.scheme() != "http")
        return core::fail(fmt::format("'{}': only http:// URLs are supported", text));
    if (url.has_userinfo())
        return core::fail(fmt::format("'{}': user info in the URL is not supported", text));
    HttpUrl out;
    out.host = url.host_address();
    if (out.host.empty()) return core::fail(fmt::format("'{}' has no host", text));
    if (url.has_port()) {
        std::string_view port = url.port();
        unsigned value = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
            value > 65535)
            return core::fail(fmt::format("'{}': the port must be 1 to 65535", text));
        out.port = uint16_t(value);
    }
    out.target = url.encoded_path().empty() ? std::string("/") : std::string(url.encoded_path());
    if (url.has_query()) out.target += "?" + std::string(url.encoded_query());
    return out;
}

ClientRequest make_request(http::verb method, std::string_view target, SharedBuffer body,
                           std::string_view content_type) {
    ClientRequest request{method, target, 11};
    if (!content_type.empty()) request.set(http::field::content_type, content_type);
    request.body() = std::move(body);
    return request;
}

class HttpClient::Impl {
  public:
    Impl(std::string h, uint16_t p, HttpClientOptions o)
        : host(std::move(h)), port(p), options(std::move(o)) {}

    core::Result<ClientResponse> send(ClientRequest& request, std::stop_token stop) {
        request.version(11);
        request.set(http::field::host, host_header());
        if (request.find(http::field::user_agent) == request.end())
            request.set(http::field::user_agent, options.user_agent);
        request.keep_alive(true);
        request.prepare_payload();
        const std::string label =
            fmt::format("{} {} {}", endpoint(), request.method_string(), request.target());

        deadline_ = options.total_timeout.count() > 0 ? Clock::now() + options.total_timeout
                                                      : Clock::time_point::max();
        const bool reused = open;
        auto result = exchange(request, stop, label);
        if (!result && reused && result.error().code == kStale && !stop.stop_requested())
            result = exchange(request, stop, label);  // the server had closed it while idle
        if (!result && result.error().code == kStale) result.error().code = 0;
        return result;
    }

    void close() {
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream.close();
        buffer.clear();
        open = false;
    }

    std::string endpoint() const {
        return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                                   : fmt::format("{}:{}", host, port);
    }

    const std::string host;
    const uint16_t port;
    const HttpClientOptions options;
    net::io_context ioc;
    beast::tcp_stream stream{ioc};
    beast::flat_buffer buffer;
    bool open = false;
    int64_t connects = 0;

  private:
    // Error code marking "failed on a connection the peer had closed, before
    // any of the response": worth one more try on a fresh connection.
    static constexpr int kStale = -1;

    // A step's time: its own timeout, or what is left of the whole send.
    std::chrono::milliseconds limit(std::chrono::milliseconds step) const {
        if (deadline_ == Clock::time_point::max()) return step;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
        return std::clamp(left, std::chrono::milliseconds(1), step);
    }

    Clock::time_point deadline_ = Clock::time_point::max();

    std::string host_header() const {
        return port == 80 ? (host.find(':') != std::string::npos ? "[" + host + "]" : host)
                          : endpoint();
    }

    core::Result<ClientResponse> exchange(ClientRequest& request, std::stop_token stop,
                                          const std::string& label) {
        auto failed = [&](std::string_view step, const beast::error_code& ec, bool stale) {
            close();
            if (stop.stop_requested())
                return core::fail(fmt::format("{}: {}: stopped", label, step), ec.value());
            return core::fail(fmt::format("{}: {}: {}", label, step, error_text(ec)),
                              stale ? kStale : ec.value());
        };
        const bool reused = open;
        if (!open) {
            if (auto connected = connect(stop, label); !connected)
                return std::unexpected(connected.error());
        }

        beast::error_code ec = net::error::would_block;
        const auto write_limit = limit(options.write_timeout);
        stream.expires_after(write_limit);
        http::async_write(stream, request, [&](beast::error_code e, std::size_t) { ec = e; });
        run(stop, write_limit);
        if (ec) return failed("write", ec, reused && closed_by_peer(ec));

        http::response_parser<http::string_body> parser;
        parser.body_limit(options.body_limit);
        if (request.method() == http::verb::head) parser.skip(true);
        ec = net::error::would_block;
        const auto read_limit = limit(options.read_timeout);
        stream.expires_after(read_limit);
        http::async_read(stream, buffer, parser, [&](beast::error_code e, std::size_t) { ec = e; });
        run(stop, read_limit);
        if (ec) return failed("read", ec, reused && !parser.got_some() && closed_by_peer(ec));

        ClientResponse response = parser.release();
        if (!response.keep_alive()) close();
        return response;
    }

    core::Result<> connect(std::stop_token stop, const std::string& label) {
        const auto connect_limit = limit(options.connect_timeout);
        const auto deadline = Clock::now() + connect_limit;
        tcp::resolver resolver(ioc);
        beast::error_code ec = net::error::would_block;
        tcp::resolver::results_type endpoints;
        resolver.async_resolve(host, std::to_string(port),
                               [&](beast::error_code e, tcp::resolver::results_type r) {
                                   ec = e;
                                   endpoints = std::move(r);
                               });
        run(stop, connect_limit, [&] { resolver.cancel(); });
        if (ec == net::error::operation_aborted && !stop.stop_requested())
            return core::fail(fmt::format("{}: resolve: timed out", label));
        if (ec)
            return core::fail(fmt::format("{}: resolve: {}", label,
                                          stop.stop_requested() ? "stopped" : error_text(ec)),
                              ec.value());
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        stream.expires_after(std::max(left, std::chrono::milliseconds(1)));
        ec = net::error::would_block;
        stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
        run(stop, left);
        if (ec) {
            close();
            return core::fail(fmt::format("{}: connect: {}", label,
                                          stop.stop_requested() ? "stopped" : error_text(ec)),
                              ec.value());
        }
        beast::error_code ignored;
        stream.socket().set_option(tcp::no_delay(true), ignored);
        buffer.clear();
        open = true;
        ++connects;
        return {};
    }

    // Runs the io_context until the pending operation has completed. The
    // stream's own timer ends it on time; `limit` (plus slack) and `cancel`
    // cover what has no timer (the resolver), and a stop request cancels.
    template <class Cancel>
    void run(const std::stop_token& stop, std::chrono::milliseconds limit, Cancel cancel) {
        const auto deadline = Clock::now() + limit + std::chrono::milliseconds(200);
        bool cancelled = false;
        ioc.restart();
        while (!ioc.stopped()) {
            ioc.run_for(kStopPoll);
            if (!cancelled && (stop.stop_requested() || Clock::now() >= deadline)) {
                cancelled = true;
                cancel();
            }
        }
    }
    void run(const std::stop_token& stop, std::chrono::milliseconds limit) {
        run(stop, limit, [this] { stream.cancel(); });
    }
};

HttpClient::HttpClient(std::string host, uint16_t port, HttpClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(host), port, std::move(options))) {}

HttpClient::~HttpClient() {
    impl_->close();
}

core::Result<ClientResponse> HttpClient::send(ClientRequest request, std::stop_token stop) {
    return impl_->send(request, stop);
}

void HttpClient::close() {
    impl_->close();
}

bool HttpClient::connected() const {
    return impl_->open;
}

int64_t HttpClient::connects() const {
    return impl_->connects;
}

}  // namespace onair::origin
