// The segment store: what players see in the playlists it renders and what
// they can download, as segments arrive.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "core/config.hpp"
#include "fakes.hpp"
#include "origin/segment_store.hpp"

using namespace onair;
using namespace onair::origin;
using namespace onair::origin::testing;

namespace {

void feed(SegmentStore& store, std::string rendition, int64_t from, int64_t to,
          char pipeline = 'a') {
    for (int64_t s = from; s <= to; ++s) store.on_segment(segment(rendition, s, pipeline));
}

std::vector<std::string> seq_uris(std::initializer_list<int64_t> sequences) {
    std::vector<std::string> out;
    for (auto s : sequences) out.push_back(std::to_string(s) + ".ts");
    return out;
}

int count_lines(std::string_view text, std::string_view prefix) {
    int n = 0;
    for (auto& line : lines(text))
        if (line.starts_with(prefix)) ++n;
    return n;
}

}  // namespace

TEST_CASE("store options come from the channel: ladder order, window of at least 3", "[store]") {
    core::ChannelConfig config;
    config.channel = "demo";
    config.ladder.resize(3);
    config.ladder[0].name = "720p";
    config.ladder[1].name = "480p";
    config.ladder[2].name = "360p";
    config.hls.segment = std::chrono::seconds(6);
    config.hls.window = std::chrono::seconds(60);
    auto o = StoreOptions::from_config(config);
    CHECK(o.channel == "demo");
    CHECK(o.renditions == std::vector<std::string>{"720p", "480p", "360p"});
    CHECK(o.segment_length == 6 * kSecond);
    CHECK(o.window_segments == 10);
    CHECK(o.retained_segments() == 22);
    config.hls.window = std::chrono::seconds(12);
    CHECK(StoreOptions::from_config(config).window_segments == 3);
}

TEST_CASE("an empty store is not ready", "[store]") {
    SegmentStore store(options());
    CHECK_FALSE(store.media_playlist("720p"));
    CHECK_FALSE(store.master_playlist());
    CHECK_FALSE(store.segment("720p", 0));
    CHECK(store.has_rendition("720p"));
    CHECK_FALSE(store.has_rendition("1080p"));
    CHECK_FALSE(store.newest_sequence("720p"));
}

TEST_CASE("the playlist window slides, MEDIA-SEQUENCE is the first listed", "[store]") {
    SegmentStore store(options(5));
    feed(store, "720p", 100, 101);
    auto p = store.media_playlist("720p");
    REQUIRE(p);
    CHECK(uris(*p) == seq_uris({100, 101}));
    CHECK(tag_value(*p, "#EXT-X-MEDIA-SEQUENCE") == "100");

    feed(store, "720p", 102, 107);
    p = store.media_playlist("720p");
    CHECK(uris(*p) == seq_uris({103, 104, 105, 106, 107}));
    CHECK(tag_value(*p, "#EXT-X-MEDIA-SEQUENCE") == "103");
    CHECK(tag_value(*p, "#EXT-X-TARGETDURATION") == "6");
    CHECK(count_lines(*p, "#EXT-X-DISCONTINUITY") == 0);

    feed(store, "720p", 108, 108);
    p = store.media_playlist("720p");
    CHECK(uris(*p) == seq_uris({104, 105, 106, 107, 108}));
    CHECK(tag_value(*p, "#EXT-X-MEDIA-SEQUENCE") == "104");
    CHECK(store.newest_sequence("720p") == 108);
    // The other rendition is independent.
    CHECK_FALSE(store.media_playlist("480p"));
}

TEST_CASE("every listed segment has a PROGRAM-DATE-TIME from its start", "[store]") {
    SegmentStore store(options(5));
    feed(store, "720p", 0, 6);
    auto p = store.media_playlist("720p");
    REQUIRE(p);
    auto l = lines(*p);
    int pdts = 0;
    for (std::size_t i = 0; i < l.size(); ++i) {
        if (l[i].empty() || l[i][0] == '#') continue;
        // URI, preceded by EXTINF, preceded by PDT.
        REQUIRE(i >= 2);
        CHECK(l[i - 1] == "#EXTINF:6.000,");
        CHECK(l[i - 2].starts_with("#EXT-X-PROGRAM-DATE-TIME:"));
        ++pdts;
    }
    CHECK(pdts == 5);
    // Segment 2 starts 12 s after the base time.
    CHECK(l.at(5) == "#EXT-X-PROGRAM-DATE-TIME:2026-11-22T04:48:12.000Z");
    CHECK(l.at(7) == "2.ts");
}

