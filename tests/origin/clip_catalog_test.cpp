// The clip catalog on a real SQLite file: records written are read back,
// outcomes update, listings filter, order and page as the API promises, and
// everything survives reopening the file.
#include <catch2/catch.hpp>

#include <set>

#include "harvest_fakes.hpp"
#include "origin/clip_catalog.hpp"

using namespace onair::origin;
using namespace onair::origin::testing;

namespace {

ClipRecord clip(std::string id, int64_t start_ms, std::optional<std::string> event = {}) {
    ClipRecord r;
    r.id = std::move(id);
    r.channel = "demo";
    r.title = "Title of " + r.id;
    r.event = std::move(event);
    r.start_ms = start_ms;
    r.end_ms = start_ms + 30000;
    r.rendition = "360p";
    r.created_ms = kBaseMs;
    return r;
}

std::unique_ptr<SqliteClipCatalog> open(const TempFolder& dir) {
    auto catalog = SqliteClipCatalog::open(dir / "catalog.sqlite");
    REQUIRE(catalog);
    return std::move(*catalog);
}

std::vector<std::string> ids(const std::vector<ClipRecord>& clips) {
    std::vector<std::string> out;
    for (const auto& c : clips) out.push_back(c.id);
    return out;
}

// Every page of a listing, following next cursors.
std::vector<std::string> all_pages(const ClipCatalog& catalog, ClipQuery query, int* pages) {
    std::vector<std::string> out;
    *pages = 0;
    for (;;) {
        auto page = catalog.list(query);
        REQUIRE(page);
        ++*pages;
        for (auto& id : ids(page->clips)) out.push_back(id);
        if (!page->next) break;
        query.after = page->next;
        REQUIRE(*pages < 100);
    }
    return out;
}

}  // namespace

TEST_CASE("catalog: a record is read back as written, and ids are unique", "[catalog]") {
    TempFolder dir;
    auto catalog = open(dir);
    ClipRecord a = clip("goal-1", kBaseMs, "final");
    a.description = "the first goal";
    a.accuracy = ClipAccuracy::frame;
    REQUIRE(catalog->insert(a).value());
    auto got = catalog->get("goal-1");
    REQUIRE(got);
    REQUIRE(*got);
    CHECK(**got == a);

    ClipRecord again = clip("goal-1", kBaseMs + 1000);
    auto second = catalog->insert(again);
    REQUIRE(second);
    CHECK_FALSE(*second);
    CHECK((*catalog->get("goal-1"))->start_ms == kBaseMs);  // untouched

    CHECK_FALSE(catalog->get("nope").value().has_value());
}

TEST_CASE("catalog: outcomes update, unfinished lists in_progress, remove deletes", "[catalog]") {
    TempFolder dir;
    auto catalog = open(dir);
    REQUIRE(catalog->insert(clip("a", kBaseMs)).value());
    REQUIRE(catalog->insert(clip("b", kBaseMs + 1)).value());
    REQUIRE(catalog->insert(clip("c", kBaseMs + 2)).value());

    ClipRecord done = clip("a", kBaseMs);
    done.status = ClipStatus::succeeded;
    done.finished_ms = kBaseMs + 5000;
    done.duration_ms = 30000;
    done.master = "a/master.m3u8";
    done.mp4 = "a/clip.mp4";
    REQUIRE(catalog->update(done).value());
    ClipRecord failed = clip("b", kBaseMs + 1);
    failed.status = ClipStatus::failed;
    failed.message = "no clip media";
    failed.finished_ms = kBaseMs + 6000;
    REQUIRE(catalog->update(failed).value());
    CHECK_FALSE(catalog->update(clip("zzz", 0)).value());

    CHECK(**catalog->get("a") == done);
    CHECK((*catalog->get("b"))->message == "no clip media");
    auto unfinished = catalog->unfinished();
    REQUIRE(unfinished);
    CHECK(ids(*unfinished) == std::vector<std::string>{"c"});

    CHECK(catalog->remove("a").value());
    CHECK_FALSE(catalog->remove("a").value());
    CHECK_FALSE(catalog->get("a").value().has_value());
}

