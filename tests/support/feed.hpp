#pragma once
// Feeds for redundancy tests. start_feed: ONE ffmpeg that encodes lavfi
// testsrc2 + a 1 kHz sine in real time and writes MPEG-TS to several UDP
// ports on 127.0.0.1 with the same timestamps — encoded once and copied (tee
// muxer), or encoded per output when an output has its own filters (content
// that goes black or silent at a chosen time). start_srt_relay: an
// srt-live-transmit that carries one of those UDP streams to onair's SRT
// listener, so one leg can be cut and restored on its own. Both return RAII
// Processes: destruction stops them.
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace onair::testing {

struct FeedOutput {
    int port = 0;                // UDP on 127.0.0.1
    std::string video_filter{};  // for this output only, e.g. black_between(20, 36); empty: none
    std::string audio_filter{};  // e.g. silence_between(40, 56)
};

struct FeedOptions {
    std::vector<FeedOutput> outputs;
    int width = 640;
    int height = 360;
    int rate = 25;  // frames per second; GOP of one second
    std::filesystem::path output_dir{};
    std::string name = "feed";
};

// Filters that change the content from t = from s to t = to s of the feed's run.
std::string black_between(double from, double to);
std::string silence_between(double from, double to);

std::vector<std::string> feed_argv(const FeedOptions& options);
Process start_feed(const FeedOptions& options);

struct RelayOptions {
    int udp_port = 0;  // where the feed writes
    int srt_port = 0;  // onair's SRT listener on 127.0.0.1
    int latency_ms = 200;
    std::string srt_options{};  // more of the srt:// query: "passphrase=...&streamid=..."
    std::filesystem::path output_dir{};
    std::string name = "relay";
};

std::vector<std::string> relay_argv(const RelayOptions& options);
Process start_srt_relay(const RelayOptions& options);

}  // namespace onair::testing
