// Outbound event delivery: endpoints, deliveries (one per event and endpoint), attempts.
#include "gateway/store/sqlite_tx.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace mg::store::sqlite {
namespace bj = boost::json;
namespace {

constexpr const char* kEndpointColumns =
    "id, url, events, enabled, description, secrets, status, failing_since, created_at, "
    "updated_at";

EndpointRecord endpoint_row(Statement& s) {
  EndpointRecord e;
  e.id = s.text(0);
  e.url = s.text(1);
  bj::value events = bj::parse(s.text_view(2));
  for (const auto& v : events.as_array())
    if (v.is_string()) e.events.emplace_back(v.as_string());
  e.enabled = s.int64(3) != 0;
  e.description = s.text(4);
  e.sealed_secrets = s.text(5);
  e.status = s.text(6);
  e.failing_since = s.int64(7);
  e.created_at = s.int64(8);
  e.updated_at = s.int64(9);
  return e;
}

}  // namespace

std::optional<EndpointRecord> SqliteTx::endpoint(std::string_view id) {
  static const std::string sql =
      std::string("SELECT ") + kEndpointColumns + " FROM webhook_endpoints WHERE id = ?";
  Use s(db_.prepare(sql.c_str()));
  s->bind(1, id);
  if (!s->step()) return std::nullopt;
  return endpoint_row(*s);
}

std::vector<EndpointRecord> SqliteTx::endpoints() {
  static const std::string sql =
      std::string("SELECT ") + kEndpointColumns + " FROM webhook_endpoints ORDER BY id";
  Use s(db_.prepare(sql.c_str()));
  std::vector<EndpointRecord> out;
  while (s->step()) out.push_back(endpoint_row(*s));
  return out;
}

void SqliteTx::put_endpoint(const EndpointRecord& e) {
  bj::array events;
  for (const auto& t : e.events) events.push_back(bj::value(t));
  Use s(db_.prepare(
      "INSERT INTO webhook_endpoints (id, url, events, enabled, description, secrets, status, "
      "failing_since, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (id) DO UPDATE SET url = excluded.url, events = excluded.events, "
      "enabled = excluded.enabled, description = excluded.description, "
      "secrets = excluded.secrets, status = excluded.status, "
      "failing_since = excluded.failing_since, updated_at = excluded.updated_at"));
  s->bind(1, e.id).bind(2, e.url).bind(3, bj::serialize(events)).bind(4, e.enabled);
  s->bind_text_or_null(5, e.description).bind_blob(6, e.sealed_secrets).bind(7, e.status);
  if (e.failing_since) {
    s->bind(8, e.failing_since);
  } else {
    s->bind_null(8);
  }
  s->bind(9, e.created_at).bind(10, e.updated_at);
  s->run();
}

bool SqliteTx::delete_endpoint(std::string_view id) {
  {
    Use d(
        db_.prepare("DELETE FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'pending'"));
    d->bind(1, id);
    d->run();
  }
  Use s(db_.prepare("DELETE FROM webhook_endpoints WHERE id = ?"));
  s->bind(1, id);
  s->run();
  return db_.changes() > 0;
}

void SqliteTx::set_endpoint_status(std::string_view id, std::string_view status, Timestamp now) {
  Use s(db_.prepare(
      "UPDATE webhook_endpoints SET status = ?1, updated_at = ?2, "
      "failing_since = CASE WHEN ?1 = 'failing' THEN COALESCE(failing_since, ?2) ELSE NULL END "
      "WHERE id = ?3"));
  s->bind(1, status).bind(2, now).bind(3, id);
  s->run();
}

std::vector<Delivery> SqliteTx::claim_deliveries(
    std::string_view owner, Timestamp now, Timestamp lease_until,
    const std::vector<std::pair<std::string, int>>& capacity) {
  std::vector<std::int64_t> ids;
  for (const auto& [endpoint_id, slots] : capacity) {
    if (slots <= 0) continue;
    // Due, not leased, the endpoint enabled and active, and the oldest undelivered delivery of
    // its checkout for this endpoint (an earlier one still pending — even leased or waiting for
    // its retry — holds the later ones back).
    Use s(db_.prepare(
        "SELECT d.id FROM webhook_deliveries AS d JOIN webhook_endpoints AS e "
        "ON e.id = d.endpoint_id AND e.enabled = 1 AND e.status = 'active' "
        "WHERE d.endpoint_id = ?1 AND d.status = 'pending' AND d.next_attempt_at <= ?2 "
        "AND (d.lease_until IS NULL OR d.lease_until < ?2) "
        "AND (d.checkout_id IS NULL OR NOT EXISTS (SELECT 1 FROM webhook_deliveries AS p "
        "WHERE p.endpoint_id = d.endpoint_id AND p.checkout_id = d.checkout_id "
        "AND p.status = 'pending' AND p.id < d.id)) "
        "ORDER BY d.id LIMIT ?3"));
    s->bind(1, endpoint_id).bind(2, now).bind(3, slots);
    while (s->step()) ids.push_back(s->int64(0));
  }
  std::vector<Delivery> out;
  for (auto id : ids) {
    {
      Use u(db_.prepare(
          "UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ? WHERE id = ?"));
      u->bind(1, owner).bind(2, lease_until).bind(3, id);
      u->run();
    }
    Use s(db_.prepare(
        "SELECT d.id, d.endpoint_id, d.event_id, d.checkout_id, ev.body, d.attempts, d.created_at "
        "FROM webhook_deliveries AS d JOIN events AS ev ON ev.id = d.event_id WHERE d.id = ?"));
    s->bind(1, id);
    if (s->step()) {
      out.push_back({s->int64(0), s->text(1), s->text(2), s->text(3), s->text(4),
                     static_cast<int>(s->int64(5)), s->int64(6)});
    }
  }
  return out;
}