TEST_CASE("a gap gets a DISCONTINUITY, its sliding out counts in DISCONTINUITY-SEQUENCE",
          "[store]") {
    TestClock clock;
    SegmentStore store(options(5, {"720p", "480p"}, clock));
    feed(store, "720p", 0, 4);
    CHECK(store.media_playlist("720p"));
    feed(store, "720p", 7, 8);  // 5 and 6 never came
    // The hole is held open while the other pipeline might fill it.
    CHECK(uris(*store.media_playlist("720p")) == seq_uris({0, 1, 2, 3, 4}));
    clock.advance(1001);
    store.tick();  // the channel's ticker publishes what fell due
    auto p = store.media_playlist("720p");
    REQUIRE(p);
    auto l = lines(*p);
    const std::vector<std::string> tail = {
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-22T04:48:24.000Z",
        "#EXTINF:6.000,",
        "4.ts",
        "#EXT-X-DISCONTINUITY",
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-22T04:48:42.000Z",
        "#EXTINF:6.000,",
        "7.ts",
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-22T04:48:48.000Z",
        "#EXTINF:6.000,",
        "8.ts",
    };
    CHECK(std::vector<std::string>(l.end() - 10, l.end()) == tail);
    CHECK(tag_value(*p, "#EXT-X-MEDIA-SEQUENCE") == "2");
    CHECK(count_lines(*p, "#EXT-X-DISCONTINUITY-SEQUENCE") == 0);

    feed(store, "720p", 9, 11);  // window 7..11: the gap is now before the first segment
    p = store.media_playlist("720p");
    CHECK(uris(*p) == seq_uris({7, 8, 9, 10, 11}));
    CHECK(count_lines(*p, "#EXT-X-DISCONTINUITY") == 1);  // still on 7, which is listed
    CHECK(lines(*p).at(5) == "#EXT-X-DISCONTINUITY");
    CHECK(count_lines(*p, "#EXT-X-DISCONTINUITY-SEQUENCE") == 0);

    feed(store, "720p", 12, 12);  // 7 and its discontinuity slide out
    p = store.media_playlist("720p");
    CHECK(uris(*p) == seq_uris({8, 9, 10, 11, 12}));
    CHECK(tag_value(*p, "#EXT-X-DISCONTINUITY-SEQUENCE") == "1");
    CHECK(count_lines(*p, "#EXT-X-DISCONTINUITY") == 1);  // only the -SEQUENCE tag
}

TEST_CASE("discontinuities that slide out unseen are still counted", "[store]") {
    TestClock clock;
    SegmentStore store(options(3, {"720p", "480p"}, clock));
    feed(store, "720p", 0, 2);
    store.on_segment(segment("720p", 5));
    clock.advance(1500);
    store.tick();  // the channel's ticker publishes what fell due
    store.on_segment(segment("720p", 9));
    clock.advance(1500);
    store.tick();                 // the channel's ticker publishes what fell due
    feed(store, "720p", 10, 13);  // 5 and 9 both had a gap before them and both left
    auto p = store.media_playlist("720p");
    REQUIRE(p);
    CHECK(uris(*p) == seq_uris({11, 12, 13}));
    CHECK(tag_value(*p, "#EXT-X-DISCONTINUITY-SEQUENCE") == "2");
}

