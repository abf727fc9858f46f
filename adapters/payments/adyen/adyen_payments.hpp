#pragma once
// adyen: the Checkout API with X-API-Key — /sessions (hosted checkout, a redirect) or /payments
// (a payment method type; its action becomes the client action) — then the asynchronous
// modifications /payments/{pspReference}/captures|refunds|cancels, whose outcome arrives by
// notification (HMAC-SHA256 per item, answered "[accepted]"). Credentials `api_key`,
// `hmac_key`; settings `merchant_account`, `api_version`, `capture`. Wire format in
// adyen_wire.hpp.
#include "adapters/adapter.hpp"

namespace mg::adapters::adyen {

struct AdyenFactory {
  static constexpr std::string_view kType = "adyen";
  static constexpr std::string_view kDefaultBaseUrl = "https://checkout-test.adyen.com";
  static AdapterType type();
};

}  // namespace mg::adapters::adyen
