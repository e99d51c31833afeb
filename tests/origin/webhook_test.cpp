// WebhookNotifier against a local onair HttpServer standing in for the
// receiver: delivery, retries after failures, giving up, and stopping.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "origin/http_server.hpp"
#include "origin/webhook.hpp"
#include "tests/support/wait.hpp"

using namespace onair;
using namespace onair::origin;
namespace http = boost::beast::http;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Answers with the given statuses in turn (the last one from then on) and
// keeps what it received.
struct Receiver {
    struct Received {
        std::string method, target, content_type, body;
    };
    std::vector<int> statuses;
    std::mutex mutex;
    std::vector<Received> received;
    HttpServer server;

    explicit Receiver(std::vector<int> answers)
        : statuses(std::move(answers)), server(options(), [this](const Request& r) {
              std::lock_guard lock(mutex);
              auto type = r.find(http::field::content_type);
              received.push_back({std::string(r.method_string()), std::string(r.target()),
                                  type == r.end() ? "" : std::string(type->value()), r.body()});
              int status = statuses[std::min(received.size(), statuses.size()) - 1];
              return make_response(http::status(status), "text/plain", "no-store",
                                   SharedBuffer::from_string("ok"));
          }) {
        REQUIRE(server.start());
    }
    static HttpServerOptions options() {
        HttpServerOptions o;
        o.port = 0;
        o.threads = 1;
        return o;
    }
    std::string url() const {
        return fmt::format("http://127.0.0.1:{}/hooks/onair", server.port());
    }
    std::size_t count() {
        std::lock_guard lock(mutex);
        return received.size();
    }
};

using onair::testing::eventually;

}  // namespace

TEST_CASE("webhook: an event is POSTed as JSON", "[webhook]") {
    Receiver receiver({200});
    auto notifier = WebhookNotifier::create(receiver.url());
    REQUIRE(notifier);
    (*notifier)->post(R"({"event":"failover","from":"a","to":"b"})");
    REQUIRE(eventually([&] { return (*notifier)->delivered() == 1; }));
    std::lock_guard lock(receiver.mutex);
    REQUIRE(receiver.received.size() == 1);
    const auto& got = receiver.received[0];
    CHECK(got.method == "POST");
    CHECK(got.target == "/hooks/onair");
    CHECK(got.content_type == "application/json");
    CHECK(got.body == R"({"event":"failover","from":"a","to":"b"})");
}

TEST_CASE("webhook: a 500 is retried after the first back-off and then delivered", "[webhook]") {
    Receiver receiver({500, 200});
    auto notifier = WebhookNotifier::create(receiver.url());
    REQUIRE(notifier);
    auto start = Clock::now();
    (*notifier)->post(R"({"n":1})");
    REQUIRE(eventually([&] { return (*notifier)->delivered() == 1; }));
    auto took = Clock::now() - start;
    CHECK(receiver.count() == 2);
    CHECK((*notifier)->attempts() == 2);
    CHECK((*notifier)->failed() == 0);
    CHECK(took >= 450ms);  // the first back-off is 0.5 s
    CHECK(took < 3s);
    std::lock_guard lock(receiver.mutex);
    CHECK(receiver.received[1].body == R"({"n":1})");
}

TEST_CASE("webhook: events go out in order, a failing one does not lose the next", "[webhook]") {
    Receiver receiver({503, 200});
    WebhookOptions o;
    o.backoff = {20ms, 20ms};
    auto notifier = WebhookNotifier::create(receiver.url(), o);
    REQUIRE(notifier);
    for (int i = 0; i < 3; ++i) (*notifier)->post(fmt::format(R"({{"n":{}}})", i));
    REQUIRE(eventually([&] { return (*notifier)->delivered() == 3; }));
    std::lock_guard lock(receiver.mutex);
    REQUIRE(receiver.received.size() == 4);
    CHECK(receiver.received[0].body == R"({"n":0})");
    CHECK(receiver.received[1].body == R"({"n":0})");
    CHECK(receiver.received[2].body == R"({"n":1})");
    CHECK(receiver.received[3].body == R"({"n":2})");
}

TEST_CASE("webhook: after the last back-off the event is given up", "[webhook]") {
    Receiver receiver({500});
    WebhookOptions o;
    o.backoff = {10ms, 10ms, 10ms};
    auto notifier = WebhookNotifier::create(receiver.url(), o);
    REQUIRE(notifier);
    (*notifier)->post("{}");
    REQUIRE(eventually([&] { return (*notifier)->failed() == 1; }));
    CHECK(receiver.count() == 4);  // the first attempt and one per back-off
    CHECK((*notifier)->delivered() == 0);
}

TEST_CASE("webhook: a 4xx refusal is not retried", "[webhook]") {
    Receiver receiver({404, 200});
    WebhookOptions o;
    o.backoff = {10ms};
    auto notifier = WebhookNotifier::create(receiver.url(), o);
    REQUIRE(notifier);
    (*notifier)->post("{}");
    REQUIRE(eventually([&] { return (*notifier)->failed() == 1; }));
    CHECK(receiver.count() == 1);
}

TEST_CASE("webhook: post never blocks, a full queue drops the oldest", "[webhook]") {
    // Nothing answers there: the first event is stuck in its back-off.
    uint16_t port = 0;
    {
        Receiver gone({200});
        port = gone.server.port();
    }
    WebhookOptions o;
    o.capacity = 4;
    WebhookNotifier notifier({"127.0.0.1", port, "/"}, o);
    auto start = Clock::now();
    for (int i = 0; i < 100; ++i) notifier.post("{}");
    CHECK(Clock::now() - start < 100ms);
    CHECK(notifier.dropped() >= 95);
    CHECK(notifier.dropped() <= 96);
}

TEST_CASE("webhook: stop() is prompt during a back-off", "[webhook]") {
    uint16_t port = 0;
    {
        Receiver gone({200});
        port = gone.server.port();
    }
    WebhookNotifier notifier({"127.0.0.1", port, "/"});  // back-off 0.5 s, 1 s, ...
    notifier.post("{}");
    REQUIRE(eventually([&] { return notifier.attempts() >= 1; }));
    auto start = Clock::now();
    notifier.stop();
    CHECK(Clock::now() - start < 200ms);
    CHECK(notifier.delivered() == 0);
}

TEST_CASE("webhook: a bad URL is refused", "[webhook]") {
    CHECK_FALSE(WebhookNotifier::create("https://example.com/hook"));
    CHECK_FALSE(WebhookNotifier::create("example.com/hook"));
}
