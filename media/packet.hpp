#pragma once
// Packet helpers shared by the live chain and the clip cutter. Pure
// functions on packets the caller owns; callable from any thread.
#include <cstdint>
#include <span>
#include <vector>

#include "core/libav.hpp"
#include "core/result.hpp"

namespace onair::media {

// A new reference to `packet`'s data with its properties (timestamps,
// flags, stream index); an error when libav cannot allocate it.
[[nodiscard]] core::Result<core::PacketPtr> copy_packet(const AVPacket& packet);

// The packet's payload.
inline std::span<const uint8_t> bytes_of(const AVPacket& packet) {
    return {packet.data, size_t(packet.size)};
}

// Video and audio (each in decode order) merged into one decode-time order,
// video first on ties: the order a muxer wants them. The packets stay owned
// by the vectors.
std::vector<AVPacket*> interleave_by_dts(std::span<const core::PacketPtr> video,
                                         std::span<const core::PacketPtr> audio);

}  // namespace onair::media
