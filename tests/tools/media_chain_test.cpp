// The transcoder and segmenters together, with real x264 and AAC on tiny
// pictures, fed frames on a synthetic clock: what the segments hold, how A
// and B line up, and what input loss does.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <fmt/format.h>

#include "core/config.hpp"
#include "core/media_time.hpp"
#include "tests/support/segment_demux.hpp"
#include "tools/media_chain.hpp"

using namespace onair;

namespace {

const int kQuietLibav = (av_log_set_level(AV_LOG_ERROR), 0);

constexpr int64_t kSecond = core::kMediaClock;
constexpr int64_t kFrame = kSecond / 25;
constexpr int64_t kWallStart = 1'795'000'000LL * kSecond + 12345;  // not on a boundary

core::ChannelConfig small_channel() {
    core::ChannelConfig c;
    c.channel = "test";
    core::Rung big;
    big.name = "180p";
    big.width = 320;
    big.height = 180;
    big.bitrate = big.max_bitrate = 200'000;
    big.bufsize = 400'000;
    core::Rung small = big;
    small.name = "90p";
    small.width = 160;
    small.height = 90;
    small.bitrate = small.max_bitrate = 100'000;
    c.ladder = {big, small};
    c.encoder.preset = "ultrafast";
    c.encoder.gop = std::chrono::seconds(1);
    c.hls.segment = std::chrono::seconds(2);
    c.audio.bitrate = 64'000;
    return c;
}

struct RecordingSink : core::SegmentSink {
    std::vector<core::Segment> segments;
    void on_segment(core::Segment s) override { segments.push_back(std::move(s)); }
    std::map<int64_t, core::Segment> of(const std::string& rendition) const {
        std::map<int64_t, core::Segment> out;
        for (const auto& s : segments)
            if (s.rendition == rendition) out[s.sequence] = s;
        return out;
    }
};

// A source as a contribution encoder's decoder would hand it over: 25 fps
// pictures and 1024-sample audio frames, timestamps in 90 kHz from `pts0`.
class Source {
  public:
    explicit Source(int64_t pts0, int64_t frame_ticks = kFrame, bool interlaced = false)
        : pts0_(pts0), frame_ticks_(frame_ticks), interlaced_(interlaced) {}
    core::MediaEvent video(int n) const {
        auto f = core::make_frame();
        f->interlaced_frame = interlaced_;
        f->top_field_first = interlaced_;
        f->width = 320;
        f->height = 180;
        f->format = AV_PIX_FMT_YUV420P;
        REQUIRE(av_frame_get_buffer(f.get(), 0) == 0);
        for (int y = 0; y < f->height; ++y)
            for (int x = 0; x < f->width; ++x)
                f->data[0][y * f->linesize[0] + x] = uint8_t(x + y + 3 * n);
        for (int p = 1; p < 3; ++p)
            for (int y = 0; y < f->height / 2; ++y)
                std::fill_n(f->data[p] + y * f->linesize[p], f->width / 2, uint8_t(128));
        f->pts = pts0_ + n * frame_ticks_;
        return core::RawFrame{core::MediaKind::video, std::move(f), {1, 90000}};
    }
    core::MediaEvent audio(int n) const {
        auto f = core::make_frame();
        f->format = AV_SAMPLE_FMT_S16;
        f->sample_rate = 48000;
        av_channel_layout_default(&f->ch_layout, 1);
        f->nb_samples = 1024;
        REQUIRE(av_frame_get_buffer(f.get(), 0) == 0);
        auto* s = reinterpret_cast<int16_t*>(f->data[0]);
        for (int i = 0; i < 1024; ++i)
            s[i] = int16_t(8000 * std::sin(2 * M_PI * 1000 * (n * 1024 + i) / 48000.0));
        f->pts = pts0_ + n * 1920;  // 1024 samples in 90 kHz
        return core::RawFrame{core::MediaKind::audio, std::move(f), {1, 90000}};
    }
    // Time of video frame n relative to the source's start, in ticks.
    int64_t video_time(int n) const { return n * frame_ticks_; }
    static int64_t audio_time(int n) { return n * 1920; }

  private:
    int64_t pts0_;
    int64_t frame_ticks_;
    bool interlaced_;
};

// Feeds frames [from, to) in arrival order; `wall0` is the wall clock at frame 0.
void feed(tools::MediaChain& chain, const Source& src, int from, int to, int64_t wall0) {
    int a = int(src.video_time(from) / 1920);
    for (int v = from; v < to; ++v) {
        while (Source::audio_time(a) <= src.video_time(v)) {
            auto e = src.audio(a);
            REQUIRE(chain.handle(e, wall0 + Source::audio_time(a)));
            ++a;
        }
        auto e = src.video(v);
        int64_t now = wall0 + src.video_time(v);
        REQUIRE(chain.handle(e, now));
        REQUIRE(chain.tick(now));
    }
}

// One pipeline's media chain on a shared anchor, recording its segments.
struct Chain {
    explicit Chain(const core::ChannelConfig& config, core::TimeAnchor& anchor, char id = 'a')
        : clock(anchor, 2 * kSecond) {
        auto made = tools::MediaChain::create(config, id, clock, status, sink);
        REQUIRE(made);
        chain = std::move(*made);
    }
    core::MediaClock clock;
    core::PipelineStatus status;
    RecordingSink sink;
    std::unique_ptr<tools::MediaChain> chain;
};

}  // namespace

TEST_CASE("every segment starts with an IDR at a boundary, at the rung's size, with audio") {
    auto config = small_channel();
    core::TimeAnchor anchor(10 * kSecond);
    Chain c(config, anchor);
    auto& [clock, status, sink, chain] = c;
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
            ++common;
        }
        // B joined at the first boundary after 5.3 s: segments from 6 s on.
        CHECK(common >= 2);
        CHECK(from_b.begin()->second.start >= from_a.begin()->second.start + 4 * kSecond);
    }
}

TEST_CASE("input loss is filled on the wall clock, marked slate, and numbering carries on") {
    auto config = small_channel();
    core::TimeAnchor anchor(10 * kSecond);
    Chain c(config, anchor);
    auto& [clock, status, sink, chain] = c;
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
    auto& [clock, status, sink, chain] = c;
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
    auto& [clock, status, sink, chain] = c;
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
