// LL-HLS in the origin, without sockets: the playlist a player gets while
// parts arrive (every tag of RFC 8216bis the issue names, checked against
// the spec's rules), blocking reloads and hinted parts held and answered
// from one rendering, their limits, and delta updates.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "core/media_time.hpp"
#include "core/status.hpp"
#include "fakes.hpp"
#include "origin/ingest_protocol.hpp"
#include "origin/ingest_routes.hpp"
#include "origin/routes.hpp"
#include "tests/support/hls.hpp"

using namespace onair;
using namespace onair::origin;
using namespace onair::origin::testing;
namespace http = boost::beast::http;

namespace {

constexpr int64_t kSegmentTicks = 2 * kSecond;
constexpr int64_t kPartTicks = kSecond / 2;  // four parts per segment

struct LowLatencyOrigin {
    TestClock clock;
    SegmentStore store{[this] {
        auto o = options(8, {"720p", "480p"}, clock);
        o.segment_length = kSegmentTicks;
        o.container = core::Container::fmp4;
        o.part_length = kPartTicks;
        return o;
    }()};
    core::ChannelStatus status;
    Routes routes{store, status};
    core::SharedInit init = core::InitSection::of(core::Bytes(700, 7));

    LowLatencyOrigin() {
        status.channel = "demo";
        status.add('a', "udp://127.0.0.1:5000");
    }
    int64_t start_of(int64_t sequence) const { return kBaseUtcMs * 90 + sequence * kSegmentTicks; }
    // Part k of `sequence`, 15 frames, an IDR at part 0; bytes of k.
    core::Part make_part(int64_t sequence, int k, std::string rendition = "720p",
                         char pipeline = 'a') const {
        core::Part p;
        p.rendition = std::move(rendition);
        p.pipeline = pipeline;
        p.sequence = sequence;
        p.index = k;
        p.start = start_of(sequence) + k * kPartTicks;
        p.duration = kPartTicks;
        p.frames = 15;
        p.independent = k == 0;
        p.bytes = std::make_shared<const core::Bytes>(100 + k, uint8_t(k));
        p.init = init;
        return p;
    }
    void part(int64_t sequence, int k, std::string rendition = "720p", char pipeline = 'a') {
        store.on_part(make_part(sequence, k, std::move(rendition), pipeline));
    }
    void segment(int64_t sequence, std::string rendition = "720p") {
        core::Segment s = FakeSegment{rendition}.make();
        s.sequence = sequence;
        s.start = start_of(sequence);
        s.duration = kSegmentTicks;
        s.container = core::Container::fmp4;
        s.init = init;
        s.parts = 4;
        store.on_segment(std::move(s));
    }
    // Segment `sequence` as a pipeline makes it: its four parts, then itself.
    void whole(int64_t sequence, std::string rendition = "720p") {
        for (int k = 0; k < 4; ++k) part(sequence, k, rendition);
        segment(sequence, rendition);
    }
    Reply get(const std::string& target) const {
        return routes(Request{http::verb::get, target, 11});
    }
    std::string body(const Reply& reply) const {
        return std::string(reply.to_message().body().view());
    }
};

std::vector<std::string> tag_lines(const std::string& text, std::string_view tag) {
    std::vector<std::string> out;
    for (const auto& line : lines(text))
        if (line.starts_with(tag)) out.push_back(line);
    return out;
}

}  // namespace

