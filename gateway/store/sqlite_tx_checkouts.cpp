// Checkouts, their partner references, events, idempotency keys, inbound webhooks and partner
// calls.
#include "gateway/core/model_json.hpp"
#include "gateway/store/sqlite_tx.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace mg::store::sqlite {
namespace bj = boost::json;
namespace {

core::Checkout checkout_row(Statement& s, int col) {
  bj::value v = bj::parse(s.text_view(col));
  auto c = core::checkout_from_storage(v.as_object());
  if (!c) throw Error(SQLITE_CORRUPT, c.error().message);
  return std::move(*c);
}

StoredEvent event_row(Statement& s) {
  return {s.text(0), s.text(1), s.text(2), s.int64(3), s.text(4)};
}

std::string_view inbound_status_name(InboundStatus s) {
  switch (s) {
    case InboundStatus::applied:
      return "applied";
    case InboundStatus::pending:
      return "pending";
    case InboundStatus::ignored:
      return "ignored";
  }
  return "pending";
}

InboundStatus inbound_status_from(std::string_view s) {
  if (s == "applied") return InboundStatus::applied;
  if (s == "ignored") return InboundStatus::ignored;
  return InboundStatus::pending;
}

InboundWebhook inbound_row(Statement& s) {
  InboundWebhook w;
  w.id = s.int64(0);
  w.adapter_id = s.text(1);
  w.partner_event_id = s.text(2);
  w.event_type = s.text(3);
  w.checkout_id = s.text(4);
  w.body = s.text(5);
  w.status = inbound_status_from(s.text_view(6));
  w.error = s.text(7);
  w.received_at = s.int64(8);
  return w;
}

}  // namespace

std::optional<core::Checkout> SqliteTx::checkout(std::string_view id) {
  Use s(db_.prepare("SELECT doc FROM checkouts WHERE id = ?"));
  s->bind(1, id);
  if (!s->step()) return std::nullopt;
  return checkout_row(*s, 0);
}

// One writer connection serializes every write transaction, so a plain read locks enough here.
std::optional<core::Checkout> SqliteTx::lock_checkout(std::string_view id) { return checkout(id); }

Page<core::Checkout> SqliteTx::checkouts(const CheckoutFilter& f) {
  int limit = page_limit(f.page);
  std::optional<std::int64_t> before =
      seq_of("SELECT seq FROM checkouts WHERE id = ?", f.page.starting_after);
  Use s(db_.prepare(
      "SELECT doc FROM checkouts WHERE (?1 = '' OR status = ?1) AND (?2 = '' OR seller = ?2) "
      "AND seq < ?3 ORDER BY seq DESC LIMIT ?4"));
  s->bind(1, f.status).bind(2, f.seller).bind(3, before.value_or(INT64_MAX)).bind(4, limit + 1);
  Page<core::Checkout> page;
  while (s->step()) {
    if (static_cast<int>(page.data.size()) == limit) {
      page.has_more = true;
      break;
    }
    page.data.push_back(checkout_row(*s, 0));
  }
  return page;
}

std::vector<core::Checkout> SqliteTx::due_for_reconcile(Timestamp now, int limit) {
  Use s(
      db_.prepare("SELECT doc FROM checkouts WHERE reconcile_at IS NOT NULL AND reconcile_at <= ? "
                  "ORDER BY reconcile_at LIMIT ?"));
  s->bind(1, now).bind(2, limit);
  std::vector<core::Checkout> out;
  while (s->step()) out.push_back(checkout_row(*s, 0));
  return out;
}

void SqliteTx::insert_checkout(const core::Checkout& c) {
  std::string doc = bj::serialize(core::to_json(c, core::Form::storage));
  Use s(db_.prepare(
      "INSERT INTO checkouts (id, seller, status, doc, created_at, updated_at, reconcile_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)"));
  s->bind(1, c.id).bind(2, c.seller).bind(3, core::to_string(c.status)).bind(4, doc);
  s->bind(5, c.created_at).bind(6, c.updated_at);
  if (c.reconcile_at) {
    s->bind(7, c.reconcile_at);
  } else {
    s->bind_null(7);
  }
  s->run();
  index_references(c);
}

void SqliteTx::update_checkout(const core::Checkout& c) {
  std::string doc = bj::serialize(core::to_json(c, core::Form::storage));
  Use s(db_.prepare(
      "UPDATE checkouts SET status = ?, doc = ?, updated_at = ?, reconcile_at = ? WHERE id = ?"));
  s->bind(1, core::to_string(c.status)).bind(2, doc).bind(3, c.updated_at);
  if (c.reconcile_at) {
    s->bind(4, c.reconcile_at);
  } else {
    s->bind_null(4);
  }
  s->bind(5, c.id);
  s->run();
  if (db_.changes() != 1) throw Error(SQLITE_NOTFOUND, "no checkout " + c.id + " to update");
  index_references(c);
}

