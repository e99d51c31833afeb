#include "tools/pipeline.hpp"

#include <fmt/format.h>

#include "core/log.hpp"
#include "tools/media_chain.hpp"

namespace onair::tools {
namespace {

constexpr int64_t kJumpTicks = 2 * core::kMediaClock;  // source timestamps leaving their lag
constexpr size_t kQueueCapacity = 1024;                // packets: ~10 s of a typical feed

// Stamps each segment with when its last picture entered the pipeline,
// counts what the pipeline hands on, then passes it to the channel's sink.
// The time comes from the media chain, which remembers when each picture
// entered (exact per picture, unlike media time plus the clock's smoothed
// lag, which drifts from the truth by the input's jitter).
class CountingSink final : public core::SegmentSink {
  public:
    CountingSink(core::SegmentSink& next, core::PipelineStatus& status, std::string component)
        : next_(next), status_(status), component_(std::move(component)) {}
    // The chain is made after its sink; segments come only once it exists.
    void stamp_from(const MediaChain& chain) { chain_ = &chain; }
    void on_segment(core::Segment segment) override {
        if (chain_) segment.input_utc_ms = chain_->input_utc_ms(segment);
        if (status_.segments.fetch_add(1) == 0)
            log::info(component_, "first segment: {} #{} ({:.3f} s)", segment.rendition,
                      segment.sequence, segment.duration_seconds());
        status_.last_sequence = std::max(status_.last_sequence.load(), segment.sequence);
        next_.on_segment(std::move(segment));
    }

  private:
    core::SegmentSink& next_;
    core::PipelineStatus& status_;
    std::string component_;
    const MediaChain* chain_ = nullptr;
};

}  // namespace

Pipeline::Pipeline(const core::ChannelConfig& config, const core::PipelineInput& input,
                   core::TimeAnchor& anchor, core::PipelineRuntimeStatus& status,
                   core::SegmentSink& sink)
    : config_(config),
      id_(input.id),
      component_(fmt::format("pipeline.{}", input.id)),
      status_(status),
      sink_(sink),
      clock_(anchor, kJumpTicks),
      queue_(fmt::format("input.{}", input.id), kQueueCapacity,
             {.overflow = core::Overflow::block, .registry = status.queues}),
      input_(ingest::make_input(input.input, status.input, fmt::format("ingest.{}", input.id))) {}

Pipeline::~Pipeline() {
    stop();
}

void Pipeline::start() {
    worker_ = std::jthread([this](std::stop_token stop) { process(stop); });
    input_->start(queue_);
}

void Pipeline::stop() {
    if (!worker_.joinable()) return;
    input_->stop();
    queue_.close();
    worker_.join();
}

void Pipeline::process(std::stop_token) {
    CountingSink sink(sink_, status_.pipeline, component_);
    auto chain = MediaChain::create(config_, id_, clock_, status_.pipeline, sink);
    if (!chain) {
        log::error(component_, "cannot start: {}", chain.error().message);
        // Keep draining so the input never blocks on a full queue.
        core::MediaEvent discarded;
        while (!queue_.closed_and_empty())
            queue_.pop_for(discarded, std::chrono::milliseconds(200));
        return;
    }
    sink.stamp_from(**chain);
    int64_t errors = 0;
    auto report = [&](const core::Result<>& r) {
        if (!r && errors++ % 100 == 0)
            log::error(component_, "{} (errors so far: {})", r.error().message, errors);
    };
    core::MediaEvent event;
    while (!queue_.closed_and_empty()) {
        bool got = queue_.pop_for(event, std::chrono::milliseconds(50));
        int64_t now = core::utc_now_media();
        if (got) report((*chain)->handle(event, now));
        report((*chain)->tick(now));
    }
    report((*chain)->finish());
    log::info(component_, "stopped after {} segments", status_.pipeline.segments.load());
}

}  // namespace onair::tools
