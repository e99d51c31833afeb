#pragma once
// The media-time intervals in which a pipeline's content failed a check
// (black, frozen, silent): each interval runs from when the condition had
// lasted its configured duration until it ended, and stays open while it
// goes on. The encoder's content checks write it, the packager asks whether
// a segment overlaps it (Segment.health). Used from the pipeline thread only.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <utility>

#include "core/segment.hpp"

namespace onair::core {

// One condition's failing intervals, oldest first, disjoint, [start, end).
class FailingIntervals {
  public:
    // Failing from `start` on, until close().
    void open(int64_t start) {
        if (is_open()) return;
        intervals_.emplace_back(start, kOngoing);
        while (intervals_.size() > kKept) intervals_.pop_front();
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
    std::deque<std::pair<int64_t, int64_t>> intervals_;
};

struct HealthLog {
    FailingIntervals black;
    FailingIntervals frozen;
    FailingIntervals silent;

    // Which checks the media time [start, end) fails.
    ContentHealth overlaps(int64_t start, int64_t end) const {
        return {black.overlaps(start, end), frozen.overlaps(start, end),
                silent.overlaps(start, end)};
    }
};

}  // namespace onair::core