void SqliteTx::index_references(const core::Checkout& c) {
  Statement& s = db_.prepare(
      "INSERT OR IGNORE INTO partner_refs (kind, adapter_id, reference, checkout_id) "
      "VALUES (?, ?, ?, ?)");
  auto put = [&](std::string_view kind, std::string_view adapter, std::string_view ref) {
    if (adapter.empty() || ref.empty()) return;
    Use u(s);
    u->bind(1, kind).bind(2, adapter).bind(3, ref).bind(4, c.id);
    u->run();
  };
  put(ref_kind::payment, c.payment.processor, c.payment.reference);
  for (const auto& r : c.refunds) put(ref_kind::refund, c.payment.processor, r.reference);
  for (const auto& f : c.fulfillments) {
    put(ref_kind::fulfillment, f.adapter, f.id);
    put(ref_kind::order, f.adapter, f.reference);
  }
}

std::optional<std::string> SqliteTx::checkout_by_reference(std::string_view kind,
                                                           std::string_view adapter_id,
                                                           std::string_view reference) {
  Use s(db_.prepare(
      "SELECT checkout_id FROM partner_refs WHERE kind = ? AND adapter_id = ? AND reference = ?"));
  s->bind(1, kind).bind(2, adapter_id).bind(3, reference);
  if (!s->step()) return std::nullopt;
  return s->text(0);
}

void SqliteTx::append_events(const std::vector<core::Event>& events) {
  Statement& s = db_.prepare(
      "INSERT INTO events (id, type, checkout_id, created_at, body) VALUES (?, ?, ?, ?, ?)");
  Statement& deliveries = db_.prepare(
      "INSERT INTO webhook_deliveries (endpoint_id, event_id, checkout_id, status, "
      "next_attempt_at, created_at) SELECT e.id, ?1, ?2, 'pending', ?3, ?3 "
      "FROM webhook_endpoints AS e WHERE e.enabled = 1 AND EXISTS "
      "(SELECT 1 FROM json_each(e.events) AS j WHERE j.value IN ('*', ?4))");
  for (const auto& e : events) {
    {
      Use u(s);
      u->bind(1, e.id).bind(2, e.type).bind_text_or_null(3, e.checkout_id).bind(4, e.created_at);
      u->bind(5, core::event_body(e));
      u->run();
    }
    Use d(deliveries);
    d->bind(1, e.id).bind_text_or_null(2, e.checkout_id).bind(3, e.created_at).bind(4, e.type);
    d->run();
  }
}

Page<StoredEvent> SqliteTx::events(const EventFilter& f) {
  int limit = page_limit(f.page);
  std::optional<std::int64_t> before =
      seq_of("SELECT seq FROM events WHERE id = ?", f.page.starting_after);
  Use s(
      db_.prepare("SELECT id, type, checkout_id, created_at, body FROM events "
                  "WHERE (?1 = '' OR type = ?1) AND (?2 = '' OR checkout_id = ?2) AND seq < ?3 "
                  "ORDER BY seq DESC LIMIT ?4"));
  s->bind(1, f.type).bind(2, f.checkout_id).bind(3, before.value_or(INT64_MAX)).bind(4, limit + 1);
  Page<StoredEvent> page;
  while (s->step()) {
    if (static_cast<int>(page.data.size()) == limit) {
      page.has_more = true;
      break;
    }
    page.data.push_back(event_row(*s));
  }
  return page;
}

std::optional<StoredEvent> SqliteTx::event(std::string_view id) {
  Use s(db_.prepare("SELECT id, type, checkout_id, created_at, body FROM events WHERE id = ?"));
  s->bind(1, id);
  if (!s->step()) return std::nullopt;
  return event_row(*s);
}

std::optional<IdempotencyRecord> SqliteTx::idempotency(std::string_view scope,
                                                       std::string_view key) {
  Use s(
      db_.prepare("SELECT request_hash, status_code, response_body, checkout_id, created_at "
                  "FROM idempotency_keys WHERE scope = ? AND key = ?"));
  s->bind(1, scope).bind(2, key);
  if (!s->step()) return std::nullopt;
  IdempotencyRecord r;
  r.scope = std::string(scope);
  r.key = std::string(key);
  r.request_hash = s->text(0);
  r.status_code = static_cast<int>(s->int64(1));
  r.response_body = s->text(2);
  r.checkout_id = s->text(3);
  r.created_at = s->int64(4);
  return r;
}

