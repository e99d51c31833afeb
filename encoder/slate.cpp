#include "encoder/slate.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

extern "C" {
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
}

namespace onair::encoder {
namespace {

// libswscale wants the plain YUV format and the range said apart; the yuvj
// formats (JPEG decoders, some cameras) are the same planes at full range.
AVPixelFormat plain_format(AVPixelFormat format, bool& full_range) {
    switch (format) {
        case AV_PIX_FMT_YUVJ420P:
            full_range = true;
            return AV_PIX_FMT_YUV420P;
        case AV_PIX_FMT_YUVJ422P:
            full_range = true;
            return AV_PIX_FMT_YUV422P;
        case AV_PIX_FMT_YUVJ444P:
            full_range = true;
            return AV_PIX_FMT_YUV444P;
        case AV_PIX_FMT_YUVJ440P:
            full_range = true;
            return AV_PIX_FMT_YUV440P;
        case AV_PIX_FMT_YUVJ411P:
            full_range = true;
            return AV_PIX_FMT_YUV411P;
        default:
            return format;
    }
}

// The YUV matrix to draw with: the source's own, else the one a player
// assumes for unsigned video (BT.709 from 720 lines up, BT.601 below).
int yuv_matrix(const AVFrame& like) {
    switch (like.colorspace) {
        case AVCOL_SPC_BT709:
        case AVCOL_SPC_FCC:
        case AVCOL_SPC_BT470BG:
        case AVCOL_SPC_SMPTE170M:
        case AVCOL_SPC_SMPTE240M:
        case AVCOL_SPC_BT2020_NCL:
        case AVCOL_SPC_BT2020_CL:
            return like.colorspace;
        default:
            return like.height >= 720 ? SWS_CS_ITU709 : SWS_CS_ITU601;
    }
}

int round_down_to(int value, int step) {
    return value / step * step;
}

}  // namespace

core::Result<Slate> Slate::load(const std::string& path) {
    core::Options options;
    options.set("format_whitelist", "image2,png_pipe,jpeg_pipe");  // a still picture, nothing else
    options.set("protocol_whitelist", "file");
    options.set("pattern_type", "none");  // image2: a '%' in the name is just a '%'
    AVFormatContext* raw = nullptr;
    int rc = avformat_open_input(&raw, path.c_str(), nullptr, options.address());
    if (rc < 0) return core::av_fail("open", rc);
    core::InputFormatPtr input(raw);
    rc = avformat_find_stream_info(input.get(), nullptr);
    if (rc < 0) return core::av_fail("read", rc);
    const AVCodec* codec = nullptr;
    int stream = av_find_best_stream(input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (stream < 0) return core::av_fail("find a picture", stream);
    core::CodecContextPtr decoder(avcodec_alloc_context3(codec));
    if (!decoder) return core::fail("out of memory");
    rc = avcodec_parameters_to_context(decoder.get(), input->streams[stream]->codecpar);
    if (rc < 0) return core::av_fail("decoder parameters", rc);
    rc = avcodec_open2(decoder.get(), codec, nullptr);
    if (rc < 0) return core::av_fail(fmt::format("open {} decoder", codec->name), rc);

    auto packet = core::make_packet();
    auto frame = core::make_frame();
    int read = 0;
    while (read >= 0) {
        read = av_read_frame(input.get(), packet.get());
        if (read >= 0 && packet->stream_index != stream) {
            av_packet_unref(packet.get());
            continue;
        }
        // At the end (read < 0) a null packet drains the decoder.
        rc = avcodec_send_packet(decoder.get(), read >= 0 ? packet.get() : nullptr);
        av_packet_unref(packet.get());
        if (rc < 0 && rc != AVERROR_EOF) return core::av_fail("decode", rc);
        rc = avcodec_receive_frame(decoder.get(), frame.get());
        if (rc == 0) break;
        if (rc != AVERROR(EAGAIN) && rc != AVERROR_EOF) return core::av_fail("decode", rc);
    }
    if (rc != 0) return core::fail("decode: no picture in the file");
    if (frame->width <= 0 || frame->height <= 0) return core::fail("decode: an empty picture");
    return Slate(std::move(frame));
}

core::Result<AVFrame*> Slate::picture_like(const AVFrame& like) {
    if (!shaped_ || shaped_->width != like.width || shaped_->height != like.height ||
        shaped_->format != like.format ||
        av_cmp_q(shaped_->sample_aspect_ratio, like.sample_aspect_ratio) != 0 ||
        shaped_->color_range != like.color_range || shaped_->colorspace != like.colorspace) {
        auto shaped = shape_like(like);
        if (!shaped) return std::unexpected(shaped.error());
        shaped_ = std::move(*shaped);
    }
    return shaped_.get();
}

core::Result<core::FramePtr> Slate::shape_like(const AVFrame& like) const {
    const auto format = AVPixelFormat(like.format);
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
    bool dst_full = like.color_range == AVCOL_RANGE_JPEG;
    const AVPixelFormat dst_format = plain_format(format, dst_full);
    if (!desc || (desc->flags & (AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_PAL)) ||
        !sws_isSupportedOutput(dst_format))
        return core::fail(
            fmt::format("cannot draw a slate in pixel format {}", desc ? desc->name : "unknown"));

    auto out = core::make_picture_like(like);
    if (!out) return core::fail("out of memory for the slate picture");
    ptrdiff_t linesizes[4];
    for (int i = 0; i < 4; ++i) linesizes[i] = out->linesize[i];
    int rc = av_image_fill_black(out->data, linesizes, format, like.color_range, like.width,
                                 like.height);
    if (rc < 0) return core::av_fail("slate background", rc);

    // Fit the slate's display aspect inside the picture's, on chroma-aligned
    // pixels so the bars are clean in every plane.
    const int step_x = 1 << desc->log2_chroma_w, step_y = 1 << desc->log2_chroma_h;
    auto sar = [](AVRational r) { return r.num > 0 && r.den > 0 ? av_q2d(r) : 1.0; };
    const double slate_aspect = image_->width * sar(image_->sample_aspect_ratio) / image_->height;
    const double picture_sar = sar(like.sample_aspect_ratio);
    int w = like.width, h = like.height;
    if (slate_aspect > like.width * picture_sar / like.height) {
        h = int(std::lround(like.width * picture_sar / slate_aspect));
    } else {
        w = int(std::lround(like.height * slate_aspect / picture_sar));
    }
    w = std::clamp(round_down_to(w + step_x / 2, step_x), step_x, like.width);
    h = std::clamp(round_down_to(h + step_y / 2, step_y), step_y, like.height);
    const int x = round_down_to((like.width - w) / 2, step_x);
    const int y = round_down_to((like.height - h) / 2, step_y);

    bool src_full = image_->color_range == AVCOL_RANGE_JPEG;
    const AVPixelFormat src_format = plain_format(AVPixelFormat(image_->format), src_full);
    core::SwsPtr scaler(sws_getContext(image_->width, image_->height, src_format, w, h, dst_format,
                                       SWS_BICUBIC, nullptr, nullptr, nullptr));
    if (!scaler)
        return core::fail(fmt::format("cannot scale the slate from {} to {}",
                                      av_get_pix_fmt_name(src_format), desc->name));
    const int* src_matrix =
        sws_getCoefficients(image_->colorspace == AVCOL_SPC_BT709 ? SWS_CS_ITU709 : SWS_CS_DEFAULT);
    sws_setColorspaceDetails(scaler.get(), src_matrix, src_full,
                             sws_getCoefficients(yuv_matrix(like)), dst_full, 0, 1 << 16, 1 << 16);

    uint8_t* dst[4] = {};
    for (int p = 0; p < 4 && out->data[p]; ++p) {
        const int rows = (p == 1 || p == 2) ? y >> desc->log2_chroma_h : y;
        const int bytes = av_image_get_linesize(format, x, p);
        if (bytes < 0) return core::av_fail("slate layout", bytes);
        dst[p] = out->data[p] + ptrdiff_t(rows) * out->linesize[p] + bytes;
    }
    rc = sws_scale(scaler.get(), image_->data, image_->linesize, 0, image_->height, dst,
                   out->linesize);
    if (rc < 0) return core::av_fail("scale the slate", rc);
    return out;
}

}  // namespace onair::encoder
