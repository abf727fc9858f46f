#pragma once
// Helpers for the store's integration tests: a temporary directory, a migrated SQLite store in
// it, blocking write/read calls with bounded waits, and direct sqlite3 queries on the file.
#include "gateway/core/model.hpp"
#include "gateway/store/store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace mg {

// Lets gtest print project error codes by name.
inline void PrintTo(errc e, std::ostream* os) { *os << error_code_name(e); }

}  // namespace mg

namespace mg::testing {

// A directory under /tmp, removed with everything in it when the object goes.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "merchgate-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const noexcept { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

inline constexpr std::chrono::seconds kWait{10};

// Waits for `future` at most kWait; a hang becomes a test failure instead of a stuck process.
template <class T>
T get_bounded(std::future<T>& future, std::string_view what) {
  if (future.wait_for(kWait) != std::future_status::ready) {
    throw std::runtime_error("timed out waiting for " + std::string(what));
  }
  return future.get();
}

// Runs one write unit and returns what its `done` received (nullptr: committed or rolled back
// by returning false).
inline std::exception_ptr write_sync(store::Store& s, store::Store::WriteFn fn) {
  auto promise = std::make_shared<std::promise<std::exception_ptr>>();
  auto future = promise->get_future();
  s.write(std::move(fn), [promise](std::exception_ptr e) { promise->set_value(e); });
  return get_bounded(future, "a write unit");
}

inline std::exception_ptr read_sync(store::Store& s, store::Store::ReadFn fn) {
  auto promise = std::make_shared<std::promise<std::exception_ptr>>();
  auto future = promise->get_future();
  s.read(std::move(fn), [promise](std::exception_ptr e) { promise->set_value(e); });
  return get_bounded(future, "a read unit");
}

// A write unit that must commit; fails the test with the unit's exception otherwise.
inline void must_write(store::Store& s, std::function<void(store::WriteTx&)> fn) {
  auto e = write_sync(s, [fn = std::move(fn)](store::WriteTx& tx) {
    fn(tx);
    return true;
  });
  if (e) std::rethrow_exception(e);
}

// A read unit returning a value.
template <class Fn>
auto must_read(store::Store& s, Fn fn) {
  using R = std::invoke_result_t<Fn, store::ReadTx&>;
  auto out = std::make_shared<std::optional<R>>();
  auto e = read_sync(s, [out, fn = std::move(fn)](store::ReadTx& tx) { out->emplace(fn(tx)); });
  if (e) std::rethrow_exception(e);
  return std::move(**out);
}

inline std::string what(std::exception_ptr e) {
  if (!e) return "(no error)";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "(not a std::exception)";
  }
}

inline std::unique_ptr<store::Store> open_sqlite(const std::string& path, int max_batch = 256) {
  store::StoreOptions options;
  options.url = "sqlite:" + path;
  options.max_batch = max_batch;
  auto s = store::open_store(options);
  if (!s) throw std::runtime_error("open_store: " + s.error().message);
  return std::move(*s);
}

inline std::unique_ptr<store::Store> open_migrated(const std::string& path) {
  auto s = open_sqlite(path);
  auto v = s->migrate();
  if (!v) throw std::runtime_error("migrate: " + v.error().message);
  return s;
}

// Reads the file with its own sqlite3 connection, as an operator's tool would.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error("sqlite3_open " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // The first column of the first row as text ("" when there is no row).
  std::string text(const std::string& sql) const {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      throw std::runtime_error("prepare " + sql + ": " + sqlite3_errmsg(db_));
    }
    std::string out;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      const auto* p = sqlite3_column_text(stmt, 0);
      if (p) out = reinterpret_cast<const char*>(p);
    } else if (rc != SQLITE_DONE) {
      std::string msg = sqlite3_errmsg(db_);
      sqlite3_finalize(stmt);
      throw std::runtime_error("step " + sql + ": " + msg);
    }
    sqlite3_finalize(stmt);
    return out;
  }
  std::int64_t count(const std::string& sql) const { return std::stoll(text(sql)); }

  // The first column of every row, as text.
  std::vector<std::string> column(const std::string& sql) const {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      throw std::runtime_error("prepare " + sql + ": " + sqlite3_errmsg(db_));
    }
    std::vector<std::string> out;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      const auto* p = sqlite3_column_text(stmt, 0);
      out.emplace_back(p ? reinterpret_cast<const char*>(p) : "");
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) throw std::runtime_error("step " + sql + " failed");
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// A minimal event for a checkout.
inline core::Event make_event(std::string id, std::string type, std::string checkout_id,
                              core::Timestamp at) {
  core::Event e;
  e.id = std::move(id);
  e.type = std::move(type);
  e.checkout_id = std::move(checkout_id);
  e.created_at = at;
  e.object = boost::json::object{{"id", e.checkout_id}, {"object", "checkout"}};
  return e;
}

}  // namespace mg::testing