void SqliteTx::finish_delivery(std::int64_t id, const DeliveryAttempt& a, bool delivered,
                               Timestamp next_attempt_at) {
  {
    Use s(db_.prepare(
        "INSERT INTO webhook_attempts (delivery_id, endpoint_id, event_id, at, status_code, "
        "latency_ms, response, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    s->bind(1, id).bind(2, a.endpoint_id).bind(3, a.event_id).bind(4, a.at);
    if (a.status_code) {
      s->bind(5, a.status_code);
    } else {
      s->bind_null(5);
    }
    s->bind(6, a.latency_ms).bind_text_or_null(7, a.response).bind_text_or_null(8, a.error);
    s->run();
  }
  Use s(db_.prepare(
      "UPDATE webhook_deliveries SET status = CASE WHEN ?1 THEN 'delivered' ELSE status END, "
      "attempts = attempts + 1, next_attempt_at = ?2, lease_owner = NULL, lease_until = NULL, "
      "last_status = ?3, last_error = ?4, delivered_at = CASE WHEN ?1 THEN ?5 ELSE NULL END "
      "WHERE id = ?6"));
  s->bind(1, delivered).bind(2, next_attempt_at);
  if (a.status_code) {
    s->bind(3, a.status_code);
  } else {
    s->bind_null(3);
  }
  s->bind_text_or_null(4, a.error).bind(5, a.at).bind(6, id);
  s->run();
}

void SqliteTx::release_delivery_leases(std::string_view owner) {
  Use s(
      db_.prepare("UPDATE webhook_deliveries SET lease_owner = NULL, lease_until = NULL "
                  "WHERE lease_owner = ? AND status = 'pending'"));
  s->bind(1, owner);
  s->run();
}

int SqliteTx::redeliver_event(std::string_view event_id, std::string_view endpoint_id,
                              Timestamp now) {
  Use s(db_.prepare(
      "INSERT INTO webhook_deliveries (endpoint_id, event_id, checkout_id, status, "
      "next_attempt_at, created_at) SELECT e.id, ev.id, ev.checkout_id, 'pending', ?3, ?3 "
      "FROM events AS ev JOIN webhook_endpoints AS e ON (?2 = '' OR e.id = ?2) "
      "WHERE ev.id = ?1 AND e.enabled = 1 AND (?2 <> '' OR EXISTS "
      "(SELECT 1 FROM json_each(e.events) AS j WHERE j.value IN ('*', ev.type)))"));
  s->bind(1, event_id).bind(2, endpoint_id).bind(3, now);
  s->run();
  return db_.changes();
}

int SqliteTx::replay_events(std::string_view endpoint_id, Timestamp since, int max, Timestamp now) {
  Use s(db_.prepare(
      "INSERT INTO webhook_deliveries (endpoint_id, event_id, checkout_id, status, "
      "next_attempt_at, created_at) SELECT e.id, ev.id, ev.checkout_id, 'pending', ?3, ?3 "
      "FROM events AS ev JOIN webhook_endpoints AS e ON e.id = ?1 "
      "WHERE ev.created_at >= ?2 AND EXISTS "
      "(SELECT 1 FROM json_each(e.events) AS j WHERE j.value IN ('*', ev.type)) "
      "ORDER BY ev.seq LIMIT ?4"));
  s->bind(1, endpoint_id).bind(2, since).bind(3, now).bind(4, max);
  s->run();
  return db_.changes();
}

Page<DeliveryAttempt> SqliteTx::delivery_attempts(std::string_view endpoint_id,
                                                  const ListQuery& q) {
  int limit = page_limit(q);
  std::int64_t before = INT64_MAX;
  if (!q.starting_after.empty()) before = std::strtoll(q.starting_after.c_str(), nullptr, 10);
  Use s(db_.prepare(
      "SELECT id, delivery_id, endpoint_id, event_id, at, status_code, latency_ms, response, "
      "error FROM webhook_attempts WHERE endpoint_id = ? AND id < ? ORDER BY id DESC LIMIT ?"));
  s->bind(1, endpoint_id).bind(2, before).bind(3, limit + 1);
  Page<DeliveryAttempt> page;
  while (s->step()) {
    if (static_cast<int>(page.data.size()) == limit) {
      page.has_more = true;
      break;
    }
    page.data.push_back({s->int64(0), s->int64(1), s->text(2), s->text(3), s->int64(4),
                         static_cast<int>(s->int64(5)), s->int64(6), s->text(7), s->text(8)});
  }
  return page;
}

DeliveryStats SqliteTx::delivery_stats() {
  DeliveryStats st;
  Use s(db_.prepare(
      "SELECT COUNT(*), MIN(created_at) FROM webhook_deliveries WHERE status = 'pending'"));
  if (s->step()) {
    st.pending = s->int64(0);
    st.oldest_pending_created_at = s->is_null(1) ? 0 : s->int64(1);
  }
  return st;
}

}  // namespace mg::store::sqlite
