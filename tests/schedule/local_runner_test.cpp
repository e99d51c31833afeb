// The local runner against a fake onair: a shell script that records its pid
// and arguments, logs a line, starts a grandchild `sleep` and waits. What is
// checked is what the controller relies on: the command line, a process
// group of its own, the log, no inherited descriptors, liveness of its own
// children and of adopted ones, and stop() ending the whole group.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "schedule/local_runner.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

using namespace onair;
using namespace onair::schedule;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using onair::testing::eventually;
using onair::testing::read_file;
using onair::testing::TempDir;

namespace {

// How the fake onair behaves once started.
enum class Fake {
    obedient,      // on TERM: ends its sleep, writes "term", exits 0
    ignores_term,  // TERM ignored (by its sleep too): only SIGKILL ends it
    exits_3,       // exits with status 3 at once
};

// Writes the fake onair into `dir` and returns its path. It records its pid
// (dir/pid), its arguments one a line (dir/argv) and logs a line to stdout.
std::string write_fake_onair(const TempDir& dir, Fake behaviour) {
    const std::string d = dir.path().string();
    std::string script = fmt::format(R"(#!/bin/sh
echo $$ > '{0}/pid.tmp' && mv '{0}/pid.tmp' '{0}/pid'
printf '%s\n' "$@" > '{0}/argv'
echo "fake onair up as pid $$"
)",
                                     d);
    switch (behaviour) {
        case Fake::obedient:
            script += fmt::format(R"(sleep 1000 &
grandchild=$!
echo $grandchild > '{0}/grandchild'
trap 'kill $grandchild; wait $grandchild; echo term > "{0}/term"; exit 0' TERM
wait $grandchild
)",
                                  d);
            break;
        case Fake::ignores_term:
            script += fmt::format(R"(trap '' TERM
sleep 1000 &
echo $! > '{0}/grandchild'
while :; do wait; done
)",
                                  d);
            break;
        case Fake::exits_3:
            script += "exit 3\n";
            break;
    }
    auto path = dir.write("fake-onair", script);
    fs::permissions(path, fs::perms::owner_all);
    return path.string();
}

// An event, its channel (built by hand: the runner reads only the origin,
// the name and the data folder) and the controller's data folder.
struct Fixture {
    TempDir dir{"onair-local-runner"};
    EventSpec event;
    core::ChannelConfig channel;
    std::string channel_path;
    std::string controller_data;

    Fixture() {
        event.id = "fight-night";
        channel.channel = "fight";
        channel.origin.host = "0.0.0.0";
        channel.origin.port = 18123;
        channel.data_dir = "./data/fight";
        channel_path = dir.write("fight.yaml", "channel: fight\n").string();
        event.channel_path = channel_path;
        controller_data = (dir / "controller").string();
    }
    DeployRequest request() const { return {event, channel_path, channel, controller_data}; }
    fs::path file(std::string_view name) const { return dir / name; }
    bool has(std::string_view name) const { return fs::exists(file(name)); }
};

pid_t pid_of(const Deployment& deployment) {
    return std::stoi(deployment.id);
}

bool group_empty(pid_t pgid) {
    return ::kill(-pgid, 0) == -1 && errno == ESRCH;
}

// Leaves nothing running whatever the test did: SIGKILL to the group, and
// the leader reaped if it is ours.
struct GroupReaper {
    pid_t pgid = 0;
    ~GroupReaper() {
        if (pgid <= 1) return;
        ::kill(-pgid, SIGKILL);
        ::waitpid(pgid, nullptr, 0);
    }
};

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// Field 22 of /proc/PID/stat, read independently of the runner.
std::string start_time_of(pid_t pid) {
    auto text = read_file(fmt::format("/proc/{}/stat", pid));
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string field;
    for (int number = 3; number <= 22; ++number) fields >> field;
    return field;
}

}  // namespace

TEST_CASE("local runner: starts onair run CHANNEL in its own process group, logging to a file",
          "[local_runner]") {
    Fixture f;
    LocalRunner runner({.onair_binary = write_fake_onair(f.dir, Fake::obedient),
                        .extra_args = {"--log-format", "json"},
                        .now_ms = [] { return int64_t{1234}; }});
    auto started = runner.start(f.request());
    REQUIRE(started);
    GroupReaper reaper{pid_of(*started)};
    const pid_t pid = pid_of(*started);

    REQUIRE(eventually([&] { return f.has("pid") && f.has("argv"); }));
    CHECK(read_file(f.file("pid")) == fmt::format("{}\n", pid));
    CHECK(lines(read_file(f.file("argv"))) ==
          std::vector<std::string>{"--log-format", "json", "run", f.channel_path});

    CHECK(::getpgid(pid) == pid);
    CHECK(::getpgid(pid) != ::getpgrp());

    const auto log = fs::path(f.controller_data) / "logs" / "fight-night.log";
    CHECK(eventually([&] {
        return read_file(log).find(fmt::format("fake onair up as pid {}", pid)) !=
               std::string::npos;
    }));
    INFO(read_file(log));

    CHECK(started->runner == "local");
    CHECK(started->instance == start_time_of(pid));
    CHECK(started->started_ms == 1234);
    CHECK(runner.liveness(*started).running);
}

