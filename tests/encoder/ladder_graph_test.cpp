#include <catch2/catch.hpp>

#include "encoder/ladder_graph.hpp"

using namespace onair;
using encoder::GraphRung;
using encoder::GraphSource;
using encoder::ladder_filter_description;

TEST_CASE("a 16:9 ladder from a 16:9 source is one fps filter and a cascade of scalers") {
    // Bicubic from the source (as the CLI), lanczos from a rung (no compounded blur).
    GraphSource source{1920, 1080, {1, 1}, false};
    std::vector<GraphRung> rungs{{1280, 720, {30, 1}}, {854, 480, {30, 1}}, {640, 360, {30, 1}}};
    CHECK(ladder_filter_description(source, rungs) ==
          "[in]fps=fps=30/1[b0];"
          "[b0]scale=1280:720:flags=bicubic,setsar=1,format=yuv420p,split=2[out0][r0_1];"
          "[r0_1]scale=854:480:flags=lanczos,setsar=1,format=yuv420p,split=2[out1][r1_1];"
          "[r1_1]scale=640:360:flags=lanczos,setsar=1,format=yuv420p[out2]");
}

TEST_CASE("rungs listed small first still cascade from the largest, outputs keep ladder order") {
    GraphSource source{1280, 720, {1, 1}, false};
    std::vector<GraphRung> rungs{{640, 360, {25, 1}}, {1280, 720, {25, 1}}};
    CHECK(ladder_filter_description(source, rungs) ==
          "[in]fps=fps=25/1[b0];"
          "[b0]scale=1280:720:flags=bicubic,setsar=1,format=yuv420p,split=2[out1][r1_1];"
          "[r1_1]scale=640:360:flags=lanczos,setsar=1,format=yuv420p[out0]");
}

TEST_CASE("an interlaced source is deinterlaced once, before everything") {
    GraphSource source{1920, 1080, {1, 1}, true};
    std::vector<GraphRung> rungs{{640, 360, {25, 1}}};
    CHECK(ladder_filter_description(source, rungs) ==
          "[in]yadif=mode=send_frame:deint=interlaced,fps=fps=25/1[b0];"
          "[b0]scale=640:360:flags=bicubic,setsar=1,format=yuv420p[out0]");
}

TEST_CASE("a 4:3 source in a 16:9 rung is pillarboxed, keeping its display aspect") {
    GraphSource source{720, 576, {16, 15}, false};  // PAL 4:3
    std::vector<GraphRung> rungs{{1280, 720, {25, 1}}};
    CHECK(ladder_filter_description(source, rungs) ==
          "[in]fps=fps=25/1[b0];"
          "[b0]scale=960:720:flags=bicubic,pad=1280:720:(ow-iw)/2:(oh-ih)/"
          "2,setsar=1,format=yuv420p[out0]");
}

TEST_CASE("anamorphic 16:9 (1440x1080, SAR 4:3) fills a 16:9 rung without bars") {
    GraphSource source{1440, 1080, {4, 3}, false};
    std::vector<GraphRung> rungs{{1280, 720, {25, 1}}};
    CHECK(ladder_filter_description(source, rungs) ==
          "[in]fps=fps=25/1[b0];[b0]scale=1280:720:flags=bicubic,setsar=1,format=yuv420p[out0]");
}

TEST_CASE("a 21:9 source in a 16:9 rung is letterboxed") {
    GraphSource source{2560, 1080, {1, 1}, false};
    std::vector<GraphRung> rungs{{1280, 720, {25, 1}}};
    CHECK(ladder_filter_description(source, rungs) ==
          "[in]fps=fps=25/1[b0];"
          "[b0]scale=1280:540:flags=bicubic,pad=1280:720:(ow-iw)/2:(oh-ih)/"
          "2,setsar=1,format=yuv420p[out0]");
}

TEST_CASE("rungs with their own frame rates get their own fps filter and no cascade") {
    GraphSource source{1920, 1080, {1, 1}, false};
    std::vector<GraphRung> rungs{{1280, 720, {50, 1}}, {640, 360, {25, 1}}};
    CHECK(ladder_filter_description(source, rungs) ==
          "[in]null,split=2[b0][b1];"
          "[b0]fps=fps=50/1,scale=1280:720:flags=bicubic,setsar=1,format=yuv420p[out0];"
          "[b1]fps=fps=25/1,scale=640:360:flags=bicubic,setsar=1,format=yuv420p[out1]");
}

TEST_CASE("the analysis branch takes the smallest rung as scaled, before its bars") {
    GraphSource source{720, 576, {16, 15}, false};  // PAL 4:3: pillarboxed in 16:9 rungs
    std::vector<GraphRung> rungs{{640, 360, {25, 1}}, {1280, 720, {25, 1}}};
    CHECK(ladder_filter_description(source, rungs, "blackdetect=d=0") ==
          "[in]fps=fps=25/1,split=2[b0][b1];"
          "[b0]scale=960:720:flags=bicubic,pad=1280:720:(ow-iw)/2:(oh-ih)/"
          "2,setsar=1,format=yuv420p[out1];"
          "[b1]scale=480:360:flags=bicubic,split=2[s0][a];"
          "[a]format=yuv420p,blackdetect=d=0[analysis];"
          "[s0]pad=640:360:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[out0]");
}

TEST_CASE("the analysis branch hangs off the end of a cascade") {
    GraphSource source{1920, 1080, {1, 1}, false};
    std::vector<GraphRung> rungs{{1280, 720, {30, 1}}, {640, 360, {30, 1}}};
    CHECK(ladder_filter_description(source, rungs, "freezedetect=n=-60dB:d=0") ==
          "[in]fps=fps=30/1[b0];"
          "[b0]scale=1280:720:flags=bicubic,setsar=1,format=yuv420p,split=2[out0][r0_1];"
          "[r0_1]scale=640:360:flags=lanczos,split=2[s1][a];"
          "[a]format=yuv420p,freezedetect=n=-60dB:d=0[analysis];"
          "[s1]setsar=1,format=yuv420p[out1]");
}
