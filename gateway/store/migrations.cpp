#include "gateway/store/migrations.hpp"

namespace mg::store::sqlite {
namespace {

// Never edit a migration that has shipped: add a new one.
constexpr std::string_view kInitial = R"sql(
CREATE TABLE sellers (
  id TEXT PRIMARY KEY,
  doc TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE products (
  sku TEXT PRIMARY KEY,
  seller TEXT NOT NULL,
  active INTEGER NOT NULL,
  grp TEXT,
  doc TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX products_by_seller ON products (seller, sku);
CREATE TABLE adapters (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  base_url TEXT,
  credentials BLOB,
  settings TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE config (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE checkouts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  seller TEXT NOT NULL,
  status TEXT NOT NULL,
  doc TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX checkouts_by_status ON checkouts (status, updated_at);
CREATE INDEX checkouts_by_seller ON checkouts (seller, seq);
CREATE TABLE partner_refs (
  kind TEXT NOT NULL,
  adapter_id TEXT NOT NULL,
  reference TEXT NOT NULL,
  checkout_id TEXT NOT NULL,
  PRIMARY KEY (kind, adapter_id, reference)
) WITHOUT ROWID;
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  checkout_id TEXT,
  created_at INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX events_by_checkout ON events (checkout_id, seq);
CREATE INDEX events_by_type ON events (type, seq);
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  checkout_id TEXT,
  serial_key TEXT,
  payload TEXT NOT NULL,
  state TEXT NOT NULL,
  run_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_until INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_serial ON jobs (serial_key, id) WHERE state = 'queued';
CREATE INDEX jobs_by_checkout ON jobs (checkout_id, id);
CREATE INDEX jobs_done ON jobs (updated_at) WHERE state = 'done';
CREATE TABLE inbound_webhooks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  adapter_id TEXT NOT NULL,
  partner_event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  checkout_id TEXT,
  body TEXT NOT NULL,
  status TEXT NOT NULL,
  error TEXT,
  received_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (adapter_id, partner_event_id)
);
CREATE INDEX inbound_by_checkout ON inbound_webhooks (checkout_id, id);
CREATE TABLE idempotency_keys (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash BLOB NOT NULL,
  status_code INTEGER NOT NULL DEFAULT 0,
  response_body TEXT,
  checkout_id TEXT,
  created_at INTEGER NOT NULL,
  completed_at INTEGER,
  PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_by_age ON idempotency_keys (created_at);
CREATE TABLE partner_calls (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  checkout_id TEXT,
  adapter_id TEXT NOT NULL,
  operation TEXT NOT NULL,
  idempotency_key TEXT,
  outcome TEXT NOT NULL,
  http_status INTEGER,
  duration_ms INTEGER,
  error TEXT,
  at INTEGER NOT NULL
);
CREATE INDEX partner_calls_by_checkout ON partner_calls (checkout_id, id);
)sql";

// The reconciler's schedule: a checkout is looked at when reconcile_at is due (see
// core::reconcile_due_at); existing open checkouts are looked at once at once.
constexpr std::string_view kReconcileSchedule = R"sql(
ALTER TABLE checkouts ADD COLUMN reconcile_at INTEGER;
CREATE INDEX checkouts_by_reconcile ON checkouts (reconcile_at) WHERE reconcile_at IS NOT NULL;
UPDATE checkouts SET reconcile_at = updated_at
  WHERE status IN ('requires_payment', 'paid', 'fulfilling', 'fulfilled', 'partially_refunded',
                   'canceled');
)sql";

// Outbound events (CONTRACT §6): endpoints, one delivery per (event, endpoint), every attempt.
constexpr std::string_view kWebhookDelivery = R"sql(
CREATE TABLE webhook_endpoints (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  description TEXT,
  secrets BLOB NOT NULL,
  status TEXT NOT NULL,
  failing_since INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE webhook_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  endpoint_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  checkout_id TEXT,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_owner TEXT,
  lease_until INTEGER,
  last_status INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  delivered_at INTEGER
);
CREATE INDEX deliveries_pending ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX deliveries_in_order ON webhook_deliveries (endpoint_id, checkout_id, id)
  WHERE status = 'pending';
CREATE INDEX deliveries_by_event ON webhook_deliveries (event_id);
CREATE TABLE webhook_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id INTEGER NOT NULL,
  endpoint_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  status_code INTEGER,
  latency_ms INTEGER NOT NULL,
  response TEXT,
  error TEXT
);
CREATE INDEX attempts_by_endpoint ON webhook_attempts (endpoint_id, id);
)sql";

// API keys kept in the database (only their SHA-256), and the append-only audit log of admin
// changes: triggers refuse to alter or delete a row once written.
constexpr std::string_view kApiKeysAndAudit = R"sql(
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  last4 TEXT NOT NULL,
  role TEXT NOT NULL,
  seller TEXT,
  name TEXT,
  created_by TEXT,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  key_id TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  change TEXT,
  status INTEGER NOT NULL,
  remote TEXT,
  request_id TEXT,
  at INTEGER NOT NULL
);
CREATE INDEX audit_by_key ON audit_log (key_id, seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
)sql";

// Sorted by version; numbers are never reused.
// The deliverer's claim walks one endpoint's pending deliveries in id order and stops after a
// few: without this index SQLite scanned every pending row per claim (300 deliveries/s at a
// backlog of 8,000, docs/performance.md).
constexpr std::string_view kDeliveryQueueIndex = R"sql(
CREATE INDEX deliveries_queue ON webhook_deliveries (endpoint_id, id) WHERE status = 'pending';
)sql";

constexpr Migration kMigrations[] = {
    {1, "initial", kInitial},
    {2, "reconcile_schedule", kReconcileSchedule},
    {3, "webhook_delivery", kWebhookDelivery},
    {4, "api_keys_and_audit", kApiKeysAndAudit},
    {5, "delivery_queue_index", kDeliveryQueueIndex},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

}  // namespace mg::store::sqlite
