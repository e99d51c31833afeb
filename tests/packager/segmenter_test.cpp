#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/libav.hpp"
#include "core/media_time.hpp"
#include "packager/segmenter.hpp"
#include "tests/support/segment_demux.hpp"

using namespace onair;

namespace {

const int kQuietLibav = (av_log_set_level(AV_LOG_FATAL), 0);  // fake H.264 makes the prober talk

constexpr int64_t kFrame = 3600;                                // 25 fps in 90 kHz
constexpr int64_t kAudioFrame = 1920;                           // 1024 samples at 48 kHz
constexpr int64_t kSegment = 2 * core::kMediaClock;             // 2 s segments
constexpr int64_t kBase = 1'795'000'000LL * core::kMediaClock;  // epoch-ish, on a boundary
constexpr int64_t kArrivalLag = core::kMediaClock / 10;  // a picture entered 100 ms after its pts

struct RecordingSink : core::SegmentSink {
    std::vector<core::Segment> segments;
    void on_segment(core::Segment s) override { segments.push_back(std::move(s)); }
};

struct FakeStreams {
    core::CodecParametersPtr video{avcodec_parameters_alloc()};
    core::CodecParametersPtr audio{avcodec_parameters_alloc()};
    FakeStreams() {
        video->codec_type = AVMEDIA_TYPE_VIDEO;
        video->codec_id = AV_CODEC_ID_H264;
        video->width = 320;
        video->height = 180;
        audio->codec_type = AVMEDIA_TYPE_AUDIO;
        audio->codec_id = AV_CODEC_ID_AAC;
        audio->sample_rate = 48000;
        av_channel_layout_default(&audio->ch_layout, 2);
    }
};

core::PacketPtr video_packet(int64_t pts, bool key) {
    // Annex B: key frames carry an SPS (High, level 1.3) like x264's IDRs.
    std::vector<uint8_t> data = {0, 0, 0, 1, 0x09, 0xf0};
    if (key) data.insert(data.end(), {0, 0, 0, 1, 0x67, 0x64, 0x00, 0x0d, 0xac});
    data.insert(data.end(), {0, 0, 0, 1, uint8_t(key ? 0x65 : 0x41), 0x88, 0x80, 0x40});
    auto p = core::make_packet();
    REQUIRE(av_new_packet(p.get(), int(data.size())) == 0);
    std::copy(data.begin(), data.end(), p->data);
    p->pts = p->dts = pts;
    p->duration = kFrame;
    if (key) p->flags |= AV_PKT_FLAG_KEY;
    return p;
}

core::PacketPtr audio_packet(int64_t pts) {
    // An ADTS frame header (AAC-LC, 48 kHz, stereo) and a few bytes.
    std::vector<uint8_t> data = {0xff, 0xf1, 0x4c, 0x80, 0x01, 0x7f, 0xfc, 0x21, 0x00, 0x49};
    data[3] = uint8_t(0x80 | ((data.size() >> 11) & 0x3));
    data[4] = uint8_t((data.size() >> 3) & 0xff);
    data[5] = uint8_t(((data.size() & 0x7) << 5) | 0x1f);
    auto p = core::make_packet();
    REQUIRE(av_new_packet(p.get(), int(data.size())) == 0);
    std::copy(data.begin(), data.end(), p->data);
    p->pts = p->dts = pts;
    p->duration = kAudioFrame;
    return p;
}

// Feeds `seconds` of 25 fps video (IDR on every 1 s boundary of media time)
// and 48 kHz AAC audio running `audio_lead` ahead of the video, as an
// encoder with lookahead delivers them.
void feed(packager::Segmenter& s, const FakeStreams& f, int64_t from, int64_t to,
          int64_t audio_lead) {
    int64_t audio = core::floor_div(from + audio_lead, kAudioFrame) * kAudioFrame;
    for (int64_t t = from; t < to; t += kFrame) {
        while (audio <= t + audio_lead) {
            s.audio(*audio_packet(audio), *f.audio);
            audio += kAudioFrame;
        }
        bool key =
            core::floor_div(t, core::kMediaClock) != core::floor_div(t - kFrame, core::kMediaClock);
        s.video(*video_packet(t, key), *f.video, core::Rational{25, 1}, t + kArrivalLag);
    }
}

}  // namespace