TEST_CASE(
    "LL-HLS playlist: server control, part info, parts of the last segments, the open "
    "segment, the preload hint and the other renditions",
    "[origin][llhls]") {
    LowLatencyOrigin o;
    for (int64_t n = 10; n < 16; ++n) {
        o.whole(n);
        o.whole(n, "480p");
    }
    o.part(16, 0);
    o.part(16, 1);
    o.part(16, 0, "480p");
    const auto text = o.body(o.get("/live/demo/720p/index.m3u8"));
    INFO(text);
    // The spec's rules, through the same checker the integration tests use.
    auto playlist = onair::testing::parse_media_playlist(text);
    onair::testing::MediaCheckOptions rules;
    rules.uri_is_sequence = true;
    auto problems = onair::testing::check_media_playlist(playlist, rules);
    for (const auto& problem : problems) UNSCOPED_INFO(problem);
    CHECK(problems.empty());

    CHECK(tag_lines(text, "#EXT-X-SERVER-CONTROL") ==
          std::vector<std::string>{"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL="
                                   "12.000,PART-HOLD-BACK=1.500"});
    CHECK(tag_lines(text, "#EXT-X-PART-INF") ==
          std::vector<std::string>{"#EXT-X-PART-INF:PART-TARGET=0.500"});
    // PART-HOLD-BACK at least three part targets; every part within the target.
    const auto parts = tag_lines(text, "#EXT-X-PART:");
    for (const auto& p : parts) CHECK(p.starts_with("#EXT-X-PART:DURATION=0.500,"));
    // Parts for the segments starting within three target durations (6 s)
    // of the end: 14 and 15 (5 s and 3 s before it), then 16's two.
    REQUIRE(parts.size() == 4 + 4 + 2);
    CHECK(parts.front() == "#EXT-X-PART:DURATION=0.500,URI=\"14.0.m4s\",INDEPENDENT=YES");
    CHECK(parts[1] == "#EXT-X-PART:DURATION=0.500,URI=\"14.1.m4s\"");
    CHECK(parts.back() == "#EXT-X-PART:DURATION=0.500,URI=\"16.1.m4s\"");
    // Each segment's parts come before it.
    CHECK(text.find("15.3.m4s") < text.find("\n15.m4s\n"));
    CHECK(text.find("\n13.m4s\n") != std::string::npos);
    CHECK(text.find("13.0.m4s") == std::string::npos);
    // The hint is the next part; reports name the other rendition's newest part.
    CHECK(tag_lines(text, "#EXT-X-PRELOAD-HINT") ==
          std::vector<std::string>{"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"16.2.m4s\""});
    // As up to date as the playlist: 480p's part 16.0 came after 720p's 16.1.
    CHECK(tag_lines(text, "#EXT-X-RENDITION-REPORT") ==
          std::vector<std::string>{
              "#EXT-X-RENDITION-REPORT:URI=\"../480p/index.m3u8\",LAST-MSN=15,LAST-PART=3"});
    // Parts are served; the master does not change for them.
    auto served = o.get("/live/demo/720p/16.1.m4s").to_message();
    CHECK(served.result() == http::status::ok);
    CHECK(served.body().size() == 101);
    CHECK(o.get("/live/demo/720p/16.3.m4s").to_message().result() == http::status::not_found);

    // After the last part of a segment the hint moves on to the next segment.
    o.part(16, 2);
    o.part(16, 3);
    const auto later = o.body(o.get("/live/demo/720p/index.m3u8"));
    CHECK(tag_lines(later, "#EXT-X-PRELOAD-HINT") ==
          std::vector<std::string>{"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"17.0.m4s\""});
    CHECK(tag_lines(later, "#EXT-X-RENDITION-REPORT") ==
          std::vector<std::string>{
              "#EXT-X-RENDITION-REPORT:URI=\"../480p/index.m3u8\",LAST-MSN=16,LAST-PART=0"});
}

TEST_CASE(
    "LL-HLS blocking reload: held until the part is listed, answered from that rendering, "
    "with its limits and timeout",
    "[origin][llhls]") {
    LowLatencyOrigin o;
    for (int64_t n = 10; n < 14; ++n) o.whole(n);
    o.part(14, 0);
    // Already there: at once.
    auto now = o.get("/live/demo/720p/index.m3u8?_HLS_msn=14&_HLS_part=0");
    CHECK_FALSE(now.pending());
    CHECK(o.body(now).find("14.0.m4s") != std::string::npos);
    // Ahead: held, for part 1 and for the whole segment 14.
    auto part1 = o.get("/live/demo/720p/index.m3u8?_HLS_msn=14&_HLS_part=1");
    auto whole = o.get("/live/demo/720p/index.m3u8?_HLS_msn=15");
    auto hinted = o.get("/live/demo/720p/14.1.m4s");
    REQUIRE(part1.pending());
    REQUIRE(whole.pending());
    REQUIRE(hinted.pending());
    CHECK_FALSE(part1.pending()->result());
    // A HEAD is held like a GET (the server then writes the head only).
    auto head = o.routes(
        Request{http::verb::head, "/live/demo/720p/index.m3u8?_HLS_msn=14&_HLS_part=1", 11});
    REQUIRE(head.pending());
    o.part(14, 1);
    CHECK(head.status() == 200);
    REQUIRE(part1.pending()->result());
    CHECK(o.body(part1).find("14.1.m4s") != std::string::npos);
    CHECK(o.body(hinted).size() == 101);
    CHECK_FALSE(whole.pending()->result());
    // The same rendering for every request held for it.
    auto again = o.get("/live/demo/720p/index.m3u8?_HLS_msn=14&_HLS_part=1");
    CHECK(again.prepared() == part1.pending()->result()->prepared());
    o.part(14, 2);
    o.part(14, 3);
    o.segment(14);
    o.part(15, 0);
    CHECK_FALSE(whole.pending()->result());  // 15 is not whole yet
    for (int k = 1; k < 4; ++k) o.part(15, k);
    o.segment(15);
    REQUIRE(whole.pending()->result());
    CHECK(o.body(whole).find("\n15.m4s\n") != std::string::npos);

    // More than two segments ahead: 400 at once; malformed: 400.
    for (const char* bad :
         {"_HLS_msn=18", "_HLS_part=1", "_HLS_msn=x", "_HLS_msn=16&_HLS_part=-1", "_HLS_skip=NO"}) {
        INFO(bad);
        auto r = o.get(fmt::format("/live/demo/720p/index.m3u8?{}", bad)).to_message();
        CHECK(r.result() == http::status::bad_request);
    }
    // A part not hinted and not listed: 404, not held.
    CHECK(o.get("/live/demo/720p/16.2.m4s").to_message().result() == http::status::not_found);

    // Three target durations (6 s) without it: 503.
    auto late = o.get("/live/demo/720p/index.m3u8?_HLS_msn=17");
    REQUIRE(late.pending());
    o.clock.advance(5900);
    o.store.tick();
    CHECK_FALSE(late.pending()->result());
    o.clock.advance(200);
    o.store.tick();
    REQUIRE(late.pending()->result());
    CHECK(late.status() == 503);
}

