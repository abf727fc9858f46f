#pragma once
// PayPal's wire format as pure functions, tested against PayPal's documented bytes: Orders v2
// bodies and answers, amounts as decimal strings, the OAuth2 token answer, the error body, the
// transmission signature's signed string, and webhook events. No I/O here.
#include "adapters/adapter.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mg::adapters::paypal {

struct Settings {
  std::string environment = "sandbox";               // sandbox | live (the default base URL)
  std::string webhook_verification = "certificate";  // certificate | api
  // Hosts the PAYPAL-CERT-URL may name: each entry matches itself and its subdomains.
  std::vector<std::string> certificate_hosts = {"paypal.com"};
  // Transmissions older than this are stale: PayPal retries a delivery for up to 3 days.
  std::int64_t webhook_tolerance_s = 3 * 24 * 3600;

  static Result<Settings> parse(const boost::json::object& settings);
};

std::string_view default_base_url(std::string_view environment) noexcept;

// Minor units as PayPal's decimal string ("25.00", "3000" for JPY); nullopt for an unknown
// currency. And back; nullopt for anything that is not exactly such a string.
std::optional<std::string> format_value(std::int64_t minor, std::string_view currency);
std::optional<std::int64_t> parse_value(std::string_view value, std::string_view currency);

// POST /v2/checkout/orders: intent CAPTURE, one purchase unit naming the checkout
// (reference_id and custom_id), the seller as payee with the platform fee when payout_account is
// set, and the return URL in payment_source.paypal.experience_context when there is one.
boost::json::object order_body(const PaymentRequest& request);
// POST /v2/payments/captures/{id}/refund: the amount, and custom_id "<checkout>/<refund>".
boost::json::object refund_body(const RefundRequest& request);

inline constexpr std::string_view kCaptureKey = "paypal_capture";

// An order as a fact: CREATED/PAYER_ACTION_REQUIRED are requires_action with the approve (or
// payer-action) link as redirect; APPROVED is processing; COMPLETED follows its capture
// (COMPLETED succeeded, PENDING processing, DECLINED/FAILED failed); VOIDED canceled. The
// capture id goes to partner_data.
core::PaymentFact order_fact(const boost::json::object& order);
// The first capture id in an order, if any.
std::string capture_id(const boost::json::object& order);
core::RefundStatus refund_status(std::string_view status) noexcept;
RefundCreated refund_created(const boost::json::object& refund);

// A non-2xx answer ({name, message, details[{issue}]}, or OAuth's {error, error_description}).
AdapterError error_from(int status, std::string_view body, std::string_view retry_after = {});

struct Token {
  std::string access_token;
  std::int64_t expires_in_s = 0;
};
AResult<Token> parse_token(std::string_view body);

// "<transmission_id>|<transmission_time>|<webhook_id>|<crc32 of the body, unsigned decimal>".
std::string signed_string(std::string_view transmission_id, std::string_view transmission_time,
                          std::string_view webhook_id, std::string_view body);
// Whether a PAYPAL-CERT-URL may be fetched: https to an allowed host (http only to an allowed
// loopback literal, for simulators); the reason otherwise.
std::optional<std::string> certificate_url_problem(std::string_view url,
                                                   const std::vector<std::string>& hosts);
// Checks PAYPAL-TRANSMISSION-TIME against the replay window (tolerance 0 disables).
boost::system::result<void, AdapterError> check_transmission_time(std::string_view time,
                                                                  std::int64_t now_ms,
                                                                  std::int64_t tolerance_s);

// A verified event body: CHECKOUT.ORDER.APPROVED (then capture), CHECKOUT.ORDER.COMPLETED,
// PAYMENT.CAPTURE.COMPLETED/PENDING/DENIED/DECLINED/REFUNDED/REVERSED; others are ignored.
AResult<WebhookResult> parse_event(std::string_view body);

}  // namespace mg::adapters::paypal
