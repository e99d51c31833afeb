#include "packager/ts_muxer.hpp"

#include "packager/memory_muxer.hpp"

namespace onair::packager {

core::Result<core::Bytes> mux_transport_stream(const MuxInput& input) {
    core::Bytes bytes;
    bytes.reserve(1 << 20);
    auto muxer = MemoryMuxer::open("mpegts", &bytes, 188 * 64);
    if (!muxer) return std::unexpected(muxer.error());
    muxer->format()->max_delay = 500000;  // µs of decoder buffer the PCR leads by
    if (auto ok = muxer->add_streams(input); !ok) return std::unexpected(ok.error());
    core::Options options;
    options.set("mpegts_copyts", int64_t{1});  // keep media time as the PTS
    int rc = avformat_write_header(muxer->format(), options.address());
    if (rc < 0) return core::av_fail("mpegts header", rc);
    for (const AVPacket* source : input.packets) {
        if (source->stream_index == 1 && !input.audio) continue;
        if (auto ok = muxer->write(*source); !ok) return std::unexpected(ok.error());
    }
    rc = av_write_trailer(muxer->format());
    if (rc < 0) return core::av_fail("mpegts trailer", rc);
    muxer->flush();
    return bytes;
}

}  // namespace onair::packager
