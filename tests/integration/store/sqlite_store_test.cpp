// The SQLite store's engine on real files: migrations, WAL, group commit with a savepoint per
// unit, snapshot reads, backup while online, close and reopen.
#include "gateway/core/metrics.hpp"
#include "tests/integration/store/store_harness.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

namespace mg::testing {
namespace {

using store::ReadTx;
using store::Store;
using store::WriteTx;

bool has_event(Store& s, const std::string& id) {
  return must_read(s, [id](ReadTx& tx) { return tx.event(id).has_value(); });
}

void append_event(WriteTx& tx, const std::string& id, const std::string& checkout = "chk_1",
                  core::Timestamp at = 1000) {
  tx.append_events({make_event(id, "test.event", checkout, at)});
}

// Runs `fn` on a thread of its own and says whether it returned within the bound (a call that
// hangs must fail the test, not stall it).
bool finishes_within(std::function<void()> fn, std::chrono::seconds limit = kWait) {
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  std::thread([fn = std::move(fn), done] {
    fn();
    done->set_value();
  }).detach();
  return future.wait_for(limit) == std::future_status::ready;
}

TEST(SqliteStore, MigrateIsIdempotentAndReachesTheLatestVersion) {
  TempDir dir;
  auto s = open_sqlite(dir.file("x.db"));
  int latest = s->latest_schema_version();
  ASSERT_GE(latest, 1);
  EXPECT_EQ(s->schema_version(), 0);

  auto first = s->migrate();
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(*first, latest);
  auto second = s->migrate();
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(*second, latest);
  EXPECT_EQ(s->schema_version(), latest);
  EXPECT_EQ(must_read(*s, [](ReadTx& tx) { return tx.schema_version(); }), latest);
  EXPECT_TRUE(s->ping());

  {
    RawDb raw(dir.file("x.db"));
    EXPECT_EQ(raw.count("SELECT COUNT(*) FROM schema_migrations"), latest);
    EXPECT_EQ(raw.count("SELECT MAX(version) FROM schema_migrations"), latest);
    for (const char* table : {"checkouts", "partner_refs", "events", "jobs", "inbound_webhooks",
                              "idempotency_keys", "partner_calls"}) {
      EXPECT_EQ(raw.count(std::string("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                                      "AND name = '") +
                          table + "'"),
                1)
          << table;
    }
  }
  s->close();

  auto reopened = open_sqlite(dir.file("x.db"));
  EXPECT_EQ(reopened->schema_version(), latest);
  auto third = reopened->migrate();
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_EQ(*third, latest);
  reopened->close();
  RawDb raw(dir.file("x.db"));
  EXPECT_EQ(raw.count("SELECT COUNT(*) FROM schema_migrations"), latest);
}

TEST(SqliteStore, RunsInWalMode) {
  TempDir dir;
  auto s = open_migrated(dir.file("x.db"));
  must_write(*s, [](WriteTx& tx) { append_event(tx, "evt_wal"); });
  RawDb raw(dir.file("x.db"));
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
  EXPECT_TRUE(std::filesystem::exists(dir.file("x.db-wal")));
}

TEST(SqliteStore, RejectsUnsupportedOptionsNamingTheKey) {
  TempDir dir;
  store::StoreOptions pg;
  pg.url = "postgresql://localhost/merchgate";
  auto r = store::open_store(pg);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().param, "storage.url");

  store::StoreOptions empty;
  empty.url = "sqlite:";
  EXPECT_FALSE(store::open_store(empty));

  store::StoreOptions sync;
  sync.url = "sqlite:" + dir.file("x.db");
  sync.sync = "sometimes";
  auto bad_sync = store::open_store(sync);
  ASSERT_FALSE(bad_sync);
  EXPECT_EQ(bad_sync.error().param, "storage.sync");

  // A regular file where a directory should be: a start-up error naming the URL.
  { std::ofstream(dir.file("plain")) << "not a directory"; }
  store::StoreOptions blocked;
  blocked.url = "sqlite:" + dir.file("plain") + "/x.db";
  auto unopenable = store::open_store(blocked);
  ASSERT_FALSE(unopenable);
  EXPECT_EQ(unopenable.error().code, errc::unavailable);
  EXPECT_NE(unopenable.error().message.find(blocked.url), std::string::npos)
      << unopenable.error().message;
}

TEST(SqliteStore, ThousandUnitsFromEightThreadsAllCommitInQueueOrder) {
  TempDir dir;
  auto s = open_migrated(dir.file("x.db"));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 125;
  std::mutex mutex;
  std::condition_variable cv;
  int finished = 0;
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kPerThread; ++k) {
        std::string id = "evt_" + std::to_string(t) + "_" + std::to_string(k);
        std::string checkout = "chk_" + std::to_string(t);
        s->write(
            [id, checkout, k](WriteTx& tx) {
              append_event(tx, id, checkout, k);
              return true;
            },
            [&](std::exception_ptr e) {
              if (e) ++failed;
              std::lock_guard lock(mutex);
              ++finished;
              cv.notify_all();
            });
      }
    });
  }
  for (auto& t : threads) t.join();
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, kWait, [&] { return finished == kThreads * kPerThread; }))
        << finished << " of " << kThreads * kPerThread << " units finished";
  }
  EXPECT_EQ(failed.load(), 0);

  RawDb raw(dir.file("x.db"));
  EXPECT_EQ(raw.count("SELECT COUNT(*) FROM events"), kThreads * kPerThread);
  EXPECT_EQ(raw.count("SELECT COUNT(DISTINCT id) FROM events"), kThreads * kPerThread);
  // Units queued by one thread commit in the order it queued them.
  for (int t = 0; t < kThreads; ++t) {
    auto ids = raw.column("SELECT id FROM events WHERE checkout_id = 'chk_" + std::to_string(t) +
                          "' ORDER BY seq");
    ASSERT_EQ(ids.size(), static_cast<std::size_t>(kPerThread));
    for (int k = 0; k < kPerThread; ++k) {
      ASSERT_EQ(ids[k], "evt_" + std::to_string(t) + "_" + std::to_string(k));
    }
  }
  auto page = must_read(*s, [](ReadTx& tx) {
    store::EventFilter f;
    f.checkout_id = "chk_5";
    f.page.limit = 100;
    return tx.events(f);
  });
  EXPECT_EQ(page.data.size(), 100u);
  EXPECT_TRUE(page.has_more);
}

