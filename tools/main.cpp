// onair: the command line. Parses arguments, loads the channel file and runs
// the command; the one place a channel is wired together (via Channel).
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
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
#include "core/machine_check.hpp"
#include "core/token.hpp"
#include "origin/http_client.hpp"
#include "packager/clip_media.hpp"
#include "tools/channel.hpp"
#include "tools/heap.hpp"
#include "tools/plan.hpp"
#include "tools/remote_pipeline.hpp"
#include "tools/schedule_command.hpp"

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
  origin FILE  run only the channel's origin; its pipelines push to it
               from other processes ('onair encode')
  encode FILE --pipeline a|b --origin http://HOST:PORT
               run one pipeline of the channel, pushing its segments to
               the origin at that URL
  schedule FILE
               run the event controller: deploy each event's channel at
               its preroll, tear it down at its end (or on the operator's
               word); 'schedule --check FILE' validates

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

When an ingest token is configured (ONAIR_INGEST_TOKEN, or the file named
by origin.ingest_token_file), the origin also takes segments pushed by
'onair encode' under /ingest/.

options: --log-format text|json, --log-level LEVEL
)";

constexpr std::string_view kOriginUsage = R"(usage: onair origin [OPTIONS] FILE

Runs the origin of the channel in FILE alone: the segment store, playlists
and status over HTTP, and the ingest routes that pipelines in other
processes push to ('onair encode FILE --pipeline a|b --origin URL'). No
input is opened and nothing is encoded here. Runs until SIGINT or SIGTERM,
then exits 0.

Pushes must carry the ingest token (Authorization: Bearer TOKEN): it comes
from ONAIR_INGEST_TOKEN, else from the first line of the file named by
origin.ingest_token_file. Without one, exits 2. Exits 2 as well when FILE
is not valid or the origin's port is in use.

options: --log-format text|json, --log-level LEVEL
)";

constexpr std::string_view kEncodeUsage =
    R"(usage: onair encode [OPTIONS] FILE --pipeline a|b --origin http://HOST:PORT

Runs one pipeline of the channel in FILE: opens that pipeline's input
(inputs.a or inputs.b), encodes the ladder and pushes every segment to the
origin with HTTP PUT, with its media time, duration and slate flag, and
reports the pipeline's status to it every second. With 'timecode: pts' the
origin's time anchor is shared, so the two pipelines (and a restarted one)
number segments alike; when the origin cannot answer, a local anchor is
used and a warning logged. Segments wait in a bounded queue while the
origin is unreachable and are retried until they are older than the
playlist window.

Needs the ingest token, from ONAIR_INGEST_TOKEN or origin.ingest_token_file
(exit 2 without one). Only this pipeline's input port is checked. Runs
until SIGINT or SIGTERM, then flushes the last segments (up to 5 s to
deliver them) and exits 0.

options:
  --pipeline a|b            the input of FILE this process runs
  --origin http://HOST:PORT where the origin ('onair origin FILE') listens
  --log-format text|json, --log-level LEVEL
)";

constexpr std::string_view kScheduleUsage = R"(usage: onair schedule [OPTIONS] FILE
       onair schedule --check FILE

Runs the event controller of the schedule in FILE: each event's channel
(with the local runner 'onair run CHANNEL_FILE' in its own process group;
with runner.type: kubernetes, objects applied with kubectl) is started at the
event's preroll with the channel file as it is then, goes live at start,
keeps running past its end until the operator confirms teardown (or
'teardown: auto' / 'after DURATION'), is harvested as a clip if asked, and
is stopped. The controller's state (events, history, the channels it runs)
is kept in DATA/events.db; started again, it adopts the channels still
running. The events API listens on 'listen' (see README: Events);
changes need ONAIR_API_TOKEN as a Bearer token.

SIGHUP reads FILE again: its changes apply to events not yet deployed.
SIGINT or SIGTERM stop the controller; its channels keep running.

--check validates FILE and every channel file it names (ports of events
that overlap in time included) and prints the events; every problem at
once as FILE:LINE:COL: key.path: what is wrong (what is allowed), exit 2.

