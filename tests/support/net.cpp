#include "tests/support/net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

namespace onair::testing {
namespace {

std::mutex g_mutex;
std::set<int> g_given;  // ports handed out by this process

// Binds 0.0.0.0:port (0: any; the wildcard also fails when any local
// address has the port) with `type`; returns the port bound, 0 when
// the port is taken.
int try_bind(int type, int port) {
    int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    int bound = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        socklen_t len = sizeof addr;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
            bound = ntohs(addr.sin_port);
    }
    ::close(fd);
    return bound;
}

// Also checks the other protocol on the same number: an SRT or RTP input
// binds UDP, the origin TCP, and a port that is free for both is safer.
int pick(int type) {
    std::lock_guard lock(g_mutex);
    for (int attempt = 0; attempt < 200; ++attempt) {
        int port = try_bind(type, 0);
        if (port == 0 || g_given.contains(port)) continue;
        if (try_bind(type == SOCK_STREAM ? SOCK_DGRAM : SOCK_STREAM, port) != port) continue;
        g_given.insert(port);
        return port;
    }
    throw std::runtime_error("no free port found");
}

}  // namespace

int free_tcp_port() {
    return pick(SOCK_STREAM);
}
int free_udp_port() {
    return pick(SOCK_DGRAM);
}

int free_udp_port_pair() {
    std::lock_guard lock(g_mutex);
    for (int attempt = 0; attempt < 500; ++attempt) {
        int port = try_bind(SOCK_DGRAM, 0);
        if (port == 0) continue;
        port &= ~1;
        if (port < 1024 || g_given.contains(port) || g_given.contains(port + 1)) continue;
        if (try_bind(SOCK_DGRAM, port) != port || try_bind(SOCK_DGRAM, port + 1) != port + 1)
            continue;
        g_given.insert(port);
        g_given.insert(port + 1);
        return port;
    }
    throw std::runtime_error("no free even/odd UDP port pair found");
}

}  // namespace onair::testing
