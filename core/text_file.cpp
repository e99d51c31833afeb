#include "core/text_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <fmt/format.h>

namespace onair::core {

std::expected<std::string, std::string> read_text_file(const std::string& path,
                                                       std::size_t max_bytes) {
    struct File {
        int fd;
        ~File() {
            if (fd >= 0) ::close(fd);
        }
    } file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (file.fd < 0)
        return std::unexpected(
            fmt::format("cannot open: {}", std::system_category().message(errno)));
    std::string text;
    char buffer[16384];
    for (;;) {
        auto n = ::read(file.fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return std::unexpected(
                fmt::format("cannot read: {}", std::system_category().message(errno)));
        if (n == 0) return text;
        text.append(buffer, static_cast<size_t>(n));
        if (text.size() > max_bytes)
            return std::unexpected(fmt::format("larger than {} KiB", max_bytes / 1024));
    }
}

}  // namespace onair::core