TEST_CASE("LL-HLS delta update: _HLS_skip leaves out what ends before CAN-SKIP-UNTIL",
          "[origin][llhls]") {
    LowLatencyOrigin o;
    for (int64_t n = 10; n < 18; ++n) o.whole(n);  // a window of 8 segments: 16 s
    o.part(18, 0);
    const auto full = o.body(o.get("/live/demo/720p/index.m3u8"));
    const auto delta = o.body(o.get("/live/demo/720p/index.m3u8?_HLS_skip=YES"));
    INFO(delta);
    // 16 s listed, CAN-SKIP-UNTIL 12 s: the first two segments (ending 12 s or
    // more before the end) are skipped.
    CHECK(tag_lines(delta, "#EXT-X-SKIP") ==
          std::vector<std::string>{"#EXT-X-SKIP:SKIPPED-SEGMENTS=2"});
    CHECK(tag_lines(delta, "#EXT-X-VERSION") == std::vector<std::string>{"#EXT-X-VERSION:9"});
    CHECK(tag_lines(delta, "#EXT-X-MEDIA-SEQUENCE") == tag_lines(full, "#EXT-X-MEDIA-SEQUENCE"));
    CHECK(delta.find("\n10.m4s\n") == std::string::npos);
    CHECK(delta.find("\n11.m4s\n") == std::string::npos);
    CHECK(delta.find("\n12.m4s\n") != std::string::npos);
    CHECK(delta.find("#EXT-X-MAP") < delta.find("\n12.m4s\n"));
    CHECK(tag_lines(delta, "#EXT-X-PRELOAD-HINT") == tag_lines(full, "#EXT-X-PRELOAD-HINT"));
    // Blocking and skipping together.
    auto held = o.get("/live/demo/720p/index.m3u8?_HLS_msn=18&_HLS_part=1&_HLS_skip=v2");
    REQUIRE(held.pending());
    o.part(18, 1);
    CHECK(o.body(held).find("#EXT-X-SKIP:SKIPPED-SEGMENTS=2") != std::string::npos);
}

