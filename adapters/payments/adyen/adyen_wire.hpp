#pragma once
// Adyen's Checkout API wire format as pure functions, tested against Adyen's published bytes:
// /payments and /sessions bodies and answers, the error body, modification bodies, and standard
// notifications with their per-item HMAC. No I/O here.
#include "adapters/adapter.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mg::adapters::adyen {

struct Settings {
  std::string merchant_account;       // required
  std::int64_t api_version = 71;      // the /v{N} path segment
  std::string capture = "automatic";  // automatic (the account captures) | manual
  static Result<Settings> parse(const boost::json::object& settings);
};

// Method tokens: none (Adyen's hosted checkout through /sessions, a redirect) or an Adyen
// payment method type such as "ideal", "paypal", "klarna" (/payments; card data never passes
// through merchgate).
bool is_method_token(std::string_view method) noexcept;

// POST /payments and POST /sessions (mode "hosted"): amount, reference = the checkout id,
// returnUrl, shopper email, delivery address and country, metadata; with a payout account, the
// split between the seller's balance account and the platform's commission; manual capture as
// additionalData.manualCapture.
boost::json::object payment_body(const PaymentRequest& request, const Settings& settings,
                                 std::string_view fallback_return_url);
boost::json::object session_body(const PaymentRequest& request, const Settings& settings,
                                 std::string_view fallback_return_url);
// POST /payments/{pspReference}/captures|refunds|cancels.
boost::json::object modification_body(const Settings& settings, std::int64_t amount,
                                      std::string_view currency, std::string_view reference);

inline constexpr std::string_view kSessionKey = "adyen_session";

// A /payments answer: Authorised succeeded (processing with manual capture), Pending/Received
// processing, RedirectShopper/IdentifyShopper/ChallengeShopper/PresentToShopper requires_action
// (a redirect when the action has a URL, otherwise the action itself as "adyen_action"),
// Refused/Cancelled/Error a decline (an AdapterError).
AResult<core::PaymentFact> payment_result(const boost::json::object& answer,
                                          const Settings& settings);
// A /sessions answer: requires_action with the hosted checkout URL; no pspReference yet (the
// AUTHORISATION notification brings it).
core::PaymentFact session_result(const boost::json::object& answer);

// A non-2xx answer: {status, errorCode, message, errorType, pspReference}.
AdapterError error_from(int status, std::string_view body, std::string_view retry_after = {});

// The HMAC signing string of one NotificationRequestItem:
// pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success
std::string signing_string(const boost::json::object& item);
// base64(HMAC-SHA256(hex-decoded key, signing string)); nullopt when the key is not hex.
std::optional<std::string> item_signature(std::string_view hex_key,
                                          const boost::json::object& item);

// A notification batch: every item's additionalData.hmacSignature must verify (else
// invalid_webhook and nothing is used); each item becomes one event. The reply is
// "[accepted]".
AResult<WebhookResult> parse_notification(std::string_view body, std::string_view hex_key,
                                          const Settings& settings);

}  // namespace mg::adapters::adyen
