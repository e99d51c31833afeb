#include "media/h264.hpp"

#include <fmt/format.h>

namespace onair::media {
namespace {

// The first ue(v) at `bit` of `nal` (emulation prevention bytes cannot occur
// this early in an SPS or PPS of a real stream).
int read_ue(std::span<const uint8_t> nal, size_t bit) {
    auto get = [&](size_t b) { return b / 8 < nal.size() ? (nal[b / 8] >> (7 - b % 8)) & 1 : 1; };
    int zeros = 0;
    while (!get(bit) && zeros < 31) ++zeros, ++bit;
    ++bit;
    int value = 0;
    for (int i = 0; i < zeros; ++i) value = (value << 1) | get(bit++);
    return (1 << zeros) - 1 + value;
}

}  // namespace

bool is_idr(std::span<const uint8_t> access_unit) {
    int first_slice = 0;
    for_each_nal(access_unit, [&](int type, std::span<const uint8_t>) {
        if (!first_slice && type >= 1 && type <= kNalIdr) first_slice = type;
    });
    return first_slice == kNalIdr;
}

core::Bytes parameter_sets(std::span<const uint8_t> data) {
    core::Bytes out;
    for_each_nal(data, [&](int type, std::span<const uint8_t> nal) {
        if (type != kNalSps && type != kNalPps) return;
        out.insert(out.end(), {0, 0, 0, 1});
        out.insert(out.end(), nal.begin(), nal.end());
    });
    return out;
}

std::vector<int> parameter_set_ids(std::span<const uint8_t> sets) {
    std::vector<int> ids;
    for_each_nal(sets, [&](int type, std::span<const uint8_t> nal) {
        if (type == kNalSps) ids.push_back(read_ue(nal, 32));
        if (type == kNalPps) ids.push_back(read_ue(nal, 8));
    });
    return ids;
}

std::optional<std::string> avc_codec_string(std::span<const uint8_t> annex_b) {
    std::optional<std::string> codec;
    for_each_nal(annex_b, [&](int type, std::span<const uint8_t> nal) {
        // The NAL header, then profile_idc, the constraint flags and level_idc.
        if (!codec && type == kNalSps && nal.size() >= 4)
            codec = fmt::format("avc1.{:02x}{:02x}{:02x}", nal[1], nal[2], nal[3]);
    });
    return codec;
}

}  // namespace onair::media
