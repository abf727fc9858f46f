#include "adapters/payments/adyen/adyen_wire.hpp"

#include "adapters/payments/support/payment_support.hpp"

#include "gateway/core/crypto.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace mg::adapters::adyen {
namespace bj = boost::json;
namespace {

using payments::str;
using payments::sub;

// A JSON scalar as the text Adyen's libraries put in the signing string.
std::string scalar_text(const bj::value* v) {
  if (!v || v->is_null()) return {};
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  if (v->is_bool()) return v->as_bool() ? "true" : "false";
  return bj::serialize(*v);
}

bj::object amount(std::int64_t value, std::string_view currency) {
  return bj::object{{"currency", currency}, {"value", value}};
}

// Adyen's metadata: up to 20 entries, keys up to 20 characters, values up to 80.
bj::object metadata(const std::map<std::string, std::string>& m) {
  bj::object out;
  auto add = [&](const std::string& k, const std::string& v) {
    if (out.size() < 20 && !k.empty() && k.size() <= 20) out[k] = v.substr(0, 80);
  };
  if (auto it = m.find("merchgate_checkout"); it != m.end()) add(it->first, it->second);
  for (const auto& [k, v] : m)
    if (k != "merchgate_checkout") add(k, v);
  return out;
}

void common(bj::object& body, const PaymentRequest& r, const Settings& s,
            std::string_view fallback_return_url) {
  body["merchantAccount"] = s.merchant_account;
  body["amount"] = amount(r.amount, r.currency);
  body["reference"] = r.ctx.checkout_id;
  body["returnUrl"] = r.return_url.empty() ? std::string(fallback_return_url) : r.return_url;
  if (!r.buyer_email.empty()) body["shopperEmail"] = r.buyer_email;
  if (r.shipping) {
    const auto& a = *r.shipping;
    body["countryCode"] = a.country;
    bj::object address{{"street", a.line1},
                       {"houseNumberOrName", a.line2.value_or("")},
                       {"city", a.city},
                       {"postalCode", a.postal_code},
                       {"country", a.country}};
    if (a.state && !a.state->empty()) address["stateOrProvince"] = *a.state;
    body["deliveryAddress"] = std::move(address);
  }
  if (!r.description.empty()) body["shopperStatement"] = r.description.substr(0, 22);
  if (auto md = metadata(r.metadata); !md.empty()) body["metadata"] = std::move(md);
  if (!r.payout_account.empty()) {
    bj::array splits{bj::object{{"amount", bj::object{{"value", r.amount - r.platform_fee}}},
                                {"type", "BalanceAccount"},
                                {"account", r.payout_account},
                                {"reference", r.ctx.checkout_id + "-seller"}}};
    if (r.platform_fee > 0) {
      splits.push_back(bj::object{{"amount", bj::object{{"value", r.platform_fee}}},
                                  {"type", "Commission"},
                                  {"reference", r.ctx.checkout_id + "-fee"}});
    }
    body["splits"] = std::move(splits);
  }
  if (s.capture == "manual") body["additionalData"] = bj::object{{"manualCapture", "true"}};
}

core::ClientAction action_of(const bj::object& action) {
  std::string url = str(action, "url");
  if (!url.empty() && (str(action, "type") == "redirect" || str(action, "method") == "GET")) {
    return {"redirect", url};
  }
  return {"adyen_action", bj::serialize(action)};
}

InboundEvent item_event(const bj::object& item, const Settings& settings) {
  std::string code = str(item, "eventCode");
  std::string psp = str(item, "pspReference");
  std::string original = str(item, "originalReference");
  std::string merchant_ref = str(item, "merchantReference");
  std::string success_text = scalar_text(item.if_contains("success"));
  bool success = success_text == "true";
  std::string reason = str(item, "reason");
  std::int64_t value = 0;
  if (const auto* a = sub(item, "amount")) {
    if (const auto* v = a->if_contains("value"); v && v->is_int64()) value = v->as_int64();
  }
  InboundEvent e;
  e.partner_event_id = code + ":" + psp + ":" + original + ":" + success_text;
  e.type = code;
  auto payment = [&](core::PaymentStatus status, std::string failure_code = {}) {
    e.kind = InboundEvent::Kind::payment;
    core::PaymentFact f;
    f.status = status;
    f.reference = e.payment_reference;
    f.failure_code = std::move(failure_code);
    if (status == core::PaymentStatus::failed) f.failure_message = reason;
    e.payment = std::move(f);
  };
  if (code == "AUTHORISATION") {
    e.payment_reference = psp;
    e.checkout_id = merchant_ref;
    if (!success) {
      payment(core::PaymentStatus::failed, "refused");
    } else if (settings.capture == "manual") {
      payment(core::PaymentStatus::processing);
      e.action = "capture";
    } else {
      payment(core::PaymentStatus::succeeded);
    }
  } else if (code == "CAPTURE" || code == "CAPTURE_FAILED") {
    e.payment_reference = original;
    if (code == "CAPTURE" && success) {
      payment(core::PaymentStatus::succeeded);
    } else {
      payment(core::PaymentStatus::failed, "capture_failed");
    }
  } else if (code == "CANCELLATION" && success) {
    e.payment_reference = original;
    payment(core::PaymentStatus::canceled);
  } else if (code == "REFUND" || code == "REFUND_FAILED" || code == "REFUNDED_REVERSED") {
    e.kind = InboundEvent::Kind::refund;
    e.payment_reference = original;
    core::RefundFact f;
    if (merchant_ref.starts_with("rfd_")) f.refund_id = merchant_ref;
    f.reference = psp;
    f.status =
        code == "REFUND" && success ? core::RefundStatus::succeeded : core::RefundStatus::failed;
    f.amount = value;
    if (f.status == core::RefundStatus::failed) f.failure_message = reason.empty() ? code : reason;
    e.refund = std::move(f);
  } else if (code == "NOTIFICATION_OF_CHARGEBACK" || code == "CHARGEBACK" ||
             code == "CHARGEBACK_REVERSED" || code == "SECOND_CHARGEBACK") {
    e.kind = InboundEvent::Kind::dispute;
    e.payment_reference = original.empty() ? psp : original;
    core::DisputeFact f;
    f.reference = "chargeback:" + e.payment_reference;
    f.amount = value;
    f.reason = reason;
    if (code == "CHARGEBACK_REVERSED") {
      f.closed = true;
      f.status = "won";
    } else if (code == "SECOND_CHARGEBACK") {
      f.closed = true;
      f.status = "lost";
    } else {
      f.status = code == "CHARGEBACK" ? "open" : "needs_response";
    }
    e.dispute = std::move(f);
  }
  return e;
}

}  // namespace

