#pragma once
// What `onair check` prints: the resolved plan of a valid channel, in the
// words a broadcast engineer uses (inputs, ladder, segment timing, URLs).
#include <string>

#include "core/config.hpp"

namespace onair::tools {

std::string render_plan(const core::ChannelConfig& config);

}  // namespace onair::tools
