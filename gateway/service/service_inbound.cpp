// Partner webhooks: stored durably (deduplicated on adapter + partner event id) and applied in
// the same transaction when their checkout is known; otherwise applied later by a job. And the
// reconciler, which asks partners about anything that went quiet.
#include "gateway/core/checkout_machine.hpp"
#include "gateway/core/metrics.hpp"
#include "gateway/log/log.hpp"
#include "gateway/service/checkout_service.hpp"
#include "gateway/service/service_internal.hpp"
#include "gateway/store/async.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace mg::service {
namespace bj = boost::json;
using adapters::InboundEvent;

namespace detail {
namespace {

// Whether `adapter_id` may speak about this checkout's payment.
bool owns_payment(const core::Checkout& c, std::string_view adapter_id) {
  if (!c.payment.processor.empty()) return c.payment.processor == adapter_id;
  return std::find(c.payment.candidates.begin(), c.payment.candidates.end(), adapter_id) !=
         c.payment.candidates.end();
}

std::optional<std::string> find_target(store::WriteTx& tx, std::string_view adapter_id,
                                       const InboundEvent& e) {
  if (!e.fulfillment_id.empty()) {
    if (auto id =
            tx.checkout_by_reference(store::ref_kind::fulfillment, adapter_id, e.fulfillment_id)) {
      return id;
    }
  }
  if (!e.order_reference.empty()) {
    if (auto id = tx.checkout_by_reference(store::ref_kind::order, adapter_id, e.order_reference)) {
      return id;
    }
  }
  if (!e.payment_reference.empty()) {
    if (auto id =
            tx.checkout_by_reference(store::ref_kind::payment, adapter_id, e.payment_reference)) {
      return id;
    }
  }
  if (e.refund && !e.refund->reference.empty()) {
    if (auto id =
            tx.checkout_by_reference(store::ref_kind::refund, adapter_id, e.refund->reference)) {
      return id;
    }
  }
  if (!e.checkout_id.empty()) return e.checkout_id;  // verified against ownership below
  return std::nullopt;
}

}  // namespace

namespace {

bool sync_waiting(store::WriteTx& tx, const std::string& checkout_id, const std::string& fid,
                  core::Timestamp now) {
  for (const auto& j : tx.jobs_for_checkout(checkout_id)) {
    const auto* target = j.payload.if_contains("fulfillment");
    bool started = !j.lease_owner.empty() && j.lease_until > now;
    if (j.state == store::JobState::queued && j.kind == core::job_kind::fulfillment_sync &&
        !started && target && target->is_string() && target->as_string() == fid) {
      return true;
    }
  }
  return false;
}

}  // namespace

Applied apply_inbound_event(store::WriteTx& tx, std::string_view adapter_id, const InboundEvent& e,
                            core::Timestamp now, const core::Staleness& staleness) {
  Applied out;
  if (e.kind == InboundEvent::Kind::ignored) {
    out.outcome = ApplyOutcome::ignored;
    out.note = "event type not used by merchgate";
    return out;
  }
  auto target = find_target(tx, adapter_id, e);
  if (!target) return out;  // no_target: maybe it arrived before the call that names it returned
  auto c = tx.lock_checkout(*target);
  if (!c) return out;
  out.checkout_id = c->id;
  core::Effects fx;
  switch (e.kind) {
    case InboundEvent::Kind::payment:
    case InboundEvent::Kind::refund:
    case InboundEvent::Kind::dispute:
      if (!owns_payment(*c, adapter_id)) {
        out.outcome = ApplyOutcome::ignored;
        out.note = "checkout " + c->id + " is not paid through " + std::string(adapter_id);
        return out;
      }
      if (!e.payment_reference.empty() && !c->payment.reference.empty() &&
          e.payment_reference != c->payment.reference) {
        // Found by the checkout id it names, but about another payment: never let that one
        // pay (or refund) this checkout.
        out.outcome = ApplyOutcome::ignored;
        out.note = "payment " + e.payment_reference + " is not the payment of checkout " + c->id +
                   " (" + c->payment.reference + ")";
        return out;
      }
      if (c->payment.processor.empty()) c->payment.processor = std::string(adapter_id);
      if (e.kind == InboundEvent::Kind::payment && e.payment) {
        fx = core::apply_payment_fact(*c, *e.payment, now);
      } else if (e.kind == InboundEvent::Kind::refund && e.refund) {
        fx = core::apply_refund_fact(*c, *e.refund, now);
      } else if (e.dispute) {
        fx = core::apply_dispute_fact(*c, *e.dispute, now);
      }
      if (e.action == "capture") {
        fx.jobs.push_back({"payment.capture", c->id, {}, core::payment_serial_key(c->id), 0});
      } else if (e.action == "sync") {
        fx.jobs.push_back({std::string(core::job_kind::payment_sync),
                           c->id,
                           {},
                           core::payment_serial_key(c->id),
                           0});
      }
      break;
    case InboundEvent::Kind::fulfillment: {
      const core::Fulfillment* f = nullptr;
      for (const auto& x : c->fulfillments) {
        bool same = (!e.fulfillment_id.empty() && x.id == e.fulfillment_id) ||
                    (!e.order_reference.empty() && x.reference == e.order_reference);
        if (same && x.adapter == adapter_id) f = &x;
      }
      if (!f) {
        out.outcome = ApplyOutcome::ignored;
        out.note =
            "no fulfillment of checkout " + c->id + " at " + std::string(adapter_id) + " matches";
        return out;
      }
      std::string fid = f->id;
      if (e.fulfillment) fx = core::apply_fulfillment_fact(*c, fid, *e.fulfillment, now);
      // A hint costs a partner call, and unsigned hints can be posted by anyone as often as they
      // like: a read already waiting to run (not yet started) answers this hint too.
      if (e.action == "sync" && !sync_waiting(tx, c->id, fid, now)) {
        fx.jobs.push_back(
            {std::string(core::job_kind::fulfillment_sync), c->id, {{"fulfillment", fid}}, fid, 0});
      }
      break;
    }
    case InboundEvent::Kind::ignored:
      break;
  }
  persist(tx, *c, fx, now, staleness);
  out.outcome = ApplyOutcome::applied;
  out.effects = std::move(fx);
  return out;
}

}  // namespace detail

