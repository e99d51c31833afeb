#include "media/x264.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/media_time.hpp"

namespace onair::media {

int gop_frames(std::chrono::microseconds gop, core::Rational fps) {
    const double seconds = core::ticks_to_seconds(core::micros_to_ticks(gop));
    return std::max(1, int(std::lround(seconds * fps.value())));
}

PictureFormat PictureFormat::for_rung(const core::Rung& rung, const AVFrame& source) {
    PictureFormat p = of(source);
    p.width = rung.width;
    p.height = rung.height;
    p.format = AV_PIX_FMT_YUV420P;
    p.sample_aspect = AVRational{1, 1};
    return p;
}

PictureFormat PictureFormat::of(const AVFrame& frame) {
    return PictureFormat{
        .width = frame.width,
        .height = frame.height,
        .format = AVPixelFormat(frame.format),
        .sample_aspect =
            frame.sample_aspect_ratio.num ? frame.sample_aspect_ratio : AVRational{1, 1},
        .color_range = frame.color_range,
        .colorspace = frame.colorspace,
        .color_primaries = frame.color_primaries,
        .color_trc = frame.color_trc,
    };
}

core::Result<core::CodecContextPtr> open_x264(const core::Rung& rung,
                                              const core::EncoderConfig& encoder,
                                              core::Rational fps, const PictureFormat& picture,
                                              const X264Variant& variant) {
    const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
    if (!codec) return core::fail("this FFmpeg has no libx264 encoder");
    if (!fps.valid()) return core::fail(fmt::format("x264 for {}: no frame rate", rung.name));
    core::CodecContextPtr c(avcodec_alloc_context3(codec));
    if (!c) return core::fail("out of memory");
    c->width = picture.width;
    c->height = picture.height;
    c->pix_fmt = picture.format;
    c->sample_aspect_ratio = picture.sample_aspect;
    c->time_base = AVRational{fps.den, fps.num};
    c->framerate = AVRational{fps.num, fps.den};
    // VBV as the channel file defaults it: the cap is the bitrate, the
    // buffer twice the cap.
    const int64_t max_rate = rung.max_bitrate > 0 ? rung.max_bitrate : rung.bitrate;
    c->bit_rate = rung.bitrate;
    c->rc_max_rate = max_rate;
    c->rc_buffer_size =
        int(std::min<int64_t>(rung.bufsize > 0 ? rung.bufsize : 2 * max_rate, INT32_MAX));
    const int gop = gop_frames(encoder.gop, fps);
    c->gop_size = std::max(gop, variant.min_gop_frames);
    c->keyint_min = gop;
    c->thread_count = variant.threads.count;
    if (variant.global_header) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    c->color_range = picture.color_range;
    c->colorspace = picture.colorspace;
    c->color_primaries = picture.color_primaries;
    c->color_trc = picture.color_trc;
    core::Options options;
    options.set("preset", encoder.preset);
    options.set("profile", core::to_string(rung.profile));
    options.set("forced-idr", int64_t{1});
    if (encoder.low_latency) options.set("tune", "zerolatency");
    std::string params = "scenecut=0";
    if (variant.sps_id) params += fmt::format(":sps-id={}", *variant.sps_id);
    options.set("x264-params", params);
    int rc = avcodec_open2(c.get(), codec, options.address());
    if (rc < 0) return core::av_fail(fmt::format("open x264 for {}", rung.name), rc);
    return c;
}

}  // namespace onair::media
