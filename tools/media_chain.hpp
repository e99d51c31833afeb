#pragma once
// The media work of one pipeline without its threads: a transcoder feeding
// one segmenter per rung, segments out to a sink, set up from the channel's
// config (input-loss fill, content checks). It owns the logs the two share
// (fill, health). Pipeline runs it on its thread with the wall clock; tests
// drive it with their own clock.
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/fill_log.hpp"
#include "core/health_log.hpp"
#include "core/media_event.hpp"
#include "core/media_time.hpp"
#include "core/segment.hpp"
#include "core/status.hpp"
#include "encoder/transcoder.hpp"
#include "packager/segmenter.hpp"

namespace onair::tools {

class MediaChain {
  public:
    static core::Result<std::unique_ptr<MediaChain>> create(const core::ChannelConfig& config,
                                                            char pipeline, core::MediaClock& clock,
                                                            core::PipelineStatus& status,
                                                            core::SegmentSink& sink);
    core::Result<> handle(core::MediaEvent& event, int64_t now) {
        return transcoder_->handle(event, now);
    }
    core::Result<> tick(int64_t now) { return transcoder_->tick(now); }
    // Drains the encoders and hands on the last segment of every rendition.
    core::Result<> finish();
    // UTC (ms) at which the last picture of `segment` entered the pipeline.
    int64_t input_utc_ms(const core::Segment& segment) const;

    MediaChain() = default;  // use create()

  private:
    core::FillLog fill_log_;
    core::HealthLog health_log_;
    std::vector<std::unique_ptr<packager::Segmenter>> segmenters_;
    std::unique_ptr<encoder::Transcoder> transcoder_;
};

}  // namespace onair::tools