TEST_CASE("local runner: the deployment's origin and absolute data folder", "[local_runner]") {
    Fixture f;
    const std::string binary = write_fake_onair(f.dir, Fake::obedient);

    SECTION("every address becomes 127.0.0.1; a relative data folder resolves from working_dir") {
        LocalRunner runner({.onair_binary = binary, .working_dir = f.dir.path()});
        auto started = runner.start(f.request());
        REQUIRE(started);
        GroupReaper reaper{pid_of(*started)};
        CHECK(started->origin == "http://127.0.0.1:18123");
        CHECK(started->channel == "fight");
        CHECK(started->data_dir == (f.dir.path() / "data/fight").string());
        // The channel runs there, so its own relative paths mean the same.
        CHECK(eventually([&] { return f.has("pid"); }));
        CHECK(fs::read_symlink(fmt::format("/proc/{}/cwd", pid_of(*started))) == f.dir.path());
    }
    SECTION("a named host stays; an absolute data folder stays") {
        f.channel.origin.host = "127.0.0.2";
        f.channel.data_dir = (f.dir / "elsewhere").string();
        LocalRunner runner({.onair_binary = binary});
        auto started = runner.start(f.request());
        REQUIRE(started);
        GroupReaper reaper{pid_of(*started)};
        CHECK(started->origin == "http://127.0.0.2:18123");
        CHECK(started->data_dir == (f.dir / "elsewhere").string());
    }
    SECTION("without working_dir, the controller's folder") {
        f.channel.origin.host = "::";
        LocalRunner runner({.onair_binary = binary});
        auto started = runner.start(f.request());
        REQUIRE(started);
        GroupReaper reaper{pid_of(*started)};
        CHECK(started->origin == "http://127.0.0.1:18123");
        CHECK(started->data_dir == (fs::current_path() / "data/fight").string());
    }
}

TEST_CASE("local runner: the channel inherits no descriptor but 0, 1 and 2", "[local_runner]") {
    Fixture f;
    const auto leaked_path = f.dir.write("not-for-the-child", "x");
    int leaked = ::open(leaked_path.c_str(), O_RDONLY);  // no O_CLOEXEC, on purpose
    REQUIRE(leaked >= 0);
    LocalRunner runner({.onair_binary = write_fake_onair(f.dir, Fake::obedient)});
    auto started = runner.start(f.request());
    ::close(leaked);
    REQUIRE(started);
    GroupReaper reaper{pid_of(*started)};
    REQUIRE(eventually([&] { return f.has("pid"); }));

    const auto fds = fs::path(fmt::format("/proc/{}/fd", pid_of(*started)));
    std::vector<std::string> targets;
    for (const auto& entry : fs::directory_iterator(fds)) {
        std::error_code error;
        auto target = fs::read_symlink(entry.path(), error);
        targets.push_back(entry.path().filename().string() + " -> " + target.string());
        CHECK(target != leaked_path);
    }
    INFO(fmt::format("{}", fmt::join(targets, "\n")));
    CHECK(fs::read_symlink(fds / "0") == "/dev/null");
    CHECK(fs::read_symlink(fds / "1") == fs::path(f.controller_data) / "logs" / "fight-night.log");
    CHECK(fs::read_symlink(fds / "2") == fs::read_symlink(fds / "1"));
}

TEST_CASE("local runner: liveness of its own children, and how they ended", "[local_runner]") {
    Fixture f;

    SECTION("killed by SIGKILL, and asked again") {
        LocalRunner runner({.onair_binary = write_fake_onair(f.dir, Fake::obedient)});
        auto started = runner.start(f.request());
        REQUIRE(started);
        GroupReaper reaper{pid_of(*started)};
        CHECK(runner.liveness(*started).running);
        REQUIRE(::kill(pid_of(*started), SIGKILL) == 0);
        REQUIRE(eventually([&] { return !runner.liveness(*started).running; }));
        CHECK(runner.liveness(*started).reason == "killed by SIGKILL");
        CHECK(runner.liveness(*started).reason == "killed by SIGKILL");
    }
    SECTION("exited with status 3") {
        LocalRunner runner({.onair_binary = write_fake_onair(f.dir, Fake::exits_3)});
        auto started = runner.start(f.request());
        REQUIRE(started);
        REQUIRE(eventually([&] { return !runner.liveness(*started).running; }));
        CHECK(runner.liveness(*started).reason == "exited with status 3");
    }
}

