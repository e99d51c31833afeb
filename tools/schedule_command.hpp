#pragma once
// `onair schedule FILE` (the event controller) and `onair schedule --check
// FILE`: the schedule file read and checked, the controller with its state
// in DATA/events.db, the local runner, and the events API on `listen`.
// Called from main() on the main thread, which takes the signals: SIGINT
// and SIGTERM stop the controller (its channels keep running; the next start
// adopts them), SIGHUP reloads the schedule file.
#include <string>

namespace onair::tools {

// The exit code: 0, 1 (could not start), 2 (the file is not valid).
int check_schedule_file(const std::string& path);
int run_schedule(const std::string& path);

}  // namespace onair::tools
