#include "packager/ts_muxer.hpp"

#include <cstring>

namespace onair::packager {
namespace {

// Collects what the muxer writes.
int write_to_bytes(void* opaque, uint8_t* data, int size) {
    auto* out = static_cast<core::Bytes*>(opaque);
    out->insert(out->end(), data, data + size);
    return size;
}

}  // namespace

core::Result<core::Bytes> mux_transport_stream(const MuxInput& input) {
    core::Bytes bytes;
    bytes.reserve(1 << 20);
    constexpr int kBufferSize = 188 * 64;
    auto* buffer = static_cast<uint8_t*>(av_malloc(kBufferSize));
    core::CustomIoPtr io(
        avio_alloc_context(buffer, kBufferSize, 1, &bytes, nullptr, &write_to_bytes, nullptr));
    if (!io) {
        av_free(buffer);
        return core::fail("out of memory");
    }
    AVFormatContext* raw = nullptr;
    int rc = avformat_alloc_output_context2(&raw, nullptr, "mpegts", nullptr);
    if (rc < 0) return core::av_fail("mpegts muxer", rc);
    core::OutputFormatPtr format(raw);
    format->pb = io.get();
    format->flags |= AVFMT_FLAG_CUSTOM_IO;
    format->max_delay = 500000;  // µs of decoder buffer the PCR leads by

    for (const AVCodecParameters* params : {input.video, input.audio}) {
        if (!params) continue;
        AVStream* st = avformat_new_stream(format.get(), nullptr);
        if (!st) return core::fail("out of memory");
        rc = avcodec_parameters_copy(st->codecpar, params);
        if (rc < 0) return core::av_fail("stream parameters", rc);
        st->codecpar->codec_tag = 0;
        st->time_base = AVRational{1, 90000};
    }
    core::Options options;
    options.set("mpegts_copyts", int64_t{1});  // keep media time as the PTS
    rc = avformat_write_header(format.get(), options.address());
    if (rc < 0) return core::av_fail("mpegts header", rc);

    auto packet = core::make_packet();
    for (const AVPacket* source : input.packets) {
        if (source->stream_index == 1 && !input.audio) continue;
        rc = av_packet_ref(packet.get(), source);
        if (rc < 0) return core::av_fail("packet", rc);
        av_packet_rescale_ts(packet.get(), AVRational{1, 90000},
                             format->streams[packet->stream_index]->time_base);
        rc = av_write_frame(format.get(), packet.get());
        av_packet_unref(packet.get());
        if (rc < 0) return core::av_fail("mpegts packet", rc);
    }
    rc = av_write_trailer(format.get());
    if (rc < 0) return core::av_fail("mpegts trailer", rc);
    avio_flush(io.get());
    return bytes;
}

}  // namespace onair::packager
