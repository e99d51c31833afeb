// The SQLite layer: a real database file, as the DVR index and the catalog use it.
#include <catch2/catch.hpp>

#include <filesystem>

#include "origin/sqlite.hpp"

using namespace onair::origin;

namespace {

struct TempFile {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("onair-sqlite-" + std::to_string(::getpid()) + ".db");
    ~TempFile() {
        for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
    }
};

}  // namespace

TEST_CASE("sqlite: rows written are read back, also after reopening", "[sqlite]") {
    TempFile file;
    {
        auto db = SqliteDb::open(file.path.string());
        REQUIRE(db);
        REQUIRE(db->exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT)"));
        auto insert = db->prepare("INSERT INTO t (name, note) VALUES (?1, ?2)");
        REQUIRE(insert);
        REQUIRE(insert->bind(1, "first").bind(2, std::nullopt).run());
        REQUIRE(insert->bind(1, std::string_view("second")).bind(2, "a note").run());
        CHECK(db->last_insert_rowid() == 2);
    }
    auto db = SqliteDb::open(file.path.string());
    REQUIRE(db);
    auto select = db->prepare("SELECT id, name, note FROM t ORDER BY id");
    REQUIRE(select);
    auto row = select->step();
    REQUIRE(row);
    REQUIRE(*row);
    CHECK(select->integer(0) == 1);
    CHECK(select->text(1) == "first");
    CHECK(select->is_null(2));
    CHECK_FALSE(select->optional_text(2));
    row = select->step();
    REQUIRE((row && *row));
    CHECK(select->optional_text(2) == "a note");
    row = select->step();
    REQUIRE(row);
    CHECK_FALSE(*row);
}

TEST_CASE("sqlite: a transaction not committed leaves nothing, errors say why", "[sqlite]") {
    TempFile file;
    auto db = SqliteDb::open(file.path.string());
    REQUIRE(db);
    REQUIRE(db->exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"));
    {
        auto tx = SqliteTransaction::begin(*db);
        REQUIRE(tx);
        REQUIRE(db->exec("INSERT INTO t (name) VALUES ('gone')"));
    }  // rolled back
    {
        auto tx = SqliteTransaction::begin(*db);
        REQUIRE(tx);
        REQUIRE(db->exec("INSERT INTO t (name) VALUES ('kept')"));
        REQUIRE(tx->commit());
    }
    auto count = db->prepare("SELECT count(*), min(name) FROM t");
    REQUIRE(count);
    REQUIRE(*count->step());
    CHECK(count->integer(0) == 1);
    CHECK(count->text(1) == "kept");

    auto duplicate = db->exec("INSERT INTO t (name) VALUES ('kept')");
    REQUIRE_FALSE(duplicate);
    CHECK_THAT(duplicate.error().message, Catch::Contains("UNIQUE"));
    auto bad = db->prepare("SELEKT 1");
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message, Catch::Contains("syntax error"));
    CHECK_FALSE(SqliteDb::open("/nonexistent/folder/x.db"));
}