Result<Settings> Settings::parse(const bj::object& o) {
  Settings s;
  s.merchant_account = str(o, "merchant_account");
  if (s.merchant_account.empty()) {
    return make_error(errc::missing_field, "'settings.merchant_account' is required",
                      "settings.merchant_account");
  }
  if (const auto* v = o.if_contains("api_version"); v && v->is_int64())
    s.api_version = v->as_int64();
  if (auto v = str(o, "capture"); !v.empty()) s.capture = v;
  if (s.capture != "automatic" && s.capture != "manual") {
    return make_error(errc::invalid_field, "'settings.capture' must be automatic or manual",
                      "settings.capture");
  }
  return s;
}

bool is_method_token(std::string_view method) noexcept {
  return !method.empty() && method.size() <= 64 &&
         std::all_of(method.begin(), method.end(), [](unsigned char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
         });
}

bj::object payment_body(const PaymentRequest& r, const Settings& s,
                        std::string_view fallback_return_url) {
  bj::object body;
  common(body, r, s, fallback_return_url);
  body["paymentMethod"] = bj::object{{"type", r.method}};
  return body;
}

bj::object session_body(const PaymentRequest& r, const Settings& s,
                        std::string_view fallback_return_url) {
  bj::object body;
  common(body, r, s, fallback_return_url);
  body["mode"] = "hosted";
  return body;
}

bj::object modification_body(const Settings& s, std::int64_t value, std::string_view currency,
                             std::string_view reference) {
  bj::object body{{"merchantAccount", s.merchant_account}, {"reference", reference}};
  if (!currency.empty()) body["amount"] = amount(value, currency);
  return body;
}

AResult<core::PaymentFact> payment_result(const bj::object& answer, const Settings& settings) {
  std::string code = str(answer, "resultCode");
  core::PaymentFact f;
  f.reference = str(answer, "pspReference");
  if (code == "Authorised") {
    f.status = settings.capture == "manual" ? core::PaymentStatus::processing
                                            : core::PaymentStatus::succeeded;
  } else if (code == "Pending" || code == "Received") {
    f.status = core::PaymentStatus::processing;
  } else if (code == "RedirectShopper" || code == "IdentifyShopper" || code == "ChallengeShopper" ||
             code == "PresentToShopper") {
    f.status = core::PaymentStatus::requires_action;
    if (const auto* action = sub(answer, "action")) f.client_action = action_of(*action);
  } else if (code == "Refused" || code == "Cancelled" || code == "Error") {
    std::string reason = str(answer, "refusalReason");
    std::string reason_code = str(answer, "refusalReasonCode");
    return adapter_error(adapter_errc::declined,
                         "adyen: " + code + (reason.empty() ? "" : ": " + reason), 200,
                         reason_code.empty() ? code : reason_code);
  } else {
    return adapter_error(adapter_errc::partner_error, "adyen: unknown resultCode '" + code + "'",
                         200);
  }
  return f;
}

