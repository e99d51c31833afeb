#include "tools/pipeline.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/log.hpp"

namespace onair::tools {
namespace {

constexpr int64_t kJumpTicks = 2 * core::kMediaClock;  // source timestamps leaving their lag
constexpr size_t kQueueCapacity = 1024;                // packets: ~10 s of a typical feed

encoder::TranscoderSettings transcoder_settings(const core::ChannelConfig& config) {
    return {config.ladder,
            config.encoder,
            config.audio,
            encoder::FillPolicy::from(config.input_loss),
            {config.failover.black, config.failover.freeze, config.failover.silence}};
}

}  // namespace

void SegmentCounter::on_segment(core::Segment segment) {
    if (status_.segments.fetch_add(1) == 0)
        log::info(component_, "first segment: {} #{} ({:.3f} s)", segment.rendition,
                  segment.sequence, segment.duration_seconds());
    status_.last_sequence = std::max(status_.last_sequence.load(), segment.sequence);
    next_.on_segment(std::move(segment));
}

Pipeline::Pipeline(const core::ChannelConfig& config, const core::PipelineInput& input,
                   core::TimeAnchor& anchor, core::PipelineRuntimeStatus& status,
                   core::SegmentSink& sink)
    : Pipeline(config, input.id, &input.input, anchor, status, sink) {}

core::Result<std::unique_ptr<Pipeline>> Pipeline::driven(const core::ChannelConfig& config, char id,
                                                         core::TimeAnchor& anchor,
                                                         core::PipelineRuntimeStatus& status,
                                                         core::SegmentSink& sink) {
    std::unique_ptr<Pipeline> p(new Pipeline(config, id, nullptr, anchor, status, sink));
    if (p->setup_error_) return std::unexpected(*p->setup_error_);
    return p;
}

// The whole pipeline, built from the sink back to the input:
//   input → queue → transcoder → segmenter per rung → counter → sink
Pipeline::Pipeline(const core::ChannelConfig& config, char id, const core::InputSpec* input,
                   core::TimeAnchor& anchor, core::PipelineRuntimeStatus& status,
                   core::SegmentSink& sink)
    : component_(fmt::format("pipeline.{}", id)),
      status_(status),
      // counter → sink
      counter_(sink, status.pipeline, component_),
      clock_(anchor, kJumpTicks),
      queue_(fmt::format("input.{}", id), kQueueCapacity,
             {.overflow = core::Overflow::block, .registry = status.queues}) {
    // segmenter per rung → counter: each cuts on the channel's media-time grid.
    const core::SegmentGrid grid{core::micros_to_ticks(config.hls.segment),
                                 core::micros_to_ticks(config.hls.part)};
    for (const auto& rung : config.ladder) {
        segmenters_.push_back(std::make_unique<packager::Segmenter>(
            packager::SegmenterSettings{rung.name, id, grid, config.hls.container}, counter_,
            fill_log_, health_log_, fmt::format("{}.{}", component_, rung.name)));
    }
    // transcoder → segmenters: each rung's video to its own, the audio to all.
    encoder::TranscoderOutput to_segmenters{
        [this](const encoder::EncodedVideo& v) {
            segmenters_[v.rung]->video(*v.packet, *v.params, v.fps, v.entered);
        },
        [this](AVPacket* packet, const AVCodecParameters& params) {
            for (auto& s : segmenters_) s->audio(*packet, params);
        }};
    auto transcoder =
        encoder::Transcoder::create(transcoder_settings(config), clock_, status.pipeline, fill_log_,
                                    health_log_, component_, std::move(to_segmenters));
    if (transcoder) {
        transcoder_ = std::move(*transcoder);
    } else {
        setup_error_ = transcoder.error();
        log::error(component_, "cannot start: {}", transcoder.error().message);
    }
    // input → queue → transcoder: the processing thread pops the queue (start()).
    if (input) input_ = ingest::make_input(*input, status.input, fmt::format("ingest.{}", id));
}

Pipeline::~Pipeline() {
    stop();
}

void Pipeline::start() {
    if (!input_ || worker_.joinable()) return;
    worker_ = std::jthread([this](std::stop_token stop) { process(stop); });
    input_->start(queue_);
}

void Pipeline::stop() {
    if (!worker_.joinable()) return;
    input_->stop();
    queue_.close();
    worker_.join();
}

core::Result<> Pipeline::finish() {
    auto flushed = transcoder_->flush();
    for (auto& s : segmenters_) s->flush();
    return flushed;
}

void Pipeline::process(std::stop_token) {
    if (!transcoder_) {
        // Keep draining so the input never blocks on a full queue.
        core::MediaEvent discarded;
        while (!queue_.closed_and_empty())
            queue_.pop_for(discarded, std::chrono::milliseconds(200));
        return;
    }
    int64_t errors = 0;
    auto report = [&](const core::Result<>& r) {
        if (!r && errors++ % 100 == 0)
            log::error(component_, "{} (errors so far: {})", r.error().message, errors);
    };
    core::MediaEvent event;
    while (!queue_.closed_and_empty()) {
        bool got = queue_.pop_for(event, std::chrono::milliseconds(50));
        int64_t now = core::utc_now_media();
        if (got) report(handle(event, now));
        report(tick(now));
    }
    report(finish());
    log::info(component_, "stopped after {} segments", status_.pipeline.segments.load());
}

}  // namespace onair::tools
