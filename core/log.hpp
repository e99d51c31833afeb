#pragma once
// Logging: one line per event on stderr, UTC time, channel and component,
// as text for people or JSON for log shippers. Thread-safe; each line is one
// write(2), so lines from different threads never interleave.
#include <fmt/format.h>

#include <optional>
#include <string>
#include <string_view>

namespace onair::log {

enum class Level { debug, info, warn, error };
enum class Format { text, json };

void configure(Format format, Level level);
void set_channel(std::string channel);
bool enabled(Level level);
void write(Level level, std::string_view component, std::string_view message);

// Routes libav's own messages (warnings and errors) into this log, rate-limited
// so a stream of damaged input cannot flood it.
void capture_libav();

std::string_view level_name(Level level);
std::optional<Level> parse_level(std::string_view text);

template <class... Args>
void debug(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(Level::debug))
        write(Level::debug, component, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void info(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(Level::info))
        write(Level::info, component, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void warn(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(Level::warn))
        write(Level::warn, component, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void error(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(Level::error))
        write(Level::error, component, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace onair::log
