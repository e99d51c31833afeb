#pragma once
// Writes the one libavfilter graph that turns the decoded source into every
// rung of the ladder: deinterlace when the source is interlaced, convert the
// frame rate, and scale each rung keeping the display aspect (letterbox or
// pillarbox when the rung's shape differs from the source's). Smaller rungs
// are scaled from the next larger one when they share its shape (a cascade:
// far fewer pixels to filter than scaling every rung from full HD).
// Optionally it also feeds an analysis branch (content checks): the smallest
// rung's pictures as scaled, before any bars, through the given filters.
// Pure: no libav calls, unit-tested on the text it produces.
#include <optional>
#include <string>
#include <vector>

#include "core/units.hpp"

namespace onair::encoder {

struct GraphSource {
    int width = 0;
    int height = 0;
    core::Rational sample_aspect{1, 1};
    bool interlaced = false;
};

struct GraphRung {
    int width = 0;
    int height = 0;
    core::Rational fps;  // output frame rate
};

// Input pad label "in"; output labels "out0".."outN-1" in the rungs' order.
// With `analysis_filters` (a filter chain such as "blackdetect=d=0"), one
// more output "analysis": the smallest rung, scaled but not padded, in
// yuv420p, through those filters. Empty: no analysis branch.
std::string ladder_filter_description(const GraphSource& source,
                                      const std::vector<GraphRung>& rungs,
                                      const std::string& analysis_filters = {});

}  // namespace onair::encoder
