#include "media/thumbnail.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

extern "C" {
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
}

#include "core/durable.hpp"
#include "core/libav.hpp"
#include "core/log.hpp"
#include "media/decoder.hpp"

namespace onair::media {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kLog = "thumbnails";
constexpr int kNice = 10;        // as clip jobs: only what the live chain leaves
constexpr int kJpegQuality = 5;  // MJPEG qscale: 2 (best) .. 31

// The first picture the segment's video decodes to.
core::Result<core::FramePtr> first_picture(const core::Segment& segment) {
    if (!segment.bytes || segment.bytes->empty()) return core::fail("the segment has no bytes");
    std::vector<uint8_t> bytes;
    if (segment.init) bytes = segment.init->bytes;
    bytes.insert(bytes.end(), segment.bytes->begin(), segment.bytes->end());
    auto input = core::MemoryInput::open(std::move(bytes));
    if (!input) return std::unexpected(input.error());
    AVFormatContext* raw = avformat_alloc_context();
    if (!raw) return core::fail("out of memory");
    raw->pb = (*input)->io();
    raw->flags |= AVFMT_FLAG_CUSTOM_IO;
    int rc = avformat_open_input(&raw, nullptr, nullptr, nullptr);
    if (rc < 0) return core::av_fail("open the segment", rc);
    core::InputFormatPtr demuxer(raw);
    if ((rc = avformat_find_stream_info(demuxer.get(), nullptr)) < 0)
        return core::av_fail("read the segment's streams", rc);
    const int video = av_find_best_stream(demuxer.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (video < 0) return core::fail("the segment has no video");
    const AVStream* stream = demuxer->streams[video];
    auto decoder = open_decoder(*stream->codecpar, stream->time_base, CodecThreads{1});
    if (!decoder) return std::unexpected(decoder.error());
    auto packet = core::make_packet();
    auto frame = core::make_frame();
    bool draining = false;
    for (;;) {
        if (!draining) {
            rc = av_read_frame(demuxer.get(), packet.get());
            if (rc == AVERROR_EOF) {
                draining = true;
                avcodec_send_packet(decoder->get(), nullptr);
            } else if (rc < 0) {
                return core::av_fail("read the segment", rc);
            } else {
                if (packet->stream_index == video)
                    avcodec_send_packet(decoder->get(), packet.get());
                av_packet_unref(packet.get());
            }
        }
        rc = avcodec_receive_frame(decoder->get(), frame.get());
        if (rc == 0) return frame;
        if (rc == AVERROR_EOF) return core::fail("no picture decoded from the segment");
        if (rc != AVERROR(EAGAIN)) return core::av_fail("decode the segment", rc);
    }
}

}  // namespace

core::Result<core::Bytes> jpeg_thumbnail(const core::Segment& segment, int width) {
    auto picture = first_picture(segment);
    if (!picture) return std::unexpected(picture.error());
    const AVFrame& source = **picture;
    if (source.width <= 0 || source.height <= 0) return core::fail("a picture without a size");
    width = std::max(16, width & ~1);
    const int height = std::max(2, int(int64_t(width) * source.height / source.width) & ~1);

    const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (!codec) return core::fail("no JPEG encoder in this libavcodec");
    core::CodecContextPtr encoder(avcodec_alloc_context3(codec));
    if (!encoder) return core::fail("out of memory");
    encoder->width = width;
    encoder->height = height;
    // Full-range 4:2:0, as JPEG wants it, said with the range (the YUVJ
    // formats are deprecated: swscale warns on every context made with them).
    encoder->pix_fmt = AV_PIX_FMT_YUV420P;
    encoder->color_range = AVCOL_RANGE_JPEG;
    encoder->time_base = {1, 25};
    encoder->flags |= AV_CODEC_FLAG_QSCALE;
    encoder->thread_count = 1;
    int rc = avcodec_open2(encoder.get(), codec, nullptr);
    if (rc < 0) return core::av_fail("open the JPEG encoder", rc);

    auto scaled = core::make_frame();
    scaled->width = width;
    scaled->height = height;
    scaled->format = AV_PIX_FMT_YUV420P;
    scaled->color_range = AVCOL_RANGE_JPEG;
    if ((rc = av_frame_get_buffer(scaled.get(), 0)) < 0) return core::av_fail("picture", rc);
    core::SwsPtr scaler(sws_getContext(source.width, source.height, AVPixelFormat(source.format),
                                       width, height, AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr,
                                       nullptr, nullptr));
    if (!scaler) return core::fail("cannot scale the picture");
    const int* bt601 = sws_getCoefficients(SWS_CS_ITU601);
    sws_setColorspaceDetails(scaler.get(), bt601, source.color_range == AVCOL_RANGE_JPEG ? 1 : 0,
                             bt601, 1, 0, 1 << 16, 1 << 16);
    sws_scale(scaler.get(), source.data, source.linesize, 0, source.height, scaled->data,
              scaled->linesize);
    scaled->quality = FF_QP2LAMBDA * kJpegQuality;
    scaled->pts = 0;
    if ((rc = avcodec_send_frame(encoder.get(), scaled.get())) < 0)
        return core::av_fail("encode the thumbnail", rc);
    avcodec_send_frame(encoder.get(), nullptr);
    auto packet = core::make_packet();
    if ((rc = avcodec_receive_packet(encoder.get(), packet.get())) < 0)
        return core::av_fail("encode the thumbnail", rc);
    return core::Bytes(packet->data, packet->data + packet->size);
}

Thumbnailer::Thumbnailer(Options options)
    : options_(std::move(options)),
      queue_("thumbnails", 8,
             {.overflow = core::Overflow::drop_oldest, .registry = options_.queues}) {
    std::error_code ec;
    fs::create_directories(options_.folder, ec);
    if (ec) log::warn(kLog, "cannot create {}: {}", options_.folder.string(), ec.message());
    worker_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

Thumbnailer::~Thumbnailer() {
    queue_.close();
    worker_.request_stop();
}

void Thumbnailer::add(std::shared_ptr<const core::Segment> segment) {
    queue_.push(std::move(segment));
}

void Thumbnailer::run(std::stop_token stop) {
    if (::setpriority(PRIO_PROCESS, ::gettid(), kNice) != 0)
        log::warn(kLog, "cannot lower the thumbnail thread's priority: {}", std::strerror(errno));
    while (auto segment = queue_.pop(stop)) {
        auto jpeg = jpeg_thumbnail(**segment, options_.width);
        if (!jpeg) {
            if (failed_++ % 100 == 0)
                log::warn(kLog, "segment {}: {} (failed so far: {})", (*segment)->sequence,
                          jpeg.error().message, failed_.load());
            continue;
        }
        const auto file = options_.folder / fmt::format("{}.jpg", (*segment)->sequence);
        const auto partial = fs::path(file).concat(".partial");
        if (!core::write_file(partial, *jpeg)) {
            ++failed_;  // a full disk: the DVR says so; a missing thumbnail is a blank tile
            continue;
        }
        std::error_code ec;
        fs::rename(partial, file, ec);  // whole or not at all, under its name
        if (ec) {
            ++failed_;
            fs::remove(partial, ec);
            continue;
        }
        ++made_;
    }
}

}  // namespace onair::media
