#pragma once
// A thin RAII layer over one SQLite connection: prepared statements cached per connection,
// typed binds and reads, and errors as exceptions inside the store (turned into values at the
// Store boundary).
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mg::store::sqlite {

class Error : public std::runtime_error {
 public:
  Error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

class Statement;

class Db {
 public:
  Db(const std::string& path, bool read_only);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const char* sql);
  // A cached prepared statement for this SQL text (keyed by the literal's address).
  Statement& prepare(const char* sql);
  std::int64_t last_insert_rowid() const;
  int changes() const;
  sqlite3* handle() const noexcept { return db_; }
  [[noreturn]] void fail(int rc, std::string_view context) const;

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, Statement*> cache_;
};

// Reset on destruction of the Use guard; bind indexes start at 1.
class Statement {
 public:
  Statement(Db& db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement() { sqlite3_finalize(stmt_); }

  Statement& bind(int i, std::int64_t v);
  Statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Statement& bind(int i, bool v) { return bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  Statement& bind(int i, std::string_view v);  // TEXT, copied
  Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Statement& bind_blob(int i, std::string_view v);
  Statement& bind_null(int i);
  // NULL when empty.
  Statement& bind_text_or_null(int i, std::string_view v);

  bool step();  // true: a row is ready
  void run();   // steps to completion
  void reset();

  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const;
  std::string_view text_view(int col) const;  // valid until the next step/reset

 private:
  Db& db_;
  sqlite3_stmt* stmt_;
};

// Resets a cached statement when the scope ends, so it never holds a read lock.
class Use {
 public:
  explicit Use(Statement& s) : s_(s) {}
  ~Use() { s_.reset(); }
  Statement* operator->() { return &s_; }
  Statement& operator*() { return s_; }

 private:
  Statement& s_;
};

}  // namespace mg::store::sqlite
