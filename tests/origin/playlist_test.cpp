// Playlist rendering: the text a player parses, line by line.
#include <catch2/catch.hpp>

#include <tuple>

#include "fakes.hpp"
#include "origin/playlist.hpp"

using namespace onair::origin;
using namespace onair::origin::testing;

namespace {

MediaEntry entry(int64_t sequence, int64_t utc_ms, int64_t duration, bool discontinuity = false) {
    return {sequence, utc_ms, duration, discontinuity, segment_uri(sequence), {}, {}};
}

}  // namespace

TEST_CASE("media playlist: header, then PDT, EXTINF and URI per segment", "[playlist]") {
    MediaPlaylist p;
    p.target_duration = 6;
    p.media_sequence = 41;
    p.segments = {entry(41, kBaseUtcMs + 123, 6 * kSecond),
                  entry(42, kBaseUtcMs + 6123, 6 * kSecond - 3003)};
    const std::vector<std::string> expected = {
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:6",
        "#EXT-X-MEDIA-SEQUENCE:41",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-22T04:48:00.123Z",
        "#EXTINF:6.000,",
        "41.ts",
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-22T04:48:06.123Z",
        "#EXTINF:5.967,",
        "42.ts",
    };
    auto text = render_media_playlist(p);
    CHECK(lines(text) == expected);
    CHECK(text.back() == '\n');
    CHECK(text.find('\r') == std::string::npos);
}

TEST_CASE("media playlist: discontinuity tags, sequence, type and end list", "[playlist]") {
    MediaPlaylist p;
    p.target_duration = 7;
    p.media_sequence = 10;
    p.discontinuity_sequence = 2;
    p.type = PlaylistType::vod;
    p.end_list = true;
    p.segments = {entry(10, kBaseUtcMs, 6 * kSecond),
                  entry(12, kBaseUtcMs + 12000, 6 * kSecond, true)};
    const std::vector<std::string> expected = {
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:7",
        "#EXT-X-MEDIA-SEQUENCE:10",
        "#EXT-X-DISCONTINUITY-SEQUENCE:2",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-22T04:48:00.000Z",
        "#EXTINF:6.000,",
        "10.ts",
        "#EXT-X-DISCONTINUITY",
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-22T04:48:12.000Z",
        "#EXTINF:6.000,",
        "12.ts",
        "#EXT-X-ENDLIST",
    };
    CHECK(lines(render_media_playlist(p)) == expected);

    p.type = PlaylistType::event;
    p.end_list = false;
    p.discontinuity_sequence = 0;
    auto text = render_media_playlist(p);
    CHECK(text.find("#EXT-X-PLAYLIST-TYPE:EVENT\n") != std::string::npos);
    CHECK(text.find("DISCONTINUITY-SEQUENCE") == std::string::npos);
    CHECK(text.find("ENDLIST") == std::string::npos);
}

TEST_CASE("EXTINF has three decimals, rounded from 90 kHz ticks", "[playlist]") {
    CHECK(format_extinf(6 * kSecond) == "6.000");
    CHECK(format_extinf(6 * kSecond - 3003) == "5.967");  // 5.96663 s
    CHECK(format_extinf(45) == "0.001");                  // half a millisecond rounds up
    CHECK(format_extinf(44) == "0.000");
    CHECK(format_extinf(2 * kSecond + 90 * 5) == "2.005");
    CHECK(format_extinf(10 * kSecond) == "10.000");
}

TEST_CASE("rounded seconds follow EXTINF as written", "[playlist]") {
    CHECK(rounded_seconds(6 * kSecond) == 6);
    CHECK(rounded_seconds(6 * kSecond + 4 * kSecond / 10) == 6);  // 6.4
    CHECK(rounded_seconds(6 * kSecond + kSecond / 2) == 7);       // 6.5
    CHECK(rounded_seconds(6 * kSecond + kSecond / 2 - 46) == 6);  // 6.49949 is written 6.499
    CHECK(rounded_seconds(6 * kSecond + kSecond / 2 - 45) == 7);  // 6.4995 is written 6.500
    CHECK(rounded_seconds(0) == 0);
}

TEST_CASE("target duration: configured length rounded, raised by segments, never lowered",
          "[playlist]") {
    SECTION("6.4 s segments keep 6") {
        TargetDuration t(6 * kSecond);
        CHECK(t.seconds() == 6);
        t.observe(6 * kSecond + 4 * kSecond / 10);
        CHECK(t.seconds() == 6);
    }
    SECTION("a 6.5 s segment raises it to 7 for good") {
        TargetDuration t(6 * kSecond);
        t.observe(6 * kSecond + kSecond / 2);
        CHECK(t.seconds() == 7);
        t.observe(6 * kSecond);
        t.observe(2 * kSecond);
        CHECK(t.seconds() == 7);
        t.observe(9 * kSecond);
        CHECK(t.seconds() == 9);
        t.observe(6 * kSecond);
        CHECK(t.seconds() == 9);
    }
    SECTION("configured lengths round half up and never go below 1") {
        CHECK(TargetDuration(6 * kSecond + kSecond / 2).seconds() == 7);
        CHECK(TargetDuration(6 * kSecond + 4 * kSecond / 10).seconds() == 6);
        CHECK(TargetDuration(kSecond / 2).seconds() == 1);
        CHECK(TargetDuration(kSecond / 10).seconds() == 1);
    }
}

