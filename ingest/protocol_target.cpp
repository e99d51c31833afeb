#include "ingest/protocol_target.hpp"

#include <fmt/format.h>

namespace onair::ingest {
namespace {

std::string host_for_url(const std::string& host) {
    if (host.empty()) return "0.0.0.0";
    if (host.find(':') != std::string::npos) return "[" + host + "]";  // IPv6
    return host;
}

bool is_wildcard(const std::string& host) {
    return host.empty() || host == "0.0.0.0" || host == "::";
}

bool is_multicast(const std::string& host) {
    int first = 0;
    if (std::sscanf(host.c_str(), "%d.", &first) == 1) return first >= 224 && first <= 239;
    return host.rfind("ff", 0) == 0 || host.rfind("FF", 0) == 0;
}

}  // namespace

ProtocolTarget protocol_target(const core::InputSpec& spec) {
    ProtocolTarget target;
    switch (spec.kind) {
        case core::InputKind::srt: {
            target.url = fmt::format("srt://{}:{}", host_for_url(spec.host), spec.port);
            auto& o = target.options;
            o.set("mode", spec.srt_mode == core::SrtMode::listener ? "listener" : "caller");
            o.set("latency", int64_t{spec.latency_ms} * 1000);  // µs in FFmpeg's srt protocol
            o.set("transtype", "live");
            if (!spec.passphrase.empty()) o.set("passphrase", spec.passphrase);
            if (spec.pbkeylen > 0) o.set("pbkeylen", int64_t{spec.pbkeylen});
            if (!spec.streamid.empty()) o.set("streamid", spec.streamid);
            if (spec.srt_mode == core::SrtMode::caller) o.set("connect_timeout", int64_t{3000});
            break;
        }
        case core::InputKind::udp:
        case core::InputKind::rtp: {
            target.url = fmt::format("udp://{}:{}", host_for_url(spec.host), spec.port);
            auto& o = target.options;
            // A receive thread with a large ring, so a busy pipeline thread
            // never makes the kernel drop datagrams; overruns are survived.
            o.set("fifo_size", int64_t{65536});  // in 188-byte units: ~12 MB
            o.set("overrun_nonfatal", int64_t{1});
            o.set("buffer_size", int64_t{4 << 20});
            o.set("pkt_size", int64_t{4096});
            if (!spec.localaddr.empty()) {
                o.set("localaddr", spec.localaddr);
            } else if (!is_wildcard(spec.host) && !is_multicast(spec.host)) {
                o.set("localaddr", spec.host);  // bind the named address only
            }
            break;
        }
        case core::InputKind::testsrc:
            break;
    }
    return target;
}

}  // namespace onair::ingest
