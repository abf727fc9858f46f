#include "tools/sim/printify_sim.hpp"

#include "gateway/core/crypto.hpp"
#include "tools/sim/merch_sim.hpp"

#include <boost/json/serialize.hpp>

namespace mg::sim {
namespace {

namespace bj = boost::json;
using merch::Order;
using merch::Stage;
using merch::str;

// Printify's timestamps: "2017-04-18 13:24:28+00:00".
std::string pfy_time(std::int64_t ms) {
  std::string iso = merch::iso_time(ms);  // 2017-04-18T13:24:28Z
  return iso.substr(0, 10) + " " + iso.substr(11, 8) + "+00:00";
}

http::Response pfy_error(int status, int code, std::string message, std::string reason = {}) {
  bj::object body{{"status", "error"}, {"code", code}, {"message", message}};
  if (!reason.empty()) body["errors"] = bj::object{{"reason", reason}, {"code", code}};
  return json_reply(status, body);
}

std::string_view pfy_status(const Order& o) {
  switch (o.stage) {
    case Stage::draft:
      return "on-hold";
    case Stage::submitted:
      return "sending-to-production";
    case Stage::in_production:
      return "in-production";
    case Stage::shipped:
      return o.partial ? "partially-fulfilled" : "fulfilled";
    case Stage::delivered:
      return "fulfilled";
    case Stage::canceled:
      return "canceled";
    case Stage::failed:
      return "had-issues";
  }
  return "pending";
}

bj::object order_json(const Order& o) {
  bj::array shipments;
  for (const auto& p : o.packages) {
    shipments.push_back(bj::object{
        {"carrier", p.carrier},
        {"number", p.tracking_number},
        {"url", p.tracking_url},
        {"delivered_at", o.stage == Stage::delivered ? bj::value(pfy_time(p.shipped_at_ms + 1000))
                                                     : bj::value(nullptr)}});
  }
  // Each line item is `fulfilled` once all its units left; the others keep the order's status
  // (`in-production` while the order is partially-fulfilled). The request's external_id comes
  // back in the line item's metadata.
  bj::array line_items;
  if (const auto* items = o.request.if_contains("line_items"); items && items->is_array()) {
    for (const auto& it : items->as_array()) {
      if (!it.is_object()) continue;
      bj::object li = it.as_object();
      std::size_t index = line_items.size();
      bool left = merch::units_shipped(o, index) >= merch::num(li, "quantity", 1);
      bj::object metadata{{"title", "Sim item"}, {"price", 2200}, {"country", "Italy"}};
      if (const auto* external = li.if_contains("external_id")) metadata["external_id"] = *external;
      li.erase("external_id");
      li["print_provider_id"] = 5;
      li["cost"] = 1050;
      li["shipping_cost"] = 400;
      li["status"] = left ? "fulfilled" : o.partial ? "in-production" : pfy_status(o);
      li["metadata"] = std::move(metadata);
      li["fulfilled_at"] = left ? bj::value(pfy_time(o.packages.back().shipped_at_ms)) : nullptr;
      line_items.push_back(std::move(li));
    }
  }
  const auto* address = o.request.if_contains("address_to");
  bj::object order{{"id", o.id},
                   {"address_to", address ? *address : bj::value(bj::object{})},
                   {"line_items", std::move(line_items)},
                   {"metadata", bj::object{{"order_type", "api"},
                                           {"shop_order_id", o.external_id},
                                           {"shop_order_label", str(o.request, "label")},
                                           {"shop_fulfilled_at", "1970-01-01 00:00:00+00:00"}}},
                   {"total_price", 2200},
                   {"total_shipping", 400},
                   {"total_tax", 0},
                   {"status", pfy_status(o)},
                   {"shipping_method", merch::num(o.request, "shipping_method", 1)},
                   {"is_printify_express", false},
                   {"is_economy_shipping", false},
                   {"shipments", std::move(shipments)},
                   {"created_at", pfy_time(o.created_ms)}};
  if (o.confirmed_ms) order["sent_to_production_at"] = pfy_time(o.confirmed_ms);
  return order;
}

bj::object product_json(std::string id, std::string title, std::int64_t price,
                        std::vector<std::pair<int, std::string>> variants) {
  bj::array vs, values;
  for (const auto& [vid, size] : variants) {
    vs.push_back(bj::object{{"id", vid},
                            {"sku", title == "Sim hoodie" ? "" : "pfy-" + std::to_string(vid)},
                            {"cost", price / 2},
                            {"price", price},
                            {"title", size},
                            {"grams", 300},
                            {"is_enabled", true},
                            {"is_default", false},
                            {"is_available", true},
                            {"options", bj::array{vid + 100000}}});
    values.push_back(bj::object{{"id", vid + 100000}, {"title", size}});
  }
  return bj::object{
      {"id", id},
      {"title", title},
      {"description", "A simulated Printify product"},
      {"options", bj::array{bj::object{{"name", "Sizes"}, {"type", "size"}, {"values", values}}}},
      {"variants", std::move(vs)},
      {"images", bj::array{bj::object{{"src", "https://images-api.printify.com/sim/" + id + ".png"},
                                      {"variant_ids", bj::array{}},
                                      {"position", "front"},
                                      {"is_default", true}}}},
      {"blueprint_id", 6},
      {"print_provider_id", 5}};
}

class PrintifySim final : public merch::OrderBookSim {
 public:
  explicit PrintifySim(Context& ctx) : OrderBookSim(ctx, "") {}

