// Thumbnails for the control room's DVR timeline, from segments a real
// chain made (x264 on tiny pictures): a JPEG of the segment's first picture
// at the width asked, from MPEG-TS and from CMAF; the Thumbnailer writes one
// file per segment, whole.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

extern "C" {
#include <libavcodec/avcodec.h>
}

#include "core/libav.hpp"
#include "media/thumbnail.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/chain_harness.hpp"

using namespace onair;
using namespace onair::testing;

namespace {

// What a JPEG decoder makes of `bytes`: its picture's width and height.
std::pair<int, int> decoded_size(const core::Bytes& bytes) {
    const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_MJPEG);
    REQUIRE(codec);
    core::CodecContextPtr decoder(avcodec_alloc_context3(codec));
    REQUIRE(avcodec_open2(decoder.get(), codec, nullptr) == 0);
    auto packet = core::make_packet();
    REQUIRE(av_new_packet(packet.get(), int(bytes.size())) == 0);
    std::copy(bytes.begin(), bytes.end(), packet->data);
    REQUIRE(avcodec_send_packet(decoder.get(), packet.get()) == 0);
    auto frame = core::make_frame();
    REQUIRE(avcodec_receive_frame(decoder.get(), frame.get()) == 0);
    return {frame->width, frame->height};
}

std::map<int64_t, core::Segment> made_segments(core::Container container) {
    auto config = small_channel();
    config.hls.container = container;
    core::TimeAnchor anchor(10 * kSecond);
    Chain c(config, anchor);
    Source source(900'000);
    feed(*c.chain, source, 0, 25 * 5, kWallStart);
    REQUIRE(c.chain->finish());
    return c.sink.of("180p");
}

}  // namespace

TEST_CASE("a thumbnail is the segment's first picture as a JPEG of the width asked") {
    for (auto container : {core::Container::ts, core::Container::fmp4}) {
        INFO(core::kContainers.name(container));
        auto segments = made_segments(container);
        REQUIRE_FALSE(segments.empty());
        auto jpeg = media::jpeg_thumbnail(segments.begin()->second, 96);
        REQUIRE(jpeg);
        REQUIRE(jpeg->size() > 100);
        CHECK((*jpeg)[0] == 0xFF);
        CHECK((*jpeg)[1] == 0xD8);                        // SOI
        CHECK(decoded_size(*jpeg) == std::pair{96, 54});  // 320x180 kept in proportion
    }
    core::Segment empty;
    CHECK_FALSE(media::jpeg_thumbnail(empty, 96));
    core::Segment garbage;
    garbage.bytes = std::make_shared<const core::Bytes>(4000, uint8_t(0x47));
    CHECK_FALSE(media::jpeg_thumbnail(garbage, 96));
}

TEST_CASE("the thumbnailer writes SEQ.jpg per segment, whole, and skips what it cannot read") {
    TempDir dir("onair-thumbs");
    auto segments = made_segments(core::Container::ts);
    REQUIRE(segments.size() >= 2);
    media::Thumbnailer thumbnailer({.folder = dir.path() / "thumbs", .width = 64});
    core::Segment garbage;
    garbage.sequence = 1;
    garbage.bytes = std::make_shared<const core::Bytes>(376, uint8_t(0x47));
    thumbnailer.add(std::make_shared<const core::Segment>(garbage));
    for (const auto& [sequence, s] : segments)
        thumbnailer.add(std::make_shared<const core::Segment>(s));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (thumbnailer.made() < int64_t(segments.size()) &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(thumbnailer.made() == int64_t(segments.size()));
    CHECK(thumbnailer.failed() == 1);
    for (const auto& [sequence, s] : segments) {
        const auto file = dir.path() / "thumbs" / fmt::format("{}.jpg", sequence);
        REQUIRE(std::filesystem::exists(file));
        std::ifstream in(file, std::ios::binary);
        core::Bytes bytes((std::istreambuf_iterator<char>(in)), {});
        CHECK(decoded_size(bytes) == std::pair{64, 36});
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir.path() / "thumbs"))
        CHECK(entry.path().extension() == ".jpg");  // no partial file left
    CHECK_FALSE(std::filesystem::exists(dir.path() / "thumbs" / "1.jpg"));
}
