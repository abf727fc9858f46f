#pragma once
// sandbox_payments: an in-process payment processor for development and tests, honest like a
// processor's test mode: its own ledger, idempotency keys, and signed webhooks sent back through
// POST /v1/webhooks/{adapter_id}. Method tokens: pm_sandbox_ok (succeeds after
// succeed_after_ms), pm_sandbox_decline (declined after decline_after_ms), pm_sandbox_action or
// none (a redirect to a hosted page on the gateway that completes the payment when opened).
#include "adapters/adapter.hpp"

namespace mg::adapters::sandbox {

struct PaymentSettings {
  std::int64_t succeed_after_ms = 1000;
  std::int64_t decline_after_ms = 300;
  std::int64_t refund_after_ms = 500;

  static Result<PaymentSettings> parse(const boost::json::object& settings);
};

struct SandboxPaymentsFactory {
  static constexpr std::string_view kType = "sandbox_payments";
  static AdapterType type();
};

}  // namespace mg::adapters::sandbox
