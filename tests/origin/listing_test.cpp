// The listing model: one set of windows, and what every user of the model
// (the model itself, the live store, time-shift from the DVR, a clip's VOD
// asset) must make of each: the same discontinuities, target duration,
// BANDWIDTH (the RFC's peak) and AVERAGE-BANDWIDTH.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <map>
#include <stop_token>

#include "fakes.hpp"
#include "harvest_fakes.hpp"
#include "origin/clip_asset.hpp"
#include "origin/listing.hpp"
#include "origin/segment_store.hpp"
#include "origin/timeshift.hpp"
#include "tests/support/hls.hpp"

using namespace onair;
using namespace onair::origin;
using namespace onair::origin::testing;

namespace {

constexpr int64_t kLength = 6 * kSecond;  // the channel's configured segment length
constexpr int64_t kBase = kBaseUtcMs * 90;

// One window and what it must list as.
struct Case {
    std::string name;
    struct Seg {
        int64_t sequence;
        int64_t duration;
        int64_t bytes;
        bool gap_before = false;  // marked by the source (a restart), numbers aside
    };
    std::vector<Seg> segments;
    int target;
    std::vector<int64_t> discontinuity_before;  // sequences tagged
    int64_t bandwidth;
    int64_t average;
};

const std::vector<Case>& cases() {
    static const std::vector<Case> all = {
        {"steady",
         {{100, kLength, 450000},
          {101, kLength, 225000},
          {102, kLength, 225000},
          {103, kLength, 337500},
          {104, kLength, 225000}},
         6,
         {},
         600000,  // segment 100 alone
         390000},
        {"a hole in the numbers",
         {{100, kLength, 225000},
          {101, kLength, 225000},
          {104, kLength, 225000},
          {105, kLength, 225000}},
         6,
         {104},
         300000,
         300000},
        {"a gap the source marked, the numbers following",
         {{100, kLength, 225000}, {101, kLength, 225000}, {102, kLength, 225000, true}},
         6,
         {102},
         300000,
         300000},
        // A 1 s segment (a trimmed end) counts only in runs of 0.5 to 1.5
        // target durations: 100+101 and 101+102 (7 s), never alone (600k).
        {"a short segment",
         {{100, kLength, 225000}, {101, kSecond, 75000}, {102, kLength, 225000}},
         6,
         {},
         342857,
         323077},
        {"a long segment raises the target",
         {{100, kLength, 225000}, {101, 684000, 225000}},
         8,
         {},
         300000,
         264706},
    };
    return all;
}

int64_t start_of(int64_t sequence) {
    return kBase + sequence * kLength;
}

// What a user made of the case, read back from its playlists' text.
struct Seen {
    int64_t target = 0;
    std::vector<int64_t> discontinuity_before;
    int64_t bandwidth = 0;
    int64_t average = 0;
    std::vector<int64_t> sequences;
};

Seen read(std::string_view media, std::string_view master) {
    Seen seen;
    auto m = onair::testing::parse_media_playlist(media);
    INFO(media);
    REQUIRE(m.problems.empty());
    seen.target = m.target_duration.value_or(0);
    for (const auto& s : m.segments) {
        const int64_t sequence = std::stoll(s.uri.substr(0, s.uri.find('.')));
        seen.sequences.push_back(sequence);
        if (s.discontinuity) seen.discontinuity_before.push_back(sequence);
    }
    auto v = onair::testing::parse_master_playlist(master);
    INFO(master);
    REQUIRE(v.variants.size() == 1);
    seen.bandwidth = v.variants[0].bandwidth;
    seen.average = v.variants[0].average_bandwidth.value_or(0);
    return seen;
}

void check(const Case& c, const Seen& seen) {
    INFO(c.name);
    std::vector<int64_t> sequences;
    for (const auto& s : c.segments) sequences.push_back(s.sequence);
    CHECK(seen.sequences == sequences);
    CHECK(seen.target == c.target);
    CHECK(seen.discontinuity_before == c.discontinuity_before);
    CHECK(seen.bandwidth == c.bandwidth);
    CHECK(seen.average == c.average);
}

ListingWindow window_of(const Case& c, WindowKind kind) {
    ListingWindow w;
    w.kind = kind;
    w.configured_length = kLength;
    for (const auto& s : c.segments)
        w.segments.push_back({s.sequence,
                              start_of(s.sequence),
                              s.duration,
                              s.bytes,
                              s.gap_before,
                              onair::core::Container::ts,
                              {},
                              {}});
    return w;
}

// A DVR holding exactly the case's segments, their files of the case's sizes.
class CaseDvr : public Dvr {
  public:
    CaseDvr(const fs::path& folder, const Case& c) {
        for (const auto& s : c.segments) {
            DvrSegment d;
            d.rendition = "720p";
            d.sequence = s.sequence;
            d.start = start_of(s.sequence);
            d.duration = s.duration;
            d.frames = int(s.duration / 3000);
            d.discontinuity = s.gap_before;
            d.bytes = s.bytes;
            d.width = 1280;
            d.height = 720;
            d.frame_rate = {30, 1};
            d.codecs = "avc1.64001f,mp4a.40.2";
            d.file = folder / "720p" / fmt::format("{}.ts", s.sequence);
            write_all(d.file, std::string(std::size_t(s.bytes), 'x'));
            segments_.push_back(d);
        }
    }
    void record(std::shared_ptr<const core::Segment>) override {}
    void flush() override {}
    std::vector<DvrSegment> range(std::string_view rendition, int64_t from,
                                  int64_t to) const override {
        std::vector<DvrSegment> out;
        if (rendition == "720p")
            for (const auto& s : segments_)
                if (s.end() > from && s.start < to) out.push_back(s);
        return out;
    }
    std::optional<DvrSegment> find(std::string_view, int64_t sequence) const override {
        for (const auto& s : segments_)
            if (s.sequence == sequence) return s;
        return std::nullopt;
    }
    std::vector<DvrSegment> newest(std::string_view, size_t) const override { return segments_; }
    std::optional<std::pair<int64_t, int64_t>> span(std::string_view rendition) const override {
        if (rendition != "720p") return std::nullopt;
        return std::pair{segments_.front().start, segments_.back().end()};
    }
    core::SharedBytes read(const DvrSegment&) const override { return nullptr; }
    std::optional<std::filesystem::path> init_file(std::string_view,
                                                   std::string_view) const override {
        return std::nullopt;
    }
    int64_t bytes_on_disk() const override { return 0; }
    int64_t segments_on_disk() const override { return 0; }
    int64_t expired() const override { return 0; }

