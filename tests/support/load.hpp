#pragma once
// A small HTTP load generator for tests: many keep-alive connections opened
// at once from one thread (Boost.Asio), each sending one request after
// another for a while, every response read whole (Beast's parser) and
// handed to a check. Counts what went wrong instead of stopping.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace onair::testing {

struct LoadResponse {
    int status = 0;
    std::string target;
    std::string content_type;
    std::string body;
};

struct LoadOptions {
    std::string host = "127.0.0.1";
    int port = 0;
    int connections = 100;
    std::chrono::milliseconds duration{5000};
    // A response must be complete within this of its request.
    std::chrono::milliseconds response_timeout{10000};
    // The next target for connection `connection`, its `n`th request.
    std::function<std::string(int connection, int64_t n)> next_target;
    // What is wrong with a response (empty: nothing). Called on the load's thread.
    std::function<std::string(const LoadResponse&)> check;
};

struct LoadResult {
    int connected = 0;          // connections that were open at once, at the most
    int64_t responses = 0;      // complete and checked
    int64_t bad_responses = 0;  // complete, but the check found a problem
    int64_t errors = 0;         // connect, write or read errors, timeouts, incomplete bodies
    std::vector<std::string> problems;  // the first few, with their target
    std::vector<int64_t> latencies_us;  // of every complete response
    int64_t percentile_us(double q) const;
};

LoadResult run_load(const LoadOptions& options);

}  // namespace onair::testing
