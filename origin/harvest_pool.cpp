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
    accepting_ = true;
    for (int i = 0; i < std::max(1, threads); ++i)
        workers_.emplace_back([this](std::stop_token stop) { work(stop); });
}

void HarvestPool::stop() {
    accepting_ = false;
    for (auto& worker : workers_) worker.request_stop();
    workers_.clear();  // joins
    if (auto waiting = queue_.take_all(); !waiting.empty())
        log::info(kLog, "stopped with {} task(s) waiting; their clips resume at the next start",
                  waiting.size());
}

void HarvestPool::post(Task task) {
    queue_.force_push(std::move(task));
}

bool HarvestPool::try_post(Task task) {
    return accepting_ && queue_.push(std::move(task));
}

HarvestPool::Load HarvestPool::load() const {
    return {accepting_.load(), queue_.size()};
}

bool HarvestPool::wait_idle(std::chrono::milliseconds timeout) const {
    return queue_.wait_idle(timeout);
}

void HarvestPool::work(std::stop_token stop) {
    // Clips wait for the live channel, never the other way round: this thread,
    // and the decoder and x264 threads it starts (which inherit it), run only
    // on what the pipelines leave of the CPU.
    if (::setpriority(PRIO_PROCESS, ::gettid(), kWorkerNice) != 0)
        log::warn(kLog, "cannot lower the clip workers' priority: {}", std::strerror(errno));
    while (auto task = queue_.pop(stop)) {
        (*task)(stop);
        queue_.done();
    }
}

}  // namespace onair::origin
