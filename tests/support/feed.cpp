#include "tests/support/feed.hpp"

#include "tests/support/sender.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace onair::testing {
namespace {

std::string udp_url(int port) {
    return fmt::format("udp://127.0.0.1:{}?pkt_size=1316", port);
}

void append(std::vector<std::string>& to, const std::vector<std::string>& items) {
    to.insert(to.end(), items.begin(), items.end());
}

void append_encoding(std::vector<std::string>& argv, const FeedOptions& o) {
    append(argv, test_signal_encoding(o.rate));
}

}  // namespace

std::string black_between(double from, double to) {
    return fmt::format("lutyuv=y=16:u=128:v=128:enable='between(t,{},{})'", from, to);
}

std::string silence_between(double from, double to) {
    return fmt::format("volume=volume=0:enable='between(t,{},{})'", from, to);
}

std::vector<std::string> feed_argv(const FeedOptions& o) {
    if (o.outputs.empty()) throw std::invalid_argument("start_feed: no outputs");
    std::vector<std::string> argv = {"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error"};
    append(argv, test_signal_inputs(o.width, o.height, o.rate));
    bool filtered = false;
    for (const auto& out : o.outputs)
        filtered = filtered || !out.video_filter.empty() || !out.audio_filter.empty();

    if (!filtered) {
        // One encode, the same packets to every port.
        append(argv, {"-map", "0:v", "-map", "1:a"});
        append_encoding(argv, o);
        std::string tee;
        for (const auto& out : o.outputs)
            tee += (tee.empty() ? "" : "|") +
                   fmt::format("[f=mpegts:onfail=ignore]{}", udp_url(out.port));
        append(argv, {"-f", "tee", tee});
        return argv;
    }
    // One encode per output, each behind its own filters; one input timeline.
    const size_t n = o.outputs.size();
    std::string graph = fmt::format("[0:v]split={}", n);
    for (size_t i = 0; i < n; ++i) graph += fmt::format("[v{}]", i);
    graph += fmt::format(";[1:a]asplit={}", n);
    for (size_t i = 0; i < n; ++i) graph += fmt::format("[a{}]", i);
    for (size_t i = 0; i < n; ++i) {
        const auto& out = o.outputs[i];
        graph += fmt::format(";[v{}]{}[vo{}]", i,
                             out.video_filter.empty() ? "null" : out.video_filter, i);
        graph += fmt::format(";[a{}]{}[ao{}]", i,
                             out.audio_filter.empty() ? "anull" : out.audio_filter, i);
    }
    append(argv, {"-filter_complex", graph});
    for (size_t i = 0; i < n; ++i) {
        append(argv, {"-map", fmt::format("[vo{}]", i), "-map", fmt::format("[ao{}]", i)});
        append_encoding(argv, o);
        append(argv, {"-f", "mpegts", udp_url(o.outputs[i].port)});
    }
    return argv;
}

Process start_feed(const FeedOptions& o) {
    ProcessOptions options;
    options.argv = feed_argv(o);
    options.output_dir = o.output_dir;
    options.name = o.name;
    return Process(std::move(options));
}

std::vector<std::string> relay_argv(const RelayOptions& o) {
    // srt-live-transmit's latency is in milliseconds (libsrt's unit).
    return {"srt-live-transmit", "-q", fmt::format("udp://:{}", o.udp_port),
            fmt::format("srt://127.0.0.1:{}?latency={}{}{}", o.srt_port, o.latency_ms,
                        o.srt_options.empty() ? "" : "&", o.srt_options)};
}

Process start_srt_relay(const RelayOptions& o) {
    if (o.udp_port <= 0 || o.srt_port <= 0) throw std::invalid_argument("start_srt_relay: no port");
    ProcessOptions options;
    options.argv = relay_argv(o);
    options.output_dir = o.output_dir;
    options.name = o.name;
    return Process(std::move(options));
}

}  // namespace onair::testing
