#pragma once
// `onair encode`: one pipeline of a channel in its own process, pushing its
// segments and status to an origin over HTTP and sharing the origin's time
// anchor, the way a cloud encoder feeds a packager. The Pipeline is the one
// `onair run` uses; only its sink and anchor differ.
#include <memory>

#include "core/config.hpp"
#include "core/media_time.hpp"
#include "core/result.hpp"
#include "core/status.hpp"
#include "origin/http_client.hpp"
#include "tools/pipeline.hpp"
#include "tools/segment_pusher.hpp"
#include "tools/status_pusher.hpp"

namespace onair::tools {

struct RemotePipelineOptions {
    origin::HttpUrl origin;  // http://HOST:PORT of the origin
    char pipeline = 'a';     // which of the channel's inputs this process runs
    std::string token;       // the ingest token
};

// Starts consumers before producers (segment pusher, status pusher, then the
// pipeline) and stops in reverse: the pipeline flushes its last segments
// into the pusher, which gets `flush_grace` to deliver them. start() and
// stop() from the main thread. Owns the config and everything it starts.
class RemotePipeline {
  public:
    // Fails when the config has no input for options.pipeline.
    static core::Result<std::unique_ptr<RemotePipeline>> create(core::ChannelConfig config,
                                                                RemotePipelineOptions options);
    RemotePipeline(core::ChannelConfig config, RemotePipelineOptions options, size_t input);
    ~RemotePipeline();

    void start();
    void stop(std::chrono::milliseconds flush_grace = std::chrono::seconds(5));
    const SegmentPusher& pusher() const { return pusher_; }

  private:
    const core::ChannelConfig config_;
    const size_t input_;  // index into config_.inputs
    core::PipelineRuntimeStatus status_;
    std::unique_ptr<core::TimeAnchor> anchor_;
    SegmentPusher pusher_;
    StatusPusher status_pusher_;
    std::unique_ptr<Pipeline> pipeline_;
};

}  // namespace onair::tools
