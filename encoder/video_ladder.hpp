#pragma once
// The video side of a pipeline: one filter graph for the whole ladder
// (ladder_graph) and one libx264 encoder per rung. Frames in, stamped with
// media time (90 kHz); packets out per rung, stamped with media time too.
// Every rung gets an IDR on the first frame of every GOP, where GOPs are
// fixed intervals of media time counted from the epoch — so all rungs, and
// both pipelines, cut at the same frames without talking to each other.
// The graph is rebuilt when the source's picture format changes; encoders
// live for the whole run. With a PictureAnalysis, the graph also carries its
// analysis branch, whose frames are lent to it and dropped (never encoded).
// Used from the pipeline thread only.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/libav.hpp"
#include "core/media_time.hpp"
#include "core/result.hpp"
#include "encoder/ladder_graph.hpp"

namespace onair::encoder {

struct EncodedVideo {
    size_t rung;                      // index in the ladder
    AVPacket* packet;                 // pts/dts in media time (1/90000)
    const AVCodecParameters* params;  // the rung's encoder, for the muxer
    core::Rational fps;
    int64_t entered;  // UTC media time its picture entered the pipeline; kNoMediaTime: unknown
};

// Looks at the pictures of the ladder's analysis branch: the smallest rung
// as scaled (before any bars), in yuv420p, after filters() — detectors that
// leave their verdicts in the frames' metadata.
class PictureAnalysis {
  public:
    virtual ~PictureAnalysis() = default;
    // The filter chain to run, e.g. "blackdetect=d=0".
    virtual std::string filters() const = 0;
    // A new graph: the filters start afresh and know nothing of before.
    virtual void restarted() = 0;
    // One analysed picture (lent for the call), `media` its media time.
    virtual void analysed(const AVFrame& frame, int64_t media) = 0;
};

class VideoLadder {
  public:
    using PacketSink = std::function<void(const EncodedVideo&)>;

    // `analysis` (may be null: no analysis branch) must outlive the ladder.
    VideoLadder(std::vector<core::Rung> rungs, core::EncoderConfig encoder, std::string component,
                PacketSink sink, PictureAnalysis* analysis = nullptr);
    ~VideoLadder();
    VideoLadder(const VideoLadder&) = delete;
    VideoLadder& operator=(const VideoLadder&) = delete;

    // `frame->pts` is media time. `source_rate` is the input's frame rate
    // (0/1 when unknown): rungs without their own fps take it, once, on the
    // first frame. `entered` (UTC media time the picture entered the
    // pipeline) travels with the picture through the graph and the encoder
    // to the packets made from it (EncodedVideo::entered).
    core::Result<> push(AVFrame* frame, AVRational source_rate, int64_t entered);
    // Drains the graph and the encoders (end of the run).
    core::Result<> flush();

  private:
    struct RungEncoder;
    struct GraphKey {
        int width, height, format, sar_num, sar_den;
        bool interlaced;
        friend bool operator==(const GraphKey&, const GraphKey&) = default;
    };

    core::Result<> open_encoders(const AVFrame& first, AVRational source_rate);
    core::Result<> build_graph(const AVFrame& frame, const GraphKey& key);
    core::Result<> pull_frames();
    void pull_analysis();
    core::Result<> encode(size_t rung, AVFrame* frame);  // nullptr flushes

    std::vector<core::Rung> rungs_;
    core::EncoderConfig config_;
    std::string component_;
    PacketSink sink_;
    PictureAnalysis* analysis_;
    core::SegmentGrid gop_grid_;
    std::vector<std::unique_ptr<RungEncoder>> encoders_;
    core::FilterGraphPtr graph_;
    AVFilterContext* source_ = nullptr;
    std::vector<AVFilterContext*> sinks_;
    AVFilterContext* analysis_sink_ = nullptr;
    std::optional<GraphKey> graph_key_;
    core::FramePtr filtered_;
    core::PacketPtr packet_;
    // Per rung: encoder pts -> when its picture entered, until its packet is out.
    std::vector<std::map<int64_t, int64_t>> entered_;
};

}  // namespace onair::encoder
