#include "tests/support/impairment.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace onair::testing {
namespace {

sockaddr_in loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

ImpairmentRelay::ImpairmentRelay(ImpairmentOptions options) : options_(options) {
    in_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    out_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const int big = 4 << 20;
    ::setsockopt(in_, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    auto at = loopback(options_.listen_port);
    if (in_ < 0 || out_ < 0 || ::bind(in_, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) {
        const std::string why = std::strerror(errno);
        if (in_ >= 0) ::close(in_);
        if (out_ >= 0) ::close(out_);
        throw std::runtime_error("impairment relay: cannot bind 127.0.0.1:" +
                                 std::to_string(options_.listen_port) + ": " + why);
    }
    thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

ImpairmentRelay::~ImpairmentRelay() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
    ::close(in_);
    ::close(out_);
}

void ImpairmentRelay::burst(std::chrono::milliseconds length) {
    burst_until_ns_ = steady_ns() + std::chrono::nanoseconds(length).count();
}

ImpairmentCounts ImpairmentRelay::counts() const {
    return {received_.load(), forwarded_.load(), lost_.load(), reordered_.load()};
}

void ImpairmentRelay::run(std::stop_token stop) {
    std::mt19937 random(options_.seed);
    std::uniform_real_distribution<double> chance(0.0, 1.0);
    const auto to = loopback(options_.forward_port);
    auto send = [&](const std::vector<char>& datagram) {
        ::sendto(out_, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                 sizeof to);
        ++forwarded_;
    };
    std::vector<char> buffer(65536), held;
    while (!stop.stop_requested()) {
        pollfd p{in_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        const ssize_t n = ::recv(in_, buffer.data(), buffer.size(), 0);
        if (n <= 0) continue;
        ++received_;
        std::vector<char> datagram(buffer.begin(), buffer.begin() + n);
        if (steady_ns() < burst_until_ns_.load() || chance(random) < options_.loss) {
            ++lost_;
            continue;
        }
        if (held.empty() && chance(random) < options_.reorder) {
            held = std::move(datagram);  // goes out after the next one
            ++reordered_;
            continue;
        }
        send(datagram);
        if (!held.empty()) {
            send(held);
            held.clear();
        }
    }
}

}  // namespace onair::testing
