// Quantities as people write them in channel files.
#include <catch2/catch.hpp>

#include "core/units.hpp"

using namespace onair::core;
using namespace std::chrono_literals;

TEST_CASE("durations with one unit", "[units]") {
    CHECK(parse_duration("6s") == Micros(6s));
    CHECK(parse_duration("500ms") == Micros(500ms));
    CHECK(parse_duration("2h") == Micros(2h));
    CHECK(parse_duration("3m") == Micros(3min));
    CHECK(parse_duration("3min") == Micros(3min));
    CHECK(parse_duration("250us") == Micros(250));
    CHECK(parse_duration("0.1s") == Micros(100ms));
    CHECK(parse_duration("1.5s") == Micros(1500ms));
    CHECK(parse_duration(" 6s ") == Micros(6s));
    CHECK(parse_duration("6 s") == Micros(6s));
}

TEST_CASE("a bare number is seconds", "[units]") {
    CHECK(parse_duration("6") == Micros(6s));
    CHECK(parse_duration("0") == Micros(0));
    CHECK(parse_duration("2.5") == Micros(2500ms));
}

TEST_CASE("durations with several units, largest first", "[units]") {
    CHECK(parse_duration("1h30m") == Micros(90min));
    CHECK(parse_duration("1h 30m") == Micros(90min));
    CHECK(parse_duration("1m30s") == Micros(90s));
    CHECK(parse_duration("2s500ms") == Micros(2500ms));
    CHECK_FALSE(parse_duration("30m1h"));  // out of order
    CHECK_FALSE(parse_duration("1s1s"));   // repeated
    CHECK_FALSE(parse_duration("1h30"));   // bare number after a unit
}

TEST_CASE("what is not a duration", "[units]") {
    for (auto text : {"", " ", "6x", "-3s", "s", "6ss", "1e3s", "six seconds", "1.2.3s", "6s!"}) {
        INFO("text: \"" << text << "\"");
        CHECK_FALSE(parse_duration(text));
    }
}

TEST_CASE("bitrates", "[units]") {
    CHECK(parse_bitrate("3000k") == 3'000'000);
    CHECK(parse_bitrate("3.5M") == 3'500'000);
    CHECK(parse_bitrate("128kbps") == 128'000);
    CHECK(parse_bitrate("2Mb/s") == 2'000'000);
    CHECK(parse_bitrate("800K") == 800'000);
    CHECK(parse_bitrate("1G") == 1'000'000'000);
    CHECK(parse_bitrate("3000") == 3000);  // bare: bits per second
    CHECK(parse_bitrate("0") == 0);
    CHECK(parse_bitrate(" 6M ") == 6'000'000);
}

TEST_CASE("what is not a bitrate", "[units]") {
    for (auto text : {"", "-3k", "k", "3x", "3kk", "fast", "1e6", "3 000k"}) {
        INFO("text: \"" << text << "\"");
        CHECK_FALSE(parse_bitrate(text));
    }
}

TEST_CASE("frame rates", "[units]") {
    CHECK(parse_frame_rate("30") == Rational{30, 1});
    CHECK(parse_frame_rate("25") == Rational{25, 1});
    CHECK(parse_frame_rate("29.97") == Rational{30000, 1001});
    CHECK(parse_frame_rate("23.976") == Rational{24000, 1001});
    CHECK(parse_frame_rate("59.94") == Rational{60000, 1001});
    CHECK(parse_frame_rate("30000/1001") == Rational{30000, 1001});
    // Lowest terms, so equal rates compare equal.
    CHECK(parse_frame_rate("60/2") == Rational{30, 1});
    CHECK(parse_frame_rate("12.5") == Rational{25, 2});
    CHECK(parse_frame_rate("50/1") == parse_frame_rate("50"));
}

TEST_CASE("what is not a frame rate", "[units]") {
    for (auto text : {"", "0", "-30", "30/0", "0/1", "/1001", "30000/", "fast", "30fps",
                      "99999999999", "1e3", "0.0000000001", "0000000000000.000000000000000002"}) {
        INFO("text: \"" << text << "\"");
        CHECK_FALSE(parse_frame_rate(text));
    }
}

TEST_CASE("formatting is exact and reads back", "[units]") {
    CHECK(format_duration(6s) == "6s");
    CHECK(format_duration(500ms) == "500ms");
    CHECK(format_duration(1500ms) == "1.5s");
    CHECK(format_duration(90min) == "1h30m");
    CHECK(format_duration(24h) == "24h");
    CHECK(format_duration(Micros(0)) == "0s");
    CHECK(format_duration(Micros(1500)) == "1500us");
    CHECK(format_duration(-2s) == "-2s");
    for (auto d : {Micros(6s), Micros(500ms), Micros(1500ms), Micros(90min), Micros(1500),
                   Micros(2'000'001), Micros(3723s)})
        CHECK(parse_duration(format_duration(d)) == d);

    CHECK(format_bitrate(3'000'000) == "3000k");
    CHECK(format_bitrate(12'000'000) == "12M");
    CHECK(format_bitrate(3'500'000) == "3500k");
    CHECK(format_bitrate(128'000) == "128k");
    CHECK(format_bitrate(16'000) == "16k");
    CHECK(format_bitrate(500) == "500");
    for (int64_t bps : {3'000'000, 3'500'000, 128'000, 1'234'567, 999})
        CHECK(parse_bitrate(format_bitrate(bps)) == bps);

    CHECK(format_frame_rate({30, 1}) == "30");
    CHECK(format_frame_rate({30000, 1001}) == "29.97");
    CHECK(format_frame_rate({25, 2}) == "12.5");
    CHECK(parse_frame_rate(format_frame_rate({30000, 1001})) == Rational{30000, 1001});
}

TEST_CASE("sizes as disks are sold, or binary", "[units]") {
    CHECK(parse_size("500M") == 500'000'000);
    CHECK(parse_size("50G") == 50'000'000'000);
    CHECK(parse_size("1.5T") == 1'500'000'000'000);
    CHECK(parse_size("20GiB") == int64_t(20) * 1024 * 1024 * 1024);
    CHECK(parse_size("4096") == 4096);
    CHECK(parse_size("10 GB") == 10'000'000'000);
    CHECK_FALSE(parse_size("lots"));
    CHECK_FALSE(parse_size("5 parsecs"));
    CHECK_FALSE(parse_size(""));
    CHECK(format_size(50'000'000'000) == "50G");
    CHECK(format_size(1'500'000'000'000) == "1.5T");
    CHECK(format_size(999) == "999B");
}

TEST_CASE("days are a duration unit", "[units]") {
    CHECK(parse_duration("2d") == std::chrono::hours(48));
    CHECK(parse_duration("1d12h") == std::chrono::hours(36));
}
