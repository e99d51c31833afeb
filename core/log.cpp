#include "core/log.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <utility>

extern "C" {
#include <libavutil/log.h>
}

namespace onair::log {
namespace {

std::atomic<Level> g_level{Level::info};
std::atomic<Format> g_format{Format::text};
std::mutex g_channel_mutex;
std::string g_channel = "-";

std::string utc_timestamp() {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    std::time_t secs = ms / 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

void json_escape_into(std::string& out, std::string_view text) {
    for (unsigned char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    out += fmt::format("\\u{:04x}", c);
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
}

// libav messages arrive in pieces (one av_log call may not end the line) and
// from any thread; keep a per-thread line buffer.
thread_local std::string t_libav_line;

// A token bucket: bursts of kBurst lines, then one a second; what is
// dropped is counted and reported with the next line let through.
struct RateLimiter {
    static constexpr double kBurst = 10;
    std::mutex mutex;
    double tokens = kBurst;
    double last_refill = 0;  // steady seconds
    int suppressed = 0;
};
RateLimiter g_libav_limit;

void libav_callback(void* avcl, int level, const char* format, va_list args) {
    if (level > AV_LOG_WARNING) return;
    char buffer[1024];
    int print_prefix = 1;
    av_log_format_line2(avcl, level, format, args, buffer, sizeof(buffer), &print_prefix);
    t_libav_line += buffer;
    if (t_libav_line.empty() || t_libav_line.back() != '\n') return;
    t_libav_line.pop_back();
    std::string line;
    line.swap(t_libav_line);

    int suppressed = 0;
    {
        auto& limit = g_libav_limit;
        std::lock_guard lock(limit.mutex);
        double now =
            std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
                .count();
        limit.tokens = std::min(RateLimiter::kBurst, limit.tokens + (now - limit.last_refill));
        limit.last_refill = now;
        if (limit.tokens < 1) {
            ++limit.suppressed;
            return;
        }
        limit.tokens -= 1;
        suppressed = std::exchange(limit.suppressed, 0);
    }
    if (suppressed > 0)
        write(Level::warn, "libav", fmt::format("({} similar messages not shown)", suppressed));
    write(level <= AV_LOG_ERROR ? Level::error : Level::warn, "libav", line);
}

}  // namespace

void configure(Format format, Level level) {
    g_format = format;
    g_level = level;
}

void set_channel(std::string channel) {
    std::lock_guard lock(g_channel_mutex);
    g_channel = std::move(channel);
}

bool enabled(Level level) {
    return level >= g_level.load(std::memory_order_relaxed);
}

std::string_view level_name(Level level) {
    switch (level) {
        case Level::debug:
            return "debug";
        case Level::info:
            return "info";
        case Level::warn:
            return "warn";
        case Level::error:
            return "error";
    }
    return "info";
}

std::optional<Level> parse_level(std::string_view text) {
    for (auto level : {Level::debug, Level::info, Level::warn, Level::error})
        if (text == level_name(level)) return level;
    return std::nullopt;
}

void write(Level level, std::string_view component, std::string_view message) {
    std::string channel;
    {
        std::lock_guard lock(g_channel_mutex);
        channel = g_channel;
    }
    std::string line;
    line.reserve(message.size() + 96);
    if (g_format == Format::json) {
        line += "{\"time\":\"" + utc_timestamp() + "\",\"level\":\"";
        line += level_name(level);
        line += "\",\"channel\":\"";
        json_escape_into(line, channel);
        line += "\",\"component\":\"";
        json_escape_into(line, component);
        line += "\",\"msg\":\"";
        json_escape_into(line, message);
        line += "\"}\n";
    } else {
        line = fmt::format("{} {:<5} {} {}: {}\n", utc_timestamp(), level_name(level), channel,
                           component, message);
    }
    // One write per line: atomic with respect to other threads' lines.
    size_t done = 0;
    while (done < line.size()) {
        ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
        if (n <= 0) break;
        done += static_cast<size_t>(n);
    }
}

void capture_libav() {
    av_log_set_callback(libav_callback);
}

}  // namespace onair::log