TEST_CASE("segments start on the first boundary, follow media time, and carry their audio") {
    FakeStreams f;
    RecordingSink sink;
    core::FillLog fill;
    core::HealthLog health;
    packager::Segmenter s({"360p", 'a', core::SegmentGrid{kSegment}}, sink, fill, health, "test");
    // Start mid-segment: the partial first segment is not emitted.
    int64_t start = kBase + kSegment / 2;
    feed(s, f, start, kBase + 5 * kSegment, 10 * kAudioFrame);
    s.flush();

    REQUIRE(sink.segments.size() == 4);
    int64_t first = core::SegmentGrid{kSegment}.index_of(kBase) + 1;
    for (size_t i = 0; i < sink.segments.size(); ++i) {
        const auto& seg = sink.segments[i];
        INFO("segment " << i);
        CHECK(seg.sequence == first + int64_t(i));
        CHECK(seg.start == kBase + int64_t(i + 1) * kSegment);
        CHECK(seg.duration == kSegment);
        CHECK(seg.frames == 50);
        CHECK(seg.rendition == "360p");
        CHECK(seg.pipeline == 'a');
        CHECK_FALSE(seg.slate);
        CHECK(seg.codecs == "avc1.64000d,mp4a.40.2");
        CHECK(seg.utc_ms() == seg.start / 90);
        // When its last picture entered, as that picture's packet said.
        CHECK(seg.input_utc_ms ==
              core::media_to_utc_ms(seg.start + seg.duration - kFrame + kArrivalLag));

        auto probe = onair::testing::demux_segment(*seg.bytes);
        CHECK(probe.video_packets == 50);
        CHECK(probe.first_video_key);
        CHECK(probe.first_video_pts == (seg.start & (core::kPtsWrap - 1)));
        // 2 s of 21.33 ms AAC frames: 93 or 94 start inside the segment.
        CHECK(probe.audio_packets >= 93);
        CHECK(probe.audio_packets <= 94);
    }
}

TEST_CASE("audio that lags the video still lands in its segment") {
    FakeStreams f;
    RecordingSink sink;
    core::FillLog fill;
    core::HealthLog health;
    packager::Segmenter s({"360p", 'a', core::SegmentGrid{kSegment}}, sink, fill, health, "test");
    feed(s, f, kBase, kBase + 4 * kSegment, -8 * kAudioFrame);
    s.flush();
    REQUIRE(sink.segments.size() >= 2);
    for (const auto& seg : sink.segments) {
        if (seg.sequence == sink.segments.back().sequence)
            break;  // the flushed tail is short of audio
        auto probe = onair::testing::demux_segment(*seg.bytes);
        CHECK(probe.audio_packets >= 93);
    }
}

TEST_CASE("a segment overlapping input-loss fill is marked as slate") {
    FakeStreams f;
    RecordingSink sink;
    core::FillLog fill;
    fill.add(kBase + 2 * kSegment + 10 * kFrame, kBase + 2 * kSegment + 20 * kFrame);
    core::HealthLog health;
    packager::Segmenter s({"360p", 'a', core::SegmentGrid{kSegment}}, sink, fill, health, "test");
    feed(s, f, kBase, kBase + 4 * kSegment, 4 * kAudioFrame);
    s.flush();
    REQUIRE(sink.segments.size() == 3);  // the first packet's segment is skipped
    CHECK_FALSE(sink.segments[0].slate);
    CHECK(sink.segments[1].slate);
    CHECK_FALSE(sink.segments[2].slate);
}

