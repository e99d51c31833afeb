#pragma once
// H.264 Annex B bitstream reading: NAL units, IDRs, the parameter sets
// (SPS/PPS) and what the live chain and the clip cutter read from them.
// Pure functions; callable from any thread.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/segment.hpp"

namespace onair::media {

inline constexpr int kNalIdr = 5;
inline constexpr int kNalSps = 7;
inline constexpr int kNalPps = 8;

// Calls f(nal_unit_type, the NAL unit without its start code) for each NAL
// unit of an Annex B buffer, in order.
template <class F>
void for_each_nal(std::span<const uint8_t> data, F&& f) {
    auto next_start = [&](size_t from) {
        for (size_t i = from; i + 2 < data.size(); ++i)
            if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) return i;
        return data.size();
    };
    size_t at = next_start(0);
    while (at < data.size()) {
        size_t begin = at + 3;
        size_t end = next_start(begin);
        size_t stop = end;
        while (stop > begin && data[stop - 1] == 0) --stop;  // the next start code's leading zero
        if (stop > begin) f(data[begin] & 0x1f, data.subspan(begin, stop - begin));
        at = end;
    }
}

// Whether the access unit's first slice is an IDR slice.
bool is_idr(std::span<const uint8_t> access_unit);

// The SPS and PPS NAL units of a buffer, each after a 4-byte start code
// (empty when it has none).
core::Bytes parameter_sets(std::span<const uint8_t> data);

// The ids the parameter sets in `sets` use, in order: an SPS's after its
// profile, flags and level, a PPS's its first field.
std::vector<int> parameter_set_ids(std::span<const uint8_t> sets);

// RFC 6381 "avc1.PPCCLL" from the first SPS of an Annex B access unit, so
// the master playlist states the profile and level x264 really chose.
std::optional<std::string> avc_codec_string(std::span<const uint8_t> annex_b);

}  // namespace onair::media
