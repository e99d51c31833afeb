#include <catch2/catch.hpp>

#include <vector>

#include "packager/codec_string.hpp"

using onair::packager::avc_codec_string;

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
