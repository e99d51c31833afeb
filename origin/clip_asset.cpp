#include "origin/clip_asset.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <future>
#include <map>
#include <set>

#include "core/durable.hpp"
#include "core/media_time.hpp"
#include "origin/clip_time.hpp"
#include "origin/listing.hpp"
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

core::Container container_of(const core::ClipSegmentFile& f) {
    return f.init.empty() ? core::Container::ts : core::Container::fmp4;
}

core::Result<> write_text(const fs::path& file, std::string_view text) {
    return core::write_file(file, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
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
            const bool cmaf = s.container() == core::Container::fmp4;
            fs::path file = folder / segment_uri(s.sequence, s.container());
            if (auto ok = link_or_copy(s.file, file); !ok)
                return core::fail(
                    fmt::format("{} segment {}: {}", rung.name, s.sequence, ok.error().message));
            fs::path init;
            if (cmaf) {
                init = folder / core::init_file_name(s.init_id);
                if (!fs::exists(init, ec))
                    if (auto ok = link_or_copy(s.init_file, init); !ok)
                        return core::fail(fmt::format("{} segment {}'s init section: {}", rung.name,
                                                      s.sequence, ok.error().message));
            }
            r.files.push_back({std::move(file), s.sequence, s.start, s.duration, std::move(init)});
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
                fs::path place = folder / segment_uri(t.sequence, container_of(t));
                if (!t.init.empty() && t.init.parent_path() != folder) {
                    // A trimmed end's init section: the same bytes under the same name.
                    fs::path init = folder / t.init.filename();
                    if (!fs::exists(init, ec)) fs::rename(t.init, init, ec);
                    if (ec)
                        return core::fail(fmt::format("{} segment {}'s init section: {}",
                                                      r.rung->name, t.sequence, ec.message()));
                    t.init = init;
                }
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
        ListingWindow window;
        window.kind = WindowKind::vod;
        window.configured_length = in.segment_length;
        for (const auto& f : r.files) {
            const auto size = int64_t(fs::file_size(f.file, ec));
            if (ec) return core::fail(fmt::format("{}: {}", f.file.string(), ec.message()));
            window.segments.push_back(
                {f.sequence,
                 f.start,
                 f.duration,
                 size,
                 discontinuity[f.sequence],
                 container_of(f),
                 std::string(core::parse_init_file_name(f.init.filename().string())),
                 {}});
        }
        const fs::path folder = partial / r.rung->name;
        if (auto ok = write_text(folder / kClipMediaPlaylist,
                                 render_media_playlist(media_playlist(window)));
            !ok)
            return std::unexpected(ok.error());
        const DvrSegment& first = r.recorded.front();
        variants.push_back(variant({fmt::format("{}/{}", r.rung->name, kClipMediaPlaylist),
                                    first.codecs, first.width, first.height, first.frame_rate},
                                   window));
        if (r.rung->name == clip.rendition)
            for (const auto& s : window.segments) duration += s.duration;
    }
    if (auto ok = write_text(partial / kClipMaster, render_master_playlist(variants)); !ok)
        return std::unexpected(ok.error());
    return duration;
}

}  // namespace onair::origin
