#include "adapters/adapter.hpp"

#include "adapters/http/client.hpp"
#include "adapters/schema.hpp"
#include "gateway/core/model_json.hpp"

#include <stdexcept>

namespace mg::adapters {
namespace bj = boost::json;
namespace {

class AdapterCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "merchgate.adapter"; }
  std::string message(int ev) const override {
    switch (static_cast<adapter_errc>(ev)) {
      case adapter_errc::unavailable:
        return "partner unavailable";
      case adapter_errc::timeout:
        return "partner timed out";
      case adapter_errc::partner_error:
        return "partner error";
      case adapter_errc::rejected:
        return "rejected by partner";
      case adapter_errc::authentication:
        return "partner refused the credentials";
      case adapter_errc::rate_limited:
        return "rate limited by partner";
      case adapter_errc::not_found:
        return "not found at partner";
      case adapter_errc::declined:
        return "payment declined";
      case adapter_errc::refused:
        return "order refused by partner";
      case adapter_errc::invalid_state:
        return "invalid state at partner";
      case adapter_errc::unsupported:
        return "operation not supported";
      case adapter_errc::invalid_webhook:
        return "invalid webhook";
      case adapter_errc::stale_webhook:
        return "stale webhook";
      case adapter_errc::malformed_webhook:
        return "malformed webhook";
    }
    return "unknown adapter error";
  }
};

std::string str(const bj::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
std::int64_t num(const bj::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_int64() ? v->as_int64() : 0;
}
const bj::object* sub(const bj::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_object() ? &v->as_object() : nullptr;
}
bj::object map_json(const std::map<std::string, std::string>& m) {
  bj::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}
std::map<std::string, std::string> string_map(const bj::object* o) {
  std::map<std::string, std::string> m;
  if (!o) return m;
  for (const auto& kv : *o)
    if (kv.value().is_string()) m[std::string(kv.key())] = std::string(kv.value().as_string());
  return m;
}

constexpr std::string_view kKinds[] = {"payment", "refund", "dispute", "fulfillment", "ignored"};

}  // namespace

const boost::system::error_category& adapter_category() noexcept {
  static const AdapterCategory category;
  return category;
}

boost::system::error_code make_error_code(adapter_errc e) noexcept {
  return {static_cast<int>(e), adapter_category()};
}

void throw_exception_from_error(const AdapterError& e, const boost::source_location&) {
  throw std::runtime_error(e.code.message() + ": " + e.message);
}

AdapterError adapter_error(adapter_errc code, std::string message, int http_status,
                           std::string partner_code) {
  return AdapterError{
      make_error_code(code), std::move(message), http_status, std::move(partner_code), {}};
}

AdapterError server_error(int http_status, std::string message, std::string partner_code) {
  return adapter_error(
      http_status == 503 ? adapter_errc::unavailable : adapter_errc::partner_error,
      std::move(message), http_status, std::move(partner_code));
}

bool is_retryable(const AdapterError& e) noexcept {
  return e.is(adapter_errc::unavailable) || e.is(adapter_errc::timeout) ||
         e.is(adapter_errc::partner_error) || e.is(adapter_errc::rate_limited);
}

bool is_safe_to_fail_over(const AdapterError& e) noexcept {
  return e.is(adapter_errc::unavailable);
}

bool is_partner_failure(const AdapterError& e) noexcept {
  return e.is(adapter_errc::unavailable) || e.is(adapter_errc::timeout) ||
         e.is(adapter_errc::partner_error);
}

AdapterError transport_error(const boost::system::error_code& ec, std::string_view what) {
  std::string message = std::string(what) + ": " + ec.message();
  if (http::failed_before_sending(ec)) return adapter_error(adapter_errc::unavailable, message);
  if (ec == http::client_errc::read_timeout || ec == http::client_errc::total_timeout) {
    return adapter_error(adapter_errc::timeout, message);
  }
  return adapter_error(adapter_errc::partner_error, message);
}

std::string_view WebhookRequest::header(std::string_view lower_name) const noexcept {
  for (const auto& h : headers)
    if (h.name == lower_name) return h.value;
  return {};
}

