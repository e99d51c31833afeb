#include <catch2/catch.hpp>

#include <vector>

#include "media/h264.hpp"

using namespace onair::media;

TEST_CASE("the codec string comes from the SPS's profile, constraints and level") {
    // AUD, then SPS (High, level 3.1), PPS, IDR slice: as x264 writes an IDR.
    std::vector<uint8_t> access_unit = {0, 0, 0, 1,    0x09, 0xf0,                    //
                                        0, 0, 0, 1,    0x67, 0x64, 0x00, 0x1f, 0xac,  //
                                        0, 0, 0, 1,    0x68, 0xeb, 0xe3,              //
                                        0, 0, 1, 0x65, 0x88, 0x84};
    CHECK(avc_codec_string(access_unit) == "avc1.64001f");
    std::vector<uint8_t> main_30 = {0, 0, 1, 0x27, 0x4d, 0x40, 0x1e, 0x00};
    CHECK(avc_codec_string(main_30) == "avc1.4d401e");
}

TEST_CASE("no SPS, no codec string") {
    std::vector<uint8_t> p_slice = {0, 0, 0, 1, 0x41, 0x9a, 0x00};
    CHECK_FALSE(avc_codec_string(p_slice));
    std::vector<uint8_t> truncated = {0, 0, 1, 0x67, 0x64};
    CHECK_FALSE(avc_codec_string(truncated));
    CHECK_FALSE(avc_codec_string({}));
}

// An IDR access unit as x264 writes it: AUD, SPS (id 0), PPS (id 0), IDR slice.
const std::vector<uint8_t> kIdr = {0, 0, 0, 1,    0x09, 0xf0,                    //
                                   0, 0, 0, 1,    0x67, 0x64, 0x00, 0x1f, 0xac,  //
                                   0, 0, 0, 1,    0x68, 0xeb, 0xe3,              //
                                   0, 0, 1, 0x65, 0x88, 0x84};

TEST_CASE("NAL units are found after 3- and 4-byte start codes, without the next one's zero") {
    std::vector<std::pair<int, size_t>> seen;
    for_each_nal(kIdr, [&](int type, std::span<const uint8_t> nal) {
        seen.push_back({type, nal.size()});
    });
    CHECK(seen == std::vector<std::pair<int, size_t>>{{9, 2}, {7, 5}, {8, 3}, {5, 3}});
    int calls = 0;
    for_each_nal(std::vector<uint8_t>{0x65, 0x88}, [&](int, auto) { ++calls; });
    CHECK(calls == 0);  // no start code, no NAL unit
}

TEST_CASE("an access unit is an IDR when its first slice is one") {
    CHECK(is_idr(kIdr));
    std::vector<uint8_t> p_then_idr = {0, 0, 1, 0x41, 0x9a, 0, 0, 1, 0x65, 0x88};
    CHECK_FALSE(is_idr(p_then_idr));
    std::vector<uint8_t> sps_only = {0, 0, 1, 0x67, 0x64, 0x00, 0x1f};
    CHECK_FALSE(is_idr(sps_only));
    CHECK_FALSE(is_idr({}));
}

TEST_CASE("the parameter sets of an access unit, each after a 4-byte start code") {
    std::vector<uint8_t> expected = {0, 0, 0, 1, 0x67, 0x64, 0x00, 0x1f, 0xac,  //
                                     0, 0, 0, 1, 0x68, 0xeb, 0xe3};
    CHECK(parameter_sets(kIdr) == expected);
    std::vector<uint8_t> p_slice = {0, 0, 0, 1, 0x41, 0x9a, 0x00};
    CHECK(parameter_sets(p_slice).empty());
}

TEST_CASE("parameter set ids are read from the SPS after its level and from the PPS first") {
    // ue(v) 0 is the bit 1, 3 is 00100: SPS id 0 and PPS id 0 in x264's own sets,
    // SPS id 3 (0x64 0x00 0x1f then 00100...) and PPS id 3 (0x68 then 00100...).
    CHECK(parameter_set_ids(kIdr) == std::vector<int>{0, 0});
    std::vector<uint8_t> id_3 = {0, 0, 0, 1, 0x67, 0x64, 0x00, 0x1f, 0x20,  //
                                 0, 0, 0, 1, 0x68, 0x20};
    CHECK(parameter_set_ids(id_3) == std::vector<int>{3, 3});
}