  http::Response unavailable() const override {
    return pfy_error(503, 9999, "Service Unavailable");
  }

 private:
  http::Response route(const http::Request& req) override {
    if (!merch::bearer_ok(req)) return json_reply(401, bj::object{{"error", "Unauthenticated."}});
    auto s = merch::segments(req.path);
    const std::string& m = req.method;
    if (s.size() == 2 && s[0] == "v1" && s[1] == "shops.json" && m == "GET") return shops();
    if (s.size() < 4 || s[0] != "v1" || s[1] != "shops") {
      return pfy_error(404, 404, "Not found");
    }
    const std::string& shop = s[2];
    if (s.size() == 4 && s[3] == "orders.json" && m == "POST") return create(req, shop);
    if (s.size() == 4 && s[3] == "orders.json" && m == "GET") return list(req, shop);
    if (s.size() == 4 && s[3] == "products.json" && m == "GET") return products(req);
    if (s.size() == 5 && s[3] == "orders" && s[4] == "shipping.json" && m == "POST") {
      return shipping(req);
    }
    if (s.size() == 5 && s[3] == "orders" && s[4].ends_with(".json") && m == "GET") {
      auto o = book_.find(s[4].substr(0, s[4].size() - 5));
      if (!o || o->scope != shop) return pfy_error(404, 404, "Order not found.");
      return json_reply(200, order_json(*o));
    }
    if (s.size() == 6 && s[3] == "orders" && s[5] == "send_to_production.json" && m == "POST") {
      return send_to_production(s[4], shop);
    }
    if (s.size() == 6 && s[3] == "orders" && s[5] == "cancel.json" && m == "POST") {
      return cancel(s[4], shop);
    }
    return pfy_error(404, 404, "Not found");
  }

  static http::Response shops() {
    http::Response r;
    r.set_header("content-type", "application/json");
    r.body = bj::serialize(bj::array{bj::object{
        {"id", 1234}, {"title", "merchgate-sim shop"}, {"sales_channel", "custom_integration"}}});
    return r;
  }

  http::Response create(const http::Request& req, const std::string& shop) {
    auto body = merch::body_object(req);
    if (!body) return pfy_error(400, 8100, "Validation failed.", "Malformed JSON");
    const auto* address = body->if_contains("address_to");
    const auto* items = body->if_contains("line_items");
    if (!address || !address->is_object() || !items || !items->is_array() ||
        items->as_array().empty() || str(*body, "external_id").empty()) {
      return pfy_error(400, 8103, "Validation failed.",
                       R"({"line_items":["The line items field is required."]})");
    }
    if (str(address->as_object(), "country") == merch::kUnshippableCountry) {
      return pfy_error(400, 8103, "Validation failed.",
                       R"({"address_to.country":["Shipping to this country is not available."]})");
    }
    Order o;
    o.external_id = str(*body, "external_id");
    o.scope = shop;
    o.request = *body;
    o.item_quantities = merch::quantities(items);
    o.carrier = "usps";
    Order stored = book_.add(std::move(o));
    return json_reply(200, bj::object{{"id", stored.id}});
  }

  http::Response list(const http::Request& req, const std::string& shop) const {
    std::int64_t page = std::max<std::int64_t>(
        1, std::atoll(std::string(req.query_param("page").value_or("1")).c_str()));
    std::int64_t limit = std::clamp<std::int64_t>(
        std::atoll(std::string(req.query_param("limit").value_or("10")).c_str()), 1, 10);
    auto all = book_.list(shop);
    bj::array data;
    for (std::int64_t i = (page - 1) * limit;
         i < static_cast<std::int64_t>(all.size()) && i < page * limit; ++i) {
      data.push_back(order_json(all[static_cast<std::size_t>(i)]));
    }
    std::int64_t last =
        std::max<std::int64_t>(1, (static_cast<std::int64_t>(all.size()) + limit - 1) / limit);
    return json_reply(200, bj::object{{"current_page", page},
                                      {"data", std::move(data)},
                                      {"last_page", last},
                                      {"per_page", limit},
                                      {"total", all.size()}});
  }

  http::Response send_to_production(const std::string& id, const std::string& shop) {
    auto o = book_.find(id);
    if (!o || o->scope != shop) return pfy_error(404, 404, "Order not found.");
    if (o->stage != Stage::draft) {
      return pfy_error(400, 8252, "Operation failed.", "Order has already been sent to production");
    }
    // Printify takes API orders on hold and finds what it cannot make when they are sent.
    if (ctx_.knobs().refuse_all) {
      return pfy_error(400, 8251, "Operation failed.",
                       "Items are out of stock or discontinued; the order cannot be fulfilled");
    }
    auto sent = book_.update(id, [&](Order& x) { x.confirmed_ms = ctx_.now_ms(); });
    return json_reply(200, order_json(*sent));
  }

