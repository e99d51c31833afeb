// The media of Live-to-VOD clips, on segments recorded the way onair makes
// them (the media chain: x264 veryfast, AAC, the Segmenter; 320x180, 25 fps,
// 1 s GOP, 2 s segments) at a media time just before a 33-bit wrap, so the
// TS timestamps wrap inside the recording. Every picture carries its frame
// number as a row of black and white blocks: a test reads which frames a clip
// holds by decoding it, and ffprobe says whether they all decode cleanly.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/libav.hpp"
#include "core/media_time.hpp"
#include "packager/clip_media.hpp"
#include "tests/support/ffprobe.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/chain_harness.hpp"

using namespace onair;
using onair::testing::TempDir;

namespace {

constexpr int64_t kSecond = core::kMediaClock;
constexpr int64_t kFrame = kSecond / 25;
constexpr int64_t kAudioFrame = 1920;  // 1024 samples at 48 kHz
constexpr int kCodeBits = 11;          // frame numbers up to 2047 (81 s)
// 2026, 5.3 s before the media clock's low 33 bits wrap.
constexpr int64_t kWallStart = 18806 * core::kPtsWrap - 5 * kSecond - 27000;

// ---- The recording ------------------------------------------------------------

// A textured picture that moves, with frame number `n` in its top band.
core::FramePtr picture(int n, int width, int height) {
    auto f = core::make_frame();
    f->width = width;
    f->height = height;
    f->format = AV_PIX_FMT_YUV420P;
    REQUIRE(av_frame_get_buffer(f.get(), 0) == 0);
    const int band = height / 6, block = width / kCodeBits;
    for (int y = 0; y < height; ++y) {
        uint8_t* row = f->data[0] + y * f->linesize[0];
        for (int x = 0; x < width; ++x) {
            if (y < band) {
                int bit = std::min(x / block, kCodeBits - 1);
                row[x] = (n >> bit) & 1 ? 235 : 16;
                continue;
            }
            bool check = ((x + 3 * n) / 16 + (y + n) / 16) % 2;
            uint32_t h =
                uint32_t(x) * 73856093u ^ uint32_t(y) * 19349663u ^ uint32_t(n) * 83492791u;
            row[x] = uint8_t((check ? 150 : 70) + (h >> 28) + (x + y) / 8 % 32);
        }
    }
    for (int p = 1; p < 3; ++p)
        for (int y = 0; y < height / 2; ++y)
            std::memset(f->data[p] + y * f->linesize[p], 128 + 20 * (p == 1), width / 2);
    return f;
}

int frame_number(const AVFrame& f) {
    const int band = f.height / 6, block = f.width / kCodeBits;
    int n = 0;
    for (int bit = 0; bit < kCodeBits; ++bit) {
        int sum = 0, count = 0;
        for (int y = band / 4; y < 3 * band / 4; ++y)
            for (int x = bit * block + block / 4; x < bit * block + 3 * block / 4; ++x) {
                sum += f.data[0][y * f.linesize[0] + x];
                ++count;
            }
        if (sum > 128 * count) n |= 1 << bit;
    }
    return n;
}

struct Recording {
    TempDir dir{"onair-clip"};
    core::Rung rung;
    core::EncoderConfig encoder;
    std::vector<core::ClipSegmentFile> segments;
    std::vector<int> frames;  // video frames per segment
    int64_t frame0 = 0;       // media time of frame number 0

