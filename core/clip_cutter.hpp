#pragma once
// The cutter of Live-to-VOD clips: DVR segments and a cut in, an MP4 or
// frame-trimmed segments out. A small interface, so the origin's harvest
// jobs (origin/) can cut clips without depending on libav code
// (packager/clip_media implements it, tools/ wires it in).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "core/config.hpp"
#include "core/result.hpp"

namespace onair::core {

// One segment of a rendition, in order, as the DVR recorded it: MPEG-TS, or
// CMAF (an .m4s file and the init section it needs).
struct ClipSegmentFile {
    std::filesystem::path file;
    int64_t sequence = 0;
    int64_t start = 0;           // media time of its first frame (90 kHz since the epoch)
    int64_t duration = 0;        // ticks
    std::filesystem::path init;  // CMAF: its init section; MPEG-TS: empty
};

// Exact frame bounds: keep the frames whose media time is in [start, end),
// each bound taken half a millisecond early (times come in whole ms).
struct ClipCut {
    int64_t start = 0;
    int64_t end = 0;
};

// Calls may run on several threads at once (a job trims its renditions side
// by side); each runs its codecs on the calling thread.
class ClipCutter {
  public:
    virtual ~ClipCutter() = default;
    // An MP4 of `segments` (one rendition), moov at the front, audio and
    // video copied; with `cut`, exactly the frames of [start, end), the GOPs
    // at the two ends re-encoded like `rung` (the rest copied).
    [[nodiscard]] virtual Result<> write_mp4(const std::vector<ClipSegmentFile>& segments,
                                             const std::optional<ClipCut>& cut, const Rung& rung,
                                             const EncoderConfig& encoder,
                                             const std::filesystem::path& out) = 0;
    // Frame accuracy for the HLS asset: the first and the last segment cut to
    // `cut` (re-encoded like `rung`) and written into `folder` in their own
    // container (SEQ.ts, or SEQ.m4s beside the init-ID.mp4 it needs); the
    // segments of the clip come back in order, middle ones as given.
    [[nodiscard]] virtual Result<std::vector<ClipSegmentFile>> trim_segments(
        const std::vector<ClipSegmentFile>& segments, const ClipCut& cut, const Rung& rung,
        const EncoderConfig& encoder, const std::filesystem::path& folder) = 0;
};

}  // namespace onair::core
