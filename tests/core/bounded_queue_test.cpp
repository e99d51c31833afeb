// The one queue type: each overflow policy, its counters, close and drain,
// stop tokens, the worker-pool accounting and the registry.
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/bounded_queue.hpp"

using namespace onair::core;
using namespace std::chrono_literals;

namespace {

std::vector<int> drain(BoundedQueue<int>& queue) {
    std::vector<int> out;
    while (auto item = queue.try_pop()) out.push_back(*item);
    return out;
}

}  // namespace

TEST_CASE("queue: items come out oldest first, counted", "[queue]") {
    BoundedQueue<int> queue("q", 4);
    CHECK(queue.name() == "q");
    CHECK(queue.capacity() == 4);
    CHECK(queue.overflow() == Overflow::block);
    for (int i = 1; i <= 3; ++i) REQUIRE(queue.push(i));
    CHECK(queue.size() == 3);
    int out = 0;
    REQUIRE(queue.pop_for(out, 0ms));
    CHECK(out == 1);
    CHECK(queue.pop() == 2);
    CHECK(queue.try_pop() == 3);
    CHECK_FALSE(queue.try_pop());
    CHECK_FALSE(queue.pop_for(out, 1ms));  // empty: times out
    const QueueFigures f = queue.figures();
    CHECK(f.name == "q");
    CHECK(f.pushed == 3);
    CHECK(f.popped == 3);
    CHECK(f.dropped == 0);
    CHECK(f.depth == 0);
    CHECK(f.high_water == 3);
}

TEST_CASE("queue: a capacity below 1 holds one item", "[queue]") {
    BoundedQueue<int> queue("q", 0, {.overflow = Overflow::drop_oldest});
    CHECK(queue.capacity() == 1);
    queue.push(1);
    queue.push(2);
    CHECK(drain(queue) == std::vector<int>{2});
}

TEST_CASE("queue: block makes a producer wait for room", "[queue]") {
    BoundedQueue<int> queue("q", 2);
    REQUIRE(queue.push(1));
    REQUIRE(queue.push(2));
    auto producer = std::async(std::launch::async, [&] { return queue.push(3); });
    CHECK(producer.wait_for(50ms) == std::future_status::timeout);  // full: waiting
    CHECK(queue.pop() == 1);
    REQUIRE(producer.wait_for(2s) == std::future_status::ready);
    CHECK(producer.get());
    CHECK(drain(queue) == std::vector<int>{2, 3});
    CHECK(queue.dropped() == 0);
    CHECK(queue.high_water() == 2);
}

TEST_CASE("queue: block, try_push refuses when full and counts it", "[queue]") {
    BoundedQueue<int> queue("q", 1);
    CHECK(queue.try_push(1));
    CHECK_FALSE(queue.try_push(2));
    CHECK(queue.dropped() == 1);
    CHECK(queue.pushed() == 1);
    CHECK(drain(queue) == std::vector<int>{1});
}

TEST_CASE("queue: block, a waiting producer ends on stop or close", "[queue]") {
    BoundedQueue<int> queue("q", 1);
    REQUIRE(queue.push(1));
    SECTION("stop requested") {
        std::stop_source stop;
        auto producer =
            std::async(std::launch::async, [&] { return queue.push(2, stop.get_token()); });
        CHECK(producer.wait_for(50ms) == std::future_status::timeout);
        stop.request_stop();
        REQUIRE(producer.wait_for(2s) == std::future_status::ready);
        CHECK_FALSE(producer.get());
    }
    SECTION("closed") {
        auto producer = std::async(std::launch::async, [&] { return queue.push(2); });
        CHECK(producer.wait_for(50ms) == std::future_status::timeout);
        queue.close();
        REQUIRE(producer.wait_for(2s) == std::future_status::ready);
        CHECK_FALSE(producer.get());
    }
    CHECK(drain(queue) == std::vector<int>{1});
    CHECK(queue.dropped() == 0);  // not taken, but not the policy's doing
}