Task<Result<void>> CheckoutService::accept_inbound(std::string adapter_id,
                                                   std::vector<InboundEvent> events) {
  core::Timestamp now = clock_.now();
  core::Effects all;
  struct Seen {
    std::string id;
    std::string type;
    std::string outcome;
    std::string checkout;
  };
  std::vector<Seen> seen;
  // Serialized here, not in the store's single writer.
  std::vector<std::string> bodies;
  bodies.reserve(events.size());
  for (const auto& e : events) bodies.push_back(bj::serialize(adapters::to_json(e)));
  auto r = co_await store::async_write(store_, [&](store::WriteTx& tx) -> Result<bool> {
    all = {};
    seen.clear();
    for (std::size_t i = 0; i < events.size(); ++i) {
      const auto& e = events[i];
      store::InboundWebhook w;
      w.adapter_id = adapter_id;
      w.partner_event_id = e.partner_event_id;
      w.event_type = e.type;
      w.checkout_id = e.checkout_id;
      w.body = bodies[i];
      w.received_at = now;
      if (e.kind == InboundEvent::Kind::ignored) {
        // Known outcome: stored as it is, in one statement.
        w.status = store::InboundStatus::ignored;
        w.error = "event type not used by merchgate";
        seen.push_back({e.partner_event_id, e.type, tx.insert_inbound(w) ? "ignored" : "duplicate",
                        e.checkout_id});
        continue;
      }
      if (!tx.insert_inbound(w)) {
        seen.push_back({e.partner_event_id, e.type, "duplicate", e.checkout_id});
        continue;
      }
      auto applied = detail::apply_inbound_event(tx, adapter_id, e, now, staleness_);
      switch (applied.outcome) {
        case detail::ApplyOutcome::applied:
          tx.set_inbound_status(w.id, store::InboundStatus::applied, {}, applied.checkout_id, now);
          all.append(std::move(applied.effects));
          seen.push_back({e.partner_event_id, e.type, "applied", applied.checkout_id});
          break;
        case detail::ApplyOutcome::ignored:
          tx.set_inbound_status(w.id, store::InboundStatus::ignored, applied.note,
                                applied.checkout_id, now);
          seen.push_back({e.partner_event_id, e.type, "ignored", applied.checkout_id});
          break;
        case detail::ApplyOutcome::no_target:
          // Kept and tried again shortly: the webhook may have overtaken the call naming it.
          tx.enqueue_jobs({{std::string(core::job_kind::inbound_apply),
                            e.checkout_id,
                            {{"inbound", w.id}},
                            {},
                            now + 2000}},
                          now);
          seen.push_back({e.partner_event_id, e.type, "pending", e.checkout_id});
          break;
      }
    }
    return true;
  });
  if (!r) co_return r.error();
  for (const auto& s : seen) {
    metrics::counter_add("merchgate_webhooks_received_total",
                         {{"adapter", adapter_id}, {"outcome", s.outcome}});
    log::info("webhook.received", {{"adapter", adapter_id},
                                   {"partner_event", s.id},
                                   {"type", s.type},
                                   {"outcome", s.outcome},
                                   {"checkout", s.checkout}});
  }
  observe(all);
  co_return Result<void>{};
}

