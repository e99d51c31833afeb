#pragma once
// A contribution feed over SRT (listener or caller), UDP or RTP, carrying
// MPEG-TS. One thread: open the protocol, demux with libavformat's mpegts
// demuxer through a custom AVIOContext that lets TsInspector and RtpPayload
// see the bytes, push packets to the pipeline. It notices a stall within a
// second, reopens after input_lost_after, and backs off between failed
// attempts. Every blocking call is interruptible (AVIOInterruptCB), so stop()
// returns promptly whatever the network does.
#include <atomic>
#include <chrono>
#include <stop_token>
#include <thread>
#include <vector>

#include "core/config.hpp"
#include "core/libav.hpp"
#include "core/status.hpp"
#include "ingest/input.hpp"
#include "ingest/protocol_target.hpp"
#include "ingest/rtp_payload.hpp"
#include "ingest/srt_listener.hpp"
#include "ingest/ts_inspector.hpp"

namespace onair::ingest {

struct InputTimeouts {
    std::chrono::milliseconds stalled_after{1000};  // no data: report stalled
    std::chrono::milliseconds lost_after{3000};     // no data: drop and reopen
    std::chrono::milliseconds backoff_first{500};   // after a failed open
    std::chrono::milliseconds backoff_max{5000};
};

class NetworkInput final : public Input {
  public:
    NetworkInput(core::InputSpec spec, core::InputStatus& status, std::string component,
                 InputTimeouts timeouts = {});
    ~NetworkInput() override;
    void start(EventQueue& out) override;
    void stop() override;

  private:
    using Clock = std::chrono::steady_clock;

    void run(std::stop_token stop, EventQueue& out);
    // One connection from open to loss. Returns true when data flowed.
    bool session(std::stop_token stop, EventQueue& out);
    // An SRT listener input: waits for a caller on onair's own listener
    // (opened once), which sees and counts callers it refuses. False when
    // stopped or the listener cannot be opened.
    bool accept_caller(std::stop_token stop);
    // Demuxes what the open protocol brings until it is lost or stopped.
    // Returns true when data flowed.
    bool demux_until_lost(std::stop_token stop, EventQueue& out, AVIOInterruptCB interrupt);
    int read_bytes(uint8_t* buffer, int size);
    void update_bitrate(Clock::time_point now);

    static int read_callback(void* opaque, uint8_t* buffer, int size);
    static int interrupt_callback(void* opaque);

    core::InputSpec spec_;
    core::InputStatus& status_;
    std::string component_;
    InputTimeouts timeouts_;
    std::jthread thread_;

    // Used by the thread only (and by the interrupt callback, on the same thread).
    std::stop_token stop_;
    Clock::time_point interrupt_at_ = Clock::time_point::max();
    Clock::time_point last_data_{};
    bool got_data_ = false;
    bool stalled_ = false;
    bool link_failed_ = false;      // the protocol failed: the demuxer is only flushing now
    core::ProtocolIoPtr protocol_;  // udp, rtp, srt caller
    std::unique_ptr<SrtListener> srt_listener_;  // srt listener: for the input's life
    std::unique_ptr<SrtConnection> srt_caller_;  // srt listener: the caller now
    TsInspector inspector_;
    RtpPayload rtp_;
    std::vector<uint8_t> datagram_;
    std::vector<uint8_t> leftover_;
    size_t leftover_pos_ = 0;
    int64_t rtp_garbage_bytes_ = 0;
    int64_t reported_garbage_ = 0, reported_errors_ = 0;
    Clock::time_point last_damage_report_{};
    int64_t window_bytes_ = 0;
    Clock::time_point window_start_{};
};

}  // namespace onair::ingest
