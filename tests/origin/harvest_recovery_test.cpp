// What a stop or a crash leaves in the clip store, and which interrupted
// jobs are cut again at the next start.
#include <catch2/catch.hpp>

#include <filesystem>

#include "origin/harvest_recovery.hpp"
#include "tests/support/temp_dir.hpp"

using namespace onair::origin;
namespace fs = std::filesystem;

namespace {
constexpr int64_t kTick = 90;  // per ms
constexpr int64_t kBaseMs = 1795322880000;

ClipRecord clip_of(int64_t start_ms, int64_t end_ms) {
    ClipRecord clip;
    clip.id = "goal";
    clip.start_ms = start_ms;
    clip.end_ms = end_ms;
    return clip;
}
}  // namespace

TEST_CASE("an interrupted job is cut again while the DVR holds its whole range") {
    const DvrWindow held{kBaseMs * kTick, (kBaseMs + 600'000) * kTick};
    const auto inside = clip_of(kBaseMs + 1000, kBaseMs + 61'000);
    CHECK_FALSE(why_not_resumable(inside, true, held));
    CHECK_FALSE(why_not_resumable(clip_of(kBaseMs, kBaseMs + 600'000), true, held));  // bounds

    CHECK(why_not_resumable(clip_of(kBaseMs - 1, kBaseMs + 1000), true, held) ==
          "interrupted by a stop, and the DVR no longer holds its range");
    CHECK(why_not_resumable(clip_of(kBaseMs + 1000, kBaseMs + 600'001), true, held) ==
          "interrupted by a stop, and the DVR no longer holds its range");
    CHECK(why_not_resumable(inside, true, std::nullopt) ==
          "interrupted by a stop, and the DVR no longer holds its range");
    CHECK(why_not_resumable(inside, false, held) ==
          "interrupted by a stop, and no DVR to cut it again from");
}

TEST_CASE("the sweep removes half-built and deleted assets, never a clip's") {
    onair::testing::TempDir store("onair-clip-store");
    const fs::path partial = partial_asset_folder(store.path(), "goal");
    const fs::path deleted = deleted_asset_folder(store.path(), "old", kBaseMs, 1);
    CHECK(partial.filename() == "goal.partial");
    CHECK(deleted.parent_path() == store.path());
    CHECK(deleted_asset_folder(store.path(), "old", kBaseMs, 2) != deleted);
    for (const auto& folder : {partial, deleted, store / "goal", store / "kept-2"}) {
        fs::create_directories(folder);
        store.write((folder.filename() / "index.m3u8").string(), "#EXTM3U\n");
    }
    sweep_clip_store(store.path());
    CHECK_FALSE(fs::exists(partial));
    CHECK_FALSE(fs::exists(deleted));
    CHECK(fs::exists(store / "goal" / "index.m3u8"));
    CHECK(fs::exists(store / "kept-2" / "index.m3u8"));
}
