#pragma once
// The built-in test signal (`testsrc:` inputs): a moving pattern with a
// burnt-in UTC clock and frame counter, and a 1 kHz tone, made by libavfilter
// (testsrc2, drawtext, sine) and paced to the wall clock like a live feed.
// Frames go to the pipeline raw, with no encode/decode round trip. If the
// pipeline falls behind, frames are dropped rather than queued, as on a wire.
#include <stop_token>
#include <thread>

#include "core/config.hpp"
#include "core/status.hpp"
#include "ingest/input.hpp"

namespace onair::ingest {

class TestSignal final : public Input {
  public:
    TestSignal(core::InputSpec spec, core::InputStatus& status, std::string component);
    ~TestSignal() override;
    void start(EventQueue& out) override;
    void stop() override;

  private:
    void run(std::stop_token stop, EventQueue& out);

    core::InputSpec spec_;
    core::InputStatus& status_;
    std::string component_;
    std::jthread thread_;
};

}  // namespace onair::ingest
