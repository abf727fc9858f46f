#include "adapters/fulfillment/gelato/gelato.hpp"

#include "adapters/fulfillment/support/partner_support.hpp"
#include "adapters/http/client.hpp"
#include "adapters/schema.hpp"
#include "gateway/core/checkout_machine.hpp"
#include "gateway/core/json.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace mg::adapters::gelato {
namespace bj = boost::json;
using merch::arr;
using merch::int_or;
using merch::obj;
using merch::str;

namespace {

constexpr std::string_view kPartner = "Gelato";

std::pair<std::string, std::string> error_text(const merch::Reply& r) {
  if (!r.json) return {r.body.substr(0, 200), {}};
  std::string message = str(*r.json, "message");
  if (message.empty()) message = str(*r.json, "error");
  return {message, str(*r.json, "code")};
}

bj::array files_of(const bj::object& spec) {
  bj::array out;
  if (const auto* files = arr(spec, "files")) {
    for (const auto& f : *files) {
      if (!f.is_object()) continue;
      std::string type = str(f.as_object(), "type");
      out.push_back(bj::object{{"type", type.empty() ? "default" : type},
                               {"url", str(f.as_object(), "url")}});
    }
  }
  return out;
}

bj::object item_of(const OrderLine& l, std::string_view reference_key) {
  bj::object item{{std::string(reference_key), l.sku},
                  {"productUid", str(l.spec, "product_uid")},
                  {"quantity", l.quantity}};
  bj::array files = files_of(l.spec);
  if (!files.empty()) item["files"] = std::move(files);
  if (std::int64_t pages = int_or(l.spec, "page_count", 0); pages > 0) item["pageCount"] = pages;
  return item;
}

bool method_matches(const bj::object& m, const std::string& wanted) {
  return str(m, "shipmentMethodUid") == wanted || str(m, "type") == wanted;
}

}  // namespace

