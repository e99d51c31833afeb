#include "tools/status_pusher.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "core/log.hpp"
#include "origin/ingest_protocol.hpp"

namespace onair::tools {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kLog = "status";

}  // namespace

StatusPusher::StatusPusher(StatusPusherOptions options, const core::PipelineRuntimeStatus& status)
    : options_(std::move(options)),
      status_(status),
      client_(options_.origin.host, options_.origin.port, options_.http) {}

StatusPusher::~StatusPusher() {
    stop();
}

void StatusPusher::start() {
    if (worker_.joinable()) return;
    worker_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void StatusPusher::stop() {
    if (!worker_.joinable()) return;
    worker_.request_stop();
    worker_.join();
    (void)push({});  // the final state, once the thread is gone
}

void StatusPusher::run(std::stop_token stop) {
    std::mutex mutex;
    std::condition_variable_any tick;
    auto next = std::chrono::steady_clock::now();
    while (!stop.stop_requested()) {
        (void)push(stop);
        next = std::max(next + options_.interval, std::chrono::steady_clock::now());
        std::unique_lock lock(mutex);
        tick.wait_until(lock, stop, next, [] { return false; });
    }
}

bool StatusPusher::push(std::stop_token stop) {
    auto report = origin::ingest::StatusReport::of(status_);
    auto request = origin::make_request(
        http::verb::put, origin::ingest::status_target(options_.channel, status_.id),
        origin::SharedBuffer::from_string(origin::ingest::status_json(report)), "application/json");
    request.set(http::field::authorization, "Bearer " + options_.token);
    auto response = client_.send(std::move(request), stop);
    if (stop.stop_requested()) return false;
    if (response && response->result_int() == 200) {
        if (failing_) log::info(kLog, "the origin takes status reports again");
        failing_ = false;
        ++sent_;
        return true;
    }
    if (!failing_)
        log::warn(kLog, "cannot report status to the origin: {}",
                  response ? fmt::format("it answered {}: {}", response->result_int(),
                                         response->body().substr(0, 200))
                           : response.error().message);
    failing_ = true;
    return false;
}

}  // namespace onair::tools