// Units queued while the writer is busy form one batch: one commit, a savepoint each, and a
// unit that returns false, throws, or hits an SQL error is rolled back alone.
TEST(SqliteStore, AFailingUnitRollsBackAloneWhileItsBatchMatesCommit) {
  TempDir dir;
  auto s = open_migrated(dir.file("x.db"));
  double commits_before = metrics::value("merchgate_store_commits_total", {});
  double units_before = metrics::value("merchgate_store_write_units_total", {});
  double reruns_before = metrics::value("merchgate_store_batch_reruns_total", {});

  auto entered = std::make_shared<std::promise<void>>();
  auto entered_future = entered->get_future();
  auto release = std::make_shared<std::promise<void>>();
  std::shared_future<void> released = release->get_future().share();
  auto gate_done = std::make_shared<std::promise<std::exception_ptr>>();
  auto gate_future = gate_done->get_future();
  s->write(
      [entered, released](WriteTx& tx) {
        entered->set_value();
        released.wait_for(kWait);
        append_event(tx, "evt_gate");
        return true;
      },
      [gate_done](std::exception_ptr e) { gate_done->set_value(e); });
  get_bounded(entered_future, "the gate unit to start");

  struct Unit {
    std::string name;
    Store::WriteFn fn;
    std::shared_ptr<std::promise<std::exception_ptr>> done =
        std::make_shared<std::promise<std::exception_ptr>>();
  };
  auto kept_saw_first = std::make_shared<std::atomic<bool>>(false);
  auto kept_saw_false = std::make_shared<std::atomic<bool>>(true);
  std::vector<Unit> units;
  units.push_back({"kept_1", [](WriteTx& tx) {
                     append_event(tx, "evt_kept_1");
                     return true;
                   }});
  units.push_back({"returns_false", [](WriteTx& tx) {
                     append_event(tx, "evt_false");
                     return false;
                   }});
  units.push_back({"throws", [](WriteTx& tx) -> bool {
                     append_event(tx, "evt_throw");
                     throw std::runtime_error("unit failed on purpose");
                   }});
  units.push_back({"sql_error", [](WriteTx& tx) {
                     append_event(tx, "evt_sql_a");
                     append_event(tx, "evt_kept_1");  // duplicate id: UNIQUE constraint
                     return true;
                   }});
  units.push_back({"kept_2", [kept_saw_first, kept_saw_false](WriteTx& tx) {
                     // A batch-mate sees what earlier units of its batch kept, and nothing of
                     // what was rolled back.
                     kept_saw_first->store(tx.event("evt_kept_1").has_value());
                     kept_saw_false->store(tx.event("evt_false").has_value() ||
                                           tx.event("evt_throw").has_value() ||
                                           tx.event("evt_sql_a").has_value());
                     append_event(tx, "evt_kept_2");
                     return true;
                   }});
  std::vector<std::future<std::exception_ptr>> futures;
  for (auto& u : units) {
    futures.push_back(u.done->get_future());
    s->write(u.fn, [done = u.done](std::exception_ptr e) { done->set_value(e); });
  }
  release->set_value();

  EXPECT_EQ(get_bounded(gate_future, "the gate unit"), nullptr);
  std::vector<std::exception_ptr> errors;
  for (auto& f : futures) errors.push_back(get_bounded(f, "a batched unit"));
  EXPECT_EQ(errors[0], nullptr) << what(errors[0]);
  EXPECT_EQ(errors[1], nullptr) << "returning false is a rollback, not an error";
  ASSERT_NE(errors[2], nullptr);
  EXPECT_EQ(what(errors[2]), "unit failed on purpose");
  ASSERT_NE(errors[3], nullptr);
  EXPECT_NE(what(errors[3]).find("UNIQUE"), std::string::npos) << what(errors[3]);
  EXPECT_EQ(errors[4], nullptr) << what(errors[4]);

  EXPECT_TRUE(has_event(*s, "evt_gate"));
  EXPECT_TRUE(has_event(*s, "evt_kept_1"));
  EXPECT_TRUE(has_event(*s, "evt_kept_2"));
  EXPECT_FALSE(has_event(*s, "evt_false"));
  EXPECT_FALSE(has_event(*s, "evt_throw"));
  EXPECT_FALSE(has_event(*s, "evt_sql_a"));
  EXPECT_TRUE(kept_saw_first->load());
  EXPECT_FALSE(kept_saw_false->load());

  // The gate committed alone; the five queued behind it shared one commit.
  EXPECT_EQ(metrics::value("merchgate_store_commits_total", {}) - commits_before, 2.0);
  EXPECT_EQ(metrics::value("merchgate_store_write_units_total", {}) - units_before, 6.0);
  // The batch ran once without savepoints, hit the declining unit, and ran once more with a
  // savepoint per unit; kept units still landed exactly once (evt_kept_1 has a UNIQUE id).
  EXPECT_EQ(metrics::value("merchgate_store_batch_reruns_total", {}) - reruns_before, 1.0);
}

