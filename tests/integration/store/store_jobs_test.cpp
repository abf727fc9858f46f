// The durable job queue on a real SQLite file: leases, expiry, FIFO per serial key, backoff,
// dead jobs, releases, purges and stats. Times are explicit milliseconds.
#include "tests/integration/store/store_harness.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace mg::testing {
namespace {

using store::Job;
using store::JobState;
using store::ReadTx;
using store::Store;
using store::WriteTx;

core::JobSpec spec(std::string kind, std::string serial_key = {}, core::Timestamp run_at = 0) {
  core::JobSpec j;
  j.kind = std::move(kind);
  j.checkout_id = "chk_jobs";
  j.serial_key = std::move(serial_key);
  j.run_at = run_at;
  j.payload = boost::json::object{{"kind", j.kind}, {"n", 7}};
  return j;
}

class StoreJobs : public ::testing::Test {
 protected:
  std::vector<std::int64_t> enqueue(std::vector<core::JobSpec> jobs, core::Timestamp now) {
    auto ids = std::make_shared<std::vector<std::int64_t>>();
    must_write(*s_, [ids, jobs, now](WriteTx& tx) { *ids = tx.enqueue_jobs(jobs, now); });
    return *ids;
  }
  std::vector<Job> claim(std::string owner, core::Timestamp now, core::Timestamp lease_until,
                         int limit = 10) {
    auto out = std::make_shared<std::vector<Job>>();
    must_write(*s_, [out, owner, now, lease_until, limit](WriteTx& tx) {
      *out = tx.claim_jobs(owner, now, lease_until, limit);
    });
    return *out;
  }
  static std::vector<std::int64_t> ids(const std::vector<Job>& jobs) {
    std::vector<std::int64_t> out;
    for (const auto& j : jobs) out.push_back(j.id);
    return out;
  }
  Job job(std::int64_t id) {
    auto all = must_read(*s_, [](ReadTx& tx) { return tx.jobs_for_checkout("chk_jobs"); });
    for (auto& j : all)
      if (j.id == id) return j;
    throw std::runtime_error("no job " + std::to_string(id));
  }
  store::JobStats stats(core::Timestamp now) {
    return must_read(*s_, [now](ReadTx& tx) { return tx.job_stats(now); });
  }

