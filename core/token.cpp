// Tokens: the environment first, then the first line of a file.
#include "core/token.hpp"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <system_error>

#include <fmt/format.h>

namespace onair::core {

std::optional<std::string> read_token(const char* env, const std::string& file, std::string& why) {
    auto trimmed = [](std::string text) {
        auto end = text.find_first_of("\r\n");
        if (end != std::string::npos) text.resize(end);
        while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
            text.pop_back();
        return text;
    };
    if (const char* value = std::getenv(env); value && *value) return trimmed(value);
    if (file.empty()) {
        why = fmt::format("set {} (or name a token file in the channel file)", env);
        return std::nullopt;
    }
    std::FILE* f = std::fopen(file.c_str(), "r");
    if (!f) {
        why = fmt::format("cannot read {}: {}", file, std::system_category().message(errno));
        return std::nullopt;
    }
    char line[512] = {};
    bool got = std::fgets(line, sizeof line, f) != nullptr;
    std::fclose(f);
    auto token = got ? trimmed(line) : std::string();
    if (token.empty()) {
        why = fmt::format("{} holds no token on its first line", file);
        return std::nullopt;
    }
    return token;
}

}  // namespace onair::core
