#include "tools/heap.hpp"

#include <malloc.h>
#include <pthread.h>

#include <condition_variable>
#include <mutex>

#include "core/log.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ONAIR_SANITIZER_HEAP 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ONAIR_SANITIZER_HEAP 1
#endif

namespace onair::tools {
namespace {

// ASan and TSan bring allocators of their own: glibc's settings mean nothing there.
#ifdef ONAIR_SANITIZER_HEAP
constexpr bool kGlibcHeap = false;
#else
constexpr bool kGlibcHeap = true;
#endif

}  // namespace

void keep_large_blocks_mapped() {
    if (!kGlibcHeap) return;
    constexpr int kLargeBlock = 128 * 1024;  // glibc's default, no longer moving
    if (::mallopt(M_MMAP_THRESHOLD, kLargeBlock) != 1)
        log::warn("main", "mallopt(M_MMAP_THRESHOLD) refused: memory may grow with fragmentation");
}

HeapTrimmer::HeapTrimmer(std::chrono::milliseconds period)
    : thread_([period](std::stop_token stop) {
          if (!kGlibcHeap) return;
          pthread_setname_np(pthread_self(), "onair-heap-trim");  // what top -H shows
          std::mutex m;
          std::condition_variable_any wake;
          std::unique_lock lock(m);
          while (!wake.wait_for(lock, stop, period, [] { return false; }) && !stop.stop_requested())
              ::malloc_trim(0);
      }) {}

}  // namespace onair::tools
