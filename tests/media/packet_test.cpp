#include <catch2/catch.hpp>

#include "media/packet.hpp"

using namespace onair;

namespace {

core::PacketPtr packet_at(int64_t dts, int size = 4) {
    core::PacketPtr p(av_packet_alloc());
    REQUIRE(av_new_packet(p.get(), size) == 0);
    p->dts = dts;
    p->pts = dts + 3000;
    return p;
}

}  // namespace

TEST_CASE("a copied packet shares the data and keeps the timestamps and flags") {
    auto original = packet_at(9000);
    original->flags |= AV_PKT_FLAG_KEY;
    original->stream_index = 1;
    original->data[0] = 0x42;
    auto copy = media::copy_packet(*original);
    REQUIRE(copy);
    CHECK((*copy)->data == original->data);  // a new reference, not a copy of the bytes
    CHECK((*copy)->size == 4);
    CHECK((*copy)->pts == 12000);
    CHECK((*copy)->dts == 9000);
    CHECK((*copy)->flags & AV_PKT_FLAG_KEY);
    CHECK((*copy)->stream_index == 1);
    CHECK(media::bytes_of(**copy)[0] == 0x42);
}

TEST_CASE("video and audio are interleaved by decode time, video first on ties") {
    std::vector<core::PacketPtr> video, audio;
    for (int64_t dts : {0, 3600, 7200}) video.push_back(packet_at(dts));
    for (int64_t dts : {0, 1920, 3840, 5760, 9000}) audio.push_back(packet_at(dts));
    auto order = media::interleave_by_dts(video, audio);
    std::vector<AVPacket*> expected = {video[0].get(), audio[0].get(), audio[1].get(),
                                       video[1].get(), audio[2].get(), audio[3].get(),
                                       video[2].get(), audio[4].get()};
    CHECK(order == expected);
    CHECK(media::interleave_by_dts(video, {}).size() == 3);
    CHECK(media::interleave_by_dts({}, audio).size() == 5);
}