TEST(SqliteStore, ABatchWhoseUnitsAllSucceedRunsOnce) {
  TempDir dir;
  auto s = open_migrated(dir.file("x.db"));
  double reruns_before = metrics::value("merchgate_store_batch_reruns_total", {});
  auto runs = std::make_shared<std::atomic<int>>(0);
  std::vector<std::future<std::exception_ptr>> futures;
  for (int i = 0; i < 20; ++i) {
    auto done = std::make_shared<std::promise<std::exception_ptr>>();
    futures.push_back(done->get_future());
    s->write(
        [runs, i](WriteTx& tx) {
          ++*runs;
          append_event(tx, "evt_ok_" + std::to_string(i));
          return true;
        },
        [done](std::exception_ptr e) { done->set_value(e); });
  }
  for (auto& f : futures) EXPECT_EQ(get_bounded(f, "a unit"), nullptr);
  EXPECT_EQ(runs->load(), 20);
  EXPECT_EQ(metrics::value("merchgate_store_batch_reruns_total", {}) - reruns_before, 0.0);
}

TEST(SqliteStore, DoneRunsAfterTheCommitIsVisibleToOtherConnections) {
  TempDir dir;
  auto s = open_migrated(dir.file("x.db"));
  std::string path = dir.file("x.db");
  auto seen = std::make_shared<std::promise<std::int64_t>>();
  auto future = seen->get_future();
  s->write(
      [](WriteTx& tx) {
        append_event(tx, "evt_visible");
        return true;
      },
      [seen, path](std::exception_ptr e) {
        if (e) {
          seen->set_value(-1);
          return;
        }
        RawDb raw(path);
        seen->set_value(raw.count("SELECT COUNT(*) FROM events WHERE id = 'evt_visible'"));
      });
  EXPECT_EQ(get_bounded(future, "done"), 1);
}

