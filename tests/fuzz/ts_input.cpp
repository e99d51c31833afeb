// Fuzz target: a contribution feed's bytes as they come off the socket.
// The first byte picks plain MPEG-TS (UDP, SRT) or RTP; the rest is a
// sequence of datagrams, each a 16-bit big-endian length and its bytes. They
// go the way NetworkInput takes them: RTP payload extraction, the TS
// inspector's counts, then libavformat's mpegts demuxer and the input's
// stream selection, every packet read to the end.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/libav.hpp"
#include "ingest/rtp_payload.hpp"
#include "ingest/ts_demux.hpp"
#include "ingest/ts_inspector.hpp"

using namespace onair;

namespace {

// Bounded: the demuxer's probing reads up to 5 s or 5 MB; fuzz inputs are
// far smaller, and a packet count bound keeps one run short.
constexpr int kMaxPackets = 20000;

int no_interrupt(void*) {
    return 0;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    av_log_set_level(AV_LOG_QUIET);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const bool rtp = data[0] & 1;
    std::span<const uint8_t> rest(data + 1, size - 1);

    ingest::RtpPayload payloads;
    ingest::TsInspector inspector;
    std::vector<uint8_t> demuxer_bytes;
    int64_t now_ms = 0;
    while (rest.size() >= 2) {
        size_t length = std::min<size_t>((size_t(rest[0]) << 8) | rest[1], rest.size() - 2);
        std::span<const uint8_t> datagram = rest.subspan(2, length);
        rest = rest.subspan(2 + length);
        now_ms += 10;
        if (rtp) {
            auto payload = payloads.extract(datagram, now_ms);
            if (!payload) continue;
            datagram = *payload;
        }
        inspector.feed(datagram);
        demuxer_bytes.insert(demuxer_bytes.end(), datagram.begin(), datagram.end());
    }
    const auto& counts = inspector.counts();
    if (counts.packets < 0 || counts.garbage_bytes < 0 || counts.continuity_errors < 0)
        __builtin_trap();

    auto input = core::MemoryInput::open(std::move(demuxer_bytes));
    if (!input) return 0;
    auto demux = ingest::TsDemux::open((*input)->io(), AVIOInterruptCB{&no_interrupt, nullptr});
    if (!demux) return 0;
    core::StreamsOpened streams = demux->streams();
    if (!streams.video && !streams.audio) __builtin_trap();  // open() promised one
    auto packet = core::make_packet();
    for (int i = 0; i < kMaxPackets && demux->read(*packet) >= 0; ++i) {
        (void)demux->kind_of(*packet);
        av_packet_unref(packet.get());
    }
    return 0;
}
