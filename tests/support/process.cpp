#include "tests/support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "tests/support/temp_dir.hpp"

extern char** environ;

namespace onair::testing {
namespace {

std::string signal_name(int sig) {
    switch (sig) {
        case SIGINT:
            return "SIGINT";
        case SIGTERM:
            return "SIGTERM";
        case SIGKILL:
            return "SIGKILL";
        case SIGSEGV:
            return "SIGSEGV";
        case SIGABRT:
            return "SIGABRT";
        case SIGBUS:
            return "SIGBUS";
        case SIGFPE:
            return "SIGFPE";
        case SIGPIPE:
            return "SIGPIPE";
        case SIGILL:
            return "SIGILL";
        default:
            return fmt::format("signal {}", sig);
    }
}

// argv[0] as a path: as given when it holds a slash, else the first
// executable of that name in PATH.
std::string resolve(const std::string& program) {
    if (program.find('/') != std::string::npos) return program;
    const char* path = std::getenv("PATH");
    std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    while (true) {
        auto colon = dirs.find(':');
        std::string dir(dirs.substr(0, colon));
        if (dir.empty()) dir = ".";
        auto candidate = dir + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        if (colon == std::string_view::npos) break;
        dirs.remove_prefix(colon + 1);
    }
    throw std::runtime_error(fmt::format("cannot start {}: not found in PATH", program));
}

std::vector<std::string> make_environment(
    const std::vector<std::pair<std::string, std::string>>& additions) {
    std::vector<std::string> out;
    for (char** e = environ; e && *e; ++e) {
        std::string_view entry(*e);
        auto name = entry.substr(0, entry.find('='));
        bool replaced = false;
        for (const auto& [key, value] : additions) replaced = replaced || key == name;
        if (!replaced) out.emplace_back(entry);
    }
    for (const auto& [key, value] : additions) out.push_back(key + "=" + value);
    return out;
}

int open_or_throw(const std::filesystem::path& path, int flags) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
    if (fd < 0)
        throw std::runtime_error(
            fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
    return fd;
}

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

// Unique output file stems within one directory.
std::filesystem::path unique_stem(const std::filesystem::path& dir, const std::string& name) {
    static std::atomic<int> counter{0};
    auto stem = dir / name;
    if (!std::filesystem::exists(stem.string() + ".stderr")) return stem;
    return dir / fmt::format("{}.{}", name, counter.fetch_add(1) + 2);
}

}  // namespace

std::string ExitStatus::describe() const {
    if (signal != 0) return "killed by " + signal_name(signal);
    return fmt::format("exit {}", code);
}

Process::Process(ProcessOptions options)
    : argv_(std::move(options.argv)), report_on_failure_(options.report_on_failure) {
    if (argv_.empty()) throw std::invalid_argument("Process: empty argv");
    if (options.output_dir.empty()) throw std::invalid_argument("Process: no output_dir");
    name_ =
        options.name.empty() ? std::filesystem::path(argv_[0]).filename().string() : options.name;
    auto stem = unique_stem(options.output_dir, name_);
    stdout_path_ = stem.string() + ".stdout";
    stderr_path_ = stem.string() + ".stderr";

    // Everything the child needs is made before fork: after it, only
    // async-signal-safe calls.
    auto program = resolve(argv_[0]);
    auto environment = make_environment(options.env);
    std::vector<char*> argv;
    for (auto& a : argv_) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : environment) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string dir = options.working_dir.string();

    Fd in{open_or_throw("/dev/null", O_RDONLY)};
    Fd out{open_or_throw(stdout_path_, O_WRONLY | O_CREAT | O_TRUNC)};
    Fd err{open_or_throw(stderr_path_, O_WRONLY | O_CREAT | O_TRUNC)};
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
        throw std::runtime_error(fmt::format("pipe2: {}", std::strerror(errno)));
    Fd error_read{pipe_fds[0]}, error_write{pipe_fds[1]};
    pid_t parent = ::getpid();

    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    if (pid == 0) {
        auto fail = [&](int code) {
            int e = errno;
            (void)!::write(error_write.fd, &e, sizeof e);
            (void)code;
            ::_exit(127);
        };
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT, SIGCHLD}) ::signal(sig, SIG_DFL);
        if (::dup2(in.fd, 0) < 0 || ::dup2(out.fd, 1) < 0 || ::dup2(err.fd, 2) < 0) fail(1);
        if (!dir.empty() && ::chdir(dir.c_str()) != 0) fail(2);
        ::execve(program.c_str(), argv.data(), envp.data());
        fail(3);
    }
    ::setpgid(pid, pid);  // also from here, so it holds before we signal the group
    pid_ = pid;
    ::close(error_write.fd);
    error_write.fd = -1;
    int child_errno = 0;
    ssize_t n;
    do {
        n = ::read(error_read.fd, &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        reap(true);
        pid_ = -1;
        throw std::runtime_error(
            fmt::format("cannot start {}: {}", program, std::strerror(child_errno)));
    }
}

Process::Process(Process&& other) noexcept
    : argv_(std::move(other.argv_)),
      name_(std::move(other.name_)),
      stdout_path_(std::move(other.stdout_path_)),
      stderr_path_(std::move(other.stderr_path_)),
      pid_(std::exchange(other.pid_, -1)),
      status_(other.status_),
      report_on_failure_(other.report_on_failure_),
      watch_(other.watch_) {}

Process::~Process() {
    if (pid_ < 0) return;
    kill();
    if (report_on_failure_ && watch_.failed()) std::cerr << report() << std::flush;
}

std::string Process::command_line() const {
    std::string out;
    for (const auto& a : argv_) {
        if (!out.empty()) out += ' ';
        bool plain = !a.empty() && a.find_first_of(" '\"&?;|*$<>()") == std::string::npos;
        out += plain ? a : "'" + a + "'";
    }
    return out;
}

bool Process::reap(bool block) {
    if (status_) return true;
    if (pid_ < 0) return false;
    int raw = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &raw, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r != pid_) return false;
    ExitStatus s;
    if (WIFEXITED(raw)) s.code = WEXITSTATUS(raw);
    if (WIFSIGNALED(raw)) s.signal = WTERMSIG(raw);
    status_ = s;
    return true;
}

bool Process::running() {
    return pid_ >= 0 && !reap(false);
}

void Process::signal(int sig) {
    if (pid_ >= 0 && !status_) ::kill(pid_, sig);
}

std::optional<ExitStatus> Process::wait_for(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!reap(false)) {
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status_;
}

void Process::kill() {
    if (pid_ < 0 || status_) return;
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    reap(true);
}

std::string Process::read_stdout() const {
    return read_file(stdout_path_);
}
std::string Process::read_stderr() const {
    return read_file(stderr_path_);
}

std::string Process::report(size_t lines) const {
    return fmt::format("---- {} (pid {}): {}\n$ {}\n---- last lines of {}:\n{}\n----\n", name_,
                       pid_, status_ ? status_->describe() : "still running", command_line(),
                       stderr_path_.string(), tail_file(stderr_path_, lines));
}

RunResult run_to_completion(ProcessOptions options, std::chrono::milliseconds timeout) {
    Process p(std::move(options));
    RunResult result;
    result.status = p.wait_for(timeout);
    if (!result.status) p.kill();
    result.out = p.read_stdout();
    result.err = p.read_stderr();
    return result;
}

}  // namespace onair::testing