  http::Response cancel(const std::string& id, const std::string& shop) {
    auto o = book_.find(id);
    if (!o || o->scope != shop) return pfy_error(404, 404, "Order not found.");
    if (o->stage == Stage::canceled) return json_reply(200, order_json(*o));
    if (o->stage != Stage::draft) {
      return pfy_error(400, 8253, "Operation failed.",
                       "Only orders with status on-hold or payment-not-received can be canceled");
    }
    auto canceled = book_.update(id, [&](Order& x) { x.canceled_ms = ctx_.now_ms(); });
    return json_reply(200, order_json(*canceled));
  }

  http::Response shipping(const http::Request& req) {
    auto body = merch::body_object(req);
    const auto* address = body ? body->if_contains("address_to") : nullptr;
    const auto* items = body ? body->if_contains("line_items") : nullptr;
    if (!address || !address->is_object() || !items || !items->is_array()) {
      return pfy_error(400, 8103, "Validation failed.", "address_to and line_items are required");
    }
    if (str(address->as_object(), "country") == merch::kUnshippableCountry) {
      return pfy_error(400, 8103, "Validation failed.",
                       R"({"address_to.country":["Shipping to this country is not available."]})");
    }
    std::int64_t count = 0;
    for (const auto& it : items->as_array()) {
      if (it.is_object()) count += merch::num(it.as_object(), "quantity", 1);
    }
    std::int64_t standard = merch::shipping_price(count, "USD");
    return json_reply(200, bj::object{{"standard", standard},
                                      {"express", standard * 4},
                                      {"priority", standard * 4},
                                      {"printify_express", standard * 2},
                                      {"economy", standard - 100}});
  }

  http::Response products(const http::Request& req) const {
    std::int64_t page = std::atoll(std::string(req.query_param("page").value_or("1")).c_str());
    bj::array data;
    if (page <= 1) {
      data.push_back(product_json("5bfd0b66a342bcc9b5563216", "Sim mug", 1400,
                                  {{17887, "11oz"}, {17888, "15oz"}}));
      data.push_back(product_json("5bfd0b66a342bcc9b5563217", "Sim hoodie", 4200, {{33001, "M"}}));
    }
    return json_reply(200, bj::object{{"current_page", page < 1 ? 1 : page},
                                      {"data", std::move(data)},
                                      {"last_page", 1}});
  }

  void announce(const Order& o, Stage before, std::size_t packages_before) override {
    std::vector<std::pair<std::string, bj::object>> events;  // type, resource data
    bj::object base{{"shop_id", std::atoll(o.scope.c_str())}};
    if (o.stage != before && o.stage != Stage::draft) {
      bj::object data = base;
      data["status"] = pfy_status(o);
      events.push_back({"order:updated", std::move(data)});
      if (o.stage == Stage::submitted) events.push_back({"order:sent-to-production", base});
    }
    for (std::size_t i = packages_before; i < o.packages.size(); ++i) {
      const auto& p = o.packages[i];
      bj::object data = base;
      data["shipped_at"] = pfy_time(p.shipped_at_ms);
      data["carrier"] = bj::object{{"code", p.carrier},
                                   {"tracking_number", p.tracking_number},
                                   {"tracking_url", p.tracking_url}};
      data["skus"] = bj::array{};
      events.push_back({"order:shipment:created", std::move(data)});
    }
    if (o.stage == Stage::delivered && before != Stage::delivered) {
      for (const auto& p : o.packages) {
        bj::object data = base;
        data["delivered_at"] = pfy_time(ctx_.now_ms());
        data["carrier"] = bj::object{{"code", p.carrier},
                                     {"tracking_number", p.tracking_number},
                                     {"tracking_url", p.tracking_url}};
        data["skus"] = bj::array{};
        events.push_back({"order:shipment:delivered", std::move(data)});
      }
    }
    std::string secret = ctx_.secret();
    for (auto& [type, data] : events) {
      bj::object event{{"id", ctx_.random_id("", 8) + "-" + ctx_.random_id("", 4) + "-" +
                                  ctx_.random_id("", 4) + "-" + ctx_.random_id("", 12)},
                       {"type", type},
                       {"created_at", pfy_time(ctx_.now_ms())},
                       {"resource", bj::object{{"id", o.id}, {"type", "order"}, {"data", data}}}};
      OutboundWebhook w;
      w.object_id = o.id;
      w.headers.push_back({"content-type", "application/json"});
      w.body = bj::serialize(event);
      if (!secret.empty()) {
        ctx_.send_webhook(std::move(w), [secret](OutboundWebhook& out) {
          out.headers.push_back({"x-pfy-signature", "sha256=" + core::hex_encode(core::hmac_sha256(
                                                                    secret, out.body))});
        });
      } else {
        ctx_.send_webhook(std::move(w));
      }
    }
  }
};

}  // namespace

std::unique_ptr<Simulator> make_printify_sim(Context& ctx) {
  return std::make_unique<PrintifySim>(ctx);
}

}  // namespace mg::sim
