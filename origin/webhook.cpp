#include "origin/webhook.hpp"

#include <boost/beast/http/verb.hpp>

#include "core/log.hpp"

namespace onair::origin {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kLog = "webhook";

// A refusal that a later attempt cannot change.
bool permanent(int status) {
    return status >= 400 && status < 500 && status != 408 && status != 429;
}

}  // namespace

core::Result<std::unique_ptr<WebhookNotifier>> WebhookNotifier::create(std::string_view url,
                                                                       WebhookOptions options) {
    auto parsed = parse_http_url(url);
    if (!parsed) return std::unexpected(parsed.error());
    return std::make_unique<WebhookNotifier>(std::move(*parsed), std::move(options));
}

WebhookNotifier::WebhookNotifier(HttpUrl url, WebhookOptions options)
    : url_(std::move(url)),
      options_(std::move(options)),
      queue_(options_.queue_name, options_.capacity,
             {.overflow = core::Overflow::drop_oldest,
              .registry = options_.queues,
              .on_drop = [this](const std::string&, uint64_t dropped) {
                  if ((dropped - 1) % 100 == 0)
                      log::warn(kLog,
                                "{}: queue full, dropped the oldest event (dropped so far: {})",
                                url_.text(), dropped);
              }}) {
    worker_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

WebhookNotifier::~WebhookNotifier() {
    stop();
}

void WebhookNotifier::post(std::string json) {
    queue_.push(std::move(json));
}

void WebhookNotifier::stop() {
    if (!worker_.joinable()) return;
    worker_.request_stop();
    worker_.join();
    if (!queue_.empty())
        log::warn(kLog, "{}: stopped with {} event(s) not delivered", url_.text(), queue_.size());
}

void WebhookNotifier::run(std::stop_token stop) {
    HttpClient client(url_.host, url_.port, options_.http);
    for (;;) {
        auto json = queue_.pop(stop);
        if (!json) return;
        if (deliver(client, *json, stop))
            ++delivered_;
        else if (!stop.stop_requested())
            ++failed_;
        if (stop.stop_requested()) return;
    }
}

bool WebhookNotifier::deliver(HttpClient& client, const std::string& json, std::stop_token stop) {
    std::string last;
    for (std::size_t attempt = 0;; ++attempt) {
        ++attempts_;
        auto request = make_request(http::verb::post, url_.target, SharedBuffer::from_string(json),
                                    "application/json");
        auto response = client.send(std::move(request), stop);
        if (stop.stop_requested()) return false;
        if (response && response->result_int() / 100 == 2) {
            if (attempt > 0)
                log::info(kLog, "{}{}: delivered on attempt {}", url_.text(), url_.target,
                          attempt + 1);
            return true;
        }
        last = response ? fmt::format("answered {}", response->result_int())
                        : response.error().message;
        if (response && permanent(response->result_int())) {
            log::warn(kLog, "{}{}: event refused ({}); not retried", url_.text(), url_.target,
                      last);
            return false;
        }
        if (attempt >= options_.backoff.size()) break;
        if (attempt == 0) log::warn(kLog, "{}{}: {}; retrying", url_.text(), url_.target, last);
        // Wait, but wake at once on stop.
        std::unique_lock lock(pause_mutex_);
        if (pause_.wait_for(lock, stop, options_.backoff[attempt], [] { return false; })) break;
        if (stop.stop_requested()) return false;
    }
    log::warn(kLog, "{}{}: gave up on an event after {} attempts: {}", url_.text(), url_.target,
              options_.backoff.size() + 1, last);
    return false;
}

}  // namespace onair::origin
