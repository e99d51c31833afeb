#include "tests/support/sender.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <stdexcept>

#include <fmt/format.h>

namespace onair::testing {

const char* to_string(SenderMode mode) {
    switch (mode) {
        case SenderMode::srt_caller:
            return "srt-caller";
        case SenderMode::srt_listener:
            return "srt-listener";
        case SenderMode::udp:
            return "udp";
        case SenderMode::rtp:
            return "rtp";
    }
    return "?";
}

std::string sender_url(const SenderOptions& o) {
    switch (o.mode) {
        case SenderMode::srt_caller:
        case SenderMode::srt_listener:
            return fmt::format("srt://{}:{}?mode={}&pkt_size=1316&latency={}{}{}", o.host, o.port,
                               o.mode == SenderMode::srt_caller ? "caller" : "listener",
                               o.srt_latency_ms * 1000, o.srt_options.empty() ? "" : "&",
                               o.srt_options);
        case SenderMode::udp:
            return fmt::format("udp://{}:{}?pkt_size=1316", o.host, o.port);
        case SenderMode::rtp:
            return fmt::format("rtp://{}:{}", o.host, o.port);
    }
    return {};
}

std::vector<std::string> test_signal_inputs(int width, int height, int rate) {
    return {
        "-re", "-f", "lavfi", "-i", fmt::format("testsrc2=size={}x{}:rate={}", width, height, rate),
        "-re", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000"};
}

std::vector<std::string> test_signal_encoding(int gop_frames) {
    return {"-c:v",        "libx264",  "-preset", "ultrafast", "-tune",
            "zerolatency", "-pix_fmt", "yuv420p", "-g",        std::to_string(gop_frames),
            "-c:a",        "aac",      "-b:a",    "128k"};
}

std::vector<std::string> sender_argv(const SenderOptions& o) {
    std::vector<std::string> argv = {"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error"};
    auto add = [&](const std::vector<std::string>& items) {
        argv.insert(argv.end(), items.begin(), items.end());
    };
    add(test_signal_inputs(o.width, o.height, o.rate));
    add({"-map", "0:v", "-map", "1:a"});
    add(test_signal_encoding(2 * o.rate));
    add({"-f", o.mode == SenderMode::rtp ? "rtp_mpegts" : "mpegts", sender_url(o)});
    return argv;
}

Process start_sender(const SenderOptions& o) {
    if (o.port <= 0) throw std::invalid_argument("start_sender: no port");
    ProcessOptions options;
    options.argv = sender_argv(o);
    options.output_dir = o.output_dir;
    options.name = o.name;
    return Process(std::move(options));
}

GarbageSender::GarbageSender(int port, std::chrono::milliseconds duration, int per_second,
                             size_t max_size, std::string host) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("GarbageSender: socket failed");
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &to.sin_addr) != 1) {
        ::close(fd);
        throw std::invalid_argument("GarbageSender: not an IPv4 address: " + host);
    }
    thread_ = std::jthread([=, this](std::stop_token stop) {
        std::mt19937_64 random(std::random_device{}());
        std::uniform_int_distribution<size_t> size(1, std::max<size_t>(1, max_size));
        std::vector<uint8_t> datagram(max_size);
        auto start = std::chrono::steady_clock::now();
        auto interval = std::chrono::microseconds(1'000'000 / std::max(1, per_second));
        auto next = start;
        while (!stop.stop_requested() && std::chrono::steady_clock::now() - start < duration) {
            size_t n = size(random);
            for (size_t i = 0; i < n; ++i) datagram[i] = static_cast<uint8_t>(random());
            auto sent = ::sendto(fd, datagram.data(), n, 0, reinterpret_cast<const sockaddr*>(&to),
                                 sizeof to);
            if (sent > 0) {
                bytes_ += sent;
                ++datagrams_;
            }
            next += interval;
            std::this_thread::sleep_until(next);
        }
        ::close(fd);
        done_ = true;
    });
}

GarbageSender::~GarbageSender() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
}

void GarbageSender::wait() {
    if (thread_.joinable()) thread_.join();
}

}  // namespace onair::testing
