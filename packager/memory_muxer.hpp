#pragma once
// A libavformat muxer that writes into memory: what the segment muxers
// (MPEG-TS, CMAF) share, written once — the output context and its custom
// I/O, the streams from a MuxInput's parameters, packets rescaled from media
// time (1/90000) to each stream's time base.
#include "core/libav.hpp"
#include "core/result.hpp"
#include "core/segment.hpp"
#include "packager/ts_muxer.hpp"

namespace onair::packager {

class MemoryMuxer {
  public:
    // `format`: a libavformat muxer name; output is appended to `*into`.
    [[nodiscard]] static core::Result<MemoryMuxer> open(const char* format, core::Bytes* into,
                                                        int buffer_size);
    AVFormatContext* format() { return format_.get(); }
    // Stream 0 the video of `input`, stream 1 its audio when it has some.
    // `video_extradata`: replaces the video parameters' extradata when not empty.
    [[nodiscard]] core::Result<> add_streams(const MuxInput& input,
                                             const core::Bytes& video_extradata = {});
    // Flushes what is buffered, and appends what comes next to `*into`.
    void redirect(core::Bytes* into);
    // A packet in media time (its stream_index 0 or 1); av_write_frame.
    [[nodiscard]] core::Result<> write(const AVPacket& source);
    void flush() { avio_flush(io_.get()); }

  private:
    core::CustomIoPtr io_;  // outlives the format context using it
    core::OutputFormatPtr format_;
    core::PacketPtr packet_ = core::make_packet();
};

}  // namespace onair::packager
