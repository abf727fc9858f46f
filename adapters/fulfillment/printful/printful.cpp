#include "adapters/fulfillment/printful/printful.hpp"

#include "adapters/fulfillment/support/partner_support.hpp"
#include "adapters/http/client.hpp"
#include "adapters/schema.hpp"
#include "gateway/core/crypto.hpp"
#include "gateway/core/json.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>

namespace mg::adapters::printful {
namespace bj = boost::json;
using merch::arr;
using merch::int_or;
using merch::obj;
using merch::str;

namespace {

constexpr std::string_view kPartner = "Printful";

// A v1 error body: {"code": 400, "result": "Invalid country", "error": {"reason", "message"}}.
std::pair<std::string, std::string> error_text(const merch::Reply& r) {
  if (!r.json) return {r.body.substr(0, 200), {}};
  std::string message, reason;
  if (const auto* e = obj(*r.json, "error")) {
    message = str(*e, "message");
    reason = str(*e, "reason");
  }
  if (message.empty()) message = str(*r.json, "result");
  if (message.empty()) message = str(*r.json, "detail");  // v2 problem+json
  return {message, reason};
}

const bj::object* result_object(const merch::Reply& r) {
  return r.json ? obj(*r.json, "result") : nullptr;
}

std::string line_id(const OrderLine& l, std::string_view key) {
  auto id = merch::spec_id(l.spec, key);
  return id ? *id : std::string();
}

// Printful wants numeric ids as numbers.
bj::value id_value(const std::string& id) {
  bool digits = !id.empty() && id.size() < 18 &&
                std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
  return digits ? bj::value(std::stoll(id)) : bj::value(id);
}

bj::object recipient(const core::Address& a, std::string_view email) {
  bj::object r{{"name", a.name},
               {"address1", a.line1},
               {"city", a.city},
               {"country_code", a.country},
               {"zip", a.postal_code}};
  if (a.line2 && !a.line2->empty()) r["address2"] = *a.line2;
  if (a.state && !a.state->empty()) r["state_code"] = *a.state;
  if (!email.empty()) r["email"] = email;
  return r;
}

}  // namespace

namespace wire {

bj::object order_body(const OrderRequest& request, const Settings& settings) {
  bj::array items;
  for (const auto& l : request.lines) {
    bj::object item{{"external_id", l.sku},
                    {"quantity", l.quantity},
                    {"name", l.title},
                    {"retail_price", merch::minor_to_decimal(l.unit_amount, request.currency)}};
    std::string sync = line_id(l, "sync_variant");
    if (!sync.empty()) {
      item["sync_variant_id"] = id_value(sync);
    } else {
      item["variant_id"] = id_value(line_id(l, "variant"));
    }
    if (const auto* files = arr(l.spec, "files")) {
      bj::array out;
      for (const auto& f : *files) {
        if (!f.is_object()) continue;
        bj::object file{{"url", str(f.as_object(), "url")}};
        if (std::string t = str(f.as_object(), "type"); !t.empty()) file["type"] = t;
        out.push_back(std::move(file));
      }
      if (!out.empty()) item["files"] = std::move(out);
    }
    if (const auto* options = arr(l.spec, "options")) item["options"] = *options;
    items.push_back(std::move(item));
  }
  return bj::object{
      {"external_id", request.fulfillment_id},
      {"shipping", settings.shipping},
      {"recipient", recipient(request.address, request.buyer_email)},
      {"items", std::move(items)},
      {"retail_costs", bj::object{{"currency", request.currency},
                                  {"shipping", merch::minor_to_decimal(request.amount_shipping,
                                                                       request.currency)}}}};
}

std::optional<bj::object> rates_body(const QuoteRequest& request) {
  bj::array items;
  for (const auto& l : request.lines) {
    std::string variant = line_id(l, "variant");
    if (variant.empty()) return std::nullopt;
    items.push_back(bj::object{{"variant_id", id_value(variant)}, {"quantity", l.quantity}});
  }
  bj::object r{{"address1", request.address.line1},
               {"city", request.address.city},
               {"country_code", request.address.country},
               {"zip", request.address.postal_code}};
  if (request.address.state && !request.address.state->empty()) {
    r["state_code"] = *request.address.state;
  }
  return bj::object{{"recipient", std::move(r)},
                    {"items", std::move(items)},
                    {"currency", request.currency},
                    {"locale", "en_US"}};
}

AResult<Quote> pick_rate(const bj::value& result, const Settings& settings,
                         const std::string& currency) {
  if (!result.is_array() || result.as_array().empty()) {
    return adapter_error(adapter_errc::refused, "Printful offers no shipping to this address", 0,
                         "no_rates");
  }
  const bj::object* chosen = nullptr;
  std::optional<std::int64_t> chosen_amount;
  for (const auto& v : result.as_array()) {
    if (!v.is_object()) continue;
    const auto& rate = v.as_object();
    std::string rate_currency = str(rate, "currency");
    const auto* amount_v = rate.if_contains("rate");
    auto amount = amount_v ? merch::number_to_minor(*amount_v, rate_currency) : std::nullopt;
    if (!amount || rate_currency != currency) continue;
    if (str(rate, "id") == settings.shipping) {
      chosen = &rate;
      chosen_amount = amount;
      break;
    }
    if (!chosen_amount || *amount < *chosen_amount) {
      chosen = &rate;
      chosen_amount = amount;
    }
  }
  if (!chosen) {
    return adapter_error(adapter_errc::partner_error,
                         "Printful quoted no shipping rate in " + currency, 0, "currency");
  }
  return Quote{*chosen_amount, currency, str(*chosen, "id")};
}

core::FulfillmentStatus map_status(std::string_view s) {
  using S = core::FulfillmentStatus;
  if (s == "inprocess") return S::in_production;
  // partial: some packages left, others are still being made. The order is shipped only when
  // its last package is; each package is announced as it leaves.
  if (s == "partial") return S::in_production;
  if (s == "fulfilled") return S::shipped;
  if (s == "failed") return S::failed;
  if (s == "canceled") return S::canceled;
  // draft, pending, onhold (Printful support must act; no progress), archived, unknown.
  return S::submitted;
}

namespace {

// What the shipments held, by the `external_id` merchgate gives every item (the line's sku);
// nullopt when a shipment lists no items or an item merchgate did not send (then it is unknown).
std::optional<std::map<std::string, std::int64_t>> shipped_lines(const bj::object& order) {
  std::map<std::string, std::string> sku_of;  // Printful's item id -> merchgate's sku
  if (const auto* items = arr(order, "items")) {
    for (const auto& v : *items) {
      if (v.is_object()) sku_of[str(v.as_object(), "id")] = str(v.as_object(), "external_id");
    }
  }
  std::map<std::string, std::int64_t> shipped;
  const auto* shipments = arr(order, "shipments");
  if (!shipments) return shipped;
  for (const auto& v : *shipments) {
    if (!v.is_object()) continue;
    const auto* held = arr(v.as_object(), "items");
    if (!held || held->empty()) return std::nullopt;
    // A reshipment replaces goods already counted in the shipment that was lost.
    bool reshipment = merch::bool_or(v.as_object(), "reshipment", false);
    for (const auto& h : *held) {
      if (!h.is_object()) return std::nullopt;
      auto sku = sku_of.find(str(h.as_object(), "item_id"));
      if (sku == sku_of.end() || sku->second.empty()) return std::nullopt;
      std::int64_t quantity = std::max<std::int64_t>(int_or(h.as_object(), "quantity", 0), 0);
      if (!reshipment) shipped[sku->second] += quantity;
    }
  }
  return shipped;
}

}  // namespace

core::FulfillmentFact order_fact(const bj::object& order) {
  core::FulfillmentFact fact;
  fact.reference = str(order, "id");
  fact.status = map_status(str(order, "status"));
  fact.shipped = shipped_lines(order);
  if (const auto* shipments = arr(order, "shipments")) {
    for (const auto& v : *shipments) {
      if (!v.is_object()) continue;
      const auto& s = v.as_object();
      core::Shipment sh;
      sh.carrier = str(s, "carrier");
      if (std::string service = str(s, "service"); !service.empty() && sh.carrier.empty()) {
        sh.carrier = service;
      }
      sh.tracking_number = str(s, "tracking_number");
      if (sh.tracking_number == "0") sh.tracking_number.clear();
      sh.tracking_url = str(s, "tracking_url");
      sh.shipped_at = int_or(s, "shipped_at", 0) * 1000;
      if (sh.tracking_number.empty()) sh.tracking_number = "printful-shipment-" + str(s, "id");
      fact.shipments.push_back(std::move(sh));
    }
  }
  if (fact.status == core::FulfillmentStatus::failed) {
    fact.failure_code = "printful_failed";
    fact.failure_message = "Printful could not fulfill order " + fact.reference;
  } else if (fact.status == core::FulfillmentStatus::canceled) {
    fact.failure_code = "printful_canceled";
    fact.failure_message = "Printful canceled order " + fact.reference;
  }
  return fact;
}

std::vector<std::string> webhook_keys(std::string_view secret) {
  std::vector<std::string> keys;
  if (secret.empty()) return keys;
  if (secret.size() % 2 == 0 && secret.size() >= 32) {
    if (auto raw = core::hex_decode(secret)) keys.push_back(std::move(*raw));
  }
  keys.emplace_back(secret);
  return keys;
}

namespace {

bool is_order_event(std::string_view type) {
  return type.starts_with("order_") || type.starts_with("package_") ||
         type.starts_with("shipment_");
}

AResult<WebhookResult> one_event(InboundEvent e) {
  WebhookResult r;
  r.events.push_back(std::move(e));
  return r;
}

// v2: signed, so what it says about an order is applied as it is.
AResult<WebhookResult> parse_v2(const bj::object& body) {
  std::string type = str(body, "type");
  const bj::object* data = obj(body, "data");
  InboundEvent e;
  e.type = type;
  if (!data || !is_order_event(type)) {
    e.partner_event_id = "pf2:" + type + ":" + str(body, "occurred_at");
    return one_event(std::move(e));  // ignored
  }
  const bj::object* order = obj(*data, "order");
  const bj::object* shipment = obj(*data, "shipment");
  e.kind = InboundEvent::Kind::fulfillment;
  if (order) {
    e.order_reference = str(*order, "id");
    e.fulfillment_id = str(*order, "external_id");
  }
  if (shipment) {
    if (e.order_reference.empty()) e.order_reference = str(*shipment, "order_id");
    if (e.fulfillment_id.empty()) e.fulfillment_id = str(*shipment, "order_external_id");
  }
  if (e.order_reference.empty()) e.order_reference = str(*data, "order_id");
  if (e.order_reference.empty() && e.fulfillment_id.empty()) {
    return adapter_error(adapter_errc::malformed_webhook, "Printful webhook names no order", 400);
  }
  e.partner_event_id = "pf2:" + type + ":" + e.order_reference + ":" + str(body, "occurred_at") +
                       (shipment ? ":" + str(*shipment, "id") : std::string());
  if (type == "shipment_sent") {
    // One package left, which says nothing about the rest of the order (it may ship in several):
    // read the order, whose status and shipments say both.
    e.action = "sync";
  } else if (order && !str(*order, "status").empty()) {
    core::FulfillmentFact fact = order_fact(*order);
    if (type == "order_failed" || type == "order_canceled") {
      if (std::string reason = str(*data, "reason"); !reason.empty()) {
        fact.failure_message = reason;
      }
    }
    e.fulfillment = std::move(fact);
  } else {
    e.action = "sync";  // signed, but not a shape merchgate reads: ask the API
  }
  return one_event(std::move(e));
}

// v1: unsigned, so only a hint: merchgate reads the order back and applies what the API says.
AResult<WebhookResult> parse_v1(const bj::object& body) {
  std::string type = str(body, "type");
  const bj::object* data = obj(body, "data");
  InboundEvent e;
  e.type = type;
  if (!data || !is_order_event(type)) {
    e.partner_event_id = "pf1:" + type + ":" + str(body, "created");
    return one_event(std::move(e));  // ignored
  }
  const bj::object* order = obj(*data, "order");
  if (!order || (str(*order, "id").empty() && str(*order, "external_id").empty())) {
    return adapter_error(adapter_errc::malformed_webhook, "Printful webhook lacks data.order", 400);
  }
  e.kind = InboundEvent::Kind::fulfillment;
  e.order_reference = str(*order, "id");
  e.fulfillment_id = str(*order, "external_id");
  e.action = "sync";
  const bj::object* shipment = obj(*data, "shipment");
  e.partner_event_id = "pf1:" + type + ":" + e.order_reference + ":" + str(body, "created") +
                       (shipment ? ":" + str(*shipment, "id") : std::string());
  return one_event(std::move(e));
}

}  // namespace

AResult<WebhookResult> parse_webhook(const WebhookRequest& request,
                                     const std::vector<std::string>& keys) {
  auto body = merch::parse_object(request.body);
  std::string_view signature = request.header("x-pf-webhook-signature");
  if (!signature.empty()) {
    if (keys.empty()) {
      return adapter_error(adapter_errc::invalid_webhook,
                           "signed Printful webhook, but this adapter has no webhook_secret", 401);
    }
    bool valid = std::any_of(keys.begin(), keys.end(), [&](const std::string& k) {
      return merch::hmac_hex_matches(k, request.body, signature);
    });
    if (!valid) {
      return adapter_error(adapter_errc::invalid_webhook,
                           "x-pf-webhook-signature does not match the body", 401);
    }
    if (!body) return adapter_error(adapter_errc::malformed_webhook, "body is not JSON", 400);
    return parse_v2(*body);
  }
  if (!body) return adapter_error(adapter_errc::malformed_webhook, "body is not JSON", 400);
  return parse_v1(*body);
}

std::vector<ImportedProduct> imported_variants(const bj::object& result) {
  std::vector<ImportedProduct> out;
  const bj::object* product = obj(result, "sync_product");
  const bj::array* variants = arr(result, "sync_variants");
  if (!product || !variants) return out;
  std::string product_id = str(*product, "id");
  for (const auto& v : *variants) {
    if (!v.is_object()) continue;
    const auto& sv = v.as_object();
    if (merch::bool_or(sv, "is_ignored", false)) continue;
    ImportedProduct p;
    std::string id = str(sv, "id");
    std::string sku = str(sv, "sku");
    p.sku = merch::valid_sku(sku) ? sku : "printful-" + id;
    p.title = str(sv, "name");
    if (p.title.empty()) p.title = str(*product, "name");
    p.currency = str(sv, "currency");
    if (const auto* price = sv.if_contains("retail_price"); price && !p.currency.empty()) {
      p.unit_amount = merch::number_to_minor(*price, p.currency);
    }
    p.group = "printful-" + product_id;
    if (std::string size = str(sv, "size"); !size.empty()) p.options["size"] = size;
    if (std::string color = str(sv, "color"); !color.empty()) p.options["color"] = color;
    std::string thumb = str(*product, "thumbnail_url");
    if (const auto* catalog = obj(sv, "product")) {
      std::string image = str(*catalog, "image");
      if (image.starts_with("https://")) p.images.push_back(image);
      p.fulfillment["product"] = str(*catalog, "product_id");
      p.fulfillment["variant"] = str(*catalog, "variant_id");
    }
    if (p.images.empty() && thumb.starts_with("https://")) p.images.push_back(thumb);
    std::string status = str(sv, "availability_status");
    p.available = status.empty() || status == "active";
    p.fulfillment["sync_variant"] = id;
    if (p.fulfillment.if_contains("variant") && str(p.fulfillment, "variant").empty()) {
      p.fulfillment.erase("variant");
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace wire

namespace {

class Printful final : public FulfillmentAdapter {
 public:
  Printful(const AdapterConfig& config, Settings settings, std::string token,
           std::vector<std::string> keys, AdapterServices services)
      : FulfillmentAdapter(config.id),
        settings_(std::move(settings)),
        base_url_(config.base_url),
        token_(std::move(token)),
        keys_(std::move(keys)),
        services_(std::move(services)) {}

  std::string_view type() const noexcept override { return PrintfulFactory::kType; }

  Result<void> validate_product(const bj::object& spec) const override {
    if (auto r = core::json::only_keys(spec,
                                       {"adapter", "product", "variant", "sync_variant", "files",
                                        "options", "shipping", "shipping_additional"},
                                       "fulfillment");
        !r) {
      return r.error();
    }
    auto variant = merch::spec_id(spec, "variant");
    if (!variant) return variant.error();
    auto sync = merch::spec_id(spec, "sync_variant");
    if (!sync) return sync.error();
    if (auto p = merch::spec_id(spec, "product"); !p) return p.error();
    if (variant->empty() && sync->empty()) {
      return make_error(errc::missing_field,
                        "a Printful product needs 'sync_variant' (a sync variant id) or "
                        "'variant' (a catalog variant id) with 'files'",
                        "fulfillment.variant");
    }
    if (sync->empty()) {
      const auto* files = arr(spec, "files");
      if (!files || files->empty()) {
        return make_error(errc::missing_field,
                          "a Printful catalog 'variant' needs the print 'files' to print",
                          "fulfillment.files");
      }
    }
    if (auto r = merch::validate_files(spec, "type"); !r) return r.error();
    if (const auto* o = spec.if_contains("options"); o && !o->is_array()) {
      return make_error(errc::invalid_field, "'fulfillment.options' is Printful's options list",
                        "fulfillment.options");
    }
    return merch::validate_shipping_table(spec);
  }

  Task<AResult<Quote>> quote_shipping(const QuoteRequest& request) override {
    auto body = wire::rates_body(request);
    if (settings_.table_quotes || !body) {
      co_return merch::table_quote_or_error(
          request, settings_.table_quotes ? "quotes come from the shipping tables"
                                          : "a line has no catalog 'variant' to rate");
    }
    auto req =
        make("POST", "/shipping/rates", bj::serialize(*body), true, "shipping.rates", request.ctx);
    auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
    if (!r) co_return r.error();
    if (!r->ok()) co_return failure(*r);
    const auto* result = r->json ? r->json->if_contains("result") : nullptr;
    if (!result) co_return unreadable(*r);
    auto quote = wire::pick_rate(*result, settings_, request.currency);
    if (!quote && quote.error().partner_code == "currency") {
      if (auto table = merch::table_quote(request.lines, request.currency)) {
        co_return Quote{*table, request.currency, "table"};
      }
    }
    co_return quote;
  }

  Task<AResult<core::FulfillmentFact>> create_order(const OrderRequest& request) override {
    // A retry (after a crash, or a lost answer) finds the order made before by merchgate's
    // external id; a first try skips the lookup (update_existing covers a draft either way).
    std::optional<bj::object> existing;
    if (request.ctx.attempt != 1) {
      std::string by_external = "@" + request.fulfillment_id;
      auto found = co_await fetch_order(by_external, request.ctx);
      if (!found) co_return found.error();
      existing = std::move(*found);
    }
    bj::object order;
    if (existing) {
      order = std::move(*existing);
    } else {
      auto req = make("POST", "/orders?confirm=false&update_existing=true",
                      bj::serialize(wire::order_body(request, settings_)), true, "order.create",
                      request.ctx);
      auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
      if (!r) co_return r.error();
      if (!r->ok()) co_return refusal(*r);
      const auto* created = result_object(*r);
      if (!created) co_return unreadable(*r);
      order = *created;
    }
    if (str(order, "status") == "draft") {
      std::string confirm = "/orders/" + merch::path_segment(str(order, "id")) + "/confirm";
      auto req = make("POST", confirm, "", false, "order.confirm", request.ctx);
      auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
      if (!r) co_return r.error();
      if (r->ok() && result_object(*r)) {
        order = *result_object(*r);
      } else if (r->status >= 500 || r->status == 429) {
        co_return failure(*r);
      } else {
        // Confirmed meanwhile by an earlier try, or refused: the order itself says which.
        std::string id = str(order, "id");
        auto again = co_await fetch_order(id, request.ctx);
        if (!again) co_return again.error();
        if (!*again || str(**again, "status") == "draft") co_return refusal(*r);
        order = std::move(**again);
      }
    }
    co_return wire::order_fact(order);
  }

  Task<AResult<core::FulfillmentFact>> get_order(const OrderRef& ref) override {
    std::string id = ref.reference.empty() ? "@" + ref.fulfillment_id : ref.reference;
    auto order = co_await fetch_order(id, ref.ctx);
    if (!order) co_return order.error();
    if (!*order) {
      co_return adapter_error(adapter_errc::not_found, "Printful has no order " + id, 404);
    }
    co_return wire::order_fact(**order);
  }

  Task<AResult<core::FulfillmentFact>> cancel_order(const OrderRef& ref) override {
    std::string id = ref.reference.empty() ? "@" + ref.fulfillment_id : ref.reference;
    auto req =
        make("DELETE", "/orders/" + merch::path_segment(id), "", true, "order.cancel", ref.ctx);
    auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
    if (!r) co_return r.error();
    if (r->ok() && result_object(*r)) co_return wire::order_fact(*result_object(*r));
    if (r->status >= 500 || r->status == 429 || r->status == 401 || r->status == 403) {
      co_return failure(*r);
    }
    // Printful cancels pending orders and drafts only: say why, from the order itself.
    auto order = co_await fetch_order(id, ref.ctx);
    if (!order) co_return order.error();
    if (!*order) co_return failure(*r);
    core::FulfillmentFact fact = wire::order_fact(**order);
    if (fact.status == core::FulfillmentStatus::canceled) co_return fact;
    co_return adapter_error(adapter_errc::invalid_state,
                            "Printful order " + fact.reference + " is '" + str(**order, "status") +
                                "' and can no longer be canceled",
                            409, "not_cancelable");
  }

  Task<AResult<WebhookResult>> verify_webhook(const WebhookRequest& request) override {
    co_return wire::parse_webhook(request, keys_);
  }

  Task<AResult<std::string>> test_credentials() override {
    auto req = make("GET", "/store", "", true, "store.get", CallContext{});
    auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
    if (!r) co_return r.error();
    if (!r->ok()) co_return failure(*r);
    const auto* store = result_object(*r);
    if (!store) co_return unreadable(*r);
    co_return "Printful store '" + str(*store, "name") + "' (" + str(*store, "id") + ")";
  }

  Task<AResult<std::vector<ImportedProduct>>> import_products(
      const ImportRequest& request) override {
    std::vector<ImportedProduct> out;
    std::int64_t offset = 0;
    // One call per sync product: a store of more than ~100 meets Printful's 120 calls a minute,
    // so the import waits out its 429s (Retry-After) for a while instead of failing.
    std::chrono::milliseconds patience = merch::kImportPatience;
    for (int page = 0; page < 100 && out.size() < request.limit; ++page) {
      std::string path = "/store/products?limit=100&offset=" + std::to_string(offset);
      auto req = make("GET", path, "", true, "products.list", request.ctx);
      auto r = co_await merch::send_within_rate_limit(*services_.http, std::move(req), kPartner,
                                                      patience, settings_.rate_limit_wait);
      if (!r) co_return r.error();
      if (!r->ok()) co_return failure(*r);
      const auto* list = r->json ? arr(*r->json, "result") : nullptr;
      if (!list) co_return unreadable(*r);
      for (const auto& p : *list) {
        if (!p.is_object() || out.size() >= request.limit) continue;
        if (merch::bool_or(p.as_object(), "is_ignored", false)) continue;
        std::string one = "/store/products/" + merch::path_segment(str(p.as_object(), "id"));
        auto get = make("GET", one, "", true, "products.get", request.ctx);
        auto detail = co_await merch::send_within_rate_limit(
            *services_.http, std::move(get), kPartner, patience, settings_.rate_limit_wait);
        if (!detail) co_return detail.error();
        if (!detail->ok()) co_return failure(*detail);
        const auto* result = result_object(*detail);
        if (!result) co_return unreadable(*detail);
        for (auto& v : wire::imported_variants(*result)) {
          if (out.size() < request.limit) out.push_back(std::move(v));
        }
      }
      const auto* paging = obj(*r->json, "paging");
      offset += static_cast<std::int64_t>(list->size());
      if (list->empty() || !paging || offset >= int_or(*paging, "total", 0)) break;
    }
    co_return out;
  }

 private:
  http::ClientRequest make(std::string method, std::string path, std::string body, bool idempotent,
                           std::string operation, const CallContext& ctx) const {
    http::ClientRequest req;
    req.method = std::move(method);
    req.url = merch::join_url(base_url_, path);
    req.headers.push_back({"authorization", "Bearer " + token_});
    if (!settings_.store_id.empty()) req.headers.push_back({"x-pf-store-id", settings_.store_id});
    if (!body.empty()) req.headers.push_back({"content-type", "application/json"});
    req.headers.push_back({"accept", "application/json"});
    req.body = std::move(body);
    req.idempotent = idempotent;
    req.traceparent = ctx.traceparent;
    req.adapter = id();
    req.operation = std::move(operation);
    return req;
  }

  // GET /orders/{id}: the order, nullopt when Printful does not know it.
  Task<AResult<std::optional<bj::object>>> fetch_order(const std::string& order_id,
                                                       const CallContext& ctx) {
    auto req = make("GET", "/orders/" + merch::path_segment(order_id), "", true, "order.get", ctx);
    auto r = co_await merch::send(*services_.http, std::move(req), kPartner);
    if (!r) co_return r.error();
    if (r->status == 404) co_return std::optional<bj::object>{};
    if (!r->ok()) co_return failure(*r);
    const auto* order = result_object(*r);
    if (!order) co_return unreadable(*r);
    co_return std::optional<bj::object>(*order);
  }

  AdapterError failure(const merch::Reply& r) const {
    auto [message, reason] = error_text(r);
    return merch::status_error(r, kPartner, message, reason, services_.clock->now(),
                               settings_.rate_limit_wait);
  }

  // Creating or confirming failed: a 4xx about the order itself is Printful refusing it.
  AdapterError refusal(const merch::Reply& r) const {
    return merch::as_refusal(failure(r), "printful_refused");
  }

  static AdapterError unreadable(const merch::Reply& r) {
    return merch::unreadable(kPartner, r.status);
  }

  Settings settings_;
  std::string base_url_;
  std::string token_;
  std::vector<std::string> keys_;
  AdapterServices services_;
};

}  // namespace

Result<Settings> Settings::parse(const bj::object& o) {
  Settings s;
  s.store_id = str(o, "store_id");
  if (std::string v = str(o, "shipping"); !v.empty()) s.shipping = v;
  s.table_quotes = str(o, "shipping_quotes") == "table";
  s.rate_limit_wait = std::chrono::milliseconds(int_or(o, "rate_limit_wait_ms", 60'000));
  return s;
}

AdapterType PrintfulFactory::type() {
  AdapterType t;
  t.name = kType;
  t.kind = Kind::fulfillment;
  t.description =
      "Printful print-on-demand (API v1): draft orders confirmed after payment, shipping rates, "
      "sync-product import; v2 webhooks signed, v1 webhooks verified by reading the order back.";
  t.default_base_url = "https://api.printful.com";
  t.schema = schema_from(R"json({
    "credentials": {
      "type": "object", "additionalProperties": false, "required": ["api_token"],
      "properties": {
        "api_token": {"type": "string", "minLength": 1, "maxLength": 500, "x-secret": true,
          "description": "private token or OAuth access token (Authorization: Bearer)"},
        "webhook_secret": {"type": "string", "minLength": 1, "maxLength": 500, "x-secret": true,
          "description": "v2 webhook secret_key (hex) that signs x-pf-webhook-signature"}
      }
    },
    "settings": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "store_id": {"type": "string", "minLength": 1, "maxLength": 32,
          "description": "sent as X-PF-Store-Id (required with account-level tokens)"},
        "shipping": {"type": "string", "minLength": 1, "maxLength": 64,
          "description": "Printful shipping method for orders and quotes (default STANDARD)"},
        "shipping_quotes": {"type": "string", "enum": ["partner", "table"],
          "description": "partner: POST /shipping/rates (default); table: the products' tables"},
        "rate_limit_wait_ms": {"type": "integer", "minimum": 0, "maximum": 3600000,
          "description": "wait after a 429 without Retry-After (default 60000)"}
      }
    }
  })json");
  t.create = [](const AdapterConfig& config,
                AdapterServices& services) -> Result<std::shared_ptr<Adapter>> {
    if (!services.http || !services.clock) {
      return make_error(errc::internal, "printful needs the HTTP client and a clock");
    }
    auto settings = Settings::parse(config.settings);
    if (!settings) return settings.error();
    std::string token = str(config.credentials, "api_token");
    std::vector<std::string> keys = wire::webhook_keys(str(config.credentials, "webhook_secret"));
    return std::shared_ptr<Adapter>(std::make_shared<Printful>(
        config, std::move(*settings), std::move(token), std::move(keys), services));
  };
  return t;
}

}  // namespace mg::adapters::printful