TEST_CASE("a late segment fills a gap only while the gap has not been listed", "[store]") {
    SECTION("not listed yet: the gap closes, no discontinuity") {
        SegmentStore store(options(5));
        feed(store, "720p", 0, 1);
        feed(store, "720p", 3, 3);
        feed(store, "720p", 2, 2);
        auto p = store.media_playlist("720p");
        CHECK(uris(*p) == seq_uris({0, 1, 2, 3}));
        CHECK(count_lines(*p, "#EXT-X-DISCONTINUITY") == 0);
    }
    SECTION("listed: the playlist's past is not rewritten, the segment is downloadable") {
        TestClock clock;
        SegmentStore store(options(5, {"720p", "480p"}, clock));
        feed(store, "720p", 0, 1);
        feed(store, "720p", 3, 3);
        clock.advance(1500);  // nobody filled the hole in time
        store.tick();         // the channel's ticker publishes what fell due
        auto before = store.media_playlist("720p");
        feed(store, "720p", 2, 2);
        auto after = store.media_playlist("720p");
        CHECK(after == before);
        CHECK(uris(*after) == seq_uris({0, 1, 3}));
        CHECK(count_lines(*after, "#EXT-X-DISCONTINUITY") == 1);
        CHECK(store.segment("720p", 2));
        feed(store, "720p", 4, 4);
        CHECK(uris(*store.media_playlist("720p")) == seq_uris({0, 1, 3, 4}));
    }
}

TEST_CASE("target duration rises with a long segment and never comes down", "[store]") {
    SegmentStore store(options(3));
    feed(store, "720p", 0, 1);
    CHECK(tag_value(*store.media_playlist("720p"), "#EXT-X-TARGETDURATION") == "6");
    FakeSegment f;
    f.sequence = 2;
    f.duration = 6 * kSecond + 4 * kSecond / 10;  // 6.4: still 6
    store.on_segment(f.make());
    CHECK(tag_value(*store.media_playlist("720p"), "#EXT-X-TARGETDURATION") == "6");
    f.sequence = 3;
    f.duration = 6 * kSecond + kSecond / 2;  // 6.5: 7
    store.on_segment(f.make());
    auto p = *store.media_playlist("720p");
    CHECK(tag_value(p, "#EXT-X-TARGETDURATION") == "7");
    CHECK(count_lines(p, "#EXTINF:6.500,") == 1);
    feed(store, "720p", 4, 10);  // the long one has left the playlist and the store
    CHECK(tag_value(*store.media_playlist("720p"), "#EXT-X-TARGETDURATION") == "7");
    // Per rendition.
    feed(store, "480p", 0, 0);
    CHECK(tag_value(*store.media_playlist("480p"), "#EXT-X-TARGETDURATION") == "6");
}

TEST_CASE("master: measured BANDWIDTH and AVERAGE-BANDWIDTH, attributes of the newest segment",
          "[store]") {
    SegmentStore store(options(3, {"720p", "480p", "360p"}));
    // 480p first: the master still follows ladder order.
    FakeSegment low;
    low.rendition = "480p";
    low.width = 854;
    low.height = 480;
    low.codecs = "avc1.64001e,mp4a.40.2";
    low.size = 750000;  // 1 Mbit/s over 6 s
    low.sequence = 0;
    store.on_segment(low.make());

    FakeSegment f;
    const std::size_t sizes[] = {3000000, 1500000, 1500000, 2250000};  // 4, 2, 2, 3 Mbit/s
    for (int s = 0; s < 4; ++s) {
        f.sequence = s;
        f.size = sizes[s];
        if (s == 3) {  // the newest changes what the master says
            f.width = 1920;
            f.height = 1080;
            f.frame_rate = {30000, 1001};
            f.codecs = "avc1.640028,mp4a.40.2";
        }
        store.on_segment(f.make());
    }
    auto master = store.master_playlist();
    REQUIRE(master);
    const std::vector<std::string> expected = {
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        // The peak of the listed segments (1..3; segment 0's 4 Mbit/s has
        // left the window), and their average.
        "#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2333333,"
        "CODECS=\"avc1.640028,mp4a.40.2\",RESOLUTION=1920x1080,FRAME-RATE=29.970",
        "720p/index.m3u8",
        "#EXT-X-STREAM-INF:BANDWIDTH=1000000,AVERAGE-BANDWIDTH=1000000,"
        "CODECS=\"avc1.64001e,mp4a.40.2\",RESOLUTION=854x480,FRAME-RATE=30.000",
        "480p/index.m3u8",
    };
    CHECK(lines(*master) == expected);  // 360p has no segment yet: left out

    // Average is weighted by duration: a 3 s segment of 1.5 Mbit/s.
    f.sequence = 4;
    f.size = 562500;
    f.duration = 3 * kSecond;
    store.on_segment(f.make());
    master = store.master_playlist();
    REQUIRE(master);
    // (2 + 3) Mbit/s * 6 s + 1.5 Mbit/s * 3 s over 15 s; the peak is still
    // segment 3's (segments 3 and 4 together: 2.5 Mbit/s over 9 s).
    CHECK(lines(*master)[3].starts_with(
        "#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2300000,"));
}

