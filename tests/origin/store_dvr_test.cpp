// The store's side of the DVR: every listed copy handed on once and in
// order, and the live window brought back after a restart.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "dvr_fakes.hpp"
#include "origin/dvr_restore.hpp"
#include "origin/segment_store.hpp"
#include "tests/support/hls.hpp"

using namespace onair;
using namespace onair::origin;
using namespace onair::origin::testing;

namespace {

struct Published {
    std::string rendition;
    int64_t sequence;
    char pipeline;
    friend bool operator==(const Published&, const Published&) = default;
};

// Collects what the store publishes; safe to call from any thread.
struct PublishLog {
    std::mutex mutex;
    std::vector<Published> list;
    SegmentStore::PublishHandler handler() {
        return [this](std::shared_ptr<const core::Segment> s) {
            std::lock_guard lock(mutex);
            list.push_back({s->rendition, s->sequence, s->pipeline});
        };
    }
    std::vector<int64_t> sequences(std::string_view rendition) {
        std::lock_guard lock(mutex);
        std::vector<int64_t> out;
        for (const auto& p : list)
            if (p.rendition == rendition) out.push_back(p.sequence);
        return out;
    }
};

std::vector<std::string> seq_uris(std::initializer_list<int64_t> sequences) {
    std::vector<std::string> out;
    for (auto s : sequences) out.push_back(std::to_string(s) + ".ts");
    return out;
}

// The URIs right after an EXT-X-DISCONTINUITY, in order.
std::vector<std::string> after_discontinuity(std::string_view playlist) {
    std::vector<std::string> out;
    bool pending = false;
    for (auto& line : lines(playlist)) {
        if (line == "#EXT-X-DISCONTINUITY") pending = true;
        if (!line.empty() && line[0] != '#') {
            if (pending) out.push_back(line);
            pending = false;
        }
    }
    return out;
}

RestoredSegment restored(std::string rendition, int64_t sequence, bool discontinuity = false) {
    FakeSegment f;
    f.rendition = std::move(rendition);
    f.sequence = sequence;
    f.pipeline = 'r';
    f.fill = 0x52;
    return {f.make(), discontinuity};
}

}  // namespace

TEST_CASE("store: each listed copy is published once, in order, the copy served", "[store][dvr]") {
    TestClock clock;
    PublishLog log;
    SegmentStore store(options(5, {"720p", "480p"}, clock), {}, log.handler());
    for (int64_t s = 0; s < 3; ++s) {
        store.on_segment(segment("720p", s, 'a'));
        store.on_segment(segment("720p", s, 'b'));  // the same sequence from B: not again
    }
    CHECK(log.sequences("720p") == std::vector<int64_t>{0, 1, 2});
    // 3 comes from B alone: published once A has had its time.
    store.on_segment(segment("720p", 3, 'b'));
    CHECK(log.sequences("720p").size() == 3);
    clock.advance(1001);
    store.tick();  // the channel's ticker publishes what fell due
    store.tick();
    // 5 after a hole: held while the hole may fill, then listed.
    store.on_segment(segment("720p", 5, 'a'));
    CHECK(log.sequences("720p") == std::vector<int64_t>{0, 1, 2, 3});
    clock.advance(1001);
    store.tick();                        // the channel's ticker publishes what fell due
    (void)store.media_playlist("720p");  // a player's request publishes too
    CHECK(log.sequences("720p") == std::vector<int64_t>{0, 1, 2, 3, 5});
    {
        std::lock_guard lock(log.mutex);
        CHECK(log.list.at(3) == Published{"720p", 3, 'b'});
        CHECK(log.list.at(4) == Published{"720p", 5, 'a'});
    }
    // A late 4 is downloadable but never listed: not published either.
    store.on_segment(segment("720p", 4, 'a'));
    store.tick();
    CHECK(log.sequences("720p") == std::vector<int64_t>{0, 1, 2, 3, 5});
    CHECK(log.sequences("480p").empty());
}

