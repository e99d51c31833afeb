#pragma once
// glibc's heap, kept to what a channel uses through a day of running
// (bench/soak, docs/benchmarks.md#soak: RSS once every window is full).
// Both do nothing in ASan and TSan builds, whose allocators replace glibc's.
#include <chrono>
#include <thread>

namespace onair::tools {

// Blocks of 128 kB and more (segments: 100 kB to a few MB, made on pipeline
// threads and freed on the store's, the DVR writer's and HTTP threads) each
// mapped on their own and given back to the system when freed. Otherwise
// glibc raises its mmap threshold to the size of each large block freed (up
// to 32 MB), after which such blocks come from the heaps, whose holes are
// rarely given back: RSS grew 5% in 6 minutes with every window full.
void keep_large_blocks_mapped();

// Every `period`, the whole free pages inside glibc's heaps are given back to
// the system (malloc_trim). glibc returns only the free space at a heap's
// top by itself; what small blocks free in the middle of the 16 per-thread
// heaps stays resident, and that grew RSS by 4% over half an hour (bench/soak,
// 6.7 MB given back by one trim at minute 26).
class HeapTrimmer {
  public:
    explicit HeapTrimmer(std::chrono::milliseconds period);

  private:
    std::jthread thread_;
};

}  // namespace onair::tools
