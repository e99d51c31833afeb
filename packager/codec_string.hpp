#pragma once
// RFC 6381 codec strings for the master playlist, read from the bitstream
// itself so they state the real profile and level x264 chose.
#include <optional>
#include <span>
#include <string>

namespace onair::packager {

// "avc1.PPCCLL" from the first SPS in an Annex B H.264 access unit.
std::optional<std::string> avc_codec_string(std::span<const uint8_t> annex_b);

}  // namespace onair::packager
