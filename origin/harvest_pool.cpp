#include "origin/harvest_pool.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <sys/resource.h>
#include <unistd.h>

#include "core/log.hpp"

namespace onair::origin {

namespace {
constexpr std::string_view kLog = "harvest";
constexpr int kWorkerNice = 10;
}  // namespace

void HarvestPool::start(int threads) {
    {
        std::lock_guard lock(mutex_);
        accepting_ = true;
    }
    for (int i = 0; i < std::max(1, threads); ++i)
        workers_.emplace_back([this](std::stop_token stop) { work(stop); });
}

void HarvestPool::stop() {
    {
        std::lock_guard lock(mutex_);
        accepting_ = false;
    }
    for (auto& worker : workers_) worker.request_stop();
    workers_.clear();  // joins
    std::lock_guard lock(mutex_);
    if (!queue_.empty()) {
        log::info(kLog, "stopped with {} task(s) waiting; their clips resume at the next start",
                  queue_.size());
        queue_.clear();
    }
    idle_.notify_all();
}

void HarvestPool::post(Task task) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(task));
    }
    wake_.notify_one();
}

HarvestPool::Load HarvestPool::load() const {
    std::lock_guard lock(mutex_);
    return {accepting_, queue_.size()};
}

bool HarvestPool::wait_idle(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return idle_.wait_for(lock, timeout, [&] { return queue_.empty() && running_ == 0; });
}

void HarvestPool::work(std::stop_token stop) {
    // Clips wait for the live channel, never the other way round: this thread,
    // and the decoder and x264 threads it starts (which inherit it), run only
    // on what the pipelines leave of the CPU.
    if (::setpriority(PRIO_PROCESS, ::gettid(), kWorkerNice) != 0)
        log::warn(kLog, "cannot lower the clip workers' priority: {}", std::strerror(errno));
    for (;;) {
        Task task;
        {
            std::unique_lock lock(mutex_);
            if (!wake_.wait(lock, stop, [&] { return !queue_.empty(); })) return;
            task = std::move(queue_.front());
            queue_.pop_front();
            ++running_;
        }
        task(stop);
        {
            std::lock_guard lock(mutex_);
            --running_;
        }
        idle_.notify_all();
    }
}

}  // namespace onair::origin