  private:
    std::vector<DvrSegment> segments_;
};

}  // namespace

TEST_CASE("listing: the model itself, as a VOD, EVENT and live window", "[listing]") {
    for (const Case& c : cases()) {
        for (auto kind : {WindowKind::vod, WindowKind::event, WindowKind::live}) {
            const auto w = window_of(c, kind);
            const auto media = render_media_playlist(media_playlist(w));
            const auto master = render_master_playlist(
                {variant({"720p/index.m3u8", "avc1.64001f,mp4a.40.2", 1280, 720, {30, 1}}, w)});
            check(c, read(media, master));
            auto parsed = onair::testing::parse_media_playlist(media);
            CHECK(parsed.endlist == (kind == WindowKind::vod));
            CHECK(parsed.playlist_type ==
                  (kind == WindowKind::vod     ? std::optional<std::string>("VOD")
                   : kind == WindowKind::event ? std::optional<std::string>("EVENT")
                                               : std::nullopt));
            CHECK(parsed.media_sequence == c.segments.front().sequence);
        }
    }
}

TEST_CASE("listing: the live store lists a window as the model does", "[listing][store]") {
    for (const Case& c : cases()) {
        INFO(c.name);
        SegmentStore store(options(5, {"720p"}));
        std::vector<RestoredSegment> restored;
        for (const auto& s : c.segments) {
            FakeSegment f;
            f.sequence = s.sequence;
            f.duration = s.duration;
            f.size = std::size_t(s.bytes);
            core::Segment segment = f.make();
            segment.start = start_of(s.sequence);
            restored.push_back({segment, s.gap_before});
        }
        REQUIRE(store.restore(restored) == c.segments.size());
        check(c, read(*store.media_playlist("720p"), *store.master_playlist()));
    }
}

TEST_CASE("listing: time-shift lists a DVR window as the model does", "[listing][timeshift]") {
    for (const Case& c : cases()) {
        TempFolder dir;
        CaseDvr dvr(dir / "dvr", c);
        const int64_t first = start_of(c.segments.front().sequence);
        const int64_t end = start_of(c.segments.back().sequence) + c.segments.back().duration;
        TimeShiftWindow window{first, end, "start=x&end=y"};
        const int64_t later = end + 3600 * kSecond;
        auto media = timeshift_listing(dvr, "720p", window, later, kLength);
        auto variants = timeshift_variants(dvr, {"720p"}, window, later, kLength);
        REQUIRE(media);
        REQUIRE(variants);
        CHECK(media->type == PlaylistType::vod);
        check(c, read(render_media_playlist(*media), render_master_playlist(*variants)));

        // The same window still growing: EVENT, the same segments so far.
        TimeShiftWindow growing{first, std::nullopt, "start=x"};
        auto event = timeshift_listing(dvr, "720p", growing, end + kSecond, kLength);
        REQUIRE(event);
        CHECK(event->type == PlaylistType::event);
        CHECK(render_media_playlist(*event).find("#EXT-X-START:TIME-OFFSET=0") !=
              std::string::npos);
    }
}

TEST_CASE("listing: a clip's asset lists its segments as the model does", "[listing][harvest]") {
    for (const Case& c : cases()) {
        TempFolder dir;
        CaseDvr dvr(dir / "dvr", c);
        FakeClipCutter cutter;
        const std::vector<core::Rung> ladder = {rung("720p", 1280, 720)};
        const core::EncoderConfig encoder;
        ClipRecord clip;
        clip.id = "shared";
        clip.rendition = "720p";
        clip.start_ms = start_of(c.segments.front().sequence) / 90;
        clip.end_ms = (start_of(c.segments.back().sequence) + c.segments.back().duration) / 90;
        const fs::path asset = dir / "clips" / "shared";
        auto built = build_clip_asset(clip, {ladder, encoder, kLength, dvr, cutter}, asset,
                                      std::stop_token());
        INFO(c.name << ": " << (built ? "" : built.error().message));
        REQUIRE(built);
        check(c,
              read(read_all(asset / "720p" / kClipMediaPlaylist), read_all(asset / kClipMaster)));
    }
}