TEST_CASE("queue: drop_oldest never waits and drops the oldest", "[queue]") {
    std::vector<std::pair<int, uint64_t>> dropped;
    BoundedQueue<int> queue(
        "q", 3, {.overflow = Overflow::drop_oldest, .on_drop = [&](const int& item, uint64_t n) {
                     dropped.emplace_back(item, n);
                 }});
    for (int i = 1; i <= 5; ++i) CHECK(queue.push(i));
    CHECK(drain(queue) == std::vector<int>{3, 4, 5});
    CHECK(dropped == std::vector<std::pair<int, uint64_t>>{{1, 1}, {2, 2}});
    CHECK(queue.pushed() == 5);
    CHECK(queue.popped() == 3);
    CHECK(queue.dropped() == 2);
    CHECK(queue.high_water() == 3);
}

TEST_CASE("queue: drop_oldest keeps what `keep` marks", "[queue]") {
    // Negative items stand for markers that must not be lost.
    BoundedQueue<int> queue(
        "q", 3,
        {.overflow = Overflow::drop_oldest, .keep = [](const int& item) { return item < 0; }});
    queue.push(-1);
    queue.push(1);
    queue.push(2);
    queue.push(3);  // 1 goes, not the marker before it
    CHECK(drain(queue) == std::vector<int>{-1, 2, 3});
    queue.push(-1);
    queue.push(-2);
    queue.push(-3);
    queue.push(-4);  // nothing may go: taken anyway
    CHECK(drain(queue) == std::vector<int>{-1, -2, -3, -4});
    CHECK(queue.dropped() == 1);
}

TEST_CASE("queue: refuse_newest never waits and refuses the new item", "[queue]") {
    int refused = 0;
    BoundedQueue<int> queue("q", 2,
                            {.overflow = Overflow::refuse_newest,
                             .on_drop = [&](const int& item, uint64_t) { refused = item; }});
    CHECK(queue.push(1));
    CHECK(queue.push(2));
    CHECK_FALSE(queue.push(3));
    CHECK_FALSE(queue.try_push(4));
    CHECK(refused == 4);
    CHECK(queue.dropped() == 2);
    CHECK(queue.pushed() == 2);
    // Work the owner must not lose goes in anyway.
    CHECK(queue.force_push(5));
    CHECK(queue.size() == 3);
    CHECK(queue.high_water() == 3);
    CHECK(drain(queue) == std::vector<int>{1, 2, 5});
}

TEST_CASE("queue: close lets consumers drain, then they see the end", "[queue]") {
    BoundedQueue<int> queue("q", 4);
    queue.push(1);
    queue.push(2);
    queue.close();
    CHECK(queue.closed());
    CHECK_FALSE(queue.push(3));
    CHECK_FALSE(queue.force_push(3));
    CHECK_FALSE(queue.closed_and_empty());
    CHECK(queue.pop() == 1);
    int out = 0;
    CHECK(queue.pop_for(out, 0ms));
    CHECK(out == 2);
    CHECK(queue.closed_and_empty());
    CHECK_FALSE(queue.pop());             // at once: closed and drained
    CHECK_FALSE(queue.pop_for(out, 1s));  // at once as well
    CHECK(queue.pushed() == 2);
}

