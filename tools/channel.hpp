#pragma once
// A whole channel in one process: the origin's store and HTTP server, and one
// pipeline per input, all from one validated config. Logs every switch
// between pipelines. Starts consumers before
// producers (store, server, then pipelines) and stops in reverse, so the last
// segments of a run still reach the store before the server goes.
// start() and stop() are called from the main thread.
#include <memory>
#include <stop_token>
#include <thread>
#include <vector>

#include "core/config.hpp"
#include "core/media_time.hpp"
#include "core/result.hpp"
#include "core/status.hpp"
#include "origin/http_server.hpp"
#include "origin/routes.hpp"
#include "origin/segment_store.hpp"
#include "tools/pipeline.hpp"

namespace onair::tools {

class Channel {
  public:
    explicit Channel(core::ChannelConfig config);
    ~Channel();
    [[nodiscard]] core::Result<> start();
    void stop();
    uint16_t http_port() const { return server_.port(); }

  private:
    void on_switch(const origin::SwitchEvent& event);

    core::ChannelConfig config_;
    core::ChannelStatus status_;
    core::TimeAnchor shared_anchor_;
    std::vector<std::unique_ptr<core::TimeAnchor>> own_anchors_;  // timecode: systemclock
    origin::SegmentStore store_;
    origin::Routes routes_;
    origin::HttpServer server_;
    std::vector<std::unique_ptr<Pipeline>> pipelines_;
    std::jthread ticker_;  // publishes on deadlines while no segment or player comes
};

}  // namespace onair::tools
