#include <catch2/catch.hpp>

#include <chrono>

#include "media/h264.hpp"
#include "media/x264.hpp"

using namespace onair;
using namespace std::chrono_literals;

namespace {

core::Rung rung_180p() {
    core::Rung r;
    r.name = "180p";
    r.width = 320;
    r.height = 180;
    r.bitrate = 200'000;
    r.max_bitrate = 220'000;
    r.bufsize = 500'000;
    r.profile = core::H264Profile::high;
    return r;
}

core::EncoderConfig ultrafast(std::chrono::microseconds gop) {
    core::EncoderConfig e;
    e.preset = "ultrafast";
    e.gop = gop;
    return e;
}

media::PictureFormat picture_180p() {
    media::PictureFormat p;
    p.width = 320;
    p.height = 180;
    return p;
}

}  // namespace

TEST_CASE("a GOP's length in frames is its media time at the frame rate, rounded") {
    CHECK(media::gop_frames(2s, {25, 1}) == 50);
    CHECK(media::gop_frames(2s, {30000, 1001}) == 60);  // 59.94 frames
    CHECK(media::gop_frames(1s, {60000, 1001}) == 60);  // 59.94 frames
    CHECK(media::gop_frames(2s, {24000, 1001}) == 48);  // 47.95 frames
    CHECK(media::gop_frames(1001ms, {30000, 1001}) == 30);
    CHECK(media::gop_frames(10ms, {25, 1}) == 1);  // never below one frame
}

TEST_CASE("x264 for a rung: the rung's rate control, one frame per tick, the GOP from media time") {
    const auto rung = rung_180p();
    auto c = media::open_x264(rung, ultrafast(2s), {30000, 1001}, picture_180p());
    REQUIRE(c);
    const AVCodecContext& x = **c;
    CHECK(x.width == 320);
    CHECK(x.height == 180);
    CHECK(x.time_base.num == 1001);
    CHECK(x.time_base.den == 30000);
    CHECK(x.bit_rate == 200'000);
    CHECK(x.rc_max_rate == 220'000);
    CHECK(x.rc_buffer_size == 500'000);
    CHECK(x.gop_size == 60);
    CHECK(x.keyint_min == 60);
    CHECK(x.thread_count != 1);  // the live encoder's own threads
    CHECK_FALSE(x.flags & AV_CODEC_FLAG_GLOBAL_HEADER);
    CHECK(x.extradata_size == 0);  // parameter sets in-band, before each IDR
}

TEST_CASE("a rung without VBV figures gets the channel file's defaults") {
    auto rung = rung_180p();
    rung.max_bitrate = 0;
    rung.bufsize = 0;
    auto c = media::open_x264(rung, ultrafast(2s), {25, 1}, picture_180p());
    REQUIRE(c);
    CHECK((*c)->rc_max_rate == 200'000);     // the bitrate
    CHECK((*c)->rc_buffer_size == 400'000);  // twice the cap
}

TEST_CASE("the clip variant: one thread, parameter sets up front under the id asked") {
    const media::X264Variant clip{
        .threads = {1}, .global_header = true, .sps_id = 3, .min_gop_frames = 80};
    auto c = media::open_x264(rung_180p(), ultrafast(2s), {25, 1}, picture_180p(), clip);
    REQUIRE(c);
    CHECK((*c)->thread_count == 1);
    CHECK((*c)->gop_size == 80);    // at least the frames asked for
    CHECK((*c)->keyint_min == 50);  // the GOP rule is the live one's
    REQUIRE((*c)->extradata_size > 0);
    auto sets = media::parameter_sets({(*c)->extradata, size_t((*c)->extradata_size)});
    CHECK(media::parameter_set_ids(sets) == std::vector<int>{3, 3});
}

TEST_CASE("the live and the clip variant write the same parameter sets under the same id") {
    // The live encoder's SPS/PPS come in-band with its first IDR; the clip's
    // in the extradata. Encode one grey frame live to compare them.
    const auto rung = rung_180p();
    const auto encoder = ultrafast(2s);
    auto live = media::open_x264(rung, encoder, {25, 1}, picture_180p());
    REQUIRE(live);
    core::FramePtr frame(av_frame_alloc());
    frame->width = 320;
    frame->height = 180;
    frame->format = AV_PIX_FMT_YUV420P;
    REQUIRE(av_frame_get_buffer(frame.get(), 0) >= 0);
    for (int plane = 0; plane < 3; ++plane)
        for (int y = 0; y < (plane ? 90 : 180); ++y)
            std::fill_n(frame->data[plane] + y * frame->linesize[plane], plane ? 160 : 320, 128);
    frame->pts = 0;
    frame->pict_type = AV_PICTURE_TYPE_I;
    REQUIRE(avcodec_send_frame(live->get(), frame.get()) >= 0);
    REQUIRE(avcodec_send_frame(live->get(), nullptr) >= 0);
    core::PacketPtr packet(av_packet_alloc());
    REQUIRE(avcodec_receive_packet(live->get(), packet.get()) >= 0);
    const auto live_sets = media::parameter_sets({packet->data, size_t(packet->size)});

    const media::X264Variant clip{.threads = {1}, .global_header = true, .sps_id = 0};
    auto cut = media::open_x264(rung, encoder, {25, 1}, media::PictureFormat::of(*frame), clip);
    REQUIRE(cut);
    CHECK(media::parameter_sets({(*cut)->extradata, size_t((*cut)->extradata_size)}) == live_sets);
}
