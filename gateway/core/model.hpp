#pragma once
// The domain: sellers and products (the catalog), checkouts with their payment, refunds and
// fulfillments, and the events and jobs a state change produces. Plain data, no I/O.
#include "gateway/core/clock.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mg::core {

struct Address {
  std::string name;
  std::string line1;
  std::optional<std::string> line2;
  std::string city;
  std::optional<std::string> state;
  std::string postal_code;
  std::string country;  // ISO 3166-1 alpha-2
};

struct Buyer {
  std::string id;
  std::string email;
  std::optional<Address> shipping_address;
};

struct Seller {
  std::string id;
  std::string name;
  std::int64_t platform_fee_bps = 0;
  std::map<std::string, std::string> payouts;  // adapter id -> the seller's account there
  Timestamp created_at = 0;
  Timestamp updated_at = 0;
};

struct Product {
  std::string sku;
  std::string seller;
  std::string title;
  std::string description;
  std::int64_t unit_amount = 0;
  std::string currency;
  std::vector<std::string> images;
  std::string group;                           // SKUs of one group are variants of each other
  std::map<std::string, std::string> options;  // {"size": "M", "color": "black"}
  bool active = true;
  bool in_stock = true;
  // {"adapter": "...", partner-specific keys}; absent for a product nobody ships (digital).
  std::optional<boost::json::object> fulfillment;
  Timestamp created_at = 0;
  Timestamp updated_at = 0;

  // The adapter id that makes it, empty when nobody ships it.
  std::string fulfillment_adapter() const;
};

// Ordered: a checkout only ever moves to a higher rank (canceled is terminal).
enum class CheckoutStatus {
  requires_payment,
  payment_failed,
  paid,
  fulfilling,
  fulfilled,
  partially_refunded,
  refunded,
  canceled,
};
enum class PaymentStatus { pending, requires_action, processing, failed, succeeded, canceled };
enum class FulfillmentStatus {
  pending,
  submitted,
  in_production,
  shipped,
  delivered,
  canceled,
  failed,
};
enum class RefundStatus { pending, succeeded, failed };

std::string_view to_string(CheckoutStatus s) noexcept;
std::string_view to_string(PaymentStatus s) noexcept;
std::string_view to_string(FulfillmentStatus s) noexcept;
std::string_view to_string(RefundStatus s) noexcept;
std::optional<CheckoutStatus> checkout_status_from(std::string_view s) noexcept;
std::optional<PaymentStatus> payment_status_from(std::string_view s) noexcept;
std::optional<FulfillmentStatus> fulfillment_status_from(std::string_view s) noexcept;
std::optional<RefundStatus> refund_status_from(std::string_view s) noexcept;

struct ClientAction {
  std::string type;   // "client_secret" | "redirect"
  std::string value;  // the secret or the URL
};

// One try at creating the payment with one processor (failover records every try).
struct PaymentAttempt {
  std::string processor;
  std::string outcome;  // "created", "failed", "unavailable"
  std::string error;
  Timestamp at = 0;
};

struct Payment {
  std::string processor;  // adapter id
  std::string reference;  // the processor's id (pi_..., order id, pspReference)
  std::string method;     // the method token the app passed, if any
  std::string return_url;
  PaymentStatus status = PaymentStatus::pending;
  std::optional<ClientAction> client_action;
  std::string failure_code;
  std::string failure_message;
  std::vector<std::string> candidates;  // processors in routing order, for failover
  std::vector<PaymentAttempt> attempts;
  // Partner-side ids the adapter needs later (PayPal capture id, ...); never shown.
  std::map<std::string, std::string> partner_data;
};

// A quantity of one sku: what an automatic refund of a fulfillment covers.
struct SkuQuantity {
  std::string sku;
  std::int64_t quantity = 0;
};

struct Refund {
  std::string id;  // rfd_...
  std::int64_t amount = 0;
  std::string reason;
  RefundStatus status = RefundStatus::pending;
  std::string reference;  // the processor's refund id
  std::string failure_message;
  bool automatic = false;      // started by merchgate (cancel, refused fulfillment)
  std::string fulfillment_id;  // the fulfillment whose failure caused it, if any
  Timestamp created_at = 0;
  Timestamp updated_at = 0;
  std::vector<SkuQuantity> lines;  // that fulfillment's lines it refunds (all, or the unshipped)
};

struct Shipment {
  std::string carrier;
  std::string tracking_number;
  std::string tracking_url;
  Timestamp shipped_at = 0;
};

