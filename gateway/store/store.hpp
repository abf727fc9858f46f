#pragma once
// Durable state behind an interface a PostgreSQL backend can implement: transactions are
// functions run by the store, so callers never see SQL, connections or SQLite-only semantics.
// A write unit is atomic: its state, events and jobs commit together or not at all.
#include "gateway/core/error.hpp"
#include "gateway/core/model.hpp"
#include "gateway/core/routing.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mg::store {

using core::Timestamp;

struct ListQuery {
  int limit = 20;              // 1..100
  std::string starting_after;  // an id from the previous page
};

template <class T>
struct Page {
  std::vector<T> data;
  bool has_more = false;
};

struct CheckoutFilter {
  std::string status;
  std::string seller;
  ListQuery page;
};

struct EventFilter {
  std::string type;
  std::string checkout_id;
  ListQuery page;
};

struct StoredEvent {
  std::string id;
  std::string type;
  std::string checkout_id;
  Timestamp created_at = 0;
  std::string body;  // the exact bytes delivered (core::event_body)
};

// An adapter instance's configuration; credentials are sealed (AES-256-GCM) by the caller.
struct AdapterRecord {
  std::string id;
  std::string type;
  bool enabled = true;
  std::string base_url;
  std::string sealed_credentials;  // empty: none
  boost::json::object settings;
  Timestamp created_at = 0;
  Timestamp updated_at = 0;
};

enum class JobState { queued, done, dead };

struct Job {
  std::int64_t id = 0;
  std::string kind;
  std::string checkout_id;
  std::string serial_key;
  boost::json::object payload;
  JobState state = JobState::queued;
  int attempts = 0;  // claims so far, this one included
  Timestamp run_at = 0;
  std::string lease_owner;
  Timestamp lease_until = 0;
  std::string last_error;
  Timestamp created_at = 0;
  Timestamp updated_at = 0;
};

struct JobStats {
  std::int64_t queued = 0;
  std::int64_t leased = 0;
  std::int64_t dead = 0;
  Timestamp oldest_due = 0;  // run_at of the oldest due, unleased job; 0 when none
};

enum class InboundStatus { applied, pending, ignored };

// A partner webhook as received (one partner event; a batch is several rows).
struct InboundWebhook {
  std::int64_t id = 0;
  std::string adapter_id;
  std::string partner_event_id;
  std::string event_type;
  std::string checkout_id;
  std::string body;  // the normalized fact as JSON, for re-application and audit
  InboundStatus status = InboundStatus::pending;
  std::string error;
  Timestamp received_at = 0;
};

// One Idempotency-Key use. status_code 0 means the first request is still running.
struct IdempotencyRecord {
  std::string scope;  // the API key id
  std::string key;
  std::string request_hash;
  int status_code = 0;
  std::string response_body;
  std::string checkout_id;
  Timestamp created_at = 0;
};

// One call to a partner, recorded against the checkout it served (for operators).
struct PartnerCall {
  std::string checkout_id;
  std::string adapter_id;
  std::string operation;
  std::string idempotency_key;
  std::string outcome;  // "ok", "declined", "failed", "error:<code>"
  int http_status = 0;
  std::int64_t duration_ms = 0;
  std::string error;
  Timestamp at = 0;
};

// Where normalized events go (CONTRACT §6). Secrets are sealed by the caller.
struct EndpointRecord {
  std::string id;  // we_...
  std::string url;
  std::vector<std::string> events;  // event types, or "*"
  bool enabled = true;
  std::string description;
  std::string sealed_secrets;     // [{"secret": "whsec_...", "expires_at": ms or 0}], sealed
  std::string status = "active";  // "active", or "failing" once retries ran out (paused)
  Timestamp failing_since = 0;
  Timestamp created_at = 0;
  Timestamp updated_at = 0;
};

// One event on its way to one endpoint.
struct Delivery {
  std::int64_t id = 0;
  std::string endpoint_id;
  std::string event_id;
  std::string checkout_id;
  std::string event_body;  // the exact bytes to send
  int attempts = 0;        // made before this one
  Timestamp created_at = 0;
};