    int number_at(int64_t media) const { return int((media - frame0) / kFrame); }
    int64_t end() const { return segments.back().start + segments.back().duration; }
    // Media time of the `n`th frame of segment `i`.
    int64_t at(size_t i, int n) const { return segments[i].start + n * kFrame; }
};

struct DecodedFrame {
    int64_t pts = 0;  // 90 kHz; the TS's own (33-bit) or the MP4's (from 0)
    int number = -1;
    bool key = false;
    uint32_t checksum = 0;
};

struct Decoded {
    std::vector<DecodedFrame> video;                 // presentation order
    std::vector<std::pair<int64_t, int64_t>> audio;  // pts, duration (90 kHz)
    std::string video_codec, audio_codec;
    int errors = 0;
};

// Decodes every video frame of a file with libavformat and libavcodec.
Decoded decode(const std::filesystem::path& path) {
    Decoded d;
    AVFormatContext* raw = nullptr;
    REQUIRE(avformat_open_input(&raw, path.c_str(), nullptr, nullptr) == 0);
    core::InputFormatPtr format(raw);
    REQUIRE(avformat_find_stream_info(format.get(), nullptr) >= 0);
    int video = av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    int audio = av_find_best_stream(format.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
    REQUIRE(video >= 0);
    const AVStream* vs = format->streams[video];
    d.video_codec = avcodec_get_name(vs->codecpar->codec_id);
    if (audio >= 0) d.audio_codec = avcodec_get_name(format->streams[audio]->codecpar->codec_id);
    const AVCodec* codec = avcodec_find_decoder(vs->codecpar->codec_id);
    core::CodecContextPtr decoder(avcodec_alloc_context3(codec));
    REQUIRE(avcodec_parameters_to_context(decoder.get(), vs->codecpar) >= 0);
    decoder->pkt_timebase = vs->time_base;
    REQUIRE(avcodec_open2(decoder.get(), codec, nullptr) == 0);
    auto frame = core::make_frame();
    auto drain = [&] {
        while (avcodec_receive_frame(decoder.get(), frame.get()) == 0) {
            DecodedFrame f;
            f.pts = av_rescale_q(frame->best_effort_timestamp, vs->time_base, {1, 90000});
            f.number = frame_number(*frame);
            f.key = frame->key_frame;
            f.checksum = 1;
            for (int y = 0; y < frame->height; ++y)
                for (int x = 0; x < frame->width; ++x)
                    f.checksum = f.checksum * 31 + frame->data[0][y * frame->linesize[0] + x];
            if (frame->decode_error_flags || (frame->flags & AV_FRAME_FLAG_CORRUPT)) ++d.errors;
            d.video.push_back(f);
            av_frame_unref(frame.get());
        }
    };
    auto packet = core::make_packet();
    while (av_read_frame(format.get(), packet.get()) >= 0) {
        if (packet->stream_index == video) {
            if (avcodec_send_packet(decoder.get(), packet.get()) < 0) ++d.errors;
            drain();
        } else if (packet->stream_index == audio) {
            const AVRational tb = format->streams[audio]->time_base;
            d.audio.emplace_back(av_rescale_q(packet->pts, tb, {1, 90000}),
                                 av_rescale_q(packet->duration, tb, {1, 90000}));
        }
        av_packet_unref(packet.get());
    }
    avcodec_send_packet(decoder.get(), nullptr);
    drain();
    return d;
}

// Records `seconds` of a channel with one rung through the media chain and
// writes its segments to files, as the DVR keeps them.
Recording record(int seconds, int width = 320, int height = 180, int64_t bitrate = 300'000) {
    Recording r;
    auto config = onair::testing::small_channel();
    r.rung = config.ladder.front();
    r.rung.name = fmt::format("{}p", height);
    r.rung.width = width;
    r.rung.height = height;
    r.rung.bitrate = r.rung.max_bitrate = bitrate;
    r.rung.bufsize = 2 * bitrate;
    r.rung.profile = core::H264Profile::high;
    config.ladder = {r.rung};
    config.encoder.preset = "veryfast";  // onair's default: B-frames, so decode order matters
    config.encoder.gop = std::chrono::seconds(1);
    r.encoder = config.encoder;

    core::TimeAnchor anchor(10 * kSecond);
    onair::testing::Chain c(config, anchor);
    const int64_t pts0 = 900'000;
    int a = 0;
    for (int v = 0; v < 25 * seconds; ++v) {
        while (a * kAudioFrame <= v * kFrame) {
            auto e = onair::testing::tone(a, pts0);
            REQUIRE(c.chain->handle(e, kWallStart + a * kAudioFrame));
            ++a;
        }
        auto f = picture(v, width, height);
        f->pts = pts0 + v * kFrame;
        core::MediaEvent e = core::RawFrame{core::MediaKind::video, std::move(f), {1, 90000}};
        REQUIRE(c.chain->handle(e, kWallStart + v * kFrame));
        REQUIRE(c.chain->tick(kWallStart + v * kFrame));
    }
    REQUIRE(c.chain->finish());
    for (const auto& s : c.sink.segments) {
        auto file = r.dir / fmt::format("{}.ts", s.sequence);
        std::ofstream(file, std::ios::binary)
            .write(reinterpret_cast<const char*>(s.bytes->data()),
                   std::streamsize(s.bytes->size()));
        r.segments.push_back({file, s.sequence, s.start, s.duration, {}});
        r.frames.push_back(s.frames);
    }
    REQUIRE(r.segments.size() >= 4);
    // The tests rely on this: the TS timestamps wrap inside the third segment.
    const auto& third = r.segments[2];
    REQUIRE(core::floor_div(third.start, core::kPtsWrap) <
            core::floor_div(third.start + third.duration - 1, core::kPtsWrap));
    auto first = decode(r.segments.front().file);
    REQUIRE_FALSE(first.video.empty());
    r.frame0 = r.segments.front().start - first.video.front().number * kFrame;
    return r;
}

// ---- What a user checks -----------------------------------------------------------

// The top-level boxes of an MP4, in file order.
std::vector<std::string> top_level_boxes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<std::string> boxes;
    for (;;) {
        unsigned char head[16];
        if (!in.read(reinterpret_cast<char*>(head), 8)) break;
        uint64_t size = (uint64_t(head[0]) << 24) | (head[1] << 16) | (head[2] << 8) | head[3];
        boxes.emplace_back(reinterpret_cast<char*>(head + 4), 4);
        uint64_t header = 8;
        if (size == 1) {
            if (!in.read(reinterpret_cast<char*>(head + 8), 8)) break;
            size = 0;
            for (int i = 8; i < 16; ++i) size = (size << 8) | head[i];
            header = 16;
        }
        if (size < header) break;
        in.seekg(std::streamoff(size - header), std::ios::cur);
    }
    return boxes;
}

// The first ue(v) at `bit` of a NAL unit.
int read_ue(const std::string& nal, size_t bit) {
    auto get = [&](size_t b) {
        return b / 8 < nal.size() ? (uint8_t(nal[b / 8]) >> (7 - b % 8)) & 1 : 1;
    };
    int zeros = 0;
    while (!get(bit) && zeros < 31) ++zeros, ++bit;
    ++bit;
    int value = 0;
    for (int i = 0; i < zeros; ++i) value = (value << 1) | get(bit++);
    return (1 << zeros) - 1 + value;
}

// An avc1 track as a strict player reads it: every SPS and PPS a sample
// carries in-band is one the avcC holds under the same id, byte for byte.
// Returns how many distinct sets the avcC holds, or -1 on a mismatch.
int check_parameter_sets(const std::filesystem::path& mp4) {
    AVFormatContext* raw = nullptr;
    REQUIRE(avformat_open_input(&raw, mp4.c_str(), nullptr, nullptr) == 0);
    core::InputFormatPtr format(raw);
    int video = av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    REQUIRE(video >= 0);
    const AVCodecParameters* par = format->streams[video]->codecpar;
    REQUIRE(par->extradata_size > 7);
    REQUIRE(par->extradata[0] == 1);  // an avcC, not Annex B
    std::string avcc(reinterpret_cast<const char*>(par->extradata), size_t(par->extradata_size));
    std::map<std::pair<int, int>, std::string> sets;  // (type, id) -> NAL
    size_t at = 5;
    for (int list = 0; list < 2; ++list) {
        int count = uint8_t(avcc[at++]) & (list == 0 ? 0x1f : 0xff);
        for (int i = 0; i < count; ++i) {
            size_t size = (uint8_t(avcc[at]) << 8) | uint8_t(avcc[at + 1]);
            std::string nal = avcc.substr(at + 2, size);
            int type = nal[0] & 0x1f;
            int id = read_ue(nal, type == 7 ? 32 : 8);
            auto [it, fresh] = sets.emplace(std::pair{type, id}, nal);
            if (!fresh && it->second != nal) return -1;  // one id, two meanings
            at += 2 + size;
        }
    }
    auto packet = core::make_packet();
    bool ok = true;
    while (av_read_frame(format.get(), packet.get()) >= 0) {
        if (packet->stream_index == video) {
            for (int i = 0; i + 4 <= packet->size;) {
                size_t size = (size_t(packet->data[i]) << 24) | (packet->data[i + 1] << 16) |
                              (packet->data[i + 2] << 8) | packet->data[i + 3];
                std::string nal(reinterpret_cast<const char*>(packet->data) + i + 4, size);
                int type = nal.empty() ? 0 : nal[0] & 0x1f;
                if (type == 7 || type == 8) {
                    auto it = sets.find({type, read_ue(nal, type == 7 ? 32 : 8)});
                    ok = ok && it != sets.end() && it->second == nal;
                }
                i += 4 + int(size);
            }
        }
        av_packet_unref(packet.get());
    }
    return ok ? int(sets.size()) : -1;
}

size_t index_of(const std::vector<std::string>& v, const std::string& s) {
    return size_t(std::find(v.begin(), v.end(), s) - v.begin());
}

// ffprobe as a player would: both streams there and every frame decoding
// without a word on stderr.
onair::testing::ProbeResult probe_clean(const std::filesystem::path& file, const TempDir& dir) {
    auto p = onair::testing::probe(file.string(), dir.path());
    INFO(p.summary());
    CHECK(p.clean());
    REQUIRE(p.video());
    REQUIRE(p.audio());
    CHECK(p.video()->codec_name == "h264");
    CHECK(p.audio()->codec_name == "aac");
    CHECK(p.audio()->profile == "LC");
    return p;
}

// A file's time `t` near `expected`: a TS demuxer may show 33-bit
// timestamps near the wrap as negative; the MP4's are small.
int64_t near(int64_t t, int64_t expected) {
    return core::unwrap_near(t, expected);
}

// Frames numbered first, first + 1, ... in presentation order, evenly spaced
// from `pts0`, the first a key frame, none damaged.
void check_frames(const Decoded& d, int first, int count, int64_t pts0) {
    CHECK(d.errors == 0);
    REQUIRE(int(d.video.size()) == count);
    CHECK(d.video.front().key);
    for (int i = 0; i < count; ++i) {
        INFO("frame " << i);
        CHECK(d.video[i].number == first + i);
        CHECK(near(d.video[i].pts, pts0 + i * kFrame) == pts0 + i * kFrame);
    }
}

// Audio from the AAC frame that overlaps `from`, each frame following the last.
void check_audio_from(const Decoded& d, int64_t from) {
    REQUIRE_FALSE(d.audio.empty());
    CHECK(near(d.audio.front().first, from) <= from);
    CHECK(near(d.audio.front().first, from) > from - kAudioFrame);
    for (size_t i = 1; i < d.audio.size(); ++i)
        CHECK(near(d.audio[i].first, d.audio[i - 1].first) == d.audio[i - 1].first + kAudioFrame);
}
// Audio up to the AAC frame that overlaps the end just before `to`.
void check_audio_to(const Decoded& d, int64_t to) {
    REQUIRE_FALSE(d.audio.empty());
    CHECK(near(d.audio.back().first, to) < to);
    CHECK(near(d.audio.back().first, to) + kAudioFrame >= to);
}

std::vector<std::string> files_in(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

TEST_CASE("a segment-accurate MP4 copies the segments: moov first, both streams, their duration",
          "[clip]") {
    auto r = record(12);
    std::vector<core::ClipSegmentFile> clip(r.segments.begin(), r.segments.end() - 1);
    TempDir out("onair-clip-out");
    auto file = out / "clip.mp4";
    auto media = packager::make_clip_media();
    auto ok = media->write_mp4(clip, std::nullopt, r.rung, r.encoder, file);
    REQUIRE(ok);
    CHECK(files_in(out.path()) == std::vector<std::string>{"clip.mp4"});  // no temporary left
    CHECK(check_parameter_sets(file) == 2);

    auto boxes = top_level_boxes(file);
    INFO(fmt::format("{}", fmt::join(boxes, " ")));
    REQUIRE(index_of(boxes, "moov") < boxes.size());
    CHECK(index_of(boxes, "moov") < index_of(boxes, "mdat"));

    int64_t duration = 0;
    int frames = 0;
    for (size_t i = 0; i < clip.size(); ++i) duration += clip[i].duration, frames += r.frames[i];
    auto p = probe_clean(file, out);
    REQUIRE(p.video_duration());
    CHECK(std::abs(*p.video_duration() - core::ticks_to_seconds(duration)) < 0.001);
    REQUIRE(p.format_duration);
    CHECK(std::abs(*p.format_duration - core::ticks_to_seconds(duration)) <
          core::ticks_to_seconds(kAudioFrame));

    // Every frame, in order across the 33-bit wrap, the picture the
    // recording has (copied, so decoded bit for bit alike).
    auto d = decode(file);
    check_frames(d, r.number_at(clip.front().start), frames, 0);
    auto original = decode(clip[1].file);
    CHECK(d.video[size_t(r.frames[0])].checksum == original.video.front().checksum);
    CHECK(d.audio.front().first >= 0);
    CHECK(d.audio.front().first < kAudioFrame);
    CHECK(d.audio.size() >= size_t(duration / kAudioFrame));
}

TEST_CASE("a frame-accurate MP4 holds exactly the frames of the cut, the inner GOPs copied",
          "[clip]") {
    auto r = record(12);
    // From 13 frames into the second segment to 1 s + 7 frames into the fourth.
    const core::ClipCut cut{r.at(1, 13), r.at(3, 32)};
    TempDir out("onair-clip-out");
    auto file = out / "clip.mp4";
    auto media = packager::make_clip_media();
    auto ok = media->write_mp4(r.segments, cut, r.rung, r.encoder, file);
    INFO((ok ? "" : ok.error().message));
    REQUIRE(ok);

    auto boxes = top_level_boxes(file);
    CHECK(index_of(boxes, "moov") < index_of(boxes, "mdat"));
    auto p = probe_clean(file, out);
    const int frames = int((cut.end - cut.start) / kFrame);
    CHECK(int(p.video_frames.size()) == frames);
    REQUIRE_FALSE(p.video_frames.empty());
    CHECK(p.video_frames.front().key_frame);
    CHECK(p.video_frames.front().pict_type == "I");

    // x264 set up like the live encoder: the re-encodes' SPS/PPS are the recording's.
    CHECK(check_parameter_sets(file) == 2);
    auto d = decode(file);
    check_frames(d, r.number_at(cut.start), frames, 0);
    // 12 frames in, the recording's own GOPs begin (the second segment's
    // second GOP). Of the last GOP's 7 frames, those decoded before the
    // anchor the cut drops are copied; only the last few (B-frames referring
    // to it: x264 puts at most 3 in a row) are re-encoded, as a GOP of their own.
    auto second = decode(r.segments[1].file), fourth = decode(r.segments[3].file);
    CHECK(d.video[12].checksum == second.video[25].checksum);
    CHECK(d.video[size_t(frames - 8)].checksum == fourth.video[24].checksum);
    for (int i = 0; i < 4; ++i) {
        INFO("frame " << i << " of the last GOP");
        CHECK(d.video[size_t(frames - 7 + i)].checksum == fourth.video[size_t(25 + i)].checksum);
    }
    for (int i = 4; i < 7; ++i) {
        const auto& frame = d.video[size_t(frames - 7 + i)];
        if (frame.checksum == fourth.video[size_t(25 + i)].checksum) continue;
        CHECK(frame.key);  // the first one re-encoded starts a GOP
        break;
    }
    check_audio_from(d, 0);
    check_audio_to(d, cut.end - cut.start);
}

TEST_CASE("re-encodes unlike the recording get SPS/PPS ids of their own", "[clip]") {
    auto r = record(10);
    auto changed = r.rung;  // the rung changed since the recording
    changed.profile = core::H264Profile::main;
    const core::ClipCut cut{r.at(1, 13), r.at(3, 32)};
    TempDir out("onair-clip-out");
    auto media = packager::make_clip_media();
    auto file = out / "clip.mp4";
    REQUIRE(media->write_mp4(r.segments, cut, changed, r.encoder, file));
    probe_clean(file, out);
    CHECK(check_parameter_sets(file) == 6);  // the recording's and the two re-encodes'
    check_frames(decode(file), r.number_at(cut.start), int((cut.end - cut.start) / kFrame), 0);

    auto trimmed = media->trim_segments(r.segments, cut, changed, r.encoder, out / "hls");
    REQUIRE(trimmed);
    std::string played;
    for (const auto& s : *trimmed) played += onair::testing::read_file(s.file);
    auto all = out / "played.ts";
    std::ofstream(all, std::ios::binary) << played;
    probe_clean(all, out);
    check_frames(decode(all), r.number_at(cut.start), int((cut.end - cut.start) / kFrame),
                 cut.start & (core::kPtsWrap - 1));

    // The MP4 copied from those segments (as a harvest job makes it) lists
    // every set its samples use.
    auto copied = out / "copied.mp4";
    REQUIRE(media->write_mp4(*trimmed, std::nullopt, changed, r.encoder, copied));
    probe_clean(copied, out);
    CHECK(check_parameter_sets(copied) == 6);
    check_frames(decode(copied), r.number_at(cut.start), int((cut.end - cut.start) / kFrame), 0);
}

TEST_CASE("cut times rounded to the millisecond keep the frame at T1 and leave the frame at T2",
          "[clip]") {
    auto r = record(8);
    // As a producer sends them at 29.97 fps: each a frame's time rounded up, by < 0.5 ms.
    const core::ClipCut rounded{r.at(1, 13) + 44, r.at(2, 32) + 44};
    TempDir out("onair-clip-out");
    auto media = packager::make_clip_media();
    auto file = out / "clip.mp4";
    REQUIRE(media->write_mp4(r.segments, rounded, r.rung, r.encoder, file));
    check_frames(decode(file), r.number_at(r.at(1, 13)), 50 - 13 + 32, 0);
    auto trimmed = media->trim_segments(r.segments, rounded, r.rung, r.encoder, out / "hls");
    REQUIRE(trimmed);
    REQUIRE(trimmed->size() == 2);
    CHECK(trimmed->front().start == r.at(1, 13));
    CHECK(trimmed->back().duration == 32 * kFrame);
}

TEST_CASE("trimmed segments keep media time, start exactly at the cut and hold its frames",
          "[clip]") {
    auto r = record(12);
    const core::ClipCut cut{r.at(1, 13), r.at(3, 32)};
    TempDir out("onair-clip-out");
    auto media = packager::make_clip_media();
    auto trimmed = media->trim_segments(r.segments, cut, r.rung, r.encoder, out / "hls");
    INFO((trimmed ? "" : trimmed.error().message));
    REQUIRE(trimmed);
    REQUIRE(trimmed->size() == 3);

    const auto& first = (*trimmed)[0];
    CHECK(first.file == out / "hls" / fmt::format("{}.ts", r.segments[1].sequence));
    CHECK(first.sequence == r.segments[1].sequence);
    CHECK(first.start == cut.start);
    CHECK(first.duration == r.segments[1].start + r.segments[1].duration - cut.start);
    CHECK((*trimmed)[1].file == r.segments[2].file);  // the middle: the DVR's own file
    CHECK((*trimmed)[1].start == r.segments[2].start);
    CHECK((*trimmed)[1].duration == r.segments[2].duration);
    const auto& last = (*trimmed)[2];
    CHECK(last.file == out / "hls" / fmt::format("{}.ts", r.segments[3].sequence));
    CHECK(last.start == r.segments[3].start);
    CHECK(last.duration == cut.end - r.segments[3].start);
    CHECK(files_in(out / "hls") ==
          std::vector<std::string>{first.file.filename().string(), last.file.filename().string()});

    std::string played;  // what an HLS player reads, one segment after the other
    for (const auto& s : *trimmed) {
        INFO(s.file.string());
        played += onair::testing::read_file(s.file);
        CHECK(onair::testing::first_slice_nal_type(onair::testing::read_file(s.file)) == 5);
        probe_clean(s.file, out);
        auto d = decode(s.file);
        // The TS's own timestamps: media time in 33 bits.
        check_frames(d, r.number_at(s.start), int(s.duration / kFrame),
                     s.start & (core::kPtsWrap - 1));
        CHECK(d.audio_codec == "aac");
        if (&s == &first) check_audio_from(d, s.start & (core::kPtsWrap - 1));
        if (&s == &last) check_audio_to(d, (s.start & (core::kPtsWrap - 1)) + s.duration);
    }
    auto all = out / "played.ts";
    std::ofstream(all, std::ios::binary) << played;
    probe_clean(all, out);
    check_frames(decode(all), r.number_at(cut.start), int((cut.end - cut.start) / kFrame),
                 cut.start & (core::kPtsWrap - 1));

    // The MP4 copied from them: the same frames, one SPS/PPS, audio to the cut.
    auto copied = out / "copied.mp4";
    REQUIRE(media->write_mp4(*trimmed, std::nullopt, r.rung, r.encoder, copied));
    probe_clean(copied, out);
    CHECK(check_parameter_sets(copied) == 2);
    auto d = decode(copied);
    check_frames(d, r.number_at(cut.start), int((cut.end - cut.start) / kFrame), 0);
    check_audio_from(d, 0);
    check_audio_to(d, cut.end - cut.start);
}

TEST_CASE("a cut inside one GOP gives one trimmed segment and an MP4 of just those frames",
          "[clip]") {
    auto r = record(8);
    const core::ClipCut cut{r.at(1, 3), r.at(1, 19)};
    TempDir out("onair-clip-out");
    auto media = packager::make_clip_media();

    auto trimmed = media->trim_segments(r.segments, cut, r.rung, r.encoder, out.path());
    INFO((trimmed ? "" : trimmed.error().message));
    REQUIRE(trimmed);
    REQUIRE(trimmed->size() == 1);
    CHECK(trimmed->front().start == cut.start);
    CHECK(trimmed->front().duration == cut.end - cut.start);
    probe_clean(trimmed->front().file, out);
    check_frames(decode(trimmed->front().file), r.number_at(cut.start), 16,
                 cut.start & (core::kPtsWrap - 1));

    auto file = out / "clip.mp4";
    auto ok = media->write_mp4(r.segments, cut, r.rung, r.encoder, file);
    INFO((ok ? "" : ok.error().message));
    REQUIRE(ok);
    probe_clean(file, out);
    auto d = decode(file);
    check_frames(d, r.number_at(cut.start), 16, 0);
    check_audio_from(d, 0);
    check_audio_to(d, cut.end - cut.start);
}

TEST_CASE("a segment missing from the recording closes up in the MP4", "[clip]") {
    auto r = record(10);
    std::vector<core::ClipSegmentFile> clip = {r.segments[0], r.segments[2], r.segments[3]};
    TempDir out("onair-clip-out");
    auto media = packager::make_clip_media();
    auto file = out / "clip.mp4";
    REQUIRE(media->write_mp4(clip, std::nullopt, r.rung, r.encoder, file));
    probe_clean(file, out);
    auto d = decode(file);
    CHECK(d.errors == 0);
    const int frames = r.frames[0] + r.frames[2] + r.frames[3];
    REQUIRE(int(d.video.size()) == frames);
    for (int i = 0; i < frames; ++i) {
        INFO("frame " << i);
        CHECK(d.video[size_t(i)].pts == i * kFrame);
        const int skipped = i < r.frames[0] ? 0 : r.frames[1];
        CHECK(d.video[size_t(i)].number == r.number_at(clip[0].start) + i + skipped);
    }
    for (size_t i = 1; i < d.audio.size(); ++i) CHECK(d.audio[i].first > d.audio[i - 1].first);
    CHECK(d.audio.back().first < frames * kFrame);
}

TEST_CASE("a cut on GOP boundaries is copied, not re-encoded", "[clip]") {
    auto r = record(8);
    const core::ClipCut cut{r.at(1, 25), r.at(2, 25)};  // the second GOPs of two segments
    TempDir out("onair-clip-out");
    auto media = packager::make_clip_media();
    auto file = out / "clip.mp4";
    REQUIRE(media->write_mp4(r.segments, cut, r.rung, r.encoder, file));
    auto d = decode(file);
    check_frames(d, r.number_at(cut.start), 50, 0);
    auto second = decode(r.segments[1].file), third = decode(r.segments[2].file);
    for (int i = 0; i < 25; ++i) {
        CHECK(d.video[size_t(i)].checksum == second.video[size_t(25 + i)].checksum);
        CHECK(d.video[size_t(25 + i)].checksum == third.video[size_t(i)].checksum);
    }

    // A cut that overlaps the second segment by a tick takes none of its frames.
    const core::ClipCut grazing{r.segments[2].start - 1, r.at(2, 25)};
    REQUIRE(media->write_mp4(r.segments, grazing, r.rung, r.encoder, file));
    d = decode(file);
    check_frames(d, r.number_at(r.segments[2].start), 25, 0);
    CHECK(d.video.front().checksum == third.video.front().checksum);
}

TEST_CASE("clip media errors: a missing file, an empty or outside cut, no H.264, damage",
          "[clip]") {
    auto r = record(8);
    TempDir out("onair-clip-out");
    auto media = packager::make_clip_media();
    auto file = out / "clip.mp4";
    const auto& segs = r.segments;

    SECTION("a missing file") {
        auto missing = segs;
        missing[1].file = r.dir / "gone.ts";
        auto ok = media->write_mp4(missing, std::nullopt, r.rung, r.encoder, file);
        REQUIRE_FALSE(ok);
        CHECK_THAT(ok.error().message, Catch::Contains("missing") && Catch::Contains("gone.ts"));
        auto trimmed =
            media->trim_segments(missing, {segs[0].start + kFrame, segs[1].start + kFrame}, r.rung,
                                 r.encoder, out.path());
        REQUIRE_FALSE(trimmed);
        CHECK_THAT(trimmed.error().message, Catch::Contains("gone.ts"));
        CHECK(files_in(out.path()).empty());
    }
    SECTION("start at or after end") {
        auto ok = media->write_mp4(segs, core::ClipCut{segs[1].start, segs[1].start}, r.rung,
                                   r.encoder, file);
        REQUIRE_FALSE(ok);
        CHECK_THAT(ok.error().message, Catch::Contains("not before"));
        auto trimmed = media->trim_segments(segs, {segs[1].start + kFrame, segs[1].start}, r.rung,
                                            r.encoder, out.path());
        REQUIRE_FALSE(trimmed);
        CHECK(files_in(out.path()).empty());
    }
    SECTION("a cut outside the segments") {
        auto ok = media->write_mp4(segs, core::ClipCut{segs[0].start - kFrame, segs[1].start},
                                   r.rung, r.encoder, file);
        REQUIRE_FALSE(ok);
        CHECK_THAT(ok.error().message, Catch::Contains("outside"));
        ok = media->write_mp4(segs, core::ClipCut{segs[1].start, r.end() + kFrame}, r.rung,
                              r.encoder, file);
        REQUIRE_FALSE(ok);
        CHECK_THAT(ok.error().message, Catch::Contains("outside"));
    }
    SECTION("not H.264") {
        onair::testing::ProcessOptions o;
        auto mpeg2 = r.dir / "mpeg2.ts";
        o.argv = {
            "ffmpeg", "-v",         "error", "-f",     "lavfi",       "-i", "testsrc=d=1:s=160x90",
            "-c:v",   "mpeg2video", "-f",    "mpegts", mpeg2.string()};
        o.output_dir = out.path() / "ffmpeg";
        std::filesystem::create_directories(o.output_dir);
        onair::testing::Process ffmpeg(o);
        auto status = ffmpeg.wait_for(std::chrono::seconds(30));
        REQUIRE(status);
        REQUIRE(status->success());
        auto other = segs;
        other[0].file = mpeg2;
        auto ok = media->write_mp4(other, std::nullopt, r.rung, r.encoder, file);
        REQUIRE_FALSE(ok);
        CHECK_THAT(ok.error().message, Catch::Contains("not H.264"));
    }
    SECTION("damaged segments fail or come out whole, never crash") {
        auto damaged = segs;
        // Garbage where a segment should be.
        auto junk = r.dir / "junk.ts";
        std::ofstream(junk, std::ios::binary) << std::string(50'000, 'x');
        damaged[0].file = junk;
        auto ok = media->write_mp4(damaged, std::nullopt, r.rung, r.encoder, file);
        CHECK_FALSE(ok);
        // A segment cut short, one with its middle overwritten.
        auto bytes = onair::testing::read_file(segs[1].file);
        auto half = r.dir / "half.ts";
        std::ofstream(half, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
        auto holed = r.dir / "holed.ts";
        std::string broken = bytes;
        std::fill(broken.begin() + long(broken.size() / 3),
                  broken.begin() + long(broken.size() / 2), '\x47');
        std::ofstream(holed, std::ios::binary) << broken;
        for (const auto& bad : {half, holed}) {
            damaged = segs;
            damaged[1].file = bad;
            INFO(bad.string());
            // Copied as it is, or refused; re-cut, or refused.
            ok = media->write_mp4(damaged, std::nullopt, r.rung, r.encoder, file);
            if (ok) CHECK(std::filesystem::file_size(file) > 0);
            auto cut = core::ClipCut{segs[1].start + 3 * kFrame, segs[2].start + 3 * kFrame};
            ok = media->write_mp4(damaged, cut, r.rung, r.encoder, file);
            if (ok) CHECK(std::filesystem::file_size(file) > 0);
            auto trimmed = media->trim_segments(damaged, cut, r.rung, r.encoder, out / "hls");
            if (trimmed) CHECK(trimmed->size() == 2);
        }
    }
}

// Not run by default: the times the issue asks for, on 60 s recordings.
TEST_CASE("timing of 60 s clips at 640x360 and 1280x720", "[.timing]") {
    for (auto [w, h, rate] :
         {std::tuple{640, 360, int64_t{1'200'000}}, std::tuple{1280, 720, int64_t{3'000'000}}}) {
        auto r = record(63, w, h, rate);
        REQUIRE(r.segments.size() >= 31);
        std::vector<core::ClipSegmentFile> clip(r.segments.begin(), r.segments.begin() + 30);
        TempDir out("onair-clip-out");
        auto media = packager::make_clip_media();
        using clock = std::chrono::steady_clock;
        auto ms = [](clock::duration d) {
            return std::chrono::duration<double, std::milli>(d).count();
        };
        auto t0 = clock::now();
        REQUIRE(media->write_mp4(clip, std::nullopt, r.rung, r.encoder, out / "segment.mp4"));
        auto t1 = clock::now();
        // Mid-GOP at both ends: 12 frames of the first GOP re-encoded, 13 of the last.
        const core::ClipCut cut{r.at(0, 13), r.at(29, 38)};
        REQUIRE(media->write_mp4(clip, cut, r.rung, r.encoder, out / "frame.mp4"));
        auto t2 = clock::now();
        const core::ClipCut inner{r.at(0, 25), r.at(29, 25)};
        REQUIRE(media->write_mp4(clip, inner, r.rung, r.encoder, out / "inner.mp4"));
        auto t3 = clock::now();
        auto size = std::filesystem::file_size(out / "segment.mp4");
        WARN(
            fmt::format("{}x{} {} kb/s, 60 s, {:.1f} MB: segment accuracy {:.0f} ms; frame "
                        "accuracy {:.0f} ms, of which {:.0f} ms for the two boundary GOPs (2 s "
                        "of video) against a cut on GOPs, {:.0f} ms",
                        w, h, rate / 1000, double(size) / 1e6, ms(t1 - t0), ms(t2 - t1),
                        ms(t2 - t1) - ms(t3 - t2), ms(t3 - t2)));
    }
}
