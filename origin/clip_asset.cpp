#include "origin/clip_asset.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <map>
#include <set>

#include "core/media_time.hpp"
#include "origin/clip_time.hpp"
#include "origin/playlist.hpp"

namespace onair::origin {

namespace fs = std::filesystem;

namespace {

// A hard link to the DVR's file (the clip keeps it when the DVR expires
// it), or a copy where no link can be made (another file system).
core::Result<> link_or_copy(const fs::path& from, const fs::path& to) {
    std::error_code link_error, copy_error, exists_error;
    fs::create_hard_link(from, to, link_error);
    if (!link_error) return {};
    if (!fs::exists(from, exists_error)) return core::fail("gone from the DVR (expired)");
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, copy_error);
    if (!copy_error) return {};
    return core::fail(fmt::format("cannot link ({}) or copy ({}) {}", link_error.message(),
                                  copy_error.message(), from.string()));
}

core::Result<> write_text(const fs::path& file, std::string_view text) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(text.data(), std::streamsize(text.size()));
    out.close();
    if (!out) return core::fail(fmt::format("cannot write {}", file.string()));
    return {};
}

// RFC 8216 4.3.4.2: the largest bit rate of any run of contiguous segments
// lasting 0.5 to 1.5 target durations (so a short frame-trimmed end does
// not count alone); the average when the clip is shorter than that.
int64_t peak_bitrate(const std::vector<std::pair<int64_t, int64_t>>& sizes, int target_seconds,
                     int64_t average) {
    const int64_t target = int64_t(target_seconds) * core::kMediaClock;
    int64_t peak = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
        int64_t bytes = 0, ticks = 0;
        for (size_t j = i; j < sizes.size() && 2 * ticks <= 3 * target; ++j) {
            bytes += sizes[j].first;
            ticks += sizes[j].second;
            if (2 * ticks >= target && 2 * ticks <= 3 * target)
                peak = std::max(peak, bytes * 8 * core::kMediaClock / ticks);
        }
    }
    return peak > 0 ? peak : average;
}

}  // namespace

