#include "packager/memory_muxer.hpp"

#include <algorithm>

namespace onair::packager {
namespace {

int append(void* opaque, uint8_t* data, int size) {
    auto* out = static_cast<core::Bytes*>(opaque);
    out->insert(out->end(), data, data + size);
    return size;
}

}  // namespace

core::Result<MemoryMuxer> MemoryMuxer::open(const char* format, core::Bytes* into,
                                            int buffer_size) {
    MemoryMuxer m;
    auto* buffer = static_cast<uint8_t*>(av_malloc(size_t(buffer_size)));
    m.io_.reset(avio_alloc_context(buffer, buffer_size, 1, into, nullptr, &append, nullptr));
    if (!m.io_) {
        av_free(buffer);
        return core::fail("out of memory");
    }
    AVFormatContext* raw = nullptr;
    int rc = avformat_alloc_output_context2(&raw, nullptr, format, nullptr);
    if (rc < 0) return core::av_fail(std::string(format) + " muxer", rc);
    m.format_.reset(raw);
    m.format_->pb = m.io_.get();
    m.format_->flags |= AVFMT_FLAG_CUSTOM_IO;
    if (!m.packet_) return core::fail("out of memory");
    return m;
}

core::Result<> MemoryMuxer::add_streams(const MuxInput& input, const core::Bytes& video_extradata) {
    for (const AVCodecParameters* params : {input.video, input.audio}) {
        if (!params) continue;
        AVStream* st = avformat_new_stream(format_.get(), nullptr);
        if (!st) return core::fail("out of memory");
        int rc = avcodec_parameters_copy(st->codecpar, params);
        if (rc < 0) return core::av_fail("stream parameters", rc);
        st->codecpar->codec_tag = 0;
        st->time_base = AVRational{1, 90000};
        if (params != input.video || video_extradata.empty()) continue;
        AVCodecParameters& p = *st->codecpar;
        av_freep(&p.extradata);
        p.extradata_size = 0;
        p.extradata = static_cast<uint8_t*>(
            av_mallocz(video_extradata.size() + AV_INPUT_BUFFER_PADDING_SIZE));
        if (!p.extradata) return core::fail("out of memory");
        std::copy(video_extradata.begin(), video_extradata.end(), p.extradata);
        p.extradata_size = int(video_extradata.size());
    }
    return {};
}

void MemoryMuxer::redirect(core::Bytes* into) {
    avio_flush(io_.get());
    io_->opaque = into;
}

core::Result<> MemoryMuxer::write(const AVPacket& source) {
    int rc = av_packet_ref(packet_.get(), &source);
    if (rc < 0) return core::av_fail("packet", rc);
    av_packet_rescale_ts(packet_.get(), AVRational{1, 90000},
                         format_->streams[packet_->stream_index]->time_base);
    rc = av_write_frame(format_.get(), packet_.get());
    av_packet_unref(packet_.get());
    if (rc < 0) return core::av_fail("packet", rc);
    return {};
}

}  // namespace onair::packager
