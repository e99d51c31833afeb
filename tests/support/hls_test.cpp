// The playlist parser, the RFC 8216 checker and the reload tracker, on
// handwritten playlists: good ones pass, each broken one names its fault.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/support/hls.hpp"

using namespace onair::testing;

namespace {

const char* kGoodMedia = R"(#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:856000100
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:00.000Z
#EXTINF:2.000,
856000100.ts
#EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:02.000Z
#EXTINF:2.000,
856000101.ts
#EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:04.000Z
#EXTINF:1.960,
856000102.ts
)";

const char* kGoodMaster = R"(#EXTM3U
#EXT-X-VERSION:3
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=1100000,AVERAGE-BANDWIDTH=950000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25.000
360p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=480000,AVERAGE-BANDWIDTH=420000,CODECS="avc1.4d400d,mp4a.40.2",RESOLUTION=416x234,FRAME-RATE=25.000
234p/index.m3u8
)";

// A media playlist from segments (duration text, PDT) starting at `sequence`.
std::string media(int64_t sequence, const std::vector<std::pair<std::string, std::string>>& segs,
                  int target = 2) {
    std::string out = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:" + std::to_string(target) +
                      "\n#EXT-X-MEDIA-SEQUENCE:" + std::to_string(sequence) +
                      "\n#EXT-X-INDEPENDENT-SEGMENTS\n";
    for (size_t i = 0; i < segs.size(); ++i) {
        if (!segs[i].second.empty()) out += "#EXT-X-PROGRAM-DATE-TIME:" + segs[i].second + "\n";
        out += "#EXTINF:" + segs[i].first + ",\n" + std::to_string(sequence + int64_t(i)) + ".ts\n";
    }
    return out;
}

std::string pdt(int second) {
    return "2024-05-01T12:00:" + std::string(second < 10 ? "0" : "") + std::to_string(second) +
           ".000Z";
}

bool mentions(const std::vector<std::string>& violations, const std::string& text) {
    return std::any_of(violations.begin(), violations.end(),
                       [&](const std::string& v) { return v.find(text) != std::string::npos; });
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

}  // namespace

TEST_CASE("a good media playlist parses and passes", "[hls]") {
    auto p = parse_media_playlist(kGoodMedia);
    CHECK(p.starts_with_extm3u);
    CHECK(p.version == 3);
    CHECK(p.target_duration == 2);
    CHECK(p.media_sequence == 856000100);
    CHECK(p.independent_segments);
    CHECK_FALSE(p.endlist);
    REQUIRE(p.segments.size() == 3);
    CHECK(p.segments[0].sequence == 856000100);
    CHECK(p.segments[2].sequence == 856000102);
    CHECK(p.segments[2].duration == Approx(1.96));
    CHECK(p.segments[1].uri == "856000101.ts");
    CHECK(p.segments[1].pdt_ms == *p.segments[0].pdt_ms + 2000);
    CHECK(p.first_sequence() == 856000100);
    CHECK(p.last_sequence() == 856000102);
    MediaCheckOptions options;
    options.uri_is_sequence = true;
    auto violations = check_media_playlist(p, options);
    INFO(joined(violations));
    CHECK(violations.empty());
}

TEST_CASE("program date-times parse with zones and fractions", "[hls]") {
    CHECK(parse_program_date_time("1970-01-01T00:00:00Z") == 0);
    CHECK(parse_program_date_time("1970-01-01T00:00:01.5Z") == 1500);
    CHECK(parse_program_date_time("1970-01-01T01:00:00.000+01:00") == 0);
    CHECK(parse_program_date_time("1970-01-01T00:00:00.000-0030") == 1800000);
    CHECK(parse_program_date_time("2024-05-01T12:00:00.000Z") == 1714564800000);
    CHECK_FALSE(parse_program_date_time("2024-05-01 12:00:00Z"));
    CHECK_FALSE(parse_program_date_time("2024-13-01T12:00:00Z"));
    CHECK_FALSE(parse_program_date_time("yesterday"));
}

