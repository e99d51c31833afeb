#pragma once
// RAII owners for every libav object onair holds, and the conversion of
// libav's negative error codes into core::Error. All owners are move-only.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/dict.h>
#include <libavutil/frame.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

#include "core/media_time.hpp"
#include "core/result.hpp"

namespace onair::core {

// Media time (core/media_time.hpp) as a libav time base: what packets and
// frames carry between the stages of a pipeline and in a clip's re-encodes.
inline constexpr AVRational kMediaTimeBase{1, int(kMediaClock)};

struct FrameDeleter {
    void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketDeleter {
    void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct CodecContextDeleter {
    void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct CodecParametersDeleter {
    void operator()(AVCodecParameters* p) const { avcodec_parameters_free(&p); }
};
struct InputFormatDeleter {
    void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
struct OutputFormatDeleter {
    void operator()(AVFormatContext* f) const { avformat_free_context(f); }
};
struct FilterGraphDeleter {
    void operator()(AVFilterGraph* g) const { avfilter_graph_free(&g); }
};
struct DictionaryDeleter {
    void operator()(AVDictionary* d) const { av_dict_free(&d); }
};
struct AudioFifoDeleter {
    void operator()(AVAudioFifo* f) const { av_audio_fifo_free(f); }
};
struct SwrDeleter {
    void operator()(SwrContext* s) const { swr_free(&s); }
};
struct SwsDeleter {
    void operator()(SwsContext* s) const { sws_freeContext(s); }
};
struct BsfDeleter {
    void operator()(AVBSFContext* c) const { av_bsf_free(&c); }
};
// An AVIOContext made with avio_alloc_context: frees its buffer, then itself.
struct CustomIoDeleter {
    void operator()(AVIOContext* io) const {
        if (io) av_freep(&io->buffer);
        avio_context_free(&io);
    }
};
// An AVIOContext opened with avio_open2 on a protocol.
struct ProtocolIoDeleter {
    void operator()(AVIOContext* io) const { avio_closep(&io); }
};

using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using CodecParametersPtr = std::unique_ptr<AVCodecParameters, CodecParametersDeleter>;
using InputFormatPtr = std::unique_ptr<AVFormatContext, InputFormatDeleter>;
using OutputFormatPtr = std::unique_ptr<AVFormatContext, OutputFormatDeleter>;
using FilterGraphPtr = std::unique_ptr<AVFilterGraph, FilterGraphDeleter>;
using AudioFifoPtr = std::unique_ptr<AVAudioFifo, AudioFifoDeleter>;
using SwrPtr = std::unique_ptr<SwrContext, SwrDeleter>;
using SwsPtr = std::unique_ptr<SwsContext, SwsDeleter>;
using CustomIoPtr = std::unique_ptr<AVIOContext, CustomIoDeleter>;
using BsfPtr = std::unique_ptr<AVBSFContext, BsfDeleter>;
using ProtocolIoPtr = std::unique_ptr<AVIOContext, ProtocolIoDeleter>;

// A dictionary of libav options; owns the AVDictionary.
class Options {
  public:
    Options() = default;
    Options(Options&& other) noexcept : dict_(other.dict_) { other.dict_ = nullptr; }
    Options& operator=(Options&& other) noexcept {
        std::swap(dict_, other.dict_);
        return *this;
    }
    Options(const Options&) = delete;
    Options& operator=(const Options&) = delete;
    ~Options() { av_dict_free(&dict_); }

    Options& set(const char* key, const std::string& value) {
        av_dict_set(&dict_, key, value.c_str(), 0);
        return *this;
    }
    Options& set(const char* key, int64_t value) {
        av_dict_set_int(&dict_, key, value, 0);
        return *this;
    }
    AVDictionary** address() { return &dict_; }
    AVDictionary* get() const { return dict_; }
    // Keys libav did not consume, comma separated ("" if none).
    std::string leftover_keys() const;

  private:
    AVDictionary* dict_ = nullptr;
};

// Bytes in memory as a libav input (read and seek), for a demuxer opened
// with `pb = io()`. Must outlive the demuxer reading it; not movable.
class MemoryInput {
  public:
    static Result<std::unique_ptr<MemoryInput>> open(std::vector<uint8_t> bytes);
    explicit MemoryInput(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
    MemoryInput(const MemoryInput&) = delete;
    MemoryInput& operator=(const MemoryInput&) = delete;
    AVIOContext* io() { return io_.get(); }

  private:
    static int read(void* opaque, uint8_t* out, int size);
    static int64_t seek(void* opaque, int64_t offset, int whence);
    std::vector<uint8_t> bytes_;
    size_t at_ = 0;
    CustomIoPtr io_;
};

FramePtr make_frame();
// A new picture with its own buffers, shaped like `like` (size, pixel format,
// aspect, colour properties); null when out of memory. Its pixels are unset.
FramePtr make_picture_like(const AVFrame& like);
PacketPtr make_packet();
CodecParametersPtr copy_parameters(const AVCodecParameters* source);

std::string av_error_text(int code);
// "what: libav's text" as an Error carrying the code.
std::unexpected<Error> av_fail(std::string_view what, int code);

}  // namespace onair::core
