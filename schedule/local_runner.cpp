// The local runner: posix_spawn of `onair run` in its own process group,
// liveness from waitpid (our children) or /proc (adopted ones), and stop as
// SIGTERM then SIGKILL to the whole group.
#include "schedule/local_runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "core/machine_check.hpp"

extern char** environ;

namespace onair::schedule {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kPollEvery = std::chrono::milliseconds(50);
constexpr auto kKillWait = std::chrono::seconds(5);
constexpr const char* kGone = "gone";
constexpr const char* kPidReused = "gone (pid reused)";

std::string errno_text(int error) {
    return std::strerror(error);
}

// An owned file descriptor.
class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

// posix_spawn's two option objects, destroyed on every path.
struct SpawnFileActions {
    posix_spawn_file_actions_t actions;
    SpawnFileActions() { ::posix_spawn_file_actions_init(&actions); }
    ~SpawnFileActions() { ::posix_spawn_file_actions_destroy(&actions); }
    SpawnFileActions(const SpawnFileActions&) = delete;
    SpawnFileActions& operator=(const SpawnFileActions&) = delete;
};

struct SpawnAttributes {
    posix_spawnattr_t attributes;
    SpawnAttributes() { ::posix_spawnattr_init(&attributes); }
    ~SpawnAttributes() { ::posix_spawnattr_destroy(&attributes); }
    SpawnAttributes(const SpawnAttributes&) = delete;
    SpawnAttributes& operator=(const SpawnAttributes&) = delete;
};

// What /proc/PID/stat says about a process: its state letter, process
// group and start time (clock ticks since boot, as text: it is only ever
// compared).
struct ProcStat {
    char state = '?';
    pid_t group = 0;
    std::string start_time;
};

std::optional<ProcStat> read_proc_stat(pid_t pid) {
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    if (!in) return std::nullopt;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Field 2, the command, is in parentheses and may hold anything, ')' too.
    auto close = text.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(text.substr(close + 1));
    ProcStat stat;
    std::string field;
    // Fields 3 (state) to 22 (starttime).
    for (int number = 3; number <= 22; ++number) {
        if (!(fields >> field)) return std::nullopt;
        if (number == 3) stat.state = field.empty() ? '?' : field[0];
        if (number == 5) std::from_chars(field.data(), field.data() + field.size(), stat.group);
    }
    stat.start_time = field;
    return stat;
}

// The deployment's pid; nothing for an id that is not one (a process group
// of 0 or 1 would make kill(-pgid) signal far more than a channel).
std::optional<pid_t> deployment_pid(const Deployment& deployment) {
    pid_t pid = 0;
    const auto& id = deployment.id;
    auto [end, error] = std::from_chars(id.data(), id.data() + id.size(), pid);
    if (error != std::errc() || end != id.data() + id.size() || pid <= 1) return std::nullopt;
    return pid;
}

std::string signal_name(int signal) {
    if (const char* abbreviation = ::sigabbrev_np(signal))
        return fmt::format("SIG{}", abbreviation);
    return fmt::format("signal {}", signal);
}

std::string ended_text(int status) {
    if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return fmt::format("killed by {}{}", signal_name(WTERMSIG(status)),
                           WCOREDUMP(status) ? " (core dumped)" : "");
    return "ended";
}

// Whether any process of the group still runs. Zombies do not count: an
// adopted channel's are its parent's to reap (init's, or whatever runs as
// pid 1 here, which may never do it).
bool group_alive(pid_t pgid) {
    if (::kill(-pgid, 0) != 0 && errno == ESRCH) return false;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator("/proc", error)) {
        const std::string name = entry.path().filename().string();
        pid_t pid = 0;
        auto [end, parse_error] = std::from_chars(name.data(), name.data() + name.size(), pid);
        if (parse_error != std::errc() || end != name.data() + name.size()) continue;
        auto stat = read_proc_stat(pid);
        if (stat && stat->group == pgid && stat->state != 'Z' && stat->state != 'X') return true;
    }
    return false;
}

// http://HOST:PORT a client on this machine reaches the channel's origin at.
std::string origin_url(const core::OriginConfig& origin) {
    std::string host = origin.host;
    if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]") host = "127.0.0.1";
    if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
    return fmt::format("http://{}:{}", host, origin.port);
}

