#pragma once
// The sandbox partners' own database: a separate SQLite file per adapter instance, as a real
// processor or print shop keeps its own books. It is what makes the sandbox honest under crashes
// (a retried call with the same idempotency key finds the payment made before) and countable in
// tests (exactly one payment per checkout). Calls run on the ledger's own thread.
#include "gateway/store/sqlite_db.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <type_traits>

namespace mg::adapters::sandbox {

class Ledger {
 public:
  // Opens (creating) the file and applies `schema` (idempotent CREATE ... IF NOT EXISTS).
  Ledger(const std::string& path, const char* schema);
  ~Ledger();

  const std::string& path() const noexcept { return path_; }

  // Runs `fn(db)` inside one transaction on the ledger thread; resumes the caller on its own
  // executor. An exception (an I/O error) reaches the caller.
  template <class Fn, class R = std::invoke_result_t<Fn, store::sqlite::Db&>>
  boost::asio::awaitable<R> run(Fn fn) {
    return boost::asio::co_spawn(
        pool_.get_executor(),
        [this, fn = std::move(fn)]() mutable -> boost::asio::awaitable<R> {
          co_return transact<R>(fn);
        },
        boost::asio::use_awaitable);
  }

  // The same, blocking: for tests and tools that inspect a ledger.
  template <class Fn>
  auto run_blocking(Fn fn) {
    using R = std::invoke_result_t<Fn, store::sqlite::Db&>;
    return transact<R>(fn);
  }

 private:
  template <class R, class Fn>
  R transact(Fn& fn) {
    std::lock_guard lock(mutex_);
    db_->exec("BEGIN IMMEDIATE");
    try {
      if constexpr (std::is_void_v<R>) {
        fn(*db_);
        db_->exec("COMMIT");
      } else {
        R r = fn(*db_);
        db_->exec("COMMIT");
        return r;
      }
    } catch (...) {
      db_->exec("ROLLBACK");
      throw;
    }
  }

  std::string path_;
  std::mutex mutex_;
  std::unique_ptr<store::sqlite::Db> db_;
  boost::asio::thread_pool pool_{1};
};

}  // namespace mg::adapters::sandbox