Task<void> CheckoutService::job_inbound_apply(store::Job& job) {
  const auto* idv = job.payload.if_contains("inbound");
  std::int64_t inbound_id = idv && idv->is_int64() ? idv->as_int64() : 0;
  core::Timestamp now = clock_.now();
  core::Effects fx;
  bool give_up = job.attempts >= 12;  // about an hour of backoff
  auto r = co_await store::async_write(store_, [&](store::WriteTx& tx) -> Result<std::string> {
    auto w = tx.inbound(inbound_id);
    if (!w || w->status != store::InboundStatus::pending) {
      tx.complete_job(job.id, now);
      return std::string("done");
    }
    boost::system::error_code ec;
    bj::value v = bj::parse(w->body, ec);
    auto e =
        (!ec && v.is_object()) ? adapters::inbound_event_from_json(v.as_object()) : std::nullopt;
    if (!e) {
      tx.set_inbound_status(w->id, store::InboundStatus::ignored, "unreadable stored event", {},
                            now);
      tx.complete_job(job.id, now);
      return std::string("ignored");
    }
    auto applied = detail::apply_inbound_event(tx, w->adapter_id, *e, now, staleness_);
    switch (applied.outcome) {
      case detail::ApplyOutcome::applied:
        tx.set_inbound_status(w->id, store::InboundStatus::applied, {}, applied.checkout_id, now);
        fx = std::move(applied.effects);
        tx.complete_job(job.id, now);
        return std::string("applied");
      case detail::ApplyOutcome::ignored:
        tx.set_inbound_status(w->id, store::InboundStatus::ignored, applied.note,
                              applied.checkout_id, now);
        tx.complete_job(job.id, now);
        return std::string("ignored");
      case detail::ApplyOutcome::no_target:
        if (give_up) {
          tx.set_inbound_status(w->id, store::InboundStatus::ignored,
                                "no checkout matches this event", {}, now);
          tx.complete_job(job.id, now);
          return std::string("ignored");
        }
        tx.retry_job(job.id, now + backoff(job.attempts).count(), "no checkout matches yet", now);
        return std::string("waiting");
    }
    return std::string("done");
  });
  if (!r) {
    log::error("job.commit_failed",
               {{"job", job.id}, {"kind", job.kind}, {"error", r.error().message}});
    co_return;
  }
  observe(fx);
}

Task<int> CheckoutService::reconcile_once() {
  core::Timestamp now = clock_.now();
  core::Effects queued;
  auto r = co_await store::async_write(store_, [&](store::WriteTx& tx) -> Result<int> {
    queued = {};
    int count = 0;
    for (auto& c : tx.due_for_reconcile(now, 200)) {
      auto jobs = tx.jobs_for_checkout(c.id);
      std::vector<core::JobSpec> specs;
      for (auto& spec : core::overdue_syncs(c, now, staleness_)) {
        // One sync of a kind per target at a time.
        bool waiting = std::any_of(jobs.begin(), jobs.end(), [&](const store::Job& j) {
          return j.state == store::JobState::queued && j.kind == spec.kind &&
                 j.payload == spec.payload;
        });
        if (!waiting) specs.push_back(std::move(spec));
      }
      if (!specs.empty()) tx.enqueue_jobs(specs, now);
      count += static_cast<int>(specs.size());
      // Look again after as long again as it has been quiet (at least the payment deadline, at
      // most a day); after 30 quiet days, stop asking.
      std::int64_t quiet = now - c.updated_at;
      if (quiet > 30LL * 24 * 3600'000) {
        c.reconcile_at = 0;
      } else {
        c.reconcile_at =
            now + std::clamp<std::int64_t>(quiet, staleness_.payment_ms, 24 * 3600'000);
      }
      tx.update_checkout(c);
    }
    return count;
  });
  if (!r) {
    log::error("reconcile.failed", {{"error", r.error().message}});
    co_return 0;
  }
  if (*r > 0) {
    log::info("reconcile.queued", {{"jobs", *r}});
    notify();
  }
  co_return *r;
}

}  // namespace mg::service
