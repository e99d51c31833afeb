#include "core/status.hpp"

namespace onair::core {

const char* to_string(InputState state) {
    switch (state) {
        case InputState::idle:
            return "idle";
        case InputState::waiting:
            return "waiting";
        case InputState::connected:
            return "connected";
        case InputState::stalled:
            return "stalled";
        case InputState::reconnecting:
            return "reconnecting";
        case InputState::stopped:
            return "stopped";
    }
    return "idle";
}

const char* to_string(FigureKind kind) {
    return kind == FigureKind::counter ? "counter" : "gauge";  // a flag 0|1, a time its age
}

}  // namespace onair::core
