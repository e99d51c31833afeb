#include "tests/support/temp_dir.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace onair::testing {

TempDir::TempDir(std::string_view prefix) {
    const char* base = std::getenv("TMPDIR");
    std::filesystem::path root = base && *base ? base : "/tmp";
    std::string pattern = (root / (std::string(prefix) + "-XXXXXX")).string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!::mkdtemp(buffer.data()))
        throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    path_ = buffer.data();
    const char* keep = std::getenv("ONAIR_KEEP_TEMP");
    keep_ = keep && std::string_view(keep) == "1";
}

TempDir::TempDir(TempDir&& other) noexcept
    : path_(std::move(other.path_)), watch_(other.watch_), keep_(other.keep_) {
    other.path_.clear();
}

TempDir::~TempDir() {
    if (path_.empty()) return;
    if (keep_ || watch_.failed()) {
        std::cerr << "onair-test: kept " << path_.string() << "\n";
        return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::filesystem::path TempDir::write(std::string_view name, std::string_view text) const {
    auto file = path_ / name;
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) throw std::runtime_error("cannot write " + file.string());
    return file;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string tail_file(const std::filesystem::path& path, size_t lines) {
    auto text = read_file(path);
    size_t pos = text.size();
    if (pos > 0 && text[pos - 1] == '\n') --pos;
    size_t found = 0;
    while (pos > 0) {
        if (text[pos - 1] == '\n' && ++found == lines) break;
        --pos;
    }
    return text.substr(pos);
}

}  // namespace onair::testing
