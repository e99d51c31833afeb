#include "origin/sqlite.hpp"

#include <fmt/format.h>

namespace onair::origin {
namespace {

std::unexpected<core::Error> sqlite_fail(sqlite3* db, std::string_view what, int rc) {
    return core::fail(fmt::format("{}: {}", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)),
                      rc);
}

}  // namespace

bool sqlite_disk_full(const core::Error& error) {
    return (error.code & 0xff) == SQLITE_FULL;  // the primary code of an extended one
}

SqliteStatement& SqliteStatement::bind(int index, int64_t value) {
    sqlite3_bind_int64(statement_.get(), index, value);
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::string_view value) {
    sqlite3_bind_text(statement_.get(), index, value.data(), int(value.size()), SQLITE_TRANSIENT);
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::nullopt_t) {
    sqlite3_bind_null(statement_.get(), index);
    return *this;
}

SqliteStatement& SqliteStatement::bind_optional(int index,
                                                const std::optional<std::string>& value) {
    return value ? bind(index, std::string_view(*value)) : bind(index, std::nullopt);
}

core::Result<bool> SqliteStatement::step() {
    int rc = sqlite3_step(statement_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqlite_fail(db_, sqlite3_sql(statement_.get()), rc);
}

core::Result<> SqliteStatement::run() {
    for (;;) {
        auto row = step();
        if (!row) return std::unexpected(row.error());
        if (!*row) break;
    }
    reset();
    return {};
}

void SqliteStatement::reset() {
    sqlite3_reset(statement_.get());
    sqlite3_clear_bindings(statement_.get());
}

int64_t SqliteStatement::integer(int column) const {
    return sqlite3_column_int64(statement_.get(), column);
}

std::string SqliteStatement::text(int column) const {
    const auto* p = sqlite3_column_text(statement_.get(), column);
    int n = sqlite3_column_bytes(statement_.get(), column);
    return p ? std::string(reinterpret_cast<const char*>(p), size_t(n)) : std::string();
}

std::optional<std::string> SqliteStatement::optional_text(int column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
}

bool SqliteStatement::is_null(int column) const {
    return sqlite3_column_type(statement_.get(), column) == SQLITE_NULL;
}

core::Result<SqliteDb> SqliteDb::open(const std::string& path) {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    SqliteDb db(path, raw);  // owns it even when opening failed
    if (rc != SQLITE_OK) {
        return sqlite_fail(raw, "open " + path, rc);
    }
    sqlite3_busy_timeout(raw, 5000);
    if (auto ok = db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                          "PRAGMA foreign_keys=ON;");
        !ok)
        return std::unexpected(ok.error());
    return db;
}

core::Result<> SqliteDb::exec(std::string_view sql) {
    char* message = nullptr;
    std::string text(sql);
    int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &message);
    if (rc == SQLITE_OK) return {};
    std::string why = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    return core::fail(fmt::format("{}: {}", path_, why), rc);
}

core::Result<SqliteStatement> SqliteDb::prepare(std::string_view sql) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db_.get(), sql.data(), int(sql.size()), &raw, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(raw);
        return sqlite_fail(db_.get(), fmt::format("prepare \"{}\"", sql), rc);
    }
    return SqliteStatement(db_.get(), raw);
}

int64_t SqliteDb::last_insert_rowid() const {
    return sqlite3_last_insert_rowid(db_.get());
}

int SqliteDb::changes() const {
    return sqlite3_changes(db_.get());
}

core::Result<SqliteTransaction> SqliteTransaction::begin(SqliteDb& db) {
    if (auto ok = db.exec("BEGIN IMMEDIATE"); !ok) return std::unexpected(ok.error());
    return SqliteTransaction(db);
}

core::Result<> SqliteTransaction::commit() {
    if (!db_) return core::fail("transaction already ended");
    auto ok = db_->exec("COMMIT");
    if (ok) db_ = nullptr;
    return ok;
}

SqliteTransaction::~SqliteTransaction() {
    if (db_) (void)db_->exec("ROLLBACK");
}

}  // namespace onair::origin