struct FulfillmentLine {
  std::string sku;
  std::int64_t quantity = 0;
  // How many the partner says have left in packages (at most `quantity`); meaningful only while
  // the fulfillment's `packages_accounted` covers all its shipments.
  std::int64_t quantity_shipped = 0;
};

struct Fulfillment {
  std::string id;         // ful_...
  std::string adapter;    // adapter id of the merch partner
  std::string reference;  // the partner's order id
  FulfillmentStatus status = FulfillmentStatus::pending;
  std::vector<FulfillmentLine> lines;
  std::int64_t amount = 0;           // the lines' amount (for refunds on failure)
  std::int64_t amount_shipping = 0;  // this partner's shipping quote
  std::vector<Shipment> shipments;
  // How many of `shipments` the lines' quantity_shipped account for: the partner said what those
  // packages held. A package beyond them holds something merchgate does not know (not shown).
  std::int64_t packages_accounted = 0;
  std::string failure_code;
  std::string failure_message;
  Timestamp created_at = 0;
  Timestamp updated_at = 0;

  // Whether the partner said what every package held, so the lines' quantity_shipped are whole.
  bool shipped_lines_known() const;
};

struct Dispute {
  std::string reference;  // the processor's dispute id
  std::int64_t amount = 0;
  std::string reason;
  std::string status;  // "open", "won", "lost", ...
  Timestamp created_at = 0;
  Timestamp updated_at = 0;
};

struct Line {
  std::string sku;
  std::string title;
  std::int64_t quantity = 0;
  std::int64_t unit_amount = 0;
  std::int64_t amount = 0;
  std::string fulfillment_adapter;  // empty: nothing to ship
  // The product's fulfillment block when the checkout was made (stored, not shown).
  boost::json::object fulfillment_spec;
};

struct Checkout {
  std::string id;
  std::string seller;
  CheckoutStatus status = CheckoutStatus::requires_payment;
  std::string currency;
  std::vector<Line> lines;
  std::int64_t amount_subtotal = 0;
  std::int64_t amount_shipping = 0;
  std::int64_t amount_total = 0;
  std::int64_t platform_fee = 0;
  Payment payment;
  std::vector<Refund> refunds;
  std::vector<Fulfillment> fulfillments;
  std::vector<Dispute> disputes;
  Buyer buyer;
  boost::json::object metadata;
  std::string api_key_id;  // the app key that created it (not shown)
  Timestamp created_at = 0;
  Timestamp updated_at = 0;
  Timestamp canceled_at = 0;  // 0: not canceled
  // When the reconciler should next ask partners about it (0: nothing open); not shown.
  Timestamp reconcile_at = 0;

  std::int64_t amount_refunded() const;  // succeeded refunds
  std::int64_t amount_refund_pending() const;
  Fulfillment* fulfillment(std::string_view id);
  Refund* refund(std::string_view id);
  Refund* refund_by_reference(std::string_view reference);
};

// One normalized event (CONTRACT §6).
struct Event {
  std::string id;  // evt_...
  std::string type;
  std::string checkout_id;
  Timestamp created_at = 0;
  boost::json::object object;  // data.object
};

// Work a state change asks for: a partner call done by a job worker.
struct JobSpec {
  std::string kind;  // "payment.create", "fulfillment.create", ...
  std::string checkout_id;
  boost::json::object payload;
  // Jobs with the same key run one at a time, oldest first.
  std::string serial_key;
  Timestamp run_at = 0;  // 0: now
};

// What a transition produced, written in the same transaction as the new state.
struct Effects {
  std::vector<Event> events;
  std::vector<JobSpec> jobs;

  void append(Effects other);
  bool empty() const { return events.empty() && jobs.empty(); }
};

namespace job_kind {
inline constexpr std::string_view payment_create = "payment.create";
inline constexpr std::string_view payment_cancel = "payment.cancel";
inline constexpr std::string_view payment_refund = "payment.refund";
inline constexpr std::string_view payment_sync = "payment.sync";
inline constexpr std::string_view refund_sync = "payment.refund_sync";
inline constexpr std::string_view fulfillment_create = "fulfillment.create";
inline constexpr std::string_view fulfillment_cancel = "fulfillment.cancel";
inline constexpr std::string_view fulfillment_sync = "fulfillment.sync";
inline constexpr std::string_view inbound_apply = "inbound.apply";
}  // namespace job_kind

}  // namespace mg::core