core::PaymentFact session_result(const bj::object& answer) {
  core::PaymentFact f;
  f.status = core::PaymentStatus::requires_action;
  std::string id = str(answer, "id");
  std::string url = str(answer, "url");
  if (!url.empty()) {
    f.client_action = core::ClientAction{"redirect", url};
  } else {
    f.client_action = core::ClientAction{
        "adyen_session",
        bj::serialize(bj::object{{"id", id}, {"sessionData", str(answer, "sessionData")}})};
  }
  if (!id.empty()) f.partner_data[std::string(kSessionKey)] = id;
  return f;
}

AdapterError error_from(int status, std::string_view body, std::string_view retry_after) {
  boost::system::error_code ec;
  bj::value v = bj::parse(body, ec);
  std::string code, message, type;
  if (!ec && v.is_object()) {
    code = str(v.as_object(), "errorCode");
    message = str(v.as_object(), "message");
    type = str(v.as_object(), "errorType");
  }
  if (message.empty()) message = "HTTP " + std::to_string(status) + " from Adyen";
  message = "adyen: " + (code.empty() ? "" : code + ": ") + message;
  if (auto e = payments::common_status_error(status, message, code, retry_after)) return *e;
  return adapter_error(adapter_errc::rejected, message, status, code.empty() ? type : code);
}

std::string signing_string(const bj::object& item) {
  const bj::object* a = sub(item, "amount");
  std::string out;
  for (const char* field :
       {"pspReference", "originalReference", "merchantAccountCode", "merchantReference"}) {
    out += scalar_text(item.if_contains(field));
    out.push_back(':');
  }
  out += scalar_text(a ? a->if_contains("value") : nullptr);
  out.push_back(':');
  out += scalar_text(a ? a->if_contains("currency") : nullptr);
  out.push_back(':');
  out += scalar_text(item.if_contains("eventCode"));
  out.push_back(':');
  out += scalar_text(item.if_contains("success"));
  return out;
}

std::optional<std::string> item_signature(std::string_view hex_key, const bj::object& item) {
  auto key = core::hex_decode(hex_key);
  if (!key) return std::nullopt;
  return core::base64_encode(core::hmac_sha256(*key, signing_string(item)));
}

AResult<WebhookResult> parse_notification(std::string_view body, std::string_view hex_key,
                                          const Settings& settings) {
  auto notification = payments::webhook_object(body, "notification");
  if (!notification) return notification.error();
  const auto* items = notification->if_contains("notificationItems");
  if (!items || !items->is_array() || items->as_array().empty()) {
    return adapter_error(adapter_errc::malformed_webhook, "notification has no notificationItems",
                         400);
  }
  WebhookResult result;
  result.status = 200;
  result.content_type = "text/plain";
  result.body = "[accepted]";
  std::size_t index = 0;
  for (const auto& entry : items->as_array()) {
    const bj::object* item =
        entry.is_object() ? sub(entry.as_object(), "NotificationRequestItem") : nullptr;
    std::string at = "notificationItems[" + std::to_string(index++) + "]";
    if (!item) {
      return adapter_error(adapter_errc::malformed_webhook, at + " has no NotificationRequestItem",
                           400);
    }
    const bj::object* additional = sub(*item, "additionalData");
    std::string given = additional ? str(*additional, "hmacSignature") : std::string();
    if (given.empty()) {
      return adapter_error(adapter_errc::invalid_webhook,
                           at + " has no additionalData.hmacSignature", 400);
    }
    auto expected = item_signature(hex_key, *item);
    if (!expected || !core::constant_time_equal(*expected, given)) {
      return adapter_error(adapter_errc::invalid_webhook, at + ": hmacSignature does not verify",
                           400);
    }
    if (str(*item, "eventCode").empty() || str(*item, "pspReference").empty()) {
      return adapter_error(adapter_errc::malformed_webhook, at + " lacks eventCode or pspReference",
                           400);
    }
    result.events.push_back(item_event(*item, settings));
  }
  return result;
}

}  // namespace mg::adapters::adyen
