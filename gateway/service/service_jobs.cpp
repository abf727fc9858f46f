// The jobs: each calls one partner with an idempotency key derived from the job, then records
// the outcome, the next state, its events and any new jobs in one transaction.
#include "gateway/core/checkout_machine.hpp"
#include "gateway/core/crypto.hpp"
#include "gateway/core/metrics.hpp"
#include "gateway/log/log.hpp"
#include "gateway/server/http_types.hpp"
#include "gateway/service/checkout_service.hpp"
#include "gateway/service/crash_point.hpp"
#include "gateway/service/service_internal.hpp"
#include "gateway/store/async.hpp"

#include <boost/json/serialize.hpp>

#include <chrono>
#include <random>

namespace mg::service {
namespace bj = boost::json;
using adapters::adapter_errc;
using adapters::AdapterError;

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t elapsed_ms(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

template <class T>
std::optional<AdapterError> error_of(const adapters::AResult<T>& r) {
  if (r) return std::nullopt;
  return r.error();
}

// The record of one partner call, for the operator's view of a checkout.
template <class T>
store::PartnerCall call_record(std::string_view checkout_id, std::string_view adapter_id,
                               std::string_view operation, std::string_view key,
                               const adapters::AResult<T>& r, std::int64_t ms, core::Timestamp at) {
  auto e = error_of(r);
  return {std::string(checkout_id),
          std::string(adapter_id),
          std::string(operation),
          std::string(key),
          e ? e->code.message() : "ok",
          e ? e->http_status : 0,
          ms,
          e ? e->message : "",
          at};
}

template <class T>
void feed_breaker(adapters::Adapter& adapter, const adapters::AResult<T>& r) {
  auto e = error_of(r);
  if (e && adapters::is_partner_failure(*e)) {
    adapter.breaker().record_failure();
  } else {
    adapter.breaker().record_success();
  }
}

std::string payload_string(const bj::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// What to do with the job once the partner answered.
struct Next {
  enum class What { complete, retry, bury } what = What::complete;
  std::chrono::milliseconds delay{0};
  std::string error;

  static Next complete() { return {}; }
  static Next retry(std::chrono::milliseconds d, std::string e) {
    return {What::retry, d, std::move(e)};
  }
  static Next bury(std::string e) { return {What::bury, {}, std::move(e)}; }
};

std::string_view what_name(Next::What w) {
  switch (w) {
    case Next::What::complete:
      return "done";
    case Next::What::retry:
      return "retry";
    case Next::What::bury:
      return "dead";
  }
  return "done";
}

}  // namespace

std::chrono::milliseconds CheckoutService::backoff(int attempts) const {
  static constexpr std::int64_t kSteps[] = {1'000,   5'000,     30'000,   120'000,
                                            600'000, 1'800'000, 3'600'000};
  int i = std::clamp(attempts - 1, 0, static_cast<int>(std::size(kSteps)) - 1);
  // +-20 % jitter so retries of many jobs do not arrive together.
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return std::chrono::milliseconds(static_cast<std::int64_t>(kSteps[i] * jitter(rng)));
}

bool CheckoutService::gave_up(const store::Job& job) const {
  return clock_.now() - job.created_at > options_.job_give_up_after.count();
}

Task<std::optional<core::Checkout>> CheckoutService::load(std::string_view checkout_id) {
  std::string id(checkout_id);
  auto c = co_await store::async_read(
      store_,
      [&](store::ReadTx& tx) -> Result<std::optional<core::Checkout>> { return tx.checkout(id); });
  if (!c) throw std::runtime_error(c.error().message);
  co_return std::move(*c);
}

void CheckoutService::record_call(store::WriteTx& tx, const store::Job& job,
                                  std::string_view adapter_id, std::string_view operation,
                                  std::string_view key, const std::string& outcome, int http_status,
                                  std::int64_t ms, const std::string& error) {
  tx.record_partner_call({job.checkout_id, std::string(adapter_id), std::string(operation),
                          std::string(key), outcome, http_status, ms, error, clock_.now()});
}

// One transaction: partner calls recorded, the checkout changed, the idempotent reply stored,
// the job finished or rescheduled. Built as a named local and passed by reference: GCC 12
// destroys aggregate and lambda temporaries inside a co_await expression twice.
struct CheckoutService::Settle {
  std::vector<store::PartnerCall> calls;
  std::function<core::Effects(core::Checkout&)> change;
  std::function<std::optional<Reply>(const core::Checkout&)> reply;
  Next next;
};

Task<void> CheckoutService::retry_later(store::Job& job, std::string error,
                                        std::chrono::milliseconds min_delay) {
  Settle settlement{{},
                    nullptr,
                    nullptr,
                    Next::retry(std::max(min_delay, backoff(job.attempts)), std::move(error))};
  co_await settle(job, settlement);
}

Task<bool> CheckoutService::settle(store::Job& job, Settle& s, std::optional<Reply>* reply_out) {
  store::Store& store = store_;
  core::Timestamp now = clock_.now();
  core::Effects fx;
  auto r = co_await store::async_write(store, [&](store::WriteTx& tx) -> Result<bool> {
    for (auto& call : s.calls) tx.record_partner_call(call);
    std::optional<core::Checkout> c;
    if (!job.checkout_id.empty()) c = tx.lock_checkout(job.checkout_id);
    if (c && s.change) {
      fx = s.change(*c);
      detail::persist(tx, *c, fx, now, staleness_);
    }
    if (c && s.reply) {
      if (auto reply = s.reply(*c)) {
        detail::complete_idempotency(tx, job, reply->status, reply->body, now);
        if (reply_out) *reply_out = std::move(reply);
      }
    }
    switch (s.next.what) {
      case Next::What::complete:
        tx.complete_job(job.id, now);
        break;
      case Next::What::retry:
        tx.retry_job(job.id, now + s.next.delay.count(), s.next.error, now);
        break;
      case Next::What::bury:
        tx.bury_job(job.id, s.next.error, now);
        break;
    }
    return true;
  });
  metrics::counter_add("merchgate_jobs_total",
                       {{"kind", job.kind}, {"outcome", std::string(what_name(s.next.what))}});
  if (!r) {
    if (reply_out) reply_out->reset();
    log::error("job.commit_failed", {{"job", job.id},
                                     {"kind", job.kind},
                                     {"checkout", job.checkout_id},
                                     {"error", r.error().message}});
    co_return false;
  }
  if (s.next.what == Next::What::bury) {
    log::error("job.dead", {{"job", job.id},
                            {"kind", job.kind},
                            {"checkout", job.checkout_id},
                            {"error", s.next.error}});
  } else if (s.next.what == Next::What::retry) {
    log::warn("job.retry", {{"job", job.id},
                            {"kind", job.kind},
                            {"checkout", job.checkout_id},
                            {"attempts", job.attempts},
                            {"error", s.next.error}});
  }
  observe(fx);
  co_return true;
}

Task<void> CheckoutService::run_job(store::Job job, Preloaded* preloaded) {
  std::optional<std::string> crashed;
  try {
    std::string_view kind = job.kind;
    if (kind == core::job_kind::payment_create) {
      co_await job_payment_create(job, preloaded);
    } else if (kind == core::job_kind::payment_refund) {
      co_await job_payment_refund(job);
    } else if (kind == core::job_kind::payment_cancel) {
      co_await job_payment_cancel(job);
    } else if (kind == "payment.capture") {
      co_await job_payment_capture(job);
    } else if (kind == core::job_kind::payment_sync) {
      co_await job_payment_sync(job);
    } else if (kind == core::job_kind::refund_sync) {
      co_await job_refund_sync(job);
    } else if (kind == core::job_kind::fulfillment_create) {
      co_await job_fulfillment_create(job);
    } else if (kind == core::job_kind::fulfillment_cancel) {
      co_await job_fulfillment_cancel(job);
    } else if (kind == core::job_kind::fulfillment_sync) {
      co_await job_fulfillment_sync(job);
    } else if (kind == core::job_kind::inbound_apply) {
      co_await job_inbound_apply(job);
    } else {
      {
        Settle settlement{{}, nullptr, nullptr, Next::bury("unknown job kind")};
        co_await settle(job, settlement);
      }
    }
  } catch (const std::exception& e) {
    crashed = e.what();
  }
  if (crashed) {
    // A bug or a storage failure: the job goes back to the queue and is tried again.
    log::error(
        "job.crashed",
        {{"job", job.id}, {"kind", job.kind}, {"checkout", job.checkout_id}, {"error", *crashed}});
    co_await retry_later(job, "crashed: " + *crashed, std::chrono::seconds(5));
  }
}

Task<void> CheckoutService::job_payment_create(store::Job& job, Preloaded* preloaded) {
  auto reply_checkout = [](int status) {
    return [status](const core::Checkout& c) -> std::optional<Reply> {
      return detail::checkout_reply(c, status);
    };
  };
  std::optional<Reply>* reply_out = preloaded ? &preloaded->reply : nullptr;
  std::optional<core::Checkout> loaded;
  if (preloaded && preloaded->checkout) {
    loaded = *preloaded->checkout;
  } else {
    loaded = co_await load(job.checkout_id);
  }
  if (!loaded) {
    {
      Settle settlement{{}, nullptr, nullptr, Next::complete()};
      co_await settle(job, settlement, reply_out);
    }
    co_return;
  }
  core::Checkout c = std::move(*loaded);
  if (c.payment.status != core::PaymentStatus::pending || !c.payment.reference.empty() ||
      c.canceled_at != 0) {
    // Already decided (a retry after a crash that followed the commit): answer as stored.
    {
      Settle settlement{{}, nullptr, reply_checkout(201), Next::complete()};
      co_await settle(job, settlement, reply_out);
    }
    co_return;
  }
  Result<std::optional<core::Seller>> seller = std::optional<core::Seller>{};
  if (preloaded && preloaded->checkout) {
    seller = preloaded->seller;
  } else {
    seller = co_await store::async_read(
        store_, [&](store::ReadTx& tx) -> Result<std::optional<core::Seller>> {
          return tx.seller(c.seller);
        });
  }
  if (!seller) throw std::runtime_error(seller.error().message);

  auto set = adapters_.current();
  // Once an attempt's outcome is unknown, only that processor is asked again (same key), so the
  // buyer can never be charged by two processors.
  std::vector<std::string> candidates = c.payment.processor.empty()
                                            ? c.payment.candidates
                                            : std::vector<std::string>{c.payment.processor};
  std::vector<core::PaymentAttempt> attempts;
  std::vector<store::PartnerCall> calls;
  std::string summary;
  core::Timestamp now = clock_.now();
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const std::string& p = candidates[i];
    auto adapter = set->payment(p);
    if (!adapter) {
      attempts.push_back({p, "unavailable", "not configured or disabled", now});
      summary += (summary.empty() ? "" : "; ") + p + ": not configured or disabled";
      continue;
    }
    bool last = i + 1 == candidates.size();
    if (!last && !adapter->breaker().available()) {
      attempts.push_back({p, "skipped", "circuit open", now});
      summary += (summary.empty() ? "" : "; ") + p + ": circuit open";
      continue;
    }
    adapters::PaymentRequest req;
    req.ctx.checkout_id = c.id;
    req.ctx.idempotency_key = c.id + ":payment.create:" + p;
    auto tp = c.payment.partner_data.find("traceparent");
    if (tp != c.payment.partner_data.end()) req.ctx.traceparent = tp->second;
    req.amount = c.amount_total;
    req.currency = c.currency;
    req.method = c.payment.method;
    req.return_url = c.payment.return_url;
    req.buyer_email = c.buyer.email;
    req.shipping = c.buyer.shipping_address;
    req.description = "merchgate checkout " + c.id;
    if (*seller) {
      auto payout = (*seller)->payouts.find(p);
      if (payout != (*seller)->payouts.end()) {
        req.payout_account = payout->second;
        req.platform_fee = c.platform_fee;
      }
    }
    req.metadata["merchgate_checkout"] = c.id;
    for (const auto& kv : c.metadata) {
      if (kv.value().is_string())
        req.metadata[std::string(kv.key())] = std::string(kv.value().as_string());
    }
    auto t0 = Clock::now();
    auto result = co_await adapter->create_payment(req);
    std::int64_t ms = elapsed_ms(t0);
    feed_breaker(*adapter, result);
    calls.push_back(
        call_record(c.id, p, "payment.create", req.ctx.idempotency_key, result, ms, clock_.now()));
    crash_point("payment.create.after_partner_call");
    if (result) {
      attempts.push_back({p, "created", "", clock_.now()});
      core::PaymentFact fact = *result;
      log::info("payment.created", {{"checkout", c.id},
                                    {"processor", p},
                                    {"reference", fact.reference},
                                    {"status", core::to_string(fact.status)}});
      {
        Settle settlement{std::move(calls),
                          [&](core::Checkout& x) {
                            return core::record_payment_created(x, p, fact, attempts, clock_.now());
                          },
                          reply_checkout(201), Next::complete()};
        co_await settle(job, settlement, reply_out);
      }
      co_return;
    }
    const AdapterError& e = result.error();
    if (adapters::is_safe_to_fail_over(e)) {
      attempts.push_back({p, "unavailable", e.message, clock_.now()});
      summary += (summary.empty() ? "" : "; ") + p + ": " + e.message;
      log::warn("payment.processor_unavailable",
                {{"checkout", c.id}, {"processor", p}, {"error", e.message}});
      continue;
    }
    if (adapters::is_retryable(e)) {
      // The charge may or may not exist: keep the payment pending and ask the same processor
      // again with the same key until it answers.
      attempts.push_back({p, "unknown", e.message, clock_.now()});
      if (gave_up(job)) {
        {
          Settle settlement{std::move(calls),
                            [&](core::Checkout& x) {
                              return core::record_payment_not_created(
                                  x, "processor_unreachable",
                                  "no answer from " + p + " within the retry window: " + e.message,
                                  attempts, clock_.now());
                            },
                            reply_checkout(201), Next::bury(e.message)};
          co_await settle(job, settlement, reply_out);
        }
        co_return;
      }
      auto delay = std::max(backoff(job.attempts), e.retry_after);
      {
        Settle settlement{std::move(calls),
                          [&](core::Checkout& x) {
                            x.payment.processor = p;
                            for (auto& a : attempts) x.payment.attempts.push_back(a);
                            x.updated_at = clock_.now();
                            return core::Effects{};
                          },
                          reply_checkout(201), Next::retry(delay, e.message)};
        co_await settle(job, settlement, reply_out);
      }
      co_return;
    }
    // Declined or refused as made: final for this checkout, never retried elsewhere.
    attempts.push_back({p, "failed", e.message, clock_.now()});
    std::string code = e.is(adapter_errc::declined)
                           ? (e.partner_code.empty() ? "card_declined" : e.partner_code)
                           : "processor_rejected";
    {
      Settle settlement{std::move(calls),
                        [&](core::Checkout& x) {
                          x.payment.processor = p;
                          return core::record_payment_not_created(x, code, e.message, attempts,
                                                                  clock_.now());
                        },
                        reply_checkout(201), Next::complete()};
      co_await settle(job, settlement, reply_out);
    }
    co_return;
  }
  // Nobody could be reached: nothing was charged anywhere.
  std::string message = "no payment processor could take the payment: " +
                        (summary.empty() ? std::string("none configured") : summary);
  std::string checkout_id = c.id;
  {
    Settle settlement{
        std::move(calls),
        [&](core::Checkout& x) {
          return core::record_payment_not_created(x, "processor_unavailable", message, attempts,
                                                  clock_.now());
        },
        [&](const core::Checkout&) -> std::optional<Reply> {
          // 503 unavailable (errc::partner_unavailable), naming the checkout recorded as failed.
          Error error = make_error(errc::partner_unavailable, message);
          bj::object inner{{"type", error.type()},
                           {"code", error_code_name(error.code)},
                           {"message", message},
                           {"checkout", checkout_id}};
          return Reply{error.status(), bj::serialize(bj::object{{"error", std::move(inner)}})};
        },
        Next::complete()};
    co_await settle(job, settlement, reply_out);
  }
}

namespace {

std::optional<Reply> refund_reply(const core::Checkout& c, const std::string& refund_id) {
  for (const auto& r : c.refunds) {
    if (r.id == refund_id) {
      return Reply{201, bj::serialize(core::to_json(r, c, core::Form::api))};
    }
  }
  return std::nullopt;
}

}  // namespace

Task<void> CheckoutService::job_payment_refund(store::Job& job) {
  std::string refund_id = payload_string(job.payload, "refund");
  auto reply = [refund_id](const core::Checkout& c) { return refund_reply(c, refund_id); };
  auto loaded = co_await load(job.checkout_id);
  const core::Refund* refund = nullptr;
  if (loaded) {
    for (const auto& r : loaded->refunds)
      if (r.id == refund_id) refund = &r;
  }
  if (!refund || refund->status != core::RefundStatus::pending || !refund->reference.empty()) {
    {
      Settle settlement{{}, nullptr, reply, Next::complete()};
      co_await settle(job, settlement);
    }
    co_return;
  }
  const core::Checkout& c = *loaded;
  auto adapter = adapters_.current()->payment(c.payment.processor);
  if (!adapter) {
    std::string error = "payment processor '" + c.payment.processor + "' is not configured";
    {
      Settle settlement{
          {},
          nullptr,
          reply,
          gave_up(job) ? Next::bury(error) : Next::retry(backoff(job.attempts), error)};
      co_await settle(job, settlement);
    }
    co_return;
  }
  adapters::RefundRequest req;
  req.ctx.checkout_id = c.id;
  req.ctx.idempotency_key = refund->id;
  req.ctx.traceparent = payload_string(job.payload, "traceparent");
  req.refund_id = refund->id;
  req.payment_reference = c.payment.reference;
  req.amount = refund->amount;
  req.currency = c.currency;
  req.reason = refund->reason;
  req.partner_data = c.payment.partner_data;
  auto t0 = Clock::now();
  auto result = co_await adapter->refund(req);
  feed_breaker(*adapter, result);
  std::vector<store::PartnerCall> calls{call_record(c.id, c.payment.processor, "payment.refund",
                                                    req.ctx.idempotency_key, result, elapsed_ms(t0),
                                                    clock_.now())};
  crash_point("payment.refund.after_partner_call");
  if (result) {
    adapters::RefundCreated created = *result;
    {
      Settle settlement{std::move(calls),
                        [&](core::Checkout& x) {
                          if (auto* r = x.refund(refund_id)) {
                            if (r->reference.empty()) r->reference = created.reference;
                          }
                          core::RefundFact fact{refund_id, created.reference, created.status, 0,
                                                created.failure_message};
                          return core::apply_refund_fact(x, fact, clock_.now());
                        },
                        reply, Next::complete()};
      co_await settle(job, settlement);
    }
    co_return;
  }
  const AdapterError& e = result.error();
  if (adapters::is_retryable(e) && !gave_up(job)) {
    {
      Settle settlement{std::move(calls), nullptr, reply,
                        Next::retry(std::max(backoff(job.attempts), e.retry_after), e.message)};
      co_await settle(job, settlement);
    }
    co_return;
  }
  {
    Settle settlement{std::move(calls),
                      [&](core::Checkout& x) {
                        return core::record_refund_refused(x, refund_id, e.message, clock_.now());
                      },
                      reply, adapters::is_retryable(e) ? Next::bury(e.message) : Next::complete()};
    co_await settle(job, settlement);
  }
}

Task<void> CheckoutService::job_payment_cancel(store::Job& job) {
  auto loaded = co_await load(job.checkout_id);
  if (!loaded || loaded->payment.status == core::PaymentStatus::succeeded ||
      loaded->payment.status == core::PaymentStatus::canceled ||
      loaded->payment.status == core::PaymentStatus::failed) {
    {
      Settle settlement{{}, nullptr, nullptr, Next::complete()};
      co_await settle(job, settlement);
    }
    co_return;
  }
  const core::Checkout& c = *loaded;
  auto local_cancel = [this](core::Checkout& x) {
    core::PaymentFact fact;
    fact.status = core::PaymentStatus::canceled;
    return core::apply_payment_fact(x, fact, clock_.now());
  };
  if (c.payment.reference.empty()) {
    // Never created at a processor: nothing to void there.
    {
      Settle settlement{{}, local_cancel, nullptr, Next::complete()};
      co_await settle(job, settlement);
    }
    co_return;
  }
  auto adapter = adapters_.current()->payment(c.payment.processor);
  if (!adapter) {
    std::string error = "payment processor '" + c.payment.processor + "' is not configured";
    {
      Settle settlement{
          {},
          nullptr,
          nullptr,
          gave_up(job) ? Next::bury(error) : Next::retry(backoff(job.attempts), error)};
      co_await settle(job, settlement);
    }
    co_return;
  }
  adapters::PaymentRef ref{{c.id, c.id + ":payment.cancel", {}},
                           c.payment.reference,
                           c.amount_total,
                           c.currency,
                           c.payment.partner_data};
  auto t0 = Clock::now();
  auto result = co_await adapter->cancel_payment(ref);
  feed_breaker(*adapter, result);
  std::vector<store::PartnerCall> calls{call_record(c.id, c.payment.processor, "payment.cancel",
                                                    ref.ctx.idempotency_key, result, elapsed_ms(t0),
                                                    clock_.now())};
  if (!result && result.error().is(adapter_errc::invalid_state)) {
    // Too late to void: learn what happened instead (a success is then refunded automatically).
    result = co_await adapter->get_payment(ref);
  }
  if (result) {
    core::PaymentFact fact = *result;
    {
      Settle settlement{
          std::move(calls),
          [&](core::Checkout& x) { return core::apply_payment_fact(x, fact, clock_.now()); },
          nullptr, Next::complete()};
      co_await settle(job, settlement);
    }
    co_return;
  }
  const AdapterError& e = result.error();
  {
    Settle settlement{std::move(calls), nullptr, nullptr,
                      adapters::is_retryable(e) && !gave_up(job)
                          ? Next::retry(std::max(backoff(job.attempts), e.retry_after), e.message)
                          : Next::bury(e.message)};
    co_await settle(job, settlement);
  }
}

Task<void> CheckoutService::job_payment_capture(store::Job& job) {
  auto loaded = co_await load(job.checkout_id);
  // Nothing to capture once the payment is settled either way (an approval that arrives after
  // the buyer canceled must not take the money).
  if (!loaded || loaded->payment.status == core::PaymentStatus::succeeded ||
      loaded->payment.status == core::PaymentStatus::canceled ||
      loaded->payment.status == core::PaymentStatus::failed || loaded->canceled_at != 0 ||
      loaded->payment.reference.empty()) {
    {
      Settle settlement{{}, nullptr, nullptr, Next::complete()};
      co_await settle(job, settlement);
    }
    co_return;
  }
  const core::Checkout& c = *loaded;
  auto adapter = adapters_.current()->payment(c.payment.processor);
  if (!adapter) {
    {
      Settle settlement{
          {}, nullptr, nullptr, Next::retry(backoff(job.attempts), "processor not configured")};
      co_await settle(job, settlement);
    }
    co_return;
  }
  adapters::PaymentRef ref{{c.id, c.id + ":payment.capture", {}},
                           c.payment.reference,
                           c.amount_total,
                           c.currency,
                           c.payment.partner_data};
  auto t0 = Clock::now();
  auto result = co_await adapter->capture_payment(ref);
  feed_breaker(*adapter, result);
  std::vector<store::PartnerCall> calls{call_record(c.id, c.payment.processor, "payment.capture",
                                                    ref.ctx.idempotency_key, result, elapsed_ms(t0),
                                                    clock_.now())};
  crash_point("payment.capture.after_partner_call");
  if (result) {
    core::PaymentFact fact = *result;
    {
      Settle settlement{
          std::move(calls),
          [&](core::Checkout& x) { return core::apply_payment_fact(x, fact, clock_.now()); },
          nullptr, Next::complete()};
      co_await settle(job, settlement);
    }
    co_return;
  }
  const AdapterError& e = result.error();
  if (adapters::is_retryable(e) && !gave_up(job)) {
    {
      Settle settlement{std::move(calls), nullptr, nullptr,
                        Next::retry(std::max(backoff(job.attempts), e.retry_after), e.message)};
      co_await settle(job, settlement);
    }
    co_return;
  }
  {
    Settle settlement{std::move(calls),
                      [&](core::Checkout& x) {
                        core::PaymentFact fact;
                        fact.status = core::PaymentStatus::failed;
                        fact.failure_code = "capture_failed";
                        fact.failure_message = e.message;
                        return core::apply_payment_fact(x, fact, clock_.now());
                      },
                      nullptr, Next::complete()};
    co_await settle(job, settlement);
  }
}

Task<void> CheckoutService::job_payment_sync(store::Job& job) {
  auto loaded = co_await load(job.checkout_id);
  if (!loaded || loaded->payment.reference.empty()) {
    {
      Settle settlement{{}, nullptr, nullptr, Next::complete()};
      co_await settle(job, settlement);
    }
    co_return;
  }
  const core::Checkout& c = *loaded;
  auto adapter = adapters_.current()->payment(c.payment.processor);
  if (!adapter) {
    {
      Settle settlement{{}, nullptr, nullptr, Next::bury("processor not configured")};
      co_await settle(job, settlement);
    }
    co_return;
  }
  adapters::PaymentRef ref{
      {c.id, {}, {}}, c.payment.reference, c.amount_total, c.currency, c.payment.partner_data};
  auto t0 = Clock::now();
  auto result = co_await adapter->get_payment(ref);
  feed_breaker(*adapter, result);
  std::vector<store::PartnerCall> calls{call_record(c.id, c.payment.processor, "payment.get", "",
                                                    result, elapsed_ms(t0), clock_.now())};
  if (result) {
    core::PaymentFact fact = *result;
    {
      Settle settlement{
          std::move(calls),
          [&](core::Checkout& x) { return core::apply_payment_fact(x, fact, clock_.now()); },
          nullptr, Next::complete()};
      co_await settle(job, settlement);
    }
    co_return;
  }
  const AdapterError& e = result.error();
  {
    Settle settlement{std::move(calls), nullptr, nullptr,
                      adapters::is_retryable(e) && job.attempts < 5
                          ? Next::retry(backoff(job.attempts), e.message)
                          : Next::bury(e.message)};
    co_await settle(job, settlement);
  }
}

Task<void> CheckoutService::job_refund_sync(store::Job& job) {
  std::string refund_id = payload_string(job.payload, "refund");
  auto loaded = co_await load(job.checkout_id);
  const core::Refund* refund = nullptr;
  if (loaded) {
    for (const auto& r : loaded->refunds)
      if (r.id == refund_id) refund = &r;
  }
  auto adapter = loaded ? adapters_.current()->payment(loaded->payment.processor) : nullptr;
  if (!refund || refund->status != core::RefundStatus::pending || refund->reference.empty() ||
      !adapter) {
    Settle settlement{{}, nullptr, nullptr, Next::complete()};
    co_await settle(job, settlement);
    co_return;
  }
  const core::Checkout& c = *loaded;
  adapters::RefundRequest req;
  req.ctx.checkout_id = c.id;
  req.refund_id = refund->id;
  req.reference = refund->reference;
  req.payment_reference = c.payment.reference;
  req.amount = refund->amount;
  req.currency = c.currency;
  req.partner_data = c.payment.partner_data;
  auto t0 = Clock::now();
  auto result = co_await adapter->get_refund(req);
  feed_breaker(*adapter, result);
  std::vector<store::PartnerCall> calls{call_record(c.id, c.payment.processor, "refund.get", "",
                                                    result, elapsed_ms(t0), clock_.now())};
  if (result) {
    adapters::RefundCreated found = *result;
    Settle settlement{
        std::move(calls),
        [&](core::Checkout& x) {
          core::RefundFact fact{refund_id, found.reference, found.status, 0, found.failure_message};
          return core::apply_refund_fact(x, fact, clock_.now());
        },
        nullptr, Next::complete()};
    co_await settle(job, settlement);
    co_return;
  }
  auto error = result.error();
  Settle settlement{std::move(calls), nullptr, nullptr,
                    adapters::is_retryable(error) && job.attempts < 5
                        ? Next::retry(backoff(job.attempts), error.message)
                        : Next::bury(error.message)};
  co_await settle(job, settlement);
}

namespace {

adapters::OrderRequest order_request(const core::Checkout& c, const core::Fulfillment& f) {
  adapters::OrderRequest req;
  req.ctx.checkout_id = c.id;
  req.ctx.idempotency_key = c.id + ":" + f.id;
  auto tp = c.payment.partner_data.find("traceparent");
  if (tp != c.payment.partner_data.end()) req.ctx.traceparent = tp->second;
  req.fulfillment_id = f.id;
  for (const auto& fl : f.lines) {
    for (const auto& l : c.lines) {
      if (l.sku == fl.sku)
        req.lines.push_back({l.sku, l.title, fl.quantity, l.unit_amount, l.fulfillment_spec});
    }
  }
  if (c.buyer.shipping_address) req.address = *c.buyer.shipping_address;
  req.buyer_email = c.buyer.email;
  req.currency = c.currency;
  req.amount_shipping = f.amount_shipping;
  return req;
}

const core::Fulfillment* find_fulfillment(const core::Checkout& c, const std::string& id) {
  for (const auto& f : c.fulfillments)
    if (f.id == id) return &f;
  return nullptr;
}

}  // namespace

Task<void> CheckoutService::job_fulfillment_create(store::Job& job) {
  std::string fid = payload_string(job.payload, "fulfillment");
  auto loaded = co_await load(job.checkout_id);
  const core::Fulfillment* f = loaded ? find_fulfillment(*loaded, fid) : nullptr;
  if (!f || f->status != core::FulfillmentStatus::pending ||
      loaded->payment.status != core::PaymentStatus::succeeded) {
    {
      Settle settlement{{}, nullptr, nullptr, Next::complete()};
      co_await settle(job, settlement);
    }
    co_return;
  }
  const core::Checkout& c = *loaded;
  auto adapter = adapters_.current()->fulfillment(f->adapter);
  if (!adapter) {
    std::string error = "fulfillment adapter '" + f->adapter + "' is not configured or disabled";
    if (gave_up(job)) {
      {
        Settle settlement{{},
                          [&](core::Checkout& x) {
                            core::FulfillmentFact fact;
                            fact.status = core::FulfillmentStatus::failed;
                            fact.failure_code = "partner_unavailable";
                            fact.failure_message = error;
                            return core::apply_fulfillment_fact(x, fid, fact, clock_.now());
                          },
                          nullptr,
                          Next::bury(error)};
        co_await settle(job, settlement);
      }
    } else {
      {
        Settle settlement{{}, nullptr, nullptr, Next::retry(backoff(job.attempts), error)};
        co_await settle(job, settlement);
      }
    }
    co_return;
  }
  adapters::OrderRequest req = order_request(c, *f);
  req.ctx.attempt = job.attempts;
  auto t0 = Clock::now();
  auto result = co_await adapter->create_order(req);
  feed_breaker(*adapter, result);
  std::vector<store::PartnerCall> calls{call_record(c.id, f->adapter, "fulfillment.create",
                                                    req.ctx.idempotency_key, result, elapsed_ms(t0),
                                                    clock_.now())};
  crash_point("fulfillment.create.after_partner_call");
  if (result) {
    core::FulfillmentFact fact = *result;
    log::info("fulfillment.placed", {{"checkout", c.id},
                                     {"fulfillment", fid},
                                     {"adapter", f->adapter},
                                     {"reference", fact.reference}});
    {
      Settle settlement{std::move(calls),
                        [&](core::Checkout& x) {
                          return core::record_fulfillment_placed(x, fid, fact, clock_.now());
                        },
                        nullptr, Next::complete()};
      co_await settle(job, settlement);
    }
    co_return;
  }
  const AdapterError& e = result.error();
  // Credentials the partner refuses are the operator's to fix, not a refusal of the order: wait
  // for the fix (as for an adapter not configured) instead of refunding the buyer.
  bool transient = adapters::is_retryable(e) || e.is(adapter_errc::authentication);
  if (e.is(adapter_errc::authentication)) {
    log::error(
        "fulfillment.credentials_rejected",
        {{"checkout", c.id}, {"fulfillment", fid}, {"adapter", f->adapter}, {"error", e.message}});
  }
  if (transient && !gave_up(job)) {
    {
      Settle settlement{std::move(calls), nullptr, nullptr,
                        Next::retry(std::max(backoff(job.attempts), e.retry_after), e.message)};
      co_await settle(job, settlement);
    }
    co_return;
  }
  // The partner will not make it: the fulfillment fails and its lines are refunded.
  log::warn(
      "fulfillment.refused",
      {{"checkout", c.id}, {"fulfillment", fid}, {"adapter", f->adapter}, {"error", e.message}});
  {
    Settle settlement{std::move(calls),
                      [&](core::Checkout& x) {
                        core::FulfillmentFact fact;
                        fact.status = core::FulfillmentStatus::failed;
                        fact.failure_code =
                            transient ? "partner_unavailable"
                                      : (e.partner_code.empty() ? "order_refused" : e.partner_code);
                        fact.failure_message = e.message;
                        return core::apply_fulfillment_fact(x, fid, fact, clock_.now());
                      },
                      nullptr, transient ? Next::bury(e.message) : Next::complete()};
    co_await settle(job, settlement);
  }
}

Task<void> CheckoutService::job_fulfillment_cancel(store::Job& job) {
  std::string fid = payload_string(job.payload, "fulfillment");
  auto loaded = co_await load(job.checkout_id);
  const core::Fulfillment* f = loaded ? find_fulfillment(*loaded, fid) : nullptr;
  if (!f) {
    {
      Settle settlement{{}, nullptr, nullptr, Next::complete()};
      co_await settle(job, settlement);
    }
    co_return;
  }
  const core::Checkout& c = *loaded;
  auto adapter = adapters_.current()->fulfillment(f->adapter);
  if (!adapter) {
    {
      Settle settlement{{},
                        nullptr,
                        nullptr,
                        Next::retry(backoff(job.attempts), "fulfillment adapter not configured")};
      co_await settle(job, settlement);
    }
    co_return;
  }
  adapters::OrderRef ref{{c.id, c.id + ":" + fid + ":cancel", {}}, fid, f->reference};
  auto t0 = Clock::now();
  auto result = co_await adapter->cancel_order(ref);
  feed_breaker(*adapter, result);
  std::vector<store::PartnerCall> calls{call_record(c.id, f->adapter, "fulfillment.cancel",
                                                    ref.ctx.idempotency_key, result, elapsed_ms(t0),
                                                    clock_.now())};
  if (!result && result.error().is(adapter_errc::invalid_state)) {
    // Production already started: merchgate can no longer stop it; record what the partner says.
    log::warn("fulfillment.cancel_refused",
              {{"checkout", c.id}, {"fulfillment", fid}, {"error", result.error().message}});
    result = co_await adapter->get_order(ref);
  }
  if (result) {
    core::FulfillmentFact fact = *result;
    {
      Settle settlement{std::move(calls),
                        [&](core::Checkout& x) {
                          return core::apply_fulfillment_fact(x, fid, fact, clock_.now());
                        },
                        nullptr, Next::complete()};
      co_await settle(job, settlement);
    }
    co_return;
  }
  const AdapterError& e = result.error();
  bool transient = adapters::is_retryable(e) || e.is(adapter_errc::authentication);
  {
    Settle settlement{std::move(calls), nullptr, nullptr,
                      transient && !gave_up(job)
                          ? Next::retry(std::max(backoff(job.attempts), e.retry_after), e.message)
                          : Next::bury(e.message)};
    co_await settle(job, settlement);
  }
}

Task<void> CheckoutService::job_fulfillment_sync(store::Job& job) {
  std::string fid = payload_string(job.payload, "fulfillment");
  auto loaded = co_await load(job.checkout_id);
  const core::Fulfillment* f = loaded ? find_fulfillment(*loaded, fid) : nullptr;
  auto adapter = f ? adapters_.current()->fulfillment(f->adapter) : nullptr;
  if (!f || !adapter) {
    {
      Settle settlement{{}, nullptr, nullptr, Next::complete()};
      co_await settle(job, settlement);
    }
    co_return;
  }
  const core::Checkout& c = *loaded;
  adapters::OrderRef ref{{c.id, {}, {}}, fid, f->reference};
  auto t0 = Clock::now();
  auto result = co_await adapter->get_order(ref);
  feed_breaker(*adapter, result);
  std::vector<store::PartnerCall> calls{
      call_record(c.id, f->adapter, "fulfillment.get", "", result, elapsed_ms(t0), clock_.now())};
  if (result) {
    core::FulfillmentFact fact = *result;
    {
      Settle settlement{std::move(calls),
                        [&](core::Checkout& x) {
                          return core::apply_fulfillment_fact(x, fid, fact, clock_.now());
                        },
                        nullptr, Next::complete()};
      co_await settle(job, settlement);
    }
    co_return;
  }
  const AdapterError& e = result.error();
  {
    Settle settlement{std::move(calls), nullptr, nullptr,
                      adapters::is_retryable(e) && job.attempts < 5
                          ? Next::retry(std::max(backoff(job.attempts), e.retry_after), e.message)
                          : Next::bury(e.message)};
    co_await settle(job, settlement);
  }
}

}  // namespace mg::service
