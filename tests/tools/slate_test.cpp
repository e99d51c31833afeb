// Input loss with `then: slate`: after repeating the last picture, the
// pipeline shows the configured image (made here at run time with
// libavcodec), fitted into the picture with black bars; an image that cannot
// be decoded leaves black, and the output never stops.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <array>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

extern "C" {
#include <libswscale/swscale.h>
}

#include "tests/tools/chain_harness.hpp"

using namespace onair;
using namespace onair::testing;
using namespace std::chrono_literals;

namespace {

std::filesystem::path temp_file(const std::string& name) {
    return std::filesystem::temp_directory_path() /
           ("onair_slate." + std::to_string(getpid()) + "." + name);
}

// Writes a picture of one colour with libavcodec's `codec` ("png", "mjpeg").
void write_picture(const std::filesystem::path& path, const char* codec_name, AVPixelFormat format,
                   int width, int height, std::array<uint8_t, 3> rgb) {
    const AVCodec* codec = avcodec_find_encoder_by_name(codec_name);
    REQUIRE(codec);
    core::CodecContextPtr encoder(avcodec_alloc_context3(codec));
    encoder->width = width;
    encoder->height = height;
    encoder->pix_fmt = format;
    encoder->time_base = {1, 25};
    encoder->color_range = AVCOL_RANGE_JPEG;
    REQUIRE(avcodec_open2(encoder.get(), codec, nullptr) == 0);

    auto picture = core::make_frame();
    picture->width = width;
    picture->height = height;
    picture->format = format;
    REQUIRE(av_frame_get_buffer(picture.get(), 0) == 0);
    auto source = core::make_frame();
    source->width = width;
    source->height = height;
    source->format = AV_PIX_FMT_RGB24;
    REQUIRE(av_frame_get_buffer(source.get(), 0) == 0);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x)
            std::copy(rgb.begin(), rgb.end(), source->data[0] + y * source->linesize[0] + 3 * x);
    core::SwsPtr convert(sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, format,
                                        SWS_POINT, nullptr, nullptr, nullptr));
    REQUIRE(convert);
    sws_scale(convert.get(), source->data, source->linesize, 0, height, picture->data,
              picture->linesize);
    picture->pts = 0;

    REQUIRE(avcodec_send_frame(encoder.get(), picture.get()) == 0);
    REQUIRE(avcodec_send_frame(encoder.get(), nullptr) == 0);
    auto packet = core::make_packet();
    REQUIRE(avcodec_receive_packet(encoder.get(), packet.get()) == 0);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(packet->data), packet->size);
}

// The last picture of an MPEG-TS segment, as RGB.
struct RgbPicture {
    int width = 0, height = 0;
    std::vector<uint8_t> rgb;
    std::array<int, 3> at(int x, int y) const {
        const uint8_t* p = &rgb[size_t(3 * (y * width + x))];
        return {p[0], p[1], p[2]};
    }
};

RgbPicture last_picture(const core::Bytes& segment) {
    auto path = temp_file("segment.ts");
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(segment.data()), std::streamsize(segment.size()));
    AVFormatContext* raw = nullptr;
    REQUIRE(avformat_open_input(&raw, path.c_str(), nullptr, nullptr) == 0);
    core::InputFormatPtr input(raw);
    REQUIRE(avformat_find_stream_info(input.get(), nullptr) >= 0);
    const AVCodec* codec = nullptr;
    int stream = av_find_best_stream(input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    REQUIRE(stream >= 0);
    core::CodecContextPtr decoder(avcodec_alloc_context3(codec));
    REQUIRE(avcodec_parameters_to_context(decoder.get(), input->streams[stream]->codecpar) == 0);
    REQUIRE(avcodec_open2(decoder.get(), codec, nullptr) == 0);
    auto packet = core::make_packet();
    auto frame = core::make_frame();
    auto last = core::make_frame();
    auto take = [&] {
        while (avcodec_receive_frame(decoder.get(), frame.get()) == 0) {
            av_frame_unref(last.get());
            av_frame_move_ref(last.get(), frame.get());
        }
    };
    while (av_read_frame(input.get(), packet.get()) >= 0) {
        if (packet->stream_index == stream) avcodec_send_packet(decoder.get(), packet.get());
        av_packet_unref(packet.get());
        take();
    }
    avcodec_send_packet(decoder.get(), nullptr);
    take();
    std::filesystem::remove(path);
    REQUIRE(last->width > 0);

    RgbPicture out;
    out.width = last->width;
    out.height = last->height;
    out.rgb.resize(size_t(3 * out.width * out.height));
    core::SwsPtr convert(sws_getContext(out.width, out.height, AVPixelFormat(last->format),
                                        out.width, out.height, AV_PIX_FMT_RGB24, SWS_POINT, nullptr,
                                        nullptr, nullptr));
    REQUIRE(convert);
    uint8_t* planes[1] = {out.rgb.data()};
    int strides[1] = {3 * out.width};
    sws_scale(convert.get(), last->data, last->linesize, 0, out.height, planes, strides);
    return out;
}

