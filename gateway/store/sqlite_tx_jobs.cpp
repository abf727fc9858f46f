// The durable job queue: leased claims, FIFO per serial key, retries and dead jobs.
#include "gateway/store/sqlite_tx.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace mg::store::sqlite {
namespace bj = boost::json;
namespace {

constexpr const char* kJobColumns =
    "id, kind, checkout_id, serial_key, payload, state, attempts, run_at, lease_owner, "
    "lease_until, last_error, created_at, updated_at";

JobState state_from(std::string_view s) {
  if (s == "done") return JobState::done;
  if (s == "dead") return JobState::dead;
  return JobState::queued;
}

Job job_row(Statement& s) {
  Job j;
  j.id = s.int64(0);
  j.kind = s.text(1);
  j.checkout_id = s.text(2);
  j.serial_key = s.text(3);
  bj::value v = bj::parse(s.text_view(4));
  j.payload = std::move(v.as_object());
  j.state = state_from(s.text_view(5));
  j.attempts = static_cast<int>(s.int64(6));
  j.run_at = s.int64(7);
  j.lease_owner = s.text(8);
  j.lease_until = s.int64(9);
  j.last_error = s.text(10);
  j.created_at = s.int64(11);
  j.updated_at = s.int64(12);
  return j;
}

const char* select_job_sql() {
  static const std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?";
  return sql.c_str();
}

}  // namespace

std::vector<std::int64_t> SqliteTx::enqueue_jobs(const std::vector<core::JobSpec>& jobs,
                                                 Timestamp now) {
  Statement& s = db_.prepare(
      "INSERT INTO jobs (kind, checkout_id, serial_key, payload, state, run_at, created_at, "
      "updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)");
  std::vector<std::int64_t> ids;
  for (const auto& j : jobs) {
    Use u(s);
    u->bind(1, j.kind).bind_text_or_null(2, j.checkout_id).bind_text_or_null(3, j.serial_key);
    u->bind(4, bj::serialize(j.payload)).bind(5, j.run_at == 0 ? now : j.run_at);
    u->bind(6, now).bind(7, now);
    u->run();
    ids.push_back(db_.last_insert_rowid());
  }
  return ids;
}

Job SqliteTx::enqueue_leased_job(const core::JobSpec& j, std::string_view owner,
                                 Timestamp lease_until, Timestamp now) {
  {
    Use u(db_.prepare(
        "INSERT INTO jobs (kind, checkout_id, serial_key, payload, state, run_at, attempts, "
        "lease_owner, lease_until, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, 'queued', ?, 1, ?, ?, ?, ?)"));
    u->bind(1, j.kind).bind_text_or_null(2, j.checkout_id).bind_text_or_null(3, j.serial_key);
    u->bind(4, bj::serialize(j.payload)).bind(5, now).bind(6, owner).bind(7, lease_until);
    u->bind(8, now).bind(9, now);
    u->run();
  }
  Use s(db_.prepare(select_job_sql()));
  s->bind(1, db_.last_insert_rowid());
  s->step();
  return job_row(*s);
}

std::vector<Job> SqliteTx::claim_jobs(std::string_view owner, Timestamp now, Timestamp lease_until,
                                      int limit) {
  std::vector<std::int64_t> ids;
  {
    // Due, not leased (or the lease expired), and first in line for its serial key.
    Use s(db_.prepare(
        "SELECT id FROM jobs AS j WHERE state = 'queued' AND run_at <= ?1 "
        "AND (lease_until IS NULL OR lease_until < ?1) "
        "AND (serial_key IS NULL OR NOT EXISTS (SELECT 1 FROM jobs AS k WHERE k.state = 'queued' "
        "AND k.serial_key = j.serial_key AND k.id < j.id)) "
        "ORDER BY run_at, id LIMIT ?2"));
    s->bind(1, now).bind(2, limit);
    while (s->step()) ids.push_back(s->int64(0));
  }
  std::vector<Job> out;
  for (auto id : ids) {
    {
      Use u(
          db_.prepare("UPDATE jobs SET lease_owner = ?, lease_until = ?, attempts = attempts + 1, "
                      "updated_at = ? WHERE id = ?"));
      u->bind(1, owner).bind(2, lease_until).bind(3, now).bind(4, id);
      u->run();
    }
    Use s(db_.prepare(select_job_sql()));
    s->bind(1, id);
    if (s->step()) out.push_back(job_row(*s));
  }
  return out;
}

void SqliteTx::complete_job(std::int64_t id, Timestamp now) {
  Use s(db_.prepare(
      "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until = NULL, updated_at = ? "
      "WHERE id = ?"));
  s->bind(1, now).bind(2, id);
  s->run();
}

void SqliteTx::retry_job(std::int64_t id, Timestamp run_at, std::string_view error, Timestamp now) {
  Use s(db_.prepare(
      "UPDATE jobs SET run_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL, "
      "updated_at = ? WHERE id = ? AND state = 'queued'"));
  s->bind(1, run_at).bind(2, error).bind(3, now).bind(4, id);
  s->run();
}

void SqliteTx::bury_job(std::int64_t id, std::string_view error, Timestamp now) {
  Use s(db_.prepare(
      "UPDATE jobs SET state = 'dead', last_error = ?, lease_owner = NULL, lease_until = NULL, "
      "updated_at = ? WHERE id = ?"));
  s->bind(1, error).bind(2, now).bind(3, id);
  s->run();
}

void SqliteTx::release_leases(std::string_view owner, Timestamp now) {
  Use s(
      db_.prepare("UPDATE jobs SET lease_owner = NULL, lease_until = NULL, updated_at = ? "
                  "WHERE lease_owner = ? AND state = 'queued'"));
  s->bind(1, now).bind(2, owner);
  s->run();
}

int SqliteTx::purge_done_jobs(Timestamp older_than) {
  Use s(db_.prepare("DELETE FROM jobs WHERE state = 'done' AND updated_at < ?"));
  s->bind(1, older_than);
  s->run();
  return db_.changes();
}

std::vector<Job> SqliteTx::jobs_for_checkout(std::string_view checkout_id) {
  static const std::string sql = std::string("SELECT ") + kJobColumns +
                                 " FROM jobs WHERE checkout_id = ? ORDER BY id LIMIT 500";
  Use s(db_.prepare(sql.c_str()));
  s->bind(1, checkout_id);
  std::vector<Job> out;
  while (s->step()) out.push_back(job_row(*s));
  return out;
}

JobStats SqliteTx::job_stats(Timestamp now) {
  JobStats st;
  Use s(db_.prepare(
      "SELECT COUNT(*), COALESCE(SUM(lease_until IS NOT NULL AND lease_until >= ?1), 0), "
      "MIN(CASE WHEN run_at <= ?1 AND (lease_until IS NULL OR lease_until < ?1) THEN run_at END) "
      "FROM jobs WHERE state = 'queued'"));
  s->bind(1, now);
  if (s->step()) {
    st.queued = s->int64(0);
    st.leased = s->int64(1);
    st.oldest_due = s->is_null(2) ? 0 : s->int64(2);
  }
  Use d(db_.prepare("SELECT COUNT(*) FROM jobs WHERE state = 'dead'"));
  if (d->step()) st.dead = d->int64(0);
  return st;
}

int SqliteTx::schema_version() {
  Use s(db_.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return s->step() ? static_cast<int>(s->int64(0)) : 0;
}

}  // namespace mg::store::sqlite
