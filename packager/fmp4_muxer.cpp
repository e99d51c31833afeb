#include "packager/fmp4_muxer.hpp"

#include <algorithm>

#include "media/h264.hpp"
#include "media/packet.hpp"
#include "packager/memory_muxer.hpp"

namespace onair::packager {
namespace {

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

}  // namespace

core::Result<Fmp4Segment> mux_fragmented_mp4(const MuxInput& input, int64_t first_fragment_number,
                                             std::span<const int64_t> fragment_starts) {
    if (!input.video) return core::fail("fmp4: no video parameters");
    const auto extradata = video_extradata(input);
    if (extradata.empty()) return core::fail("fmp4: no SPS/PPS before the first frame");

    Fmp4Segment out;
    out.media.reserve(1 << 20);
    // Until the header is written the muxer's output is the init section.
    auto muxer = MemoryMuxer::open("mp4", &out.init, 64 * 1024);
    if (!muxer) return std::unexpected(muxer.error());
    AVFormatContext* format = muxer->format();
    format->flags |= AVFMT_FLAG_BITEXACT;
    format->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;  // tfdt = media time
    if (auto ok = muxer->add_streams(input, extradata); !ok) return std::unexpected(ok.error());
    core::Options options;
    // frag_custom: a fragment ends only where we flush. empty_moov: the
    // init section holds no samples. frag_discont: the first fragment's
    // tfdt is its first decode time. skip_trailer: no mfra.
    options.set("movflags",
                "frag_custom+empty_moov+default_base_moof+frag_discont+skip_trailer+cmaf");
    options.set("use_editlist", int64_t{0});
    options.set("fragment_index", std::clamp<int64_t>(first_fragment_number, 1, INT32_MAX));
    int rc = avformat_write_header(format, options.address());
    if (rc < 0) return core::av_fail("mp4 header", rc);
    muxer->redirect(&out.media);

    auto next_start = fragment_starts.begin();
    while (next_start != fragment_starts.end() && !input.packets.empty() &&
           *next_start <= input.packets.front()->dts)
        ++next_start;
    bool fragment_has_packets = false;
    for (const AVPacket* source : input.packets) {
        if (source->stream_index == 1 && !input.audio) continue;
        if (source->stream_index == 0 && next_start != fragment_starts.end() &&
            source->dts >= *next_start) {
            if (fragment_has_packets && (rc = av_write_frame(format, nullptr)) < 0)
                return core::av_fail("mp4 fragment", rc);
            fragment_has_packets = false;
            while (next_start != fragment_starts.end() && *next_start <= source->dts) ++next_start;
        }
        if (auto ok = muxer->write(*source); !ok) return std::unexpected(ok.error());
        fragment_has_packets = true;
    }
    if (fragment_has_packets && (rc = av_write_frame(format, nullptr)) < 0)
        return core::av_fail("mp4 fragment", rc);
    rc = av_write_trailer(format);
    if (rc < 0) return core::av_fail("mp4 trailer", rc);
    muxer->flush();
    return out;
}

}  // namespace onair::packager
