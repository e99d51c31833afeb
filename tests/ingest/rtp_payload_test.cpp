#include <catch2/catch.hpp>

#include <vector>

#include "ingest/rtp_payload.hpp"

using onair::ingest::RtpPayload;

namespace {

std::vector<uint8_t> rtp(uint16_t sequence, uint32_t ssrc = 0x11223344, int payload_type = 33,
                         int csrcs = 0, bool extension = false, int padding = 0) {
    std::vector<uint8_t> d;
    d.push_back(uint8_t(0x80 | (padding ? 0x20 : 0) | (extension ? 0x10 : 0) | csrcs));
    d.push_back(uint8_t(payload_type));
    d.push_back(uint8_t(sequence >> 8));
    d.push_back(uint8_t(sequence));
    for (int i = 0; i < 4; ++i) d.push_back(0);  // timestamp
    for (int shift : {24, 16, 8, 0}) d.push_back(uint8_t(ssrc >> shift));
    for (int i = 0; i < 4 * csrcs; ++i) d.push_back(0xcc);
    if (extension) {
        for (uint8_t b : {0xbe, 0xde, 0x00, 0x01, 1, 2, 3, 4}) d.push_back(b);  // one word
    }
    for (int i = 0; i < 188; ++i) d.push_back(i == 0 ? 0x47 : 0x10);
    for (int i = 0; i < padding; ++i) d.push_back(i == padding - 1 ? uint8_t(padding) : 0);
    return d;
}

}  // namespace

TEST_CASE("the payload is what follows the header, CSRCs and extension, minus padding") {
    RtpPayload r;
    for (auto d : {rtp(1), rtp(2, 0x11223344, 33, 2), rtp(3, 0x11223344, 33, 0, true),
                   rtp(4, 0x11223344, 33, 1, true, 4)}) {
        auto payload = r.extract(d, 0);
        REQUIRE(payload);
        CHECK(payload->size() == 188);
        CHECK((*payload)[0] == 0x47);
    }
    CHECK(r.lost() == 0);
}

TEST_CASE("sequence gaps are losses, late or duplicate datagrams are not") {
    RtpPayload r;
    r.extract(rtp(65534), 0);
    r.extract(rtp(65535), 0);
    r.extract(rtp(0), 0);  // wraps
    r.extract(rtp(3), 0);  // 1 and 2 lost
    CHECK(r.lost() == 2);
    r.extract(rtp(2), 0);  // late
    r.extract(rtp(3), 0);  // duplicate
    CHECK(r.lost() == 2);
    r.extract(rtp(4), 0);
    CHECK(r.lost() == 2);
}

TEST_CASE("datagrams that are not RTP carrying MPEG-TS are refused") {
    RtpPayload r;
    std::vector<uint8_t> raw_ts(1316, 0x47);
    CHECK_FALSE(r.extract(raw_ts, 0));                         // version bits 01
    CHECK_FALSE(r.extract(rtp(1, 1, 96), 0));                  // another payload type
    CHECK_FALSE(r.extract(std::vector<uint8_t>(8, 0x80), 0));  // too short
    auto bad_padding = rtp(1);
    bad_padding[0] |= 0x20;
    bad_padding.back() = 250;  // more padding than payload
    CHECK_FALSE(r.extract(bad_padding, 0));
}

TEST_CASE(
    "one sender at a time: strays are ignored, a new sender is followed once the old one is "
    "quiet") {
    RtpPayload r;
    CHECK(r.extract(rtp(100, 0xaaaa), 0));
    CHECK(r.extract(rtp(101, 0xaaaa), 10));
    CHECK_FALSE(r.extract(rtp(5000, 0xbbbb), 20));  // someone else, while ours talks
    CHECK(r.extract(rtp(102, 0xaaaa), 30));
    CHECK(r.lost() == 0);
    // Ours stops; another starts after the quiet period: no loss counted.
    CHECK(r.extract(rtp(7, 0xbbbb), 30 + RtpPayload::kSenderQuietMs));
    CHECK(r.extract(rtp(8, 0xbbbb), 40 + RtpPayload::kSenderQuietMs));
    CHECK(r.lost() == 0);
}
