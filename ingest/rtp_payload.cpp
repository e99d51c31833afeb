#include "ingest/rtp_payload.hpp"

namespace onair::ingest {

std::optional<std::span<const uint8_t>> RtpPayload::extract(std::span<const uint8_t> d,
                                                            int64_t now_ms) {
    constexpr size_t kFixedHeader = 12;
    if (d.size() < kFixedHeader || (d[0] >> 6) != 2) return std::nullopt;
    if ((d[1] & 0x7f) != kMpegTsPayloadType) return std::nullopt;  // also drops RTCP
    size_t header = kFixedHeader + 4u * (d[0] & 0x0f);
    if (d[0] & 0x10) {  // header extension: 4 bytes, then length in 32-bit words
        if (d.size() < header + 4) return std::nullopt;
        header += 4 + 4u * ((d[header + 2] << 8) | d[header + 3]);
    }
    size_t padding = (d[0] & 0x20) ? d.back() : 0;
    if (d.size() < header + padding) return std::nullopt;

    uint16_t sequence = static_cast<uint16_t>((d[2] << 8) | d[3]);
    uint32_t ssrc = uint32_t(d[8]) << 24 | uint32_t(d[9]) << 16 | uint32_t(d[10]) << 8 | d[11];
    if (has_last_ && ssrc != ssrc_) {
        if (now_ms - last_seen_ms_ < kSenderQuietMs) return std::nullopt;  // not our sender
        has_last_ = false;                                                 // a new sender
    }
    ssrc_ = ssrc;
    last_seen_ms_ = now_ms;
    if (has_last_) {
        uint16_t gap = static_cast<uint16_t>(sequence - last_sequence_ - 1);
        if (gap != 0 && gap < 0x8000) lost_ += gap;  // behind: late or duplicate, not a loss
        if (gap < 0x8000) last_sequence_ = sequence;
    } else {
        has_last_ = true;
        last_sequence_ = sequence;
    }
    return d.subspan(header, d.size() - header - padding);
}

}  // namespace onair::ingest