  TempDir dir_;
  std::unique_ptr<Store> s_ = open_migrated(dir_.file("x.db"));
};

TEST_F(StoreJobs, ClaimLeasesDueJobsWithTheirPayload) {
  auto queued = enqueue({spec("payment.create"), spec("fulfillment.create")}, 1000);
  ASSERT_EQ(queued.size(), 2u);
  auto claimed = claim("worker-a", 1000, 31000);
  ASSERT_EQ(ids(claimed), queued);
  for (const auto& j : claimed) {
    EXPECT_EQ(j.state, JobState::queued);
    EXPECT_EQ(j.attempts, 1);
    EXPECT_EQ(j.lease_owner, "worker-a");
    EXPECT_EQ(j.lease_until, 31000);
    EXPECT_EQ(j.checkout_id, "chk_jobs");
    EXPECT_EQ(j.payload.at("n").as_int64(), 7);
  }
  EXPECT_EQ(claimed[0].kind, "payment.create");
  EXPECT_EQ(claimed[0].payload.at("kind").as_string(), "payment.create");
}

TEST_F(StoreJobs, AnUnexpiredLeaseIsNotClaimedTwiceAndAnExpiredOneIsTakenAgain) {
  auto queued = enqueue({spec("a"), spec("b"), spec("c")}, 1000);
  ASSERT_EQ(claim("worker-a", 1000, 2000, 2).size(), 2u) << "limit is respected";
  auto rest = claim("worker-b", 1500, 2500);
  EXPECT_EQ(ids(rest), std::vector<std::int64_t>{queued[2]});
  EXPECT_TRUE(claim("worker-b", 1999, 3000).empty()) << "leases still held";

  auto retaken = claim("worker-b", 2001, 4000);
  ASSERT_EQ(ids(retaken), (std::vector<std::int64_t>{queued[0], queued[1]}));
  for (const auto& j : retaken) {
    EXPECT_EQ(j.attempts, 2);
    EXPECT_EQ(j.lease_owner, "worker-b");
  }
  EXPECT_EQ(job(queued[2]).attempts, 1);
}

TEST_F(StoreJobs, AJobDueInTheFutureWaitsForItsTime) {
  auto queued = enqueue({spec("later", "", 5000)}, 1000);
  EXPECT_TRUE(claim("w", 1000, 9000).empty());
  EXPECT_TRUE(claim("w", 4999, 9000).empty());
  EXPECT_EQ(ids(claim("w", 5000, 9000)), queued);
}

TEST_F(StoreJobs, JobsWithOneSerialKeyRunOneAtATimeOldestFirst) {
  auto queued =
      enqueue({spec("first", "chk_1"), spec("second", "chk_1"), spec("other", "chk_2")}, 1000);
  // Only the head of each key's line is claimable.
  auto claimed = claim("w", 1000, 2000);
  EXPECT_EQ(ids(claimed), (std::vector<std::int64_t>{queued[0], queued[2]}));
  // The head is leased: its successor still waits, even once the lease expired and was retaken.
  EXPECT_TRUE(claim("w", 1500, 2500).empty());
  EXPECT_EQ(ids(claim("w", 2001, 3000)), (std::vector<std::int64_t>{queued[0], queued[2]}));
  must_write(*s_, [id = queued[2]](WriteTx& tx) { tx.complete_job(id, 2050); });

  // The head in backoff: nothing of its key is claimable until it runs again.
  must_write(*s_, [id = queued[0]](WriteTx& tx) { tx.retry_job(id, 10000, "timeout", 2100); });
  EXPECT_TRUE(claim("w", 5000, 6000).empty());
  EXPECT_EQ(ids(claim("w", 10000, 11000)), std::vector<std::int64_t>{queued[0]});

  must_write(*s_, [id = queued[0]](WriteTx& tx) { tx.complete_job(id, 10500); });
  EXPECT_EQ(ids(claim("w", 10500, 11000)), std::vector<std::int64_t>{queued[1]});
}

TEST_F(StoreJobs, ALaterJobWaitsBehindALeasedJobEnqueuedInline) {
  auto inline_job = std::make_shared<Job>();
  must_write(*s_, [inline_job](WriteTx& tx) {
    *inline_job = tx.enqueue_leased_job(spec("payment.create", "chk_1"), "request-1", 5000, 1000);
  });
  EXPECT_EQ(inline_job->attempts, 1);
  EXPECT_EQ(inline_job->lease_owner, "request-1");
  EXPECT_EQ(inline_job->lease_until, 5000);
  auto later = enqueue({spec("payment.sync", "chk_1")}, 1100);
  EXPECT_TRUE(claim("w", 1200, 9000).empty());
  // The request died: its lease expires and a worker takes the job, then its successor.
  auto taken = claim("w", 5001, 9000);
  EXPECT_EQ(ids(taken), std::vector<std::int64_t>{inline_job->id});
  EXPECT_EQ(taken[0].attempts, 2);
  must_write(*s_, [id = inline_job->id](WriteTx& tx) { tx.complete_job(id, 5100); });
  EXPECT_EQ(ids(claim("w", 5100, 9000)), later);
}

TEST_F(StoreJobs, RetryKeepsTheJobQueuedWithItsErrorUntilRunAt) {
  auto queued = enqueue({spec("a")}, 1000);
  ASSERT_EQ(claim("w", 1000, 2000).size(), 1u);
  must_write(*s_, [id = queued[0]](WriteTx& tx) { tx.retry_job(id, 8000, "partner 503", 1200); });
  auto j = job(queued[0]);
  EXPECT_EQ(j.state, JobState::queued);
  EXPECT_EQ(j.run_at, 8000);
  EXPECT_EQ(j.last_error, "partner 503");
  EXPECT_TRUE(j.lease_owner.empty());
  EXPECT_EQ(j.lease_until, 0);
  EXPECT_EQ(j.attempts, 1);
  EXPECT_TRUE(claim("w", 7999, 9000).empty());
  auto again = claim("w", 8000, 9000);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attempts, 2);
}