TEST(SqliteStore, AReadSeesOneSnapshotWhileWritesCommit) {
  TempDir dir;
  auto s = open_migrated(dir.file("x.db"));
  must_write(*s, [](WriteTx& tx) { append_event(tx, "evt_before"); });

  struct Seen {
    std::size_t first = 0;
    std::size_t second = 0;
    bool sees_new = true;
    bool write_ok = false;
  };
  Store* raw_store = s.get();
  Seen seen = must_read(*s, [raw_store](ReadTx& tx) {
    Seen out;
    out.first = tx.events({}).data.size();
    // Commits while this read is open; the read keeps its snapshot.
    auto e = write_sync(*raw_store, [](WriteTx& w) {
      append_event(w, "evt_during");
      return true;
    });
    out.write_ok = e == nullptr;
    out.second = tx.events({}).data.size();
    out.sees_new = tx.event("evt_during").has_value();
    return out;
  });
  EXPECT_TRUE(seen.write_ok);
  EXPECT_EQ(seen.first, 1u);
  EXPECT_EQ(seen.second, 1u);
  EXPECT_FALSE(seen.sees_new);
  EXPECT_TRUE(has_event(*s, "evt_during"));
  EXPECT_EQ(must_read(*s, [](ReadTx& tx) { return tx.events({}).data.size(); }), 2u);
}

TEST(SqliteStore, CloseFinishesQueuedUnitsThenRefusesEverything) {
  TempDir dir;
  auto s = open_migrated(dir.file("x.db"));
  std::atomic<int> ok{0};
  std::atomic<int> finished{0};
  for (int i = 0; i < 50; ++i) {
    s->write(
        [i](WriteTx& tx) {
          append_event(tx, "evt_q" + std::to_string(i));
          return true;
        },
        [&](std::exception_ptr e) {
          if (!e) ++ok;
          ++finished;
        });
  }
  s->close();
  EXPECT_EQ(finished.load(), 50);
  EXPECT_EQ(ok.load(), 50);
  {
    RawDb raw(dir.file("x.db"));
    EXPECT_EQ(raw.count("SELECT COUNT(*) FROM events"), 50);
  }

  auto w = write_sync(*s, [](WriteTx& tx) {
    append_event(tx, "evt_after_close");
    return true;
  });
  ASSERT_NE(w, nullptr);
  EXPECT_NE(what(w).find("closed"), std::string::npos) << what(w);
  auto r = read_sync(*s, [](ReadTx&) {});
  EXPECT_NE(r, nullptr);
  EXPECT_FALSE(s->ping());

  // Calls that go through the writer or reader threads must fail, not wait forever.
  Store* raw_store = s.get();
  std::optional<Result<int>> migrated;
  std::optional<Result<void>> backed_up;
  bool migrate_returned =
      finishes_within([raw_store, &migrated] { migrated.emplace(raw_store->migrate()); });
  bool version_returned = finishes_within([raw_store] { (void)raw_store->schema_version(); });
  std::string target = dir.file("after-close.db");
  bool backup_returned = finishes_within(
      [raw_store, &backed_up, target] { backed_up.emplace(raw_store->backup(target)); });
  if (!migrate_returned || !version_returned || !backup_returned) {
    (void)s.release();  // a thread is stuck inside it; leak it rather than free it under them
    FAIL() << "after close(): migrate returned " << migrate_returned << ", schema_version "
           << version_returned << ", backup " << backup_returned;
  }
  EXPECT_FALSE(*migrated);
  EXPECT_FALSE(*backed_up);

  RawDb raw(dir.file("x.db"));
  EXPECT_EQ(raw.count("SELECT COUNT(*) FROM events WHERE id = 'evt_after_close'"), 0);
}

