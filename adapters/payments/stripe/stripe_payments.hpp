#pragma once
// stripe: PaymentIntents over Stripe's v1 API (form-encoded requests, JSON answers), Connect
// destination charges for seller payouts, refunds, and Stripe-Signature webhooks. Credentials
// `secret_key` (sk_… or rk_…) and `webhook_secret` (whsec_…); settings `capture_method`,
// `api_version`, `webhook_tolerance_s`. The wire format itself is in stripe_wire.hpp.
#include "adapters/adapter.hpp"

namespace mg::adapters::stripe {

struct StripeFactory {
  static constexpr std::string_view kType = "stripe";
  static constexpr std::string_view kDefaultBaseUrl = "https://api.stripe.com";
  static AdapterType type();
};

}  // namespace mg::adapters::stripe
