#pragma once
// libx264 set up for one rung of the ladder: the one place that knows how
// onair encodes H.264. The live encoder (encoder/video_ladder) and the clip
// cutter's re-encodes (packager/clip_media) open x264 here with the same
// rung, encoder config and frame rate, so they write the same SPS/PPS and
// the same GOPs; what only the clip path needs is an explicit X264Variant.
// Callable from any thread; the context belongs to the caller.
#include <chrono>
#include <optional>

#include "core/config.hpp"
#include "core/libav.hpp"
#include "core/result.hpp"
#include "core/units.hpp"
#include "media/decoder.hpp"

namespace onair::media {

// Frames in one GOP of `gop` (media time) at `fps`: the nearest whole
// number, at least 1. IDRs are forced on media-time GOP boundaries; this
// only keeps x264 from adding its own in between.
int gop_frames(std::chrono::microseconds gop, core::Rational fps);

// The pictures an encoder is given: size, pixel format, aspect and colour.
struct PictureFormat {
    int width = 0;
    int height = 0;
    AVPixelFormat format = AV_PIX_FMT_YUV420P;
    AVRational sample_aspect{1, 1};
    AVColorRange color_range = AVCOL_RANGE_UNSPECIFIED;
    AVColorSpace colorspace = AVCOL_SPC_UNSPECIFIED;
    AVColorPrimaries color_primaries = AVCOL_PRI_UNSPECIFIED;
    AVColorTransferCharacteristic color_trc = AVCOL_TRC_UNSPECIFIED;

    // What the ladder graph makes of `source` for `rung`: the rung's size,
    // yuv420p, square pixels, the source's colour.
    static PictureFormat for_rung(const core::Rung& rung, const AVFrame& source);
    // `frame` as it is (a missing aspect taken as square).
    static PictureFormat of(const AVFrame& frame);
};

// Where a user of x264 departs from the live encoder; the defaults are the
// live encoder's.
struct X264Variant {
    CodecThreads threads;        // live: x264's own frame threads
    bool global_header = false;  // the SPS/PPS in the extradata, before any frame
    std::optional<int> sps_id;   // x264's own (0) when absent
    int min_gop_frames = 1;      // no key frame of x264's own before this many frames
};

// libx264 for `rung` (bitrate, VBV, profile) with `encoder`'s preset and
// GOP, one frame per tick of its time base 1/`fps`, scene cuts off (IDRs
// come from the caller, forced by media time).
[[nodiscard]] core::Result<core::CodecContextPtr> open_x264(const core::Rung& rung,
                                                            const core::EncoderConfig& encoder,
                                                            core::Rational fps,
                                                            const PictureFormat& picture,
                                                            const X264Variant& variant = {});

}  // namespace onair::media