struct DeliveryAttempt {
  std::int64_t id = 0;
  std::int64_t delivery_id = 0;
  std::string endpoint_id;
  std::string event_id;
  Timestamp at = 0;
  int status_code = 0;  // 0: no HTTP answer
  std::int64_t latency_ms = 0;
  std::string response;  // the first bytes of the reply
  std::string error;
};

struct DeliveryStats {
  std::int64_t pending = 0;
  Timestamp oldest_pending_created_at = 0;  // 0 when none
};

// An API key kept in the database: only the SHA-256 of the key itself is stored.
struct ApiKeyRecord {
  std::string id;      // key_...
  std::string hash;    // hex SHA-256 of the key
  std::string prefix;  // "mgk_live_"
  std::string last4;   // the key's last four characters, to recognise it
  std::string role;    // "app", "admin" or "viewer"
  std::string seller;  // an app key restricted to one seller; empty = any
  std::string name;
  std::string created_by;  // the id of the key that created it
  Timestamp created_at = 0;
  Timestamp last_used_at = 0;  // 0: never
  Timestamp revoked_at = 0;    // 0: live
};

// One admin request as the audit log keeps it; `change` is the request body with every secret
// removed (JSON, empty when there was none).
struct AuditEntry {
  std::string id;  // aud_...
  std::string key_id;
  std::string method;
  std::string path;
  std::string change;
  int status = 0;
  std::string remote;
  std::string request_id;
  Timestamp at = 0;
};

struct AuditFilter {
  std::string key_id;       // empty: every key
  std::string path_prefix;  // empty: every path
  ListQuery page;           // starting_after: an audit entry id (newest first)
};

// Reference kinds for ReadTx::checkout_by_reference.
namespace ref_kind {
inline constexpr std::string_view payment = "payment";          // processor payment id
inline constexpr std::string_view refund = "refund";            // processor refund id
inline constexpr std::string_view order = "order";              // merch partner order id
inline constexpr std::string_view fulfillment = "fulfillment";  // merchgate ful_ id
}  // namespace ref_kind

class ReadTx {
 public:
  virtual ~ReadTx() = default;

  virtual std::optional<core::Seller> seller(std::string_view id) = 0;
  virtual Page<core::Seller> sellers(const ListQuery& q) = 0;
  virtual std::optional<core::Product> product(std::string_view sku) = 0;
  // A seller's products by sku; `seller` empty = all sellers.
  virtual Page<core::Product> products(std::string_view seller, bool active_only,
                                       const ListQuery& q) = 0;
  virtual std::vector<core::Product> products_in_group(std::string_view seller,
                                                       std::string_view group) = 0;

  virtual std::optional<AdapterRecord> adapter(std::string_view id) = 0;
  virtual std::vector<AdapterRecord> adapters() = 0;
  virtual std::optional<core::RoutingTable> routing() = 0;

  virtual std::optional<core::Checkout> checkout(std::string_view id) = 0;
  virtual Page<core::Checkout> checkouts(const CheckoutFilter& f) = 0;
  virtual std::optional<std::string> checkout_by_reference(std::string_view kind,
                                                           std::string_view adapter_id,
                                                           std::string_view reference) = 0;
  // Checkouts whose reconcile_at is due at `now`, most overdue first.
  virtual std::vector<core::Checkout> due_for_reconcile(Timestamp now, int limit) = 0;

  virtual Page<StoredEvent> events(const EventFilter& f) = 0;
  virtual std::optional<StoredEvent> event(std::string_view id) = 0;

  virtual std::optional<IdempotencyRecord> idempotency(std::string_view scope,
                                                       std::string_view key) = 0;

  virtual std::vector<Job> jobs_for_checkout(std::string_view checkout_id) = 0;
  virtual JobStats job_stats(Timestamp now) = 0;
  virtual std::vector<PartnerCall> partner_calls(std::string_view checkout_id) = 0;
  virtual std::vector<InboundWebhook> inbound_for_checkout(std::string_view checkout_id) = 0;
  virtual std::optional<InboundWebhook> inbound(std::int64_t id) = 0;

