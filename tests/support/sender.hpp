#pragma once
// Test feeds for onair's inputs. Sender: an ffmpeg child encoding lavfi
// testsrc2 + a 1 kHz sine (H.264 + AAC in MPEG-TS) in real time to SRT (as
// caller or listener), UDP or RTP on 127.0.0.1. GarbageSender: a thread
// throwing random UDP datagrams at a port. Both are RAII: destruction stops
// them.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/process.hpp"

namespace onair::testing {

enum class SenderMode {
    srt_caller,    // ffmpeg calls; onair's input is srt://...?mode=listener
    srt_listener,  // ffmpeg listens; onair's input is srt://...?mode=caller
    udp,
    rtp,  // rtp_mpegts: MPEG-TS in RTP, payload type 33
};
const char* to_string(SenderMode mode);

struct SenderOptions {
    SenderMode mode = SenderMode::srt_caller;
    std::string host = "127.0.0.1";
    int port = 0;
    int width = 1280;
    int height = 720;
    int rate = 25;                       // frames per second; the GOP is two seconds
    int srt_latency_ms = 200;            // converted to ffmpeg's microseconds
    std::string srt_options{};           // more of the srt:// query: "passphrase=...&streamid=..."
    std::filesystem::path output_dir{};  // for the child's stdout/stderr
    std::string name = "sender";
};

// The pieces of a sender's ffmpeg command line: the lavfi test signal in
// real time (testsrc2 and a 1 kHz sine) and its encoding (x264 ultrafast,
// zerolatency, GOP `gop_frames`; AAC 128k).
std::vector<std::string> test_signal_inputs(int width, int height, int rate);
std::vector<std::string> test_signal_encoding(int gop_frames);

// The output URL ffmpeg writes to, and its whole command line.
std::string sender_url(const SenderOptions& options);
std::vector<std::string> sender_argv(const SenderOptions& options);
// Starts ffmpeg (-loglevel error; it runs until killed).
Process start_sender(const SenderOptions& options);

class GarbageSender {
  public:
    // Sends random datagrams of 1..max_size bytes to host:port, about
    // `per_second` a second, for `duration` (or until destroyed).
    GarbageSender(int port, std::chrono::milliseconds duration, int per_second = 400,
                  size_t max_size = 1400, std::string host = "127.0.0.1");
    ~GarbageSender();
    GarbageSender(const GarbageSender&) = delete;
    GarbageSender& operator=(const GarbageSender&) = delete;

    bool done() const { return done_.load(); }
    void wait();  // until the duration is over
    int64_t bytes_sent() const { return bytes_.load(); }
    int64_t datagrams_sent() const { return datagrams_.load(); }

  private:
    std::atomic<int64_t> bytes_{0};
    std::atomic<int64_t> datagrams_{0};
    std::atomic<bool> done_{false};
    std::jthread thread_;
};

}  // namespace onair::testing
