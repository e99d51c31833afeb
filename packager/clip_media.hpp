#pragma once
// The media of Live-to-VOD clips: core::ClipCutter over libavformat, libavcodec
// and libx264. MPEG-TS segments of one rendition in (as the DVR recorded
// them: each starts with an IDR, AAC audio, media time wrapped to 33 bits),
// an MP4 or trimmed MPEG-TS segments out. Each file gets its own demuxer and
// its timestamps are unwrapped near the segment's recorded start. (One
// demuxer over the concatenation was measured barely faster, 18 against
// 21 ms for 30 segments of 720p, and would blur which file is damaged; only
// files whose stream parameters are needed are probed: probing all 30 costs
// 240 ms.)
//
// Segment accuracy (no cut): packets are copied, nothing is decoded. MP4
// timestamps start at 0 and run on without gaps: each segment is placed
// where the previous one ended, so a hole or an overlap in the recording
// becomes a seamless join (audio and video keep their sync within a segment).
//
// Frame accuracy: a segment is a run of GOPs, each an IDR and what follows.
// A GOP whose frames all lie in [start, end) is copied, one with none is
// dropped, and one with some (the GOP holding `start`, the one holding the
// last frame before `end`) is decoded and its frames in the cut re-encoded
// with libx264 like the live rung (size of the recording, bitrate, VBV,
// profile, preset, the first frame an IDR). A start or end on an IDR
// re-encodes nothing. AAC frames that overlap [start, end) are kept, so
// audio reaches at most one AAC frame past either bound.
//
// Trade-off, copied and re-encoded GOPs in one stream: x264 is opened by the
// live encoder's own code (media/x264: preset, profile, time base of one
// frame, rate control, GOP), which makes it write the recording's SPS/PPS
// byte for byte. Each re-encode first opens x264 with a global header to
// see its parameter sets; when they match, its IDR carries those very sets
// in-band, the stream keeps one SPS/PPS and the MP4 one plain avc1 entry any
// player takes. When they differ (another x264, a rung changed since the
// recording), the re-encode is opened again under SPS/PPS ids the recording
// does not use, carries them in-band and the avcC lists them beside the
// recording's: decoders pick a set by id per slice and no id ever has two
// meanings (players that keep only the first SPS they see may still stumble
// on this fallback). Costs: the boundary GOPs are encoded before the MP4's
// header is written and their packets held in memory (at most two GOPs); the
// fallback opens x264 twice.
//
// Threads: an instance holds no state; calls may run on several threads at
// once, each running its codecs on the calling thread.
#include <memory>

#include "core/clip_cutter.hpp"

namespace onair::packager {

class LibavClipMedia final : public core::ClipCutter {
  public:
    [[nodiscard]] core::Result<> write_mp4(const std::vector<core::ClipSegmentFile>& segments,
                                           const std::optional<core::ClipCut>& cut,
                                           const core::Rung& rung,
                                           const core::EncoderConfig& encoder,
                                           const std::filesystem::path& out) override;
    // Segments wholly inside the cut come back as given; the ones the cut
    // crosses are written to folder/SEQ.ts (created if need be) with their
    // original media time, start and duration those of the frames kept.
    [[nodiscard]] core::Result<std::vector<core::ClipSegmentFile>> trim_segments(
        const std::vector<core::ClipSegmentFile>& segments, const core::ClipCut& cut,
        const core::Rung& rung, const core::EncoderConfig& encoder,
        const std::filesystem::path& folder) override;
};

std::unique_ptr<core::ClipCutter> make_clip_media();

}  // namespace onair::packager