std::string_view to_string(Kind k) noexcept {
  return k == Kind::payment ? "payment" : "fulfillment";
}

bj::object to_json(const InboundEvent& e) {
  bj::object o;
  o["partner_event_id"] = e.partner_event_id;
  o["type"] = e.type;
  o["kind"] = kKinds[static_cast<int>(e.kind)];
  if (!e.checkout_id.empty()) o["checkout_id"] = e.checkout_id;
  if (!e.fulfillment_id.empty()) o["fulfillment_id"] = e.fulfillment_id;
  if (!e.payment_reference.empty()) o["payment_reference"] = e.payment_reference;
  if (!e.order_reference.empty()) o["order_reference"] = e.order_reference;
  if (!e.action.empty()) o["action"] = e.action;
  if (e.payment) {
    bj::object p{{"status", core::to_string(e.payment->status)},
                 {"reference", e.payment->reference},
                 {"failure_code", e.payment->failure_code},
                 {"failure_message", e.payment->failure_message},
                 {"partner_data", map_json(e.payment->partner_data)}};
    if (e.payment->client_action) {
      p["client_action"] = bj::object{{"type", e.payment->client_action->type},
                                      {"value", e.payment->client_action->value}};
    }
    o["payment"] = std::move(p);
  }
  if (e.refund) {
    o["refund"] = bj::object{{"refund_id", e.refund->refund_id},
                             {"reference", e.refund->reference},
                             {"status", core::to_string(e.refund->status)},
                             {"amount", e.refund->amount},
                             {"failure_message", e.refund->failure_message}};
  }
  if (e.dispute) {
    o["dispute"] = bj::object{{"reference", e.dispute->reference},
                              {"closed", e.dispute->closed},
                              {"status", e.dispute->status},
                              {"amount", e.dispute->amount},
                              {"reason", e.dispute->reason}};
  }
  if (e.fulfillment) {
    bj::array shipments;
    for (const auto& s : e.fulfillment->shipments)
      shipments.push_back(core::to_json(s, core::Form::storage));
    o["fulfillment"] = bj::object{{"status", core::to_string(e.fulfillment->status)},
                                  {"reference", e.fulfillment->reference},
                                  {"shipments", std::move(shipments)},
                                  {"failure_code", e.fulfillment->failure_code},
                                  {"failure_message", e.fulfillment->failure_message}};
    if (e.fulfillment->shipped) {
      bj::object shipped;
      for (const auto& [sku, quantity] : *e.fulfillment->shipped) shipped[sku] = quantity;
      o["fulfillment"].as_object()["shipped"] = std::move(shipped);
    }
  }
  return o;
}