TEST_CASE("store: the publish handler runs outside the store's lock", "[store][dvr]") {
    std::vector<std::optional<int64_t>> seen;
    SegmentStore* self = nullptr;
    SegmentStore store(options(5), {}, [&](std::shared_ptr<const core::Segment> s) {
        // Would deadlock under the store's mutex.
        seen.push_back(self->newest_listed(s->rendition));
        (void)self->media_playlist(s->rendition);
    });
    self = &store;
    for (int64_t s = 0; s < 4; ++s) store.on_segment(segment("720p", s));
    CHECK(seen == std::vector<std::optional<int64_t>>{0, 1, 2, 3});
}

TEST_CASE("store: published in order while players and two pipelines race", "[store][dvr]") {
    PublishLog log;
    SegmentStore store(options(5, {"720p", "480p"}), {}, log.handler());
    std::atomic<bool> done{false};
    auto writer = [&](char pipeline) {
        for (int64_t s = 0; s < 300; ++s)
            for (const char* r : {"720p", "480p"}) store.on_segment(segment(r, s, pipeline));
    };
    auto reader = [&] {
        while (!done) {
            (void)store.media_playlist("480p");
            (void)store.master_playlist();
            store.tick();
        }
    };
    std::thread r1(reader), r2(reader);
    std::thread a(writer, 'a'), b(writer, 'b');
    a.join();
    b.join();
    done = true;
    r1.join();
    r2.join();
    std::vector<int64_t> all(300);
    for (int64_t s = 0; s < 300; ++s) all[size_t(s)] = s;
    CHECK(log.sequences("720p") == all);
    CHECK(log.sequences("480p") == all);
}

TEST_CASE("store: a restored window is listed as it was and the live one continues it",
          "[store][dvr]") {
    TestClock clock;
    PublishLog log;
    SegmentStore store(options(5, {"720p", "480p"}, clock), {}, log.handler());
    std::vector<RestoredSegment> before;
    for (int64_t s = 5; s < 15; ++s) before.push_back(restored("720p", s, s == 12));
    for (int64_t s = 10; s < 15; ++s) before.push_back(restored("480p", s));
    before.push_back(restored("1080p", 14));  // not in the ladder: left out
    CHECK(store.restore(std::move(before)) == 10);

    auto p = store.media_playlist("720p");
    REQUIRE(p);
    // The newest window of what was restored, its discontinuity where it was.
    CHECK(uris(*p) == seq_uris({10, 11, 12, 13, 14}));
    CHECK(tag_value(*p, "#EXT-X-MEDIA-SEQUENCE") == "10");
    CHECK(after_discontinuity(*p) == std::vector<std::string>{"12.ts"});
    auto bytes = store.segment("720p", 12);
    REQUIRE(bytes);
    CHECK(bytes->front() == 0x52);
    CHECK(store.served_copy("720p", 12) == 'r');
    CHECK_FALSE(store.pipeline_listing("720p", 'a'));  // no pipeline made them
    CHECK(store.master_playlist());
    CHECK(log.sequences("720p").empty());  // already in the DVR

    // 15 follows 14: no discontinuity, listed at once.
    store.on_segment(segment("720p", 15));
    p = store.media_playlist("720p");
    CHECK(uris(*p) == seq_uris({11, 12, 13, 14, 15}));
    CHECK(after_discontinuity(*p) == std::vector<std::string>{"12.ts"});
    CHECK(log.sequences("720p") == std::vector<int64_t>{15});

    // 480p comes back after a gap: listed with a discontinuity once the hole had its time.
    store.on_segment(segment("480p", 18));
    CHECK(uris(*store.media_playlist("480p")) == seq_uris({10, 11, 12, 13, 14}));
    clock.advance(1001);
    store.tick();  // the channel's ticker publishes what fell due
    p = store.media_playlist("480p");
    CHECK(uris(*p) == seq_uris({11, 12, 13, 14, 18}));
    CHECK(after_discontinuity(*p) == std::vector<std::string>{"18.ts"});

    // A rendition that already lists segments is not restored over.
    CHECK(store.restore({restored("480p", 30)}) == 0);
}

