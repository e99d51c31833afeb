#pragma once
// A clip's asset, built from the DVR: each rendition's segments hard-linked
// (or copied across file systems, so DVR expiry never breaks a clip), the
// ends trimmed to the frame when the clip asks, VOD media playlists, a
// master, and clip.mp4 of one rendition. Runs on a harvest pool thread; the
// renditions' ends are trimmed side by side on threads of their own.
#include <cstdint>
#include <filesystem>
#include <stop_token>
#include <string_view>
#include <vector>

#include "core/clip_cutter.hpp"
#include "core/config.hpp"
#include "core/result.hpp"
#include "origin/clip_catalog.hpp"
#include "origin/dvr.hpp"

namespace onair::origin {

// The files of an asset, relative to its folder.
inline constexpr std::string_view kClipMaster = "master.m3u8";
inline constexpr std::string_view kClipMediaPlaylist = "index.m3u8";  // in each rendition's folder
inline constexpr std::string_view kClipMp4 = "clip.mp4";

// What an asset is cut from and with; all outlive the call.
struct ClipAssetInputs {
    const std::vector<core::Rung>& ladder;  // the renditions, in order
    const core::EncoderConfig& encoder;     // for the frame-accurate ends
    int64_t segment_length;                 // ticks: the channel's, for the target duration
    const Dvr& dvr;
    core::ClipCutter& cutter;
};

// Builds `clip`'s asset in `partial` (created); the clip's duration in ticks
// (of its MP4's rendition). Fails with "stopped" soon after `stop` is asked.
[[nodiscard]] core::Result<int64_t> build_clip_asset(const ClipRecord& clip,
                                                     const ClipAssetInputs& in,
                                                     const std::filesystem::path& partial,
                                                     std::stop_token stop);

}  // namespace onair::origin
