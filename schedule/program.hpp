#pragma once
// Runs a program to completion and captures what it printed: how the
// kubernetes runner calls kubectl. In: an argv (argv[0] looked up in PATH
// unless it holds a slash; no shell) and a time limit. Out: how it ended,
// its stdout and its stderr. The child's stdin is /dev/null; past the limit
// it is killed (SIGKILL). Any thread, concurrently; owns nothing afterwards.
#include <chrono>
#include <string>
#include <vector>

namespace onair::schedule {

struct ProgramResult {
    bool started = false;    // false: it could not be run (`error` says why)
    bool timed_out = false;  // killed after the limit
    int exit_code = -1;      // when it exited
    int signal = 0;          // when a signal ended it
    std::string out;
    std::string err;
    std::string error;

    bool success() const { return started && !timed_out && signal == 0 && exit_code == 0; }
    // "exit 1: <stderr's last line>", "killed by signal 9", "timed out after 30 s", ...
    std::string describe() const;
};

ProgramResult run_program(const std::vector<std::string>& argv, std::chrono::milliseconds limit);

}  // namespace onair::schedule
