#include "adapters/fulfillment/partner_protocol/partner_protocol.hpp"

#include "adapters/fulfillment/support/partner_support.hpp"
#include "adapters/http/client.hpp"
#include "adapters/schema.hpp"
#include "gateway/core/json.hpp"
#include "webhooks/signature/standard_webhooks.hpp"

#include <boost/json/serialize.hpp>

namespace mg::adapters::protocol {
namespace bj = boost::json;
using merch::arr;
using merch::int_or;
using merch::obj;
using merch::str;

namespace {

// {"error": {"code": "refused", "message": "…"}}
std::pair<std::string, std::string> error_text(const merch::Reply& r) {
  if (!r.json) return {r.body.substr(0, 200), {}};
  if (const auto* e = obj(*r.json, "error")) return {str(*e, "message"), str(*e, "code")};
  return {str(*r.json, "message"), {}};
}

std::string spec_text(const bj::object& spec, std::string_view key) {
  auto id = merch::spec_id(spec, key);
  return id ? *id : std::string();
}

bj::object item_ids(const OrderLine& l, const Dialect& d) {
  bj::object item{{"product_id", spec_text(l.spec, d.product_key)},
                  {"variant_id", spec_text(l.spec, d.variant_key)},
                  {"quantity", l.quantity}};
  return item;
}

}  // namespace

namespace wire {

bj::object recipient(const core::Address& a, std::string_view email) {
  bj::object r{{"name", a.name},
               {"line1", a.line1},
               {"line2", a.line2 ? bj::value(*a.line2) : bj::value(nullptr)},
               {"city", a.city},
               {"state", a.state ? bj::value(*a.state) : bj::value(nullptr)},
               {"postal_code", a.postal_code},
               {"country", a.country}};
  if (!email.empty()) r["email"] = email;
  return r;
}

bj::object order_body(const OrderRequest& request, const Dialect& d, const Settings& settings) {
  bj::array items;
  for (const auto& l : request.lines) {
    bj::object item = item_ids(l, d);
    item["sku"] = l.sku;
    item["title"] = l.title;
    item["unit_price"] = bj::object{{"amount", l.unit_amount}, {"currency", request.currency}};
    bj::array files;
    if (const auto* fs = arr(l.spec, "files")) {
      for (const auto& f : *fs) {
        if (!f.is_object()) continue;
        std::string placement = str(f.as_object(), "placement");
        files.push_back(bj::object{{"url", str(f.as_object(), "url")},
                                   {"placement", placement.empty() ? "front" : placement}});
      }
    }
    item["files"] = std::move(files);
    items.push_back(std::move(item));
  }
  bj::object shipping{{"amount", request.amount_shipping}, {"currency", request.currency}};
  if (!settings.shipping_method.empty()) shipping["method"] = settings.shipping_method;
  return bj::object{{"external_id", request.fulfillment_id},
                    {"items", std::move(items)},
                    {"recipient", recipient(request.address, request.buyer_email)},
                    {"shipping", std::move(shipping)},
                    {"metadata", bj::object{{"checkout", request.ctx.checkout_id}}}};
}

bj::object quote_body(const QuoteRequest& request, const Dialect& d, const Settings& settings) {
  bj::array items;
  for (const auto& l : request.lines) items.push_back(item_ids(l, d));
  bj::object body{{"recipient", recipient(request.address, "")},
                  {"items", std::move(items)},
                  {"currency", request.currency}};
  if (!settings.shipping_method.empty()) body["method"] = settings.shipping_method;
  return body;
}

AResult<Quote> quote_of(const bj::object& reply, const std::string& currency) {
  const auto* amount = reply.if_contains("amount");
  if (!amount || !amount->is_int64() || amount->as_int64() < 0 ||
      str(reply, "currency") != currency) {
    return adapter_error(adapter_errc::partner_error,
                         "the shipping quote is not an amount in " + currency);
  }
  return Quote{amount->as_int64(), currency, str(reply, "method")};
}

std::optional<core::FulfillmentStatus> map_status(std::string_view s) {
  auto status = core::fulfillment_status_from(s);
  if (!status || *status == core::FulfillmentStatus::pending) return std::nullopt;
  return status;
}

AResult<core::FulfillmentFact> order_fact(const bj::object& order) {
  core::FulfillmentFact fact;
  fact.reference = str(order, "id");
  auto status = map_status(str(order, "status"));
  if (fact.reference.empty() || !status) {
    return adapter_error(adapter_errc::partner_error,
                         "the order has no id or an unknown status '" + str(order, "status") + "'");
  }
  fact.status = *status;
  if (const auto* shipments = arr(order, "shipments")) {
    for (const auto& v : *shipments) {
      if (!v.is_object()) continue;
      const auto& s = v.as_object();
      core::Shipment sh{str(s, "carrier"), str(s, "tracking_number"), str(s, "tracking_url"), 0};
      core::Timestamp at = 0;
      if (core::parse_time(str(s, "shipped_at"), at)) sh.shipped_at = at;
      fact.shipments.push_back(std::move(sh));
    }
  }
  if (const auto* failure = obj(order, "failure")) {
    fact.failure_code = str(*failure, "code");
    fact.failure_message = str(*failure, "message");
  }
  return fact;
}

AResult<WebhookResult> parse_webhook(const WebhookRequest& request,
                                     const std::vector<std::string>& keys) {
  if (keys.empty()) {
    return adapter_error(adapter_errc::invalid_webhook,
                         "this adapter has no webhook_secret to verify webhooks with", 401);
  }
  auto verified =
      webhooks::verify(keys, request.header("webhook-id"), request.header("webhook-timestamp"),
                       request.header("webhook-signature"), request.body, request.now / 1000);
  if (!verified) {
    return adapter_error(verified.error().code == errc::stale_timestamp
                             ? adapter_errc::stale_webhook
                             : adapter_errc::invalid_webhook,
                         verified.error().message, 400);
  }
  auto body = merch::parse_object(request.body);
  if (!body) return adapter_error(adapter_errc::malformed_webhook, "body is not JSON", 400);
  InboundEvent e;
  e.partner_event_id = std::string(request.header("webhook-id"));
  e.type = str(*body, "type");
  WebhookResult result;
  const bj::object* data = obj(*body, "data");
  const bj::object* order = data ? obj(*data, "order") : nullptr;
  if (!e.type.starts_with("order.")) {
    result.events.push_back(std::move(e));  // ignored: product events and the like
    return result;
  }
  if (!order) {
    return adapter_error(adapter_errc::malformed_webhook, "an order event lacks data.order", 400);
  }
  auto fact = order_fact(*order);
  if (!fact) {
    return adapter_error(adapter_errc::malformed_webhook, fact.error().message, 400);
  }
  e.kind = InboundEvent::Kind::fulfillment;
  e.order_reference = fact->reference;
  e.fulfillment_id = str(*order, "external_id");
  e.fulfillment = std::move(*fact);
  result.events.push_back(std::move(e));
  return result;
}

std::vector<ImportedProduct> imported_products(const bj::object& product, const Dialect& d) {
  std::vector<ImportedProduct> out;
  std::string product_id = str(product, "id");
  const auto* variants = arr(product, "variants");
  if (product_id.empty() || !variants) return out;
  std::vector<std::string> images;
  if (const auto* imgs = arr(product, "images")) {
    for (const auto& i : *imgs) {
      std::string url = str(i);
      if (url.starts_with("https://") && images.size() < 20) images.push_back(url);
    }
  }
  for (const auto& vv : *variants) {
    if (!vv.is_object()) continue;
    const auto& v = vv.as_object();
    ImportedProduct p;
    std::string variant_id = str(v, "id");
    if (variant_id.empty()) continue;
    std::string sku = str(v, "sku");
    p.sku = merch::valid_sku(sku) ? sku : std::string(d.type) + "-" + product_id + "-" + variant_id;
    if (!merch::valid_sku(p.sku)) continue;
    p.title = str(product, "title");
    if (std::string t = str(v, "title"); !t.empty()) p.title += " - " + t;
    p.description = str(product, "description");
    if (p.description.size() > 5000) p.description.resize(5000);
    if (const auto* price = obj(v, "price")) {
      p.currency = str(*price, "currency");
      const auto* amount = price->if_contains("amount");
      if (amount && amount->is_int64() && amount->as_int64() >= 0) {
        p.unit_amount = amount->as_int64();
      }
    }
    if (const auto* options = obj(v, "options")) {
      for (const auto& kv : *options) {
        if (kv.value().is_string()) p.options[std::string(kv.key())] = str(kv.value());
      }
    }
    p.images = images;
    p.group = std::string(d.type) + "-" + product_id;
    p.available = merch::bool_or(v, "available", true);
    p.fulfillment[d.product_key] = product_id;
    p.fulfillment[d.variant_key] = variant_id;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace wire

namespace {

class ProtocolAdapter final : public FulfillmentAdapter {
 public:
  ProtocolAdapter(const AdapterConfig& config, const Dialect& dialect, Settings settings,
                  std::string key, std::vector<std::string> webhook_keys, AdapterServices services)
      : FulfillmentAdapter(config.id),
        dialect_(dialect),
        settings_(std::move(settings)),
        base_url_(config.base_url),
        key_(std::move(key)),
        webhook_keys_(std::move(webhook_keys)),
        services_(std::move(services)) {}

  std::string_view type() const noexcept override { return dialect_.type; }

  Result<void> validate_product(const bj::object& spec) const override {
    for (const auto& kv : spec) {
      std::string_view k = kv.key();
      if (k != "adapter" && k != dialect_.product_key && k != dialect_.variant_key &&
          k != "files" && k != "shipping" && k != "shipping_additional") {
        std::string param = "fulfillment." + std::string(k);
        return make_error(errc::unknown_field, "unknown field '" + std::string(k) + "'", param);
      }
    }
    for (std::string_view key : {dialect_.product_key, dialect_.variant_key}) {
      auto id = merch::spec_id(spec, key);
      if (!id) return id.error();
      if (id->empty()) {
        std::string param = "fulfillment." + std::string(key);
        return make_error(errc::missing_field,
                          "'" + param + "' is required: the " + std::string(dialect_.partner) +
                              "'s " + std::string(key) + " id",
                          param);
      }
    }
    if (auto r = merch::validate_files(spec, "placement"); !r) return r.error();
    return merch::validate_shipping_table(spec);
  }

  Task<AResult<Quote>> quote_shipping(const QuoteRequest& request) override {
    if (settings_.table_quotes)
      co_return merch::table_quote_or_error(request, "quotes come from the tables");
    auto req = make("POST", store_path("/shipping-quotes"),
                    bj::serialize(wire::quote_body(request, dialect_, settings_)), true, "",
                    "shipping.quote", request.ctx);
    auto r = co_await merch::send(*services_.http, std::move(req), partner_name_);
    if (!r) co_return r.error();
    // A shop that does not quote (404/501) falls back to the products' shipping tables.
    if (r->status == 404 || r->status == 501) {
      co_return merch::table_quote_or_error(request, "the shop offers no shipping quotes");
    }
    if (!r->ok()) {
      AdapterError e = failure(*r);
      if (r->status == 422) e.code = make_error_code(adapter_errc::refused);
      co_return e;
    }
    if (!r->json) co_return unreadable(*r);
    co_return wire::quote_of(*r->json, request.currency);
  }

  Task<AResult<core::FulfillmentFact>> create_order(const OrderRequest& request) override {
    // The protocol makes create idempotent by external_id: a retry gets the same order back.
    auto req = make("POST", store_path("/orders"),
                    bj::serialize(wire::order_body(request, dialect_, settings_)), true,
                    request.fulfillment_id, "order.create", request.ctx);
    auto r = co_await merch::send(*services_.http, std::move(req), partner_name_);
    if (!r) co_return r.error();
    if (!r->ok()) {
      AdapterError e = failure(*r);
      if (r->status == 422 || r->status == 400) {
        e.code = make_error_code(adapter_errc::refused);
        if (e.partner_code.empty()) e.partner_code = "refused";
      }
      co_return e;
    }
    if (!r->json) co_return unreadable(*r);
    co_return wire::order_fact(*r->json);
  }

  Task<AResult<core::FulfillmentFact>> get_order(const OrderRef& ref) override {
    std::string path =
        ref.reference.empty()
            ? store_path("/orders?external_id=" + merch::path_segment(ref.fulfillment_id))
            : store_path("/orders/" + merch::path_segment(ref.reference));
    auto req = make("GET", path, "", true, "", "order.get", ref.ctx);
    auto r = co_await merch::send(*services_.http, std::move(req), partner_name_);
    if (!r) co_return r.error();
    if (!r->ok()) co_return failure(*r);
    if (!r->json) co_return unreadable(*r);
    if (!ref.reference.empty()) co_return wire::order_fact(*r->json);
    const auto* data = arr(*r->json, "data");
    if (!data || data->empty() || !data->front().is_object()) {
      co_return adapter_error(adapter_errc::not_found,
                              partner_name_ + " has no order " + ref.fulfillment_id, 404);
    }
    co_return wire::order_fact(data->front().as_object());
  }

  Task<AResult<core::FulfillmentFact>> cancel_order(const OrderRef& ref) override {
    std::string id = ref.reference;
    if (id.empty()) {
      auto found = co_await get_order(ref);
      if (!found) co_return found.error();
      id = found->reference;
    }
    auto req = make("POST", store_path("/orders/" + merch::path_segment(id) + "/cancel"), "", true,
                    ref.fulfillment_id + ":cancel", "order.cancel", ref.ctx);
    auto r = co_await merch::send(*services_.http, std::move(req), partner_name_);
    if (!r) co_return r.error();
    if (!r->ok()) co_return failure(*r);  // 409: production started (invalid_state)
    if (!r->json) co_return unreadable(*r);
    co_return wire::order_fact(*r->json);
  }

  Task<AResult<WebhookResult>> verify_webhook(const WebhookRequest& request) override {
    co_return wire::parse_webhook(request, webhook_keys_);
  }

  Task<AResult<std::string>> test_credentials() override {
    auto req = make("GET", store_path(""), "", true, "", "store.get", CallContext{});
    auto r = co_await merch::send(*services_.http, std::move(req), partner_name_);
    if (!r) co_return r.error();
    if (!r->ok()) co_return failure(*r);
    if (!r->json) co_return unreadable(*r);
    co_return partner_name_ + " store '" + str(*r->json, "name") + "' (" + settings_.store + ")";
  }

  Task<AResult<std::vector<ImportedProduct>>> import_products(
      const ImportRequest& request) override {
    std::vector<ImportedProduct> out;
    std::string cursor;
    std::chrono::milliseconds patience = merch::kImportPatience;
    for (int page = 0; page < 200 && out.size() < request.limit; ++page) {
      std::string path = store_path("/products?limit=100");
      if (!cursor.empty()) path += "&cursor=" + merch::path_segment(cursor);
      auto req = make("GET", path, "", true, "", "products.list", request.ctx);
      auto r = co_await merch::send_within_rate_limit(
          *services_.http, std::move(req), partner_name_, patience, settings_.rate_limit_wait);
      if (!r) co_return r.error();
      if (!r->ok()) co_return failure(*r);
      const auto* data = r->json ? arr(*r->json, "data") : nullptr;
      if (!data) co_return unreadable(*r);
      for (const auto& p : *data) {
        if (!p.is_object()) continue;
        for (auto& v : wire::imported_products(p.as_object(), dialect_)) {
          if (out.size() < request.limit) out.push_back(std::move(v));
        }
      }
      cursor = str(*r->json, "next_cursor");
      if (cursor.empty() || data->empty()) break;
    }
    co_return out;
  }

 private:
  std::string store_path(const std::string& rest) const {
    return "/" + std::string(wire::kVersion) + "/stores/" + merch::path_segment(settings_.store) +
           rest;
  }

  http::ClientRequest make(std::string method, std::string path, std::string body, bool idempotent,
                           const std::string& idempotency_key, std::string operation,
                           const CallContext& ctx) const {
    http::ClientRequest req;
    req.method = std::move(method);
    req.url = merch::join_url(base_url_, path);
    req.headers.push_back({"authorization", "Bearer " + key_});
    req.headers.push_back({"accept", "application/json"});
    if (!body.empty()) req.headers.push_back({"content-type", "application/json"});
    if (!idempotency_key.empty()) req.headers.push_back({"idempotency-key", idempotency_key});
    req.body = std::move(body);
    req.idempotent = idempotent;
    req.traceparent = ctx.traceparent;
    req.adapter = id();
    req.operation = std::move(operation);
    return req;
  }

  AdapterError failure(const merch::Reply& r) const {
    auto [message, code] = error_text(r);
    return merch::status_error(r, partner_name_, message, code, services_.clock->now(),
                               settings_.rate_limit_wait);
  }

  AdapterError unreadable(const merch::Reply& r) const {
    return merch::unreadable(partner_name_, r.status);
  }

  const Dialect& dialect_;
  std::string partner_name_ = std::string(
      dialect_.partner == "the partner" ? std::string_view("Partner") : dialect_.partner);
  Settings settings_;
  std::string base_url_;
  std::string key_;
  std::vector<std::string> webhook_keys_;
  AdapterServices services_;
};

}  // namespace

Result<Settings> Settings::parse(const bj::object& o) {
  Settings s;
  s.store = str(o, "store");
  if (s.store.empty()) {
    return make_error(errc::missing_field, "'settings.store' is required", "settings.store");
  }
  s.shipping_method = str(o, "shipping_method");
  s.table_quotes = str(o, "shipping_quotes") == "table";
  s.rate_limit_wait = std::chrono::milliseconds(int_or(o, "rate_limit_wait_ms", 30'000));
  return s;
}

AdapterType protocol_type(const Dialect& dialect, std::string_view description,
                          std::string_view default_base_url) {
  AdapterType t;
  t.name = dialect.type;
  t.kind = Kind::fulfillment;
  t.description = description;
  t.default_base_url = default_base_url;
  std::string store_description = dialect.type == "spring"
                                      ? "the Spring store slug (the store's merch URL name)"
                                      : "the shop's store id in the protocol's paths";
  t.schema = schema_from(R"json({
    "credentials": {
      "type": "object", "additionalProperties": false, "required": ["api_key", "webhook_secret"],
      "properties": {
        "api_key": {"type": "string", "minLength": 1, "maxLength": 500, "x-secret": true,
          "description": "the shop's API key (Authorization: Bearer)"},
        "webhook_secret": {"type": "string", "x-prefix": "whsec_", "x-secret": true,
          "description": "Standard Webhooks secret the shop signs its webhooks with"}
      }
    },
    "settings": {
      "type": "object", "additionalProperties": false, "required": ["store"],
      "properties": {
        "store": {"type": "string", "minLength": 1, "maxLength": 100},
        "shipping_method": {"type": "string", "minLength": 1, "maxLength": 64,
          "description": "the shop's shipping method to ask for (default: the shop's choice)"},
        "shipping_quotes": {"type": "string", "enum": ["partner", "table"],
          "description": "partner: the shop's shipping-quotes (default); table: the products' tables"},
        "rate_limit_wait_ms": {"type": "integer", "minimum": 0, "maximum": 3600000,
          "description": "wait after a 429 without Retry-After (default 30000)"}
      }
    }
  })json");
  t.schema["settings"].as_object()["properties"].as_object()["store"].as_object()["description"] =
      store_description;
  const Dialect* d = &dialect;
  t.create = [d](const AdapterConfig& config,
                 AdapterServices& services) -> Result<std::shared_ptr<Adapter>> {
    if (!services.http || !services.clock) {
      return make_error(errc::internal, std::string(d->type) + " needs the HTTP client");
    }
    if (config.base_url.empty()) {
      return make_error(errc::missing_field,
                        "'base_url' is required: where the " + std::string(d->partner) +
                            " serves the Merch Partner Protocol",
                        "base_url");
    }
    auto settings = Settings::parse(config.settings);
    if (!settings) return settings.error();
    auto key = webhooks::secret_key(str(config.credentials, "webhook_secret"));
    if (!key) {
      return make_error(errc::invalid_field, key.error().message, "credentials.webhook_secret");
    }
    return std::shared_ptr<Adapter>(std::make_shared<ProtocolAdapter>(
        config, *d, std::move(*settings), str(config.credentials, "api_key"),
        std::vector<std::string>{*key}, services));
  };
  return t;
}

AdapterType PartnerProtocolFactory::type() {
  return protocol_type(kProtocolDialect,
                       "Any print shop serving the open Merch Partner Protocol v1 "
                       "(docs/partner-protocol.md): REST orders by external id, quotes, product "
                       "list, Standard Webhooks.",
                       "");
}

}  // namespace mg::adapters::protocol
