#pragma once
// The SQLite implementation of a transaction: every method is SQL on one connection inside a
// transaction the store opened.
#include "gateway/store/sqlite_db.hpp"
#include "gateway/store/store.hpp"

namespace mg::store::sqlite {

class SqliteTx final : public WriteTx {
 public:
  explicit SqliteTx(Db& db) : db_(db) {}

  // ReadTx
  std::optional<core::Seller> seller(std::string_view id) override;
  Page<core::Seller> sellers(const ListQuery& q) override;
  std::optional<core::Product> product(std::string_view sku) override;
  Page<core::Product> products(std::string_view seller, bool active_only,
                               const ListQuery& q) override;
  std::vector<core::Product> products_in_group(std::string_view seller,
                                               std::string_view group) override;
  std::optional<AdapterRecord> adapter(std::string_view id) override;
  std::vector<AdapterRecord> adapters() override;
  std::optional<core::RoutingTable> routing() override;
  std::optional<core::Checkout> checkout(std::string_view id) override;
  Page<core::Checkout> checkouts(const CheckoutFilter& f) override;
  std::optional<std::string> checkout_by_reference(std::string_view kind,
                                                   std::string_view adapter_id,
                                                   std::string_view reference) override;
  std::vector<core::Checkout> due_for_reconcile(Timestamp now, int limit) override;
  Page<StoredEvent> events(const EventFilter& f) override;
  std::optional<StoredEvent> event(std::string_view id) override;
  std::optional<IdempotencyRecord> idempotency(std::string_view scope,
                                               std::string_view key) override;
  std::vector<Job> jobs_for_checkout(std::string_view checkout_id) override;
  JobStats job_stats(Timestamp now) override;
  std::vector<PartnerCall> partner_calls(std::string_view checkout_id) override;
  std::vector<InboundWebhook> inbound_for_checkout(std::string_view checkout_id) override;
  std::optional<InboundWebhook> inbound(std::int64_t id) override;
  int schema_version() override;
  std::optional<EndpointRecord> endpoint(std::string_view id) override;
  std::vector<EndpointRecord> endpoints() override;
  Page<DeliveryAttempt> delivery_attempts(std::string_view endpoint_id,
                                          const ListQuery& q) override;
  DeliveryStats delivery_stats() override;
  std::optional<ApiKeyRecord> api_key(std::string_view id) override;
  Page<ApiKeyRecord> api_keys(const ListQuery& q) override;
  std::vector<ApiKeyRecord> live_api_keys() override;
  Page<AuditEntry> audit_log(const AuditFilter& f) override;

  // WriteTx
  void put_seller(const core::Seller& s) override;
  void put_product(const core::Product& p) override;
  bool delete_product(std::string_view sku) override;
  SellerUse seller_use(std::string_view id) override;
  bool delete_seller(std::string_view id) override;
  void put_adapter(const AdapterRecord& a) override;
  bool delete_adapter(std::string_view id) override;
  void put_routing(const core::RoutingTable& t, Timestamp now) override;
  std::optional<core::Checkout> lock_checkout(std::string_view id) override;
  void insert_checkout(const core::Checkout& c) override;
  void update_checkout(const core::Checkout& c) override;
  void append_events(const std::vector<core::Event>& events) override;
  std::vector<std::int64_t> enqueue_jobs(const std::vector<core::JobSpec>& jobs,
                                         Timestamp now) override;
  Job enqueue_leased_job(const core::JobSpec& job, std::string_view owner, Timestamp lease_until,
                         Timestamp now) override;
  std::vector<Job> claim_jobs(std::string_view owner, Timestamp now, Timestamp lease_until,
                              int limit) override;
  void complete_job(std::int64_t id, Timestamp now) override;
  void retry_job(std::int64_t id, Timestamp run_at, std::string_view error, Timestamp now) override;
  void bury_job(std::int64_t id, std::string_view error, Timestamp now) override;
  void release_leases(std::string_view owner, Timestamp now) override;
  int purge_done_jobs(Timestamp older_than) override;
  bool insert_inbound(InboundWebhook& w) override;
  void set_inbound_status(std::int64_t id, InboundStatus status, std::string_view error,
                          std::string_view checkout_id, Timestamp now) override;
  void begin_idempotency(const IdempotencyRecord& r) override;
  void complete_idempotency(std::string_view scope, std::string_view key, int status_code,
                            std::string_view body, Timestamp now) override;
  int purge_idempotency(Timestamp created_before) override;
  void record_partner_call(const PartnerCall& call) override;
  void put_endpoint(const EndpointRecord& e) override;
  bool delete_endpoint(std::string_view id) override;
  void set_endpoint_status(std::string_view id, std::string_view status, Timestamp now) override;
  std::vector<Delivery> claim_deliveries(
      std::string_view owner, Timestamp now, Timestamp lease_until,
      const std::vector<std::pair<std::string, int>>& capacity) override;
  void finish_delivery(std::int64_t id, const DeliveryAttempt& attempt, bool delivered,
                       Timestamp next_attempt_at) override;
  void release_delivery_leases(std::string_view owner) override;
  int redeliver_event(std::string_view event_id, std::string_view endpoint_id,
                      Timestamp now) override;
  int replay_events(std::string_view endpoint_id, Timestamp since, int max, Timestamp now) override;
  void insert_api_key(const ApiKeyRecord& k) override;
  bool revoke_api_key(std::string_view id, Timestamp now) override;
  void touch_api_key(std::string_view id, Timestamp now) override;
  void append_audit(const AuditEntry& e) override;

 private:
  void index_references(const core::Checkout& c);
  std::optional<std::int64_t> seq_of(const char* sql, std::string_view id);

  Db& db_;
};

// Limits a page size to 1..100 as CONTRACT §2 says.
int page_limit(const ListQuery& q);

}  // namespace mg::store::sqlite
