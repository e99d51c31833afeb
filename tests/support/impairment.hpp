#pragma once
// A UDP relay that damages what it carries, as a bad contribution link does:
// datagrams from 127.0.0.1:listen_port go on to 127.0.0.1:forward_port, each
// lost with probability `loss`, or held back behind the next one with
// probability `reorder`; burst() loses everything for a while. Its thread runs
// until destruction. Counts what it did, so a test can compare.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace onair::testing {

struct ImpairmentOptions {
    int listen_port = 0;
    int forward_port = 0;
    double loss = 0.01;
    double reorder = 0.01;
    unsigned seed = 1;
};

struct ImpairmentCounts {
    int64_t received = 0;
    int64_t forwarded = 0;
    int64_t lost = 0;       // at random and in bursts
    int64_t reordered = 0;  // sent after the datagram that came after them
};

class ImpairmentRelay {
  public:
    explicit ImpairmentRelay(ImpairmentOptions options);  // throws when it cannot bind
    ~ImpairmentRelay();
    ImpairmentRelay(const ImpairmentRelay&) = delete;
    ImpairmentRelay& operator=(const ImpairmentRelay&) = delete;

    // Loses every datagram for `length` from now.
    void burst(std::chrono::milliseconds length);
    ImpairmentCounts counts() const;

  private:
    void run(std::stop_token stop);

    ImpairmentOptions options_;
    int in_ = -1, out_ = -1;
    std::atomic<int64_t> burst_until_ns_{0};  // steady clock
    std::atomic<int64_t> received_{0}, forwarded_{0}, lost_{0}, reordered_{0};
    std::jthread thread_;
};

}  // namespace onair::testing
