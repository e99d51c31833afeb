#pragma once
// How a channel packages its media (`hls.container`): MPEG-TS segments, or
// CMAF (fragmented MP4: one init section per rendition, named by its content,
// and .m4s media segments). The names of their files are decided here, once.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/enum_names.hpp"

namespace onair::core {

enum class Container { ts, fmp4 };
inline constexpr auto kContainers =
    enum_names<Container>(std::pair{Container::ts, "ts"}, std::pair{Container::fmp4, "fmp4"});

// ".ts", ".m4s"
constexpr std::string_view segment_extension(Container container) {
    return container == Container::fmp4 ? ".m4s" : ".ts";
}

// FNV-1a, 64 bits: a stable name for bytes (the same on every machine and
// after a restart), for ETags and init sections. Not a defence against
// anyone choosing the bytes.
constexpr uint64_t content_hash(std::string_view bytes) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

// An init section's id: 16 lowercase hex digits of its content hash.
std::string init_id_of(std::string_view bytes);
// "init-<id>.mp4"
std::string init_file_name(std::string_view id);
// The id an init section's file name carries; empty when it is not one.
std::string_view parse_init_file_name(std::string_view name);

}  // namespace onair::core
