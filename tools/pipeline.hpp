#pragma once
// One pipeline (A or B) of a channel, and the one place that knows its whole
// shape. Its data flows
//
//   input ──► queue ──► transcoder ──────────────► segmenter ──► counter ──► sink
//   (ingest   (events)  decode, media time,        one per rung:  status     the store, or
//    thread)            ladder (filters, x264),    cut, mux,      counters   a pusher to it
//                       AAC, input-loss fill,      stamp PDT and
//                       content checks             input time
//
// The constructor builds it from the sink back, so each stage is handed the
// next one when it is made; every stage hands forward all the next one needs
// (a video packet carries when its picture entered the pipeline) and none
// calls back into an earlier one. start() starts consumers first (the
// processing thread, then the input); stop() stops in reverse and hands the
// last segment of every rendition to the sink before it returns. Pipelines
// share nothing but the time anchor and the sink, so one failing never
// stalls the other. start() and stop() from one thread (the channel's).
// Without an input (driven()), no thread runs and the caller feeds handle(),
// tick() and finish() on its own clock (the tests).
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "core/bounded_queue.hpp"
#include "core/config.hpp"
#include "core/fill_log.hpp"
#include "core/health_log.hpp"
#include "core/media_event.hpp"
#include "core/media_time.hpp"
#include "core/result.hpp"
#include "core/segment.hpp"
#include "core/status.hpp"
#include "encoder/transcoder.hpp"
#include "ingest/input.hpp"
#include "packager/segmenter.hpp"

namespace onair::tools {

// The last stage before the sink: counts the segments a pipeline hands on
// (PipelineStatus), logs the first, and passes each on unchanged. Called on
// the pipeline's thread; the sink it feeds is not owned.
class SegmentCounter final : public core::SegmentSink {
  public:
    SegmentCounter(core::SegmentSink& next, core::PipelineStatus& status, std::string component)
        : next_(next), status_(status), component_(std::move(component)) {}
    void on_segment(core::Segment segment) override;
    void on_part(core::Part part) override { next_.on_part(std::move(part)); }

  private:
    core::SegmentSink& next_;
    core::PipelineStatus& status_;
    std::string component_;
};

class Pipeline {
  public:
    // The pipeline of `input`, its segments to `sink`. A media chain that
    // cannot be set up is logged; the pipeline then drains its input
    // (never blocking it) and makes nothing.
    Pipeline(const core::ChannelConfig& config, const core::PipelineInput& input,
             core::TimeAnchor& anchor, core::PipelineRuntimeStatus& status,
             core::SegmentSink& sink);
    // The same chain without an input or thread, for a caller that drives it.
    static core::Result<std::unique_ptr<Pipeline>> driven(const core::ChannelConfig& config,
                                                          char id, core::TimeAnchor& anchor,
                                                          core::PipelineRuntimeStatus& status,
                                                          core::SegmentSink& sink);
    ~Pipeline();
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    // Consumer first, then the producer.
    void start();
    // Producer first; the consumer drains what is queued, flushes and ends.
    void stop();

    // The processing thread's steps; the caller's when driven().
    // An event from the input; `now` is UTC media time at its arrival.
    core::Result<> handle(core::MediaEvent& event, int64_t now) {
        return transcoder_->handle(event, now);
    }
    // Regularly (~every 50-100 ms), input or not: keeps output going on loss.
    core::Result<> tick(int64_t now) { return transcoder_->tick(now); }
    // Drains the encoders and hands on the last segment of every rendition.
    core::Result<> finish();

  private:
    Pipeline(const core::ChannelConfig& config, char id, const core::InputSpec* input,
             core::TimeAnchor& anchor, core::PipelineRuntimeStatus& status,
             core::SegmentSink& sink);
    void process(std::stop_token stop);

    std::string component_;
    core::PipelineRuntimeStatus& status_;
    std::optional<core::Error> setup_error_;  // why there is no transcoder
    // The stages, from the sink back: each is made before, and destroyed
    // after, the one that feeds it.
    SegmentCounter counter_;
    core::FillLog fill_log_;      // input-loss fill: the transcoder writes, segmenters read
    core::HealthLog health_log_;  // failing content checks: likewise
    std::vector<std::unique_ptr<packager::Segmenter>> segmenters_;  // ladder order
    core::MediaClock clock_;
    std::unique_ptr<encoder::Transcoder> transcoder_;  // null: setup_error_
    core::BoundedQueue<core::MediaEvent> queue_;
    std::unique_ptr<ingest::Input> input_;  // null: driven by the caller
    std::jthread worker_;
};

}  // namespace onair::tools