TEST_CASE(
    "LL-HLS failover per part: a late part is taken from the other pipeline only where it "
    "starts with an IDR",
    "[origin][llhls][failover]") {
    LowLatencyOrigin o;
    for (int64_t n = 10; n < 13; ++n) o.whole(n);
    // Segment 13 in GOPs of two parts: parts 0 and 2 start with an IDR.
    // Parts whose bytes say which pipeline made them.
    auto part_of = [&](int64_t sequence, int k, char pipeline, bool independent) {
        auto p = o.make_part(sequence, k, "720p", pipeline);
        p.independent = independent;
        p.bytes = std::make_shared<const core::Bytes>(200 + k, uint8_t(pipeline));
        o.store.on_part(std::move(p));
    };
    auto part = [&](int k, char pipeline) { part_of(13, k, pipeline, k % 2 == 0); };
    auto listed = [&](int k) {
        auto r = o.get(fmt::format("/live/demo/720p/13.{}.m4s", k));
        if (r.pending()) return char(0);
        auto m = r.to_message();
        return m.result() == http::status::ok ? char(m.body().view()[0]) : char(0);
    };
    part(0, 'a');
    part(0, 'b');
    part(1, 'b');  // B ahead; A is the active pipeline: wait for A
    CHECK(listed(0) == 'a');
    CHECK(listed(1) == 0);
    part(1, 'a');
    CHECK(listed(1) == 'a');
    // A's part 2 does not come; B's does (an IDR): B's, once A is late_after (1 s) late.
    part(2, 'b');
    CHECK(listed(2) == 0);
    o.clock.advance(999);
    o.store.tick();
    CHECK(listed(2) == 0);
    o.clock.advance(2);
    o.store.tick();
    CHECK(listed(2) == 'b');
    // From there on B's parts: A's part 3 is not mixed in after B's IDR.
    part(3, 'a');
    CHECK(listed(3) == 0);
    part(3, 'b');
    CHECK(listed(3) == 'b');

    // A part without an IDR is never taken from the other pipeline.
    for (int k = 0; k < 4; ++k) o.part(13, k);  // nothing new: segment 13 is listed part by part
    o.whole(14);
    auto part15 = [&](int k, char pipeline) { part_of(15, k, pipeline, k == 0); };
    o.segment(13);
    part15(0, 'b');
    part15(0, 'a');
    part15(1, 'b');
    o.clock.advance(5000);
    o.store.tick();
    CHECK(o.get("/live/demo/720p/15.1.m4s").pending());  // still A's to give (held: the hint)
}

TEST_CASE(
    "LL-HLS: a segment is listed with the copy of the pipeline its parts came from, unless "
    "that is late",
    "[origin][llhls][failover]") {
    LowLatencyOrigin o;
    for (int64_t n = 10; n < 13; ++n) o.whole(n);
    auto segment_from = [&](int64_t sequence, char pipeline) {
        core::Segment s = FakeSegment{"720p", pipeline}.make();
        s.sequence = sequence;
        s.start = o.start_of(sequence);
        s.duration = kSegmentTicks;
        s.container = core::Container::fmp4;
        s.init = o.init;
        s.parts = 4;
        s.bytes = std::make_shared<const core::Bytes>(1000, uint8_t(pipeline));
        o.store.on_segment(std::move(s));
    };
    for (int k = 0; k < 4; ++k) o.part(13, k, "720p", 'a');
    // B's copy of 13 comes first: players have A's parts, so A's is awaited.
    segment_from(13, 'b');
    CHECK(o.store.newest_listed("720p") == 12);
    segment_from(13, 'a');
    CHECK(o.store.newest_listed("720p") == 13);
    CHECK(o.store.served_copy("720p", 13) == 'a');
    // A's copy of 14 never comes: B's is listed once A is late_after (1 s;
    // longer than PART-HOLD-BACK here) late.
    for (int k = 0; k < 4; ++k) o.part(14, k, "720p", 'a');
    segment_from(14, 'b');
    o.clock.advance(999);
    o.store.tick();
    CHECK(o.store.newest_listed("720p") == 13);
    o.clock.advance(2);
    o.store.tick();
    CHECK(o.store.newest_listed("720p") == 14);
    CHECK(o.store.served_copy("720p", 14) == 'b');
}