  // The highest migration applied (0 before any).
  virtual int schema_version() = 0;

  virtual std::optional<EndpointRecord> endpoint(std::string_view id) = 0;
  virtual std::vector<EndpointRecord> endpoints() = 0;
  // An endpoint's attempts, newest first; starting_after is an attempt id.
  virtual Page<DeliveryAttempt> delivery_attempts(std::string_view endpoint_id,
                                                  const ListQuery& q) = 0;
  virtual DeliveryStats delivery_stats() = 0;

  virtual std::optional<ApiKeyRecord> api_key(std::string_view id) = 0;
  // Every key, revoked ones too, by id (creation order).
  virtual Page<ApiKeyRecord> api_keys(const ListQuery& q) = 0;
  virtual std::vector<ApiKeyRecord> live_api_keys() = 0;
  // Newest first.
  virtual Page<AuditEntry> audit_log(const AuditFilter& f) = 0;
};

class WriteTx : public ReadTx {
 public:
  virtual void put_seller(const core::Seller& s) = 0;
  virtual void put_product(const core::Product& p) = 0;
  virtual bool delete_product(std::string_view sku) = 0;
  // What still names the seller: products, checkouts, API keys restricted to it (any > 0 keeps
  // it). Deletes it only when nothing does; false when there was no such seller.
  struct SellerUse {
    long products = 0, checkouts = 0, api_keys = 0;
    bool any() const { return products + checkouts + api_keys > 0; }
  };
  virtual SellerUse seller_use(std::string_view id) = 0;
  virtual bool delete_seller(std::string_view id) = 0;
  virtual void put_adapter(const AdapterRecord& a) = 0;
  virtual bool delete_adapter(std::string_view id) = 0;
  virtual void put_routing(const core::RoutingTable& t, Timestamp now) = 0;

  // The checkout, locked for this transaction (SELECT ... FOR UPDATE where that exists).
  virtual std::optional<core::Checkout> lock_checkout(std::string_view id) = 0;
  // Both also index the checkout's partner references for checkout_by_reference, and keep
  // reconcile_at (0: NULL) queryable.
  virtual void insert_checkout(const core::Checkout& c) = 0;
  virtual void update_checkout(const core::Checkout& c) = 0;

  // Also queues a delivery to every enabled endpoint whose filter matches each event: an event
  // never commits without its deliveries.
  virtual void append_events(const std::vector<core::Event>& events) = 0;

  // Queues jobs; returns their ids in order.
  virtual std::vector<std::int64_t> enqueue_jobs(const std::vector<core::JobSpec>& jobs,
                                                 Timestamp now) = 0;
  // Queues a job already leased by `owner` (a request that runs it inline; if the process dies,
  // the lease expires and a worker takes it).
  virtual Job enqueue_leased_job(const core::JobSpec& job, std::string_view owner,
                                 Timestamp lease_until, Timestamp now) = 0;
  // Leases up to `limit` due jobs whose serial key has no older queued job.
  virtual std::vector<Job> claim_jobs(std::string_view owner, Timestamp now, Timestamp lease_until,
                                      int limit) = 0;
  virtual void complete_job(std::int64_t id, Timestamp now) = 0;
  virtual void retry_job(std::int64_t id, Timestamp run_at, std::string_view error,
                         Timestamp now) = 0;
  virtual void bury_job(std::int64_t id, std::string_view error, Timestamp now) = 0;
  // Releases leases held by `owner` (a clean shutdown), so the next process takes them at once.
  virtual void release_leases(std::string_view owner, Timestamp now) = 0;
  virtual int purge_done_jobs(Timestamp older_than) = 0;

  // False (and nothing written) when (adapter_id, partner_event_id) was seen before.
  virtual bool insert_inbound(InboundWebhook& w) = 0;
  virtual void set_inbound_status(std::int64_t id, InboundStatus status, std::string_view error,
                                  std::string_view checkout_id, Timestamp now) = 0;