TEST_CASE(
    "catalog: 20 clips over 3 events list by event in time order, page by cursor, and "
    "survive reopening",
    "[catalog]") {
    TempFolder dir;
    const std::vector<std::string> events = {"final", "semi", "press"};
    std::map<std::string, std::vector<std::string>> expected;  // by event, in time order
    {
        auto catalog = open(dir);
        // Inserted out of time order; two clips share a start (ordered by id then).
        for (int i = 19; i >= 0; --i) {
            const std::string id = fmt::format("clip-{:02}", i);
            const int64_t start = kBaseMs + (i == 7 ? 6 : i) * 60000;
            REQUIRE(catalog->insert(clip(id, start, events[size_t(i) % 3])).value());
        }
    }
    for (int i = 0; i < 20; ++i)
        expected[events[size_t(i) % 3]].push_back(fmt::format("clip-{:02}", i));
    // clip-06 and clip-07 start together; 06 and 07 are in different events, so
    // only the full listing sees the tie.

    auto catalog = open(dir);  // reopened: everything is still there
    for (const auto& event : events) {
        ClipQuery q;
        q.event = event;
        q.limit = 2;
        int pages = 0;
        auto listed = all_pages(*catalog, q, &pages);
        CHECK(listed == expected[event]);
        CHECK(pages == int((expected[event].size() + 1) / 2));
    }

    ClipQuery all;
    all.limit = 6;
    int pages = 0;
    auto listed = all_pages(*catalog, all, &pages);
    REQUIRE(listed.size() == 20);
    CHECK(pages == 4);
    CHECK(std::set<std::string>(listed.begin(), listed.end()).size() == 20);  // no repeats
    CHECK(listed[6] == "clip-06");
    CHECK(listed[7] == "clip-07");

    ClipQuery window;
    window.since_ms = kBaseMs + 5 * 60000;
    window.until_ms = kBaseMs + 9 * 60000;
    auto page = catalog->list(window);
    REQUIRE(page);
    CHECK(ids(page->clips) == std::vector<std::string>{"clip-05", "clip-06", "clip-07", "clip-08"});
    CHECK_FALSE(page->next);

    ClipQuery other;
    other.channel = "elsewhere";
    CHECK(catalog->list(other).value().clips.empty());
}

TEST_CASE("catalog: the file is in WAL mode with a schema version, a newer one is refused",
          "[catalog]") {
    TempFolder dir;
    { auto catalog = open(dir); }
    {
        auto db = SqliteDb::open((dir / "catalog.sqlite").string());
        REQUIRE(db);
        auto mode = db->prepare("PRAGMA journal_mode");
        REQUIRE(mode);
        REQUIRE(mode->step().value());
        CHECK(mode->text(0) == "wal");
        auto version = db->prepare("PRAGMA user_version");
        REQUIRE(version);
        REQUIRE(version->step().value());
        CHECK(version->integer(0) == SqliteClipCatalog::kSchemaVersion);
        version->reset();
        REQUIRE(db->exec("PRAGMA user_version = 99"));
    }
    auto refused = SqliteClipCatalog::open(dir / "catalog.sqlite");
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("schema version 99"));
}

TEST_CASE("catalog: cursors round-trip and nonsense is refused", "[catalog]") {
    ClipCursor c{kBaseMs, "goal_1-x"};
    auto text = c.encode();
    CHECK(text.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(ClipCursor::decode(text) == c);
    CHECK_FALSE(ClipCursor::decode(""));
    CHECK_FALSE(ClipCursor::decode("zz"));
    CHECK_FALSE(ClipCursor::decode("abc"));
    CHECK_FALSE(ClipCursor::decode(ClipCursor{0, ""}.encode().substr(0, 2)));
}