TEST_F(StoreJobs, BuriedAndCompletedJobsAreNeverClaimedAndOnlyOldDoneJobsArePurged) {
  auto queued = enqueue({spec("dies", "chk_1"), spec("next", "chk_1"), spec("done"),
                         spec("done-late"), spec("stays")},
                        1000);
  ASSERT_EQ(claim("w", 1000, 2000).size(), 4u);
  must_write(*s_, [queued](WriteTx& tx) {
    tx.bury_job(queued[0], "card_declined forever", 1100);
    tx.complete_job(queued[2], 1100);
    tx.complete_job(queued[3], 5000);
  });
  auto dead = job(queued[0]);
  EXPECT_EQ(dead.state, JobState::dead);
  EXPECT_EQ(dead.last_error, "card_declined forever");
  EXPECT_EQ(job(queued[2]).state, JobState::done);

  // A dead head no longer holds up its key; dead and done jobs are not claimed.
  auto after = claim("w", 2500, 3000);
  std::set<std::int64_t> got;
  for (const auto& j : after) got.insert(j.id);
  EXPECT_EQ(got, (std::set<std::int64_t>{queued[1], queued[4]}));

  auto purged = std::make_shared<int>(-1);
  must_write(*s_, [purged](WriteTx& tx) { *purged = tx.purge_done_jobs(2000); });
  EXPECT_EQ(*purged, 1);
  auto left = must_read(*s_, [](ReadTx& tx) { return tx.jobs_for_checkout("chk_jobs"); });
  std::set<std::int64_t> left_ids;
  for (const auto& j : left) left_ids.insert(j.id);
  EXPECT_EQ(left_ids, (std::set<std::int64_t>{queued[0], queued[1], queued[3], queued[4]}));
}

TEST_F(StoreJobs, ReleaseLeasesFreesOnlyTheOwnersJobsForImmediateClaim) {
  auto queued = enqueue({spec("a"), spec("b")}, 1000);
  ASSERT_EQ(claim("worker-a", 1000, 60000, 1).size(), 1u);
  ASSERT_EQ(claim("worker-b", 1000, 60000, 1).size(), 1u);
  must_write(*s_, [](WriteTx& tx) { tx.release_leases("worker-a", 1500); });
  auto retaken = claim("worker-c", 1600, 60000);
  EXPECT_EQ(ids(retaken), std::vector<std::int64_t>{queued[0]});
  EXPECT_EQ(job(queued[1]).lease_owner, "worker-b");
}

TEST_F(StoreJobs, StatsCountQueuedLeasedDeadAndTheOldestDueJob) {
  EXPECT_EQ(stats(1000).queued, 0);
  EXPECT_EQ(stats(1000).oldest_due, 0);
  auto queued =
      enqueue({spec("a", "", 1200), spec("b", "", 1100), spec("c", "", 50000), spec("d")}, 1000);
  ASSERT_EQ(claim("w", 1000, 30000, 1).size(), 1u);  // d, due at 1000
  must_write(*s_, [id = queued[2]](WriteTx& tx) { tx.bury_job(id, "gave up", 1000); });
  auto st = stats(2000);
  EXPECT_EQ(st.queued, 3);
  EXPECT_EQ(st.leased, 1);
  EXPECT_EQ(st.dead, 1);
  EXPECT_EQ(st.oldest_due, 1100);
  EXPECT_EQ(stats(31000).leased, 0) << "an expired lease is not counted as leased";
}

TEST_F(StoreJobs, ConcurrentClaimersNeverTakeTheSameJob) {
  std::vector<core::JobSpec> many;
  for (int i = 0; i < 200; ++i) many.push_back(spec("job" + std::to_string(i)));
  auto queued = enqueue(many, 1000);
  ASSERT_EQ(queued.size(), 200u);

  std::mutex mutex;
  std::vector<std::int64_t> taken;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      // Bounded: if leases were ignored, claims would never run dry.
      for (int round = 0; round < 100; ++round) {
        auto got = claim("worker-" + std::to_string(w), 2000, 60000, 7);
        if (got.empty()) return;
        std::lock_guard lock(mutex);
        for (const auto& j : got) taken.push_back(j.id);
      }
    });
  }
  for (auto& t : workers) t.join();
  std::set<std::int64_t> unique(taken.begin(), taken.end());
  EXPECT_EQ(taken.size(), 200u);
  EXPECT_EQ(unique, std::set<std::int64_t>(queued.begin(), queued.end()));
  RawDb raw(dir_.file("x.db"));
  EXPECT_EQ(raw.count("SELECT COUNT(*) FROM jobs WHERE attempts = 1 AND lease_until = 60000"), 200);
}

}  // namespace
}  // namespace mg::testing
