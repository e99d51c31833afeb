#include "packager/codec_string.hpp"

#include <fmt/format.h>

namespace onair::packager {

std::optional<std::string> avc_codec_string(std::span<const uint8_t> data) {
    // Find each start code (00 00 01); the NAL header follows it.
    for (size_t i = 0; i + 3 < data.size(); ++i) {
        if (data[i] != 0 || data[i + 1] != 0 || data[i + 2] != 1) continue;
        size_t nal = i + 3;
        if ((data[nal] & 0x1f) == 7 && nal + 3 < data.size())  // sequence parameter set
            return fmt::format("avc1.{:02x}{:02x}{:02x}", data[nal + 1], data[nal + 2],
                               data[nal + 3]);
        i = nal;
    }
    return std::nullopt;
}

}  // namespace onair::packager
