#include "gateway/core/model.hpp"

#include <array>
#include <utility>

namespace mg::core {
namespace {

template <class E, std::size_t N>
std::optional<E> lookup(const std::array<std::pair<E, std::string_view>, N>& table,
                        std::string_view s) noexcept {
  for (const auto& [e, name] : table)
    if (name == s) return e;
  return std::nullopt;
}

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E e) noexcept {
  for (const auto& [v, name] : table)
    if (v == e) return name;
  return "unknown";
}

constexpr std::array<std::pair<CheckoutStatus, std::string_view>, 8> kCheckout{{
    {CheckoutStatus::requires_payment, "requires_payment"},
    {CheckoutStatus::payment_failed, "payment_failed"},
    {CheckoutStatus::paid, "paid"},
    {CheckoutStatus::fulfilling, "fulfilling"},
    {CheckoutStatus::fulfilled, "fulfilled"},
    {CheckoutStatus::partially_refunded, "partially_refunded"},
    {CheckoutStatus::refunded, "refunded"},
    {CheckoutStatus::canceled, "canceled"},
}};
constexpr std::array<std::pair<PaymentStatus, std::string_view>, 6> kPayment{{
    {PaymentStatus::pending, "pending"},
    {PaymentStatus::requires_action, "requires_action"},
    {PaymentStatus::processing, "processing"},
    {PaymentStatus::failed, "failed"},
    {PaymentStatus::succeeded, "succeeded"},
    {PaymentStatus::canceled, "canceled"},
}};
constexpr std::array<std::pair<FulfillmentStatus, std::string_view>, 7> kFulfillment{{
    {FulfillmentStatus::pending, "pending"},
    {FulfillmentStatus::submitted, "submitted"},
    {FulfillmentStatus::in_production, "in_production"},
    {FulfillmentStatus::shipped, "shipped"},
    {FulfillmentStatus::delivered, "delivered"},
    {FulfillmentStatus::canceled, "canceled"},
    {FulfillmentStatus::failed, "failed"},
}};
constexpr std::array<std::pair<RefundStatus, std::string_view>, 3> kRefund{{
    {RefundStatus::pending, "pending"},
    {RefundStatus::succeeded, "succeeded"},
    {RefundStatus::failed, "failed"},
}};

}  // namespace

std::string_view to_string(CheckoutStatus s) noexcept { return name_of(kCheckout, s); }
std::string_view to_string(PaymentStatus s) noexcept { return name_of(kPayment, s); }
std::string_view to_string(FulfillmentStatus s) noexcept { return name_of(kFulfillment, s); }
std::string_view to_string(RefundStatus s) noexcept { return name_of(kRefund, s); }
std::optional<CheckoutStatus> checkout_status_from(std::string_view s) noexcept {
  return lookup(kCheckout, s);
}
std::optional<PaymentStatus> payment_status_from(std::string_view s) noexcept {
  return lookup(kPayment, s);
}
std::optional<FulfillmentStatus> fulfillment_status_from(std::string_view s) noexcept {
  return lookup(kFulfillment, s);
}
std::optional<RefundStatus> refund_status_from(std::string_view s) noexcept {
  return lookup(kRefund, s);
}

std::string Product::fulfillment_adapter() const {
  if (!fulfillment) return {};
  const auto* v = fulfillment->if_contains("adapter");
  if (!v || !v->is_string()) return {};
  return std::string(v->as_string());
}

bool Fulfillment::shipped_lines_known() const {
  return packages_accounted >= static_cast<std::int64_t>(shipments.size());
}

std::int64_t Checkout::amount_refunded() const {
  std::int64_t sum = 0;
  for (const auto& r : refunds)
    if (r.status == RefundStatus::succeeded) sum += r.amount;
  return sum;
}

std::int64_t Checkout::amount_refund_pending() const {
  std::int64_t sum = 0;
  for (const auto& r : refunds)
    if (r.status == RefundStatus::pending) sum += r.amount;
  return sum;
}

Fulfillment* Checkout::fulfillment(std::string_view id) {
  for (auto& f : fulfillments)
    if (f.id == id) return &f;
  return nullptr;
}

Refund* Checkout::refund(std::string_view id) {
  for (auto& r : refunds)
    if (r.id == id) return &r;
  return nullptr;
}

Refund* Checkout::refund_by_reference(std::string_view reference) {
  if (reference.empty()) return nullptr;
  for (auto& r : refunds)
    if (r.reference == reference) return &r;
  return nullptr;
}

void Effects::append(Effects other) {
  for (auto& e : other.events) events.push_back(std::move(e));
  for (auto& j : other.jobs) jobs.push_back(std::move(j));
}

}  // namespace mg::core
