#pragma once
// Making what was written survive a power loss, not only a crash: a file's
// data and a folder's entries (a rename) flushed to the disk. Any thread;
// each call blocks until the disk has it.
#include <cstdint>
#include <filesystem>
#include <span>

#include "core/result.hpp"

namespace onair::core {

// Writes `bytes` to `file` (created or truncated); a failure names the file
// and the system's reason ("No space left on device"), and leaves no file.
[[nodiscard]] Result<> write_file(const std::filesystem::path& file,
                                  std::span<const uint8_t> bytes);

// fsync of a file or a folder.
[[nodiscard]] Result<> sync_path(const std::filesystem::path& path);

// sync_path of every file and folder under `folder`, and of `folder` itself;
// files that have other hard links too are taken as flushed already.
[[nodiscard]] Result<> sync_tree(const std::filesystem::path& folder);

}  // namespace onair::core
