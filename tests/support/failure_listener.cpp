// Linked into each test executable (object library onair_test_listener):
// counts failed assertions for FailureWatch.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include "tests/support/failures.hpp"

namespace {

struct FailureListener : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;

    bool assertionEnded(const Catch::AssertionStats& stats) override {
        if (!stats.assertionResult.isOk()) onair::testing::record_failure();
        return true;
    }
};

}  // namespace

CATCH_REGISTER_LISTENER(FailureListener)