TEST_CASE("PROGRAM-DATE-TIME is ISO 8601 UTC with milliseconds", "[playlist]") {
    CHECK(format_program_date_time(kBaseUtcMs + 123) == "2026-11-22T04:48:00.123Z");
    CHECK(format_program_date_time(0) == "1970-01-01T00:00:00.000Z");
    CHECK(format_program_date_time(1709251199999) == "2024-02-29T23:59:59.999Z");
    CHECK(format_program_date_time(1709251200000) == "2024-03-01T00:00:00.000Z");
    CHECK(format_program_date_time(-1) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("master playlist: one STREAM-INF per variant, in the order given", "[playlist]") {
    std::vector<Variant> variants = {
        {"720p/index.m3u8", 3400000, 3100000, "avc1.64001f,mp4a.40.2", 1280, 720, {30, 1}},
        {"480p/index.m3u8", 1700000, 1600000, "avc1.64001e,mp4a.40.2", 854, 480, {30000, 1001}},
    };
    const std::vector<std::string> expected = {
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        "#EXT-X-STREAM-INF:BANDWIDTH=3400000,AVERAGE-BANDWIDTH=3100000,"
        "CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1280x720,FRAME-RATE=30.000",
        "720p/index.m3u8",
        "#EXT-X-STREAM-INF:BANDWIDTH=1700000,AVERAGE-BANDWIDTH=1600000,"
        "CODECS=\"avc1.64001e,mp4a.40.2\",RESOLUTION=854x480,FRAME-RATE=29.970",
        "480p/index.m3u8",
    };
    CHECK(lines(render_master_playlist(variants)) == expected);
}

TEST_CASE("master playlist leaves out attributes it does not know", "[playlist]") {
    std::vector<Variant> variants = {{"audio/index.m3u8", 130000, 0, "", 0, 0, {}}};
    CHECK(lines(render_master_playlist(variants)).at(3) == "#EXT-X-STREAM-INF:BANDWIDTH=130000");
}

TEST_CASE("CMAF: EXT-X-MAP before the first segment, again where it changes or after a gap",
          "[playlist][fmp4]") {
    using onair::core::Container;
    auto cmaf = [](int64_t sequence, std::string map, bool discontinuity = false) {
        return MediaEntry{sequence,
                          kBaseUtcMs + (sequence - 41) * 2000,
                          2 * kSecond,
                          discontinuity,
                          segment_uri(sequence, Container::fmp4),
                          std::move(map),
                          {}};
    };
    MediaPlaylist p;
    p.target_duration = 2;
    p.media_sequence = 41;
    p.segments = {cmaf(41, "init-00000000000000aa.mp4"), cmaf(42, "init-00000000000000aa.mp4"),
                  cmaf(43, "init-00000000000000bb.mp4"),
                  cmaf(45, "init-00000000000000bb.mp4", true)};
    const std::vector<std::string> expected = {
        "#EXTM3U",
        "#EXT-X-VERSION:6",  // EXT-X-MAP in a media playlist (RFC 8216 section 7)
        "#EXT-X-TARGETDURATION:2",
        "#EXT-X-MEDIA-SEQUENCE:41",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        "#EXT-X-MAP:URI=\"init-00000000000000aa.mp4\"",
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-22T04:48:00.000Z",
        "#EXTINF:2.000,",
        "41.m4s",
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-22T04:48:02.000Z",
        "#EXTINF:2.000,",
        "42.m4s",
        "#EXT-X-MAP:URI=\"init-00000000000000bb.mp4\"",
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-22T04:48:04.000Z",
        "#EXTINF:2.000,",
        "43.m4s",
        "#EXT-X-DISCONTINUITY",
        "#EXT-X-MAP:URI=\"init-00000000000000bb.mp4\"",
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-22T04:48:08.000Z",
        "#EXTINF:2.000,",
        "45.m4s",
    };
    CHECK(lines(render_media_playlist(p)) == expected);
}

TEST_CASE("segment names: one spelling per number and container", "[playlist][fmp4]") {
    using onair::core::Container;
    CHECK(segment_uri(7) == "7.ts");
    CHECK(segment_uri(7, Container::fmp4) == "7.m4s");
    for (auto [name, sequence, container] :
         {std::tuple{"7.ts", 7, Container::ts}, std::tuple{"123.m4s", 123, Container::fmp4}}) {
        auto parsed = parse_segment_name(name);
        REQUIRE(parsed);
        CHECK(parsed->sequence == sequence);
        CHECK(parsed->container == container);
    }
    for (const char* bad : {"07.m4s", ".m4s", "7.mp4", "7.m4s.ts.m4s", "-7.ts", "7 .ts", "7.M4S"})
        CHECK_FALSE(parse_segment_name(bad));
    CHECK(parse_segment_name(std::string(19, '1') + ".m4s").error() ==
          SegmentNameProblem::too_long);
    // Init sections: init-<16 hex digits>.mp4, nothing else.
    const std::string id = onair::core::init_id_of("moov");
    CHECK(id.size() == 16);
    CHECK(onair::core::parse_init_file_name(onair::core::init_file_name(id)) == id);
    for (const char* bad : {"init-.mp4", "init-00000000000000AA.mp4", "init-0000000000000000.m4s",
                            "init-000000000000000.mp4", "init-../../etc.mp4"})
        CHECK(onair::core::parse_init_file_name(bad).empty());
}
