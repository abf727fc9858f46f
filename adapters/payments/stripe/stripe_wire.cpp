#include "adapters/payments/stripe/stripe_wire.hpp"

#include "adapters/payments/support/payment_support.hpp"

#include "gateway/core/crypto.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <charconv>
#include <map>

namespace mg::adapters::stripe {
namespace bj = boost::json;
namespace {

using payments::num;
using payments::str;
using payments::sub;

// An expandable field: the id string, or the expanded object's id.
std::string id_of(const bj::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  if (!v) return {};
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_object()) return str(v->as_object(), "id");
  return {};
}

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void percent_encode(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      auto hex = core::hex_decode(s.substr(i + 1, 2));
      if (!hex) return std::nullopt;
      out += *hex;
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Stripe's metadata limits: 50 keys, keys up to 40 characters (no brackets), values up to 500.
void add_metadata(FormFields& f, const std::map<std::string, std::string>& metadata,
                  std::string_view first_key) {
  int count = 0;
  auto add = [&](const std::string& k, const std::string& v) {
    if (count >= 50 || k.empty() || k.size() > 40 || k.find_first_of("[]") != std::string::npos) {
      return;
    }
    f.emplace_back("metadata[" + k + "]", v.substr(0, 500));
    ++count;
  };
  if (auto it = metadata.find(std::string(first_key)); it != metadata.end())
    add(it->first, it->second);
  for (const auto& [k, v] : metadata)
    if (k != first_key) add(k, v);
}

core::ClientAction client_action_of(const bj::object& intent) {
  if (const auto* next = sub(intent, "next_action")) {
    if (str(*next, "type") == "redirect_to_url") {
      if (const auto* r = sub(*next, "redirect_to_url")) {
        std::string url = str(*r, "url");
        if (!url.empty()) return {"redirect", url};
      }
    }
  }
  return {"client_secret", str(intent, "client_secret")};
}

InboundEvent base_event(const std::string& id, const std::string& type) {
  InboundEvent e;
  e.partner_event_id = id;
  e.type = type;
  return e;
}

core::RefundFact refund_fact(const bj::object& refund) {
  core::RefundFact f;
  f.reference = str(refund, "id");
  if (const auto* md = sub(refund, "metadata")) f.refund_id = str(*md, "merchgate_refund");
  f.status = refund_status(str(refund, "status"));
  f.amount = num(refund, "amount");
  f.failure_message = str(refund, "failure_reason");
  return f;
}

core::DisputeFact dispute_fact(const bj::object& d) {
  core::DisputeFact f;
  f.reference = str(d, "id");
  f.amount = num(d, "amount");
  f.reason = str(d, "reason");
  f.status = str(d, "status");
  f.closed = f.status == "won" || f.status == "lost" || f.status == "warning_closed";
  return f;
}

}  // namespace

std::string form_encode(const FormFields& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out.push_back('&');
    percent_encode(out, k);
    out.push_back('=');
    percent_encode(out, v);
  }
  return out;
}

std::optional<FormFields> form_decode(std::string_view body) {
  FormFields out;
  while (!body.empty()) {
    std::size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    auto k = percent_decode(pair.substr(0, eq));
    auto v =
        percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!k || !v) return std::nullopt;
    out.emplace_back(std::move(*k), std::move(*v));
  }
  return out;
}

Result<Settings> Settings::parse(const bj::object& o) {
  Settings s;
  if (auto v = str(o, "capture_method"); !v.empty()) s.capture_method = v;
  if (s.capture_method != "automatic" && s.capture_method != "automatic_async" &&
      s.capture_method != "manual") {
    return make_error(errc::invalid_field,
                      "'settings.capture_method' must be automatic, automatic_async or manual",
                      "settings.capture_method");
  }
  if (auto v = str(o, "api_version"); !v.empty()) s.api_version = v;
  if (const auto* v = o.if_contains("webhook_tolerance_s"); v && v->is_int64())
    s.webhook_tolerance_s = v->as_int64();
  return s;
}