bool near(std::array<int, 3> got, std::array<int, 3> want) {
    for (int i = 0; i < 3; ++i)
        if (std::abs(got[i] - want[i]) > 40) return false;
    return true;
}

// Runs 5 s of pictures, 6 s of input loss, 5 s of pictures again; returns
// the segments made entirely of fill after the repeats (the slate's own).
std::vector<core::Segment> run_loss(const core::ChannelConfig& config) {
    core::TimeAnchor anchor(10 * kSecond);
    Chain c(config, anchor);
    Source source(900'000);
    feed(*c.chain, source, 0, 125, kWallStart);
    for (int64_t t = source.video_time(125); t < source.video_time(275); t += kFrame / 2)
        REQUIRE(c.chain->tick(kWallStart + t));
    feed(*c.chain, source, 275, 400, kWallStart);
    REQUIRE(c.chain->finish());
    // Fill from frame 125 on; the last picture is repeated for 1 s.
    const int64_t slate_from = kWallStart + source.video_time(125) + 1 * kSecond + kFrame;
    const int64_t slate_to = kWallStart + source.video_time(275);
    std::vector<core::Segment> out;
    for (const auto& s : c.sink.segments) {
        if (s.start >= slate_from && s.start + s.duration <= slate_to) {
            CHECK(s.slate);
            out.push_back(s);
        }
    }
    return out;
}

core::ChannelConfig slate_channel(const std::filesystem::path& slate) {
    auto config = small_channel();
    config.input_loss.then = core::LossFill::slate;
    config.input_loss.slate = slate.string();
    config.input_loss.after = 1s;
    config.input_loss.repeat_last = 1s;
    return config;
}

}  // namespace

TEST_CASE("then: slate shows the image, fitted with black bars, in every rendition") {
    // A square image in 16:9 pictures: pillarboxed.
    auto path = temp_file("slate");
    std::array<int, 3> colour;
    SECTION("PNG") {
        path += ".png";
        write_picture(path, "png", AV_PIX_FMT_RGB24, 200, 200, {230, 20, 20});
        colour = {230, 20, 20};
    }
    SECTION("JPEG") {
        path += ".jpg";
        write_picture(path, "mjpeg", AV_PIX_FMT_YUVJ420P, 200, 200, {20, 200, 40});
        colour = {20, 200, 40};
    }
    auto segments = run_loss(slate_channel(path));
    std::filesystem::remove(path);
    REQUIRE(segments.size() >= 2);  // one per rendition at least
    for (const auto& s : segments) {
        INFO(s.rendition << " segment " << s.sequence);
        auto picture = last_picture(*s.bytes);
        REQUIRE(picture.width == s.width);
        const int w = picture.width, h = picture.height;
        CHECK(near(picture.at(w / 2, h / 2), colour));
        CHECK(near(picture.at(w / 2 - h * 4 / 10, h / 4), colour));  // inside the square
        CHECK(near(picture.at(w / 16, h / 2), {0, 0, 0}));           // bars left and right
        CHECK(near(picture.at(w - 1 - w / 16, h / 2), {0, 0, 0}));
    }
}

TEST_CASE("a slate that cannot be decoded leaves black, and the output goes on") {
    auto path = temp_file("broken.png");
    std::ofstream(path) << "this is not a picture";
    auto segments = run_loss(slate_channel(path));
    std::filesystem::remove(path);
    REQUIRE(segments.size() >= 2);
    for (const auto& s : segments) {
        INFO(s.rendition << " segment " << s.sequence);
        CHECK(s.duration == 2 * kSecond);
        auto picture = last_picture(*s.bytes);
        CHECK(near(picture.at(picture.width / 2, picture.height / 2), {0, 0, 0}));
    }
}

TEST_CASE("then: black shows black after the repeats, even with a slate configured") {
    auto path = temp_file("unused.png");
    write_picture(path, "png", AV_PIX_FMT_RGB24, 64, 36, {230, 20, 20});
    auto config = slate_channel(path);
    config.input_loss.then = core::LossFill::black;
    auto segments = run_loss(config);
    std::filesystem::remove(path);
    REQUIRE(segments.size() >= 2);
    for (const auto& s : segments) {
        auto picture = last_picture(*s.bytes);
        CHECK(near(picture.at(picture.width / 2, picture.height / 2), {0, 0, 0}));
    }
}