int64_t system_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// How argv[0] names the program: its real path rather than /proc/self/exe,
// so that `ps` shows what runs.
std::string program_name(const std::string& binary) {
    std::error_code error;
    if (binary == "/proc/self/exe") {
        auto path = fs::read_symlink(binary, error);
        if (!error) return path.string();
        return "onair";
    }
    return binary;
}

}  // namespace

LocalRunner::LocalRunner(LocalRunnerOptions options) : options_(std::move(options)) {
    if (options_.onair_binary.empty()) options_.onair_binary = "/proc/self/exe";
    if (!options_.now_ms) options_.now_ms = system_now_ms;
}

core::Result<Deployment> LocalRunner::start(const DeployRequest& request) {
    const auto& event_id = request.event.id;
    auto failure = [&](const std::string& what, int error) {
        return core::fail(fmt::format("start onair for event {}: {}", event_id, what), error);
    };
    // What `onair run` would refuse (a port another program holds, a file it
    // cannot read) is a failed attempt with the same message, found here.
    if (auto problems = core::check_machine(request.channel); !problems.empty()) {
        auto text = problems.front().to_string();
        if (problems.size() > 1) text += fmt::format(" (and {} more)", problems.size() - 1);
        return core::fail(text);
    }

    // Relative paths are the controller's (its cwd); the child may run
    // elsewhere, so it is given absolute ones.
    std::error_code error;
    const fs::path cwd = fs::current_path(error);
    if (error) return failure(fmt::format("current folder: {}", error.message()), error.value());
    const fs::path working_dir =
        options_.working_dir.empty() ? cwd : (cwd / options_.working_dir).lexically_normal();
    const std::string channel_path = (cwd / request.channel_path).lexically_normal().string();

    const fs::path logs = fs::path(request.controller_data) / "logs";
    fs::create_directories(logs, error);
    if (error) return failure(fmt::format("{}: {}", logs.string(), error.message()), error.value());
    const fs::path log_path = logs / (event_id + ".log");
    Fd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (log.get() < 0) {
        int open_error = errno;
        return failure(fmt::format("{}: {}", log_path.string(), errno_text(open_error)),
                       open_error);
    }

    std::vector<std::string> args;
    args.push_back(program_name(options_.onair_binary));
    args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
    args.push_back("run");
    args.push_back(channel_path);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);

    // A separator in the log, which keeps the output of every start.
    std::string banner = fmt::format("--- onair controller: starting event {}: {} run {}\n",
                                     event_id, options_.onair_binary, channel_path);
    if (::write(log.get(), banner.data(), banner.size()) < 0) {
        int write_error = errno;
        return failure(fmt::format("{}: {}", log_path.string(), errno_text(write_error)),
                       write_error);
    }

    SpawnFileActions files;
    auto* fa = &files.actions;
    int rc = ::posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
    if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(fa, log.get(), 1);
    if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(fa, log.get(), 2);
    if (rc == 0 && !options_.working_dir.empty())
        rc = ::posix_spawn_file_actions_addchdir_np(fa, working_dir.c_str());
    // Nothing else of the controller's: above all not its listening socket,
    // which a channel outliving the controller would otherwise keep bound.
    if (rc == 0) rc = ::posix_spawn_file_actions_addclosefrom_np(fa, 3);

    // Its own process group, so neither the controller's death nor a Ctrl-C
    // at the controller's terminal reaches it; no signal blocked or ignored
    // (the controller blocks them for sigwait). No parent-death signal: the
    // channel outlives the controller.
    SpawnAttributes attributes;
    auto* attr = &attributes.attributes;
    sigset_t empty_mask;
    sigemptyset(&empty_mask);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD}) sigaddset(&defaults, signal);
    if (rc == 0)
        rc = ::posix_spawnattr_setflags(
            attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (rc == 0) rc = ::posix_spawnattr_setpgroup(attr, 0);
    if (rc == 0) rc = ::posix_spawnattr_setsigmask(attr, &empty_mask);
    if (rc == 0) rc = ::posix_spawnattr_setsigdefault(attr, &defaults);
    if (rc != 0) return failure(errno_text(rc), rc);

    pid_t pid = 0;
    rc = ::posix_spawn(&pid, options_.onair_binary.c_str(), fa, attr, argv.data(), environ);
    if (rc != 0) return failure(fmt::format("{}: {}", options_.onair_binary, errno_text(rc)), rc);

    // Until it is reaped, the child's /proc entry stays, even if it already
    // ended: its start time is always there to read.
    auto stat = read_proc_stat(pid);
    if (!stat) {
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        return failure(fmt::format("cannot read /proc/{}/stat", pid), 0);
    }

    Deployment deployment;
    deployment.runner = "local";
    deployment.id = std::to_string(pid);
    deployment.instance = stat->start_time;
    deployment.origin = origin_url(request.channel.origin);
    deployment.channel = request.channel.channel;
    deployment.data_dir = (working_dir / request.channel.data_dir).lexically_normal().string();
    deployment.started_ms = options_.now_ms();
    return deployment;
}

