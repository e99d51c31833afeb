#include "tools/schedule_command.hpp"

#include <pthread.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "core/log.hpp"
#include "core/token.hpp"
#include "origin/http_server.hpp"
#include "schedule/controller.hpp"
#include "schedule/event_clips.hpp"
#include "schedule/event_store.hpp"
#include "schedule/events_api.hpp"
#include "schedule/kubernetes_runner.hpp"
#include "schedule/local_runner.hpp"
#include "schedule/schedule_check.hpp"

namespace onair::tools {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitInvalid = 2;

// The schedule read and checked (its channel files, port overlaps); every
// problem printed. nullopt when there is one.
std::optional<schedule::ScheduleConfig> load_checked(const std::string& path) {
    auto config = schedule::load_schedule_config(path);
    if (!config) {
        for (const auto& d : config.error()) fmt::print(stderr, "{}\n", d.to_string());
        return std::nullopt;
    }
    auto checked = schedule::check_schedule(*config);
    if (!checked.problems.empty()) {
        for (const auto& d : checked.problems) fmt::print(stderr, "{}\n", d.to_string());
        return std::nullopt;
    }
    return std::move(*config);
}

// "local (...)" or "kubernetes (...)": the runner's line of --check and the log.
std::string runner_summary(const schedule::RunnerConfig& runner) {
    if (runner.type == schedule::RunnerType::local)
        return "local (onair run child processes on this machine)";
    return fmt::format(
        "kubernetes (namespace {}, image {}, storage {} {}, kubectl {}{})", runner.namespace_,
        runner.image, runner.storage_size,
        runner.storage_class.empty() ? "of the default class" : "of class " + runner.storage_class,
        runner.kubectl,
        runner.api_token_secret.empty() ? ""
                                        : ", API token from Secret " + runner.api_token_secret);
}

// The runner the schedule names; the controller knows it only as a Runner.
std::unique_ptr<schedule::Runner> make_runner(const schedule::RunnerConfig& runner) {
    if (runner.type == schedule::RunnerType::kubernetes)
        return std::make_unique<schedule::KubernetesRunner>(schedule::kubernetes_options(runner));
    return std::make_unique<schedule::LocalRunner>();
}

}  // namespace

int check_schedule_file(const std::string& path) {
    auto config = load_checked(path);
    if (!config) return kExitInvalid;
    fmt::print("{}: {} event{}, events API on {}:{}, state in {}\n", path, config->events.size(),
               config->events.size() == 1 ? "" : "s", config->listen.host, config->listen.port,
               config->data);
    fmt::print("  runner {}\n", runner_summary(config->runner));
    for (const auto& e : config->events)
        fmt::print("  {}  {} .. {}  preroll {}  teardown {}  harvest {}  {}\n", e.id,
                   schedule::time_text(e.start), schedule::time_text(e.end),
                   schedule::time_text(e.preroll), schedule::to_string(e.teardown),
                   schedule::kHarvests.name(e.harvest), e.channel);
    return kExitOk;
}

int run_schedule(const std::string& path) {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // every thread after this inherits it
    std::signal(SIGPIPE, SIG_IGN);

    auto config = load_checked(path);
    if (!config) return kExitInvalid;
    log::set_channel("events");
    std::string why;
    const auto token = core::read_token("ONAIR_API_TOKEN", "", why).value_or("");
    if (token.empty())
        log::warn("schedule", "no ONAIR_API_TOKEN: the events API refuses changes (403)");

    std::error_code ec;
    std::filesystem::create_directories(config->data, ec);
    if (ec) {
        log::error("schedule", "data folder {}: {}", config->data, ec.message());
        return kExitFailure;
    }
    auto store =
        schedule::EventStore::open((std::filesystem::path(config->data) / "events.db").string());
    if (!store) {
        log::error("schedule", "{}", store.error().message);
        return kExitFailure;
    }
    auto runner = make_runner(config->runner);
    log::info("schedule", "runner: {}", runner_summary(config->runner));
    const auto listen = config->listen;
    schedule::Controller controller(std::move(*config), *runner, **store);
    schedule::EventClips clips(controller, token);
    schedule::EventsApi api(controller, clips, token);
    std::optional<origin::WebAssets> web;
    if (const auto root = origin::find_web_root(); root.empty()) {
        log::warn("schedule", "no web assets found: the events page is not served");
    } else if (auto loaded = origin::WebAssets::load(root)) {
        web = std::move(*loaded);
        api.set_web(*web);
    } else {
        log::error("schedule", "web assets: {}", loaded.error().message);
    }
    // The same per-client limit as a channel's API (origin.api_rate's defaults).
    origin::HttpServer server({.host = listen.host,
                               .port = uint16_t(listen.port),
                               .rate_limit = {.per_second = 100, .burst = 200}},
                              api.handler());
    if (auto ok = server.start(); !ok) {
        log::error("schedule", "cannot listen: {}", ok.error().message);
        return kExitFailure;
    }
    if (auto ok = controller.start(); !ok) {
        log::error("schedule", "cannot start: {}", ok.error().message);
        return kExitFailure;
    }
    log::info("schedule", "events page on http://{}:{}/, API on /api/v1/events ({} events)",
              listen.host, server.port(), controller.events().size());
    for (;;) {
        int signal = 0;
        sigwait(&signals, &signal);
        if (signal == SIGHUP) {
            log::info("schedule", "SIGHUP: reloading {}", path);
            if (auto changes = controller.reload(); !changes)
                for (const auto& r : changes.error().reasons)
                    log::error("schedule", "reload refused: {}", r);
            continue;
        }
        log::info("schedule", "{}: stopping the controller (channels keep running)",
                  strsignal(signal));
        break;
    }
    server.stop();
    controller.stop();
    log::info("schedule", "stopped");
    return kExitOk;
}

}  // namespace onair::tools
