#include "core/container.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace onair::core {
namespace {
constexpr std::string_view kInitPrefix = "init-";
constexpr std::string_view kInitSuffix = ".mp4";
constexpr size_t kInitIdDigits = 16;
}  // namespace

std::string init_id_of(std::string_view bytes) {
    return fmt::format("{:016x}", content_hash(bytes));
}

std::string init_file_name(std::string_view id) {
    return fmt::format("{}{}{}", kInitPrefix, id, kInitSuffix);
}

std::string_view parse_init_file_name(std::string_view name) {
    if (name.size() != kInitPrefix.size() + kInitIdDigits + kInitSuffix.size() ||
        !name.starts_with(kInitPrefix) || !name.ends_with(kInitSuffix))
        return {};
    std::string_view id = name.substr(kInitPrefix.size(), kInitIdDigits);
    const bool hex = std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
    return hex ? id : std::string_view{};
}

}  // namespace onair::core
