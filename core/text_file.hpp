#pragma once
// A small text file a user wrote (a channel or a schedule file), read whole.
#include <cstddef>
#include <expected>
#include <string>

namespace onair::core {

// The file's bytes, or why not: "cannot open: ...", "cannot read: ...", or
// "larger than N KiB" when it passes `max_bytes` (the caller says what the
// file should be). Any thread.
std::expected<std::string, std::string> read_text_file(const std::string& path,
                                                       std::size_t max_bytes);

}  // namespace onair::core
