// Fuzz target: the files an operator writes. The first byte picks the
// channel file or the schedule file; the rest is the file's text. Either
// parses or names what is wrong; every diagnostic must point into the file.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/config.hpp"
#include "core/log.hpp"
#include "schedule/schedule_config.hpp"

using namespace onair;

namespace {

void check(const std::vector<core::Diagnostic>& problems, std::string_view text) {
    if (problems.empty()) __builtin_trap();  // a refusal must say why
    const int lines = int(std::count(text.begin(), text.end(), '\n')) + 1;
    for (const auto& p : problems)
        if (p.message.empty() || p.position.line < 0 || p.position.line > lines) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    log::configure(log::Format::text, log::Level::error);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    if (data[0] & 1) {
        auto schedule = schedule::parse_schedule_config(text, "/fuzz/schedule.yaml");
        if (!schedule) check(schedule.error(), text);
    } else {
        core::ChannelConfig partial;
        auto channel = core::parse_channel_config(text, "/fuzz/channel.yaml", &partial);
        if (!channel) check(channel.error(), text);
    }
    return 0;
}
