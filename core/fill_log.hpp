#pragma once
// The media-time intervals in which a pipeline emitted input-loss fill
// (repeated or black frames and silence) instead of real content. The encoder
// writes it, the packager asks whether a segment overlaps it (slate flag).
// Used from the pipeline thread only.
#include <cstdint>
#include <deque>
#include <utility>

namespace onair::core {

class FillLog {
  public:
    // Adds [start, end); merges with the newest interval when they touch.
    void add(int64_t start, int64_t end) {
        if (!intervals_.empty() && start <= intervals_.back().second) {
            intervals_.back().second = std::max(intervals_.back().second, end);
        } else {
            intervals_.emplace_back(start, end);
        }
        while (intervals_.size() > 64) intervals_.pop_front();
    }
    bool overlaps(int64_t start, int64_t end) const {
        for (auto it = intervals_.rbegin(); it != intervals_.rend(); ++it) {
            if (it->first < end && start < it->second) return true;
            if (it->second <= start) break;  // older ones end even earlier
        }
        return false;
    }

  private:
    std::deque<std::pair<int64_t, int64_t>> intervals_;  // oldest first, disjoint
};

}  // namespace onair::core
