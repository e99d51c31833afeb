#include "tests/support/failures.hpp"

#include <atomic>
#include <exception>

namespace onair::testing {
namespace {
std::atomic<int> g_failures{0};
}

void record_failure() {
    g_failures.fetch_add(1, std::memory_order_relaxed);
}
int failure_count() {
    return g_failures.load(std::memory_order_relaxed);
}

FailureWatch::FailureWatch()
    : failures_(failure_count()), exceptions_(std::uncaught_exceptions()) {}

bool FailureWatch::failed() const {
    return failure_count() != failures_ || std::uncaught_exceptions() > exceptions_;
}

}  // namespace onair::testing
