#include "tools/remote_pipeline.hpp"

#include "core/log.hpp"
#include "tools/remote_anchor.hpp"

namespace onair::tools {
namespace {

// As in Channel: how far a first timestamp may be from the wall clock and
// still join a timeline the other pipeline started.
constexpr int64_t kAnchorTolerance = 10 * core::kMediaClock;

SegmentPusherOptions pusher_options(const core::ChannelConfig& config,
                                    const RemotePipelineOptions& o) {
    SegmentPusherOptions p;
    p.origin = o.origin;
    p.channel = config.channel;
    p.token = o.token;
    p.useful_ticks = core::micros_to_ticks(config.hls.window);
    p.queue_name = fmt::format("push.{}", o.pipeline);
    return p;
}

StatusPusherOptions status_options(const core::ChannelConfig& config,
                                   const RemotePipelineOptions& o) {
    StatusPusherOptions s;
    s.origin = o.origin;
    s.channel = config.channel;
    s.token = o.token;
    return s;
}

std::unique_ptr<core::TimeAnchor> make_anchor(const core::ChannelConfig& config,
                                              const RemotePipelineOptions& o) {
    // systemclock: each pipeline maps its own arrival times; nothing to share.
    if (config.timecode == core::TimecodeSource::systemclock)
        return std::make_unique<core::TimeAnchor>(kAnchorTolerance);
    return std::make_unique<RemoteTimeAnchor>(
        RemoteAnchorOptions{o.origin, config.channel, o.token}, kAnchorTolerance);
}

}  // namespace

core::Result<std::unique_ptr<RemotePipeline>> RemotePipeline::create(
    core::ChannelConfig config, RemotePipelineOptions options) {
    for (size_t i = 0; i < config.inputs.size(); ++i)
        if (config.inputs[i].id == options.pipeline)
            return std::make_unique<RemotePipeline>(std::move(config), std::move(options), i);
    return core::fail(fmt::format("{}: no input '{}' (inputs.{})", config.file, options.pipeline,
                                  options.pipeline));
}

RemotePipeline::RemotePipeline(core::ChannelConfig config, RemotePipelineOptions options,
                               size_t input)
    : config_(std::move(config)),
      input_(input),
      anchor_(make_anchor(config_, options)),
      pusher_(pusher_options(config_, options)),
      status_pusher_(status_options(config_, options), status_) {
    status_.id = options.pipeline;
    status_.input_description = config_.inputs[input_].input.describe();
    log::info("encode", "pipeline {}: {} -> {} (channel {})", options.pipeline,
              status_.input_description, options.origin.text(), config_.channel);
}

RemotePipeline::~RemotePipeline() {
    stop(std::chrono::milliseconds(0));
}

void RemotePipeline::start() {
    if (pipeline_) return;
    pusher_.start();
    status_pusher_.start();
    pipeline_ =
        std::make_unique<Pipeline>(config_, config_.inputs[input_], *anchor_, status_, pusher_);
    pipeline_->start();
}

void RemotePipeline::stop(std::chrono::milliseconds flush_grace) {
    if (pipeline_) pipeline_->stop();  // flushes the last segments into the pusher
    pipeline_.reset();
    pusher_.stop(flush_grace);
    status_pusher_.stop();
}

}  // namespace onair::tools