bool is_method_token(std::string_view method) noexcept {
  static constexpr std::string_view kPrefixes[] = {"pm_", "card_", "src_", "ba_"};
  bool prefixed = std::any_of(std::begin(kPrefixes), std::end(kPrefixes),
                              [&](std::string_view p) { return method.starts_with(p); });
  if (!prefixed || method.size() > 255) return false;
  return std::all_of(method.begin(), method.end(), [](unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

FormFields create_params(const PaymentRequest& r, const Settings& s) {
  FormFields f;
  f.emplace_back("amount", std::to_string(r.amount));
  f.emplace_back("currency", lower(r.currency));
  f.emplace_back("capture_method", s.capture_method);
  if (r.method.empty()) {
    f.emplace_back("automatic_payment_methods[enabled]", "true");
  } else {
    f.emplace_back("payment_method", r.method);
    f.emplace_back("confirm", "true");
    if (!r.return_url.empty()) {
      f.emplace_back("return_url", r.return_url);
    } else {
      // No page to come back to: only methods that finish without a redirect.
      f.emplace_back("automatic_payment_methods[enabled]", "true");
      f.emplace_back("automatic_payment_methods[allow_redirects]", "never");
    }
  }
  if (!r.description.empty()) f.emplace_back("description", r.description);
  if (r.shipping) {
    const auto& a = *r.shipping;
    f.emplace_back("shipping[name]", a.name);
    f.emplace_back("shipping[address][line1]", a.line1);
    if (a.line2 && !a.line2->empty()) f.emplace_back("shipping[address][line2]", *a.line2);
    f.emplace_back("shipping[address][city]", a.city);
    if (a.state && !a.state->empty()) f.emplace_back("shipping[address][state]", *a.state);
    f.emplace_back("shipping[address][postal_code]", a.postal_code);
    f.emplace_back("shipping[address][country]", a.country);
  }
  if (!r.payout_account.empty()) {
    f.emplace_back("transfer_data[destination]", r.payout_account);
    if (r.platform_fee > 0)
      f.emplace_back("application_fee_amount", std::to_string(r.platform_fee));
  }
  add_metadata(f, r.metadata, "merchgate_checkout");
  return f;
}

FormFields refund_params(const RefundRequest& r) {
  FormFields f;
  f.emplace_back("payment_intent", r.payment_reference);
  f.emplace_back("amount", std::to_string(r.amount));
  if (r.reason == "duplicate" || r.reason == "fraudulent" || r.reason == "requested_by_customer") {
    f.emplace_back("reason", r.reason);
  }
  if (r.partner_data.count(std::string(kDestinationKey))) {
    f.emplace_back("reverse_transfer", "true");
    f.emplace_back("refund_application_fee", "true");
  }
  f.emplace_back("metadata[merchgate_checkout]", r.ctx.checkout_id);
  f.emplace_back("metadata[merchgate_refund]", r.refund_id);
  if (!r.reason.empty()) f.emplace_back("metadata[reason]", r.reason.substr(0, 500));
  return f;
}

core::PaymentFact payment_fact(const bj::object& intent) {
  core::PaymentFact f;
  f.reference = str(intent, "id");
  std::string status = str(intent, "status");
  if (status == "succeeded") {
    f.status = core::PaymentStatus::succeeded;
  } else if (status == "processing" || status == "requires_capture") {
    f.status = core::PaymentStatus::processing;
  } else if (status == "canceled") {
    f.status = core::PaymentStatus::canceled;
  } else if (status == "requires_payment_method" && sub(intent, "last_payment_error")) {
    const auto& e = *sub(intent, "last_payment_error");
    f.status = core::PaymentStatus::failed;
    f.failure_code = str(e, "decline_code");
    if (f.failure_code.empty()) f.failure_code = str(e, "code");
    if (f.failure_code.empty()) f.failure_code = "payment_failed";
    f.failure_message = str(e, "message");
  } else {
    // requires_payment_method, requires_confirmation, requires_action: the buyer's client acts.
    f.status = core::PaymentStatus::requires_action;
    f.client_action = client_action_of(intent);
  }
  if (auto charge = id_of(intent, "latest_charge"); !charge.empty())
    f.partner_data[std::string(kChargeKey)] = charge;
  if (const auto* td = sub(intent, "transfer_data")) {
    if (auto dest = id_of(*td, "destination"); !dest.empty())
      f.partner_data[std::string(kDestinationKey)] = dest;
  }
  return f;
}

core::RefundStatus refund_status(std::string_view status) noexcept {
  if (status == "succeeded") return core::RefundStatus::succeeded;
  if (status == "failed" || status == "canceled") return core::RefundStatus::failed;
  return core::RefundStatus::pending;  // pending, requires_action
}

RefundCreated refund_created(const bj::object& refund) {
  return {str(refund, "id"), refund_status(str(refund, "status")), str(refund, "failure_reason")};
}

AdapterError error_from(int status, std::string_view body, std::string_view retry_after) {
  boost::system::error_code ec;
  bj::value v = bj::parse(body, ec);
  const bj::object* err = nullptr;
  if (!ec && v.is_object()) err = sub(v.as_object(), "error");
  std::string type = err ? str(*err, "type") : "";
  std::string code = err ? str(*err, "code") : "";
  std::string message = err ? str(*err, "message") : "";
  std::string param = err ? str(*err, "param") : "";
  if (message.empty()) message = "HTTP " + std::to_string(status) + " from Stripe";
  if (!param.empty()) message += " (param " + param + ")";
  message = "stripe: " + message;
  if (status == 402 || type == "card_error") {
    std::string decline = err ? str(*err, "decline_code") : "";
    return adapter_error(adapter_errc::declined, message, status, decline.empty() ? code : decline);
  }
  if (auto e = payments::common_status_error(status, message, code, retry_after)) return *e;
  if (code == "payment_intent_unexpected_state" || code == "charge_already_refunded" ||
      code == "charge_already_captured") {
    return adapter_error(adapter_errc::invalid_state, message, status, code);
  }
  return adapter_error(adapter_errc::rejected, message, status, code.empty() ? type : code);
}

std::string compute_signature(std::string_view secret, std::int64_t timestamp,
                              std::string_view payload) {
  std::string signed_payload = std::to_string(timestamp);
  signed_payload.push_back('.');
  signed_payload.append(payload);
  return core::hex_encode(core::hmac_sha256(secret, signed_payload));
}

std::string signature_header(std::string_view secret, std::int64_t timestamp,
                             std::string_view payload) {
  return "t=" + std::to_string(timestamp) + ",v1=" + compute_signature(secret, timestamp, payload);
}

boost::system::result<void, AdapterError> verify_signature(std::string_view header,
                                                           std::string_view payload,
                                                           std::string_view secret,
                                                           std::int64_t now_s,
                                                           std::int64_t tolerance_s) {
  std::optional<std::int64_t> timestamp;
  std::vector<std::string_view> signatures;
  std::string_view rest = header;
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = item.substr(0, eq);
    std::string_view value = item.substr(eq + 1);
    if (key == "t" && !timestamp) {
      std::int64_t t = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), t);
      if (ec != std::errc() || end != value.data() + value.size()) {
        return adapter_error(adapter_errc::invalid_webhook,
                             "Unable to extract timestamp and signatures from header", 400);
      }
      timestamp = t;
    } else if (key == "v1") {
      signatures.push_back(value);
    }
  }
  if (!timestamp) {
    return adapter_error(adapter_errc::invalid_webhook,
                         "Unable to extract timestamp and signatures from header", 400);
  }
  if (signatures.empty()) {
    return adapter_error(adapter_errc::invalid_webhook,
                         "No signatures found with expected scheme v1", 400);
  }
  std::string expected = compute_signature(secret, *timestamp, payload);
  bool match = false;
  for (auto s : signatures) match = core::constant_time_equal(expected, s) || match;
  if (!match) {
    return adapter_error(adapter_errc::invalid_webhook,
                         "No signatures found matching the expected signature for payload", 400);
  }
  if (tolerance_s > 0 && *timestamp < now_s - tolerance_s) {
    return adapter_error(
        adapter_errc::stale_webhook,
        "Timestamp outside the tolerance zone (" + std::to_string(*timestamp) + ")", 400);
  }
  return {};
}

