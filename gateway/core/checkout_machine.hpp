#pragma once
// The checkout and fulfillment state machines as pure functions. Each takes the checkout as
// stored, applies one fact or request, and returns the events and jobs it causes; the caller
// writes state, events and jobs in one transaction. Facts only ever move things forward: a late
// or repeated webhook changes nothing, and money facts are never lost (a payment that succeeds
// after a cancel is refunded automatically).
#include "gateway/core/error.hpp"
#include "gateway/core/model.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mg::core {

int rank(CheckoutStatus s) noexcept;
int rank(PaymentStatus s) noexcept;
int rank(FulfillmentStatus s) noexcept;

// Whether a fact may move the status from `from` to `to` (strictly forward, legal edge).
bool can_advance(PaymentStatus from, PaymentStatus to) noexcept;
bool can_advance(FulfillmentStatus from, FulfillmentStatus to) noexcept;

// The status the checkout's facts (payment, refunds, fulfillments, cancellation) add up to.
CheckoutStatus derive_status(const Checkout& c) noexcept;

// Every event type merchgate emits (CONTRACT §6).
std::span<const std::string_view> event_types() noexcept;

// The CONTRACT §6 event type announcing a checkout status, or empty when none is defined for it.
std::string_view status_event_type(CheckoutStatus s) noexcept;

// What a payment processor says about the payment (webhook, poll, or the create call's reply).
struct PaymentFact {
  PaymentStatus status = PaymentStatus::processing;
  std::string reference;
  std::optional<ClientAction> client_action;
  std::string failure_code;
  std::string failure_message;
  std::map<std::string, std::string> partner_data;  // merged into Payment::partner_data
};

// What a processor says about a refund. `refund_id` is merchgate's id when the processor echoes
// it; otherwise the refund is found by `reference`, or recorded as new (made outside merchgate).
struct RefundFact {
  std::string refund_id;
  std::string reference;
  RefundStatus status = RefundStatus::succeeded;
  std::int64_t amount = 0;
  std::string failure_message;
};

struct DisputeFact {
  std::string reference;
  bool closed = false;
  std::string status;  // "open", "won", "lost", ...
  std::int64_t amount = 0;
  std::string reason;
};

// What a merch partner says about an order.
struct FulfillmentFact {
  FulfillmentStatus status = FulfillmentStatus::submitted;
  std::string reference;
  std::vector<Shipment> shipments;  // every package known so far; merged by tracking number
  // What the packages in `shipments` held all together, by merchgate sku, when the partner says
  // so for every one of them; nullopt when it does not (or not for every package).
  std::optional<std::map<std::string, std::int64_t>> shipped;
  std::string failure_code;
  std::string failure_message;
};

// What of a fulfillment never left in a package: the lines (and quantities) still unshipped, at
// their unit prices, and their share of the fulfillment's shipping, split in proportion to the
// amounts that shipped and did not (so with nothing shipped it is all of the shipping, as for a
// refused order).
struct UnshippedPart {
  std::vector<SkuQuantity> lines;
  std::int64_t amount_lines = 0;
  std::int64_t amount_shipping = 0;

  std::int64_t amount() const noexcept { return amount_lines + amount_shipping; }
};

// nullopt when the partner has not said what every package held, or a line is not the
// checkout's: then what did not ship is unknown.
std::optional<UnshippedPart> unshipped_part(const Checkout& c, const Fulfillment& f);

// A new checkout: `checkout.created` and the payment.create job.
Effects checkout_created(Checkout& c, Timestamp now);

Effects apply_payment_fact(Checkout& c, const PaymentFact& fact, Timestamp now);
Effects apply_refund_fact(Checkout& c, const RefundFact& fact, Timestamp now);
Effects apply_dispute_fact(Checkout& c, const DisputeFact& fact, Timestamp now);
// A fulfillment that jumps forward (pending -> shipped after a lost webhook) emits the skipped
// steps' events too, in order.
Effects apply_fulfillment_fact(Checkout& c, std::string_view fulfillment_id,
                               const FulfillmentFact& fact, Timestamp now);

// The outcome of merchgate's own create-payment call.
Effects record_payment_created(Checkout& c, std::string_view processor, const PaymentFact& fact,
                               std::vector<PaymentAttempt> attempts, Timestamp now);
// Creating the payment failed everywhere it was tried: the checkout is payment_failed.
Effects record_payment_not_created(Checkout& c, std::string_view code, std::string_view message,
                                   std::vector<PaymentAttempt> attempts, Timestamp now);
// The partner took the order (or found it by our external id after a retry).
Effects record_fulfillment_placed(Checkout& c, std::string_view fulfillment_id,
                                  const FulfillmentFact& fact, Timestamp now);
// The processor refused a refund outright (not pending): refund.failed.
Effects record_refund_refused(Checkout& c, std::string_view refund_id, std::string_view message,
                              Timestamp now);

// App requests. Errors are 409 (invalid_state) or 422 with `param`, and leave `c` unchanged.
Result<Effects> request_cancel(Checkout& c, Timestamp now);
// On success `refund_id` is the new refund's id.
Result<Effects> request_refund(Checkout& c, std::int64_t amount, std::string reason, Timestamp now,
                               std::string& refund_id);

// The amount still refundable: total minus succeeded and pending refunds.
std::int64_t refundable(const Checkout& c) noexcept;

// A serial key shared by all payment jobs of one checkout, so a refund never overtakes a cancel.
std::string payment_serial_key(std::string_view checkout_id);

// The reconciler's deadlines: how long a payment (or refund) and an order may go without news.
struct Staleness {
  std::int64_t payment_ms = 10 * 60'000;
  std::int64_t order_ms = 60 * 60'000;
};

// When partners should next be asked about this checkout: the earliest deadline of an open
// payment, a pending refund or an open order that has a partner reference; 0 when nothing is open.
Timestamp reconcile_due_at(const Checkout& c, const Staleness& s);

// The sync jobs overdue at `now`: payment.sync, payment.refund_sync {refund}, fulfillment.sync
// {fulfillment}.
std::vector<JobSpec> overdue_syncs(const Checkout& c, Timestamp now, const Staleness& s);

}  // namespace mg::core
