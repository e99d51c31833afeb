#pragma once
// Takes the MPEG-TS payload out of RTP datagrams (RFC 3550 fixed header,
// CSRCs, header extension, padding; RFC 2250 payload type 33) and counts
// sequence-number gaps as lost packets. It follows one sender (SSRC) at a
// time and moves to another only when the current one has gone quiet, so
// stray datagrams neither reach the demuxer nor count as loss.
// Not an RTP stack: no jitter buffer, no RTCP; a reordered datagram is
// passed on as it comes. Called from the input's thread only.
#include <cstdint>
#include <optional>
#include <span>

namespace onair::ingest {

class RtpPayload {
  public:
    // The payload, or nullopt when the datagram is not RTP (counted by the
    // caller as garbage) or is RTCP.
    // `now_ms`: a monotonic clock, to tell when the followed sender went quiet.
    std::optional<std::span<const uint8_t>> extract(std::span<const uint8_t> datagram,
                                                    int64_t now_ms);
    int64_t lost() const { return lost_; }
    void reset() { has_last_ = false; }

    static constexpr int kMpegTsPayloadType = 33;
    static constexpr int64_t kSenderQuietMs = 1000;

  private:
    bool has_last_ = false;
    uint32_t ssrc_ = 0;
    int64_t last_seen_ms_ = 0;
    uint16_t last_sequence_ = 0;
    int64_t lost_ = 0;
};

}  // namespace onair::ingest
