#include "ingest/ts_inspector.hpp"

namespace onair::ingest {

namespace {
constexpr uint8_t kSync = 0x47;
constexpr int kNullPid = 0x1fff;
}  // namespace

void TsInspector::reset() {
    pending_.clear();
    last_cc_.fill(-1);
}

void TsInspector::feed(std::span<const uint8_t> data) {
    pending_.insert(pending_.end(), data.begin(), data.end());
    size_t pos = 0;
    // A packet counts as found when its sync byte is followed by another
    // sync byte 188 bytes on; the last packet waits for more data. Random
    // bytes hit 0x47 once in 256, two in a row at the right distance rarely.
    while (pending_.size() - pos >= 2 * kPacketSize) {
        if (pending_[pos] == kSync && pending_[pos + kPacketSize] == kSync) {
            inspect_packet(&pending_[pos]);
            pos += kPacketSize;
        } else {
            ++counts_.garbage_bytes;
            ++pos;
        }
    }
    // Keep at most the unchecked tail.
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(pos));
}

void TsInspector::inspect_packet(const uint8_t* p) {
    ++counts_.packets;
    if (p[1] & 0x80) return;  // transport error indicator: the counter is unreliable
    int pid = ((p[1] & 0x1f) << 8) | p[2];
    if (pid == kNullPid) return;
    int adaptation = (p[3] >> 4) & 0x3;
    int cc = p[3] & 0x0f;
    bool has_payload = adaptation & 0x1;
    bool discontinuity = (adaptation & 0x2) && p[4] > 0 && (p[5] & 0x80);
    int8_t& last = last_cc_[pid];
    if (has_payload) {
        // The counter increments per payload packet; one duplicate is allowed.
        if (last >= 0 && !discontinuity && cc != ((last + 1) & 0x0f) && cc != last)
            ++counts_.continuity_errors;
        last = static_cast<int8_t>(cc);
    } else if (last < 0) {
        last = static_cast<int8_t>(cc);
    }
}

}  // namespace onair::ingest