namespace wire {

bj::object address(const core::Address& a, std::string_view email) {
  auto [first, last] = merch::split_name(a.name);
  bj::object o{{"firstName", first}, {"lastName", last},          {"addressLine1", a.line1},
               {"city", a.city},     {"postCode", a.postal_code}, {"country", a.country}};
  if (a.line2 && !a.line2->empty()) o["addressLine2"] = *a.line2;
  if (a.state && !a.state->empty()) o["state"] = *a.state;
  if (!email.empty()) o["email"] = email;
  return o;
}

bj::object order_body(const OrderRequest& request, const Settings& settings) {
  bj::array items;
  for (const auto& l : request.lines) items.push_back(item_of(l, "itemReferenceId"));
  bj::object o{{"orderType", "draft"},
               {"orderReferenceId", request.fulfillment_id},
               {"customerReferenceId", request.ctx.checkout_id},
               {"currency", request.currency},
               {"items", std::move(items)},
               {"shippingAddress", address(request.address, request.buyer_email)},
               {"metadata", bj::array{bj::object{{"key", "merchgate_checkout"},
                                                 {"value", request.ctx.checkout_id}}}}};
  if (!settings.shipment_method.empty()) o["shipmentMethodUid"] = settings.shipment_method;
  return o;
}

bj::object quote_body(const QuoteRequest& request) {
  bj::array products;
  for (const auto& l : request.lines) products.push_back(item_of(l, "itemReferenceId"));
  return bj::object{{"orderReferenceId", "quote"},
                    {"customerReferenceId", "merchgate"},
                    {"currency", request.currency},
                    {"allowMultipleQuotes", false},
                    {"recipient", address(request.address, "")},
                    {"products", std::move(products)}};
}

AResult<Quote> pick_quote(const bj::object& reply, const Settings& settings,
                          const std::string& currency) {
  const auto* quotes = arr(reply, "quotes");
  if (!quotes || quotes->empty()) {
    return adapter_error(adapter_errc::refused, "Gelato cannot produce and ship these items here",
                         0, "no_quote");
  }
  std::int64_t total = 0;
  std::string method;
  for (const auto& qv : *quotes) {
    if (!qv.is_object()) continue;
    const auto* methods = arr(qv.as_object(), "shipmentMethods");
    const bj::object* chosen = nullptr;
    std::optional<std::int64_t> chosen_price;
    static const bj::array kNone;
    for (const auto& mv : methods ? *methods : kNone) {
      if (!mv.is_object()) continue;
      const auto& m = mv.as_object();
      const auto* price_v = m.if_contains("price");
      std::string m_currency = str(m, "currency");
      auto price = price_v && m_currency == currency ? merch::number_to_minor(*price_v, currency)
                                                     : std::nullopt;
      if (!price) continue;
      bool preferred =
          !settings.shipment_method.empty() && method_matches(m, settings.shipment_method);
      bool chosen_preferred = chosen && !settings.shipment_method.empty() &&
                              method_matches(*chosen, settings.shipment_method);
      if (!chosen || (preferred && !chosen_preferred) ||
          (preferred == chosen_preferred && *price < *chosen_price)) {
        chosen = &m;
        chosen_price = price;
      }
    }
    if (!chosen) {
      return adapter_error(adapter_errc::refused,
                           "Gelato offers no shipping in " + currency + " to this address", 0,
                           "no_shipment_method");
    }
    total += *chosen_price;
    if (method.empty()) method = str(*chosen, "shipmentMethodUid");
  }
  return Quote{total, currency, method};
}

core::FulfillmentStatus map_status(std::string_view s) {
  using S = core::FulfillmentStatus;
  if (s == "in_production" || s == "printed") return S::in_production;
  if (s == "shipped" || s == "in_transit" || s == "returned") return S::shipped;
  if (s == "delivered") return S::delivered;
  if (s == "failed") return S::failed;
  if (s == "canceled" || s == "cancelled") return S::canceled;
  // created, uploading, passed, draft, pending_approval, pending_personalization, digitizing,
  // not_connected, on_hold, unknown: accepted, not in production yet.
  return S::submitted;
}

namespace {

// What left: an item is shipped once a package lists it (`orderItemIds`) or one of its
// `fulfillments` has a tracking code. Gelato gives no quantity per package, so an item counts as
// shipped whole as soon as part of it may have left. Items are named by `itemReferenceId`, the
// line's sku merchgate sends. nullopt when a package holds an item merchgate cannot name, or a
// package (by tracking code) is claimed by no item.
std::optional<std::map<std::string, std::int64_t>> shipped_lines(
    const bj::object& order, const std::vector<core::Shipment>& packages) {
  std::map<std::string, const bj::object*> items;  // Gelato's item id -> the item
  std::set<std::string> left, accounted;           // item ids, tracking codes
  if (const auto* list = arr(order, "items")) {
    for (const auto& v : *list) {
      if (!v.is_object()) continue;
      const auto& item = v.as_object();
      std::string id = str(item, "id");
      items[id] = &item;
      if (const auto* fulfillments = arr(item, "fulfillments")) {
        for (const auto& f : *fulfillments) {
          std::string code = f.is_object() ? str(f.as_object(), "trackingCode") : std::string();
          if (code.empty()) continue;
          left.insert(id);
          accounted.insert(code);
        }
      }
    }
  }
  const auto* shipment = obj(order, "shipment");
  if (const auto* list = shipment ? arr(*shipment, "packages") : nullptr) {
    for (const auto& p : *list) {
      if (!p.is_object()) continue;
      const auto* held = arr(p.as_object(), "orderItemIds");
      if (!held || held->empty()) continue;
      for (const auto& id : *held) {
        if (!items.contains(str(id))) return std::nullopt;
        left.insert(str(id));
      }
      accounted.insert(str(p.as_object(), "trackingCode"));
    }
  }
  for (const auto& p : packages) {
    if (!accounted.contains(p.tracking_number)) return std::nullopt;
  }
  std::map<std::string, std::int64_t> shipped;
  for (const auto& id : left) {
    std::string sku = str(*items[id], "itemReferenceId");
    if (sku.empty()) return std::nullopt;
    shipped[sku] += std::max<std::int64_t>(int_or(*items[id], "quantity", 0), 0);
  }
  return shipped;
}

}  // namespace

core::FulfillmentFact order_fact(const bj::object& order) {
  core::FulfillmentFact fact;
  fact.reference = str(order, "id");
  std::string status = str(order, "fulfillmentStatus");
  fact.status = map_status(status);
  auto add = [&](std::string carrier, std::string number, std::string url) {
    if (number.empty() && url.empty()) return;
    bool known = std::any_of(fact.shipments.begin(), fact.shipments.end(),
                             [&](const core::Shipment& s) { return s.tracking_number == number; });
    if (!known)
      fact.shipments.push_back({std::move(carrier), std::move(number), std::move(url), 0});
  };
  if (const auto* shipment = obj(order, "shipment")) {
    std::string carrier = str(*shipment, "shipmentMethodName");
    if (const auto* packages = arr(*shipment, "packages")) {
      for (const auto& p : *packages) {
        if (!p.is_object()) continue;
        add(carrier, str(p.as_object(), "trackingCode"), str(p.as_object(), "trackingUrl"));
      }
    }
  }
  if (const auto* items = arr(order, "items")) {
    for (const auto& iv : *items) {
      if (!iv.is_object()) continue;
      if (const auto* fulfillments = arr(iv.as_object(), "fulfillments")) {
        for (const auto& f : *fulfillments) {
          if (!f.is_object()) continue;
          const auto& fo = f.as_object();
          add(str(fo, "shipmentMethodName"), str(fo, "trackingCode"), str(fo, "trackingUrl"));
        }
      }
    }
  }
  fact.shipped = shipped_lines(order, fact.shipments);
  if (fact.status == core::FulfillmentStatus::failed ||
      fact.status == core::FulfillmentStatus::canceled) {
    fact.failure_code = "gelato_" + status;
    fact.failure_message = "Gelato order " + fact.reference + " is " + status;
  }
  return fact;
}

core::FulfillmentFact combined_fact(const std::vector<bj::object>& orders) {
  core::FulfillmentFact out;
  if (orders.empty()) return out;
  out = order_fact(orders.front());
  using S = core::FulfillmentStatus;
  bool any_failed = out.status == S::failed;
  bool all_canceled = out.status == S::canceled;
  int least = out.status == S::canceled || out.status == S::failed ? 100 : core::rank(out.status);
  for (std::size_t i = 1; i < orders.size(); ++i) {
    core::FulfillmentFact f = order_fact(orders[i]);
    for (auto& s : f.shipments) {
      bool known = std::any_of(out.shipments.begin(), out.shipments.end(), [&](const auto& k) {
        return k.tracking_number == s.tracking_number;
      });
      if (!known) out.shipments.push_back(std::move(s));
    }
    // Each part holds its own items: what left is their sum, unknown if any part's is.
    if (out.shipped && f.shipped) {
      for (const auto& [sku, quantity] : *f.shipped) (*out.shipped)[sku] += quantity;
    } else {
      out.shipped.reset();
    }
    if (f.status == S::failed) {
      any_failed = true;
      out.failure_code = f.failure_code;
      out.failure_message = f.failure_message;
    }
    if (f.status != S::canceled) {
      all_canceled = false;
      if (f.status != S::failed) least = std::min(least, core::rank(f.status));
    }
  }
  // The order moves as far as its slowest part. A failed part fails it only once every other
  // part has shipped or ended: until then the others' packages keep being announced, and
  // merchgate then knows what shipped, and refunds the rest.
  if (any_failed && (least == 100 || least >= core::rank(S::shipped))) {
    out.status = S::failed;
  } else if (any_failed) {
    out.status = static_cast<S>(least);
  } else if (all_canceled) {
    out.status = S::canceled;
  } else if (least != 100) {
    out.status = static_cast<S>(least);
  }
  return out;
}

AResult<WebhookResult> parse_webhook(const WebhookRequest& request) {
  auto body = merch::parse_object(request.body);
  if (!body) return adapter_error(adapter_errc::malformed_webhook, "body is not JSON", 400);
  InboundEvent e;
  e.partner_event_id = str(*body, "id");
  e.type = str(*body, "event");
  if (e.partner_event_id.empty() || e.type.empty()) {
    return adapter_error(adapter_errc::malformed_webhook, "Gelato event without id or event", 400);
  }
  WebhookResult result;
  bool about_an_order = e.type == "order_status_updated" || e.type == "order_item_status_updated" ||
                        e.type == "order_item_tracking_code_updated" ||
                        e.type == "order_delivery_estimate_updated";
  if (about_an_order) {
    e.order_reference = str(*body, "orderId");
    e.fulfillment_id = str(*body, "orderReferenceId");
    if (e.order_reference.empty() && e.fulfillment_id.empty()) {
      return adapter_error(adapter_errc::malformed_webhook, "Gelato event names no order", 400);
    }
    // Unsigned: never a fact, only a reason to read the order back.
    e.kind = InboundEvent::Kind::fulfillment;
    e.action = "sync";
  }
  result.events.push_back(std::move(e));
  return result;
}

}  // namespace wire

