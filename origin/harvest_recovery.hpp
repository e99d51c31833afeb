#pragma once
// What a stop or a crash leaves in the clip store, and what becomes of it at
// the next start. The store DATA/clips/ holds one folder per clip asset
// (named by its id, which has no '.'), the asset a job is building
// (ID.partial) and assets a DELETE renamed away (ID.deleted.*). Called from
// the harvest's start-up and its jobs; no state of its own.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "origin/clip_catalog.hpp"
#include "origin/harvest_request.hpp"

namespace onair::origin {

// Where a job builds a clip's asset before it is renamed to store/ID.
std::filesystem::path partial_asset_folder(const std::filesystem::path& store, std::string_view id);
// Where a DELETE renames a clip's asset before it is removed; `now_ms` and
// `count` keep two deletions of one id apart.
std::filesystem::path deleted_asset_folder(const std::filesystem::path& store, std::string_view id,
                                           int64_t now_ms, int64_t count);

// Removes what an interrupted run left: half-built and renamed-away assets.
void sweep_clip_store(const std::filesystem::path& store);

// Why a job a stop or crash interrupted cannot be cut again: nullopt when it
// can (a DVR runs and still holds its whole range `held`), else the message
// its record fails with.
std::optional<std::string> why_not_resumable(const ClipRecord& clip, bool has_dvr,
                                             const std::optional<DvrWindow>& held);

}  // namespace onair::origin
