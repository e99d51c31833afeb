#pragma once
// A fresh directory under $TMPDIR (or /tmp), removed with everything in it
// when the object dies — unless the test failed meanwhile (see failures.hpp)
// or ONAIR_KEEP_TEMP=1 is set, in which case it is kept and its path printed
// to stderr. Move-only; owned by the test that made it.
#include <filesystem>
#include <string>
#include <string_view>

#include "tests/support/failures.hpp"

namespace onair::testing {

class TempDir {
  public:
    explicit TempDir(std::string_view prefix = "onair-test");
    ~TempDir();
    TempDir(TempDir&& other) noexcept;
    TempDir& operator=(TempDir&&) = delete;
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

    // Writes `text` to path()/name and returns the full path.
    std::filesystem::path write(std::string_view name, std::string_view text) const;
    // Keeps the directory whatever happens.
    void keep() { keep_ = true; }

  private:
    std::filesystem::path path_;
    FailureWatch watch_;
    bool keep_ = false;
};

// The whole content of a file; empty when it cannot be read.
std::string read_file(const std::filesystem::path& path);
// The last `lines` lines of a file, for failure messages.
std::string tail_file(const std::filesystem::path& path, size_t lines = 40);

}  // namespace onair::testing
