#pragma once
// Polling for a condition instead of sleeping: wait_until() calls the
// predicate every `poll` until it returns true or `timeout` has passed, and
// says what it was waiting for when it gives up. The predicate runs on the
// calling thread; exceptions from it propagate.
#include <chrono>
#include <ostream>
#include <string>
#include <thread>
#include <utility>

#include <fmt/format.h>

namespace onair::testing {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct WaitResult {
    bool ok = false;
    std::chrono::milliseconds elapsed{0};
    std::string message;  // "waited 12.3 s for: ..."; also set on success

    explicit operator bool() const { return ok; }
    friend std::ostream& operator<<(std::ostream& out, const WaitResult& r) {
        return out << r.message;
    }
};

template <class Predicate>
WaitResult wait_until(std::string description, Predicate&& predicate,
                      std::chrono::milliseconds timeout,
                      std::chrono::milliseconds poll = std::chrono::milliseconds(100)) {
    auto start = Clock::now();
    auto deadline = start + timeout;
    for (;;) {
        bool done = static_cast<bool>(predicate());
        auto now = Clock::now();
        auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
        if (done)
            return {true, elapsed,
                    fmt::format("after {:.1f} s: {}", elapsed.count() / 1000.0, description)};
        if (now >= deadline)
            return {false, elapsed,
                    fmt::format("timed out after {:.1f} s waiting for: {}",
                                elapsed.count() / 1000.0, description)};
        std::this_thread::sleep_for(std::min<Clock::duration>(poll, deadline - now));
    }
}

// wait_until() for checks that need no description: polls every 10 ms, up
// to `timeout`.
template <class Predicate>
bool eventually(Predicate&& predicate,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    return static_cast<bool>(wait_until("a condition", std::forward<Predicate>(predicate), timeout,
                                        std::chrono::milliseconds(10)));
}

}  // namespace onair::testing
