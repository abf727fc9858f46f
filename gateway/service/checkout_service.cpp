#include "gateway/service/checkout_service.hpp"

#include "gateway/core/card_scan.hpp"
#include "gateway/core/cart.hpp"
#include "gateway/core/checkout_machine.hpp"
#include "gateway/core/crypto.hpp"
#include "gateway/core/json.hpp"
#include "gateway/core/metrics.hpp"
#include "gateway/core/money.hpp"
#include "gateway/log/log.hpp"
#include "gateway/server/http_types.hpp"
#include "gateway/service/service_internal.hpp"
#include "gateway/store/async.hpp"

#include <boost/json/serialize.hpp>

#include <variant>

namespace mg::service {
namespace bj = boost::json;
using detail::checkout_reply;
using detail::error_reply;

namespace detail {

Reply error_reply(const Error& e) { return {e.status(), http::error_body(e)}; }

Reply checkout_reply(const core::Checkout& c, int status) {
  return {status, bj::serialize(core::to_json(c, core::Form::api))};
}

std::optional<Reply> idempotency_lookup(store::ReadTx& tx, std::string_view scope,
                                        std::string_view key, std::string_view fingerprint) {
  auto record = tx.idempotency(scope, key);
  if (!record) return std::nullopt;
  if (!core::constant_time_equal(record->request_hash, fingerprint)) {
    return error_reply(make_error(
        errc::idempotency_mismatch,
        "this Idempotency-Key was already used with a different request; keys for idempotent "
        "requests can only be used with the same method, path and body",
        "Idempotency-Key"));
  }
  if (record->status_code == 0) {
    return error_reply(make_error(errc::idempotency_in_progress,
                                  "a request with this Idempotency-Key is still in progress; "
                                  "retry it once that one finished",
                                  "Idempotency-Key"));
  }
  return Reply{record->status_code, record->response_body};
}

void persist(store::WriteTx& tx, core::Checkout& c, const core::Effects& fx, core::Timestamp now,
             const core::Staleness& staleness) {
  core::Timestamp due = core::reconcile_due_at(c, staleness);
  if (due == 0) {
    c.reconcile_at = 0;
  } else if (due >= now || c.reconcile_at == 0) {
    c.reconcile_at = due;
  }
  tx.update_checkout(c);
  if (!fx.events.empty()) tx.append_events(fx.events);
  if (!fx.jobs.empty()) tx.enqueue_jobs(fx.jobs, now);
}

void complete_idempotency(store::WriteTx& tx, const store::Job& job, int status,
                          const std::string& body, core::Timestamp now) {
  const auto* idem = job.payload.if_contains("idempotency");
  if (!idem || !idem->is_object()) return;
  const auto* scope = idem->as_object().if_contains("scope");
  const auto* key = idem->as_object().if_contains("key");
  if (!scope || !key || !scope->is_string() || !key->is_string()) return;
  tx.complete_idempotency(scope->as_string(), key->as_string(), status, body, now);
}

bool visible_to(const Caller& caller, const core::Checkout& c) {
  return caller.seller.empty() || caller.seller == c.seller;
}

// CONTRACT §3: no card number or CVC passes through merchgate, in any request body.
static Result<void> refuse_card_data(const bj::object& body) {
  if (auto card = core::find_card_data(body)) {
    return make_error(errc::card_data_forbidden,
                      "card numbers and security codes must never be sent to merchgate; collect "
                      "them with the payment processor's client SDK",
                      *card);
  }
  return {};
}

}  // namespace detail

std::string request_fingerprint(std::string_view method, std::string_view path,
                                std::string_view body) {
  std::string material;
  material.reserve(method.size() + path.size() + body.size() + 2);
  material.append(method).append("\n").append(path).append("\n").append(body);
  return core::sha256(material);
}

CheckoutService::CheckoutService(store::Store& store, AdapterManager& adapters,
                                 const core::Clock& clock, ServiceOptions options)
    : store_(store),
      adapters_(adapters),
      clock_(clock),
      options_(std::move(options)),
      staleness_{options_.stale_payment_after.count(), options_.stale_order_after.count()} {}

void CheckoutService::on_jobs_queued(std::function<void()> notify) { notify_ = std::move(notify); }

void CheckoutService::on_events_appended(std::function<void()> notify) {
  events_notify_ = std::move(notify);
}

void CheckoutService::notify() {
  if (notify_) notify_();
}

void CheckoutService::observe(const core::Effects& fx) {
  for (const auto& e : fx.events) {
    metrics::counter_add("merchgate_events_total", {{"type", e.type}});
    log::info("event", {{"type", e.type}, {"event_id", e.id}, {"checkout", e.checkout_id}});
  }
  if (!fx.jobs.empty()) notify();
  if (!fx.events.empty() && events_notify_) events_notify_();
}

Task<Result<std::map<std::string, std::int64_t>>> CheckoutService::quote(
    const core::CheckoutRequest& request, const core::CartPlan& plan,
    const std::string& traceparent) {
  std::map<std::string, std::int64_t> out;
  auto set = adapters_.current();
  for (const auto& [adapter_id, indexes] : plan.lines_by_adapter) {
    std::string param = core::json::join(core::json::index("lines", indexes.front()), "sku");
    auto adapter = set->fulfillment(adapter_id);
    if (!adapter) {
      co_return make_error(errc::unprocessable,
                           "product '" + plan.lines[indexes.front()].sku +
                               "' is made by fulfillment adapter '" + adapter_id +
                               "', which is not configured or disabled",
                           param);
    }
    adapters::QuoteRequest q;
    q.ctx.traceparent = traceparent;
    q.address = *request.buyer.shipping_address;
    q.currency = request.currency;
    // Rates depend on where the parcel goes (country, region, postal code) and what is in it.
    std::string cache_key = adapter_id + "|" + q.address.country + "|" +
                            q.address.state.value_or("") + "|" + q.address.postal_code + "|" +
                            q.currency;
    for (auto i : indexes) {
      const auto& l = plan.lines[i];
      q.lines.push_back({l.sku, l.title, l.quantity, l.unit_amount, l.fulfillment_spec});
      cache_key += "|" + l.sku + "x" + std::to_string(l.quantity);
    }
    core::Timestamp now = clock_.now();
    {
      std::lock_guard lock(quote_mutex_);
      auto it = quote_cache_.find(cache_key);
      if (it != quote_cache_.end() && it->second.first > now) {
        out[adapter_id] = it->second.second;
        continue;
      }
    }
    auto quoted = co_await adapter->quote_shipping(q);
    if (!quoted) {
      const auto& e = quoted.error();
      if (e.is(adapters::adapter_errc::refused) || e.is(adapters::adapter_errc::rejected)) {
        co_return make_error(errc::unshippable_address,
                             "fulfillment partner '" + adapter_id +
                                 "' cannot ship this order to the address: " + e.message,
                             "buyer.shipping_address.country");
      }
      if (e.is(adapters::adapter_errc::unsupported)) {
        // Not the partner failing: the catalog gives it nothing to quote from (no rate endpoint
        // for these products and no shipping table), which an admin fixes on the product.
        co_return make_error(errc::unprocessable,
                             "shipping for product '" + plan.lines[indexes.front()].sku +
                                 "' cannot be quoted by fulfillment partner '" + adapter_id +
                                 "': " + e.message,
                             param);
      }
      co_return make_error(errc::partner_error, "fulfillment partner '" + adapter_id +
                                                    "' could not quote shipping: " + e.message);
    }
    if (quoted->currency != request.currency) {
      co_return make_error(errc::partner_error, "fulfillment partner '" + adapter_id +
                                                    "' quoted shipping in " + quoted->currency);
    }
    {
      std::lock_guard lock(quote_mutex_);
      if (quote_cache_.size() > 10'000) quote_cache_.clear();
      quote_cache_[cache_key] = {now + options_.quote_cache_ttl.count(), quoted->amount};
    }
    out[adapter_id] = quoted->amount;
  }
  co_return out;
}

Task<Reply> CheckoutService::create_checkout(const Caller& caller, std::string key,
                                             std::string body, std::string traceparent) {
  std::string fingerprint = request_fingerprint("POST", "/v1/checkouts", body);
  std::string scope = caller.key_id;

  // The body is parsed first so that one read both answers a replay and loads the catalog; a
  // replay still answers before any complaint about the body (CONTRACT §2).
  Result<core::CheckoutRequest> request = make_error(errc::internal, "not parsed");
  if (auto doc = core::json::parse_object(body); !doc) {
    request = doc.error();
  } else {
    request = core::parse_checkout_request(*doc);
  }

  struct Catalog {
    std::optional<Reply> prior;
    std::optional<core::Seller> seller;
    std::map<std::string, core::Product> products;
    std::optional<core::RoutingTable> routing;
  };
  auto catalog = co_await store::async_read(store_, [&](store::ReadTx& tx) -> Result<Catalog> {
    Catalog cat;
    cat.prior = detail::idempotency_lookup(tx, scope, key, fingerprint);
    if (cat.prior || !request) return cat;
    cat.seller = tx.seller(request->seller);
    if (!cat.seller) return cat;
    for (const auto& line : request->lines) {
      if (auto p = tx.product(line.sku)) cat.products.emplace(line.sku, std::move(*p));
    }
    cat.routing = tx.routing();
    return cat;
  });
  if (!catalog) co_return error_reply(catalog.error());
  if (catalog->prior) co_return std::move(*catalog->prior);
  if (!request) co_return error_reply(request.error());
  if (!caller.seller.empty() && request->seller != caller.seller) {
    co_return error_reply(make_error(
        errc::permission_denied,
        "this API key may only create checkouts for seller '" + caller.seller + "'", "seller"));
  }
  if (!catalog->seller) {
    co_return error_reply(
        make_error(errc::resource_missing, "no seller '" + request->seller + "'", "seller"));
  }
  auto plan = core::plan_cart(*request, *catalog->seller, [&](const std::string& sku) {
    auto it = catalog->products.find(sku);
    return it == catalog->products.end() ? nullptr : &it->second;
  });
  if (!plan) co_return error_reply(plan.error());

  // Which processors may take the payment, in order.
  auto set = adapters_.current();
  std::vector<std::string> candidates;
  if (!request->processor.empty()) {
    if (!set->payment(request->processor)) {
      co_return error_reply(make_error(errc::resource_missing,
                                       "no enabled payment processor '" + request->processor + "'",
                                       "payment.processor"));
    }
    candidates.push_back(request->processor);
  } else if (catalog->routing && !catalog->routing->rules.empty()) {
    std::string country =
        request->buyer.shipping_address ? request->buyer.shipping_address->country : "";
    for (auto& p :
         core::route(*catalog->routing, request->currency, country, plan->amount_subtotal)) {
      if (set->payment(p)) candidates.push_back(std::move(p));
    }
    if (candidates.empty()) {
      co_return error_reply(make_error(errc::unprocessable,
                                       "no routing rule names an enabled payment processor for " +
                                           request->currency +
                                           (country.empty() ? "" : " to " + country),
                                       "currency"));
    }
  } else {
    for (const auto& [id, entry] : set->entries()) {
      if (set->payment(id)) candidates.push_back(id);
    }
  }
  if (candidates.empty()) {
    co_return error_reply(
        make_error(errc::unavailable, "no payment processor is configured and enabled"));
  }
  {
    adapters::PaymentRequest probe;
    probe.method = request->method;
    probe.currency = request->currency;
    if (auto ok = set->payment(candidates.front())->validate(probe); !ok) {
      co_return error_reply(ok.error());
    }
  }

  std::map<std::string, std::int64_t> shipping;
  if (!plan->lines_by_adapter.empty()) {
    auto quoted = co_await quote(*request, *plan, traceparent);
    if (!quoted) co_return error_reply(quoted.error());
    shipping = std::move(*quoted);
  }

  core::Timestamp now = clock_.now();
  auto built = core::build_checkout(std::move(*request), std::move(*plan), *catalog->seller,
                                    shipping, caller.key_id, now);
  if (!built) co_return error_reply(built.error());
  core::Checkout c = std::move(*built);
  c.payment.candidates = candidates;
  if (!traceparent.empty()) c.payment.partner_data["traceparent"] = traceparent;

  core::Effects fx;
  auto first = co_await store::async_write(
      store_, [&](store::WriteTx& tx) -> Result<std::variant<Reply, store::Job>> {
        if (auto replay = detail::idempotency_lookup(tx, scope, key, fingerprint)) return *replay;
        fx = core::checkout_created(c, now);
        tx.insert_checkout(c);
        tx.append_events(fx.events);
        core::JobSpec spec = fx.jobs.front();
        spec.payload["idempotency"] = bj::object{{"scope", scope}, {"key", key}};
        store::Job job =
            tx.enqueue_leased_job(spec, options_.worker_id, now + options_.lease.count(), now);
        tx.begin_idempotency({scope, key, fingerprint, 0, "", c.id, now});
        return job;
      });
  if (!first) co_return error_reply(first.error());
  if (auto* replay = std::get_if<Reply>(&*first)) co_return *replay;
  fx.jobs.clear();  // the one job runs inline below
  observe(fx);
  metrics::counter_add("merchgate_checkouts_created_total", {{"seller", c.seller}});
  log::info("checkout.created", {{"checkout", c.id},
                                 {"seller", c.seller},
                                 {"amount_total", c.amount_total},
                                 {"currency", c.currency}});
  Preloaded preloaded{&c, std::move(catalog->seller), std::nullopt};
  co_return co_await run_inline(std::move(std::get<store::Job>(*first)), scope, key, &preloaded);
}

Task<Reply> CheckoutService::run_inline(store::Job job, std::string scope, std::string key,
                                        Preloaded* preloaded) {
  co_await run_job(std::move(job), preloaded);
  if (preloaded && preloaded->reply) co_return std::move(*preloaded->reply);
  auto record = co_await store::async_read(
      store_, [&](store::ReadTx& tx) -> Result<std::optional<store::IdempotencyRecord>> {
        return tx.idempotency(scope, key);
      });
  if (!record) co_return error_reply(record.error());
  if (!*record || (*record)->status_code == 0) {
    co_return error_reply(make_error(errc::unavailable,
                                     "the request was accepted but its result is not stored yet; "
                                     "retry with the same Idempotency-Key"));
  }
  co_return Reply{(*record)->status_code, (*record)->response_body};
}

namespace {

// Asks the partners about the orders merchgate holds as submitted, before a cancel decides: a late
// or lost webhook must not let a cancel refund an order the partner is already making
// (request_cancel refuses that with 409). A partner that does not answer leaves what merchgate
// knows. Returns the effects of what was learned (already stored).
Task<core::Effects> refresh_orders_before_cancel(store::Store& store, AdapterManager& adapters,
                                                 const core::Clock& clock,
                                                 const core::Staleness& staleness,
                                                 const Caller& caller,
                                                 const std::string& checkout_id) {
  core::Effects fx;
  auto known = co_await store::async_read(
      store, [&](store::ReadTx& tx) -> Result<std::optional<core::Checkout>> {
        return tx.checkout(checkout_id);
      });
  if (!known || !*known || !detail::visible_to(caller, **known) || (*known)->canceled_at != 0) {
    co_return fx;
  }
  // Already refused on what merchgate knows: no partner need be asked.
  for (const auto& f : (*known)->fulfillments) {
    if (f.status == core::FulfillmentStatus::in_production ||
        f.status == core::FulfillmentStatus::shipped ||
        f.status == core::FulfillmentStatus::delivered) {
      co_return fx;
    }
  }
  auto set = adapters.current();
  std::vector<std::pair<std::string, core::FulfillmentFact>> facts;
  std::vector<store::PartnerCall> calls;
  for (const auto& f : (*known)->fulfillments) {
    auto adapter = set->fulfillment(f.adapter);
    if (f.status != core::FulfillmentStatus::submitted || !adapter) continue;
    adapters::OrderRef ref;
    ref.ctx.checkout_id = checkout_id;
    ref.fulfillment_id = f.id;
    ref.reference = f.reference;
    auto t0 = std::chrono::steady_clock::now();
    auto r = co_await adapter->get_order(ref);
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    store::PartnerCall call{checkout_id, f.adapter, "fulfillment.get", "", "ok", 0,
                            ms,          "",        clock.now()};
    if (r) {
      facts.emplace_back(f.id, *r);
    } else {
      call.outcome = r.error().code.message();
      call.http_status = r.error().http_status;
      call.error = r.error().message;
    }
    calls.push_back(std::move(call));
  }
  if (calls.empty()) co_return fx;
  core::Timestamp now = clock.now();
  auto written = co_await store::async_write(store, [&](store::WriteTx& tx) -> Result<bool> {
    for (const auto& call : calls) tx.record_partner_call(call);
    auto c = tx.lock_checkout(checkout_id);
    if (!c) return true;
    core::Timestamp before = c->updated_at;
    for (const auto& [fid, fact] : facts)
      fx.append(core::apply_fulfillment_fact(*c, fid, fact, now));
    if (c->updated_at != before || !fx.empty()) detail::persist(tx, *c, fx, now, staleness);
    return true;
  });
  if (!written) fx = {};
  co_return fx;
}

}  // namespace

Task<Reply> CheckoutService::cancel_checkout(const Caller& caller, std::string key,
                                             std::string checkout_id, std::string body) {
  std::string path = "/v1/checkouts/" + checkout_id + "/cancel";
  std::string fingerprint = request_fingerprint("POST", path, body);
  // A key already bound to a request answers first, whatever this body holds (CONTRACT §2).
  auto prior =
      co_await store::async_read(store_, [&](store::ReadTx& tx) -> Result<std::optional<Reply>> {
        return detail::idempotency_lookup(tx, caller.key_id, key, fingerprint);
      });
  if (!prior) co_return error_reply(prior.error());
  if (*prior) co_return **prior;
  if (!body.empty()) {
    auto doc = core::json::parse_object(body);
    if (!doc) co_return error_reply(doc.error());
    if (auto r = detail::refuse_card_data(*doc); !r) co_return error_reply(r.error());
    if (auto r = core::json::only_keys(*doc, {"reason"}, ""); !r) co_return error_reply(r.error());
    if (auto r = core::json::optional_string({*doc, "reason", ""}, 500); !r) {
      co_return error_reply(r.error());
    }
  }
  observe(co_await refresh_orders_before_cancel(store_, adapters_, clock_, staleness_, caller,
                                                checkout_id));
  core::Timestamp now = clock_.now();
  core::Effects fx;
  auto reply = co_await store::async_write(store_, [&](store::WriteTx& tx) -> Result<Reply> {
    if (auto replay = detail::idempotency_lookup(tx, caller.key_id, key, fingerprint)) {
      return *replay;
    }
    auto c = tx.lock_checkout(checkout_id);
    if (!c || !detail::visible_to(caller, *c)) {
      return make_error(errc::not_found, "no checkout '" + checkout_id + "'", "id");
    }
    auto effects = core::request_cancel(*c, now);
    if (!effects) return effects.error();
    fx = std::move(*effects);
    detail::persist(tx, *c, fx, now, staleness_);
    Reply r = checkout_reply(*c, 200);
    tx.begin_idempotency({caller.key_id, key, fingerprint, r.status, r.body, c->id, now});
    return r;
  });
  if (!reply) co_return error_reply(reply.error());
  observe(fx);
  log::info("checkout.cancel_requested", {{"checkout", checkout_id}});
  co_return *reply;
}

Task<Reply> CheckoutService::refund_checkout(const Caller& caller, std::string key,
                                             std::string checkout_id, std::string body,
                                             std::string traceparent) {
  std::string path = "/v1/checkouts/" + checkout_id + "/refunds";
  std::string fingerprint = request_fingerprint("POST", path, body);
  // A key already bound to a request answers first, whatever this body holds (CONTRACT §2).
  auto prior =
      co_await store::async_read(store_, [&](store::ReadTx& tx) -> Result<std::optional<Reply>> {
        return detail::idempotency_lookup(tx, caller.key_id, key, fingerprint);
      });
  if (!prior) co_return error_reply(prior.error());
  if (*prior) co_return **prior;
  // An empty body asks for a full refund, like {}.
  auto doc =
      core::json::parse_object(body.empty() ? std::string_view("{}") : std::string_view(body));
  if (!doc) co_return error_reply(doc.error());
  if (auto r = detail::refuse_card_data(*doc); !r) co_return error_reply(r.error());
  if (auto r = core::json::only_keys(*doc, {"amount", "reason"}, ""); !r) {
    co_return error_reply(r.error());
  }
  auto amount = core::json::optional_int({*doc, "amount", ""}, 1, core::kMaxCheckoutAmount);
  if (!amount) co_return error_reply(amount.error());
  auto reason = core::json::optional_string({*doc, "reason", ""}, 500);
  if (!reason) co_return error_reply(reason.error());

  core::Timestamp now = clock_.now();
  core::Effects fx;
  auto first = co_await store::async_write(
      store_, [&](store::WriteTx& tx) -> Result<std::variant<Reply, store::Job>> {
        if (auto replay = detail::idempotency_lookup(tx, caller.key_id, key, fingerprint)) {
          return *replay;
        }
        auto c = tx.lock_checkout(checkout_id);
        if (!c || !detail::visible_to(caller, *c)) {
          return make_error(errc::not_found, "no checkout '" + checkout_id + "'", "id");
        }
        std::string refund_id;
        auto effects = core::request_refund(*c, amount->value_or(core::refundable(*c)),
                                            reason->value_or(""), now, refund_id);
        if (!effects) return effects.error();
        fx = std::move(*effects);
        // The refund job runs inline; anything else the transition asked for is queued.
        core::JobSpec spec;
        std::vector<core::JobSpec> others;
        for (auto& j : fx.jobs) {
          const auto* rid = j.payload.if_contains("refund");
          if (j.kind == core::job_kind::payment_refund && rid && rid->is_string() &&
              rid->as_string() == refund_id) {
            spec = std::move(j);
          } else {
            others.push_back(std::move(j));
          }
        }
        fx.jobs = std::move(others);
        detail::persist(tx, *c, fx, now, staleness_);
        spec.payload["idempotency"] = bj::object{{"scope", caller.key_id}, {"key", key}};
        if (!traceparent.empty()) spec.payload["traceparent"] = traceparent;
        store::Job job =
            tx.enqueue_leased_job(spec, options_.worker_id, now + options_.lease.count(), now);
        tx.begin_idempotency({caller.key_id, key, fingerprint, 0, "", c->id, now});
        return job;
      });
  if (!first) co_return error_reply(first.error());
  if (auto* replay = std::get_if<Reply>(&*first)) co_return *replay;
  observe(fx);
  co_return co_await run_inline(std::move(std::get<store::Job>(*first)), caller.key_id, key);
}

Task<void> CheckoutService::housekeeping() {
  core::Timestamp now = clock_.now();
  auto purged = co_await store::async_write(store_, [&](store::WriteTx& tx) -> Result<int> {
    int n = tx.purge_idempotency(now - 48LL * 3600'000);
    n += tx.purge_done_jobs(now - 7LL * 24 * 3600'000);
    return n;
  });
  if (purged && *purged > 0) log::info("housekeeping", {{"purged_rows", *purged}});
}

}  // namespace mg::service
