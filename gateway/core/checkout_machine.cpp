#include "gateway/core/checkout_machine.hpp"

#include "gateway/core/crypto.hpp"
#include "gateway/core/model_json.hpp"
#include "gateway/core/money.hpp"

#include <algorithm>
#include <optional>

namespace mg::core {
namespace {

// Events are rendered after the transition settles, so every snapshot shows the final state.
struct PendingEvent {
  enum class Kind { checkout, refund, fulfillment, dispute };
  std::string type;
  Kind kind;
  std::string id;  // refund id, fulfillment id, or dispute reference
};

class Transition {
 public:
  Transition(Checkout& c, Timestamp now) : c_(c), now_(now), before_(c.status) {}

  void event(std::string type, PendingEvent::Kind kind, std::string id = {}) {
    pending_.push_back({std::move(type), kind, std::move(id)});
  }
  void job(std::string_view kind, boost::json::object payload, std::string serial_key) {
    fx_.jobs.push_back({std::string(kind), c_.id, std::move(payload), std::move(serial_key), 0});
  }
  void touch() { c_.updated_at = now_; }

  // Settles the status and renders events: fact events first, then the status event.
  Effects finish(bool repeat_partial_refund = false) {
    CheckoutStatus derived = derive_status(c_);
    bool moved = rank(derived) > rank(c_.status);
    if (moved) c_.status = derived;
    // A checkout that went straight past `paid` (nothing to ship) still announces the payment.
    if (moved && rank(before_) < rank(CheckoutStatus::paid) &&
        rank(c_.status) > rank(CheckoutStatus::paid) && c_.status != CheckoutStatus::canceled) {
      pending_.push_back({"checkout.paid", PendingEvent::Kind::checkout, {}});
    }
    if (moved || (repeat_partial_refund && c_.status == CheckoutStatus::partially_refunded &&
                  before_ == CheckoutStatus::partially_refunded)) {
      auto type = status_event_type(c_.status);
      if (!type.empty()) pending_.push_back({std::string(type), PendingEvent::Kind::checkout, {}});
    }
    if (!pending_.empty() || moved) c_.updated_at = now_;
    // Every checkout event of one transition shows the same final state: render it once.
    std::optional<boost::json::object> snapshot;
    for (auto& p : pending_) {
      Event e;
      e.id = new_id("evt");
      e.type = std::move(p.type);
      e.checkout_id = c_.id;
      e.created_at = now_;
      switch (p.kind) {
        case PendingEvent::Kind::checkout:
          if (!snapshot) snapshot = to_json(c_, Form::api);
          e.object = *snapshot;
          break;
        case PendingEvent::Kind::refund:
          e.object = to_json(*c_.refund(p.id), c_, Form::api);
          break;
        case PendingEvent::Kind::fulfillment:
          e.object = to_json(*c_.fulfillment(p.id), c_, Form::api);
          break;
        case PendingEvent::Kind::dispute:
          for (const auto& d : c_.disputes)
            if (d.reference == p.id) e.object = to_json(d, c_);
          break;
      }
      fx_.events.push_back(std::move(e));
    }
    return std::move(fx_);
  }

  Checkout& c() { return c_; }
  Timestamp now() const { return now_; }

