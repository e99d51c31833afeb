#include "tools/heap.hpp"

#include <malloc.h>
#include <pthread.h>

#include <condition_variable>
#include <mutex>

#include "core/log.hpp"

namespace onair::tools {

void keep_large_blocks_mapped() {
    constexpr int kLargeBlock = 128 * 1024;  // glibc's default, no longer moving
    if (::mallopt(M_MMAP_THRESHOLD, kLargeBlock) != 1)
        log::warn("main", "mallopt(M_MMAP_THRESHOLD) refused: memory may grow with fragmentation");
}

HeapTrimmer::HeapTrimmer(std::chrono::milliseconds period)
    : thread_([period](std::stop_token stop) {
          pthread_setname_np(pthread_self(), "onair-heap-trim");  // what top -H shows
          std::mutex m;
          std::condition_variable_any wake;
          std::unique_lock lock(m);
          while (!wake.wait_for(lock, stop, period, [] { return false; }) && !stop.stop_requested())
              ::malloc_trim(0);
      }) {}

}  // namespace onair::tools
