#pragma once
// A thin RAII layer over SQLite for the origin's on-disk indexes (the DVR's
// segments, the clip catalog): a database opened in WAL mode, prepared
// statements with typed binds and columns, transactions. Errors come back as
// core::Result with SQLite's message. Not thread-safe by itself: each owner
// keeps its database to one thread or behind its own mutex.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace onair::origin {

// Whether `error` (from this file's classes) is SQLite's "database or disk is full".
bool sqlite_disk_full(const core::Error& error);

class SqliteStatement {
  public:
    // Binds are 1-based, as in SQL's ?1, ?2 ...
    SqliteStatement& bind(int index, int64_t value);
    SqliteStatement& bind(int index, std::string_view value);
    SqliteStatement& bind(int index, std::nullopt_t);
    SqliteStatement& bind_optional(int index, const std::optional<std::string>& value);
    // True with a row to read, false when done.
    [[nodiscard]] core::Result<bool> step();
    // Runs to completion (INSERT, UPDATE, DELETE).
    [[nodiscard]] core::Result<> run();
    void reset();  // for running again with new binds

    // Columns are 0-based.
    int64_t integer(int column) const;
    std::string text(int column) const;
    std::optional<std::string> optional_text(int column) const;
    bool is_null(int column) const;

  private:
    friend class SqliteDb;
    struct Finalize {
        void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
    };
    SqliteStatement(sqlite3* db, sqlite3_stmt* statement) : db_(db), statement_(statement) {}
    sqlite3* db_;
    std::unique_ptr<sqlite3_stmt, Finalize> statement_;
};

class SqliteDb {
  public:
    // Opens (creating) the file in WAL mode with synchronous=NORMAL, foreign
    // keys on and a busy timeout, so readers never block the writer.
    [[nodiscard]] static core::Result<SqliteDb> open(const std::string& path);
    [[nodiscard]] core::Result<> exec(std::string_view sql);
    [[nodiscard]] core::Result<SqliteStatement> prepare(std::string_view sql);
    int64_t last_insert_rowid() const;
    int changes() const;  // rows the last statement changed
    const std::string& path() const { return path_; }

  private:
    struct Close {
        void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
    };
    SqliteDb(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
    std::string path_;
    std::unique_ptr<sqlite3, Close> db_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back unless commit() succeeded.
class SqliteTransaction {
  public:
    [[nodiscard]] static core::Result<SqliteTransaction> begin(SqliteDb& db);
    [[nodiscard]] core::Result<> commit();
    ~SqliteTransaction();
    SqliteTransaction(SqliteTransaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
    SqliteTransaction& operator=(SqliteTransaction&&) = delete;

  private:
    explicit SqliteTransaction(SqliteDb& db) : db_(&db) {}
    SqliteDb* db_;
};

}  // namespace onair::origin
