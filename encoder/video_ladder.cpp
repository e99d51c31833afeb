#include "encoder/video_ladder.hpp"

#include <cstring>

#include <fmt/format.h>

extern "C" {
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

#include "core/log.hpp"
#include "media/x264.hpp"

namespace onair::encoder {

namespace {
using core::kMediaTimeBase;

// When a picture entered the pipeline rides on it through the filter graph as
// its opaque_ref: libavfilter copies a frame's properties to the frames it
// makes from it (deinterlaced, re-timed, scaled, split).
core::Result<> set_entered(AVFrame& frame, int64_t entered) {
    // A new buffer each time: the graph may still hold the previous one.
    av_buffer_unref(&frame.opaque_ref);
    frame.opaque_ref = av_buffer_alloc(sizeof entered);
    if (!frame.opaque_ref) return core::fail("out of memory");
    std::memcpy(frame.opaque_ref->data, &entered, sizeof entered);
    return {};
}

int64_t entered_of(const AVFrame& frame) {
    int64_t entered = core::kNoMediaTime;
    if (frame.opaque_ref && frame.opaque_ref->size == sizeof entered)
        std::memcpy(&entered, frame.opaque_ref->data, sizeof entered);
    return entered;
}

core::Rational usable_rate(AVRational r) {
    if (r.num > 0 && r.den > 0 && av_q2d(r) >= 1 && av_q2d(r) <= 240) return {r.num, r.den};
    return {25, 1};
}
}  // namespace

struct VideoLadder::RungEncoder {
    core::CodecContextPtr context;
    core::CodecParametersPtr params;
    core::Rational fps;
    int64_t last_pts = INT64_MIN;  // in the encoder's time base
    int64_t last_gop = INT64_MIN;
};

VideoLadder::VideoLadder(std::vector<core::Rung> rungs, core::EncoderConfig encoder,
                         std::string component, PacketSink sink, PictureAnalysis* analysis)
    : rungs_(std::move(rungs)),
      config_(std::move(encoder)),
      component_(std::move(component)),
      sink_(std::move(sink)),
      analysis_(analysis),
      gop_grid_{core::micros_to_ticks(config_.gop)},
      filtered_(core::make_frame()),
      packet_(core::make_packet()),
      entered_(rungs_.size()) {}

VideoLadder::~VideoLadder() = default;

core::Result<> VideoLadder::open_encoders(const AVFrame& first, AVRational source_rate) {
    for (const auto& rung : rungs_) {
        auto enc = std::make_unique<RungEncoder>();
        enc->fps = rung.fps ? *rung.fps : usable_rate(source_rate);
        auto context =
            media::open_x264(rung, config_, enc->fps, media::PictureFormat::for_rung(rung, first));
        if (!context) return std::unexpected(context.error());
        enc->context = std::move(*context);
        enc->params.reset(avcodec_parameters_alloc());
        if (!enc->params) return core::fail("out of memory");
        if (int rc = avcodec_parameters_from_context(enc->params.get(), enc->context.get()); rc < 0)
            return core::av_fail("x264 parameters", rc);
        log::info(component_, "rung {}: {}x{} {} fps, {} kb/s (max {}), {} {}, GOP {} frames",
                  rung.name, rung.width, rung.height, core::format_frame_rate(enc->fps),
                  rung.bitrate / 1000, rung.max_bitrate / 1000, config_.preset,
                  core::to_string(rung.profile), enc->context->gop_size);
        encoders_.push_back(std::move(enc));
    }
    return {};
}

core::Result<> VideoLadder::build_graph(const AVFrame& frame, const GraphKey& key) {
    graph_.reset(avfilter_graph_alloc());
    if (!graph_) return core::fail("out of memory");
    sinks_.clear();
    analysis_sink_ = nullptr;

    GraphSource source{frame.width,
                       frame.height,
                       {key.sar_num > 0 ? key.sar_num : 1, key.sar_den > 0 ? key.sar_den : 1},
                       key.interlaced};
    std::vector<GraphRung> graph_rungs;
    for (size_t i = 0; i < rungs_.size(); ++i)
        graph_rungs.push_back({rungs_[i].width, rungs_[i].height, encoders_[i]->fps});
    std::string description =
        ladder_filter_description(source, graph_rungs, analysis_ ? analysis_->filters() : "");

    std::string args = fmt::format("video_size={}x{}:pix_fmt={}:time_base=1/{}:pixel_aspect={}/{}",
                                   frame.width, frame.height, frame.format, core::kMediaClock,
                                   source.sample_aspect.num, source.sample_aspect.den);
    int rc = avfilter_graph_create_filter(&source_, avfilter_get_by_name("buffer"), "in",
                                          args.c_str(), nullptr, graph_.get());
    if (rc < 0) return core::av_fail("ladder graph source", rc);

    // Parse the description between our source and one sink per rung.
    AVFilterInOut* outputs = avfilter_inout_alloc();  // the source feeds the graph's [in]
    outputs->name = av_strdup("in");
    outputs->filter_ctx = source_;
    outputs->pad_idx = 0;
    outputs->next = nullptr;
    AVFilterInOut* inputs = nullptr;  // the graph's [outN] feed our sinks
    for (size_t i = rungs_.size(); i-- > 0;) {
        AVFilterContext* sink = nullptr;
        rc = avfilter_graph_create_filter(&sink, avfilter_get_by_name("buffersink"),
                                          fmt::format("sink{}", i).c_str(), nullptr, nullptr,
                                          graph_.get());
        if (rc < 0) {
            avfilter_inout_free(&outputs);
            avfilter_inout_free(&inputs);
            return core::av_fail("ladder graph sink", rc);
        }
        sinks_.insert(sinks_.begin(), sink);
        AVFilterInOut* in = avfilter_inout_alloc();
        in->name = av_strdup(fmt::format("out{}", i).c_str());
        in->filter_ctx = sink;
        in->pad_idx = 0;
        in->next = inputs;
        inputs = in;
    }
    if (analysis_) {
        rc = avfilter_graph_create_filter(&analysis_sink_, avfilter_get_by_name("buffersink"),
                                          "analysis", nullptr, nullptr, graph_.get());
        if (rc < 0) {
            avfilter_inout_free(&outputs);
            avfilter_inout_free(&inputs);
            return core::av_fail("ladder graph analysis sink", rc);
        }
        AVFilterInOut* in = avfilter_inout_alloc();
        in->name = av_strdup("analysis");
        in->filter_ctx = analysis_sink_;
        in->pad_idx = 0;
        in->next = inputs;
        inputs = in;
    }
    rc = avfilter_graph_parse_ptr(graph_.get(), description.c_str(), &inputs, &outputs, nullptr);
    avfilter_inout_free(&inputs);
    avfilter_inout_free(&outputs);
    if (rc < 0) return core::av_fail("ladder graph '" + description + "'", rc);
    rc = avfilter_graph_config(graph_.get(), nullptr);
    if (rc < 0) return core::av_fail("ladder graph config", rc);
    graph_key_ = key;
    if (analysis_) analysis_->restarted();
    log::info(component_, "filter graph for {}x{} {}{}: {}", frame.width, frame.height,
              av_get_pix_fmt_name(AVPixelFormat(frame.format)), key.interlaced ? " interlaced" : "",
              description);
    return {};
}

core::Result<> VideoLadder::push(AVFrame* frame, AVRational source_rate, int64_t entered) {
    if (auto ok = set_entered(*frame, entered); !ok) return ok;
    if (encoders_.empty()) {
        if (auto ok = open_encoders(*frame, source_rate); !ok) return ok;
    }
    GraphKey key{frame->width,
                 frame->height,
                 frame->format,
                 frame->sample_aspect_ratio.num,
                 frame->sample_aspect_ratio.den,
                 bool(frame->interlaced_frame) || (graph_key_ && graph_key_->interlaced)};
    if (!graph_key_ || !(*graph_key_ == key)) {
        if (auto ok = build_graph(*frame, key); !ok) return ok;
    }
    int rc = av_buffersrc_add_frame_flags(source_, frame, AV_BUFFERSRC_FLAG_KEEP_REF);
    if (rc < 0) return core::av_fail("ladder graph input", rc);
    return pull_frames();
}

core::Result<> VideoLadder::pull_frames() {
    // Analysis first: its verdict on a picture is in before that picture's
    // packets can close a segment.
    pull_analysis();
    for (size_t i = 0; i < sinks_.size(); ++i) {
        for (;;) {
            int rc = av_buffersink_get_frame(sinks_[i], filtered_.get());
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) break;
            if (rc < 0) return core::av_fail("ladder graph output", rc);
            filtered_->pts = av_rescale_q(filtered_->pts, av_buffersink_get_time_base(sinks_[i]),
                                          encoders_[i]->context->time_base);
            auto ok = encode(i, filtered_.get());
            av_frame_unref(filtered_.get());
            if (!ok) return ok;
        }
    }
    return {};
}

void VideoLadder::pull_analysis() {
    if (!analysis_sink_) return;
    const AVRational time_base = av_buffersink_get_time_base(analysis_sink_);
    for (;;) {
        int rc = av_buffersink_get_frame(analysis_sink_, filtered_.get());
        if (rc < 0) {
            // The checks never stop the pictures: a broken branch is dropped
            // and the next picture builds a graph without it.
            if (rc != AVERROR(EAGAIN) && rc != AVERROR_EOF) {
                log::error(component_, "picture checks stopped: analysis branch: {}",
                           core::av_error_text(rc));
                analysis_->restarted();
                analysis_ = nullptr;
                analysis_sink_ = nullptr;
                graph_key_.reset();
            }
            return;
        }
        analysis_->analysed(*filtered_, av_rescale_q(filtered_->pts, time_base, kMediaTimeBase));
        av_frame_unref(filtered_.get());
    }
}

core::Result<> VideoLadder::encode(size_t index, AVFrame* frame) {
    RungEncoder& enc = *encoders_[index];
    if (frame) {
        // Never feed x264 a timestamp twice (a graph rebuild may repeat one).
        if (frame->pts <= enc.last_pts) return {};
        enc.last_pts = frame->pts;
        int64_t media = av_rescale_q(frame->pts, enc.context->time_base, kMediaTimeBase);
        int64_t gop = gop_grid_.index_of(media);
        frame->pict_type = gop != enc.last_gop ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
        enc.last_gop = gop;
        entered_[index][frame->pts] = entered_of(*frame);  // x264 keeps a frame's pts
    }
    int rc = avcodec_send_frame(enc.context.get(), frame);
    if (rc < 0 && rc != AVERROR_EOF) return core::av_fail("x264", rc);
    for (;;) {
        rc = avcodec_receive_packet(enc.context.get(), packet_.get());
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) break;
        if (rc < 0) return core::av_fail("x264", rc);
        int64_t entered = core::kNoMediaTime;
        if (auto it = entered_[index].find(packet_->pts); it != entered_[index].end()) {
            entered = it->second;
            entered_[index].erase(it);
        }
        av_packet_rescale_ts(packet_.get(), enc.context->time_base, kMediaTimeBase);
        sink_(EncodedVideo{index, packet_.get(), enc.params.get(), enc.fps, entered});
        av_packet_unref(packet_.get());
    }
    return {};
}

core::Result<> VideoLadder::flush() {
    if (graph_) {
        int rc = av_buffersrc_add_frame_flags(source_, nullptr, 0);
        if (rc >= 0) {
            if (auto ok = pull_frames(); !ok) return ok;
        }
    }
    for (size_t i = 0; i < encoders_.size(); ++i) {
        if (auto ok = encode(i, nullptr); !ok) return ok;
    }
    return {};
}

}  // namespace onair::encoder