TEST_CASE("a segment stays downloadable a window after leaving the playlist, then goes",
          "[store]") {
    SegmentStore store(options(5));  // keeps 2 x 5 + 2 = 12
    feed(store, "720p", 0, 4);
    CHECK(uris(*store.media_playlist("720p")).front() == "0.ts");
    feed(store, "720p", 5, 5);
    CHECK(uris(*store.media_playlist("720p")).front() == "1.ts");  // 0 left the playlist
    feed(store, "720p", 6, 11);  // a whole window (and a bit) later
    CHECK(store.segment("720p", 0));
    CHECK(store.held("720p") == 12);
    feed(store, "720p", 12, 12);
    CHECK_FALSE(store.segment("720p", 0));
    CHECK(store.segment("720p", 1));
    CHECK(store.held("720p") == 12);
    feed(store, "720p", 13, 40);
    CHECK(store.held("720p") == 12);
    CHECK_FALSE(store.segment("720p", 28));
    CHECK(store.segment("720p", 29));
    // Too old to be taken at all.
    store.on_segment(segment("720p", 3));
    CHECK_FALSE(store.segment("720p", 3));
}

TEST_CASE("the copy a sequence serves is frozen once served or listed", "[store]") {
    auto first_byte = [](const core::SharedBytes& b) { return b ? int(b->at(0)) : -1; };
    TestClock clock;
    SegmentStore store(options(5, {"720p", "480p"}, clock));

    SECTION("served: a later 'a' copy does not replace 'b'") {
        store.on_segment(segment("720p", 0, 'b'));
        CHECK(first_byte(store.segment("720p", 0)) == 'b');
        store.on_segment(segment("720p", 0, 'a'));
        CHECK(first_byte(store.segment("720p", 0)) == 'b');
        CHECK(store.served_copy("720p", 0) == 'b');
    }
    SECTION("not served yet: 'a' is preferred when it arrives") {
        store.on_segment(segment("720p", 0, 'b'));
        store.on_segment(segment("720p", 0, 'a'));
        CHECK(store.served_copy("720p", 0) == 'a');
        CHECK(first_byte(store.segment("720p", 0)) == 'a');
    }
    SECTION("listed: the playlist froze the choice") {
        store.on_segment(segment("720p", 0, 'b'));
        CHECK_FALSE(store.media_playlist("720p"));  // A, the active one, may still come
        clock.advance(1000);
        store.tick();  // the channel's ticker publishes what fell due
        REQUIRE(store.media_playlist("720p"));
        store.on_segment(segment("720p", 0, 'a'));
        CHECK(store.served_copy("720p", 0) == 'b');
        CHECK(first_byte(store.segment("720p", 0)) == 'b');
    }
    SECTION("real content beats slate") {
        FakeSegment f;
        f.slate = true;
        f.fill = 'a';
        store.on_segment(f.make());
        store.on_segment(segment("720p", 0, 'b'));
        CHECK(first_byte(store.segment("720p", 0)) == 'b');
    }
    SECTION("the same pipeline's copy twice: the first stays") {
        store.on_segment(segment("720p", 0, 'a'));
        FakeSegment f;
        f.fill = 'x';
        store.on_segment(f.make());
        CHECK(first_byte(store.segment("720p", 0)) == 'a');
    }
}