TEST_CASE("store: restore_from_dvr brings back the newest window, gaps marked", "[store][dvr]") {
    onair::testing::TempDir dir("onair-restore");
    TestClock clock;
    auto dvr = open_dvr(dvr_options(dir.path(), clock));
    for (int64_t s : {0, 1, 2, 3, 4, 6, 7, 8, 9}) {
        dvr->record(recorded("720p", s));
        dvr->record(recorded("480p", s));
    }
    dvr->flush();

    SECTION("the newest window, with the recording's discontinuity") {
        SegmentStore store(options(5, {"720p", "480p"}, clock));
        CHECK(restore_from_dvr(*dvr, store, 0) == 10);
        auto p = store.media_playlist("720p");
        REQUIRE(p);
        CHECK(uris(*p) == seq_uris({4, 6, 7, 8, 9}));
        CHECK(after_discontinuity(*p) == std::vector<std::string>{"6.ts"});
        auto bytes = store.segment("480p", 7);
        REQUIRE(bytes);
        CHECK(*bytes == *recorded("480p", 7)->bytes);
    }
    SECTION("expired ones are left out") {
        SegmentStore store(options(5, {"720p", "480p"}, clock));
        CHECK(restore_from_dvr(*dvr, store, start_of(7)) == 6);
        CHECK(uris(*store.media_playlist("720p")) == seq_uris({7, 8, 9}));
    }
    SECTION("a file gone from disk: the run resumes with a discontinuity") {
        std::filesystem::remove(dvr->find("720p", 8)->file);
        SegmentStore store(options(5, {"720p", "480p"}, clock));
        restore_from_dvr(*dvr, store, 0);
        auto p = store.media_playlist("720p");
        CHECK(uris(*p) == seq_uris({4, 6, 7, 9}));
        CHECK(after_discontinuity(*p) == std::vector<std::string>{"6.ts", "9.ts"});
    }
}

TEST_CASE("store: MEDIA-SEQUENCE counts listed segments, so a gap never renumbers them",
          "[store][dvr]") {
    TestClock clock;
    SegmentStore store(options(5, {"720p", "480p"}, clock));
    onair::testing::ReloadTracker tracker("720p");
    auto reload = [&] {
        auto text = store.media_playlist("720p");
        REQUIRE(text);
        auto p = onair::testing::parse_media_playlist(*text);
        auto added = tracker.add(p);
        INFO(*text);
        CHECK(added.empty());
        return p;
    };
    for (int64_t s = 0; s < 5; ++s) {
        store.on_segment(segment("720p", s));
        reload();
    }
    store.on_segment(segment("720p", 7));  // 5 and 6 never come
    clock.advance(1001);
    store.tick();  // the channel's ticker publishes what fell due
    auto p = reload();
    CHECK(p.media_sequence == 1);  // 1..4, then 7 as number 5
    for (int64_t s = 8; s < 14; ++s) {
        store.on_segment(segment("720p", s));
        p = reload();
    }
    // 9..13 listed; 7 was the 6th listed (number 5), so 9 is number 7.
    CHECK(uris(std::string(*store.media_playlist("720p"))) == seq_uris({9, 10, 11, 12, 13}));
    CHECK(p.media_sequence == 7);
    CHECK(tracker.violations().empty());
}

TEST_CASE("store: after a restored segment cut short, the next one is a discontinuity",
          "[store][dvr]") {
    TestClock clock;
    SegmentStore store(options(5, {"720p"}, clock));
    std::vector<RestoredSegment> before = {restored("720p", 10), restored("720p", 11)};
    before.back().segment.duration = 2 * kSecond;  // the stopped run's last, 2 s of 6
    store.restore(std::move(before));
    store.on_segment(segment("720p", 12));  // follows by number, not by time
    clock.advance(1001);
    store.tick();  // the channel's ticker publishes what fell due
    auto p = store.media_playlist("720p");
    REQUIRE(p);
    CHECK(uris(*p) == seq_uris({10, 11, 12}));
    CHECK(after_discontinuity(*p) == std::vector<std::string>{"12.ts"});
    store.on_segment(segment("720p", 13));
    CHECK(after_discontinuity(*store.media_playlist("720p")) == std::vector<std::string>{"12.ts"});
}
