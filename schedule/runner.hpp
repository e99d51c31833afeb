#pragma once
// Where an event's channel runs: the interface the controller deploys,
// watches and stops channels through. Two implementations: `local` (child
// processes of `onair run` on this machine, schedule/local_runner.hpp) and
// `kubernetes` (objects applied with kubectl, schedule/kubernetes_runner.hpp).
// Nothing else in the controller knows which one it has: what a runner
// started is described by a Deployment, stored in the controller's state
// and given back to the same runner after a restart to be adopted.
//
// Threads: start(), liveness() and stop() are called from the controller's
// worker threads, concurrently for different deployments (never twice at
// once for the same one); implementations are thread-safe in that sense.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "core/result.hpp"
#include "schedule/schedule_config.hpp"

namespace onair::schedule {

// What a runner started for one event: enough to find it again after the
// controller restarts (stored as it is), to reach its origin and to know
// where its data lives.
struct Deployment {
    std::string runner;      // "local", "kubernetes": the runner that made it
    std::string id;          // local: the channel's pid (= its process group);
                             // kubernetes: NAMESPACE/NAME of its objects
    std::string instance;    // local: the process's start time (guards against pid reuse);
                             // kubernetes: a generation label
    std::string origin;      // http://HOST:PORT of the channel's origin
    std::string channel;     // the channel's name (/live/CHANNEL/master.m3u8)
    std::string data_dir;    // the channel's data folder (DVR, catalog, clips), as resolved
    int64_t started_ms = 0;  // UTC, when start() made it

    friend bool operator==(const Deployment&, const Deployment&) = default;
};

// What start() is given: the event, the channel file (already read and
// checked: the latest version, re-read at deploy time) and where the
// controller keeps its own files (logs of local channels).
struct DeployRequest {
    const EventSpec& event;
    const std::string& channel_path;     // the file, as the event resolves it
    const core::ChannelConfig& channel;  // its parsed contents
    const std::string& controller_data;  // the controller's data folder
};

struct Liveness {
    bool running = false;
    std::string reason;  // when not running: "exited with status 1", "killed by SIGKILL", ...
};

class Runner {
  public:
    virtual ~Runner() = default;
    virtual std::string_view name() const = 0;

    // Starts the event's channel and returns once it is started (a process
    // spawned, objects applied), not once it is ready: readiness is the
    // controller's check of the origin. Errors say what failed.
    [[nodiscard]] virtual core::Result<Deployment> start(const DeployRequest& request) = 0;

    // Whether what start() made (in this run of the controller or an
    // earlier one) still runs.
    virtual Liveness liveness(const Deployment& deployment) = 0;

    // Stops it cleanly (a local channel: SIGTERM to its process group, so it
    // flushes its last segments), waits up to `grace`, then forces it
    // (SIGKILL). Returns once it is gone; an error when it could not be
    // stopped. Stopping what is already gone succeeds. The channel's data
    // (DVR, clips) is kept.
    [[nodiscard]] virtual core::Result<> stop(const Deployment& deployment,
                                              std::chrono::milliseconds grace) = 0;
};

}  // namespace onair::schedule
