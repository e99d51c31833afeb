// Binds each port the channel will listen on, and lets go at once.
#include "core/port_check.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <system_error>

#include <fmt/format.h>

namespace onair::core {
namespace {

std::string host_port(std::string_view host, int port) {
    if (host.find(':') != std::string_view::npos) return fmt::format("[{}]:{}", host, port);
    return fmt::format("{}:{}", host, port);
}

// 0 when `host`:`port` can be bound now (it is released at once), else the
// errno of the failure, or -1 with `why` set when the host does not resolve.
int try_bind(const std::string& host, int port, int socket_type, std::string& why) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socket_type;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    auto service = std::to_string(port);
    if (int rc =
            getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
        rc != 0) {
        why = gai_strerror(rc);
        return -1;
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found, freeaddrinfo);
    int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
    if (fd < 0) return errno;
    bool multicast = false;
    if (found->ai_family == AF_INET) {
        auto* in = reinterpret_cast<const sockaddr_in*>(found->ai_addr);
        multicast = IN_MULTICAST(ntohl(in->sin_addr.s_addr));
    } else if (found->ai_family == AF_INET6) {
        auto* in6 = reinterpret_cast<const sockaddr_in6*>(found->ai_addr);
        multicast = IN6_IS_ADDR_MULTICAST(&in6->sin6_addr);
    }
    // The origin sets SO_REUSEADDR so a restart need not wait out TIME_WAIT;
    // multicast receivers share their port the same way. A unicast UDP
    // receiver must have its port to itself, so it is tested without.
    if (socket_type == SOCK_STREAM || multicast) {
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    int result = ::bind(fd, found->ai_addr, found->ai_addrlen) == 0 ? 0 : errno;
    ::close(fd);
    return result;
}

void check_port(const ChannelConfig& config, const std::string& key, const std::string& host,
                int port, bool tcp, const std::string& what, std::vector<Diagnostic>& out) {
    std::string why;
    int error = try_bind(host, port, tcp ? SOCK_STREAM : SOCK_DGRAM, why);
    if (error == 0) return;
    auto address = host_port(host.empty() ? "0.0.0.0" : host, port);
    auto protocol = tcp ? "TCP" : "UDP";
    switch (error) {
        case -1:
            out.push_back(config.diagnostic(key,
                                            fmt::format("cannot resolve \"{}\": {}", host, why),
                                            "an IP address or a host name that resolves"));
            break;
        case EADDRINUSE:
            out.push_back(config.diagnostic(
                key, fmt::format("{}{} is in use by another process", address, what),
                fmt::format("a free {} port", protocol)));
            break;
        case EACCES:
            out.push_back(
                config.diagnostic(key, fmt::format("{}{} needs privileges to bind", address, what),
                                  "a port above 1023, or the CAP_NET_BIND_SERVICE capability"));
            break;
        case EADDRNOTAVAIL:
            out.push_back(config.diagnostic(
                key, fmt::format("{}{}: {} is not an address of this machine", address, what, host),
                "a local address, or 0.0.0.0 for all interfaces"));
            break;
        default:
            out.push_back(config.diagnostic(key,
                                            fmt::format("cannot bind {}{}: {}", address, what,
                                                        std::system_category().message(error)),
                                            fmt::format("a free {} port", protocol)));
            break;
    }
}

}  // namespace

std::vector<Diagnostic> check_ports_free(const ChannelConfig& config) {
    std::vector<Diagnostic> out;
    try {
        check_port(config, "origin.listen", config.origin.host, config.origin.port, true, "", out);
        for (const auto& [id, input] : config.inputs) {
            if (!input.listens()) continue;
            auto key = fmt::format("inputs.{}", id);
            check_port(config, key, input.host, input.port, false, " (UDP)", out);
            if (input.kind == InputKind::rtp)
                check_port(config, key, input.host, input.port + 1, false,
                           fmt::format(" (UDP, RTCP of port {})", input.port), out);
        }
    } catch (const std::exception& e) {
        out.push_back(config.diagnostic("", fmt::format("cannot check ports: {}", e.what())));
    }
    std::stable_sort(out.begin(), out.end(), before);
    return out;
}

}  // namespace onair::core