options: --check, --log-format text|json, --log-level LEVEL
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
    std::optional<std::string> pipeline;  // encode
    std::optional<std::string> origin;    // encode
    bool check = false;                   // schedule --check
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
        } else if (a == "--pipeline" || a.starts_with("--pipeline=")) {
            args.pipeline = value("--pipeline");
            if (!args.pipeline) return usage_error("--pipeline takes a or b");
        } else if (a == "--origin" || a.starts_with("--origin=")) {
            args.origin = value("--origin");
            if (!args.origin) return usage_error("--origin takes a URL such as http://HOST:PORT");
        } else if (a == "--check") {
            args.check = true;
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

// Loads the file and checks it against the machine (readable files, free
// ports in `scope`); prints what is wrong.
std::optional<core::ChannelConfig> load_valid(const std::string& path,
                                              core::MachineScope scope = {}) {
    core::ChannelConfig partial;
    auto config = core::load_channel_config(path, &partial);
    if (!config) {
        // Every problem at once: the files the readable part names, too.
        auto problems = std::move(config.error());
        for (auto& d : core::check_files_readable(partial)) problems.push_back(std::move(d));
        std::stable_sort(problems.begin(), problems.end(), core::before);
        print_diagnostics(problems);
        return std::nullopt;
    }
    if (auto problems = core::check_machine(*config, scope); !problems.empty()) {
        print_diagnostics(problems);
        return std::nullopt;
    }
    return std::move(*config);
}

// Only the main thread takes SIGINT/SIGTERM (in wait_for_stop): every thread
// started after this inherits the mask.
sigset_t block_stop_signals() {
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    return stop_signals;
}

// Waits for SIGINT or SIGTERM; a second one while stopping exits at once.
void wait_for_stop(const sigset_t& stop_signals, std::string_view what) {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    log::info("onair", "{}: stopping ({})", strsignal(signal), what);
    std::thread([stop_signals] {
        int again = 0;
        sigwait(&stop_signals, &again);
        log::warn("onair", "{} again: exiting at once", strsignal(again));
        _exit(kExitFailure);
    }).detach();
}

void start_logging(const core::ChannelConfig& config) {
    log::set_channel(config.channel);
    log::capture_libav();
    av_log_set_level(AV_LOG_WARNING);
}

// The ingest token, or nullopt with why there is none in `why`.
std::optional<std::string> ingest_token(const core::ChannelConfig& config, std::string& why) {
    return core::read_token("ONAIR_INGEST_TOKEN", config.origin.ingest_token_file, why);
}

// Options that only some commands take.
std::optional<int> refuse_encode_options(const Arguments& args) {
    if (args.pipeline || args.origin)
        return usage_error(
            fmt::format("--pipeline and --origin are options of 'encode', not '{}'", args.command));
    return std::nullopt;
}

int command_check(const Arguments& args) {
    if (args.help) return fmt::print("{}", kCheckUsage), kExitOk;
    if (auto code = refuse_encode_options(args)) return *code;
    if (args.positional.size() != 1) return usage_error("check takes one FILE");
    auto config = load_valid(args.positional[0]);
    if (!config) return kExitUsage;
    fmt::print("{}", tools::render_plan(*config));
    return kExitOk;
}

int command_run(const Arguments& args) {
    if (args.help) return fmt::print("{}", kRunUsage), kExitOk;
    if (auto code = refuse_encode_options(args)) return *code;
    if (args.positional.size() != 1) return usage_error("run takes one FILE");
    const sigset_t stop_signals = block_stop_signals();

    auto config = load_valid(args.positional[0]);
    if (!config) return kExitUsage;
    start_logging(*config);
    auto clip_media = packager::make_clip_media();
    tools::ChannelOptions options;
    options.clip_media = clip_media.get();
    // Ingest is optional here: only a token that is configured but cannot
    // be read is an error.
    std::string why;
    options.ingest_token = ingest_token(*config, why);
    if (!options.ingest_token && !config->origin.ingest_token_file.empty()) {
        fmt::print(stderr, "onair: no ingest token: {}\n", why);
        return kExitUsage;
    }

    tools::Channel channel(std::move(*config), std::move(options));
    if (auto ok = channel.start(); !ok) {
        log::error("onair", "cannot start: {}", ok.error().message);
        return kExitFailure;
    }
    wait_for_stop(stop_signals, "flushing the last segments");
    channel.stop();
    log::info("onair", "stopped");
    return kExitOk;
}

int command_origin(const Arguments& args) {
    if (args.help) return fmt::print("{}", kOriginUsage), kExitOk;
    if (auto code = refuse_encode_options(args)) return *code;
    if (args.positional.size() != 1) return usage_error("origin takes one FILE");
    const sigset_t stop_signals = block_stop_signals();

    auto config = load_valid(args.positional[0], {.origin = true, .inputs = false});
    if (!config) return kExitUsage;
    std::string why;
    auto clip_media = packager::make_clip_media();
    tools::ChannelOptions options{.run_pipelines = false,
                                  .ingest_token = ingest_token(*config, why),
                                  .clip_media = clip_media.get()};
    if (!options.ingest_token) {
        fmt::print(stderr, "onair: 'onair origin' needs the ingest token: {}\n", why);
        return kExitUsage;
    }
    start_logging(*config);

    tools::Channel channel(std::move(*config), std::move(options));
    if (auto ok = channel.start(); !ok) {
        log::error("onair", "cannot start: {}", ok.error().message);
        return kExitFailure;
    }
    wait_for_stop(stop_signals, "closing the origin");
    channel.stop();
    log::info("onair", "stopped");
    return kExitOk;
}

int command_encode(const Arguments& args) {
    if (args.help) return fmt::print("{}", kEncodeUsage), kExitOk;
    if (args.positional.size() != 1) return usage_error("encode takes one FILE");
    if (!args.pipeline || (*args.pipeline != "a" && *args.pipeline != "b"))
        return usage_error("encode needs --pipeline a or --pipeline b");
    if (!args.origin) return usage_error("encode needs --origin http://HOST:PORT");
    auto url = origin::parse_http_url(*args.origin);
    if (!url) return usage_error(fmt::format("--origin: {}", url.error().message));
    const char pipeline = (*args.pipeline)[0];
    const sigset_t stop_signals = block_stop_signals();

    auto config = load_valid(args.positional[0], {.origin = false, .only_input = pipeline});
    if (!config) return kExitUsage;
    if (std::none_of(config->inputs.begin(), config->inputs.end(),
                     [&](const auto& in) { return in.id == pipeline; })) {
        fmt::print(stderr, "{}: inputs.{}: no such input; this channel has {}\n", config->file,
                   pipeline,
                   config->inputs.size() == 1 ? "only inputs.a" : "inputs.a and inputs.b");
        return kExitUsage;
    }
    std::string why;
    auto token = ingest_token(*config, why);
    if (!token) {
        fmt::print(stderr, "onair: 'onair encode' needs the ingest token: {}\n", why);
        return kExitUsage;
    }
    start_logging(*config);

    auto encoder = tools::RemotePipeline::create(
        std::move(*config), {.origin = std::move(*url), .pipeline = pipeline, .token = *token});
    if (!encoder) {
        fmt::print(stderr, "{}\n", encoder.error().message);
        return kExitUsage;
    }
    (*encoder)->start();
    wait_for_stop(stop_signals, "flushing the last segments to the origin");
    (*encoder)->stop();
    log::info("onair", "stopped");
    return kExitOk;
}

int command_schedule(const Arguments& args) {
    if (args.help) return fmt::print("{}", kScheduleUsage), kExitOk;
    if (auto code = refuse_encode_options(args)) return *code;
    if (args.positional.size() != 1) return usage_error("schedule takes one FILE");
    if (args.check) return tools::check_schedule_file(args.positional[0]);
    return tools::run_schedule(args.positional[0]);
}

}  // namespace

int main(int argc, char** argv) {
    tools::keep_large_blocks_mapped();
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
    if (args.check && args.command != "schedule")
        return usage_error("--check is an option of 'schedule'");
    if (args.command == "check") return command_check(args);
    // The long-running commands give their heaps' free pages back as they run.
    tools::HeapTrimmer heap_trimmer(std::chrono::seconds(10));
    if (args.command == "run") return command_run(args);
    if (args.command == "origin") return command_origin(args);
    if (args.command == "encode") return command_encode(args);
    if (args.command == "schedule") return command_schedule(args);
    if (args.command == "help") return fmt::print("{}", kUsage), kExitOk;
    return usage_error(fmt::format(
        "unknown command '{}' (commands: run, check, origin, encode, schedule)", args.command));
}
