#include "origin/harvest_recovery.hpp"

#include <fmt/format.h>

#include "core/log.hpp"
#include "core/media_time.hpp"

namespace onair::origin {

namespace fs = std::filesystem;

namespace {
constexpr std::string_view kLog = "harvest";
constexpr std::string_view kPartial = ".partial";
constexpr std::string_view kDeleted = ".deleted";
}  // namespace

fs::path partial_asset_folder(const fs::path& store, std::string_view id) {
    return store / (std::string(id) + std::string(kPartial));
}

fs::path deleted_asset_folder(const fs::path& store, std::string_view id, int64_t now_ms,
                              int64_t count) {
    return store / fmt::format("{}{}.{}-{}", id, kDeleted, now_ms, count);
}

// Names with a '.' are never a clip's (ids have none).
void sweep_clip_store(const fs::path& store) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(store, ec)) {
        const std::string name = entry.path().filename().string();
        if (!name.ends_with(kPartial) && name.find(kDeleted) == std::string::npos) continue;
        std::error_code removed;
        fs::remove_all(entry.path(), removed);
        if (removed)
            log::warn(kLog, "cannot remove {}: {}", entry.path().string(), removed.message());
    }
}

std::optional<std::string> why_not_resumable(const ClipRecord& clip, bool has_dvr,
                                             const std::optional<DvrWindow>& held) {
    const int64_t from = core::utc_ms_to_media(clip.start_ms);
    const int64_t to = core::utc_ms_to_media(clip.end_ms);
    if (has_dvr && held && held->first <= from && to <= held->last) return std::nullopt;
    return has_dvr ? "interrupted by a stop, and the DVR no longer holds its range"
                   : "interrupted by a stop, and no DVR to cut it again from";
}

}  // namespace onair::origin
