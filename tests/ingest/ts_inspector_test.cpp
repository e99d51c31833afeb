#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "ingest/ts_inspector.hpp"

using onair::ingest::TsInspector;

namespace {

std::vector<uint8_t> ts_packet(int pid, int cc, bool payload = true, bool discontinuity = false) {
    std::vector<uint8_t> p(188, 0xff);
    p[0] = 0x47;
    p[1] = uint8_t((pid >> 8) & 0x1f);
    p[2] = uint8_t(pid & 0xff);
    int adaptation = payload ? 1 : 2;
    if (discontinuity) adaptation = 3;
    p[3] = uint8_t(adaptation << 4 | (cc & 0x0f));
    if (adaptation & 2) {
        p[4] = 1;                         // adaptation field length
        p[5] = discontinuity ? 0x80 : 0;  // discontinuity indicator
    }
    return p;
}

void append(std::vector<uint8_t>& out, const std::vector<uint8_t>& p) {
    out.insert(out.end(), p.begin(), p.end());
}

}  // namespace

TEST_CASE("a clean stream counts packets and no errors, in any chunking") {
    std::vector<uint8_t> stream;
    for (int i = 0; i < 50; ++i) {
        append(stream, ts_packet(0x100, i));
        append(stream, ts_packet(0x101, i));
    }
    for (size_t chunk : {size_t(1316), size_t(1000), size_t(7), size_t(188)}) {
        TsInspector inspector;
        for (size_t pos = 0; pos < stream.size(); pos += chunk)
            inspector.feed({stream.data() + pos, std::min(chunk, stream.size() - pos)});
        // The last packet waits for the next sync byte to confirm it.
        CHECK(inspector.counts().packets == 99);
        CHECK(inspector.counts().continuity_errors == 0);
        CHECK(inspector.counts().garbage_bytes == 0);
    }
}

TEST_CASE("continuity counter jumps are counted per PID") {
    TsInspector inspector;
    std::vector<uint8_t> stream;
    append(stream, ts_packet(0x100, 0));
    append(stream, ts_packet(0x100, 1));
    append(stream, ts_packet(0x100, 5));  // lost 2..4: one error
    append(stream, ts_packet(0x101, 9));  // first on its PID: fine
    append(stream, ts_packet(0x100, 6));
    append(stream, ts_packet(0x100, 6));         // one duplicate is allowed
    append(stream, ts_packet(0x100, 7, false));  // adaptation only: counter does not move
    append(stream, ts_packet(0x100, 7));
    append(stream, ts_packet(0x100, 8));
    append(stream, ts_packet(0x100, 15));             // wraps? no: a jump, one error
    append(stream, ts_packet(0x100, 0));              // 15 -> 0 wraps fine
    append(stream, ts_packet(0x100, 4, true, true));  // discontinuity flagged: not an error
    append(stream, ts_packet(0x1fff, 3));             // null packets are not checked
    append(stream, ts_packet(0x100, 5));
    inspector.feed(stream);
    CHECK(inspector.counts().continuity_errors == 2);
    CHECK(inspector.counts().garbage_bytes == 0);
}

TEST_CASE("bytes that are not MPEG-TS are counted and the stream found again") {
    TsInspector inspector;
    std::vector<uint8_t> stream;
    std::mt19937 random(7);
    for (int i = 0; i < 1000; ++i) stream.push_back(uint8_t(random() % 0x47));  // never a sync byte
    for (int i = 0; i < 20; ++i) append(stream, ts_packet(0x100, i));
    inspector.feed(stream);
    CHECK(inspector.counts().garbage_bytes == 1000);
    CHECK(inspector.counts().packets == 19);
    CHECK(inspector.counts().continuity_errors == 0);
}

TEST_CASE("pure noise is garbage, not a flood of fake packets") {
    TsInspector inspector;
    std::vector<uint8_t> noise(188 * 1000);
    std::mt19937 random(11);
    for (auto& b : noise) b = uint8_t(random());
    inspector.feed(noise);
    CHECK(inspector.counts().garbage_bytes > int64_t(noise.size()) * 95 / 100);
    CHECK(inspector.counts().packets < 50);
}