core::Result<int64_t> build_clip_asset(const ClipRecord& clip, const ClipAssetInputs& in,
                                       const fs::path& partial, std::stop_token stop) {
    auto stopped = [&] { return stop.stop_requested(); };
    std::error_code ec;
    fs::create_directories(partial, ec);
    if (ec) return core::fail(fmt::format("cannot create {}: {}", partial.string(), ec.message()));
    const int64_t from = core::utc_ms_to_media(clip.start_ms);
    const int64_t to = core::utc_ms_to_media(clip.end_ms);

    struct Rendition {
        const core::Rung* rung = nullptr;
        std::vector<DvrSegment> recorded;
        std::vector<core::ClipSegmentFile> files;  // in the partial folder
    };
    std::vector<Rendition> renditions;
    for (const auto& rung : in.ladder) {
        Rendition r{&rung, in.dvr.range(rung.name, from, to), {}};
        if (r.recorded.empty())
            return core::fail(fmt::format("the DVR holds no segment of {} from {} to {}", rung.name,
                                          utc_text(clip.start_ms), utc_text(clip.end_ms)));
        // The range was checked at the request; a job that waited in the
        // queue, or resumed after a restart, may find its head expired since
        // (window or disk budget). A head missing for a gap in the recording
        // (a restart) is no reason to fail: that time was never recorded.
        auto span = in.dvr.span(rung.name);
        if (r.recorded.front().start > from && span && from < span->first)
            return core::fail(fmt::format(
                "the DVR no longer holds {} from {}: expired before the job ran (it holds from {})",
                rung.name, utc_text(clip.start_ms), utc_text(core::media_to_utc_ms(span->first))));
        const fs::path folder = partial / rung.name;
        fs::create_directory(folder, ec);
        if (ec)
            return core::fail(fmt::format("cannot create {}: {}", folder.string(), ec.message()));
        for (const auto& s : r.recorded) {
            if (stopped()) return core::fail("stopped");  // a day's clip links 14,400 files
            fs::path file = folder / segment_uri(s.sequence);
            if (auto ok = link_or_copy(s.file, file); !ok)
                return core::fail(
                    fmt::format("{} segment {}: {}", rung.name, s.sequence, ok.error().message));
            r.files.push_back({std::move(file), s.sequence, s.start, s.duration});
        }
        if (stopped()) return core::fail("stopped");
        renditions.push_back(std::move(r));
    }

    std::optional<core::ClipCut> cut;
    if (clip.accuracy == ClipAccuracy::frame) cut = core::ClipCut{from, to};
    auto mp4 = std::find_if(renditions.begin(), renditions.end(),
                            [&](const Rendition& r) { return r.rung->name == clip.rendition; });
    if (mp4 == renditions.end())
        return core::fail(
            fmt::format("the MP4's rendition {} is not in the ladder", clip.rendition));
    if (cut) {
        // The renditions' ends are re-encoded side by side: their codecs run
        // single-threaded (cheaper in CPU than frame threads, and CPU is what
        // the live pipelines leave little of), and together use every core.
        // Trimmed ends are written aside, then renamed over the links:
        // writing into a link would change the DVR's file too.
        std::vector<std::future<core::Result<std::vector<core::ClipSegmentFile>>>> trims;
        for (auto& r : renditions) {
            const fs::path scratch = partial / ".trim" / r.rung->name;
            fs::create_directories(scratch, ec);
            trims.push_back(std::async(std::launch::async, [&in, &r, &cut, scratch] {
                return in.cutter.trim_segments(r.files, *cut, *r.rung, in.encoder, scratch);
            }));
        }
        for (size_t i = 0; i < renditions.size(); ++i) {
            auto& r = renditions[i];
            auto trimmed = trims[i].get();
            if (!trimmed)
                return core::fail(fmt::format("{}: {}", r.rung->name, trimmed.error().message));
            if (trimmed->empty())
                return core::fail(fmt::format("{}: no frame in the range", r.rung->name));
            const fs::path folder = partial / r.rung->name;
            std::set<fs::path> kept;
            for (auto& t : *trimmed) {
                fs::path place = folder / segment_uri(t.sequence);
                if (t.file != place) {
                    fs::rename(t.file, place, ec);
                    if (ec)
                        return core::fail(fmt::format("{} segment {}: {}", r.rung->name, t.sequence,
                                                      ec.message()));
                    t.file = place;
                }
                kept.insert(place);
            }
            for (const auto& f : r.files)
                if (!kept.contains(f.file)) fs::remove(f.file, ec);
            r.files = std::move(*trimmed);
            if (stopped()) return core::fail("stopped");
        }
        fs::remove_all(partial / ".trim", ec);
    }
    // From the rendition's clip segments, trimmed already: the boundary GOPs
    // are re-encoded once, for the HLS asset and the MP4 alike.
    if (auto ok = in.cutter.write_mp4(mp4->files, std::nullopt, *mp4->rung, in.encoder,
                                      partial / kClipMp4);
        !ok)
        return core::fail(fmt::format("{}: {}", kClipMp4, ok.error().message));
    if (stopped()) return core::fail("stopped");

    std::vector<Variant> variants;
    int64_t duration = 0;
    for (const auto& r : renditions) {
        std::map<int64_t, bool> discontinuity;
        for (const auto& s : r.recorded) discontinuity[s.sequence] = s.discontinuity;
        MediaPlaylist playlist;
        playlist.type = PlaylistType::vod;
        playlist.end_list = true;
        playlist.media_sequence = r.files.front().sequence;
        playlist.target_duration = 1;
        std::vector<std::pair<int64_t, int64_t>> sizes;
        int64_t bytes = 0, ticks = 0;
        for (size_t i = 0; i < r.files.size(); ++i) {
            const auto& f = r.files[i];
            // A gap before the clip's first segment is none of the player's business.
            playlist.segments.push_back({f.sequence, core::media_to_utc_ms(f.start), f.duration,
                                         i > 0 && discontinuity[f.sequence],
                                         segment_uri(f.sequence)});
            playlist.target_duration =
                std::max(playlist.target_duration, rounded_seconds(f.duration));
            const auto size = int64_t(fs::file_size(f.file, ec));
            if (ec) return core::fail(fmt::format("{}: {}", f.file.string(), ec.message()));
            sizes.emplace_back(size, f.duration);
            bytes += size;
            ticks += f.duration;
        }
        const fs::path folder = partial / r.rung->name;
        if (auto ok = write_text(folder / kClipMediaPlaylist, render_media_playlist(playlist)); !ok)
            return std::unexpected(ok.error());
        const DvrSegment& first = r.recorded.front();
        const int64_t average = ticks > 0 ? bytes * 8 * core::kMediaClock / ticks : 0;
        variants.push_back({fmt::format("{}/{}", r.rung->name, kClipMediaPlaylist),
                            peak_bitrate(sizes, playlist.target_duration, average), average,
                            first.codecs, first.width, first.height, first.frame_rate});
        if (r.rung->name == clip.rendition) duration = ticks;
    }
    if (auto ok = write_text(partial / kClipMaster, render_master_playlist(variants)); !ok)
        return std::unexpected(ok.error());
    return duration;
}

}  // namespace onair::origin
