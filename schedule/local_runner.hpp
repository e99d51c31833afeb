#pragma once
// The `local` runner: each event's channel is an `onair run CHANNEL_FILE`
// child process on this machine, in its own process group so that a
// controller that dies, restarts or gets Ctrl-C never takes a live channel
// with it. Its output goes to CONTROLLER_DATA/logs/EVENT_ID.log; it inherits
// no descriptor of the controller's (its listening socket above all) but
// stdin (/dev/null), stdout and stderr, no blocked signals and no ignored
// ones.
//
// A Deployment names the process by pid (id) and start time (instance, field
// 22 of /proc/PID/stat), so a controller started again adopts the channels
// an earlier run spawned and tells a pid reused by another process from its
// channel. Exit statuses of its own children are reaped and kept, so every
// later liveness() answers the same.
//
// Threads: start(), liveness() and stop() may run concurrently for
// different deployments; the table of reaped statuses is behind a mutex.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "schedule/runner.hpp"

namespace onair::schedule {

struct LocalRunnerOptions {
    std::string onair_binary{};             // empty: this program (/proc/self/exe)
    std::filesystem::path working_dir{};    // the channels' cwd; empty: the controller's.
                                            // Channels' relative data paths resolve from it.
    std::vector<std::string> extra_args{};  // before the command, e.g. --log-format json
    std::function<int64_t()> now_ms{};      // UTC ms for started_ms; empty: the system clock
};

class LocalRunner final : public Runner {
  public:
    explicit LocalRunner(LocalRunnerOptions options = {});

    std::string_view name() const override { return "local"; }
    [[nodiscard]] core::Result<Deployment> start(const DeployRequest& request) override;
    Liveness liveness(const Deployment& deployment) override;
    [[nodiscard]] core::Result<> stop(const Deployment& deployment,
                                      std::chrono::milliseconds grace) override;

  private:
    // How a child of ours ended, once reaped; keyed by "PID/INSTANCE".
    std::mutex mutex_;
    std::map<std::string, Liveness> ended_;
    LocalRunnerOptions options_;
};

}  // namespace onair::schedule