void SqliteTx::begin_idempotency(const IdempotencyRecord& r) {
  Use s(db_.prepare(
      "INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response_body, "
      "checkout_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  s->bind(1, r.scope).bind(2, r.key).bind_blob(3, r.request_hash).bind(4, r.status_code);
  s->bind_text_or_null(5, r.response_body).bind_text_or_null(6, r.checkout_id);
  s->bind(7, r.created_at);
  s->run();
}

void SqliteTx::complete_idempotency(std::string_view scope, std::string_view key, int status_code,
                                    std::string_view body, Timestamp now) {
  Use s(db_.prepare(
      "UPDATE idempotency_keys SET status_code = ?, response_body = ?, completed_at = ? "
      "WHERE scope = ? AND key = ? AND status_code = 0"));
  s->bind(1, status_code).bind(2, body).bind(3, now).bind(4, scope).bind(5, key);
  s->run();
}

int SqliteTx::purge_idempotency(Timestamp created_before) {
  // In-progress keys go too: their job finished or died long ago, and a key must not answer
  // in_progress forever after a crash.
  Use s(db_.prepare("DELETE FROM idempotency_keys WHERE created_at < ?"));
  s->bind(1, created_before);
  s->run();
  return db_.changes();
}

bool SqliteTx::insert_inbound(InboundWebhook& w) {
  Use s(db_.prepare(
      "INSERT INTO inbound_webhooks (adapter_id, partner_event_id, event_type, checkout_id, body, "
      "status, error, received_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (adapter_id, partner_event_id) DO NOTHING"));
  s->bind(1, w.adapter_id).bind(2, w.partner_event_id).bind(3, w.event_type);
  s->bind_text_or_null(4, w.checkout_id).bind(5, w.body).bind(6, inbound_status_name(w.status));
  s->bind_text_or_null(7, w.error).bind(8, w.received_at).bind(9, w.received_at);
  s->run();
  if (db_.changes() == 0) return false;
  w.id = db_.last_insert_rowid();
  return true;
}

void SqliteTx::set_inbound_status(std::int64_t id, InboundStatus status, std::string_view error,
                                  std::string_view checkout_id, Timestamp now) {
  Use s(
      db_.prepare("UPDATE inbound_webhooks SET status = ?, error = ?, "
                  "checkout_id = COALESCE(?, checkout_id), updated_at = ? WHERE id = ?"));
  s->bind(1, inbound_status_name(status)).bind_text_or_null(2, error);
  s->bind_text_or_null(3, checkout_id).bind(4, now).bind(5, id);
  s->run();
}

std::vector<InboundWebhook> SqliteTx::inbound_for_checkout(std::string_view checkout_id) {
  Use s(db_.prepare(
      "SELECT id, adapter_id, partner_event_id, event_type, checkout_id, body, status, error, "
      "received_at FROM inbound_webhooks WHERE checkout_id = ? ORDER BY id LIMIT 500"));
  s->bind(1, checkout_id);
  std::vector<InboundWebhook> out;
  while (s->step()) out.push_back(inbound_row(*s));
  return out;
}

std::optional<InboundWebhook> SqliteTx::inbound(std::int64_t id) {
  Use s(db_.prepare(
      "SELECT id, adapter_id, partner_event_id, event_type, checkout_id, body, status, error, "
      "received_at FROM inbound_webhooks WHERE id = ?"));
  s->bind(1, id);
  if (!s->step()) return std::nullopt;
  return inbound_row(*s);
}

void SqliteTx::record_partner_call(const PartnerCall& c) {
  Use s(db_.prepare(
      "INSERT INTO partner_calls (checkout_id, adapter_id, operation, idempotency_key, outcome, "
      "http_status, duration_ms, error, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  s->bind_text_or_null(1, c.checkout_id).bind(2, c.adapter_id).bind(3, c.operation);
  s->bind_text_or_null(4, c.idempotency_key).bind(5, c.outcome).bind(6, c.http_status);
  s->bind(7, c.duration_ms).bind_text_or_null(8, c.error).bind(9, c.at);
  s->run();
}

std::vector<PartnerCall> SqliteTx::partner_calls(std::string_view checkout_id) {
  Use s(db_.prepare(
      "SELECT checkout_id, adapter_id, operation, idempotency_key, outcome, http_status, "
      "duration_ms, error, at FROM partner_calls WHERE checkout_id = ? ORDER BY id LIMIT 500"));
  s->bind(1, checkout_id);
  std::vector<PartnerCall> out;
  while (s->step()) {
    out.push_back({s->text(0), s->text(1), s->text(2), s->text(3), s->text(4),
                   static_cast<int>(s->int64(5)), s->int64(6), s->text(7), s->int64(8)});
  }
  return out;
}

}  // namespace mg::store::sqlite
