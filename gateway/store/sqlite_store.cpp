// SQLite in WAL mode: one writer thread that batches queued write units into one commit (group
// commit, a savepoint per unit), and a few reader threads with their own connections.
#include "gateway/core/metrics.hpp"
#include "gateway/store/migrations.hpp"
#include "gateway/store/sqlite_db.hpp"
#include "gateway/store/sqlite_tx.hpp"
#include "gateway/store/store.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include <pthread.h>

namespace mg::store {
namespace {

using sqlite::Db;
using sqlite::SqliteTx;
using sqlite::Use;

struct WriteItem {
  Store::WriteFn fn;
  Store::Done done;
  std::function<void(Db&)> raw;  // runs alone, outside any batch (migrations)
};

struct ReadItem {
  std::function<void(Db&)> fn;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, StoreOptions options)
      : path_(std::move(path)), options_(std::move(options)) {}

  ~SqliteStore() override { close(); }

  Result<void> open() {
    try {
      std::filesystem::path p(path_);
      if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
      writer_db_ = std::make_unique<Db>(path_, false);
      writer_db_->exec("PRAGMA journal_mode = WAL");
      writer_db_->exec(options_.sync == "full" ? "PRAGMA synchronous = FULL"
                                               : "PRAGMA synchronous = NORMAL");
      writer_db_->exec("PRAGMA foreign_keys = ON");
      writer_db_->exec("PRAGMA temp_store = MEMORY");
      writer_db_->exec("PRAGMA cache_size = -16000");
      // Checkpoints run on their own thread and connection (below), so the writer never waits
      // for a checkpoint's fsync; the WAL hook tells that thread when the log has grown.
      sqlite3_wal_hook(writer_db_->handle(), &SqliteStore::on_wal_commit, this);
      writer_db_->exec("PRAGMA journal_size_limit = 67108864");
      writer_db_->exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
          "name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
      checkpoint_db_ = std::make_unique<Db>(path_, false);
      // A connection learns the journal mode by reading; until then a checkpoint does nothing.
      checkpoint_db_->exec("PRAGMA journal_mode = WAL");
      int readers = options_.readers < 1 ? 1 : options_.readers;
      for (int i = 0; i < readers; ++i) {
        auto db = std::make_unique<Db>(path_, true);
        db->exec("PRAGMA cache_size = -8000");
        reader_dbs_.push_back(std::move(db));
      }
    } catch (const std::exception& e) {
      return make_error(errc::unavailable, "storage sqlite:" + path_ + ": " + e.what());
    } catch (...) {
      return make_error(errc::unavailable, "storage sqlite:" + path_ + ": cannot open");
    }
    checkpointer_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "mg-store-ckpt");
      checkpoint_loop();
    });
    writer_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "mg-store-write");
      writer_loop();
    });
    for (auto& db : reader_dbs_) {
      readers_.emplace_back([this, raw = db.get()] {
        pthread_setname_np(pthread_self(), "mg-store-read");
        reader_loop(*raw);
      });
    }
    return {};
  }

  void write(WriteFn fn, Done done) override {
    {
      std::lock_guard lock(write_mutex_);
      if (!closed_) {
        write_queue_.push_back({std::move(fn), std::move(done), {}});
        done = nullptr;
      }
    }
    if (done) {
      done(closed_error());
      return;
    }
    write_cv_.notify_one();
  }

  void read(ReadFn fn, Done done) override {
    auto item = [fn = std::move(fn), done](Db& db) {
      std::exception_ptr error;
      try {
        SqliteTx tx(db);
        Use(db.prepare("BEGIN"))->run();
        try {
          fn(tx);
        } catch (...) {
          error = std::current_exception();
        }
        Use(db.prepare("COMMIT"))->run();
      } catch (...) {
        if (!error) error = std::current_exception();
        try {
          db.exec("ROLLBACK");
        } catch (...) {
        }
      }
      if (done) done(error);
    };
    // Checked and queued under one lock: a unit queued before close() is run by the readers,
    // one refused after it hears so; none is stranded in between.
    {
      std::lock_guard lock(read_mutex_);
      if (!closed_reads_) {
        read_queue_.push_back({std::move(item)});
        done = nullptr;
      }
    }
    if (done) {
      done(closed_error());
      return;
    }
    read_cv_.notify_one();
  }

  Result<int> migrate() override {
    std::promise<Result<int>> promise;
    auto future = promise.get_future();
    bool queued = run_raw([&](Db& db) {
      try {
        for (const auto& m : sqlite::migrations()) {
          Use check(db.prepare("SELECT 1 FROM schema_migrations WHERE version = ?"));
          check->bind(1, m.version);
          bool applied = check->step();
          check->reset();
          if (applied) continue;
          db.exec("BEGIN IMMEDIATE");
          try {
            std::string sql(m.sql);
            db.exec(sql.c_str());
            Use ins(db.prepare(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, "
                "CAST(strftime('%s','now') AS INTEGER) * 1000)"));
            ins->bind(1, m.version).bind(2, m.name);
            ins->run();
            db.exec("COMMIT");
          } catch (...) {
            db.exec("ROLLBACK");
            throw;
          }
        }
        promise.set_value(current_version(db));
      } catch (const std::exception& e) {
        promise.set_value(
            make_error(errc::unavailable, std::string("migration failed: ") + e.what()));
      }
    });
    if (!queued) return make_error(errc::unavailable, "storage sqlite:" + path_ + " is closed");
    return future.get();
  }

  int schema_version() override {
    std::promise<int> promise;
    auto future = promise.get_future();
    if (!run_raw([&](Db& db) { promise.set_value(current_version(db)); })) return 0;
    return future.get();
  }

  int latest_schema_version() const override {
    auto all = sqlite::migrations();
    return all.empty() ? 0 : all.back().version;
  }

  bool ping() override {
    auto promise = std::make_shared<std::promise<bool>>();
    auto future = promise->get_future();
    read([](ReadTx&) {}, [promise](std::exception_ptr e) { promise->set_value(!e); });
    if (future.wait_for(std::chrono::seconds(2)) != std::future_status::ready) return false;
    return future.get();
  }

  Result<void> backup(const std::string& target) override {
    auto promise = std::make_shared<std::promise<Result<void>>>();
    auto future = promise->get_future();
    {
      std::lock_guard lock(read_mutex_);
      if (closed_reads_) {
        return make_error(errc::unavailable, "backup to " + target + ": the store is closed");
      }
      read_queue_.push_back({[promise, target](Db& db) {
        sqlite3* dest = nullptr;
        int rc = sqlite3_open(target.c_str(), &dest);
        if (rc == SQLITE_OK) {
          sqlite3_backup* b = sqlite3_backup_init(dest, "main", db.handle(), "main");
          if (b) {
            rc = sqlite3_backup_step(b, -1);
            sqlite3_backup_finish(b);
            rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
          } else {
            rc = sqlite3_errcode(dest);
          }
        }
        std::string msg = dest ? sqlite3_errmsg(dest) : sqlite3_errstr(rc);
        sqlite3_close(dest);
        if (rc == SQLITE_OK) {
          promise->set_value({});
        } else {
          promise->set_value(make_error(errc::unavailable, "backup to " + target + ": " + msg));
        }
      }});
    }
    read_cv_.notify_one();
    return future.get();
  }

  void close() override {
    {
      std::lock_guard lock(write_mutex_);
      if (closed_) return;
      closed_ = true;
    }
    write_cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    {
      std::lock_guard lock(read_mutex_);
      closed_reads_ = true;
    }
    read_cv_.notify_all();
    for (auto& t : readers_)
      if (t.joinable()) t.join();
    readers_.clear();
    reader_dbs_.clear();
    {
      std::lock_guard lock(checkpoint_mutex_);
      checkpoint_stop_ = true;
    }
    checkpoint_cv_.notify_all();
    if (checkpointer_.joinable()) checkpointer_.join();
    checkpoint_db_.reset();
    if (writer_db_) {
      try {
        // Fold the WAL back so the file is self-contained after a clean stop.
        writer_db_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
      } catch (...) {
      }
    }
    writer_db_.reset();
  }

 private:
  // Called by SQLite on the writer thread after each commit, with the WAL's size in pages.
  static int on_wal_commit(void* self, sqlite3*, const char*, int pages) {
    auto* store = static_cast<SqliteStore*>(self);
    if (pages >= kCheckpointPages) {
      {
        std::lock_guard lock(store->checkpoint_mutex_);
        store->checkpoint_due_ = true;
      }
      store->checkpoint_cv_.notify_one();
    }
    return SQLITE_OK;
  }

  void checkpoint_loop() {
    for (;;) {
      {
        std::unique_lock lock(checkpoint_mutex_);
        checkpoint_cv_.wait_for(lock, std::chrono::seconds(1),
                                [&] { return checkpoint_due_ || checkpoint_stop_; });
        if (checkpoint_stop_) return;
        checkpoint_due_ = false;
      }
      // PASSIVE: copies what it can without blocking the writer or the readers.
      int log = 0, done = 0;
      int rc = sqlite3_wal_checkpoint_v2(checkpoint_db_->handle(), nullptr,
                                         SQLITE_CHECKPOINT_PASSIVE, &log, &done);
      if (rc == SQLITE_OK) {
        metrics::counter_add("merchgate_store_checkpoints_total", {});
        metrics::gauge_set("merchgate_store_wal_pages", {}, log);
      }
      // Let the log gather some pages between checkpoints: fewer, larger copies.
      std::unique_lock lock(checkpoint_mutex_);
      checkpoint_cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return checkpoint_stop_; });
    }
  }

  static int current_version(Db& db) {
    Use s(db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    return s->step() ? static_cast<int>(s->int64(0)) : 0;
  }

  // False when the store is closed: the writer thread is gone and would never run `fn`.
  bool run_raw(std::function<void(Db&)> fn) {
    {
      std::lock_guard lock(write_mutex_);
      if (closed_) return false;
      write_queue_.push_back({{}, {}, std::move(fn)});
    }
    write_cv_.notify_one();
    return true;
  }

  // A storage failure, not a bug: the async wrappers turn it into errc::unavailable.
  static std::exception_ptr closed_error() {
    return std::make_exception_ptr(sqlite::Error(SQLITE_MISUSE, "store is closed"));
  }

  void writer_loop() {
    for (;;) {
      std::vector<WriteItem> batch;
      {
        std::unique_lock lock(write_mutex_);
        write_cv_.wait(lock, [&] { return !write_queue_.empty() || closed_; });
        if (write_queue_.empty()) return;  // closed and drained
        if (write_queue_.front().raw) {
          batch.push_back(std::move(write_queue_.front()));
          write_queue_.pop_front();
        } else {
          while (!write_queue_.empty() && !write_queue_.front().raw &&
                 static_cast<int>(batch.size()) < options_.max_batch) {
            batch.push_back(std::move(write_queue_.front()));
            write_queue_.pop_front();
          }
        }
      }
      if (batch.front().raw) {
        batch.front().raw(*writer_db_);
        continue;
      }
      run_batch(batch);
    }
  }

  // One commit for the whole batch. The common path runs the units back to back with no
  // savepoints (a savepoint makes SQLite copy every page a unit touches into a statement
  // journal). If any unit declines or throws, the batch is rolled back and run once more with a
  // savepoint per unit, so only that unit's changes are dropped. Units are therefore written to
  // be safe to run twice: they read their inputs from the transaction and overwrite their
  // outputs.
  void run_batch(std::vector<WriteItem>& batch) {
    auto start = std::chrono::steady_clock::now();
    std::vector<std::exception_ptr> errors(batch.size());
    if (!run_units(batch, errors, false)) {
      metrics::counter_add("merchgate_store_batch_reruns_total", {});
      std::fill(errors.begin(), errors.end(), nullptr);
      run_units(batch, errors, true);
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    metrics::histogram_observe("merchgate_store_commit_seconds", {}, seconds);
    metrics::counter_add("merchgate_store_write_units_total", {},
                         static_cast<double>(batch.size()));
    metrics::counter_add("merchgate_store_commits_total", {});
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].done) batch[i].done(errors[i]);
    }
  }

  // Runs the batch in one transaction. Without savepoints, returns false (having rolled back)
  // as soon as a unit declines; with them, drops only that unit. A failed commit fails them all.
  bool run_units(std::vector<WriteItem>& batch, std::vector<std::exception_ptr>& errors,
                 bool savepoints) {
    Db& db = *writer_db_;
    try {
      Use(db.prepare("BEGIN IMMEDIATE"))->run();
      SqliteTx tx(db);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (savepoints) Use(db.prepare("SAVEPOINT unit"))->run();
        bool keep = false;
        try {
          keep = batch[i].fn(tx);
        } catch (...) {
          errors[i] = std::current_exception();
        }
        if (!savepoints && !keep) {
          db.exec("ROLLBACK");
          return false;
        }
        if (savepoints) {
          if (!keep) Use(db.prepare("ROLLBACK TO unit"))->run();
          Use(db.prepare("RELEASE unit"))->run();
        }
      }
      Use(db.prepare("COMMIT"))->run();
    } catch (...) {
      auto error = std::current_exception();
      try {
        db.exec("ROLLBACK");
      } catch (...) {
      }
      for (auto& e : errors) e = error;
    }
    return true;
  }

  void reader_loop(Db& db) {
    for (;;) {
      ReadItem item;
      {
        std::unique_lock lock(read_mutex_);
        read_cv_.wait(lock, [&] { return !read_queue_.empty() || closed_reads_; });
        if (read_queue_.empty()) return;
        item = std::move(read_queue_.front());
        read_queue_.pop_front();
      }
      item.fn(db);
    }
  }

  std::string path_;
  StoreOptions options_;
  static constexpr int kCheckpointPages = 1000;  // SQLite's default autocheckpoint threshold

  std::unique_ptr<Db> writer_db_;
  std::unique_ptr<Db> checkpoint_db_;
  std::thread checkpointer_;
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_due_ = false;
  bool checkpoint_stop_ = false;
  std::vector<std::unique_ptr<Db>> reader_dbs_;
  std::thread writer_;
  std::vector<std::thread> readers_;

  std::mutex write_mutex_;
  std::condition_variable write_cv_;
  std::deque<WriteItem> write_queue_;
  bool closed_ = false;

  std::mutex read_mutex_;
  std::condition_variable read_cv_;
  std::deque<ReadItem> read_queue_;
  bool closed_reads_ = false;
};

}  // namespace

Result<std::unique_ptr<Store>> open_store(const StoreOptions& options) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (!options.url.starts_with(kSqlite) || options.url.size() == kSqlite.size()) {
    return make_error(errc::invalid_field,
                      "storage URL '" + options.url +
                          "' is not supported: use sqlite:PATH (postgresql:// is planned)",
                      "storage.url");
  }
  if (options.sync != "normal" && options.sync != "full") {
    return make_error(errc::invalid_field, "storage.sync must be 'normal' or 'full'",
                      "storage.sync");
  }
  auto store = std::make_unique<SqliteStore>(options.url.substr(kSqlite.size()), options);
  if (auto r = store->open(); !r) return r.error();
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace mg::store