TEST_CASE("LL-HLS over ingest: a remote pipeline's parts are listed and served, wrong ones refused",
          "[origin][llhls][ingest]") {
    LowLatencyOrigin o;
    constexpr std::string_view kToken = "ingest-token";
    core::TimeAnchor anchor{10 * kSecond};
    IngestRoutes ingest{IngestOptions::from_store(o.store.options(), std::string(kToken)), o.store,
                        o.status, anchor};
    o.routes.set_ingest(ingest);
    // Real numbers this time: the origin checks a part's name against its start.
    const int64_t first = core::floor_div(kBaseUtcMs * 90, kSegmentTicks) + 1;
    auto make = [&](int64_t sequence, int k) {
        core::Part p = o.make_part(sequence, k);
        p.start = sequence * kSegmentTicks + k * kPartTicks;
        const std::string media = box("moof", 100) + box("mdat", 400 + k);
        p.bytes = std::make_shared<const core::Bytes>(media.begin(), media.end());
        return p;
    };
    auto push = [&](const core::Part& p, std::string target = {}) {
        Request r{http::verb::put,
                  target.empty()
                      ? ingest::part_target("demo", 'a', p.rendition, p.sequence, p.index)
                      : target,
                  11};
        r.set(http::field::authorization, fmt::format("Bearer {}", kToken));
        ingest::set_part_headers(r, p);
        r.body() = std::string(p.bytes->begin(), p.bytes->end());
        r.prepare_payload();
        return o.routes(r).to_message();
    };
    // One segment listed the ordinary way, then the next one's parts pushed.
    for (int k = 0; k < 4; ++k) o.store.on_part(make(first, k));
    core::Segment s = FakeSegment{"720p"}.make();
    s.sequence = first;
    s.start = first * kSegmentTicks;
    s.duration = kSegmentTicks;
    s.container = core::Container::fmp4;
    s.init = o.init;
    s.parts = 4;
    o.store.on_segment(std::move(s));
    for (int k = 0; k < 2; ++k) {
        auto answer = push(make(first + 1, k));
        INFO(answer.body().view());
        CHECK(answer.result() == http::status::created);
    }
    const auto text = o.body(o.get("/live/demo/720p/index.m3u8"));
    INFO(text);
    CHECK(text.find(fmt::format("URI=\"{}.1.m4s\"", first + 1)) != std::string::npos);
    CHECK(tag_lines(text, "#EXT-X-PRELOAD-HINT") ==
          std::vector<std::string>{
              fmt::format("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"{}.2.m4s\"", first + 1)});
    auto served =
        o.routes(Request{http::verb::get, fmt::format("/live/demo/720p/{}.1.m4s", first + 1), 11})
            .to_message();
    REQUIRE(served.result() == http::status::ok);
    CHECK(served.body().view() ==
          std::string_view(reinterpret_cast<const char*>(make(first + 1, 1).bytes->data()),
                           make(first + 1, 1).bytes->size()));

    // Refused, naming why: a name that is not its start's part, a part longer
    // than two part targets, a body that is not moof + mdat, no init section.
    auto wrong_name = make(first + 1, 2);
    auto refused = push(wrong_name, ingest::part_target("demo", 'a', "720p", first + 1, 3));
    CHECK(refused.result() == http::status::bad_request);
    CHECK_THAT(std::string(refused.body().view()), Catch::Contains("does not match"));
    auto too_long = make(first + 1, 2);
    too_long.duration = 3 * kPartTicks;
    CHECK(push(too_long).result() == http::status::bad_request);
    auto not_boxes = make(first + 1, 2);
    not_boxes.bytes = std::make_shared<const core::Bytes>(300, uint8_t(0x47));
    CHECK(push(not_boxes).result() == http::status::bad_request);
    auto no_init = make(first + 1, 2);
    no_init.init = nullptr;
    refused = push(no_init);
    CHECK(refused.result() == http::status::bad_request);
    CHECK_THAT(std::string(refused.body().view()), Catch::Contains("X-Onair-Init"));
    CHECK(o.body(o.get("/live/demo/720p/index.m3u8")) == text);
}

TEST_CASE("ingest protocol: part headers round-trip", "[origin][llhls][ingest]") {
    core::Part p;
    p.start = 123456789;
    p.duration = 45000;
    p.frames = 15;
    p.independent = true;
    p.input_utc_ms = 1700000000123;
    p.init = core::InitSection::of(core::Bytes(701, 9));
    http::fields fields;
    ingest::set_part_headers(fields, p);
    auto back = ingest::read_part_headers(fields);
    REQUIRE(back);
    CHECK(back->start == p.start);
    CHECK(back->duration == p.duration);
    CHECK(back->frames == p.frames);
    CHECK(back->independent);
    CHECK(back->input_utc_ms == p.input_utc_ms);
    REQUIRE(back->init);
    CHECK(back->init->id == p.init->id);
    // Unpadded base64 ("ftyp", "ftypi"): read whole, and within the decoder's
    // buffer (it wrote one byte past it; found by fuzzing under ASan).
    for (auto [encoded, decoded] : {std::pair{"ZnR5cA", "ftyp"}, std::pair{"ZnR5cGk", "ftypi"}}) {
        fields.set("X-Onair-Init", encoded);
        auto unpadded = ingest::read_part_headers(fields);
        REQUIRE(unpadded);
        REQUIRE(unpadded->init);
        CHECK(std::string(unpadded->init->bytes.begin(), unpadded->init->bytes.end()) == decoded);
    }
    fields.erase("X-Onair-Frames");
    fields.set("X-Onair-Independent", "yes");
    auto bad = ingest::read_part_headers(fields);
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error(),
               Catch::Contains("X-Onair-Frames") && Catch::Contains("X-Onair-Independent"));
}
