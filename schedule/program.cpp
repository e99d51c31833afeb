// A program run to completion with posix_spawn, its output read through
// pipes while it runs (so a chatty child never blocks on a full pipe).
#include "schedule/program.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

extern char** environ;

namespace onair::schedule {

namespace {

struct Pipe {
    int read = -1;
    int write = -1;
    ~Pipe() {
        if (read >= 0) ::close(read);
        if (write >= 0) ::close(write);
    }
    bool open() {
        int fds[2];
        // Close-on-exec: a program spawned by another thread meanwhile must
        // not hold our ends open.
        if (::pipe2(fds, O_CLOEXEC) != 0) return false;
        read = fds[0];
        write = fds[1];
        return true;
    }
    void close_write() {
        if (write >= 0) ::close(write);
        write = -1;
    }
};

std::string last_line(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    auto at = text.rfind('\n');
    return at == std::string::npos ? text : text.substr(at + 1);
}

}  // namespace

std::string ProgramResult::describe() const {
    if (!started) return error;
    if (timed_out) return error;
    if (signal != 0) return fmt::format("killed by signal {}", signal);
    auto said = last_line(err.empty() ? out : err);
    return said.empty() ? fmt::format("exit {}", exit_code)
                        : fmt::format("exit {}: {}", exit_code, said);
}

ProgramResult run_program(const std::vector<std::string>& argv, std::chrono::milliseconds limit) {
    ProgramResult result;
    if (argv.empty()) {
        result.error = "no program to run";
        return result;
    }
    Pipe out, err;
    if (!out.open() || !err.open()) {
        result.error = fmt::format("pipe: {}", std::strerror(errno));
        return result;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out.write, 1);
    posix_spawn_file_actions_adddup2(&actions, err.write, 2);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    const int spawned = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
        result.error = fmt::format("cannot run {}: {}", argv[0], std::strerror(spawned));
        return result;
    }
    result.started = true;
    out.close_write();
    err.close_write();

    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::array<pollfd, 2> fds{pollfd{out.read, POLLIN, 0}, pollfd{err.read, POLLIN, 0}};
    std::array<std::string*, 2> sinks{&result.out, &result.err};
    int open_fds = 2;
    while (open_fds > 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            ::kill(pid, SIGKILL);
            result.timed_out = true;
            result.error = fmt::format("{} timed out after {} ms", argv[0], limit.count());
            break;
        }
        const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) break;
        for (size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            char buffer[4096];
            const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                sinks[i]->append(buffer, static_cast<size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                fds[i].fd = -1;  // the Pipe closes it
                --open_fds;
            }
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status) && !result.timed_out) result.signal = WTERMSIG(status);
    return result;
}

}  // namespace onair::schedule
