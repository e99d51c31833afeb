#include "core/status.hpp"

#include "core/enum_names.hpp"

namespace onair::core {
namespace {
constexpr auto kInputStateNames = enum_names<InputState>(
    std::pair{InputState::idle, "idle"}, std::pair{InputState::waiting, "waiting"},
    std::pair{InputState::connected, "connected"}, std::pair{InputState::stalled, "stalled"},
    std::pair{InputState::reconnecting, "reconnecting"}, std::pair{InputState::stopped, "stopped"});
}  // namespace

const char* to_string(InputState state) {
    return kInputStateNames.name(state).data();
}

const char* to_string(FigureKind kind) {
    return kind == FigureKind::counter ? "counter" : "gauge";  // a flag 0|1, a time its age
}

}  // namespace onair::core
