// The DVR: what it keeps on disk and in its index, what it gives back, what
// it deletes when, and what survives a restart.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <numeric>
#include <thread>

#include "dvr_fakes.hpp"

using namespace onair;
using namespace onair::origin;
using namespace onair::origin::testing;
namespace fs = std::filesystem;

namespace {

std::vector<int64_t> iota(int64_t from, int64_t to) {
    std::vector<int64_t> out(size_t(to - from + 1));
    std::iota(out.begin(), out.end(), from);
    return out;
}

std::string file_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("dvr: recorded segments come back by time, by sequence and newest first", "[dvr]") {
    onair::testing::TempDir dir("onair-dvr");
    TestClock clock;
    auto dvr = open_dvr(dvr_options(dir.path(), clock));
    record_all(*dvr, "720p", 0, 9);
    record_all(*dvr, "480p", 0, 4, 500);
    dvr->flush();

    CHECK(dvr->segments_on_disk() == 15);
    CHECK(dvr->bytes_on_disk() == 10 * 1000 + 5 * 500);
    CHECK(fs::exists(dir.path() / "dvr" / "index.sqlite"));

    auto three = dvr->find("720p", 3);
    REQUIRE(three);
    CHECK(three->rendition == "720p");
    CHECK(three->sequence == 3);
    CHECK(three->start == start_of(3));
    CHECK(three->duration == 6 * kSecond);
    CHECK(three->end() == start_of(4));
    CHECK(three->frames == 180);
    CHECK(three->bytes == 1000);
    CHECK(three->width == 1280);
    CHECK(three->height == 720);
    CHECK(three->frame_rate == core::Rational{30, 1});
    CHECK(three->codecs == "avc1.64001f,mp4a.40.2");
    CHECK_FALSE(three->slate);
    CHECK_FALSE(three->discontinuity);
    CHECK(three->file == dir.path() / "dvr" / "720p" / "3.ts");
    auto bytes = dvr->read(*three);
    REQUIRE(bytes);
    CHECK(*bytes == *recorded("720p", 3)->bytes);
    CHECK_FALSE(dvr->find("720p", 10));
    CHECK_FALSE(dvr->find("1080p", 3));

    // Overlapping [from, to): 2 ends after from, 5 starts at to.
    CHECK(sequences(dvr->range("720p", start_of(2) + kSecond, start_of(5))) ==
          std::vector<int64_t>{2, 3, 4});
    CHECK(sequences(dvr->range("720p", start_of(3), start_of(3) + 1)) == std::vector<int64_t>{3});
    CHECK(sequences(dvr->range("480p", 0, INT64_MAX)) == iota(0, 4));
    CHECK(dvr->range("720p", start_of(10), start_of(20)).empty());
    CHECK(dvr->range("720p", start_of(5), start_of(5)).empty());

    CHECK(sequences(dvr->newest("720p", 3)) == std::vector<int64_t>{7, 8, 9});
    CHECK(sequences(dvr->newest("480p", 100)) == iota(0, 4));
    CHECK(dvr->newest("1080p", 3).empty());

    CHECK(dvr->span("720p") == std::pair{start_of(0), start_of(10)});
    CHECK(dvr->span("480p") == std::pair{start_of(0), start_of(5)});
    CHECK_FALSE(dvr->span("1080p"));
    CHECK(dvr->extent() == std::pair{start_of(0), start_of(10)});
}

TEST_CASE("dvr: a sequence that does not follow the newest is a discontinuity", "[dvr]") {
    onair::testing::TempDir dir("onair-dvr");
    TestClock clock;
    auto dvr = open_dvr(dvr_options(dir.path(), clock));
    for (int64_t s : {0, 1, 2, 5, 6}) dvr->record(recorded("720p", s));
    dvr->record(recorded("720p", 6));  // again: ignored
    dvr->record(recorded("720p", 4));  // older than the newest: ignored
    dvr->record(recorded("480p", 3));  // renditions are independent
    dvr->flush();
    auto all = dvr->range("720p", 0, INT64_MAX);
    REQUIRE(sequences(all) == std::vector<int64_t>{0, 1, 2, 5, 6});
    std::vector<bool> flags;
    for (const auto& s : all) flags.push_back(s.discontinuity);
    CHECK(flags == std::vector<bool>{false, false, false, true, false});
    REQUIRE(dvr->find("480p", 3));
    CHECK_FALSE(dvr->find("480p", 3)->discontinuity);
    CHECK(dvr->segments_on_disk() == 6);
}

TEST_CASE(
    "dvr: failing writes stop recording and say why and since when until it resumes by itself",
    "[dvr]") {
    onair::testing::TempDir dir("onair-dvr");
    TestClock clock;
    auto dvr = open_dvr(dvr_options(dir.path(), clock));
    dvr->record(recorded("720p", 0));
    dvr->flush();
    CHECK(dvr->health().error.empty());
    // The rendition's folder turns into a file: every write there fails, as
    // on a full disk (root ignores permissions, so a mode would not do).
    const fs::path folder = dir.path() / "dvr" / "720p";
    fs::rename(folder, dir.path() / "moved");
    std::ofstream(folder) << "not a folder";
    dvr->record(recorded("720p", 1));
    dvr->record(recorded("720p", 2));
    dvr->flush();
    auto health = dvr->health();
    CHECK(health.failed == 2);
    CHECK(health.error.find("Not a directory") != std::string::npos);
    CHECK(health.error.find("720p") != std::string::npos);
    CHECK(health.failing_since_ms == clock.now());
    CHECK(dvr->segments_on_disk() == 1);
    // Space again: the next segment is recorded, after a marked gap.
    fs::remove(folder);
    fs::rename(dir.path() / "moved", folder);
    dvr->record(recorded("720p", 3));
    dvr->flush();
    health = dvr->health();
    CHECK(health.error.empty());
    CHECK(health.failed == 2);
    auto all = dvr->range("720p", 0, INT64_MAX);
    REQUIRE(sequences(all) == std::vector<int64_t>{0, 3});
    CHECK(all.back().discontinuity);
    CHECK(file_text(all.back().file).size() > 0);
}

TEST_CASE("dvr: media missing after a segment cut short is a discontinuity too", "[dvr]") {
    onair::testing::TempDir dir("onair-dvr");
    TestClock clock;
    {
        auto dvr = open_dvr(dvr_options(dir.path(), clock));
        FakeSegment last;  // a stopped run's last segment: 2 s of 6
        last.sequence = 4;
        last.duration = 2 * kSecond;
        record_all(*dvr, "720p", 0, 3);
        dvr->record(std::make_shared<const core::Segment>(last.make()));
    }
    auto dvr = open_dvr(dvr_options(dir.path(), clock));
    record_all(*dvr, "720p", 5, 6);  // the numbers follow, the media does not
    dvr->flush();
    std::vector<bool> flags;
    for (const auto& s : dvr->range("720p", 0, INT64_MAX)) flags.push_back(s.discontinuity);
    CHECK(flags == std::vector<bool>{false, false, false, false, false, true, false});
}

TEST_CASE("dvr: the index survives closing and opening again", "[dvr]") {
    onair::testing::TempDir dir("onair-dvr");
    TestClock clock;
    {
        auto dvr = open_dvr(dvr_options(dir.path(), clock));
        record_all(*dvr, "720p", 100, 104);
        record_all(*dvr, "480p", 100, 104);
        // No flush: closing writes what was recorded.
    }
    auto dvr = open_dvr(dvr_options(dir.path(), clock));
    CHECK(dvr->segments_on_disk() == 10);
    CHECK(dvr->bytes_on_disk() == 10000);
    CHECK(sequences(dvr->newest("720p", 10)) == iota(100, 104));
    auto seg = dvr->find("480p", 102);
    REQUIRE(seg);
    REQUIRE(dvr->read(*seg));
    CHECK(*dvr->read(*seg) == *recorded("480p", 102)->bytes);

    // The newest is remembered too: 105 follows, 108 after a gap does not.
    dvr->record(recorded("720p", 105));
    dvr->record(recorded("480p", 108));
    dvr->flush();
    CHECK_FALSE(dvr->find("720p", 105)->discontinuity);
    CHECK(dvr->find("480p", 108)->discontinuity);
}

TEST_CASE("dvr: opening removes stray files and rows whose file is gone or cut short", "[dvr]") {
    onair::testing::TempDir dir("onair-dvr");
    TestClock clock;
    const fs::path folder = dir.path() / "dvr" / "720p";
    {
        auto dvr = open_dvr(dvr_options(dir.path(), clock));
        record_all(*dvr, "720p", 0, 5);
    }
    std::ofstream(folder / "50.ts") << "not indexed";
    std::ofstream(folder / "51.ts.tmp") << "half written";
    std::ofstream(folder / "notes.txt") << "someone else's";
    // Thumbnails: of a held segment, of one gone, half-written.
    const fs::path thumbs = thumbnail_file(dir.path() / "dvr", 0).parent_path();
    fs::create_directories(thumbs);
    for (const char* name : {"1.jpg", "2.jpg", "50.jpg", "3.jpg.partial"})
        std::ofstream(thumbs / name) << "jpeg";
    fs::remove(folder / "2.ts");
    // What a power loss can leave of a file the disk had not flushed.
    fs::resize_file(folder / "4.ts", fs::file_size(folder / "4.ts") / 2);
    auto dvr = open_dvr(dvr_options(dir.path(), clock));
    CHECK_FALSE(fs::exists(folder / "50.ts"));
    CHECK_FALSE(fs::exists(folder / "51.ts.tmp"));
    CHECK_FALSE(fs::exists(folder / "4.ts"));
    CHECK(fs::exists(folder / "notes.txt"));
    CHECK(fs::exists(thumbs / "1.jpg"));
    for (const char* name : {"2.jpg", "50.jpg", "3.jpg.partial"})
        CHECK_FALSE(fs::exists(thumbs / name));
    CHECK(sequences(dvr->range("720p", 0, INT64_MAX)) == std::vector<int64_t>{0, 1, 3, 5});
    CHECK(dvr->segments_on_disk() == 4);
}

TEST_CASE("dvr: segments older than the window go, files and rows, a clip's hard link stays",
          "[dvr]") {
    onair::testing::TempDir dir("onair-dvr");
    TestClock clock;  // base + 60 s
    auto options = dvr_options(dir.path(), clock);
    options.window_ms = 60'000;
    options.expiry_batch = 3;  // several batches
    auto dvr = open_dvr(options);
    record_all(*dvr, "720p", 0, 19);  // 120 s of media
    record_all(*dvr, "480p", 0, 19);
    dvr->flush();
    CHECK(dvr->segments_on_disk() == 40);  // nothing older than 60 s yet
    CHECK(dvr->expired() == 0);

    // Thumbnails of the first and the last segment.
    fs::create_directories(thumbnail_file(dir.path() / "dvr", 0).parent_path());
    for (int64_t seq : {0, 19}) std::ofstream(thumbnail_file(dir.path() / "dvr", seq)) << "jpeg";

    // A clip links the first segment's file elsewhere.
    const fs::path clip = dir.path() / "clip-0.ts";
    fs::create_hard_link(dvr->find("720p", 0)->file, clip);

    // Now is base + 120 s: segments ending at or before base + 60 s are out.
    clock.advance(60'000);
    dvr->flush();
    CHECK(dvr->expired() == 20);
    CHECK(dvr->segments_on_disk() == 20);
    CHECK(dvr->bytes_on_disk() == 20 * 1000);
    for (const char* r : {"720p", "480p"}) {
        INFO(r);
        CHECK(sequences(dvr->range(r, 0, INT64_MAX)) == iota(10, 19));
        CHECK_FALSE(dvr->find(r, 9));
        CHECK_FALSE(fs::exists(dir.path() / "dvr" / r / "9.ts"));
        CHECK(fs::exists(dir.path() / "dvr" / r / "10.ts"));
        CHECK(dvr->span(r) == std::pair{start_of(10), start_of(20)});
    }
    CHECK_FALSE(fs::exists(dir.path() / "dvr" / "720p" / "0.ts"));
    // Each thumbnail goes with its segment.
    CHECK_FALSE(fs::exists(thumbnail_file(dir.path() / "dvr", 0)));
    CHECK(fs::exists(thumbnail_file(dir.path() / "dvr", 19)));
    REQUIRE(fs::exists(clip));
    CHECK(file_text(clip).size() == 1000);
    const auto original = recorded("720p", 0)->bytes;
    CHECK(file_text(clip) == std::string(original->begin(), original->end()));

    // The rows are gone from the index file too.
    dvr.reset();
    auto again = open_dvr(options);
    CHECK(again->segments_on_disk() == 20);
    CHECK(sequences(again->newest("720p", 100)) == iota(10, 19));
}

TEST_CASE("dvr: over the disk budget the oldest go first, across renditions", "[dvr]") {
    onair::testing::TempDir dir("onair-dvr");
    TestClock clock;
    auto options = dvr_options(dir.path(), clock);
    options.max_bytes = 5500;
    options.expiry_batch = 2;
    auto dvr = open_dvr(options);
    for (int64_t s = 0; s < 10; ++s) {
        dvr->record(recorded("720p", s));
        dvr->record(recorded("480p", s));
    }
    dvr->flush();
    CHECK(dvr->bytes_on_disk() <= 5500);
    CHECK(dvr->bytes_on_disk() == 5000);
    CHECK(dvr->expired() == 15);
    // The newest five by start: 7 of one rendition, 8 and 9 of both.
    auto kept_720 = sequences(dvr->range("720p", 0, INT64_MAX));
    auto kept_480 = sequences(dvr->range("480p", 0, INT64_MAX));
    CHECK(kept_720.size() + kept_480.size() == 5);
    for (const auto& kept : {kept_720, kept_480}) {
        REQUIRE(kept.size() >= 2);
        CHECK(kept.front() >= 7);
        CHECK(kept.back() == 9);
    }
    size_t files = 0;
    for (const char* r : {"720p", "480p"})
        for (const auto& e : fs::directory_iterator(dir.path() / "dvr" / r))
            files += e.is_regular_file();
    CHECK(files == 5);
}

TEST_CASE("dvr: record never waits, a full queue drops the oldest and counts it", "[dvr]") {
    onair::testing::TempDir dir("onair-dvr");
    TestClock clock;
    auto options = dvr_options(dir.path(), clock);
    options.queue_capacity = 2;
    auto dvr = open_dvr(options);
    constexpr int64_t kCount = 300;
    for (int64_t s = 0; s < kCount; ++s) dvr->record(recorded("720p", s, 20000));
    dvr->flush();
    // Every one is either on disk or counted as dropped; the newest always lands.
    CHECK(dvr->segments_on_disk() + dvr->dropped() == kCount);
    REQUIRE(dvr->find("720p", kCount - 1));
    // Each hole the drops left is marked where the recording resumes.
    auto all = dvr->range("720p", 0, INT64_MAX);
    REQUIRE_FALSE(all.empty());
    for (size_t i = 1; i < all.size(); ++i) {
        INFO("segment " << all[i].sequence);
        CHECK(all[i].discontinuity == (all[i].sequence != all[i - 1].sequence + 1));
    }
    const int64_t holes = all.back().sequence - all.front().sequence + 1 - int64_t(all.size());
    CHECK(holes <= dvr->dropped());
}

TEST_CASE("dvr: readers on other threads while it writes and expires", "[dvr]") {
    onair::testing::TempDir dir("onair-dvr");
    TestClock clock;
    auto options = dvr_options(dir.path(), clock);
    options.window_ms = 60'000;
    auto dvr = open_dvr(options);
    std::atomic<bool> done{false};
    std::atomic<int64_t> reads{0}, bad{0};
    std::vector<std::jthread> readers;
    for (int t = 0; t < 3; ++t)
        readers.emplace_back([&] {
            while (!done) {
                auto all = dvr->range("720p", 0, INT64_MAX);
                for (size_t i = 1; i < all.size(); ++i)
                    if (all[i].sequence <= all[i - 1].sequence) ++bad;
                // Expiry may take it meanwhile, but never give another.
                if (!all.empty()) {
                    auto again = dvr->find("720p", all.back().sequence);
                    if (again && again->start != all.back().start) ++bad;
                }
                ++reads;
            }
        });
    for (int64_t s = 0; s < 200; ++s) {
        dvr->record(recorded("720p", s));
        clock.advance(5700);  // a little slower than the media: each is in the window when written
    }
    dvr->flush();
    done = true;
    readers.clear();
    CHECK(bad == 0);
    CHECK(reads > 0);
    // Now is base + 1200 s; the window keeps media ending after base + 1140 s.
    CHECK(sequences(dvr->range("720p", 0, INT64_MAX)) == iota(190, 199));
    CHECK(dvr->expired() == 190);
}

TEST_CASE("dvr: a folder that cannot be made is an error, not a crash", "[dvr]") {
    onair::testing::TempDir dir("onair-dvr");
    std::ofstream(dir.path() / "file") << "x";
    TestClock clock;
    DvrOptions options = dvr_options(dir.path() / "file", clock);
    auto dvr = Dvr::open(options);
    REQUIRE_FALSE(dvr);
    CHECK(dvr.error().message.find("file") != std::string::npos);
}
