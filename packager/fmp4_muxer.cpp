#include "packager/fmp4_muxer.hpp"

#include <algorithm>

#include "media/h264.hpp"
#include "media/packet.hpp"

namespace onair::packager {
namespace {

int write_to_bytes(void* opaque, uint8_t* data, int size) {
    auto* out = static_cast<core::Bytes*>(opaque);
    out->insert(out->end(), data, data + size);
    return size;
}

// The first video packet's SPS/PPS as Annex B extradata, for the avcC.
core::Bytes video_extradata(const MuxInput& input) {
    if (input.video->extradata_size > 0)
        return {input.video->extradata, input.video->extradata + input.video->extradata_size};
    if (!input.parameter_sets.empty())
        return {input.parameter_sets.begin(), input.parameter_sets.end()};
    for (const AVPacket* p : input.packets)
        if (p->stream_index == 0) return media::parameter_sets(media::bytes_of(*p));
    return {};
}

core::Result<> set_extradata(AVCodecParameters& params, const core::Bytes& bytes) {
    av_freep(&params.extradata);
    params.extradata_size = 0;
    if (bytes.empty()) return {};
    params.extradata =
        static_cast<uint8_t*>(av_mallocz(bytes.size() + AV_INPUT_BUFFER_PADDING_SIZE));
    if (!params.extradata) return core::fail("out of memory");
    std::copy(bytes.begin(), bytes.end(), params.extradata);
    params.extradata_size = int(bytes.size());
    return {};
}

}  // namespace

core::Result<Fmp4Segment> mux_fragmented_mp4(const MuxInput& input, int64_t first_fragment_number,
                                             std::span<const int64_t> fragment_starts) {
    if (!input.video) return core::fail("fmp4: no video parameters");
    const auto extradata = video_extradata(input);
    if (extradata.empty()) return core::fail("fmp4: no SPS/PPS before the first frame");

    Fmp4Segment out;
    out.media.reserve(1 << 20);
    constexpr int kBufferSize = 64 * 1024;
    auto* buffer = static_cast<uint8_t*>(av_malloc(kBufferSize));
    // Until the header is written the muxer's output is the init section.
    core::CustomIoPtr io(
        avio_alloc_context(buffer, kBufferSize, 1, &out.init, nullptr, &write_to_bytes, nullptr));
    if (!io) {
        av_free(buffer);
        return core::fail("out of memory");
    }
    AVFormatContext* raw = nullptr;
    int rc = avformat_alloc_output_context2(&raw, nullptr, "mp4", nullptr);
    if (rc < 0) return core::av_fail("mp4 muxer", rc);
    core::OutputFormatPtr format(raw);
    format->pb = io.get();
    format->flags |= AVFMT_FLAG_CUSTOM_IO | AVFMT_FLAG_BITEXACT;
    format->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;  // tfdt = media time

    for (const AVCodecParameters* params : {input.video, input.audio}) {
        if (!params) continue;
        AVStream* st = avformat_new_stream(format.get(), nullptr);
        if (!st) return core::fail("out of memory");
        rc = avcodec_parameters_copy(st->codecpar, params);
        if (rc < 0) return core::av_fail("stream parameters", rc);
        st->codecpar->codec_tag = 0;
        st->time_base = AVRational{1, 90000};
        if (params == input.video)
            if (auto ok = set_extradata(*st->codecpar, extradata); !ok)
                return std::unexpected(ok.error());
    }
    core::Options options;
    // frag_custom: a fragment ends only where we flush. empty_moov: the
    // init section holds no samples. frag_discont: the first fragment's
    // tfdt is its first decode time. skip_trailer: no mfra.
    options.set("movflags",
                "frag_custom+empty_moov+default_base_moof+frag_discont+skip_trailer+cmaf");
    options.set("use_editlist", int64_t{0});
    options.set("fragment_index", std::clamp<int64_t>(first_fragment_number, 1, INT32_MAX));
    rc = avformat_write_header(format.get(), options.address());
    if (rc < 0) return core::av_fail("mp4 header", rc);
    avio_flush(io.get());
    io->opaque = &out.media;

    auto next_start = fragment_starts.begin();
    while (next_start != fragment_starts.end() && input.packets.size() &&
           *next_start <= input.packets.front()->dts)
        ++next_start;
    bool fragment_has_packets = false;
    auto packet = core::make_packet();
    for (const AVPacket* source : input.packets) {
        if (source->stream_index == 1 && !input.audio) continue;
        if (source->stream_index == 0 && next_start != fragment_starts.end() &&
            source->dts >= *next_start) {
            if (fragment_has_packets && (rc = av_write_frame(format.get(), nullptr)) < 0)
                return core::av_fail("mp4 fragment", rc);
            fragment_has_packets = false;
            while (next_start != fragment_starts.end() && *next_start <= source->dts) ++next_start;
        }
        rc = av_packet_ref(packet.get(), source);
        if (rc < 0) return core::av_fail("packet", rc);
        av_packet_rescale_ts(packet.get(), AVRational{1, 90000},
                             format->streams[packet->stream_index]->time_base);
        rc = av_write_frame(format.get(), packet.get());
        av_packet_unref(packet.get());
        if (rc < 0) return core::av_fail("mp4 packet", rc);
        fragment_has_packets = true;
    }
    if (fragment_has_packets && (rc = av_write_frame(format.get(), nullptr)) < 0)
        return core::av_fail("mp4 fragment", rc);
    rc = av_write_trailer(format.get());
    if (rc < 0) return core::av_fail("mp4 trailer", rc);
    avio_flush(io.get());
    return out;
}

}  // namespace onair::packager
