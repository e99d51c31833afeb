#include "tests/support/http_client.hpp"

#include <stdexcept>

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace onair::testing {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kBodyLimit = 256u << 20;  // segments are a few MB at most

// One connection with one deadline; each step runs the io_context until its
// handler has been called.
class Exchange {
  public:
    Exchange(const std::string& host, int port, std::string label,
             std::chrono::milliseconds timeout)
        : host_(host),
          port_(port),
          label_(std::move(label)),
          deadline_(Clock::now() + timeout),
          stream_(ioc_) {}

    std::optional<std::string> connect() {
        tcp::resolver resolver(ioc_);
        beast::error_code ec;
        tcp::resolver::results_type endpoints;
        resolver.async_resolve(host_, std::to_string(port_),
                               [&](beast::error_code e, tcp::resolver::results_type r) {
                                   ec = e;
                                   endpoints = std::move(r);
                               });
        if (!run()) return fail("resolve", net::error::timed_out);
        if (ec) return fail("resolve", ec);
        stream_.expires_at(deadline_);
        stream_.async_connect(endpoints,
                              [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
        run();
        if (ec) return fail("connect", ec);
        return std::nullopt;
    }

    template <class Buffers>
    std::optional<std::string> write(const Buffers& buffers) {
        beast::error_code ec;
        stream_.expires_at(deadline_);
        net::async_write(stream_, buffers, [&](beast::error_code e, size_t) { ec = e; });
        run();
        if (ec) return fail("write", ec);
        return std::nullopt;
    }

    std::optional<std::string> write(http::request<http::string_body>& request) {
        beast::error_code ec;
        stream_.expires_at(deadline_);
        http::async_write(stream_, request, [&](beast::error_code e, size_t) { ec = e; });
        run();
        if (ec) return fail("write", ec);
        return std::nullopt;
    }

    HttpResult read(bool head) {
        http::response_parser<http::string_body> parser;
        parser.body_limit(kBodyLimit);
        if (head) parser.skip(true);
        beast::error_code ec;
        stream_.expires_at(deadline_);
        http::async_read(stream_, buffer_, parser, [&](beast::error_code e, size_t) { ec = e; });
        run();
        if (ec == http::error::end_of_stream || ec == net::error::eof)
            return std::unexpected(
                fmt::format("{}: the server closed the connection without a response", label_));
        if (ec) return std::unexpected(fail("read", ec));
        auto& message = parser.get();
        HttpResponse response;
        response.status = static_cast<int>(message.result_int());
        response.reason = std::string(message.reason());
        for (const auto& field : message)
            response.headers.emplace_back(std::string(field.name_string()),
                                          std::string(field.value()));
        response.body = std::move(message.body());
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        return response;
    }

  private:
    // Runs until the pending operation completes; false if the deadline passed.
    bool run() {
        ioc_.restart();
        auto left = deadline_ - Clock::now();
        if (left <= Clock::duration::zero()) left = std::chrono::milliseconds(1);
        ioc_.run_for(left + std::chrono::milliseconds(200));  // the stream's own timer fires first
        bool done = ioc_.stopped();
        if (!done) {
            stream_.cancel();
            ioc_.restart();
            ioc_.run();
        }
        return done;
    }

    std::string fail(std::string_view step, const beast::error_code& ec) {
        return fmt::format("{}:{} {}: {}: {}", host_, port_, label_, step, ec.message());
    }

    std::string host_;
    int port_;
    std::string label_;
    Clock::time_point deadline_;
    net::io_context ioc_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
};

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (beast::iequals(key, name)) return value;
    return std::nullopt;
}

HttpResult http_request(const std::string& host, int port, const HttpRequest& request,
                        std::chrono::milliseconds timeout) {
    Exchange exchange(host, port, request.method + " " + request.target, timeout);
    if (auto error = exchange.connect()) return std::unexpected(*error);
    http::request<http::string_body> message;
    message.method_string(request.method);
    message.target(request.target);
    message.version(11);
    message.set(http::field::host, fmt::format("{}:{}", host, port));
    message.set(http::field::connection, "close");
    message.set(http::field::user_agent, "onair-test");
    for (const auto& [key, value] : request.headers) message.set(key, value);
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
        message.body() = request.body;
        message.prepare_payload();
    }
    if (auto error = exchange.write(message)) return std::unexpected(*error);
    return exchange.read(request.method == "HEAD");
}

HttpResult http_get(const std::string& host, int port, const std::string& target,
                    std::chrono::milliseconds timeout) {
    HttpRequest request;
    request.target = target;
    return http_request(host, port, request, timeout);
}

HttpResult http_raw(const std::string& host, int port, std::string_view raw,
                    std::chrono::milliseconds timeout, bool head) {
    auto first_line = raw.substr(0, std::min(raw.find_first_of("\r\n"), size_t{60}));
    Exchange exchange(host, port, fmt::format("raw \"{}\"", first_line), timeout);
    if (auto error = exchange.connect()) return std::unexpected(*error);
    if (auto error = exchange.write(net::buffer(raw.data(), raw.size())))
        return std::unexpected(*error);
    return exchange.read(head);
}

HttpResponse must_get(const std::string& host, int port, const std::string& target,
                      std::chrono::milliseconds timeout) {
    auto result = http_get(host, port, target, timeout);
    if (!result) throw std::runtime_error(result.error());
    return std::move(*result);
}

}  // namespace onair::testing