TEST_CASE("a segment overlapping a failing content check carries that check's flag") {
    FakeStreams f;
    RecordingSink sink;
    core::FillLog fill;
    core::HealthLog health;
    // Black from the middle of the 2nd emitted segment to the end of it;
    // frozen from the last frame of the 3rd on, still going at the end.
    health.black.open(kBase + 2 * kSegment + 25 * kFrame);
    health.black.close(kBase + 3 * kSegment);
    health.frozen.open(kBase + 4 * kSegment - kFrame);
    packager::Segmenter s({"360p", 'a', core::SegmentGrid{kSegment}}, sink, fill, health, "test");
    feed(s, f, kBase, kBase + 6 * kSegment, 4 * kAudioFrame);
    s.flush();
    REQUIRE(sink.segments.size() == 5);
    std::vector<core::ContentHealth> flags;
    for (const auto& seg : sink.segments) flags.push_back(seg.health);
    CHECK(flags[0] == core::ContentHealth{});
    CHECK(flags[1] == core::ContentHealth{.black = true});
    CHECK(flags[2] == core::ContentHealth{.frozen = true});  // black ended at its start
    CHECK(flags[3] == core::ContentHealth{.frozen = true});
    CHECK(flags[4] == core::ContentHealth{.frozen = true});
    for (const auto& seg : sink.segments) CHECK_FALSE(seg.slate);
}

TEST_CASE("timestamps across the 33-bit wrap make a normal segment") {
    FakeStreams f;
    RecordingSink sink;
    core::FillLog fill;
    core::HealthLog health;
    packager::Segmenter s({"360p", 'a', core::SegmentGrid{kSegment}}, sink, fill, health, "test");
    // A segment whose 33-bit PTS wraps in its middle.
    int64_t wrap_point = (kBase / core::kPtsWrap + 1) * core::kPtsWrap;
    int64_t boundary = core::floor_div(wrap_point, kSegment) * kSegment;
    feed(s, f, boundary - kSegment, boundary + 3 * kSegment, 4 * kAudioFrame);
    s.flush();
    auto it = std::find_if(sink.segments.begin(), sink.segments.end(),
                           [&](const core::Segment& seg) { return seg.start == boundary; });
    REQUIRE(it != sink.segments.end());
    CHECK(it->duration == kSegment);
    auto probe = onair::testing::demux_segment(*it->bytes);
    CHECK(probe.video_packets == 50);
    CHECK(probe.first_video_key);
}

TEST_CASE("a segment's input time is its last picture's, not its last packet's") {
    FakeStreams f;
    RecordingSink sink;
    core::FillLog fill;
    core::HealthLog health;
    packager::Segmenter s({"360p", 'a', core::SegmentGrid{kSegment}}, sink, fill, health, "test");
    // Pictures 0..49 of each segment in an encoder's decode order, with
    // B-frames: 0 1 3 2 5 4 ... 49 48; the newest picture (49) is not the
    // last packet. Each picture entered 100 ms after its pts, the last one of
    // the second segment at an unknown time.
    int64_t decoded = 0;
    const int64_t first = kBase - kSegment;  // the partial segment before the first boundary
    for (int64_t start = first; start < kBase + 2 * kSegment; start += kSegment) {
        std::vector<int> order = {0, 1};
        for (int j = 2; j < 50; j += 2) order.insert(order.end(), {j + 1, j});
        for (int n : order) {
            const int64_t pts = start + n * kFrame;
            auto packet = video_packet(pts, n == 0);
            packet->dts = first + (decoded++ - 1) * kFrame;
            const bool unknown = start == kBase + kSegment && n == 49;
            s.video(*packet, *f.video, core::Rational{25, 1},
                    unknown ? core::kNoMediaTime : pts + kArrivalLag);
        }
    }
    s.flush();
    REQUIRE(sink.segments.size() == 2);
    const auto& seg = sink.segments[0];
    CHECK(seg.start == kBase);
    CHECK(seg.duration == kSegment);
    CHECK(seg.input_utc_ms == core::media_to_utc_ms(kBase + 49 * kFrame + kArrivalLag));
    CHECK(sink.segments[1].input_utc_ms == 0);  // 0: unknown, never an older picture's
}
