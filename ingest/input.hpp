#pragma once
// An input of one pipeline: owns a thread that reads the contribution feed
// and pushes MediaEvents into the pipeline's queue, reconnecting on its own,
// and keeps the pipeline's InputStatus current. It never blocks anything but
// its own thread: a stalled feed only makes its queue go quiet.
#include <memory>
#include <string>

#include "core/bounded_queue.hpp"
#include "core/config.hpp"
#include "core/media_event.hpp"
#include "core/status.hpp"

namespace onair::ingest {

using EventQueue = core::BoundedQueue<core::MediaEvent>;

class Input {
  public:
    virtual ~Input() = default;
    // Starts the thread; events go to `out` until stop().
    virtual void start(EventQueue& out) = 0;
    // Stops and joins the thread (interrupting any blocking read or accept).
    virtual void stop() = 0;
};

// `component` names the input in logs, e.g. "ingest.a".
std::unique_ptr<Input> make_input(const core::InputSpec& spec, core::InputStatus& status,
                                  std::string component);

}  // namespace onair::ingest