TEST_CASE("segments the store cannot place are refused", "[store]") {
    SegmentStore store(options(5));
    store.on_segment(segment("1080p", 0));  // not in the ladder
    auto s = segment("720p", 0);
    s.bytes = nullptr;
    store.on_segment(s);
    s = segment("720p", 0);
    s.pipeline = 'c';
    store.on_segment(s);
    s = segment("720p", 0);
    s.duration = 0;
    store.on_segment(s);
    CHECK(store.refused() == 4);
    CHECK(store.held("720p") == 0);
    CHECK_FALSE(store.master_playlist());
}

TEST_CASE("pipelines write while players read", "[store]") {
    SegmentStore store(options(5, {"720p", "480p", "360p"}));
    std::atomic<bool> done{false};
    std::atomic<int> problems{0};
    auto writer = [&](char pipeline) {
        for (int64_t s = 0; s < 400; ++s)
            for (const char* r : {"720p", "480p", "360p"})
                store.on_segment(segment(r, s, pipeline));
    };
    auto reader = [&] {
        int64_t last_first = -1;
        while (!done) {
            auto p = store.media_playlist("480p");
            if (!p) continue;
            auto u = uris(*p);
            int64_t first = std::stoll(tag_value(*p, "#EXT-X-MEDIA-SEQUENCE"));
            // Contiguous, starting at MEDIA-SEQUENCE, which never goes back.
            for (std::size_t i = 0; i < u.size(); ++i)
                if (u[i] != std::to_string(first + int64_t(i)) + ".ts") ++problems;
            if (first < last_first) ++problems;
            last_first = first;
            (void)store.segment("480p", first);
            (void)store.master_playlist();
        }
    };
    std::thread r1(reader), r2(reader);
    std::thread a(writer, 'a'), b(writer, 'b');
    a.join();
    b.join();
    done = true;
    r1.join();
    r2.join();
    CHECK(problems == 0);
    CHECK(store.newest_sequence("360p") == 399);
    CHECK(uris(*store.media_playlist("720p")) == seq_uris({395, 396, 397, 398, 399}));
}

TEST_CASE("a live playlist changes exactly when a segment is published, read without waiting",
          "[store]") {
    TestClock clock;
    SegmentStore store(options(5, {"720p", "480p"}, clock));
    constexpr int64_t kSegments = 300;
    std::atomic<int64_t> published{-1};  // newest sequence on_segment has returned for
    std::atomic<bool> done{false};
    std::atomic<int64_t> stale{0}, reads{0}, changes{0}, unchanged_rerenders{0};
    auto newest_in = [](std::string_view playlist) {
        auto all = uris(playlist);
        return all.empty() ? int64_t(-1) : std::stoll(all.back());
    };
    std::vector<std::thread> readers;
    for (int i = 0; i < 3; ++i)
        readers.emplace_back([&] {
            const PreparedResponse* last = nullptr;
            int64_t last_newest = -1;
            while (!done) {
                const int64_t due = published.load();
                auto p = store.live_playlist("720p");
                ++reads;
                if (!p) {
                    if (due >= 0) ++stale;
                    continue;
                }
                const int64_t newest = newest_in(p->body().view());
                if (newest < due) ++stale;  // served stale past its publish
                if (p.get() != last) {
                    ++changes;
                    // A new rendering always lists something new.
                    if (newest == last_newest) ++unchanged_rerenders;
                    last = p.get();
                    last_newest = newest;
                }
            }
        });
    for (int64_t s = 0; s < kSegments; ++s) {
        store.on_segment(segment("720p", s));
        published = s;
        store.tick();  // nothing fell due: the ticker renders nothing
        if (s % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    done = true;
    for (auto& t : readers) t.join();
    INFO("reads " << reads << ", changes seen " << changes);
    CHECK(reads > kSegments);
    CHECK(stale == 0);
    CHECK(unchanged_rerenders == 0);
    // One rendering of the media playlist and one of the master per publish.
    CHECK(store.renderings() == 2 * kSegments);
    // Requests and ticks with nothing new render nothing.
    for (int i = 0; i < 100; ++i) {
        CHECK(store.live_playlist("720p"));
        store.tick();
    }
    CHECK(store.renderings() == 2 * kSegments);
}
