#include "core/durable.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <fmt/format.h>

namespace onair::core {

Result<> write_file(const std::filesystem::path& file, std::span<const uint8_t> bytes) {
    // After the open: what we created (or truncated) and could not fill goes.
    auto failed = [&](const char* step, int code) {
        std::error_code ignored;
        std::filesystem::remove(file, ignored);
        return fail(fmt::format("cannot {} {}: {}", step, file.string(),
                                std::system_category().message(code)),
                    code);
    };
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        const int code = errno;  // before anything else may set it
        return fail(fmt::format("cannot create {}: {}", file.string(),
                                std::system_category().message(code)),
                    code);
    }
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int code = errno;
            ::close(fd);
            return failed("write", code);
        }
        done += size_t(n);
    }
    if (::close(fd) != 0) {
        const int code = errno;  // NFS reports a full disk here
        return failed("write", code);
    }
    return {};
}

Result<> sync_path(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(
            fmt::format("{}: open: {}", path.string(), std::system_category().message(errno)));
    const int rc = ::fsync(fd);
    const int code = errno;
    ::close(fd);
    if (rc != 0)
        return fail(
            fmt::format("{}: fsync: {}", path.string(), std::system_category().message(code)));
    return {};
}

Result<> sync_tree(const std::filesystem::path& folder) {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(folder, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec) && !it->is_directory(ec)) continue;
        // A file with other names (a clip's hard link to a DVR segment) was
        // made durable by whoever wrote it: a flush per link would cost a
        // day's clip tens of thousands of journal commits.
        if (it->is_regular_file(ec) && it->hard_link_count(ec) > 1) continue;
        if (auto ok = sync_path(it->path()); !ok) return ok;
    }
    if (ec) return fail(fmt::format("{}: {}", folder.string(), ec.message()));
    return sync_path(folder);
}

}  // namespace onair::core
