#pragma once
// Checks against the machine: the origin's TCP port and every listening
// input's UDP port(s) can be bound now. One diagnostic per port in use, at
// the key that names the port. Called at start-up, before anything binds.
#include <vector>

#include "core/config.hpp"

namespace onair::core {

std::vector<Diagnostic> check_ports_free(const ChannelConfig& config);

}  // namespace onair::core