TEST_CASE("local runner: a binary that cannot run is an error naming the event", "[local_runner]") {
    Fixture f;
    LocalRunner runner({.onair_binary = (f.dir / "no-such-onair").string()});
    auto started = runner.start(f.request());
    REQUIRE_FALSE(started);
    CHECK(started.error().message ==
          fmt::format("start onair for event fight-night: {}: No such file or directory",
                      (f.dir / "no-such-onair").string()));
}

TEST_CASE("local runner: stop() ends the whole group with SIGTERM", "[local_runner]") {
    Fixture f;
    LocalRunner runner({.onair_binary = write_fake_onair(f.dir, Fake::obedient)});
    auto started = runner.start(f.request());
    REQUIRE(started);
    const pid_t pgid = pid_of(*started);
    GroupReaper reaper{pgid};
    REQUIRE(eventually([&] { return f.has("grandchild"); }));

    auto stopped = runner.stop(*started, 5s);
    INFO((stopped ? std::string() : stopped.error().message));
    REQUIRE(stopped);
    CHECK(read_file(f.file("term")) == "term\n");
    CHECK(group_empty(pgid));
    CHECK_FALSE(runner.liveness(*started).running);
    CHECK(runner.liveness(*started).reason == "exited with status 0");

    // Stopping what is gone succeeds.
    CHECK(runner.stop(*started, 5s));
}

TEST_CASE("local runner: stop() kills a channel that ignores SIGTERM after the grace time",
          "[local_runner]") {
    Fixture f;
    LocalRunner runner({.onair_binary = write_fake_onair(f.dir, Fake::ignores_term)});
    auto started = runner.start(f.request());
    REQUIRE(started);
    const pid_t pgid = pid_of(*started);
    GroupReaper reaper{pgid};
    REQUIRE(eventually([&] { return f.has("grandchild"); }));

    const auto grace = 400ms;
    auto before = std::chrono::steady_clock::now();
    auto stopped = runner.stop(*started, grace);
    auto took = std::chrono::steady_clock::now() - before;
    INFO((stopped ? std::string() : stopped.error().message));
    REQUIRE(stopped);
    CHECK(took >= grace);
    CHECK(took < grace + 2s);
    // Its sleep, orphaned by the same SIGKILL, is dead at once but init's to
    // reap: the group empties when init gets to it.
    CHECK(eventually([&] { return group_empty(pgid); }, 2s));
    CHECK(runner.liveness(*started).reason == "killed by SIGKILL");
}

TEST_CASE("local runner: a runner started again adopts the deployment, and sees a reused pid",
          "[local_runner]") {
    Fixture f;
    LocalRunner first({.onair_binary = write_fake_onair(f.dir, Fake::obedient)});
    auto started = first.start(f.request());
    REQUIRE(started);
    GroupReaper reaper{pid_of(*started)};

    LocalRunner again({.onair_binary = write_fake_onair(f.dir, Fake::obedient)});
    CHECK(again.liveness(*started).running);

    Deployment reused = *started;
    reused.instance = "1";
    auto liveness = again.liveness(reused);
    CHECK_FALSE(liveness.running);
    CHECK(liveness.reason == "gone (pid reused)");
    // Nothing is signalled for a reused pid: the process runs on.
    CHECK(again.stop(reused, 100ms));
    CHECK(again.liveness(*started).running);
}

TEST_CASE("local runner: the channel outlives the controller that started it", "[local_runner]") {
    Fixture f;
    const std::string binary = write_fake_onair(f.dir, Fake::obedient);
    const auto handoff = f.dir / "deployment";

    // A controller in a child process starts the channel, then dies.
    pid_t controller = ::fork();
    REQUIRE(controller >= 0);
    if (controller == 0) {
        LocalRunner runner({.onair_binary = binary});
        auto started = runner.start(f.request());
        if (started) {
            std::ofstream(handoff) << started->id << "\n" << started->instance << "\n";
        }
        ::_exit(started ? 0 : 1);
    }
    int status = 0;
    REQUIRE(::waitpid(controller, &status, 0) == controller);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    auto written = lines(read_file(handoff));
    REQUIRE(written.size() == 2);
    Deployment adopted;
    adopted.runner = "local";
    adopted.id = written[0];
    adopted.instance = written[1];
    const pid_t pgid = pid_of(adopted);
    GroupReaper reaper{pgid};

    // Not our child: liveness comes from /proc.
    LocalRunner runner({.onair_binary = binary});
    CHECK(runner.liveness(adopted).running);
    REQUIRE(eventually([&] { return f.has("grandchild"); }));

    auto stopped = runner.stop(adopted, 5s);
    INFO((stopped ? std::string() : stopped.error().message));
    REQUIRE(stopped);
    CHECK(read_file(f.file("term")) == "term\n");
    auto after = runner.liveness(adopted);
    CHECK_FALSE(after.running);
    CHECK(after.reason.starts_with("gone"));
}