 private:
  Checkout& c_;
  Timestamp now_;
  CheckoutStatus before_;
  std::vector<PendingEvent> pending_;
  Effects fx_;
};

// Starts an automatic refund of `amount` (capped at what is still refundable); `lines` are the
// fulfillment lines it gives back, when a fulfillment's failure caused it.
void auto_refund(Transition& t, std::int64_t amount, std::string reason, std::string fulfillment_id,
                 std::vector<SkuQuantity> lines = {}) {
  Checkout& c = t.c();
  amount = std::min(amount, refundable(c));
  if (amount <= 0 || c.payment.status != PaymentStatus::succeeded) return;
  Refund r;
  r.id = new_id("rfd");
  r.amount = amount;
  r.reason = std::move(reason);
  r.automatic = true;
  r.fulfillment_id = std::move(fulfillment_id);
  r.lines = std::move(lines);
  r.created_at = r.updated_at = t.now();
  t.job(job_kind::payment_refund, {{"refund", r.id}}, payment_serial_key(c.id));
  c.refunds.push_back(std::move(r));
  t.touch();
}

void merge_partner_data(Payment& p, const std::map<std::string, std::string>& data) {
  for (const auto& [k, v] : data) p.partner_data[k] = v;
}

std::string fulfillment_event_type(FulfillmentStatus s) {
  return "fulfillment." + std::string(to_string(s));
}

bool is_active(const Fulfillment& f) {
  return f.status != FulfillmentStatus::canceled && f.status != FulfillmentStatus::failed;
}

bool same_package(const Shipment& a, const Shipment& b) {
  return a.tracking_number == b.tracking_number && a.carrier == b.carrier;
}

// Takes the partner's word on what its packages held, unless it accounts for fewer packages than
// merchgate already knows the contents of (an older read) or names a sku the fulfillment does not
// have (then what is in the package is unknown). Quantities only grow: a package never un-ships.
bool record_shipped_lines(Fulfillment& f, const FulfillmentFact& fact) {
  if (!fact.shipped) return false;
  for (const auto& [sku, quantity] : *fact.shipped) {
    bool ours = std::any_of(f.lines.begin(), f.lines.end(),
                            [&](const FulfillmentLine& l) { return l.sku == sku; });
    if (!ours || quantity < 0) return false;
  }
  auto accounted = static_cast<std::int64_t>(
      std::count_if(f.shipments.begin(), f.shipments.end(), [&](const Shipment& known) {
        return std::any_of(fact.shipments.begin(), fact.shipments.end(),
                           [&](const Shipment& s) { return same_package(s, known); });
      }));
  if (accounted < f.packages_accounted) return false;
  bool changed = accounted != f.packages_accounted;
  f.packages_accounted = accounted;
  for (auto& l : f.lines) {
    auto it = fact.shipped->find(l.sku);
    std::int64_t shipped = it == fact.shipped->end() ? 0 : std::min(it->second, l.quantity);
    if (shipped > l.quantity_shipped) {
      l.quantity_shipped = shipped;
      changed = true;
    }
  }
  return changed;
}

}  // namespace

std::optional<UnshippedPart> unshipped_part(const Checkout& c, const Fulfillment& f) {
  if (!f.shipped_lines_known()) return std::nullopt;
  UnshippedPart part;
  std::int64_t amount_shipped = 0, quantity_shipped = 0, quantity_left = 0;
  for (const auto& fl : f.lines) {
    auto line = std::find_if(c.lines.begin(), c.lines.end(),
                             [&](const Line& l) { return l.sku == fl.sku; });
    if (line == c.lines.end()) return std::nullopt;
    std::int64_t shipped = std::clamp<std::int64_t>(fl.quantity_shipped, 0, fl.quantity);
    std::int64_t left = fl.quantity - shipped;
    amount_shipped += line->unit_amount * shipped;
    quantity_shipped += shipped;
    quantity_left += left;
    if (left > 0) {
      part.lines.push_back({fl.sku, left});
      part.amount_lines += line->unit_amount * left;
    }
  }
  // Free lines have no amounts to weigh: their quantities share the shipping instead.
  auto shares = allocate_proportionally(f.amount_shipping, {part.amount_lines, amount_shipped});
  if (shares.empty()) {
    shares = allocate_proportionally(f.amount_shipping, {quantity_left, quantity_shipped});
  }
  part.amount_shipping = shares.empty() ? 0 : shares[0];
  return part;
}

int rank(CheckoutStatus s) noexcept { return static_cast<int>(s); }
int rank(PaymentStatus s) noexcept { return static_cast<int>(s); }
int rank(FulfillmentStatus s) noexcept {
  // canceled and failed share the terminal rank.
  return s == FulfillmentStatus::failed ? static_cast<int>(FulfillmentStatus::canceled)
                                        : static_cast<int>(s);
}

bool can_advance(PaymentStatus from, PaymentStatus to) noexcept {
  if (from == to) return false;
  // Money that moved is a fact: a success overrides a local failure or cancellation.
  if (to == PaymentStatus::succeeded) return true;
  if (from == PaymentStatus::succeeded || from == PaymentStatus::canceled) return false;
  return rank(to) > rank(from);
}

bool can_advance(FulfillmentStatus from, FulfillmentStatus to) noexcept {
  if (from == to) return false;
  if (from == FulfillmentStatus::canceled || from == FulfillmentStatus::failed ||
      from == FulfillmentStatus::delivered) {
    return false;
  }
  if (to == FulfillmentStatus::canceled || to == FulfillmentStatus::failed) {
    return rank(from) <= rank(FulfillmentStatus::in_production);
  }
  if (to == FulfillmentStatus::pending) return false;
  return rank(to) > rank(from);
}

CheckoutStatus derive_status(const Checkout& c) noexcept {
  if (c.canceled_at != 0) return CheckoutStatus::canceled;
  switch (c.payment.status) {
    case PaymentStatus::pending:
    case PaymentStatus::requires_action:
    case PaymentStatus::processing:
      return CheckoutStatus::requires_payment;
    case PaymentStatus::failed:
      return CheckoutStatus::payment_failed;
    case PaymentStatus::canceled:
      return CheckoutStatus::canceled;
    case PaymentStatus::succeeded:
      break;
  }
  std::int64_t refunded = c.amount_refunded();
  if (refunded >= c.amount_total && c.amount_total > 0) return CheckoutStatus::refunded;
  if (refunded > 0) return CheckoutStatus::partially_refunded;
  if (c.fulfillments.empty()) return CheckoutStatus::fulfilled;  // nothing to ship
  bool any_active = false, all_shipped = true, any_started = false;
  for (const auto& f : c.fulfillments) {
    if (!is_active(f)) continue;
    any_active = true;
    if (rank(f.status) >= rank(FulfillmentStatus::submitted)) any_started = true;
    if (rank(f.status) < rank(FulfillmentStatus::shipped)) all_shipped = false;
  }
  if (any_active && all_shipped) return CheckoutStatus::fulfilled;
  if (any_started) return CheckoutStatus::fulfilling;
  return CheckoutStatus::paid;
}

std::span<const std::string_view> event_types() noexcept {
  static constexpr std::string_view kTypes[] = {
      "checkout.created",     "checkout.paid",         "checkout.payment_failed",
      "checkout.canceled",    "checkout.refunded",     "checkout.partially_refunded",
      "checkout.fulfilled",   "fulfillment.submitted", "fulfillment.in_production",
      "fulfillment.shipped",  "fulfillment.delivered", "fulfillment.failed",
      "fulfillment.canceled", "refund.succeeded",      "refund.failed",
      "dispute.opened",       "dispute.closed"};
  return kTypes;
}

std::string_view status_event_type(CheckoutStatus s) noexcept {
  switch (s) {
    case CheckoutStatus::paid:
      return "checkout.paid";
    case CheckoutStatus::payment_failed:
      return "checkout.payment_failed";
    case CheckoutStatus::fulfilled:
      return "checkout.fulfilled";
    case CheckoutStatus::partially_refunded:
      return "checkout.partially_refunded";
    case CheckoutStatus::refunded:
      return "checkout.refunded";
    case CheckoutStatus::canceled:
      return "checkout.canceled";
    case CheckoutStatus::requires_payment:
    case CheckoutStatus::fulfilling:
      return {};
  }
  return {};
}

std::int64_t refundable(const Checkout& c) noexcept {
  return std::max<std::int64_t>(0,
                                c.amount_total - c.amount_refunded() - c.amount_refund_pending());
}

std::string payment_serial_key(std::string_view checkout_id) {
  return std::string(checkout_id) + ":payment";
}

namespace {

bool payment_open(const Checkout& c) {
  return !c.payment.reference.empty() && (c.payment.status == PaymentStatus::pending ||
                                          c.payment.status == PaymentStatus::requires_action ||
                                          c.payment.status == PaymentStatus::processing);
}

bool order_open(const Checkout& c, const Fulfillment& f) {
  return c.payment.status == PaymentStatus::succeeded && !f.reference.empty() &&
         (f.status == FulfillmentStatus::submitted ||
          f.status == FulfillmentStatus::in_production || f.status == FulfillmentStatus::shipped);
}

bool refund_open(const Refund& r) {
  return r.status == RefundStatus::pending && !r.reference.empty();
}

}  // namespace

Timestamp reconcile_due_at(const Checkout& c, const Staleness& s) {
  Timestamp due = 0;
  auto consider = [&](Timestamp t) {
    if (due == 0 || t < due) due = t;
  };
  if (payment_open(c)) consider(c.updated_at + s.payment_ms);
  for (const auto& r : c.refunds)
    if (refund_open(r)) consider(r.updated_at + s.payment_ms);
  for (const auto& f : c.fulfillments)
    if (order_open(c, f)) consider(f.updated_at + s.order_ms);
  return due;
}

std::vector<JobSpec> overdue_syncs(const Checkout& c, Timestamp now, const Staleness& s) {
  std::vector<JobSpec> out;
  if (payment_open(c) && c.updated_at + s.payment_ms <= now) {
    out.push_back({std::string(job_kind::payment_sync), c.id, {}, payment_serial_key(c.id), 0});
  }
  for (const auto& r : c.refunds) {
    if (refund_open(r) && r.updated_at + s.payment_ms <= now) {
      out.push_back({std::string(job_kind::refund_sync),
                     c.id,
                     {{"refund", r.id}},
                     payment_serial_key(c.id),
                     0});
    }
  }
  for (const auto& f : c.fulfillments) {
    if (order_open(c, f) && f.updated_at + s.order_ms <= now) {
      out.push_back(
          {std::string(job_kind::fulfillment_sync), c.id, {{"fulfillment", f.id}}, f.id, 0});
    }
  }
  return out;
}

Effects checkout_created(Checkout& c, Timestamp now) {
  Transition t(c, now);
  t.event("checkout.created", PendingEvent::Kind::checkout);
  t.job(job_kind::payment_create, {}, payment_serial_key(c.id));
  return t.finish();
}

namespace {

// The body of apply_payment_fact, shared with the record_* functions so that one transition
// renders its events once.
void payment_fact(Transition& t, const PaymentFact& fact) {
  Checkout& c = t.c();
  Payment& p = c.payment;
  if (!fact.reference.empty() && p.reference.empty()) {
    p.reference = fact.reference;
    t.touch();
  }
  merge_partner_data(p, fact.partner_data);
  if (!can_advance(p.status, fact.status)) return;
  PaymentStatus before = p.status;
  p.status = fact.status;
  t.touch();
  switch (fact.status) {
    case PaymentStatus::requires_action:
    case PaymentStatus::processing:
      if (fact.client_action) p.client_action = fact.client_action;
      break;
    case PaymentStatus::failed:
      p.failure_code = fact.failure_code.empty() ? "payment_failed" : fact.failure_code;
      p.failure_message = fact.failure_message;
      break;
    case PaymentStatus::canceled:
      if (c.canceled_at == 0) c.canceled_at = t.now();
      break;
    case PaymentStatus::succeeded:
      p.failure_code.clear();
      p.failure_message.clear();
      p.client_action.reset();
      if (c.canceled_at != 0 || before == PaymentStatus::canceled) {
        // Paid after the buyer or the processor canceled: give the money back.
        if (c.canceled_at == 0) c.canceled_at = t.now();
        auto_refund(t, c.amount_total, "canceled", {});
      } else {
        for (const auto& f : c.fulfillments) {
          if (f.status == FulfillmentStatus::pending) {
            t.job(job_kind::fulfillment_create, {{"fulfillment", f.id}}, f.id);
          }
        }
      }
      break;
    case PaymentStatus::pending:
      break;
  }
}

// True when the fact newly recorded a succeeded refund (a repeated fact records nothing).
bool refund_fact(Transition& t, const RefundFact& fact) {
  Checkout& c = t.c();
  Refund* r = fact.refund_id.empty() ? nullptr : c.refund(fact.refund_id);
  if (!r) r = c.refund_by_reference(fact.reference);
  if (!r) {
    // A refund made outside merchgate (the processor's dashboard): record it if it succeeded.
    if (fact.status != RefundStatus::succeeded || fact.amount <= 0) return false;
    Refund x;
    x.id = new_id("rfd");
    x.amount = std::min(fact.amount, refundable(c));
    if (x.amount <= 0) return false;
    x.reason = "external";
    x.reference = fact.reference;
    x.status = RefundStatus::succeeded;
    x.created_at = x.updated_at = t.now();
    c.refunds.push_back(std::move(x));
    t.touch();
    t.event("refund.succeeded", PendingEvent::Kind::refund, c.refunds.back().id);
    return true;
  }
  if (r->reference.empty() && !fact.reference.empty()) r->reference = fact.reference;
  if (r->status != RefundStatus::pending || fact.status == RefundStatus::pending) return false;
  r->status = fact.status;
  r->failure_message = fact.failure_message;
  r->updated_at = t.now();
  t.touch();
  t.event(fact.status == RefundStatus::succeeded ? "refund.succeeded" : "refund.failed",
          PendingEvent::Kind::refund, r->id);
  return fact.status == RefundStatus::succeeded;
}

void fulfillment_fact(Transition& t, std::string_view id, const FulfillmentFact& fact) {
  Checkout& c = t.c();
  Fulfillment* f = c.fulfillment(id);
  if (!f) return;
  if (f->reference.empty() && !fact.reference.empty()) {
    f->reference = fact.reference;
    f->updated_at = t.now();
    t.touch();
  }
  int new_packages = 0;
  for (const auto& s : fact.shipments) {
    bool known = std::any_of(f->shipments.begin(), f->shipments.end(),
                             [&](const Shipment& k) { return same_package(k, s); });
    if (!known) {
      Shipment added = s;
      if (added.shipped_at == 0) added.shipped_at = t.now();
      f->shipments.push_back(std::move(added));
      ++new_packages;
    }
  }
  if (record_shipped_lines(*f, fact) || new_packages > 0) {
    f->updated_at = t.now();
    t.touch();
  }
  bool advancing = can_advance(f->status, fact.status);
  bool ends =
      fact.status == FulfillmentStatus::failed || fact.status == FulfillmentStatus::canceled;
  // A package is news for the buyer whatever the order's status: a split order stays
  // in_production until its last package left, and each package that did is announced as
  // `fulfillment.shipped` (with the fulfillment still in_production), one event per package
  // however many one fact brings. A move to shipped announces one of its packages itself; one
  // that ends the order comes after its packages.
  int announce = new_packages;
  if (advancing && !ends && rank(fact.status) >= rank(FulfillmentStatus::shipped) &&
      rank(f->status) < rank(FulfillmentStatus::shipped) && announce > 0) {
    --announce;
  }
  if (advancing && ends) {
    for (; announce > 0; --announce)
      t.event("fulfillment.shipped", PendingEvent::Kind::fulfillment, f->id);
  }
  // A step's event; the step into shipped is followed by the other new packages' events.
  auto step = [&](FulfillmentStatus s) {
    t.event(fulfillment_event_type(s), PendingEvent::Kind::fulfillment, f->id);
    if (s == FulfillmentStatus::shipped) {
      for (; announce > 0; --announce)
        t.event("fulfillment.shipped", PendingEvent::Kind::fulfillment, f->id);
    }
  };
  if (advancing) {
    FulfillmentStatus before = f->status;
    f->status = fact.status;
    f->updated_at = t.now();
    if (fact.status == FulfillmentStatus::failed || fact.status == FulfillmentStatus::canceled) {
      f->failure_code = fact.failure_code;
      f->failure_message = fact.failure_message;
    }
    t.touch();
    // A jump along submitted -> in_production -> shipped -> delivered (a late or lost webhook)
    // still announces every step: each really happened, and apps act on them.
    if (rank(fact.status) <= rank(FulfillmentStatus::delivered)) {
      for (int r = std::max(rank(before) + 1, rank(FulfillmentStatus::submitted));
           r < rank(fact.status); ++r) {
        step(static_cast<FulfillmentStatus>(r));
      }
    }
    step(fact.status);
    bool partner_gave_up = fact.status == FulfillmentStatus::failed ||
                           (fact.status == FulfillmentStatus::canceled && c.canceled_at == 0);
    // The buyer gets back what never left (all of it when nothing shipped); the packages that
    // did are theirs. This runs once: a failed or canceled fulfillment never advances again, so
    // a repeated fact or a retried job refunds nothing more.
    std::optional<UnshippedPart> unshipped =
        partner_gave_up ? unshipped_part(c, *f) : std::nullopt;
    std::string packages = std::to_string(f->shipments.size()) + " package(s) had shipped";
    if (partner_gave_up && !unshipped) {
      // Which lines the packages held is not known: no automatic refund; the fulfillment is
      // flagged for an operator to refund what did not ship.
      std::string partner = f->failure_code.empty() ? std::string() : f->failure_code + ": ";
      f->failure_message = partner + f->failure_message + (f->failure_message.empty() ? "" : " ") +
                           "(" + packages + " and " + f->adapter +
                           " did not say what they held: not refunded automatically, refund "
                           "what did not ship through POST /v1/checkouts/" +
                           c.id + "/refunds)";
      f->failure_code = "partially_shipped";
    } else if (partner_gave_up) {
      if (!f->shipments.empty()) {
        f->failure_message += (f->failure_message.empty() ? "(" : " (") + packages +
                              (unshipped->lines.empty() ? " with every line: nothing to refund)"
                                                        : ": refunded what did not ship)");
      }
      auto_refund(
          t, unshipped->amount(),
          fact.status == FulfillmentStatus::failed ? "fulfillment_failed" : "fulfillment_canceled",
          f->id, std::move(unshipped->lines));
    }
  }
  if (is_active(*f)) {
    for (; announce > 0; --announce)
      t.event("fulfillment.shipped", PendingEvent::Kind::fulfillment, f->id);
  }
}

}  // namespace

Effects apply_payment_fact(Checkout& c, const PaymentFact& fact, Timestamp now) {
  Transition t(c, now);
  payment_fact(t, fact);
  return t.finish();
}

Effects apply_refund_fact(Checkout& c, const RefundFact& fact, Timestamp now) {
  Transition t(c, now);
  bool succeeded = refund_fact(t, fact);
  return t.finish(/*repeat_partial_refund=*/succeeded);
}

Effects apply_dispute_fact(Checkout& c, const DisputeFact& fact, Timestamp now) {
  Transition t(c, now);
  auto it = std::find_if(c.disputes.begin(), c.disputes.end(),
                         [&](const Dispute& d) { return d.reference == fact.reference; });
  if (it == c.disputes.end()) {
    Dispute d{fact.reference,
              fact.amount,
              fact.reason,
              fact.status.empty() ? (fact.closed ? "closed" : "open") : fact.status,
              now,
              now};
    c.disputes.push_back(d);
    t.touch();
    t.event("dispute.opened", PendingEvent::Kind::dispute, fact.reference);
    if (fact.closed) t.event("dispute.closed", PendingEvent::Kind::dispute, fact.reference);
  } else if (fact.closed && it->status != fact.status &&
             (it->status == "open" || it->status == "needs_response" ||
              it->status == "under_review" || it->status == "warning_needs_response")) {
    it->status = fact.status.empty() ? "closed" : fact.status;
    it->updated_at = now;
    t.touch();
    t.event("dispute.closed", PendingEvent::Kind::dispute, fact.reference);
  }
  return t.finish();
}

Effects apply_fulfillment_fact(Checkout& c, std::string_view fulfillment_id,
                               const FulfillmentFact& fact, Timestamp now) {
  Transition t(c, now);
  fulfillment_fact(t, fulfillment_id, fact);
  return t.finish();
}

Effects record_payment_created(Checkout& c, std::string_view processor, const PaymentFact& fact,
                               std::vector<PaymentAttempt> attempts, Timestamp now) {
  Transition t(c, now);
  c.payment.processor = std::string(processor);
  for (auto& a : attempts) c.payment.attempts.push_back(std::move(a));
  if (fact.client_action && c.payment.status == PaymentStatus::pending) {
    c.payment.client_action = fact.client_action;
  }
  t.touch();
  payment_fact(t, fact);
  return t.finish();
}

Effects record_payment_not_created(Checkout& c, std::string_view code, std::string_view message,
                                   std::vector<PaymentAttempt> attempts, Timestamp now) {
  Transition t(c, now);
  for (auto& a : attempts) c.payment.attempts.push_back(std::move(a));
  t.touch();
  PaymentFact fact;
  fact.status = PaymentStatus::failed;
  fact.failure_code = std::string(code);
  fact.failure_message = std::string(message);
  payment_fact(t, fact);
  return t.finish();
}

Effects record_fulfillment_placed(Checkout& c, std::string_view fulfillment_id,
                                  const FulfillmentFact& fact, Timestamp now) {
  Transition t(c, now);
  Fulfillment* f = c.fulfillment(fulfillment_id);
  if (f && f->status == FulfillmentStatus::canceled) {
    // Canceled while the order was on its way to the partner: cancel it there too.
    if (f->reference.empty()) f->reference = fact.reference;
    t.touch();
    t.job(job_kind::fulfillment_cancel, {{"fulfillment", f->id}}, f->id);
    return t.finish();
  }
  fulfillment_fact(t, fulfillment_id, fact);
  return t.finish();
}

Effects record_refund_refused(Checkout& c, std::string_view refund_id, std::string_view message,
                              Timestamp now) {
  RefundFact fact;
  fact.refund_id = std::string(refund_id);
  fact.status = RefundStatus::failed;
  fact.failure_message = std::string(message);
  return apply_refund_fact(c, fact, now);
}

Result<Effects> request_cancel(Checkout& c, Timestamp now) {
  if (c.canceled_at != 0 || c.status == CheckoutStatus::canceled) {
    return make_error(errc::invalid_state, "checkout " + c.id + " is already canceled");
  }
  if (c.status == CheckoutStatus::refunded) {
    return make_error(errc::invalid_state,
                      "checkout " + c.id + " is fully refunded; there is nothing to cancel");
  }
  for (const auto& f : c.fulfillments) {
    if (is_active(f) && rank(f.status) >= rank(FulfillmentStatus::in_production)) {
      return make_error(errc::invalid_state,
                        "fulfillment " + f.id + " is already " + std::string(to_string(f.status)) +
                            " at " + f.adapter +
                            "; a checkout cannot be canceled once production started — refund "
                            "it instead");
    }
  }
  if (c.status == CheckoutStatus::fulfilled) {
    return make_error(errc::invalid_state,
                      "checkout " + c.id + " is already fulfilled; refund it instead");
  }
  Transition t(c, now);
  c.canceled_at = now;
  t.touch();
  for (auto& f : c.fulfillments) {
    if (f.status == FulfillmentStatus::pending) {
      f.status = FulfillmentStatus::canceled;
      f.updated_at = now;
      t.event("fulfillment.canceled", PendingEvent::Kind::fulfillment, f.id);
    } else if (f.status == FulfillmentStatus::submitted) {
      t.job(job_kind::fulfillment_cancel, {{"fulfillment", f.id}}, f.id);
    }
  }
  if (c.payment.status == PaymentStatus::succeeded) {
    auto_refund(t, c.amount_total, "canceled", {});
  } else if (c.payment.status != PaymentStatus::canceled) {
    t.job(job_kind::payment_cancel, {}, payment_serial_key(c.id));
  }
  return t.finish();
}

Result<Effects> request_refund(Checkout& c, std::int64_t amount, std::string reason, Timestamp now,
                               std::string& refund_id) {
  if (c.payment.status != PaymentStatus::succeeded) {
    return make_error(errc::invalid_state, "checkout " + c.id +
                                               " has no successful payment to refund (status " +
                                               std::string(to_string(c.status)) + ")");
  }
  std::int64_t left = refundable(c);
  if (amount <= 0) {
    return make_error(errc::amount_out_of_range, "'amount' must be a positive integer", "amount");
  }
  if (amount > left) {
    return make_error(errc::unprocessable,
                      "'amount' " + std::to_string(amount) + " exceeds the refundable " +
                          std::to_string(left) + " " + c.currency,
                      "amount");
  }
  Transition t(c, now);
  Refund r;
  r.id = new_id("rfd");
  r.amount = amount;
  r.reason = std::move(reason);
  r.created_at = r.updated_at = now;
  refund_id = r.id;
  t.job(job_kind::payment_refund, {{"refund", r.id}}, payment_serial_key(c.id));
  c.refunds.push_back(std::move(r));
  t.touch();
  return t.finish();
}

}  // namespace mg::core