TEST_CASE("queue: a waiting consumer wakes on an item, close or stop", "[queue]") {
    BoundedQueue<std::unique_ptr<int>> queue("q", 4);  // move-only items
    SECTION("an item") {
        auto consumer = std::async(std::launch::async, [&] { return queue.pop(); });
        CHECK(consumer.wait_for(50ms) == std::future_status::timeout);
        queue.push(std::make_unique<int>(7));
        REQUIRE(consumer.wait_for(2s) == std::future_status::ready);
        auto item = consumer.get();
        REQUIRE(item);
        CHECK(**item == 7);
    }
    SECTION("close") {
        auto consumer = std::async(std::launch::async, [&] { return queue.pop(); });
        CHECK(consumer.wait_for(50ms) == std::future_status::timeout);
        queue.close();
        REQUIRE(consumer.wait_for(2s) == std::future_status::ready);
        CHECK_FALSE(consumer.get());
    }
    SECTION("stop") {
        std::stop_source stop;
        auto consumer = std::async(std::launch::async, [&] { return queue.pop(stop.get_token()); });
        CHECK(consumer.wait_for(50ms) == std::future_status::timeout);
        stop.request_stop();
        REQUIRE(consumer.wait_for(2s) == std::future_status::ready);
        CHECK_FALSE(consumer.get());
        CHECK_FALSE(queue.closed());
    }
}

TEST_CASE("queue: take_all empties the queue without counting drops", "[queue]") {
    BoundedQueue<int> queue("q", 4);
    queue.push(1);
    queue.push(2);
    CHECK(queue.take_all() == std::vector<int>{1, 2});
    CHECK(queue.empty());
    CHECK(queue.dropped() == 0);
    CHECK(queue.popped() == 0);
}

TEST_CASE("queue: a worker pool's idle wait", "[queue]") {
    BoundedQueue<int> jobs("jobs", 8, {.overflow = Overflow::refuse_newest});
    CHECK(jobs.wait_idle(0ms));
    jobs.push(1);
    CHECK_FALSE(jobs.wait_idle(10ms));  // waiting
    auto job = jobs.pop();
    REQUIRE(job);
    CHECK_FALSE(jobs.wait_idle(10ms));  // popped, not done
    auto waiter = std::async(std::launch::async, [&] { return jobs.wait_idle(2s); });
    std::this_thread::sleep_for(20ms);
    jobs.done();
    REQUIRE(waiter.wait_for(2s) == std::future_status::ready);
    CHECK(waiter.get());
}

TEST_CASE("queue: producers and consumers on many threads lose nothing", "[queue]") {
    BoundedQueue<int> queue("q", 16);
    constexpr int kPerProducer = 2000;
    std::atomic<int64_t> sum{0};
    {
        std::vector<std::jthread> threads;
        for (int c = 0; c < 3; ++c)
            threads.emplace_back([&] {
                while (auto item = queue.pop()) sum += *item;
            });
        std::vector<std::jthread> producers;
        for (int p = 0; p < 3; ++p)
            producers.emplace_back([&] {
                for (int i = 1; i <= kPerProducer; ++i) queue.push(i);
            });
        producers.clear();  // joined
        queue.close();
    }
    CHECK(sum == 3 * int64_t(kPerProducer) * (kPerProducer + 1) / 2);
    CHECK(queue.pushed() == 3 * kPerProducer);
    CHECK(queue.popped() == 3 * kPerProducer);
    CHECK(queue.high_water() <= 16);
}

TEST_CASE("queue registry: lists each queue while it lives", "[queue]") {
    QueueRegistry registry;
    CHECK(registry.figures().empty());
    BoundedQueue<int> input("input.a", 1024, {.registry = &registry});
    {
        BoundedQueue<std::string> hook("webhook.failover", 64,
                                       {.overflow = Overflow::drop_oldest, .registry = &registry});
        hook.push("one");
        auto figures = registry.figures();
        REQUIRE(figures.size() == 2);
        CHECK(figures[0].name == "input.a");
        CHECK(figures[0].overflow == Overflow::block);
        CHECK(figures[0].capacity == 1024);
        CHECK(figures[1].name == "webhook.failover");
        CHECK(figures[1].overflow == Overflow::drop_oldest);
        CHECK(figures[1].depth == 1);
        CHECK(figures[1].pushed == 1);
    }
    auto figures = registry.figures();
    REQUIRE(figures.size() == 1);
    CHECK(figures[0].name == "input.a");
    CHECK(std::string(to_string(Overflow::refuse_newest)) == "refuse_newest");
}
