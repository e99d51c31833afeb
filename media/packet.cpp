#include "media/packet.hpp"

namespace onair::media {

core::Result<core::PacketPtr> copy_packet(const AVPacket& packet) {
    core::PacketPtr copy(av_packet_alloc());
    if (!copy) return core::fail("out of memory", AVERROR(ENOMEM));
    if (int rc = av_packet_ref(copy.get(), &packet); rc < 0) return core::av_fail("packet", rc);
    return copy;
}

std::vector<AVPacket*> interleave_by_dts(std::span<const core::PacketPtr> video,
                                         std::span<const core::PacketPtr> audio) {
    std::vector<AVPacket*> out;
    out.reserve(video.size() + audio.size());
    size_t v = 0, a = 0;
    while (v < video.size() || a < audio.size()) {
        bool take_video = a == audio.size() || (v < video.size() && video[v]->dts <= audio[a]->dts);
        out.push_back(take_video ? video[v++].get() : audio[a++].get());
    }
    return out;
}

}  // namespace onair::media
