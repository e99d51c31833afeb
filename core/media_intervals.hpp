#pragma once
// Intervals of media time, oldest first, disjoint, [start, end), the newest
// possibly still open; only the newest 64 are kept. What a pipeline marks in
// its output — input-loss fill, content that fails a check — and the
// segmenter asks about (does a segment overlap any?). One thread only.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <utility>

namespace onair::core {

class MediaIntervals {
  public:
    // Adds [start, end); merges with the newest interval when they touch.
    void add(int64_t start, int64_t end) {
        if (!intervals_.empty() && start <= intervals_.back().second) {
            intervals_.back().second = std::max(intervals_.back().second, end);
        } else {
            intervals_.emplace_back(start, end);
        }
        trim();
    }
    // Opens an interval from `start` on, until close().
    void open(int64_t start) {
        if (is_open()) return;
        intervals_.emplace_back(start, kOngoing);
        trim();
    }
    void close(int64_t end) {
        if (!is_open()) return;
        auto& last = intervals_.back();
        last.second = std::max(end, last.first);
        if (last.second == last.first) intervals_.pop_back();  // never lasted
    }
    bool is_open() const { return !intervals_.empty() && intervals_.back().second == kOngoing; }
    bool overlaps(int64_t start, int64_t end) const {
        for (auto it = intervals_.rbegin(); it != intervals_.rend(); ++it) {
            if (it->first < end && start < it->second) return true;
            if (it->second <= start) break;  // older ones end even earlier
        }
        return false;
    }

  private:
    static constexpr int64_t kOngoing = std::numeric_limits<int64_t>::max();
    static constexpr size_t kKept = 64;
    void trim() {
        while (intervals_.size() > kKept) intervals_.pop_front();
    }
    std::deque<std::pair<int64_t, int64_t>> intervals_;
};

}  // namespace onair::core
