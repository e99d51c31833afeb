#pragma once
// The harvest's job queue and the threads that run it. Tasks run in the
// order posted, each on one pool thread; the threads run at a lower CPU
// priority, so clips wait for the live channel and never the other way
// round. In: post() from any thread (HTTP threads, start-up recovery);
// start() and stop() from the controlling thread. A task gets its thread's
// stop token: stop() asks a running task to stop after its current step,
// joins the threads and drops the tasks still waiting. Owns its threads and
// the tasks. The tasks wait in the channel's one queue type ("harvest", shown
// in /metrics): a clip job beyond `capacity` waiting ones is refused
// (try_post); clean-up and recovery tasks are always taken (post).
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <stop_token>
#include <thread>
#include <vector>

#include "core/bounded_queue.hpp"

namespace onair::origin {

class HarvestPool {
  public:
    using Task = std::function<void(std::stop_token)>;

    explicit HarvestPool(std::size_t capacity, core::QueueRegistry* registry = nullptr)
        : queue_("harvest", capacity,
                 {.overflow = core::Overflow::refuse_newest, .registry = registry}) {}
    ~HarvestPool() { stop(); }
    HarvestPool(const HarvestPool&) = delete;
    HarvestPool& operator=(const HarvestPool&) = delete;

    // Starts `threads` threads (at least one) and takes tasks from now on.
    void start(int threads);
    // Takes no more tasks, stops and joins the threads, drops those waiting.
    // Idempotent.
    void stop();

    // Queues a task, also before start() (it runs once the threads are up),
    // even beyond the capacity: clean-up and recovery work it must not lose.
    void post(Task task);
    // Queues a new job unless `capacity` wait already (then refused, counted
    // as dropped) or the pool has stopped; false when not queued.
    [[nodiscard]] bool try_post(Task task);

    struct Load {
        bool accepting = false;  // from start() until stop()
        std::size_t waiting = 0;
    };
    Load load() const;
    // Until no task waits or runs; false on timeout.
    bool wait_idle(std::chrono::milliseconds timeout) const;

  private:
    void work(std::stop_token stop);

    core::BoundedQueue<Task> queue_;
    std::atomic<bool> accepting_{false};
    std::vector<std::jthread> workers_;  // last: joined before the rest goes
};

}  // namespace onair::origin