TEST_CASE("attribute lists keep quoted commas", "[hls]") {
    auto a = parse_attribute_list(R"(BANDWIDTH=1,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=2x2)");
    REQUIRE(a);
    CHECK(a->at("CODECS") == "avc1.64001f,mp4a.40.2");
    CHECK(a->at("RESOLUTION") == "2x2");
    CHECK_FALSE(parse_attribute_list(R"(BANDWIDTH=1,CODECS="unterminated)"));
    CHECK_FALSE(parse_attribute_list("BANDWIDTH=1,"));
    CHECK_FALSE(parse_attribute_list("bandwidth=1"));
    CHECK_FALSE(parse_attribute_list("BANDWIDTH=1,BANDWIDTH=2"));
}

TEST_CASE("broken media playlists are caught", "[hls]") {
    MediaCheckOptions strict;
    strict.uri_is_sequence = true;

    SECTION("not starting with #EXTM3U") {
        auto v = check_media_playlist(parse_media_playlist(std::string("\n") + kGoodMedia));
        CHECK(mentions(v, "first line is not #EXTM3U"));
    }
    SECTION("missing VERSION, MEDIA-SEQUENCE, INDEPENDENT-SEGMENTS, TARGETDURATION") {
        auto v = check_media_playlist(parse_media_playlist(
            "#EXTM3U\n#EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:00Z\n#EXTINF:2.0,\n1.ts\n"));
        CHECK(mentions(v, "no EXT-X-VERSION"));
        CHECK(mentions(v, "no EXT-X-MEDIA-SEQUENCE"));
        CHECK(mentions(v, "no EXT-X-INDEPENDENT-SEGMENTS"));
        CHECK(mentions(v, "no EXT-X-TARGETDURATION"));
    }
    SECTION("EXTINF rounding above TARGETDURATION") {
        auto v = check_media_playlist(
            parse_media_playlist(media(10, {{"2.000", pdt(0)}, {"2.500", pdt(2)}})));
        CHECK(v.size() == 1);
        CHECK(mentions(v, "segment 11 (11.ts, line 10): EXTINF 2.500 rounds to 3 s"));
        // 2.499 rounds to 2: allowed.
        CHECK(check_media_playlist(
                  parse_media_playlist(media(10, {{"2.000", pdt(0)}, {"2.499", pdt(2)}})))
                  .empty());
    }
    SECTION("a segment without PROGRAM-DATE-TIME") {
        auto v = check_media_playlist(
            parse_media_playlist(media(10, {{"2.000", pdt(0)}, {"2.000", ""}})));
        CHECK(mentions(v, "segment 11 (11.ts, line 9): no EXT-X-PROGRAM-DATE-TIME"));
    }
    SECTION("PROGRAM-DATE-TIME going backwards or standing still") {
        auto v = check_media_playlist(
            parse_media_playlist(media(10, {{"2.000", pdt(4)}, {"2.000", pdt(2)}})));
        CHECK(mentions(v, "is not after the previous segment's"));
        v = check_media_playlist(
            parse_media_playlist(media(10, {{"2.000", pdt(4)}, {"2.000", pdt(4)}})));
        CHECK(mentions(v, "is not after the previous segment's"));
    }
    SECTION("PROGRAM-DATE-TIME inconsistent with the previous EXTINF") {
        auto v = check_media_playlist(parse_media_playlist(
            media(10, {{"2.000", pdt(0)}, {"2.000", pdt(3)}, {"2.000", pdt(5)}})));
        REQUIRE(v.size() == 1);
        CHECK(mentions(v, "segment 11"));
        CHECK(mentions(v, "3.000 s after the previous segment's, whose EXTINF is 2.000"));
        // Within the tolerance passes.
        CHECK(check_media_playlist(
                  parse_media_playlist(media(10, {{"2.000", pdt(0)},
                                                  {"1.960", "2024-05-01T12:00:02.000Z"},
                                                  {"2.000", "2024-05-01T12:00:03.990Z"}})))
                  .empty());
    }
    SECTION("a discontinuity allows a PDT jump but not going back") {
        std::string text = media(10, {{"2.000", pdt(0)}});
        text += "#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:" + pdt(30) +
                "\n#EXTINF:2.000,\n11.ts\n";
        auto p = parse_media_playlist(text);
        REQUIRE(p.segments.size() == 2);
        CHECK(p.segments[1].discontinuity);
        CHECK(check_media_playlist(p).empty());
    }
    SECTION("URIs that are not the sequence number") {
        std::string text = media(10, {{"2.000", pdt(0)}});
        text += "#EXT-X-PROGRAM-DATE-TIME:" + pdt(2) + "\n#EXTINF:2.000,\n12.ts\n";
        auto v = check_media_playlist(parse_media_playlist(text), strict);
        CHECK(mentions(v, "segment 11 (12.ts, line 10): URI is not \"11.ts\""));
        CHECK(check_media_playlist(parse_media_playlist(text)).empty());
    }
    SECTION("syntax the parser cannot read") {
        auto v = check_media_playlist(parse_media_playlist(
            "#EXTM3U\n#EXT-X-VERSION:x\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n"
            "#EXTINF:abc,\n1.ts\n#EXTINF:2.0,\n"));
        CHECK(mentions(v, "line 2: bad EXT-X-VERSION"));
        CHECK(mentions(v, "line 5: bad EXTINF duration \"abc\""));
        CHECK(mentions(v, "line 7: EXTINF without a URI line"));
    }
    SECTION("a live playlist that ended") {
        auto v = check_media_playlist(
            parse_media_playlist(media(10, {{"2.000", pdt(0)}}) + "#EXT-X-ENDLIST\n"));
        CHECK(mentions(v, "EXT-X-ENDLIST"));
    }
}

TEST_CASE("a good master playlist parses and passes", "[hls]") {
    auto m = parse_master_playlist(kGoodMaster);
    CHECK(m.starts_with_extm3u);
    CHECK(m.version == 3);
    REQUIRE(m.variants.size() == 2);
    const auto& v = m.variants[0];
    CHECK(v.bandwidth == 1100000);
    CHECK(v.average_bandwidth == 950000);
    CHECK(v.codecs == "avc1.64001e,mp4a.40.2");
    CHECK(v.width == 640);
    CHECK(v.height == 360);
    CHECK(v.frame_rate == Approx(25.0));
    CHECK(v.uri == "360p/index.m3u8");
    CHECK(m.variants[1].uri == "234p/index.m3u8");
    auto violations = check_master_playlist(m);
    INFO(joined(violations));
    CHECK(violations.empty());
}

TEST_CASE("broken master playlists are caught", "[hls]") {
    auto check = [](const std::string& stream_inf) {
        return check_master_playlist(parse_master_playlist(
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:" + stream_inf + "\nv/index.m3u8\n"));
    };
    const std::string good =
        R"(BANDWIDTH=1000,AVERAGE-BANDWIDTH=900,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25.000)";
    CHECK(check(good).empty());
    CHECK(mentions(
        check(
            R"(AVERAGE-BANDWIDTH=900,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25)"),
        "no BANDWIDTH"));
    CHECK(mentions(
        check(
            R"(BANDWIDTH=800,AVERAGE-BANDWIDTH=900,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25)"),
        "AVERAGE-BANDWIDTH 900 is above BANDWIDTH 800"));
    CHECK(mentions(
        check(
            R"(BANDWIDTH=800,AVERAGE-BANDWIDTH=0,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25)"),
        "AVERAGE-BANDWIDTH \"0\" is not a positive integer"));
    CHECK(mentions(
        check(R"(BANDWIDTH=800,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25)"),
        "no AVERAGE-BANDWIDTH"));
    CHECK(mentions(
        check(
            R"(BANDWIDTH=1000,AVERAGE-BANDWIDTH=900,CODECS="avc1.64001f",RESOLUTION=640x360,FRAME-RATE=25)"),
        "not one avc1.PPCCLL and one mp4a.40.2"));
    CHECK(mentions(
        check(
            R"(BANDWIDTH=1000,AVERAGE-BANDWIDTH=900,CODECS="avc1.4D40,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25)"),
        "neither avc1.PPCCLL nor mp4a.40.2"));
    CHECK(mentions(
        check(
            R"(BANDWIDTH=1000,AVERAGE-BANDWIDTH=900,CODECS="avc1.63001f,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25)"),
        "profile_idc 99 is not an H.264 profile"));
    CHECK(mentions(
        check(
            R"(BANDWIDTH=1000,AVERAGE-BANDWIDTH=900,CODECS="avc1.640017,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25)"),
        "level_idc 23 is not an H.264 level"));
    CHECK(mentions(
        check(
            R"(BANDWIDTH=1000,AVERAGE-BANDWIDTH=900,CODECS="avc1.64001f,mp4a.40.5",RESOLUTION=640x360,FRAME-RATE=25)"),
        "\"mp4a.40.5\" is neither"));
    CHECK(mentions(
        check(
            R"(BANDWIDTH=1000,AVERAGE-BANDWIDTH=900,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640,FRAME-RATE=25)"),
        "RESOLUTION \"640\" is not WxH"));
    CHECK(mentions(
        check(
            R"(BANDWIDTH=1000,AVERAGE-BANDWIDTH=900,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=25)"),
        "no RESOLUTION"));
    CHECK(mentions(
        check(
            R"(BANDWIDTH=1000,AVERAGE-BANDWIDTH=900,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360)"),
        "no FRAME-RATE"));
    CHECK(mentions(
        check(
            R"(BANDWIDTH=1000,AVERAGE-BANDWIDTH=900,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=-1)"),
        "FRAME-RATE \"-1\" is not a positive decimal"));
    auto v =
        check_master_playlist(parse_master_playlist("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n"));
    CHECK(mentions(v, "no EXT-X-VERSION"));
    CHECK(mentions(v, "EXT-X-STREAM-INF without a URI line"));
    CHECK(mentions(v, "no variant streams"));
}

TEST_CASE("the reload tracker accepts a playlist that slides", "[hls]") {
    ReloadTracker tracker("360p");
    CHECK(tracker.add(parse_media_playlist(media(10, {{"2.000", pdt(0)}, {"2.000", pdt(2)}})))
              .empty());
    CHECK(tracker.add(parse_media_playlist(media(10, {{"2.000", pdt(0)}, {"2.000", pdt(2)}})))
              .empty());
    CHECK(tracker
              .add(parse_media_playlist(
                  media(11, {{"2.000", pdt(2)}, {"2.000", pdt(4)}, {"1.960", pdt(6)}})))
              .empty());
    CHECK(tracker
              .add(parse_media_playlist(
                  media(13, {{"1.960", pdt(6)}, {"2.000", "2024-05-01T12:00:07.960Z"}})))
              .empty());
    CHECK(tracker.violations().empty());
    CHECK(tracker.reloads() == 4);
    CHECK(tracker.first_sequence() == 10);
    CHECK(tracker.last_sequence() == 14);
    CHECK(tracker.segments().size() == 5);
}

TEST_CASE("the reload tracker catches what a live playlist must not do", "[hls]") {
    ReloadTracker tracker("360p");
    REQUIRE(tracker.add(parse_media_playlist(media(10, {{"2.000", pdt(0)}, {"2.000", pdt(2)}})))
                .empty());

    SECTION("a hole between reloads") {
        auto v = tracker.add(parse_media_playlist(media(13, {{"2.000", pdt(6)}})));
        REQUIRE(v.size() == 1);
        CHECK(v[0] ==
              "360p reload 2: sequence numbers 12..12 were never listed (the previous "
              "reload ended at 11, this one starts at 13)");
    }
    SECTION("MEDIA-SEQUENCE going backwards") {
        auto v =
            tracker.add(parse_media_playlist(media(9, {{"2.000", "2024-05-01T11:59:58.000Z"}})));
        CHECK(mentions(v, "EXT-X-MEDIA-SEQUENCE went back from 10 to 9"));
    }
    SECTION("a segment whose duration changed") {
        auto v =
            tracker.add(parse_media_playlist(media(10, {{"2.000", pdt(0)}, {"1.960", pdt(2)}})));
        REQUIRE(v.size() == 1);
        CHECK(v[0] == "360p reload 2: segment 11: EXTINF changed from 2.000 to 1.960");
    }
    SECTION("a segment whose URI changed") {
        std::string text = media(10, {{"2.000", pdt(0)}});
        text += "#EXT-X-PROGRAM-DATE-TIME:" + pdt(2) + "\n#EXTINF:2.000,\nother.ts\n";
        auto v = tracker.add(parse_media_playlist(text));
        CHECK(mentions(v, "segment 11: URI changed from \"11.ts\" to \"other.ts\""));
    }
    SECTION("a segment whose PDT changed") {
        auto v = tracker.add(parse_media_playlist(media(11, {{"2.000", pdt(3)}})));
        CHECK(mentions(v, "segment 11: PROGRAM-DATE-TIME changed"));
    }
    SECTION("TARGETDURATION changing") {
        auto v = tracker.add(parse_media_playlist(media(11, {{"2.000", pdt(2)}}, 3)));
        CHECK(mentions(v, "EXT-X-TARGETDURATION changed from 2 to 3"));
    }
    CHECK_FALSE(tracker.violations().empty());
}