  virtual void begin_idempotency(const IdempotencyRecord& r) = 0;
  virtual void complete_idempotency(std::string_view scope, std::string_view key, int status_code,
                                    std::string_view body, Timestamp now) = 0;
  // Drops every key created before the cutoff (replies stay replayable at least until then).
  virtual int purge_idempotency(Timestamp created_before) = 0;

  virtual void record_partner_call(const PartnerCall& call) = 0;

  virtual void put_endpoint(const EndpointRecord& e) = 0;
  // Also drops its undelivered deliveries.
  virtual bool delete_endpoint(std::string_view id) = 0;
  virtual void set_endpoint_status(std::string_view id, std::string_view status, Timestamp now) = 0;
  // Leases due deliveries, at most `capacity[i].second` for endpoint `capacity[i].first`, each
  // the oldest undelivered one of its checkout for that endpoint (per-checkout order).
  virtual std::vector<Delivery> claim_deliveries(
      std::string_view owner, Timestamp now, Timestamp lease_until,
      const std::vector<std::pair<std::string, int>>& capacity) = 0;
  // Records the attempt; a delivered one is done, any other goes back to the queue for
  // `next_attempt_at` (lease cleared, attempts + 1).
  virtual void finish_delivery(std::int64_t id, const DeliveryAttempt& attempt, bool delivered,
                               Timestamp next_attempt_at) = 0;
  virtual void release_delivery_leases(std::string_view owner) = 0;
  // Queues the event again for one endpoint, or every enabled endpoint it matches (empty id).
  virtual int redeliver_event(std::string_view event_id, std::string_view endpoint_id,
                              Timestamp now) = 0;
  // Queues every event since `since` that the endpoint's filter matches; at most `max`.
  virtual int replay_events(std::string_view endpoint_id, Timestamp since, int max,
                            Timestamp now) = 0;

  virtual void insert_api_key(const ApiKeyRecord& k) = 0;
  // False when there is no such key or it was revoked before.
  virtual bool revoke_api_key(std::string_view id, Timestamp now) = 0;
  virtual void touch_api_key(std::string_view id, Timestamp now) = 0;
  // The audit log is append-only: nothing updates or deletes an entry.
  virtual void append_audit(const AuditEntry& e) = 0;
};

struct StoreOptions {
  std::string url = "sqlite:var/merchgate.db";  // sqlite:PATH
  std::string sync = "normal";                  // normal | full
  int readers = 2;
  int max_batch = 256;  // write units per commit
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `fn` in a write transaction, batched with other units into one commit (group commit).
  // The unit is rolled back alone when `fn` returns false or throws. `fn` may run more than once
  // (when a batch-mate declined, the batch is rolled back and run again): it must read what it
  // needs from the transaction and overwrite, not accumulate, what it hands back. `done` runs after
  // the commit (on a store thread; keep it short) with nullptr, or with the exception that failed
  // the unit or the commit. Nothing a unit wrote is visible to anyone before `done`.
  using WriteFn = std::function<bool(WriteTx&)>;
  using ReadFn = std::function<void(ReadTx&)>;
  using Done = std::function<void(std::exception_ptr)>;
  virtual void write(WriteFn fn, Done done) = 0;
  // Runs `fn` on a consistent snapshot on one of the read connections.
  virtual void read(ReadFn fn, Done done) = 0;

  // Applies pending migrations (idempotent). Returns the schema version now in place.
  virtual Result<int> migrate() = 0;
  virtual int schema_version() = 0;
  virtual int latest_schema_version() const = 0;
  // A trivial read through the store's threads (for /readyz); false when storage is unusable.
  virtual bool ping() = 0;
  // Writes a consistent copy of the database to `path` while it stays online.
  virtual Result<void> backup(const std::string& path) = 0;
  // Finishes queued work and closes; later calls fail.
  virtual void close() = 0;
};

// Opens the store named by options.url; errors are start-up errors naming the URL.
Result<std::unique_ptr<Store>> open_store(const StoreOptions& options);

}  // namespace mg::store
