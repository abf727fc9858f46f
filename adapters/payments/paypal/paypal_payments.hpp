#pragma once
// paypal: Orders v2 (intent CAPTURE: the buyer approves at PayPal, merchgate captures when
// CHECKOUT.ORDER.APPROVED arrives), refunds on the capture, an OAuth2 client-credentials token
// cached and refreshed before expiry (one refresh at a time), and webhooks verified locally
// against PayPal's certificate or through verify-webhook-signature. Credentials `client_id`,
// `client_secret`, `webhook_id`; settings `environment`, `webhook_verification`,
// `certificate_hosts`, `webhook_tolerance_s`. The wire format is in paypal_wire.hpp.
#include "adapters/adapter.hpp"

namespace mg::adapters::paypal {

struct PayPalFactory {
  static constexpr std::string_view kType = "paypal";
  static AdapterType type();
};

}  // namespace mg::adapters::paypal
