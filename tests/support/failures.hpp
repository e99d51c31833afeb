#pragma once
// A process-wide count of failed test assertions, so that helpers can keep
// their evidence (temp dirs, child logs) when the test that used them failed.
// The Catch2 listener in failure_listener.cpp feeds it; helpers compare the
// count at construction and at destruction. Any thread may call these.
namespace onair::testing {

void record_failure();
int failure_count();

// True when an assertion failed or an exception is unwinding since the
// snapshot was taken.
class FailureWatch {
  public:
    FailureWatch();
    bool failed() const;

  private:
    int failures_;
    int exceptions_;
};

}  // namespace onair::testing
