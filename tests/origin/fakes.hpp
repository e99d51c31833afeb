#pragma once
// Helpers for the origin's tests: fake segments (arbitrary bytes, real
// metadata), a store configured like a channel, and playlist line splitting.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/segment.hpp"
#include "origin/segment_store.hpp"

namespace onair::origin::testing {

inline constexpr int64_t kSecond = 90000;
// 2026-11-22T04:48:00.000Z as media time.
inline constexpr int64_t kBaseUtcMs = 1795322880000;

struct FakeSegment {
    std::string rendition = "720p";
    char pipeline = 'a';
    int64_t sequence = 0;
    int64_t duration = 6 * kSecond;
    std::size_t size = 1000;
    bool slate = false;
    int width = 1280, height = 720;
    core::Rational frame_rate{30, 1};
    std::string codecs = "avc1.64001f,mp4a.40.2";
    uint8_t fill = 0;  // byte value, to tell copies apart

    core::Segment make() const {
        core::Segment s;
        s.rendition = rendition;
        s.pipeline = pipeline;
        s.sequence = sequence;
        s.duration = duration;
        // Aligned like the packager: segment N starts at N * 6 s after the base.
        s.start = kBaseUtcMs * 90 + sequence * 6 * kSecond;
        s.frames = int(duration / 3000);
        s.slate = slate;
        s.width = width;
        s.height = height;
        s.frame_rate = frame_rate;
        s.codecs = codecs;
        s.bytes = std::make_shared<const core::Bytes>(size, fill);
        return s;
    }
};

// An ISO BMFF box of that type and total size (contents 0x01): what the
// ingest's CMAF check looks at.
inline std::string box(std::string_view type, std::size_t size) {
    std::string out(size, '\x01');
    for (int i = 0; i < 4; ++i) out[std::size_t(i)] = char((size >> (24 - 8 * i)) & 0xff);
    out.replace(4, 4, type);
    return out;
}

inline core::Segment segment(std::string rendition, int64_t sequence, char pipeline = 'a') {
    FakeSegment f;
    f.rendition = std::move(rendition);
    f.sequence = sequence;
    f.pipeline = pipeline;
    f.fill = uint8_t(pipeline);
    return f.make();
}

// The store's clock in tests: stands still until advanced.
class TestClock {
  public:
    void advance(int64_t ms) { *now_ += ms; }
    int64_t now() const { return *now_; }
    std::function<int64_t()> function() const {
        return [now = now_] { return now->load(); };
    }

  private:
    std::shared_ptr<std::atomic<int64_t>> now_ =
        std::make_shared<std::atomic<int64_t>>(kBaseUtcMs + 60000);
};

// A channel with pipelines A and B, failover defaults (late after 1 s), and
// a clock that stands still unless the test brings its own.
inline StoreOptions options(int window_segments = 5,
                            std::vector<std::string> renditions = {"720p", "480p"},
                            const TestClock& clock = TestClock()) {
    StoreOptions o;
    o.channel = "demo";
    o.renditions = std::move(renditions);
    o.segment_length = 6 * kSecond;
    o.window_segments = window_segments;
    o.now_ms = clock.function();
    return o;
}

inline std::vector<std::string> lines(std::string_view text) {
    std::vector<std::string> out;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// The segment URIs of a media playlist, in order.
inline std::vector<std::string> uris(std::string_view playlist) {
    std::vector<std::string> out;
    for (auto& line : lines(playlist))
        if (!line.empty() && line[0] != '#') out.push_back(line);
    return out;
}

inline std::string tag_value(std::string_view playlist, std::string_view tag) {
    for (auto& line : lines(playlist))
        if (line.starts_with(tag) && line.size() > tag.size() && line[tag.size()] == ':')
            return line.substr(tag.size() + 1);
    return {};
}

}  // namespace onair::origin::testing
