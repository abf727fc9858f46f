#include "adapters/fulfillment/printify/printify.hpp"

#include "adapters/fulfillment/support/partner_support.hpp"
#include "adapters/http/client.hpp"
#include "adapters/schema.hpp"
#include "gateway/core/json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>

namespace mg::adapters::printify {
namespace bj = boost::json;
using merch::arr;
using merch::int_or;
using merch::obj;
using merch::str;

namespace {

constexpr std::string_view kPartner = "Printify";

// {"status": "error", "code": 8103, "message": "Validation failed.", "errors": {"reason", "code"}}
std::pair<std::string, std::string> error_text(const merch::Reply& r) {
  if (!r.json) return {r.body.substr(0, 200), {}};
  std::string message = str(*r.json, "message");
  std::string code = str(*r.json, "code");
  if (const auto* errors = obj(*r.json, "errors")) {
    if (std::string reason = str(*errors, "reason"); !reason.empty()) {
      message += message.empty() ? reason : " " + reason;
    }
  }
  if (message.empty()) message = str(*r.json, "error");
  return {message, code};
}

std::string spec_text(const OrderLine& l, std::string_view key) {
  auto id = merch::spec_id(l.spec, key);
  return id ? *id : std::string();
}

bj::value number_or_text(const std::string& id) {
  bool digits = !id.empty() && id.size() < 18 &&
                std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
  return digits ? bj::value(std::stoll(id)) : bj::value(id);
}

constexpr std::string_view kMethodKeys[] = {"", "standard", "priority", "printify_express",
                                            "economy"};

}  // namespace

namespace wire {

bj::object address_to(const core::Address& a, std::string_view email) {
  auto [first, last] = merch::split_name(a.name);
  bj::object o{{"first_name", first},  {"last_name", last},
               {"country", a.country}, {"region", a.state.value_or("")},
               {"address1", a.line1},  {"city", a.city},
               {"zip", a.postal_code}};
  if (a.line2 && !a.line2->empty()) o["address2"] = *a.line2;
  if (!email.empty()) o["email"] = email;
  return o;
}

bj::array line_items(const std::vector<OrderLine>& lines) {
  bj::array items;
  for (const auto& l : lines) {
    // Printify returns the line's external_id in its metadata: how its shipped status is known.
    bj::object item{{"quantity", l.quantity}, {"external_id", l.sku}};
    std::string product = spec_text(l, "product");
    std::string sku = spec_text(l, "sku");
    std::string blueprint = spec_text(l, "blueprint");
    if (!product.empty()) {
      item["product_id"] = product;
      item["variant_id"] = number_or_text(spec_text(l, "variant"));
    } else if (!blueprint.empty()) {
      item["blueprint_id"] = number_or_text(blueprint);
      item["print_provider_id"] = number_or_text(spec_text(l, "print_provider"));
      item["variant_id"] = number_or_text(spec_text(l, "variant"));
      if (const auto* areas = obj(l.spec, "print_areas")) item["print_areas"] = *areas;
    } else {
      item["sku"] = sku;
    }
    items.push_back(std::move(item));
  }
  return items;
}

bj::object order_body(const OrderRequest& request, const Settings& settings) {
  return bj::object{{"external_id", request.fulfillment_id},
                    {"label", request.fulfillment_id},
                    {"line_items", line_items(request.lines)},
                    {"shipping_method", settings.shipping_method},
                    {"send_shipping_notification", settings.send_shipping_notification},
                    {"address_to", address_to(request.address, request.buyer_email)}};
}

AResult<Quote> pick_rate(const bj::object& reply, const Settings& settings) {
  int method = std::clamp(settings.shipping_method, 1, 4);
  const auto* v = reply.if_contains(kMethodKeys[method]);
  // "express" was method 2's name before Printify renamed it "priority".
  if (!v && method == 2) v = reply.if_contains("express");
  if (!v || !v->is_int64() || v->as_int64() < 0) {
    return adapter_error(adapter_errc::refused,
                         "Printify offers no " + std::string(kMethodKeys[method]) +
                             " shipping for these items to this address",
                         0, "no_rate");
  }
  return Quote{v->as_int64(), settings.currency, std::string(kMethodKeys[method])};
}

core::FulfillmentStatus map_status(std::string_view s) {
  using S = core::FulfillmentStatus;
  if (s == "sending-to-production" || s == "in-production") return S::in_production;
  // partially-fulfilled: some packages left, others are still being made; the order is shipped
  // only when its last package is (each package is announced as it leaves).
  if (s == "partially-fulfilled") return S::in_production;
  if (s == "fulfilled") return S::shipped;
  if (s == "canceled" || s == "cancelled") return S::canceled;
  if (s == "had-issues" || s == "has-issues" || s == "quality-declined") return S::failed;
  // pending, on-hold, payment-not-received (the merchant must act), checking-quality,
  // quality-approved, ready-for-production, callback-received, unknown: not in production yet.
  return S::submitted;
}

namespace {

// What left, from the line items' own status (Printify's order says per line item what shipped,
// not per shipment what it held): a line ships whole once `fulfilled` (or it has `fulfilled_at`),
// named by the `external_id` merchgate gave it, which Printify returns in its `metadata`. nullopt
// when a line item lacks that id.
std::optional<std::map<std::string, std::int64_t>> shipped_lines(const bj::object& order,
                                                                  std::size_t packages) {
  std::map<std::string, std::int64_t> shipped;
  if (const auto* items = arr(order, "line_items")) {
    for (const auto& v : *items) {
      if (!v.is_object()) continue;
      const auto& item = v.as_object();
      const auto* metadata = obj(item, "metadata");
      std::string sku = metadata ? str(*metadata, "external_id") : std::string();
      if (sku.empty()) return std::nullopt;
      if (str(item, "status") == "fulfilled" || !str(item, "fulfilled_at").empty()) {
        shipped[sku] += std::max<std::int64_t>(int_or(item, "quantity", 0), 0);
      }
    }
  }
  // A package left but no line item says it shipped: part of a line left, so what did not is
  // unknown.
  if (packages > 0 && shipped.empty()) return std::nullopt;
  return shipped;
}

}  // namespace

core::FulfillmentFact order_fact(const bj::object& order) {
  core::FulfillmentFact fact;
  fact.reference = str(order, "id");
  std::string status = str(order, "status");
  fact.status = map_status(status);
  bool all_delivered = true;
  if (const auto* shipments = arr(order, "shipments")) {
    for (const auto& v : *shipments) {
      if (!v.is_object()) continue;
      const auto& s = v.as_object();
      fact.shipments.push_back({str(s, "carrier"), str(s, "number"), str(s, "url"), 0});
      if (str(s, "delivered_at").empty()) all_delivered = false;
    }
  }
  fact.shipped = shipped_lines(order, fact.shipments.size());
  if (status == "fulfilled" && !fact.shipments.empty() && all_delivered) {
    fact.status = core::FulfillmentStatus::delivered;
  }
  if (fact.status == core::FulfillmentStatus::failed) {
    fact.failure_code = "printify_" + status;
    fact.failure_message = "Printify order " + fact.reference + " is " + status;
  } else if (fact.status == core::FulfillmentStatus::canceled) {
    fact.failure_code = "printify_canceled";
    fact.failure_message = "Printify canceled order " + fact.reference;
  }
  return fact;
}

bool is_order_for(const bj::object& order, std::string_view fid) {
  if (str(order, "external_id") == fid || str(order, "label") == fid) return true;
  if (const auto* m = obj(order, "metadata")) {
    return str(*m, "shop_order_id") == fid || str(*m, "shop_order_label") == fid;
  }
  return false;
}

AResult<WebhookResult> parse_webhook(const WebhookRequest& request, const std::string& secret) {
  std::string_view signature = request.header("x-pfy-signature");
  bool hint_only = secret.empty();
  if (!secret.empty()) {
    if (!signature.starts_with("sha256=") ||
        !merch::hmac_hex_matches(secret, request.body, signature.substr(7))) {
      return adapter_error(adapter_errc::invalid_webhook,
                           signature.empty() ? "X-Pfy-Signature is missing"
                                             : "X-Pfy-Signature does not match the body",
                           400);
    }
  }
  auto body = merch::parse_object(request.body);
  if (!body) return adapter_error(adapter_errc::malformed_webhook, "body is not JSON", 400);
  InboundEvent e;
  e.partner_event_id = str(*body, "id");
  e.type = str(*body, "type");
  if (e.partner_event_id.empty()) {
    return adapter_error(adapter_errc::malformed_webhook, "Printify event without id", 400);
  }
  const bj::object* resource = obj(*body, "resource");
  WebhookResult result;
  if (!e.type.starts_with("order:") || !resource) {
    result.events.push_back(std::move(e));  // ignored: shop and product events
    return result;
  }
  e.kind = InboundEvent::Kind::fulfillment;
  e.order_reference = str(*resource, "id");
  if (e.order_reference.empty()) {
    return adapter_error(adapter_errc::malformed_webhook, "Printify event names no order", 400);
  }
  const bj::object* data = obj(*resource, "data");
  core::FulfillmentFact fact;
  fact.reference = e.order_reference;
  bool has_fact = false;
  if (e.type == "order:updated" && data && !str(*data, "status").empty()) {
    fact.status = map_status(str(*data, "status"));
    // An order that ends is read back: its shipments and line items tell what never shipped
    // (and is refunded), which this event does not.
    has_fact = fact.status != core::FulfillmentStatus::failed &&
               fact.status != core::FulfillmentStatus::canceled;
  } else if (e.type == "order:sent-to-production") {
    fact.status = core::FulfillmentStatus::in_production;
    has_fact = true;
  }
  // order:created changes nothing merchgate does not know; a package that left or arrived may
  // not be the whole order (order:shipment:created, order:shipment:delivered): read the order
  // back, whose status and shipments say both.
  if (e.type == "order:created") {
    e.kind = InboundEvent::Kind::ignored;
  } else if (hint_only || !has_fact) {
    e.action = "sync";
  } else {
    e.fulfillment = std::move(fact);
  }
  result.events.push_back(std::move(e));
  return result;
}

std::vector<ImportedProduct> imported_variants(const bj::object& product,
                                               const std::string& currency) {
  std::vector<ImportedProduct> out;
  std::string product_id = str(product, "id");
  // option value id -> (option name, value title)
  std::map<std::int64_t, std::pair<std::string, std::string>> values;
  if (const auto* options = arr(product, "options")) {
    for (const auto& ov : *options) {
      if (!ov.is_object()) continue;
      std::string name = str(ov.as_object(), "type");
      if (name.empty()) name = str(ov.as_object(), "name");
      if (const auto* vs = arr(ov.as_object(), "values")) {
        for (const auto& v : *vs) {
          if (!v.is_object()) continue;
          values[int_or(v.as_object(), "id", -1)] = {name, str(v.as_object(), "title")};
        }
      }
    }
  }
  const auto* variants = arr(product, "variants");
  if (!variants) return out;
  for (const auto& vv : *variants) {
    if (!vv.is_object()) continue;
    const auto& v = vv.as_object();
    if (!merch::bool_or(v, "is_enabled", true)) continue;
    ImportedProduct p;
    std::string variant_id = str(v, "id");
    std::string sku = str(v, "sku");
    p.sku = merch::valid_sku(sku) ? sku : "printify-" + product_id + "-" + variant_id;
    p.title = str(product, "title");
    if (std::string vt = str(v, "title"); !vt.empty()) p.title += " - " + vt;
    p.description = str(product, "description");
    if (p.description.size() > 5000) p.description.resize(5000);
    p.currency = currency;
    if (const auto* price = v.if_contains("price");
        price && price->is_int64() && price->as_int64() >= 0) {
      p.unit_amount = price->as_int64();
    }
    p.group = "printify-" + product_id;
    if (const auto* ids = arr(v, "options")) {
      for (const auto& id : *ids) {
        if (!id.is_int64()) continue;
        auto it = values.find(id.as_int64());
        if (it != values.end() && !it->second.first.empty()) {
          p.options[it->second.first] = it->second.second;
        }
      }
    }
    if (const auto* images = arr(product, "images")) {
      for (const auto& iv : *images) {
        if (!iv.is_object() || p.images.size() >= 5) continue;
        std::string src = str(iv.as_object(), "src");
        const auto* for_variants = arr(iv.as_object(), "variant_ids");
        bool mine =
            !for_variants || std::any_of(for_variants->begin(), for_variants->end(),
                                         [&](const bj::value& x) { return str(x) == variant_id; });
        if (mine && src.starts_with("https://")) p.images.push_back(src);
      }
    }
    p.available = merch::bool_or(v, "is_available", true);
    p.fulfillment = bj::object{{"product", product_id}, {"variant", variant_id}};
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace wire

namespace {

class Printify final : public FulfillmentAdapter {
 public:
  Printify(const AdapterConfig& config, Settings settings, std::string token, std::string secret,
           AdapterServices services)
      : FulfillmentAdapter(config.id),
        settings_(std::move(settings)),
        base_url_(config.base_url),
        token_(std::move(token)),
        secret_(std::move(secret)),
        services_(std::move(services)) {}

  std::string_view type() const noexcept override { return PrintifyFactory::kType; }

  Result<void> validate_product(const bj::object& spec) const override {
    if (auto r = core::json::only_keys(
            spec,
            {"adapter", "product", "variant", "sku", "blueprint", "print_provider", "print_areas",
             "shipping", "shipping_additional"},
            "fulfillment");
        !r) {
      return r.error();
    }
    std::map<std::string, std::string> ids;
    for (std::string_view key : {"product", "variant", "sku", "blueprint", "print_provider"}) {
      auto id = merch::spec_id(spec, key);
      if (!id) return id.error();
      ids[std::string(key)] = *id;
    }
    bool existing = !ids["product"].empty();
    bool by_blueprint = !ids["blueprint"].empty();
    if (existing || by_blueprint) {
      if (ids["variant"].empty()) {
        return make_error(errc::missing_field, "a Printify product needs its 'variant' id",
                          "fulfillment.variant");
      }
    }
    if (by_blueprint) {
      if (ids["print_provider"].empty()) {
        return make_error(errc::missing_field, "a blueprint needs its 'print_provider' id",
                          "fulfillment.print_provider");
      }
      const auto* areas = obj(spec, "print_areas");
      if (!areas || areas->empty()) {
        return make_error(errc::missing_field,
                          "a blueprint needs 'print_areas', e.g. {\"front\": \"https://…\"}",
                          "fulfillment.print_areas");
      }
    }
    if (!existing && !by_blueprint && ids["sku"].empty()) {
      return make_error(errc::missing_field,
                        "a Printify product needs 'product' and 'variant', a 'sku', or "
                        "'blueprint', 'print_provider', 'variant' and 'print_areas'",
                        "fulfillment.product");
    }
    return merch::validate_shipping_table(spec);
  }

  Task<AResult<Quote>> quote_shipping(const QuoteRequest& request) override {
    if (settings_.table_quotes || request.currency != settings_.currency) {
      std::string why = settings_.table_quotes ? std::string("quotes come from the shipping tables")
                                               : "Printify quotes only in the shop's currency (" +
                                                     settings_.currency + ")";
      co_return merch::table_quote_or_error(request, why);
    }
    bj::object body{{"line_items", wire::line_items(request.lines)},
                    {"address_to", wire::address_to(request.address, "")}};
    auto req = make("POST", shop_path("/orders/shipping.json"), bj::serialize(body), true,
                    "shipping.calculate", request.ctx);
    auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
    if (!r) co_return r.error();
    if (!r->ok()) co_return failure(*r);
    if (!r->json) co_return unreadable(*r);
    co_return wire::pick_rate(*r->json, settings_);
  }

  Task<AResult<core::FulfillmentFact>> create_order(const OrderRequest& request) override {
    std::optional<bj::object> order;
    if (request.ctx.attempt != 1) {
      auto found = co_await find_by_external_id(request.fulfillment_id, request.ctx);
      if (!found) co_return found.error();
      order = std::move(*found);
    }
    if (!order) {
      auto req = make("POST", shop_path("/orders.json"),
                      bj::serialize(wire::order_body(request, settings_)), false, "order.create",
                      request.ctx);
      auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
      if (!r) co_return r.error();
      if (!r->ok()) co_return refusal(*r);
      std::string id = r->json ? str(*r->json, "id") : std::string();
      if (id.empty()) co_return unreadable(*r);
      order = bj::object{{"id", id}, {"status", "on-hold"}};
    }
    std::string id = str(*order, "id");
    std::string status = str(*order, "status");
    // API orders wait "on-hold" until sent to production.
    if (status == "on-hold" || status == "pending" || status.empty()) {
      std::string path =
          shop_path("/orders/" + merch::path_segment(id) + "/send_to_production.json");
      auto req = make("POST", path, "", false, "order.send_to_production", request.ctx);
      auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
      if (!r) co_return r.error();
      if (r->status >= 500 || r->status == 429 || r->status == 401 || r->status == 403) {
        co_return failure(*r);
      }
      if (r->ok() && r->json && !str(*r->json, "id").empty()) {
        core::FulfillmentFact fact = wire::order_fact(*r->json);
        if (fact.reference.empty()) fact.reference = id;
        co_return fact;
      }
      if (!r->ok()) {
        // Already sent by an earlier try, or refused: the order itself says which.
        auto current = co_await fetch_order(id, request.ctx);
        if (!current) co_return current.error();
        if (*current && str(**current, "status") != "on-hold") {
          co_return wire::order_fact(**current);
        }
        AdapterError refused = refusal(*r);
        if (!*current || !refused.is(adapter_errc::refused)) co_return refused;
        co_return co_await cancel_refused(request, id, std::move(refused));
      }
    }
    core::FulfillmentFact fact = wire::order_fact(*order);
    fact.reference = id;
    co_return fact;
  }

  Task<AResult<core::FulfillmentFact>> get_order(const OrderRef& ref) override {
    std::optional<bj::object> order;
    if (ref.reference.empty()) {
      auto found = co_await find_by_external_id(ref.fulfillment_id, ref.ctx);
      if (!found) co_return found.error();
      order = std::move(*found);
    } else {
      auto fetched = co_await fetch_order(ref.reference, ref.ctx);
      if (!fetched) co_return fetched.error();
      order = std::move(*fetched);
    }
    if (!order) {
      co_return adapter_error(adapter_errc::not_found,
                              "Printify has no order for " + ref.fulfillment_id, 404);
    }
    co_return wire::order_fact(*order);
  }

  Task<AResult<core::FulfillmentFact>> cancel_order(const OrderRef& ref) override {
    std::string id = ref.reference;
    if (id.empty()) {
      auto found = co_await find_by_external_id(ref.fulfillment_id, ref.ctx);
      if (!found) co_return found.error();
      if (!*found) {
        co_return adapter_error(adapter_errc::not_found,
                                "Printify has no order for " + ref.fulfillment_id, 404);
      }
      id = str(**found, "id");
    }
    auto req = make("POST", shop_path("/orders/" + merch::path_segment(id) + "/cancel.json"), "",
                    true, "order.cancel", ref.ctx);
    auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
    if (!r) co_return r.error();
    if (r->ok() && r->json && !str(*r->json, "id").empty()) co_return wire::order_fact(*r->json);
    if (r->status >= 500 || r->status == 429 || r->status == 401 || r->status == 403) {
      co_return failure(*r);
    }
    // Printify cancels only "on-hold" and "payment-not-received" orders.
    auto current = co_await fetch_order(id, ref.ctx);
    if (!current) co_return current.error();
    if (!*current) co_return failure(*r);
    core::FulfillmentFact fact = wire::order_fact(**current);
    if (fact.status == core::FulfillmentStatus::canceled) co_return fact;
    co_return adapter_error(adapter_errc::invalid_state,
                            "Printify order " + id + " is '" + str(**current, "status") +
                                "'; only on-hold orders can be canceled",
                            409, "not_cancelable");
  }

  Task<AResult<WebhookResult>> verify_webhook(const WebhookRequest& request) override {
    co_return wire::parse_webhook(request, secret_);
  }

  Task<AResult<std::string>> test_credentials() override {
    auto req = make("GET", "/v1/shops.json", "", true, "shops.list", CallContext{});
    auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
    if (!r) co_return r.error();
    if (!r->ok()) co_return failure(*r);
    boost::system::error_code ec;
    bj::value shops = bj::parse(r->body, ec);
    if (ec || !shops.is_array()) co_return unreadable(*r);
    for (const auto& s : shops.as_array()) {
      if (s.is_object() && str(s.as_object(), "id") == settings_.shop_id) {
        co_return "Printify shop '" + str(s.as_object(), "title") + "' (" + settings_.shop_id + ")";
      }
    }
    co_return adapter_error(adapter_errc::rejected,
                            "the token works but sees no shop " + settings_.shop_id, 404);
  }

  Task<AResult<std::vector<ImportedProduct>>> import_products(
      const ImportRequest& request) override {
    std::string currency = request.currency.empty() ? settings_.currency : request.currency;
    std::vector<ImportedProduct> out;
    std::chrono::milliseconds patience = merch::kImportPatience;
    for (int page = 1; page <= 100 && out.size() < request.limit; ++page) {
      auto req = make("GET", shop_path("/products.json?limit=50&page=" + std::to_string(page)), "",
                      true, "products.list", request.ctx);
      auto r = co_await merch::send_within_rate_limit(*services_.http, std::move(req), kPartner,
                                                      patience, settings_.rate_limit_wait);
      if (!r) co_return r.error();
      if (!r->ok()) co_return failure(*r);
      const auto* data = r->json ? arr(*r->json, "data") : nullptr;
      if (!data) co_return unreadable(*r);
      for (const auto& p : *data) {
        if (!p.is_object()) continue;
        for (auto& v : wire::imported_variants(p.as_object(), currency)) {
          if (out.size() < request.limit) out.push_back(std::move(v));
        }
      }
      if (data->empty() || page >= int_or(*r->json, "last_page", page)) break;
    }
    co_return out;
  }

 private:
  std::string shop_path(const std::string& rest) const {
    return "/v1/shops/" + merch::path_segment(settings_.shop_id) + rest;
  }

  http::ClientRequest make(std::string method, std::string path, std::string body, bool idempotent,
                           std::string operation, const CallContext& ctx) const {
    http::ClientRequest req;
    req.method = std::move(method);
    req.url = merch::join_url(base_url_, path);
    req.headers.push_back({"authorization", "Bearer " + token_});
    if (!body.empty()) req.headers.push_back({"content-type", "application/json;charset=utf-8"});
    req.body = std::move(body);
    req.idempotent = idempotent;
    req.traceparent = ctx.traceparent;
    req.adapter = id();
    req.operation = std::move(operation);
    return req;
  }

  Task<AResult<std::optional<bj::object>>> fetch_order(const std::string& order_id,
                                                       const CallContext& ctx) {
    auto req = make("GET", shop_path("/orders/" + merch::path_segment(order_id) + ".json"), "",
                    true, "order.get", ctx);
    auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
    if (!r) co_return r.error();
    if (r->status == 404) co_return std::optional<bj::object>{};
    if (!r->ok()) co_return failure(*r);
    if (!r->json) co_return unreadable(*r);
    co_return std::optional<bj::object>(std::move(*r->json));
  }

  // Printify has no lookup by external id: page through the shop's recent orders.
  Task<AResult<std::optional<bj::object>>> find_by_external_id(const std::string& fid,
                                                               const CallContext& ctx) {
    for (int page = 1; page <= settings_.lookup_pages; ++page) {
      auto req = make("GET", shop_path("/orders.json?limit=10&page=" + std::to_string(page)), "",
                      true, "order.list", ctx);
      auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
      if (!r) co_return r.error();
      if (!r->ok()) co_return failure(*r);
      const auto* data = r->json ? arr(*r->json, "data") : nullptr;
      if (!data) co_return unreadable(*r);
      for (const auto& o : *data) {
        if (o.is_object() && wire::is_order_for(o.as_object(), fid)) {
          co_return std::optional<bj::object>(o.as_object());
        }
      }
      if (data->empty() || page >= int_or(*r->json, "last_page", page)) break;
    }
    co_return std::optional<bj::object>{};
  }

  // Printify keeps a refused order on hold, where the shop's approval settings may still send it
  // to production: it is canceled before the refusal is reported (and the buyer refunded). Until
  // the cancel is certain the job tries again; an order that moved on meanwhile is what it says.
  Task<AResult<core::FulfillmentFact>> cancel_refused(const OrderRequest& request,
                                                      const std::string& id, AdapterError refused) {
    OrderRef leftover{request.ctx, request.fulfillment_id, id};
    auto canceled = co_await cancel_order(leftover);
    if (canceled) {
      if (canceled->status == core::FulfillmentStatus::canceled) co_return refused;
      co_return *canceled;
    }
    if (is_retryable(canceled.error())) co_return canceled.error();
    if (canceled.error().is(adapter_errc::invalid_state)) co_return co_await get_order(leftover);
    co_return refused;
  }

  AdapterError failure(const merch::Reply& r) const {
    auto [message, code] = error_text(r);
    return merch::status_error(r, kPartner, message, code, services_.clock->now(),
                               settings_.rate_limit_wait);
  }

  AdapterError refusal(const merch::Reply& r) const {
    return merch::as_refusal(failure(r), "printify_refused");
  }

  static AdapterError unreadable(const merch::Reply& r) {
    return merch::unreadable(kPartner, r.status);
  }

  Settings settings_;
  std::string base_url_;
  std::string token_;
  std::string secret_;
  AdapterServices services_;
};

}  // namespace

Result<Settings> Settings::parse(const bj::object& o) {
  Settings s;
  s.shop_id = str(o, "shop_id");
  if (s.shop_id.empty()) {
    return make_error(errc::missing_field, "'settings.shop_id' is required", "settings.shop_id");
  }
  if (std::string c = str(o, "currency"); !c.empty()) s.currency = c;
  s.shipping_method = static_cast<int>(int_or(o, "shipping_method", 1));
  s.send_shipping_notification = merch::bool_or(o, "send_shipping_notification", false);
  s.table_quotes = str(o, "shipping_quotes") == "table";
  s.lookup_pages = static_cast<int>(int_or(o, "lookup_pages", 20));
  s.rate_limit_wait = std::chrono::milliseconds(int_or(o, "rate_limit_wait_ms", 60'000));
  return s;
}

AdapterType PrintifyFactory::type() {
  AdapterType t;
  t.name = kType;
  t.kind = Kind::fulfillment;
  t.description =
      "Printify print-on-demand (API v1, one shop): orders sent to production after payment, "
      "shipping.json quotes, product import, X-Pfy-Signature webhooks.";
  t.default_base_url = "https://api.printify.com";
  t.schema = schema_from(R"json({
    "credentials": {
      "type": "object", "additionalProperties": false, "required": ["api_token"],
      "properties": {
        "api_token": {"type": "string", "minLength": 1, "maxLength": 4000, "x-secret": true,
          "description": "Personal Access Token or OAuth access token (Authorization: Bearer)"},
        "webhook_secret": {"type": "string", "minLength": 1, "maxLength": 500, "x-secret": true,
          "description": "the secret given when creating the webhooks (X-Pfy-Signature)"}
      }
    },
    "settings": {
      "type": "object", "additionalProperties": false, "required": ["shop_id"],
      "properties": {
        "shop_id": {"type": "string", "minLength": 1, "maxLength": 32,
          "description": "the Printify shop (GET /v1/shops.json)"},
        "currency": {"type": "string", "minLength": 3, "maxLength": 3,
          "description": "the shop's currency; Printify amounts are its cents (default USD)"},
        "shipping_method": {"type": "integer", "minimum": 1, "maximum": 4,
          "description": "1 standard, 2 priority, 3 Printify Express, 4 economy (default 1)"},
        "send_shipping_notification": {"type": "boolean",
          "description": "Printify e-mails the buyer about shipping (default false)"},
        "shipping_quotes": {"type": "string", "enum": ["partner", "table"],
          "description": "partner: orders/shipping.json (default); table: the products' tables"},
        "lookup_pages": {"type": "integer", "minimum": 1, "maximum": 200,
          "description": "pages of 10 recent orders a retry searches (default 20)"},
        "rate_limit_wait_ms": {"type": "integer", "minimum": 0, "maximum": 3600000,
          "description": "wait after a 429 without Retry-After (default 60000)"}
      }
    }
  })json");
  t.create = [](const AdapterConfig& config,
                AdapterServices& services) -> Result<std::shared_ptr<Adapter>> {
    if (!services.http || !services.clock) {
      return make_error(errc::internal, "printify needs the HTTP client and a clock");
    }
    auto settings = Settings::parse(config.settings);
    if (!settings) return settings.error();
    return std::shared_ptr<Adapter>(std::make_shared<Printify>(
        config, std::move(*settings), str(config.credentials, "api_token"),
        str(config.credentials, "webhook_secret"), services));
  };
  return t;
}

}  // namespace mg::adapters::printify
