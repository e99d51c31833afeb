#pragma once
// One pipeline (A or B) of a channel: its input's thread, a bounded queue,
// and its own processing thread that runs the transcoder and one segmenter
// per rung, handing finished segments to the sink. Pipelines share nothing
// but the time anchor and the sink, so one failing never stalls the other.
// Start and stop from one thread (the channel's); stop() flushes the last
// segment of every rendition.
#include <memory>
#include <stop_token>
#include <thread>

#include "core/bounded_queue.hpp"
#include "core/config.hpp"
#include "core/media_event.hpp"
#include "core/media_time.hpp"
#include "core/segment.hpp"
#include "core/status.hpp"
#include "ingest/input.hpp"

namespace onair::tools {

class Pipeline {
  public:
    Pipeline(const core::ChannelConfig& config, const core::PipelineInput& input,
             core::TimeAnchor& anchor, core::PipelineRuntimeStatus& status,
             core::SegmentSink& sink);
    ~Pipeline();
    // Consumer first, then the producer.
    void start();
    // Producer first; the consumer drains what is queued, flushes and ends.
    void stop();

  private:
    void process(std::stop_token stop);

    const core::ChannelConfig& config_;
    char id_;
    std::string component_;
    core::PipelineRuntimeStatus& status_;
    core::SegmentSink& sink_;
    core::MediaClock clock_;
    core::BoundedQueue<core::MediaEvent> queue_;
    std::unique_ptr<ingest::Input> input_;
    std::jthread worker_;
};

}  // namespace onair::tools
