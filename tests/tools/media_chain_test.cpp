// The transcoder and segmenters together, with real x264 and AAC on tiny
// pictures, fed frames on a synthetic clock: what the segments hold, how A
// and B line up, when pictures entered, what input loss does, and that the
// end of a finite input reaches the last segment.
#include <catch2/catch.hpp>

#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include <fmt/format.h>

extern "C" {
#include <libavutil/cpu.h>
}

#include "tests/support/segment_demux.hpp"
#include "tests/tools/chain_harness.hpp"

using namespace onair;

using namespace onair::testing;

TEST_CASE("every segment starts with an IDR at a boundary, at the rung's size, with audio") {
    auto config = small_channel();
    core::TimeAnchor anchor(10 * kSecond);
    Chain c(config, anchor);
    auto& [runtime, status, sink, chain] = c;
    Source source(900'000);
    feed(*chain, source, 0, 25 * 9, kWallStart);  // 9 s
    REQUIRE(chain->finish());

    for (const auto& [name, width, height] :
         {std::tuple{"180p", 320, 180}, std::tuple{"90p", 160, 90}}) {
        auto segments = sink.of(name);
        INFO(name);
        REQUIRE(segments.size() >= 3);
        int64_t previous_end = 0;
        for (const auto& [sequence, s] : segments) {
            INFO("segment " << sequence);
            bool last = sequence == segments.rbegin()->first;
            // Starts on the first frame at or after its boundary.
            CHECK(s.start >= sequence * 2 * kSecond);
            CHECK(s.start < sequence * 2 * kSecond + kFrame);
            if (!last) {
                CHECK(s.duration == 2 * kSecond);
                CHECK(s.frames == 50);
            }
            if (previous_end) CHECK(s.start == previous_end);
            previous_end = s.start + s.duration;
            CHECK_FALSE(s.slate);
            // Its last picture entered just before its end (no delay on the path).
            const int64_t entered = core::utc_ms_to_media(s.input_utc_ms);
            CHECK(entered < previous_end);
            CHECK(entered >= previous_end - 2 * kFrame);
            auto p = onair::testing::demux_segment(*s.bytes);
            CHECK(p.width == width);
            CHECK(p.height == height);
            CHECK(p.first_video_key);
            CHECK(p.video_packets == s.frames);
            CHECK(p.first_video_pts == (s.start & (core::kPtsWrap - 1)));
            if (!last) CHECK(p.audio_packets >= 90);
            // The profile and level the segment's own SPS declares (x264's
            // `profile` is a ceiling: ultrafast writes Constrained Baseline).
            CHECK(s.codecs.substr(0, 7) == fmt::format("avc1.{:02x}", p.profile & 0xff));
            CHECK(s.codecs.substr(9, 2) == fmt::format("{:02x}", p.level));
            CHECK(s.codecs.substr(11) == ",mp4a.40.2");
        }
    }
}

TEST_CASE("pipelines A and B fed the same source agree on every segment both made") {
    auto config = small_channel();
    core::TimeAnchor anchor(10 * kSecond);
    Chain pipeline_a(config, anchor, 'a'), pipeline_b(config, anchor, 'b');
    auto& a = pipeline_a.chain;
    auto& b = pipeline_b.chain;
    auto& sink_a = pipeline_a.sink;
    auto& sink_b = pipeline_b.sink;
    Source source(123'456'789);
    // A runs 12 s; B joins 5.3 s in, through a path 60 ms slower.
    feed(*a, source, 0, 300, kWallStart);
    feed(*b, source, 132, 300, kWallStart + 6 * kSecond / 100);
    REQUIRE(a->finish());
    REQUIRE(b->finish());

    for (const char* name : {"180p", "90p"}) {
        auto from_a = sink_a.of(name), from_b = sink_b.of(name);
        int common = 0;
        for (const auto& [sequence, sb] : from_b) {
            auto it = from_a.find(sequence);
            if (it == from_a.end() || sequence == from_b.rbegin()->first) continue;
            const auto& sa = it->second;
            INFO(name << " segment " << sequence);
            CHECK(sa.start == sb.start);
            CHECK(sa.duration == sb.duration);
            CHECK(sa.frames == sb.frames);
            CHECK(sa.utc_ms() == sb.utc_ms());
            auto pa = onair::testing::demux_segment(*sa.bytes),
                 pb = onair::testing::demux_segment(*sb.bytes);
            CHECK(pb.first_video_key);
            CHECK(pa.first_video_pts == pb.first_video_pts);
            CHECK(pa.first_audio_pts == pb.first_audio_pts);
            // When the last picture entered: A's just before the segment's
            // end (no delay on its path), B's 60 ms after A's.
            const int64_t end = sa.start + sa.duration;
            const int64_t entered_a = core::utc_ms_to_media(sa.input_utc_ms);
            CHECK(entered_a < end);
            CHECK(entered_a >= end - 2 * kFrame);
            CHECK(sb.input_utc_ms - sa.input_utc_ms == 60);
            ++common;
        }
        // B joined at the first boundary after 5.3 s: segments from 6 s on.
        CHECK(common >= 2);
        CHECK(from_b.begin()->second.start >= from_a.begin()->second.start + 4 * kSecond);
    }
}

namespace {

// What a test reads of a CMAF segment's boxes: each track fragment's track
// and base media decode time (tfdt), in order.
struct TrackFragment {
    uint32_t track = 0;
    uint64_t decode_time = 0;
};

uint64_t read_be(const uint8_t* p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = v << 8 | p[i];
    return v;
}

void walk_boxes(const uint8_t* p, size_t size, std::vector<TrackFragment>& out) {
    size_t at = 0;
    while (at + 8 <= size) {
        const size_t box = read_be(p + at, 4);
        const std::string type(reinterpret_cast<const char*>(p + at + 4), 4);
        if (box < 8 || at + box > size) FAIL("a box overruns its parent");
        const uint8_t* body = p + at + 8;
        if (type == "moof" || type == "traf") walk_boxes(body, box - 8, out);
        if (type == "tfhd") out.push_back({uint32_t(read_be(body + 4, 4)), 0});
        if (type == "tfdt") {
            REQUIRE_FALSE(out.empty());
            out.back().decode_time = body[0] == 1 ? read_be(body + 4, 8) : read_be(body + 4, 4);
        }
        at += box;
    }
}

std::vector<TrackFragment> track_fragments(const core::Bytes& segment) {
    std::vector<TrackFragment> out;
    walk_boxes(segment.data(), segment.size(), out);
    return out;
}

}  // namespace

TEST_CASE("fmp4: CMAF segments carry media time, one init section, and A's and B's agree") {
    auto config = small_channel();
    config.hls.container = core::Container::fmp4;
    core::TimeAnchor anchor(10 * kSecond);
    Chain pipeline_a(config, anchor, 'a'), pipeline_b(config, anchor, 'b');
    Source source(123'456'789);
    // B joins 4.3 s in: its encoder's history differs from A's.
    feed(*pipeline_a.chain, source, 0, 250, kWallStart);
    feed(*pipeline_b.chain, source, 107, 250, kWallStart);
    REQUIRE(pipeline_a.chain->finish());
    REQUIRE(pipeline_b.chain->finish());

    for (const char* name : {"180p", "90p"}) {
        auto from_a = pipeline_a.sink.of(name), from_b = pipeline_b.sink.of(name);
        REQUIRE(from_a.size() >= 4);
        const core::SharedInit init = from_a.begin()->second.init;
        REQUIRE(init);
        int common = 0, identical = 0;
        for (const auto& [sequence, s] : from_a) {
            INFO(name << " segment " << sequence);
            CHECK(s.container == core::Container::fmp4);
            // One init section for the whole run, named by its bytes.
            CHECK(s.init == init);
            CHECK(s.init->id == core::init_id_of({reinterpret_cast<const char*>(init->bytes.data()),
                                                  init->bytes.size()}));
            // tfdt is media time: video in 90 kHz (the first decode time, a
            // B-frame delay before the IDR's pts), audio in 48 kHz.
            auto fragments = track_fragments(*s.bytes);
            REQUIRE(fragments.size() == 2);
            auto p = onair::testing::demux_segment(*s.bytes, &init->bytes);
            CHECK(p.first_video_key);
            CHECK(p.video_packets == s.frames);
            CHECK(p.first_video_pts == s.start);  // not wrapped, not shifted to zero
            CHECK(int64_t(fragments[0].decode_time) <= s.start);
            CHECK(int64_t(fragments[0].decode_time) > s.start - 4 * kFrame);
            CHECK(std::llabs(int64_t(fragments[1].decode_time) * 90000 / 48000 -
                             p.first_audio_pts) <= 2);
            // Each segment's samples end where the next one's begin.
            auto next = from_a.find(sequence + 1);
            if (next != from_a.end())
                CHECK(int64_t(track_fragments(*next->second.bytes)[0].decode_time) -
                          int64_t(fragments[0].decode_time) ==
                      s.duration);
            auto other = from_b.find(sequence);
            if (other == from_b.end() || next == from_a.end()) continue;
            ++common;
            // B's init section is A's byte for byte: a failover needs no new EXT-X-MAP.
            CHECK(other->second.init->id == init->id);
            CHECK(other->second.init->bytes == init->bytes);
            CHECK(track_fragments(*other->second.bytes)[0].decode_time == fragments[0].decode_time);
            if (*other->second.bytes == *s.bytes) ++identical;
        }
        CHECK(common >= 2);
        // The finding docs/architecture.md reports (how often A's and B's
        // copies of a segment are the same bytes), printed for the record.
        WARN(name << ": " << identical << " of " << common
                  << " segments made by both pipelines are byte-identical");
    }
}

TEST_CASE(
    "LL-HLS: parts on the media-time grid, whole frames, IDRs independent, the same on A and "
    "B, and a segment is its parts") {
    auto config = small_channel();
    config.hls.container = core::Container::fmp4;
    config.hls.part = std::chrono::milliseconds(200);  // 5 frames at 25 fps; a 1 s GOP is 5 parts
    config.encoder.preset = "veryfast";
    config.encoder.low_latency = true;  // as hls.part sets it: no B-frames, no lookahead
    core::TimeAnchor anchor(10 * kSecond);
    Chain pipeline_a(config, anchor, 'a'), pipeline_b(config, anchor, 'b');
    Source source(123'456'789);
    feed(*pipeline_a.chain, source, 0, 250, kWallStart);
    feed(*pipeline_b.chain, source, 57, 250, kWallStart);  // B joins 2.3 s in
    REQUIRE(pipeline_a.chain->finish());
    REQUIRE(pipeline_b.chain->finish());
    constexpr int64_t kPart = kSecond / 5;

    for (auto* sink : {&pipeline_a.sink, &pipeline_b.sink}) CHECK(sink->late_parts == 0);
    for (const char* name : {"180p", "90p"}) {
        auto from_a = pipeline_a.sink.of(name);
        REQUIRE(from_a.size() >= 4);
        int compared = 0;
        for (const auto& [sequence, s] : from_a) {
            if (sequence == from_a.rbegin()->first) continue;  // cut short by the end
            INFO(name << " segment " << sequence);
            auto parts = pipeline_a.sink.parts_of(name, sequence);
            REQUIRE(parts.size() == 10);
            CHECK(s.parts == 10);
            core::Bytes joined;
            for (int k = 0; k < 10; ++k) {
                const auto& p = parts[size_t(k)];
                INFO("part " << k);
                CHECK(p.index == k);
                CHECK(p.start == s.start + k * kPart);
                CHECK(p.duration == kPart);
                CHECK(p.frames == 5);
                CHECK(p.independent == (k % 5 == 0));  // an IDR every GOP
                CHECK(p.init == s.init);
                CHECK(p.input_utc_ms > 0);
                auto d = onair::testing::demux_segment(*p.bytes, &p.init->bytes);
                CHECK(d.video_packets == 5);
                CHECK(d.earliest_video_pts == p.start);
                joined.insert(joined.end(), p.bytes->begin(), p.bytes->end());
            }
            // The segment is its parts, byte for byte.
            CHECK(joined == *s.bytes);
            // B's parts of a segment both made hold the same frames.
            auto from_b = pipeline_b.sink.parts_of(name, sequence);
            if (from_b.size() != parts.size()) continue;
            ++compared;
            for (size_t k = 0; k < parts.size(); ++k) {
                CHECK(from_b[k].start == parts[k].start);
                CHECK(from_b[k].duration == parts[k].duration);
                CHECK(from_b[k].frames == parts[k].frames);
                CHECK(from_b[k].independent == parts[k].independent);
            }
        }
        CHECK(compared >= 2);
    }
}

TEST_CASE("input loss is filled on the wall clock, marked slate, and numbering carries on") {
    auto config = small_channel();
    core::TimeAnchor anchor(10 * kSecond);
    Chain c(config, anchor);
    auto& [runtime, status, sink, chain] = c;
    Source source(900'000);
    feed(*chain, source, 0, 125, kWallStart);  // 5 s of pictures
    // 6 s without input: the pipeline is ticked by its thread as time passes.
    for (int64_t t = source.video_time(125); t < source.video_time(275); t += kFrame / 2)
        REQUIRE(chain->tick(kWallStart + t));
    CHECK(status.filling);
    CHECK(status.fill_frames > 100);
    // The same source comes back (its clock kept running).
    feed(*chain, source, 275, 400, kWallStart);
    CHECK_FALSE(status.filling);
    REQUIRE(chain->finish());

    auto segments = sink.of("180p");
    REQUIRE(segments.size() >= 6);
    int64_t expected = segments.begin()->first;
    int slate = 0;
    for (const auto& [sequence, s] : segments) {
        INFO("segment " << sequence);
        CHECK(sequence == expected++);  // no hole in the numbering
        if (sequence != segments.rbegin()->first) CHECK(s.duration == 2 * kSecond);
        if (s.slate) ++slate;
        // Its last picture entered when it came, or, for fill, when the wall
        // clock made it: up to `after` (1 s) late, as the fill catches up.
        const int64_t end = s.start + s.duration;
        const int64_t entered = core::utc_ms_to_media(s.input_utc_ms);
        CHECK(entered < end + (s.slate ? kSecond + kFrame : 0));
        CHECK(entered >= end - 2 * kFrame);
        CHECK(onair::testing::demux_segment(*s.bytes).first_video_key);
    }
    // 6 s of fill touch 3 or 4 two-second segments; the rest are real.
    CHECK(slate >= 3);
    CHECK(slate <= 4);
    CHECK(!segments.begin()->second.slate);
    CHECK(!segments.rbegin()->second.slate);
}

TEST_CASE("each rung gets its own frame rate from a 50 fps source") {
    auto config = small_channel();
    config.ladder[0].fps = core::Rational{25, 1};  // 180p at 25, 90p at the source's 50
    core::TimeAnchor anchor(10 * kSecond);
    Chain c(config, anchor);
    auto& [runtime, status, sink, chain] = c;
    Source source(900'000, kFrame / 2);
    // The input says 50 fps, as a demuxer would.
    core::MediaEvent opened =
        core::StreamsOpened{nullptr, nullptr, {1, 90000}, {1, 90000}, {50, 1}};
    REQUIRE(chain->handle(opened, kWallStart));
    feed(*chain, source, 0, 50 * 7, kWallStart);
    REQUIRE(chain->finish());
    for (const auto& [name, frames, rate] :
         {std::tuple{"180p", 50, 25}, std::tuple{"90p", 100, 50}}) {
        auto segments = sink.of(name);
        INFO(name);
        REQUIRE(segments.size() >= 2);
        for (const auto& [sequence, s] : segments) {
            if (sequence == segments.rbegin()->first) break;
            INFO("segment " << sequence);
            CHECK(s.duration == 2 * kSecond);
            CHECK(s.frames == frames);
            CHECK(s.frame_rate == core::Rational{rate, 1});
            // The time its own last picture entered: at 25 fps the 50 fps
            // source's newest picture before the end is not in the segment.
            const int64_t rung_frame = kSecond / rate;
            const int64_t end = s.start + s.duration;
            const int64_t entered = core::utc_ms_to_media(s.input_utc_ms);
            CHECK(entered < end - rung_frame / 2);
            CHECK(entered >= end - 2 * rung_frame);
            auto p = onair::testing::demux_segment(*s.bytes);
            CHECK(p.first_video_key);
            CHECK(p.video_packets == frames);
        }
    }
}

TEST_CASE("an interlaced source is deinterlaced and keeps its frame count and timing") {
    auto config = small_channel();
    core::TimeAnchor anchor(10 * kSecond);
    Chain c(config, anchor);
    auto& [runtime, status, sink, chain] = c;
    Source source(900'000, kFrame, /*interlaced=*/true);
    feed(*chain, source, 0, 25 * 7, kWallStart);
    REQUIRE(chain->finish());
    auto segments = sink.of("180p");
    REQUIRE(segments.size() >= 2);
    for (const auto& [sequence, s] : segments) {
        if (sequence == segments.rbegin()->first) break;
        INFO("segment " << sequence);
        CHECK(s.duration == 2 * kSecond);
        CHECK(s.frames == 50);
        auto p = onair::testing::demux_segment(*s.bytes);
        CHECK(p.first_video_key);
        CHECK(p.width == 320);
    }
}

namespace {

// FLAC packets of the harness's tone, 1024 samples each, pts in 90 kHz.
struct FlacSource {
    core::CodecContextPtr encoder;
    FlacSource() {
        const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_FLAC);
        REQUIRE(codec);
        encoder.reset(avcodec_alloc_context3(codec));
        encoder->sample_fmt = AV_SAMPLE_FMT_S16;
        encoder->sample_rate = 48000;
        av_channel_layout_default(&encoder->ch_layout, 1);
        encoder->frame_size = 1024;
        encoder->time_base = {1, 90000};
        REQUIRE(avcodec_open2(encoder.get(), codec, nullptr) == 0);
    }
    core::CodecParametersPtr parameters() const {
        core::CodecParametersPtr p(avcodec_parameters_alloc());
        REQUIRE(avcodec_parameters_from_context(p.get(), encoder.get()) >= 0);
        return p;
    }
    std::vector<core::MediaEvent> packets(const AVFrame* frame) {
        REQUIRE(avcodec_send_frame(encoder.get(), frame) == 0);
        std::vector<core::MediaEvent> out;
        for (;;) {
            auto packet = core::make_packet();
            if (avcodec_receive_packet(encoder.get(), packet.get()) < 0) break;
            out.push_back(core::MediaPacket{core::MediaKind::audio, std::move(packet)});
        }
        return out;
    }
};

// libavcodec sizes a decoder's frame threads by the CPUs it sees.
struct ForcedCpuCount {
    explicit ForcedCpuCount(int n) { av_cpu_force_count(n); }
    ~ForcedCpuCount() { av_cpu_force_count(0); }
};

}  // namespace

TEST_CASE("the audio a decoder still holds at the end of the input reaches the last segment") {
    // FLAC decodes on frame threads, which hold the newest frames until the
    // decoder is flushed: with 8 CPUs, 8 frames (170 ms).
    ForcedCpuCount cpus(8);
    auto config = small_channel();
    core::TimeAnchor anchor(10 * kSecond);
    Chain c(config, anchor);
    auto& [runtime, status, sink, chain] = c;
    Source source(900'000);
    FlacSource flac;
    core::MediaEvent opened =
        core::StreamsOpened{nullptr, flac.parameters(), {1, 90000}, {1, 90000}, {25, 1}};
    REQUIRE(chain->handle(opened, kWallStart));
    // 7 s of pictures, and sound up to the end of the last one.
    const int frames = 25 * 7;
    int a = 0;
    for (int v = 0; v < frames; ++v) {
        while (Source::audio_time(a) < source.video_time(v + 1)) {
            auto tone = source.audio(a);
            for (auto& e : flac.packets(std::get<core::RawFrame>(tone).frame.get()))
                REQUIRE(chain->handle(e, kWallStart + Source::audio_time(a)));
            ++a;
        }
        auto e = source.video(v);
        const int64_t now = kWallStart + source.video_time(v);
        REQUIRE(chain->handle(e, now));
        REQUIRE(chain->tick(now));
    }
    REQUIRE(chain->finish());

    for (const char* name : {"180p", "90p"}) {
        INFO(name);
        auto segments = sink.of(name);
        REQUIRE(segments.size() >= 3);
        const auto& last = segments.rbegin()->second;
        auto p = onair::testing::demux_segment(*last.bytes);
        REQUIRE(p.audio_packets > 0);
        // Where its audio ends, against where its pictures end (media time):
        // short by no more than the encoder's last partial AAC frame.
        const int64_t first_audio = core::unwrap_near(p.first_audio_pts, last.start);
        const int64_t audio_end = first_audio + int64_t(p.audio_packets) * 1920;
        const int64_t video_end = last.start + last.duration;
        CHECK(audio_end >= video_end - 2 * 1920);
    }
}