std::optional<InboundEvent> inbound_event_from_json(const bj::object& o) {
  InboundEvent e;
  e.partner_event_id = str(o, "partner_event_id");
  e.type = str(o, "type");
  std::string kind = str(o, "kind");
  bool known = false;
  for (int i = 0; i < 5; ++i) {
    if (kKinds[i] == kind) {
      e.kind = static_cast<InboundEvent::Kind>(i);
      known = true;
    }
  }
  if (!known || e.partner_event_id.empty()) return std::nullopt;
  e.checkout_id = str(o, "checkout_id");
  e.fulfillment_id = str(o, "fulfillment_id");
  e.payment_reference = str(o, "payment_reference");
  e.order_reference = str(o, "order_reference");
  e.action = str(o, "action");
  if (const auto* p = sub(o, "payment")) {
    core::PaymentFact f;
    auto status = core::payment_status_from(str(*p, "status"));
    if (!status) return std::nullopt;
    f.status = *status;
    f.reference = str(*p, "reference");
    f.failure_code = str(*p, "failure_code");
    f.failure_message = str(*p, "failure_message");
    f.partner_data = string_map(sub(*p, "partner_data"));
    if (const auto* ca = sub(*p, "client_action")) {
      f.client_action = core::ClientAction{str(*ca, "type"), str(*ca, "value")};
    }
    e.payment = std::move(f);
  }
  if (const auto* r = sub(o, "refund")) {
    core::RefundFact f;
    auto status = core::refund_status_from(str(*r, "status"));
    if (!status) return std::nullopt;
    f.status = *status;
    f.refund_id = str(*r, "refund_id");
    f.reference = str(*r, "reference");
    f.amount = num(*r, "amount");
    f.failure_message = str(*r, "failure_message");
    e.refund = std::move(f);
  }
  if (const auto* d = sub(o, "dispute")) {
    core::DisputeFact f;
    f.reference = str(*d, "reference");
    const auto* closed = d->if_contains("closed");
    f.closed = closed && closed->is_bool() && closed->as_bool();
    f.status = str(*d, "status");
    f.amount = num(*d, "amount");
    f.reason = str(*d, "reason");
    e.dispute = std::move(f);
  }
  if (const auto* fo = sub(o, "fulfillment")) {
    core::FulfillmentFact f;
    auto status = core::fulfillment_status_from(str(*fo, "status"));
    if (!status) return std::nullopt;
    f.status = *status;
    f.reference = str(*fo, "reference");
    f.failure_code = str(*fo, "failure_code");
    f.failure_message = str(*fo, "failure_message");
    if (const auto* arr = fo->if_contains("shipments"); arr && arr->is_array()) {
      for (const auto& sv : arr->as_array()) {
        if (!sv.is_object()) continue;
        const auto& s = sv.as_object();
        f.shipments.push_back({str(s, "carrier"), str(s, "tracking_number"), str(s, "tracking_url"),
                               num(s, "shipped_at")});
      }
    }
    if (const auto* shipped = sub(*fo, "shipped")) {
      f.shipped.emplace();
      for (const auto& kv : *shipped) (*f.shipped)[std::string(kv.key())] = num(*shipped, kv.key());
    }
    e.fulfillment = std::move(f);
  }
  return e;
}

Task<AResult<std::string>> Adapter::test_credentials() {
  co_return adapter_error(adapter_errc::unsupported, "this adapter has no credential test");
}

Task<std::optional<http::Response>> Adapter::hosted_page(const http::Request&, std::string_view) {
  co_return std::nullopt;
}

Result<void> PaymentAdapter::validate(const PaymentRequest&) const { return {}; }

Task<AResult<RefundCreated>> PaymentAdapter::get_refund(const RefundRequest&) {
  co_return adapter_error(adapter_errc::unsupported,
                          "this processor's refunds cannot be read back");
}

Task<AResult<core::PaymentFact>> PaymentAdapter::capture_payment(const PaymentRef&) {
  co_return adapter_error(adapter_errc::unsupported, "capture is not a separate step here");
}

Result<void> FulfillmentAdapter::validate_product(const bj::object&) const { return {}; }

Task<AResult<std::vector<ImportedProduct>>> FulfillmentAdapter::import_products(
    const ImportRequest&) {
  co_return adapter_error(adapter_errc::unsupported,
                          "this partner has no product catalog to import from");
}

void Registry::add(AdapterType type) { types_.push_back(std::move(type)); }

const AdapterType* Registry::find(std::string_view name) const {
  for (const auto& t : types_)
    if (t.name == name) return &t;
  return nullptr;
}

std::vector<const AdapterType*> Registry::all() const {
  std::vector<const AdapterType*> out;
  for (const auto& t : types_) out.push_back(&t);
  return out;
}

std::string Registry::names() const {
  std::string out;
  for (const auto& t : types_) {
    if (!out.empty()) out += ", ";
    out += t.name;
  }
  return out;
}

Result<std::shared_ptr<Adapter>> Registry::create(const AdapterConfig& config,
                                                  AdapterServices& services) const {
  const AdapterType* type = find(config.type);
  if (!type) {
    return make_error(errc::invalid_field,
                      "unknown adapter type '" + config.type + "'; known types: " + names(),
                      "type");
  }
  for (std::string_view part : {"credentials", "settings"}) {
    const auto* schema = type->schema.if_contains(part);
    if (!schema || !schema->is_object()) continue;
    const bj::object& value = part == "credentials" ? config.credentials : config.settings;
    if (auto r = validate_against_schema(value, schema->as_object(), part); !r) return r.error();
  }
  return type->create(config, services);
}

}  // namespace mg::adapters