namespace {

class Gelato final : public FulfillmentAdapter {
 public:
  Gelato(const AdapterConfig& config, Settings settings, std::string key, AdapterServices services)
      : FulfillmentAdapter(config.id),
        settings_(std::move(settings)),
        base_url_(config.base_url),
        key_(std::move(key)),
        services_(std::move(services)) {}

  std::string_view type() const noexcept override { return GelatoFactory::kType; }

  Result<void> validate_product(const bj::object& spec) const override {
    if (auto r = core::json::only_keys(
            spec,
            {"adapter", "product_uid", "files", "page_count", "shipping", "shipping_additional"},
            "fulfillment");
        !r) {
      return r.error();
    }
    if (auto uid = core::json::required_string({spec, "product_uid", "fulfillment"}, 300); !uid) {
      return uid.error();
    }
    if (auto pages = core::json::optional_int({spec, "page_count", "fulfillment"}, 1, 10'000);
        !pages) {
      return pages.error();
    }
    if (auto r = merch::validate_files(spec, "type"); !r) return r.error();
    return merch::validate_shipping_table(spec);
  }

  Task<AResult<Quote>> quote_shipping(const QuoteRequest& request) override {
    if (settings_.table_quotes) {
      co_return merch::table_quote_or_error(request, "quotes come from the shipping tables");
    }
    auto req = make("POST", "/v4/orders:quote", bj::serialize(wire::quote_body(request)), true,
                    "order.quote", request.ctx);
    auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
    if (!r) co_return r.error();
    if (!r->ok()) co_return failure(*r);
    if (!r->json) co_return unreadable(*r);
    co_return wire::pick_quote(*r->json, settings_, request.currency);
  }

  Task<AResult<core::FulfillmentFact>> create_order(const OrderRequest& request) override {
    std::optional<bj::object> order;
    if (request.ctx.attempt != 1) {
      auto found = co_await search(request.fulfillment_id, request.ctx);
      if (!found) co_return found.error();
      order = std::move(*found);
    }
    if (!order) {
      auto req = make("POST", "/v4/orders", bj::serialize(wire::order_body(request, settings_)),
                      false, "order.create", request.ctx);
      auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
      if (!r) co_return r.error();
      if (!r->ok()) co_return refusal(*r);
      if (!r->json || str(*r->json, "id").empty()) co_return unreadable(*r);
      order = std::move(*r->json);
    }
    std::string id = str(*order, "id");
    if (str(*order, "orderType") == "draft" || str(*order, "fulfillmentStatus") == "draft") {
      bj::object patch{{"orderType", "order"}};
      auto req = make("PATCH", "/v4/orders/" + merch::path_segment(id), bj::serialize(patch), true,
                      "order.patch", request.ctx);
      auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
      if (!r) co_return r.error();
      if (!r->ok()) co_return refusal(*r);
      if (r->json && !str(*r->json, "id").empty()) order = std::move(*r->json);
    }
    OrderRef ref{request.ctx, request.fulfillment_id, id};
    auto all = co_await fetch_all(*order, ref);
    if (!all) co_return all.error();
    core::FulfillmentFact fact = wire::combined_fact(*all);
    fact.reference = id;
    co_return fact;
  }

  Task<AResult<core::FulfillmentFact>> get_order(const OrderRef& ref) override {
    std::optional<bj::object> order;
    if (ref.reference.empty()) {
      auto found = co_await search(ref.fulfillment_id, ref.ctx);
      if (!found) co_return found.error();
      order = std::move(*found);
    } else {
      auto fetched = co_await fetch(ref.reference, ref.ctx);
      if (!fetched) co_return fetched.error();
      order = std::move(*fetched);
    }
    if (!order) {
      co_return adapter_error(adapter_errc::not_found,
                              "Gelato has no order for " + ref.fulfillment_id, 404);
    }
    auto all = co_await fetch_all(*order, ref);
    if (!all) co_return all.error();
    core::FulfillmentFact fact = wire::combined_fact(*all);
    if (!ref.reference.empty()) fact.reference = ref.reference;
    co_return fact;
  }

  Task<AResult<core::FulfillmentFact>> cancel_order(const OrderRef& ref) override {
    std::string id = ref.reference;
    if (id.empty()) {
      auto found = co_await search(ref.fulfillment_id, ref.ctx);
      if (!found) co_return found.error();
      if (!*found) {
        co_return adapter_error(adapter_errc::not_found,
                                "Gelato has no order for " + ref.fulfillment_id, 404);
      }
      id = str(**found, "id");
    }
    auto req = make("POST", "/v4/orders/" + merch::path_segment(id) + ":cancel", "", true,
                    "order.cancel", ref.ctx);
    auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
    if (!r) co_return r.error();
    if (r->status == 409) {
      co_return adapter_error(
          adapter_errc::invalid_state,
          "Gelato order " + id + " cannot be canceled: an item is already printed or shipped", 409,
          "not_cancelable");
    }
    if (!r->ok()) co_return failure(*r);
    OrderRef read{ref.ctx, ref.fulfillment_id, id};
    co_return co_await get_order(read);
  }

  Task<AResult<WebhookResult>> verify_webhook(const WebhookRequest& request) override {
    co_return wire::parse_webhook(request);
  }

  Task<AResult<std::string>> test_credentials() override {
    bj::object body{{"limit", 1}};
    auto req =
        make("POST", "/v4/orders:search", bj::serialize(body), true, "order.search", CallContext{});
    auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
    if (!r) co_return r.error();
    if (!r->ok()) co_return failure(*r);
    co_return std::string("Gelato accepted the API key");
  }

 private:
  http::ClientRequest make(std::string method, std::string path, std::string body, bool idempotent,
                           std::string operation, const CallContext& ctx) const {
    http::ClientRequest req;
    req.method = std::move(method);
    req.url = merch::join_url(base_url_, path);
    req.headers.push_back({"x-api-key", key_});
    if (!body.empty()) req.headers.push_back({"content-type", "application/json"});
    req.body = std::move(body);
    req.idempotent = idempotent;
    req.traceparent = ctx.traceparent;
    req.adapter = id();
    req.operation = std::move(operation);
    return req;
  }

  Task<AResult<std::optional<bj::object>>> fetch(const std::string& order_id,
                                                 const CallContext& ctx) {
    auto req =
        make("GET", "/v4/orders/" + merch::path_segment(order_id), "", true, "order.get", ctx);
    auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
    if (!r) co_return r.error();
    if (r->status == 404) co_return std::optional<bj::object>{};
    if (!r->ok()) co_return failure(*r);
    if (!r->json) co_return unreadable(*r);
    co_return std::optional<bj::object>(std::move(*r->json));
  }

  // The order made for `fid` by an earlier try: a real order first, else a draft.
  Task<AResult<std::optional<bj::object>>> search(const std::string& fid, const CallContext& ctx) {
    bj::object body{{"orderReferenceIds", bj::array{bj::value(fid)}}, {"limit", 10}};
    auto req = make("POST", "/v4/orders:search", bj::serialize(body), true, "order.search", ctx);
    auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
    if (!r) co_return r.error();
    if (!r->ok()) co_return failure(*r);
    const auto* orders = r->json ? arr(*r->json, "orders") : nullptr;
    if (!orders) co_return unreadable(*r);
    const bj::object* best = nullptr;
    for (const auto& o : *orders) {
      if (!o.is_object() || str(o.as_object(), "orderReferenceId") != fid) continue;
      if (!best ||
          (str(*best, "orderType") == "draft" && str(o.as_object(), "orderType") != "draft")) {
        best = &o.as_object();
      }
    }
    if (!best) co_return std::optional<bj::object>{};
    bj::object found = *best;
    co_return std::optional<bj::object>(std::move(found));
  }

  // The order and its connected orders (a split order), read in full.
  Task<AResult<std::vector<bj::object>>> fetch_all(const bj::object& order, const OrderRef& ref) {
    std::vector<bj::object> all;
    bj::object first = order;
    if (!obj(first, "shipment") && !arr(first, "items")) {
      std::string id = str(first, "id");
      auto full = co_await fetch(id, ref.ctx);
      if (!full) co_return full.error();
      if (*full) first = std::move(**full);
    }
    std::vector<std::string> connected;
    if (const auto* ids = arr(first, "connectedOrderIds")) {
      for (const auto& v : *ids) {
        std::string cid = str(v);
        if (!cid.empty() && cid != str(first, "id")) connected.push_back(cid);
      }
    }
    all.push_back(std::move(first));
    for (const auto& cid : connected) {
      auto part = co_await fetch(cid, ref.ctx);
      if (!part) co_return part.error();
      if (*part) all.push_back(std::move(**part));
    }
    co_return all;
  }

  AdapterError failure(const merch::Reply& r) const {
    auto [message, code] = error_text(r);
    return merch::status_error(r, kPartner, message, code, services_.clock->now(),
                               settings_.rate_limit_wait);
  }

  AdapterError refusal(const merch::Reply& r) const {
    return merch::as_refusal(failure(r), "gelato_refused");
  }

  static AdapterError unreadable(const merch::Reply& r) {
    return merch::unreadable(kPartner, r.status);
  }

  Settings settings_;
  std::string base_url_;
  std::string key_;
  AdapterServices services_;
};

}  // namespace

Result<Settings> Settings::parse(const bj::object& o) {
  Settings s;
  s.shipment_method = str(o, "shipment_method");
  s.table_quotes = str(o, "shipping_quotes") == "table";
  s.rate_limit_wait = std::chrono::milliseconds(int_or(o, "rate_limit_wait_ms", 10'000));
  return s;
}

AdapterType GelatoFactory::type() {
  AdapterType t;
  t.name = kType;
  t.kind = Kind::fulfillment;
  t.description =
      "Gelato print-on-demand (Order API v4): draft orders turned into orders after payment, "
      "quotes, cancel before printing; unsigned webhooks verified by reading the order back.";
  t.default_base_url = "https://order.gelatoapis.com";
  t.schema = schema_from(R"json({
    "credentials": {
      "type": "object", "additionalProperties": false, "required": ["api_key"],
      "properties": {
        "api_key": {"type": "string", "minLength": 1, "maxLength": 500, "x-secret": true,
          "description": "Gelato API key (X-API-KEY)"}
      }
    },
    "settings": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "shipment_method": {"type": "string", "minLength": 1, "maxLength": 100,
          "description": "shipmentMethodUid or type (normal, express); default: the cheapest"},
        "shipping_quotes": {"type": "string", "enum": ["partner", "table"],
          "description": "partner: POST /v4/orders:quote (default); table: the products' tables"},
        "rate_limit_wait_ms": {"type": "integer", "minimum": 0, "maximum": 3600000,
          "description": "wait after a 429 without Retry-After (default 10000)"}
      }
    }
  })json");
  t.create = [](const AdapterConfig& config,
                AdapterServices& services) -> Result<std::shared_ptr<Adapter>> {
    if (!services.http || !services.clock) {
      return make_error(errc::internal, "gelato needs the HTTP client and a clock");
    }
    auto settings = Settings::parse(config.settings);
    if (!settings) return settings.error();
    return std::shared_ptr<Adapter>(std::make_shared<Gelato>(
        config, std::move(*settings), str(config.credentials, "api_key"), services));
  };
  return t;
}

}  // namespace mg::adapters::gelato
