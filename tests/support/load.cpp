#include "tests/support/load.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <optional>

namespace onair::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxProblems = 20;

struct Load {
    const LoadOptions& options;
    net::io_context ioc;
    tcp::endpoint endpoint;
    Clock::time_point end;
    LoadResult result;
    int open = 0;

    void problem(std::string text) {
        if (result.problems.size() < kMaxProblems) result.problems.push_back(std::move(text));
    }
};

class Connection : public std::enable_shared_from_this<Connection> {
  public:
    Connection(Load& load, int id) : load_(load), id_(id), socket_(load.ioc), timer_(load.ioc) {}

    void start() {
        arm(load_.options.response_timeout);
        socket_.async_connect(load_.endpoint, [self = shared_from_this()](beast::error_code ec) {
            self->timer_.cancel();
            if (ec) {
                ++self->load_.result.errors;
                self->load_.problem(
                    fmt::format("connection {}: connect: {}", self->id_, ec.message()));
                return;
            }
            self->load_.result.connected =
                std::max(self->load_.result.connected, ++self->load_.open);
            self->connected_ = true;
            self->send();
        });
    }

  private:
    void arm(std::chrono::milliseconds timeout) {
        timer_.expires_after(timeout);
        timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (ec) return;
            ++self->load_.result.errors;
            self->load_.problem(fmt::format("connection {}: {}: no complete response within {} ms",
                                            self->id_, self->target_,
                                            self->load_.options.response_timeout.count()));
            self->close();
        });
    }

    void close() {
        beast::error_code ignored;
        socket_.close(ignored);
        if (connected_) --load_.open;
        connected_ = false;
    }

    void send() {
        if (Clock::now() >= load_.end) return close();
        target_ = load_.options.next_target(id_, n_++);
        request_ = {http::verb::get, target_, 11};
        request_.set(http::field::host, load_.endpoint.address().to_string());
        parser_.emplace();
        parser_->body_limit(64 * 1024 * 1024);
        sent_ = Clock::now();
        arm(load_.options.response_timeout);
        http::async_write(socket_, request_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->failed("write", ec);
                              self->read();
                          });
    }

    void read() {
        http::async_read(socket_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             if (ec) return self->failed("read", ec);
                             self->on_response();
                         });
    }

    void on_response() {
        timer_.cancel();
        const auto took = Clock::now() - sent_;
        auto message = parser_->release();
        LoadResponse response;
        response.status = message.result_int();
        response.target = target_;
        response.content_type = std::string(message[http::field::content_type]);
        response.body = std::move(message.body());
        load_.result.latencies_us.push_back(
            std::chrono::duration_cast<std::chrono::microseconds>(took).count());
        auto wrong = load_.options.check ? load_.options.check(response) : std::string();
        if (wrong.empty()) {
            ++load_.result.responses;
        } else {
            ++load_.result.bad_responses;
            load_.problem(fmt::format("{}: {}", target_, wrong));
        }
        if (!message.keep_alive()) {
            ++load_.result.errors;
            load_.problem(fmt::format("{}: the server closed a keep-alive connection", target_));
            return close();
        }
        send();
    }

    void failed(std::string_view what, beast::error_code ec) {
        if (!connected_) return;  // closed by the timer, already counted
        timer_.cancel();
        ++load_.result.errors;
        load_.problem(fmt::format("connection {}: {} {}: {}", id_, what, target_, ec.message()));
        close();
    }

    Load& load_;
    const int id_;
    tcp::socket socket_;
    net::steady_timer timer_;
    beast::flat_buffer buffer_;
    http::request<http::empty_body> request_;
    std::optional<http::response_parser<http::string_body>> parser_;
    std::string target_;
    Clock::time_point sent_;
    int64_t n_ = 0;
    bool connected_ = false;
};

}  // namespace

int64_t LoadResult::percentile_us(double q) const {
    if (latencies_us.empty()) return 0;
    auto sorted = latencies_us;
    std::sort(sorted.begin(), sorted.end());
    const auto at = std::min(sorted.size() - 1, std::size_t(q * double(sorted.size())));
    return sorted[at];
}

LoadResult run_load(const LoadOptions& options) {
    Load load{options, {}, {}, {}, {}, 0};
    load.endpoint = {net::ip::make_address(options.host), uint16_t(options.port)};
    load.end = Clock::now() + options.duration;
    for (int i = 0; i < options.connections; ++i) std::make_shared<Connection>(load, i)->start();
    load.ioc.run();
    return std::move(load.result);
}

}  // namespace onair::testing
