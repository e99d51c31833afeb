#pragma once
// The media-time intervals in which a pipeline emitted input-loss fill
// (repeated or black frames and silence) instead of real content. The encoder
// writes it, the packager asks whether a segment overlaps it (slate flag).
// Used from the pipeline thread only.
#include "core/media_intervals.hpp"

namespace onair::core {

// Where input-loss fill was emitted (the encoder adds, the packager asks).
using FillLog = MediaIntervals;

}  // namespace onair::core
