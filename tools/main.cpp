// onair: the command line. Parses arguments, loads the channel file and runs
// the command; the one place a channel is wired together (via Channel).
#include <pthread.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include "core/config.hpp"
#include "core/log.hpp"
#include "tools/channel.hpp"
#include "tools/plan.hpp"

namespace {

using namespace onair;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;  // also: the channel file is not valid

constexpr std::string_view kUsage = R"(onair - live transcode and package server

usage: onair [OPTIONS] COMMAND [ARGS]
       onair --version | --help

commands:
  run FILE     run the channel described in FILE until SIGINT or SIGTERM
  check FILE   validate FILE and print the resolved plan
               (exit 0 if valid, 2 if not, with one line per problem)

options:
  --log-format text|json   log lines for people (default) or for log shippers
  --log-level LEVEL        debug, info (default), warn or error
  -h, --help               this help; 'onair COMMAND --help' for a command's
  --version                the version of onair and of the FFmpeg libraries

Logs go to stderr, one line per event: UTC time, level, channel, component.
)";

constexpr std::string_view kRunUsage = R"(usage: onair run [OPTIONS] FILE

Runs the channel in FILE: ingests its inputs, encodes the ladder, and serves
HLS from the origin until SIGINT or SIGTERM, then flushes the last segment of
every rendition, closes its sockets and exits 0. The channel file is
validated first, as 'onair check' does (exit 2 when it is not valid, or when
a port it needs is in use).

options: --log-format text|json, --log-level LEVEL
)";

constexpr std::string_view kCheckUsage = R"(usage: onair check FILE

Validates FILE and prints the resolved plan: inputs, ladder, segment timing
and the URLs to play. When FILE is not valid, prints every problem at once,
one per line, as FILE:LINE:COL: key.path: what is wrong (what is allowed),
and exits 2. Ports already in use count as problems.
)";

struct Arguments {
    std::string command;
    std::vector<std::string> positional;
    bool help = false;
    bool version = false;
    log::Format log_format = log::Format::text;
    log::Level log_level = log::Level::info;
};

int usage_error(std::string_view message) {
    fmt::print(stderr, "onair: {}\nRun 'onair --help' for usage.\n", message);
    return kExitUsage;
}

// Returns an exit code when parsing ends the program.
std::optional<int> parse(int argc, char** argv, Arguments& args) {
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&](std::string_view name) -> std::optional<std::string> {
            if (auto eq = a.find('='); eq != std::string_view::npos)
                return std::string(a.substr(eq + 1));
            if (i + 1 >= argc) return std::nullopt;
            (void)name;
            return std::string(argv[++i]);
        };
        if (a == "-h" || a == "--help") {
            args.help = true;
        } else if (a == "--version") {
            args.version = true;
        } else if (a.starts_with("--log-format")) {
            auto v = value("--log-format");
            if (v == "text") {
                args.log_format = log::Format::text;
            } else if (v == "json") {
                args.log_format = log::Format::json;
            } else {
                return usage_error(
                    fmt::format("--log-format takes text or json, not '{}'", v.value_or("")));
            }
        } else if (a.starts_with("--log-level")) {
            auto v = value("--log-level");
            auto level = v ? log::parse_level(*v) : std::nullopt;
            if (!level)
                return usage_error(fmt::format(
                    "--log-level takes debug, info, warn or error, not '{}'", v.value_or("")));
            args.log_level = *level;
        } else if (a.starts_with("-") && a != "-") {
            return usage_error(fmt::format("unknown option '{}'", a));
        } else if (args.command.empty()) {
            args.command = a;
        } else {
            args.positional.emplace_back(a);
        }
    }
    return std::nullopt;
}

void print_diagnostics(const std::vector<core::Diagnostic>& diagnostics) {
    for (const auto& d : diagnostics) fmt::print(stderr, "{}\n", d.to_string());
}

// Loads the file and checks its ports; prints what is wrong.
std::optional<core::ChannelConfig> load_valid(const std::string& path) {
    auto config = core::load_channel_config(path);
    if (!config) {
        print_diagnostics(config.error());
        return std::nullopt;
    }
    if (auto busy = core::check_ports_free(*config); !busy.empty()) {
        print_diagnostics(busy);
        return std::nullopt;
    }
    return std::move(*config);
}

int command_check(const Arguments& args) {
    if (args.help) return fmt::print("{}", kCheckUsage), kExitOk;
    if (args.positional.size() != 1) return usage_error("check takes one FILE");
    auto config = load_valid(args.positional[0]);
    if (!config) return kExitUsage;
    fmt::print("{}", tools::render_plan(*config));
    return kExitOk;
}

int command_run(const Arguments& args) {
    if (args.help) return fmt::print("{}", kRunUsage), kExitOk;
    if (args.positional.size() != 1) return usage_error("run takes one FILE");

    // Every thread started from here on inherits this mask: only the main
    // thread takes SIGINT/SIGTERM, in sigwait below.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    auto config = load_valid(args.positional[0]);
    if (!config) return kExitUsage;
    log::set_channel(config->channel);
    log::capture_libav();
    av_log_set_level(AV_LOG_WARNING);

    tools::Channel channel(std::move(*config));
    if (auto ok = channel.start(); !ok) {
        log::error("onair", "cannot start: {}", ok.error().message);
        return kExitFailure;
    }
    int signal = 0;
    sigwait(&stop_signals, &signal);
    log::info("onair", "{}: stopping (flushing the last segments)", strsignal(signal));
    // A second signal while stopping means: now.
    std::thread([stop_signals] {
        int again = 0;
        sigwait(&stop_signals, &again);
        log::warn("onair", "{} again: exiting at once", strsignal(again));
        _exit(kExitFailure);
    }).detach();
    channel.stop();
    log::info("onair", "stopped");
    return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    Arguments args;
    if (auto code = parse(argc, argv, args)) return *code;
    log::configure(args.log_format, args.log_level);
    if (args.version) {
        fmt::print("onair {}\nlibavformat {}, libavcodec {}\n", ONAIR_VERSION,
                   AV_STRINGIFY(LIBAVFORMAT_VERSION), AV_STRINGIFY(LIBAVCODEC_VERSION));
        return kExitOk;
    }
    if (args.command.empty()) {
        fmt::print(args.help ? stdout : stderr, "{}", kUsage);
        return args.help ? kExitOk : kExitUsage;
    }
    if (args.command == "run") return command_run(args);
    if (args.command == "check") return command_check(args);
    if (args.command == "help") return fmt::print("{}", kUsage), kExitOk;
    return usage_error(fmt::format("unknown command '{}' (commands: run, check)", args.command));
}
