#include "adapters/payments/paypal/paypal_wire.hpp"

#include "adapters/payments/support/payment_support.hpp"

#include "gateway/core/clock.hpp"
#include "gateway/core/crypto.hpp"
#include "gateway/core/money.hpp"

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <charconv>

namespace mg::adapters::paypal {
namespace bj = boost::json;
namespace {

using payments::arr;
using payments::str;
using payments::sub;

const bj::object* first_object(const bj::array* a) {
  if (!a) return nullptr;
  for (const auto& v : *a)
    if (v.is_object()) return &v.as_object();
  return nullptr;
}

// PayPal takes HUF and TWD without decimals although ISO 4217 gives them two.
int paypal_exponent(std::string_view currency, int iso) {
  return currency == "HUF" || currency == "TWD" ? 0 : iso;
}

std::int64_t pow10(int e) {
  std::int64_t p = 1;
  while (e-- > 0) p *= 10;
  return p;
}

std::string link(const bj::object& o, std::string_view rel) {
  if (const auto* links = arr(o, "links")) {
    for (const auto& l : *links) {
      if (l.is_object() && str(l.as_object(), "rel") == rel) return str(l.as_object(), "href");
    }
  }
  return {};
}

bj::object money(std::int64_t minor, std::string_view currency) {
  return bj::object{{"currency_code", currency},
                    {"value", format_value(minor, currency).value_or("0")}};
}

std::int64_t amount_of(const bj::object& o) {
  const auto* a = sub(o, "amount");
  if (!a) return 0;
  return parse_value(str(*a, "value"), str(*a, "currency_code")).value_or(0);
}

const bj::object* first_capture(const bj::object& order) {
  const bj::array* units = arr(order, "purchase_units");
  if (!units) return nullptr;
  for (const auto& pu : *units) {
    if (!pu.is_object()) continue;
    const auto* payments = sub(pu.as_object(), "payments");
    if (const auto* c = payments ? first_object(arr(*payments, "captures")) : nullptr) return c;
  }
  return nullptr;
}

std::string order_checkout(const bj::object& order) {
  const auto* pu = first_object(arr(order, "purchase_units"));
  if (!pu) return {};
  std::string custom = str(*pu, "custom_id");
  return custom.empty() ? str(*pu, "reference_id") : custom;
}

core::PaymentFact capture_fact(const bj::object& capture, const std::string& order_id) {
  core::PaymentFact f;
  f.reference = order_id;
  std::string status = str(capture, "status");
  if (status == "COMPLETED" || status == "REFUNDED" || status == "PARTIALLY_REFUNDED") {
    f.status = core::PaymentStatus::succeeded;
  } else if (status == "DECLINED" || status == "FAILED") {
    f.status = core::PaymentStatus::failed;
    f.failure_code = status == "DECLINED" ? "capture_declined" : "capture_failed";
    if (const auto* d = sub(capture, "status_details")) f.failure_message = str(*d, "reason");
  } else {
    f.status = core::PaymentStatus::processing;  // PENDING
  }
  if (auto id = str(capture, "id"); !id.empty()) f.partner_data[std::string(kCaptureKey)] = id;
  return f;
}

}  // namespace

Result<Settings> Settings::parse(const bj::object& o) {
  Settings s;
  if (auto v = str(o, "environment"); !v.empty()) s.environment = v;
  if (s.environment != "sandbox" && s.environment != "live") {
    return make_error(errc::invalid_field, "'settings.environment' must be sandbox or live",
                      "settings.environment");
  }
  if (auto v = str(o, "webhook_verification"); !v.empty()) s.webhook_verification = v;
  if (s.webhook_verification != "certificate" && s.webhook_verification != "api") {
    return make_error(errc::invalid_field,
                      "'settings.webhook_verification' must be certificate or api",
                      "settings.webhook_verification");
  }
  if (const auto* hosts = arr(o, "certificate_hosts")) {
    s.certificate_hosts.clear();
    for (const auto& h : *hosts) {
      if (!h.is_string() || h.as_string().empty()) {
        return make_error(errc::invalid_field, "'settings.certificate_hosts' must list host names",
                          "settings.certificate_hosts");
      }
      std::string host(h.as_string());
      std::transform(host.begin(), host.end(), host.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      s.certificate_hosts.push_back(std::move(host));
    }
  }
  if (const auto* v = o.if_contains("webhook_tolerance_s"); v && v->is_int64())
    s.webhook_tolerance_s = v->as_int64();
  return s;
}

std::string_view default_base_url(std::string_view environment) noexcept {
  return environment == "live" ? "https://api-m.paypal.com" : "https://api-m.sandbox.paypal.com";
}

std::optional<std::string> format_value(std::int64_t minor, std::string_view currency) {
  auto c = core::find_currency(currency);
  if (!c || minor < 0) return std::nullopt;
  int e = paypal_exponent(currency, c->exponent);
  std::int64_t scale = pow10(c->exponent - e);
  if (minor % scale != 0) return std::nullopt;  // not expressible without decimals
  std::int64_t units = minor / scale;
  if (e == 0) return std::to_string(units);
  std::string frac = std::to_string(units % pow10(e));
  return std::to_string(units / pow10(e)) + "." + std::string(e - frac.size(), '0') + frac;
}

std::optional<std::int64_t> parse_value(std::string_view value, std::string_view currency) {
  auto c = core::find_currency(currency);
  if (!c || value.empty() || value.size() > 24) return std::nullopt;
  int e = paypal_exponent(currency, c->exponent);
  std::size_t dot = value.find('.');
  std::string_view whole = value.substr(0, dot);
  std::string_view frac =
      dot == std::string_view::npos ? std::string_view{} : value.substr(dot + 1);
  if (whole.empty() || static_cast<int>(frac.size()) > e ||
      (dot != std::string_view::npos && frac.empty())) {
    return std::nullopt;
  }
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  };
  if (!digits(whole) || !digits(frac)) return std::nullopt;
  std::int64_t w = 0, f = 0;
  std::from_chars(whole.data(), whole.data() + whole.size(), w);
  if (!frac.empty()) std::from_chars(frac.data(), frac.data() + frac.size(), f);
  f *= pow10(e - static_cast<int>(frac.size()));
  return (w * pow10(e) + f) * pow10(c->exponent - e);
}

bj::object order_body(const PaymentRequest& r) {
  bj::object unit{{"reference_id", r.ctx.checkout_id},
                  {"custom_id", r.ctx.checkout_id},
                  {"amount", money(r.amount, r.currency)}};
  if (!r.description.empty()) unit["description"] = r.description.substr(0, 127);
  if (r.shipping) {
    const auto& a = *r.shipping;
    bj::object address{{"address_line_1", a.line1},
                       {"admin_area_2", a.city},
                       {"postal_code", a.postal_code},
                       {"country_code", a.country}};
    if (a.line2 && !a.line2->empty()) address["address_line_2"] = *a.line2;
    if (a.state && !a.state->empty()) address["admin_area_1"] = *a.state;
    unit["shipping"] =
        bj::object{{"name", bj::object{{"full_name", a.name}}}, {"address", std::move(address)}};
  }
  if (!r.payout_account.empty()) {
    unit["payee"] = bj::object{{"merchant_id", r.payout_account}};
    if (r.platform_fee > 0) {
      unit["payment_instruction"] = bj::object{
          {"platform_fees", bj::array{bj::object{{"amount", money(r.platform_fee, r.currency)}}}}};
    }
  }
  bj::object body{{"intent", "CAPTURE"}, {"purchase_units", bj::array{std::move(unit)}}};
  if (!r.return_url.empty()) {
    bj::object context{
        {"return_url", r.return_url},
        {"cancel_url", r.return_url},
        {"user_action", "PAY_NOW"},
        {"shipping_preference", r.shipping ? "SET_PROVIDED_ADDRESS" : "NO_SHIPPING"}};
    bj::object paypal{{"experience_context", std::move(context)}};
    if (!r.buyer_email.empty()) paypal["email_address"] = r.buyer_email;
    body["payment_source"] = bj::object{{"paypal", std::move(paypal)}};
  }
  return body;
}

bj::object refund_body(const RefundRequest& r) {
  bj::object body{{"amount", money(r.amount, r.currency)},
                  {"custom_id", r.ctx.checkout_id + "/" + r.refund_id}};
  if (!r.reason.empty()) body["note_to_payer"] = r.reason.substr(0, 255);
  return body;
}

std::string capture_id(const bj::object& order) {
  const auto* c = first_capture(order);
  return c ? str(*c, "id") : std::string();
}

core::PaymentFact order_fact(const bj::object& order) {
  std::string id = str(order, "id");
  std::string status = str(order, "status");
  if (status == "COMPLETED") {
    if (const auto* c = first_capture(order)) return capture_fact(*c, id);
  }
  core::PaymentFact f;
  f.reference = id;
  if (status == "APPROVED" || status == "COMPLETED") {
    f.status = core::PaymentStatus::processing;
  } else if (status == "VOIDED") {
    f.status = core::PaymentStatus::canceled;
  } else {
    // CREATED, SAVED, PAYER_ACTION_REQUIRED: the buyer approves at PayPal.
    f.status = core::PaymentStatus::requires_action;
    std::string url = link(order, "payer-action");
    if (url.empty()) url = link(order, "approve");
    if (!url.empty()) f.client_action = core::ClientAction{"redirect", url};
  }
  return f;
}

core::RefundStatus refund_status(std::string_view status) noexcept {
  if (status == "COMPLETED") return core::RefundStatus::succeeded;
  if (status == "FAILED" || status == "CANCELLED") return core::RefundStatus::failed;
  return core::RefundStatus::pending;
}

RefundCreated refund_created(const bj::object& refund) {
  RefundCreated r{str(refund, "id"), refund_status(str(refund, "status")), {}};
  if (const auto* d = sub(refund, "status_details")) r.failure_message = str(*d, "reason");
  return r;
}

AdapterError error_from(int status, std::string_view body, std::string_view retry_after) {
  boost::system::error_code ec;
  bj::value v = bj::parse(body, ec);
  std::string name, message, issue;
  if (!ec && v.is_object()) {
    const auto& o = v.as_object();
    name = str(o, "name");
    message = str(o, "message");
    if (name.empty()) name = str(o, "error");  // OAuth: {"error", "error_description"}
    if (message.empty()) message = str(o, "error_description");
    if (const auto* d = first_object(arr(o, "details"))) {
      issue = str(*d, "issue");
      if (auto desc = str(*d, "description"); !desc.empty()) message += " " + desc;
    }
  }
  if (message.empty()) message = "HTTP " + std::to_string(status) + " from PayPal";
  std::string code = issue.empty() ? name : issue;
  message = "paypal: " + (code.empty() ? "" : code + ": ") + message;
  if (auto e = payments::common_status_error(status, message, code, retry_after)) return *e;
  static constexpr std::string_view kDeclines[] = {"INSTRUMENT_DECLINED",
                                                   "TRANSACTION_REFUSED",
                                                   "PAYER_CANNOT_PAY",
                                                   "PAYEE_BLOCKED_TRANSACTION",
                                                   "COMPLIANCE_VIOLATION",
                                                   "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED",
                                                   "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING",
                                                   "CARD_EXPIRED"};
  if (std::find(std::begin(kDeclines), std::end(kDeclines), issue) != std::end(kDeclines)) {
    return adapter_error(adapter_errc::declined, message, status, issue);
  }
  if (issue == "ORDER_ALREADY_CAPTURED" || issue == "ORDER_NOT_APPROVED" ||
      issue == "ORDER_ALREADY_AUTHORIZED" || issue == "CAPTURE_FULLY_REFUNDED" ||
      issue == "ORDER_EXPIRED" || issue == "ORDER_COMPLETED_OR_VOIDED") {
    return adapter_error(adapter_errc::invalid_state, message, status, issue);
  }
  return adapter_error(adapter_errc::rejected, message, status, code);
}

AResult<Token> parse_token(std::string_view body) {
  boost::system::error_code ec;
  bj::value v = bj::parse(body, ec);
  if (ec || !v.is_object()) {
    return adapter_error(adapter_errc::partner_error, "paypal: token answer is not JSON");
  }
  const auto& o = v.as_object();
  Token t{str(o, "access_token"), 0};
  if (const auto* e = o.if_contains("expires_in"); e && e->is_int64())
    t.expires_in_s = e->as_int64();
  if (t.access_token.empty() || t.expires_in_s <= 0) {
    return adapter_error(adapter_errc::partner_error,
                         "paypal: token answer lacks access_token or expires_in");
  }
  return t;
}

std::string signed_string(std::string_view transmission_id, std::string_view transmission_time,
                          std::string_view webhook_id, std::string_view body) {
  std::string s;
  s.reserve(transmission_id.size() + transmission_time.size() + webhook_id.size() + 14);
  s.append(transmission_id).push_back('|');
  s.append(transmission_time).push_back('|');
  s.append(webhook_id).push_back('|');
  s.append(std::to_string(core::crc32(body)));
  return s;
}

std::optional<std::string> certificate_url_problem(std::string_view url,
                                                   const std::vector<std::string>& hosts) {
  auto u = boost::urls::parse_uri(url);
  if (!u) return "not an absolute URL";
  std::string scheme(u->scheme());
  if (u->has_userinfo()) return "carries credentials";
  std::string host(u->encoded_host());
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  bool allowed = std::any_of(hosts.begin(), hosts.end(), [&](const std::string& h) {
    return host == h ||
           (host.size() > h.size() && host.ends_with(h) && host[host.size() - h.size() - 1] == '.');
  });
  if (!allowed) return "host '" + host + "' is not a PayPal certificate host";
  bool loopback = host == "127.0.0.1" || host == "[::1]" || host == "localhost";
  if (scheme != "https" && !(scheme == "http" && loopback)) return "must be https";
  return std::nullopt;
}

boost::system::result<void, AdapterError> check_transmission_time(std::string_view time,
                                                                  std::int64_t now_ms,
                                                                  std::int64_t tolerance_s) {
  core::Timestamp t = 0;
  if (!core::parse_time(time, t)) {
    return adapter_error(adapter_errc::invalid_webhook,
                         "PAYPAL-TRANSMISSION-TIME is not an RFC 3339 time", 400);
  }
  if (tolerance_s > 0 &&
      (t < now_ms - tolerance_s * 1000 || t > now_ms + 5 * 60'000)) {  // 5 min of clock skew
    return adapter_error(
        adapter_errc::stale_webhook,
        "PAYPAL-TRANSMISSION-TIME " + std::string(time) + " is outside the replay window", 400);
  }
  return {};
}

AResult<WebhookResult> parse_event(std::string_view body) {
  auto event = payments::webhook_object(body);
  if (!event) return event.error();
  const bj::object& o = *event;
  InboundEvent e;
  e.partner_event_id = str(o, "id");
  e.type = str(o, "event_type");
  const bj::object* resource = sub(o, "resource");
  if (e.partner_event_id.empty() || e.type.empty() || !resource) {
    return adapter_error(adapter_errc::malformed_webhook, "event lacks id, event_type or resource",
                         400);
  }
  const bj::object& res = *resource;
  const std::string& type = e.type;
  if (type == "CHECKOUT.ORDER.APPROVED" || type == "CHECKOUT.ORDER.COMPLETED") {
    e.kind = InboundEvent::Kind::payment;
    e.payment_reference = str(res, "id");
    e.checkout_id = order_checkout(res);
    e.payment = order_fact(res);
    if (type == "CHECKOUT.ORDER.APPROVED") {
      e.payment->status = core::PaymentStatus::processing;
      e.payment->client_action.reset();
      e.action = "capture";
    }
  } else if (type.starts_with("PAYMENT.CAPTURE.") && type != "PAYMENT.CAPTURE.REFUNDED" &&
             type != "PAYMENT.CAPTURE.REVERSED") {
    std::string order_id;
    if (const auto* sd = sub(res, "supplementary_data")) {
      if (const auto* rel = sub(*sd, "related_ids")) order_id = str(*rel, "order_id");
    }
    e.kind = InboundEvent::Kind::payment;
    e.payment_reference = order_id;
    e.checkout_id = str(res, "custom_id");
    e.payment = capture_fact(res, order_id);
    if (type == "PAYMENT.CAPTURE.DENIED" && e.payment->status != core::PaymentStatus::failed) {
      e.payment->status = core::PaymentStatus::failed;
      e.payment->failure_code = "capture_denied";
    }
    if (type != "PAYMENT.CAPTURE.COMPLETED" && type != "PAYMENT.CAPTURE.PENDING" &&
        type != "PAYMENT.CAPTURE.DENIED" && type != "PAYMENT.CAPTURE.DECLINED") {
      e.kind = InboundEvent::Kind::ignored;
      e.payment.reset();
    }
  } else if (type == "PAYMENT.CAPTURE.REFUNDED") {
    // The resource is the refund; custom_id is "<checkout>/<refund>" when merchgate made it.
    std::string custom = str(res, "custom_id");
    std::size_t slash = custom.find('/');
    e.kind = InboundEvent::Kind::refund;
    e.checkout_id = custom.substr(0, slash);
    core::RefundFact f;
    f.reference = str(res, "id");
    if (slash != std::string::npos) f.refund_id = custom.substr(slash + 1);
    f.status = refund_status(str(res, "status"));
    f.amount = amount_of(res);
    e.refund = std::move(f);
  } else if (type == "PAYMENT.CAPTURE.REVERSED") {
    // Funds taken back (a chargeback or reversal): a dispute that is already lost.
    std::string custom = str(res, "custom_id");
    e.kind = InboundEvent::Kind::dispute;
    e.checkout_id = custom.substr(0, custom.find('/'));
    core::DisputeFact f;
    f.reference = str(res, "id");
    f.amount = amount_of(res);
    f.reason = "reversed";
    f.status = "lost";
    f.closed = true;
    e.dispute = std::move(f);
  }
  WebhookResult result;
  result.events.push_back(std::move(e));
  return result;
}

}  // namespace mg::adapters::paypal
