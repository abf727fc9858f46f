#pragma once
// The flows that move money and merch: creating, canceling and refunding checkouts for app
// backends, applying partner webhooks, running the jobs that call partners, and reconciling
// anything stuck. Every state change is one store transaction holding the new state, its events
// and its jobs; every partner call carries an idempotency key derived from the job.
#include "adapters/adapter.hpp"
#include "gateway/core/cart.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/core/model.hpp"
#include "gateway/service/adapter_manager.hpp"
#include "gateway/store/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace mg::service {

template <class T>
using Task = boost::asio::awaitable<T>;

// A reply as the API sends it and as an idempotency key stores it.
struct Reply {
  int status = 200;
  std::string body;  // JSON
};

// Who is calling: an app key (checkout API) or an admin key.
struct Caller {
  std::string key_id;
  std::string role;    // "app", "admin" or "viewer"
  std::string seller;  // an app key restricted to one seller; empty = any
};

struct ServiceOptions {
  std::string worker_id = "merchgate";  // lease owner for jobs run inline by requests
  std::chrono::milliseconds lease{120'000};
  std::chrono::milliseconds quote_cache_ttl{60'000};
  // Reconciler: how long a payment or an order may go without news before merchgate asks.
  std::chrono::milliseconds stale_payment_after{10 * 60'000};
  std::chrono::milliseconds stale_order_after{60 * 60'000};
  // Jobs stop retrying after this long (payment.create: the processor keeps idempotency 24 h).
  std::chrono::milliseconds job_give_up_after{24 * 3600'000};
};

class CheckoutService {
 public:
  CheckoutService(store::Store& store, AdapterManager& adapters, const core::Clock& clock,
                  ServiceOptions options);

  // ---- app API (CONTRACT §3); each honours Idempotency-Key (CONTRACT §2) ----
  Task<Reply> create_checkout(const Caller& caller, std::string idempotency_key, std::string body,
                              std::string traceparent);
  Task<Reply> cancel_checkout(const Caller& caller, std::string idempotency_key,
                              std::string checkout_id, std::string body);
  Task<Reply> refund_checkout(const Caller& caller, std::string idempotency_key,
                              std::string checkout_id, std::string body, std::string traceparent);

  // ---- partner webhooks (CONTRACT §4) ----
  // Stores every event durably (deduplicated on adapter + partner event id) and applies those
  // whose checkout is known, in one transaction. An error means nothing was stored.
  Task<Result<void>> accept_inbound(std::string adapter_id,
                                    std::vector<adapters::InboundEvent> events);

  // ---- jobs ----
  // What a request that runs its job inline already holds: the job need not read it back, and its
  // reply comes back from the job's own commit instead of another read.
  struct Preloaded {
    const core::Checkout* checkout = nullptr;  // as just committed with the job
    std::optional<core::Seller> seller;
    std::optional<Reply> reply;  // set by the job when its settlement commits a reply
  };
  // Runs one leased job to its next state (done, retry later, or dead).
  Task<void> run_job(store::Job job, Preloaded* preloaded = nullptr);
  // Called after a commit that queued jobs for the workers.
  void on_jobs_queued(std::function<void()> notify);
  // Called after a commit that appended events (their deliveries are queued with them).
  void on_events_appended(std::function<void()> notify);

  // ---- background ----
  // Queues sync jobs for payments and orders with no news past their deadline; returns how many.
  Task<int> reconcile_once();
  // Drops idempotency keys older than 48 h and finished jobs older than 7 days.
  Task<void> housekeeping();

  const core::Clock& clock() const { return clock_; }
  store::Store& store() { return store_; }
  AdapterManager& adapters() { return adapters_; }
  const ServiceOptions& options() const { return options_; }

 private:
  struct Quoted;
  Task<Result<std::map<std::string, std::int64_t>>> quote(const core::CheckoutRequest& request,
                                                          const core::CartPlan& plan,
                                                          const std::string& traceparent);
  Task<Reply> run_inline(store::Job job, std::string scope, std::string key,
                         Preloaded* preloaded = nullptr);

  Task<void> job_payment_create(store::Job& job, Preloaded* preloaded);
  Task<void> job_payment_cancel(store::Job& job);
  Task<void> job_payment_capture(store::Job& job);
  Task<void> job_payment_refund(store::Job& job);
  Task<void> job_payment_sync(store::Job& job);
  Task<void> job_refund_sync(store::Job& job);
  Task<void> job_fulfillment_create(store::Job& job);
  Task<void> job_fulfillment_cancel(store::Job& job);
  Task<void> job_fulfillment_sync(store::Job& job);
  Task<void> job_inbound_apply(store::Job& job);

  struct Settle;
  Task<bool> settle(store::Job& job, Settle& settlement, std::optional<Reply>* reply_out = nullptr);
  Task<void> retry_later(store::Job& job, std::string error, std::chrono::milliseconds min_delay);
  Task<std::optional<core::Checkout>> load(std::string_view checkout_id);
  void record_call(store::WriteTx& tx, const store::Job& job, std::string_view adapter_id,
                   std::string_view operation, std::string_view key, const std::string& outcome,
                   int http_status, std::int64_t ms, const std::string& error);
  std::chrono::milliseconds backoff(int attempts) const;
  bool gave_up(const store::Job& job) const;
  void notify();
  void observe(const core::Effects& fx);

  store::Store& store_;
  AdapterManager& adapters_;
  const core::Clock& clock_;
  ServiceOptions options_;
  std::function<void()> notify_;
  std::function<void()> events_notify_;
  core::Staleness staleness_;

  std::mutex quote_mutex_;
  std::map<std::string, std::pair<core::Timestamp, std::int64_t>> quote_cache_;
};

// The request hash an Idempotency-Key is bound to: method, path and the exact body bytes.
std::string request_fingerprint(std::string_view method, std::string_view path,
                                std::string_view body);

}  // namespace mg::service
