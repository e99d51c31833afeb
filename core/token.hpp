#pragma once
// Shared secrets for the origin's ingest and control calls.
#include <optional>
#include <string>

namespace onair::core {

// A token from the environment variable `env`, else from the first line of
// `file` (when not empty); nullopt with the reason in `why` when neither gives one.
std::optional<std::string> read_token(const char* env, const std::string& file, std::string& why);

}  // namespace onair::core