AResult<WebhookResult> parse_event(std::string_view body) {
  auto event = payments::webhook_object(body);
  if (!event) return event.error();
  const bj::object& o = *event;
  std::string id = str(o, "id");
  std::string type = str(o, "type");
  const bj::object* data = sub(o, "data");
  const bj::object* object = data ? sub(*data, "object") : nullptr;
  if (id.empty() || type.empty() || !object) {
    return adapter_error(adapter_errc::malformed_webhook, "event lacks id, type or data.object",
                         400);
  }
  WebhookResult result;
  InboundEvent e = base_event(id, type);
  auto metadata_checkout = [](const bj::object& x) {
    const auto* md = sub(x, "metadata");
    return md ? str(*md, "merchgate_checkout") : std::string();
  };
  if (type.starts_with("payment_intent.")) {
    static constexpr std::string_view kUsed[] = {
        "payment_intent.succeeded",       "payment_intent.processing",
        "payment_intent.payment_failed",  "payment_intent.canceled",
        "payment_intent.requires_action", "payment_intent.amount_capturable_updated"};
    if (std::find(std::begin(kUsed), std::end(kUsed), type) != std::end(kUsed)) {
      e.kind = InboundEvent::Kind::payment;
      e.payment_reference = str(*object, "id");
      e.checkout_id = metadata_checkout(*object);
      core::PaymentFact fact = payment_fact(*object);
      if (type == "payment_intent.payment_failed" && fact.status != core::PaymentStatus::failed) {
        fact.status = core::PaymentStatus::failed;
        fact.client_action.reset();
        if (fact.failure_code.empty()) fact.failure_code = "payment_failed";
      }
      if (type == "payment_intent.amount_capturable_updated") e.action = "capture";
      e.payment = std::move(fact);
    }
    result.events.push_back(std::move(e));
  } else if (type == "charge.refunded") {
    std::string intent = id_of(*object, "payment_intent");
    const bj::object* refunds = sub(*object, "refunds");
    const auto* list = refunds ? refunds->if_contains("data") : nullptr;
    if (list && list->is_array()) {
      for (const auto& rv : list->as_array()) {
        if (!rv.is_object()) continue;
        InboundEvent re = base_event(id + "/" + str(rv.as_object(), "id"), type);
        re.kind = InboundEvent::Kind::refund;
        re.payment_reference = intent;
        re.checkout_id = metadata_checkout(rv.as_object());
        re.refund = refund_fact(rv.as_object());
        result.events.push_back(std::move(re));
      }
    }
    // Newer API versions list no refunds here: refund.* / charge.refund.updated carry them.
    if (result.events.empty()) result.events.push_back(std::move(e));
  } else if (type == "charge.refund.updated" || type == "refund.created" ||
             type == "refund.updated" || type == "refund.failed") {
    e.kind = InboundEvent::Kind::refund;
    e.payment_reference = id_of(*object, "payment_intent");
    e.checkout_id = metadata_checkout(*object);
    e.refund = refund_fact(*object);
    result.events.push_back(std::move(e));
  } else if (type.starts_with("charge.dispute.")) {
    e.kind = InboundEvent::Kind::dispute;
    e.payment_reference = id_of(*object, "payment_intent");
    e.dispute = dispute_fact(*object);
    result.events.push_back(std::move(e));
  } else {
    result.events.push_back(std::move(e));  // ignored: not a type merchgate uses
  }
  return result;
}

}  // namespace mg::adapters::stripe