TEST(SqliteStore, DataSurvivesCloseAndReopenInTheMainFileAlone) {
  TempDir dir;
  std::string path = dir.file("x.db");
  {
    auto s = open_migrated(path);
    must_write(*s, [](WriteTx& tx) {
      append_event(tx, "evt_kept", "chk_kept", 42);
      core::JobSpec job;
      job.kind = std::string(core::job_kind::payment_create);
      job.checkout_id = "chk_kept";
      job.payload = boost::json::object{{"attempt", 1}};
      tx.enqueue_jobs({job}, 42);
      store::IdempotencyRecord r;
      r.scope = "key_1";
      r.key = "idem-1";
      r.request_hash = "hash";
      r.created_at = 42;
      tx.begin_idempotency(r);
    });
    s->close();
  }
  // A clean close folds the WAL into the main file, so copying that file alone is a backup.
  if (std::filesystem::exists(path + "-wal")) {
    EXPECT_EQ(std::filesystem::file_size(path + "-wal"), 0u);
  }
  std::filesystem::copy_file(path, dir.file("copy.db"));

  for (const std::string& file : {path, dir.file("copy.db")}) {
    auto s = open_migrated(file);
    EXPECT_EQ(s->schema_version(), s->latest_schema_version());
    auto event = must_read(*s, [](ReadTx& tx) { return tx.event("evt_kept"); });
    ASSERT_TRUE(event) << file;
    EXPECT_EQ(event->checkout_id, "chk_kept");
    EXPECT_EQ(event->created_at, 42);
    auto jobs = must_read(*s, [](ReadTx& tx) { return tx.jobs_for_checkout("chk_kept"); });
    ASSERT_EQ(jobs.size(), 1u) << file;
    EXPECT_EQ(jobs[0].payload.at("attempt").as_int64(), 1);
    EXPECT_TRUE(must_read(*s, [](ReadTx& tx) { return tx.idempotency("key_1", "idem-1"); }));
    // Still writable after the reopen.
    must_write(*s, [](WriteTx& tx) { append_event(tx, "evt_second_life"); });
    EXPECT_TRUE(has_event(*s, "evt_second_life"));
    s->close();
  }
}

std::vector<std::string> event_rows(const std::string& path) {
  RawDb raw(path);
  return raw.column("SELECT id || '|' || body FROM events ORDER BY seq");
}

TEST(SqliteStore, BackupIsAConsistentCopyTakenWhileWritesGoOn) {
  TempDir dir;
  auto s = open_migrated(dir.file("x.db"));
  for (int i = 0; i < 200; ++i) {
    s->write(
        [i](WriteTx& tx) {
          append_event(tx, "evt_pre_" + std::to_string(i), "chk_" + std::to_string(i % 7), i);
          return true;
        },
        {});
  }
  must_write(*s, [](WriteTx&) {});  // the 200 are committed once this one is

  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    for (int i = 0; i < 300 && !stop; ++i) {
      auto e = write_sync(*s, [i](WriteTx& tx) {
        append_event(tx, "evt_live_" + std::to_string(i), "chk_live", 1000 + i);
        return true;
      });
      if (e) ++failures;
      ++written;
    }
  });
  auto backed_up = s->backup(dir.file("online.db"));
  stop = true;
  writer.join();
  ASSERT_TRUE(backed_up) << backed_up.error().message;
  EXPECT_EQ(failures.load(), 0) << "writes failed while the backup ran";

  {
    RawDb copy(dir.file("online.db"));
    EXPECT_EQ(copy.text("PRAGMA integrity_check"), "ok");
  }
  // The copy is one committed state: a prefix of the live rows in commit order.
  auto live = event_rows(dir.file("x.db"));
  auto copy = event_rows(dir.file("online.db"));
  ASSERT_GE(copy.size(), 200u);
  ASSERT_LE(copy.size(), live.size());
  EXPECT_EQ(live.size(), 200u + written.load());
  for (std::size_t i = 0; i < copy.size(); ++i) ASSERT_EQ(copy[i], live[i]) << "row " << i;

  // With writes quiet, a backup holds exactly the live rows, and opens as a store.
  auto quiet = s->backup(dir.file("quiet.db"));
  ASSERT_TRUE(quiet) << quiet.error().message;
  EXPECT_EQ(event_rows(dir.file("quiet.db")), live);
  auto restored = open_migrated(dir.file("quiet.db"));
  EXPECT_EQ(restored->schema_version(), restored->latest_schema_version());
  EXPECT_TRUE(has_event(*restored, "evt_pre_199"));
  EXPECT_TRUE(s->ping()) << "the store stays online after backups";
}

}  // namespace
}  // namespace mg::testing
