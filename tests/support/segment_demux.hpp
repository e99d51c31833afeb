#pragma once
// Reads one MPEG-TS segment (or a CMAF init section and segment) back with libavformat's own
// demuxer and sums up what a test checks: sizes, profile/level, packet counts, the first video
// packet's key flag and timestamps. For unit tests that make segments in
// memory (no ffprobe process needed). Header-only; Catch2 test files only.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/libav.hpp"
#include "core/segment.hpp"

namespace onair::testing {

struct SegmentDemux {
    int width = 0, height = 0, profile = 0, level = 0;
    int video_packets = 0, audio_packets = 0;
    bool first_video_key = false;
    int64_t first_video_pts = AV_NOPTS_VALUE, first_audio_pts = AV_NOPTS_VALUE;
    int64_t earliest_video_pts = AV_NOPTS_VALUE;  // the first shown (B-frames: not the first sent)
};

// `init`: a CMAF segment's init section, read before it (null: MPEG-TS).
inline SegmentDemux demux_segment(const core::Bytes& bytes, const core::Bytes* init = nullptr) {
    // A file unique to this process: ctest runs test cases in parallel processes.
    static int count = 0;
    auto path = std::filesystem::temp_directory_path() /
                ("onair_segment." + std::to_string(getpid()) + "." + std::to_string(count++) +
                 (init ? ".mp4" : ".ts"));
    {
        std::ofstream out(path, std::ios::binary);
        if (init)
            out.write(reinterpret_cast<const char*>(init->data()), std::streamsize(init->size()));
        out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    }
    AVFormatContext* raw = nullptr;
    REQUIRE(avformat_open_input(&raw, path.c_str(), nullptr, nullptr) == 0);
    core::InputFormatPtr format(raw);
    REQUIRE(avformat_find_stream_info(format.get(), nullptr) >= 0);
    SegmentDemux d;
    auto packet = core::make_packet();
    auto in_90khz = [&](int64_t t) {
        return av_rescale_q(t, format->streams[packet->stream_index]->time_base, {1, 90000});
    };
    while (av_read_frame(format.get(), packet.get()) >= 0) {
        const AVCodecParameters* par = format->streams[packet->stream_index]->codecpar;
        if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
            d.width = par->width;
            d.height = par->height;
            d.profile = par->profile;
            d.level = par->level;
            if (d.earliest_video_pts == AV_NOPTS_VALUE ||
                in_90khz(packet->pts) < d.earliest_video_pts)
                d.earliest_video_pts = in_90khz(packet->pts);
            if (d.video_packets++ == 0) {
                d.first_video_key = packet->flags & AV_PKT_FLAG_KEY;
                d.first_video_pts = in_90khz(packet->pts);
            }
        } else if (par->codec_type == AVMEDIA_TYPE_AUDIO) {
            if (d.audio_packets++ == 0) d.first_audio_pts = in_90khz(packet->pts);
        }
        av_packet_unref(packet.get());
    }
    std::filesystem::remove(path);
    return d;
}

}  // namespace onair::testing
