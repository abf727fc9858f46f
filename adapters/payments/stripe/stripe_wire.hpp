#pragma once
// Stripe's wire format as pure functions, tested against Stripe's documented bytes: form
// encoding with bracket keys, PaymentIntent and Refund objects and the error object read back
// into normalized facts, the Stripe-Signature scheme, and events. No I/O here.
#include "adapters/adapter.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mg::adapters::stripe {

using FormFields = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded as Stripe's libraries send it: every byte outside
// [A-Za-z0-9-._~] percent-encoded (brackets too, space as %20), pairs joined by '&' in order.
std::string form_encode(const FormFields& fields);
// The reverse (for the simulator): '+' is a space; nullopt on a bad escape.
std::optional<FormFields> form_decode(std::string_view body);

struct Settings {
  std::string capture_method = "automatic";  // automatic | automatic_async | manual
  std::string api_version = "2024-06-20";    // sent as Stripe-Version
  std::int64_t webhook_tolerance_s = 300;    // Stripe's DEFAULT_TOLERANCE

  static Result<Settings> parse(const boost::json::object& settings);
};

// A method token merchgate passes on: a PaymentMethod id (pm_…, including Stripe's test
// tokens such as pm_card_visa) or a legacy card/source id.
bool is_method_token(std::string_view method) noexcept;

// POST /v1/payment_intents parameters. With a method: confirm=true (and return_url when known);
// without: automatic_payment_methods, for the client to confirm with the client_secret.
// Connect destination charges: transfer_data[destination] and application_fee_amount.
FormFields create_params(const PaymentRequest& request, const Settings& settings);
// POST /v1/refunds parameters; a destination charge's refund also reverses the transfer and the
// application fee, so the seller's share goes back with the buyer's money.
FormFields refund_params(const RefundRequest& request);

// Partner data keys kept on the payment.
inline constexpr std::string_view kChargeKey = "stripe_charge";
inline constexpr std::string_view kDestinationKey = "stripe_destination";

// A PaymentIntent object as a fact: requires_payment_method/confirmation/action are
// requires_action with the client_secret (or the redirect of next_action.redirect_to_url);
// requires_capture is processing; a requires_payment_method carrying last_payment_error failed.
core::PaymentFact payment_fact(const boost::json::object& intent);
core::RefundStatus refund_status(std::string_view status) noexcept;
RefundCreated refund_created(const boost::json::object& refund);

// A non-2xx answer with Stripe's error object as an adapter error: 402 card errors are
// declines (partner_code = decline_code, else code), 401/403 authentication, 404 not_found,
// 409 and 429 try-later, payment_intent_unexpected_state invalid_state, other 4xx rejected,
// 5xx partner_error (outcome unknown), except 503 unavailable (see adapters::server_error).
AdapterError error_from(int status, std::string_view body, std::string_view retry_after = {});

// Stripe-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<payload>" keyed with the whole
// whsec_ secret>[,v1=…]. Any v1 may match; other schemes are ignored.
std::string compute_signature(std::string_view secret, std::int64_t timestamp,
                              std::string_view payload);
std::string signature_header(std::string_view secret, std::int64_t timestamp,
                             std::string_view payload);
// invalid_webhook (unreadable header, no v1, no match) or stale_webhook (signed, but `t` older
// than now - tolerance; tolerance 0 disables the check), as stripe-python verifies.
boost::system::result<void, AdapterError> verify_signature(std::string_view header,
                                                           std::string_view payload,
                                                           std::string_view secret,
                                                           std::int64_t now_s,
                                                           std::int64_t tolerance_s);

// A verified event body as normalized events: payment_intent.* (amount_capturable_updated asks
// for a capture), charge.refunded (one event per refund listed), charge.refund.updated and
// refund.*, charge.dispute.*. Every other type is one ignored event.
AResult<WebhookResult> parse_event(std::string_view body);

}  // namespace mg::adapters::stripe
