#pragma once
// Helpers for the DVR's tests: a DVR in a temp folder on the tests' clock,
// and fake segments (real metadata, bytes that tell them apart) to record.
#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "fakes.hpp"
#include "origin/dvr.hpp"
#include "tests/support/temp_dir.hpp"

namespace onair::origin::testing {

inline DvrOptions dvr_options(const std::filesystem::path& folder, const TestClock& clock,
                              std::vector<std::string> renditions = {"720p", "480p"}) {
    DvrOptions o;
    o.folder = folder / "dvr";
    o.renditions = std::move(renditions);
    o.segment_length = 6 * kSecond;
    o.window_ms = 2 * 3600 * 1000;
    o.now_ms = clock.function();
    return o;
}

inline std::unique_ptr<Dvr> open_dvr(DvrOptions options) {
    auto dvr = Dvr::open(std::move(options));
    INFO((dvr ? std::string() : dvr.error().message));
    REQUIRE(dvr);
    return std::move(*dvr);
}

// Segment `sequence` of `rendition`, `size` bytes of a value derived from both.
inline std::shared_ptr<const core::Segment> recorded(std::string rendition, int64_t sequence,
                                                     std::size_t size = 1000) {
    FakeSegment f;
    f.fill = uint8_t(sequence * 7 + rendition.size());
    f.rendition = std::move(rendition);
    f.sequence = sequence;
    f.size = size;
    return std::make_shared<const core::Segment>(f.make());
}

inline void record_all(Dvr& dvr, std::string rendition, int64_t from, int64_t to,
                       std::size_t size = 1000) {
    for (int64_t s = from; s <= to; ++s) dvr.record(recorded(rendition, s, size));
}

// The media time at which segment `sequence` of the fakes starts.
inline int64_t start_of(int64_t sequence) {
    return kBaseUtcMs * 90 + sequence * 6 * kSecond;
}

inline std::vector<int64_t> sequences(const std::vector<DvrSegment>& segments) {
    std::vector<int64_t> out;
    for (const auto& s : segments) out.push_back(s.sequence);
    return out;
}

}  // namespace onair::origin::testing
