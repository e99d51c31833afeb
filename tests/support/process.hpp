#pragma once
// A child process for integration tests. In: an argv vector, environment
// additions, a working directory, and a folder for its output. Out: the
// child's stdout and stderr in files there (stdin is /dev/null), its exit
// status. The child gets its own process group and PR_SET_PDEATHSIG=SIGKILL,
// so neither a failed test nor a killed test runner leaves it behind; spawn
// from a thread that outlives the child (the test's main thread).
// Owned by one thread; move-only. The destructor SIGKILLs the group and
// reaps; when the test failed meanwhile it prints the tail of stderr.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/failures.hpp"

namespace onair::testing {

struct ExitStatus {
    int code = -1;   // exit code when the child exited, else -1
    int signal = 0;  // the signal that ended it, else 0

    bool exited() const { return signal == 0; }
    bool success() const { return signal == 0 && code == 0; }
    std::string describe() const;  // "exit 0", "killed by SIGKILL"
};

struct ProcessOptions {
    // argv[0] is looked up in PATH unless it holds a slash.
    std::vector<std::string> argv{};
    // Added to (or replacing in) the test's environment.
    std::vector<std::pair<std::string, std::string>> env{};
    // Empty: the test's current directory.
    std::filesystem::path working_dir{};
    // Where NAME.stdout and NAME.stderr go; required.
    std::filesystem::path output_dir{};
    // File name stem and label; default: the basename of argv[0].
    std::string name{};
    // Print report() from the destructor when the test failed meanwhile.
    bool report_on_failure = true;
};

class Process {
  public:
    // Throws std::runtime_error when the program cannot be started (not
    // found, not executable): the exec error comes back through a pipe.
    explicit Process(ProcessOptions options);
    ~Process();
    Process(Process&& other) noexcept;
    Process& operator=(Process&&) = delete;
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    const std::string& name() const { return name_; }
    std::string command_line() const;

    bool running();
    // Sends `sig` to the child (not its group).
    void signal(int sig);
    // Waits up to `timeout` for the child to end; nullopt if still running.
    std::optional<ExitStatus> wait_for(std::chrono::milliseconds timeout);
    // The status once it ended (after running() returned false or wait_for succeeded).
    std::optional<ExitStatus> status() const { return status_; }
    // SIGKILL to the whole group, then reap.
    void kill();

    const std::filesystem::path& stdout_path() const { return stdout_path_; }
    const std::filesystem::path& stderr_path() const { return stderr_path_; }
    std::string read_stdout() const;
    std::string read_stderr() const;
    // A block for failure messages: the command, the status, the last lines of stderr.
    std::string report(size_t lines = 40) const;

  private:
    bool reap(bool block);

    std::vector<std::string> argv_;
    std::string name_;
    std::filesystem::path stdout_path_;
    std::filesystem::path stderr_path_;
    pid_t pid_ = -1;
    std::optional<ExitStatus> status_;
    bool report_on_failure_ = true;
    FailureWatch watch_;
};

// Runs a program to completion (killing it after `timeout`) and returns its
// status; the output files stay in options.output_dir.
struct RunResult {
    std::optional<ExitStatus> status;  // nullopt: timed out and was killed
    std::string out;
    std::string err;
};
RunResult run_to_completion(ProcessOptions options, std::chrono::milliseconds timeout);

}  // namespace onair::testing
