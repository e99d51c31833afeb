#pragma once
// The media-time intervals in which a pipeline's content failed a check
// (black, frozen, silent): each interval runs from when the condition had
// lasted its configured duration until it ended, and stays open while it
// goes on. The encoder's content checks write it, the packager asks whether
// a segment overlaps it (Segment.health). Used from the pipeline thread only.
#include <cstdint>

#include "core/media_intervals.hpp"
#include "core/segment.hpp"

namespace onair::core {

// One condition's failing intervals.
using FailingIntervals = MediaIntervals;

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