Liveness LocalRunner::liveness(const Deployment& deployment) {
    auto pid = deployment_pid(deployment);
    if (!pid) return {false, fmt::format("not a local channel's pid: \"{}\"", deployment.id)};
    const std::string key = deployment.id + "/" + deployment.instance;
    {
        std::lock_guard lock(mutex_);
        if (auto it = ended_.find(key); it != ended_.end()) return it->second;
    }

    // The start time first: a pid reused by another process (even another
    // child of ours) must not be waited for or taken for the channel.
    auto stat = read_proc_stat(*pid);
    if (!stat) return {false, kGone};
    if (stat->start_time != deployment.instance) return {false, kPidReused};

    int status = 0;
    pid_t waited = 0;
    do {
        waited = ::waitpid(*pid, &status, WNOHANG);
    } while (waited < 0 && errno == EINTR);
    if (waited == *pid) {
        Liveness ended{false, ended_text(status)};
        std::lock_guard lock(mutex_);
        ended_[key] = ended;
        return ended;
    }
    if (waited == 0) return {true, {}};
    // Not our child (adopted after a controller restart): its parent reaps it.
    if (stat->state == 'Z' || stat->state == 'X') return {false, kGone};
    return {true, {}};
}

core::Result<> LocalRunner::stop(const Deployment& deployment, std::chrono::milliseconds grace) {
    auto pid = deployment_pid(deployment);
    if (!pid)
        return core::fail(fmt::format("stop: not a local channel's pid: \"{}\"", deployment.id));
    const pid_t pgid = *pid;

    auto now_live = liveness(deployment);
    // The pid is another process's now, and so may its group be: the
    // channel's own group ended before its number could be reused.
    if (!now_live.running && now_live.reason == kPidReused) return {};

    // Gone once the channel ended (and, ours, is reaped) and nothing of its
    // group is left: children it started go with it.
    auto gone = [&] { return !liveness(deployment).running && !group_alive(pgid); };
    auto wait_gone = [&](Clock::duration timeout) {
        auto deadline = Clock::now() + timeout;
        for (;;) {
            if (gone()) return true;
            auto now = Clock::now();
            if (now >= deadline) return false;
            std::this_thread::sleep_for(std::min<Clock::duration>(kPollEvery, deadline - now));
        }
    };
    auto signal_group = [&](int signal) -> core::Result<> {
        if (::kill(-pgid, signal) == 0 || errno == ESRCH) return {};
        int error = errno;
        return core::fail(fmt::format("stop channel {} (pid {}): {}: {}", deployment.channel, pgid,
                                      signal_name(signal), errno_text(error)),
                          error);
    };

    if (gone()) return {};
    if (auto sent = signal_group(SIGTERM); !sent) return sent;
    if (wait_gone(grace)) return {};
    if (auto sent = signal_group(SIGKILL); !sent) return sent;
    if (wait_gone(kKillWait)) return {};
    return core::fail(fmt::format(
        "stop channel {} (pid {}): still running {} s after SIGKILL", deployment.channel, pgid,
        std::chrono::duration_cast<std::chrono::seconds>(kKillWait).count()));
}

}  // namespace onair::schedule
