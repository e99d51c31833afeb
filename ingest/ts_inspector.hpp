#pragma once
// Watches the MPEG-TS byte stream of an input on its way to the demuxer and
// counts what a broadcast engineer checks first (TR 101 290 priority 1):
// TS packets, bytes that were not TS (sync loss, garbage), and continuity
// counter errors per PID. It only reads: the bytes reach the demuxer unchanged.
// Called from the input's thread only.
#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace onair::ingest {

class TsInspector {
  public:
    struct Counts {
        int64_t packets = 0;
        int64_t continuity_errors = 0;
        int64_t garbage_bytes = 0;
    };

    TsInspector() { reset(); }
    void feed(std::span<const uint8_t> data);
    // A new connection: forget partial packets and per-PID counters (not the totals).
    void reset();
    const Counts& counts() const { return counts_; }

  private:
    void inspect_packet(const uint8_t* p);

    static constexpr size_t kPacketSize = 188;
    std::vector<uint8_t> pending_;
    std::array<int8_t, 8192> last_cc_{};
    Counts counts_;
};

}  // namespace onair::ingest
