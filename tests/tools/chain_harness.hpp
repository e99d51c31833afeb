#pragma once
// The test harness of the media chain: a small channel (320x180 and 160x90,
// ultrafast, 1 s GOP, 2 s segments), a synthetic source whose pictures and
// sound each stretch can choose, a recording sink, and a pipeline without an
// input, driven on the test's own clock. Header-only; the Catch2 test files of tests/tools only.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/media_time.hpp"
#include "tools/pipeline.hpp"

namespace onair::testing {

inline const int kQuietLibav = (av_log_set_level(AV_LOG_ERROR), 0);

constexpr int64_t kSecond = core::kMediaClock;
constexpr int64_t kFrame = kSecond / 25;
constexpr int64_t kWallStart = 1'795'000'000LL * kSecond + 12345;  // not on a boundary

inline core::ChannelConfig small_channel() {
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
    std::vector<core::Part> parts;
    // Parts handed on after their segment (there should be none).
    int late_parts = 0;
    void on_segment(core::Segment s) override { segments.push_back(std::move(s)); }
    void on_part(core::Part p) override {
        for (const auto& s : segments)
            if (s.rendition == p.rendition && s.sequence == p.sequence) ++late_parts;
        parts.push_back(std::move(p));
    }
    // The parts of one segment, in the order they came.
    std::vector<core::Part> parts_of(const std::string& rendition, int64_t sequence) const {
        std::vector<core::Part> out;
        for (const auto& p : parts)
            if (p.rendition == rendition && p.sequence == sequence) out.push_back(p);
        return out;
    }
    std::map<int64_t, core::Segment> of(const std::string& rendition) const {
        std::map<int64_t, core::Segment> out;
        for (const auto& s : segments)
            if (s.rendition == rendition) out[s.sequence] = s;
        return out;
    }
};

// What a stretch of the source shows and sounds like.
enum class Picture { moving, black, still };  // still: frame 0's picture, again and again
struct Content {
    Picture picture = Picture::moving;
    bool silent = false;
};

// A source as a contribution encoder's decoder would hand it over: 25 fps
// pictures and 1024-sample audio frames, timestamps in 90 kHz from `pts0`.
// AAC-sized frame `n` (1024 samples, 48 kHz mono) of a 1 kHz tone, or of
// silence, from media time `pts0`.
inline core::MediaEvent tone(int n, int64_t pts0, bool silent = false) {
    auto f = core::make_frame();
    f->format = AV_SAMPLE_FMT_S16;
    f->sample_rate = 48000;
    av_channel_layout_default(&f->ch_layout, 1);
    f->nb_samples = 1024;
    REQUIRE(av_frame_get_buffer(f.get(), 0) == 0);
    auto* s = reinterpret_cast<int16_t*>(f->data[0]);
    for (int i = 0; i < 1024; ++i)
        s[i] = silent ? 0 : int16_t(8000 * std::sin(2 * M_PI * 1000 * (n * 1024 + i) / 48000.0));
    f->pts = pts0 + n * 1920;  // 1024 samples in 90 kHz
    return core::RawFrame{core::MediaKind::audio, std::move(f), {1, 90000}};
}

class Source {
  public:
    explicit Source(int64_t pts0, int64_t frame_ticks = kFrame, bool interlaced = false)
        : pts0_(pts0), frame_ticks_(frame_ticks), interlaced_(interlaced) {}
    core::MediaEvent video(int n, Picture picture = Picture::moving) const {
        auto f = core::make_frame();
        f->interlaced_frame = interlaced_;
        f->top_field_first = interlaced_;
        f->width = 320;
        f->height = 180;
        f->format = AV_PIX_FMT_YUV420P;
        REQUIRE(av_frame_get_buffer(f.get(), 0) == 0);
        const int look = picture == Picture::still ? 0 : n;
        for (int y = 0; y < f->height; ++y)
            for (int x = 0; x < f->width; ++x)
                f->data[0][y * f->linesize[0] + x] =
                    picture == Picture::black ? 16 : uint8_t(x + y + 3 * look);
        for (int p = 1; p < 3; ++p)
            for (int y = 0; y < f->height / 2; ++y)
                std::fill_n(f->data[p] + y * f->linesize[p], f->width / 2, uint8_t(128));
        f->pts = pts0_ + n * frame_ticks_;
        return core::RawFrame{core::MediaKind::video, std::move(f), {1, 90000}};
    }
    core::MediaEvent audio(int n, bool silent = false) const { return tone(n, pts0_, silent); }
    // Time of video frame n relative to the source's start, in ticks.
    int64_t video_time(int n) const { return n * frame_ticks_; }
    static int64_t audio_time(int n) { return n * 1920; }

  private:
    int64_t pts0_;
    int64_t frame_ticks_;
    bool interlaced_;
};

// The first audio frame fed with video frame `from`: the first after video
// frame from - 1, so that stretches fed one after the other join up.
inline int first_audio_of(const Source& src, int from) {
    return from == 0 ? 0 : int(src.video_time(from - 1) / 1920) + 1;
}

// Feeds frames [from, to) in arrival order; `wall0` is the wall clock at frame 0.
inline void feed(tools::Pipeline& chain, const Source& src, int from, int to, int64_t wall0,
                 Content content = {}) {
    int a = first_audio_of(src, from);
    for (int v = from; v < to; ++v) {
        while (Source::audio_time(a) <= src.video_time(v)) {
            auto e = src.audio(a, content.silent);
            REQUIRE(chain.handle(e, wall0 + Source::audio_time(a)));
            ++a;
        }
        auto e = src.video(v, content.picture);
        int64_t now = wall0 + src.video_time(v);
        REQUIRE(chain.handle(e, now));
        REQUIRE(chain.tick(now));
    }
}

// One pipeline's media chain on a shared anchor, recording its segments.
struct Chain {
    explicit Chain(const core::ChannelConfig& config, core::TimeAnchor& anchor, char id = 'a') {
        auto made = tools::Pipeline::driven(config, id, anchor, runtime, sink);
        REQUIRE(made);
        chain = std::move(*made);
    }
    core::PipelineRuntimeStatus runtime;
    core::PipelineStatus& status = runtime.pipeline;
    RecordingSink sink;
    std::unique_ptr<tools::Pipeline> chain;
};

}  // namespace onair::testing
