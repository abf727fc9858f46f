#include "tools/sim/gelato_sim.hpp"

#include "tools/sim/merch_sim.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>

namespace mg::sim {
namespace {

namespace bj = boost::json;
using merch::Order;
using merch::Stage;
using merch::str;

http::Response gelato_error(int status, std::string code, std::string message) {
  return json_reply(status, bj::object{{"code", code}, {"message", message}});
}

// The order's status. While a split order's first package is out it stays `printed`: Gelato's
// order is shipped with its last item.
std::string_view gelato_status(const Order& o) {
  if (o.partial) return "printed";
  switch (o.stage) {
    case Stage::draft:
      return "draft";
    case Stage::submitted:
      return "passed";
    case Stage::in_production:
      return "in_production";
    case Stage::shipped:
      return "shipped";
    case Stage::delivered:
      return "delivered";
    case Stage::canceled:
      return "canceled";
    case Stage::failed:
      return "failed";
  }
  return "created";
}

std::string uuid(Context& ctx) {
  return ctx.random_id("", 8) + "-" + ctx.random_id("", 4) + "-" + ctx.random_id("", 4) + "-" +
         ctx.random_id("", 4) + "-" + ctx.random_id("", 12);
}

std::string item_id(const Order& o, std::size_t i) { return o.id + "-item-" + std::to_string(i); }

// One entry of an item's `fulfillments`: the package it left in.
bj::object fulfillment_json(const merch::Package& p) {
  return bj::object{{"trackingCode", p.tracking_number},
                    {"trackingUrl", p.tracking_url},
                    {"shipmentMethodName", p.carrier},
                    {"shipmentMethodUid", "dhl_parcel"},
                    {"fulfillmentCountry", "DE"}};
}

// The request's items as Gelato returns them: each with its id, its own status (shipped once all
// its units left, else the order's) and one `fulfillments` entry per package it is in.
bj::array items_json(const Order& o) {
  bj::array items;
  const auto* in = o.request.if_contains("items");
  if (!in || !in->is_array()) return items;
  for (const auto& it : in->as_array()) {
    if (!it.is_object()) continue;
    std::size_t i = items.size();
    bj::object item = it.as_object();
    item["id"] = item_id(o, i);
    bj::array fulfillments;
    for (const auto& p : o.packages) {
      bool holds = std::any_of(p.items.begin(), p.items.end(),
                               [&](const merch::ItemUnits& u) { return u.item == i; });
      if (holds) fulfillments.push_back(fulfillment_json(p));
    }
    bool left = merch::units_shipped(o, i) >= merch::num(item, "quantity", 1);
    item["fulfillmentStatus"] = !left                          ? gelato_status(o)
                                : o.stage == Stage::delivered ? "delivered"
                                                               : "shipped";
    item["fulfillments"] = std::move(fulfillments);
    items.push_back(std::move(item));
  }
  return items;
}

bj::object order_json(const Order& o) {
  bj::array packages;
  for (const auto& p : o.packages) {
    bj::array held;
    for (const auto& u : p.items) held.push_back(bj::value(item_id(o, u.item)));
    packages.push_back(bj::object{{"id", p.id},
                                  {"orderItemIds", std::move(held)},
                                  {"trackingCode", p.tracking_number},
                                  {"trackingUrl", p.tracking_url}});
  }
  const auto* address = o.request.if_contains("shippingAddress");
  return bj::object{{"id", o.id},
                    {"orderType", o.confirmed_ms ? "order" : "draft"},
                    {"orderReferenceId", o.external_id},
                    {"customerReferenceId", str(o.request, "customerReferenceId")},
                    {"fulfillmentStatus", gelato_status(o)},
                    {"financialStatus", o.confirmed_ms ? "paid" : "draft"},
                    {"currency", str(o.request, "currency")},
                    {"channel", "api"},
                    {"createdAt", merch::iso_time(o.created_ms)},
                    {"updatedAt", merch::iso_time(o.created_ms)},
                    {"items", items_json(o)},
                    {"shipment", bj::object{{"id", o.id + "-shipment"},
                                            {"shipmentMethodName", o.carrier},
                                            {"shipmentMethodUid", "sim_standard"},
                                            {"packagesCount", o.packages.size()},
                                            {"packages", std::move(packages)}}},
                    {"shippingAddress", address ? *address : bj::value(bj::object{})},
                    {"connectedOrderIds", bj::array{}}};
}

class GelatoSim final : public merch::OrderBookSim {
 public:
  explicit GelatoSim(Context& ctx) : OrderBookSim(ctx, "") {}

  http::Response unavailable() const override {
    return gelato_error(503, "service_unavailable", "Service temporarily unavailable");
  }

 private:
  http::Response route(const http::Request& req) override {
    std::string_view key = req.header("x-api-key");
    if (key.empty() || key == "invalid") {
      return gelato_error(401, "unauthorized", "Invalid or missing API key");
    }
    auto s = merch::segments(req.path);
    const std::string& m = req.method;
    if (s.size() < 2 || s[0] != "v4") return gelato_error(404, "not_found", "Not found");
    if (s.size() == 2 && s[1] == "orders" && m == "POST") return create(req);
    if (s.size() == 2 && s[1] == "orders:search" && m == "POST") return search(req);
    if (s.size() == 2 && s[1] == "orders:quote" && m == "POST") return quote(req);
    if (s.size() == 3 && s[1] == "orders") {
      std::string id = s[2];
      if (m == "POST" && id.ends_with(":cancel")) return cancel(id.substr(0, id.size() - 7));
      if (m == "GET") {
        auto o = book_.find(id);
        if (!o) return gelato_error(404, "not_found", "Order not found");
        return json_reply(200, order_json(*o));
      }
      if (m == "PATCH") return patch(req, id);
    }
    return gelato_error(404, "not_found", "Not found");
  }

  http::Response create(const http::Request& req) {
    auto body = merch::body_object(req);
    if (!body) return gelato_error(400, "invalid_request", "Malformed JSON");
    const auto* items = body->if_contains("items");
    const auto* address = body->if_contains("shippingAddress");
    if (!items || !items->is_array() || items->as_array().empty() || !address ||
        !address->is_object() || str(*body, "orderReferenceId").empty()) {
      return gelato_error(400, "invalid_request",
                          "orderReferenceId, items and shippingAddress are required");
    }
    for (const auto& it : items->as_array()) {
      if (!it.is_object() || str(it.as_object(), "productUid").empty()) {
        return gelato_error(400, "invalid_request", "items[].productUid is required");
      }
    }
    if (str(address->as_object(), "country") == merch::kUnshippableCountry) {
      return gelato_error(400, "unsupported_destination",
                          "Shipping to the given country is not supported");
    }
    if (ctx_.knobs().refuse_all) {
      return gelato_error(400, "product_not_available",
                          "The product is not available for production at the moment");
    }
    Order o;
    o.external_id = str(*body, "orderReferenceId");
    o.scope = "gelato";
    o.request = *body;
    o.item_quantities = merch::quantities(items);
    o.carrier = "DHL Parcel";
    Order stored = book_.add(std::move(o));
    if (str(*body, "orderType") != "draft") {
      stored = *book_.update(stored.id, [&](Order& x) { x.confirmed_ms = ctx_.now_ms(); });
    }
    return json_reply(200, order_json(stored));
  }

  http::Response patch(const http::Request& req, const std::string& id) {
    auto o = book_.find(id);
    if (!o) return gelato_error(404, "not_found", "Order not found");
    auto body = merch::body_object(req);
    if (!body || str(*body, "orderType") != "order") {
      return gelato_error(400, "invalid_request", "orderType must be 'order'");
    }
    if (o->confirmed_ms) {
      return gelato_error(400, "invalid_request", "Only draft orders can be patched");
    }
    auto patched = book_.update(id, [&](Order& x) { x.confirmed_ms = ctx_.now_ms(); });
    return json_reply(200, order_json(*patched));
  }

  http::Response cancel(const std::string& id) {
    auto o = book_.find(id);
    if (!o) return gelato_error(404, "not_found", "Order not found");
    if (o->stage == Stage::canceled) return json_reply(200, order_json(*o));
    if (o->stage != Stage::draft && o->stage != Stage::submitted) {
      return gelato_error(409, "conflict",
                          "The order cannot be canceled, because at least one of the items is "
                          "in 'printed' status");
    }
    auto canceled = book_.update(id, [&](Order& x) { x.canceled_ms = ctx_.now_ms(); });
    return json_reply(200, order_json(*canceled));
  }

  http::Response search(const http::Request& req) const {
    auto body = merch::body_object(req);
    std::vector<std::string> refs;
    if (body) {
      if (const auto* ids = body->if_contains("orderReferenceIds"); ids && ids->is_array()) {
        for (const auto& v : ids->as_array()) {
          if (v.is_string()) refs.emplace_back(v.as_string());
        }
      }
      if (std::string one = str(*body, "orderReferenceId"); !one.empty()) refs.push_back(one);
    }
    bj::array orders;
    for (const auto& o : book_.list("gelato")) {
      if (!refs.empty() && std::find(refs.begin(), refs.end(), o.external_id) == refs.end()) {
        continue;
      }
      orders.push_back(bj::object{{"id", o.id},
                                  {"orderReferenceId", o.external_id},
                                  {"orderType", o.confirmed_ms ? "order" : "draft"},
                                  {"fulfillmentStatus", gelato_status(o)},
                                  {"financialStatus", o.confirmed_ms ? "paid" : "draft"},
                                  {"channel", "api"},
                                  {"createdAt", merch::iso_time(o.created_ms)},
                                  {"updatedAt", merch::iso_time(o.created_ms)}});
    }
    return json_reply(200, bj::object{{"orders", std::move(orders)}});
  }

  http::Response quote(const http::Request& req) {
    auto body = merch::body_object(req);
    const auto* recipient = body ? body->if_contains("recipient") : nullptr;
    const auto* products = body ? body->if_contains("products") : nullptr;
    if (!recipient || !recipient->is_object() || !products || !products->is_array()) {
      return gelato_error(400, "invalid_request", "recipient and products are required");
    }
    std::string currency = str(*body, "currency");
    std::int64_t count = 0;
    bj::array refs, quoted;
    for (const auto& p : products->as_array()) {
      if (!p.is_object()) continue;
      count += merch::num(p.as_object(), "quantity", 1);
      refs.push_back(bj::value(str(p.as_object(), "itemReferenceId")));
      quoted.push_back(bj::object{{"itemReferenceId", str(p.as_object(), "itemReferenceId")},
                                  {"productUid", str(p.as_object(), "productUid")},
                                  {"quantity", merch::num(p.as_object(), "quantity", 1)},
                                  {"price", 12.5},
                                  {"currency", currency}});
    }
    bj::array methods;
    if (str(recipient->as_object(), "country") != merch::kUnshippableCountry) {
      std::int64_t standard = merch::shipping_price(count, currency);
      auto price = [&](std::int64_t minor) { return std::stod(merch::decimal(minor, currency)); };
      methods.push_back(bj::object{{"name", "DHL Parcel"},
                                   {"shipmentMethodUid", "dhl_parcel"},
                                   {"price", price(standard)},
                                   {"currency", currency},
                                   {"minDeliveryDays", 3},
                                   {"maxDeliveryDays", 5},
                                   {"type", "normal"}});
      methods.push_back(bj::object{{"name", "DHL Express"},
                                   {"shipmentMethodUid", "dhl_express"},
                                   {"price", price(standard * 3)},
                                   {"currency", currency},
                                   {"minDeliveryDays", 1},
                                   {"maxDeliveryDays", 2},
                                   {"type", "express"}});
    }
    return json_reply(
        200, bj::object{{"orderReferenceId", str(*body, "orderReferenceId")},
                        {"quotes", bj::array{bj::object{{"id", uuid(ctx_)},
                                                        {"itemReferenceIds", std::move(refs)},
                                                        {"fulfillmentCountry", "DE"},
                                                        {"shipmentMethods", std::move(methods)},
                                                        {"products", std::move(quoted)}}}}});
  }

  // Unsigned, as Gelato's: order_status_updated with the items' tracking.
  void announce(const Order& o, Stage before, std::size_t packages_before) override {
    if (o.stage == Stage::draft) return;
    if (o.stage == before && o.packages.size() == packages_before) return;
    bj::array items;
    for (const auto& it : items_json(o)) {
      const auto& item = it.as_object();
      items.push_back(bj::object{{"itemReferenceId", str(item, "itemReferenceId")},
                                 {"fulfillmentStatus", item.at("fulfillmentStatus")},
                                 {"fulfillments", item.at("fulfillments")}});
    }
    bj::object event{{"id", "os_" + ctx_.random_id("", 13)},
                     {"event", "order_status_updated"},
                     {"orderId", o.id},
                     {"storeId", nullptr},
                     {"orderReferenceId", o.external_id},
                     {"fulfillmentStatus", gelato_status(o)},
                     {"items", std::move(items)}};
    OutboundWebhook w;
    w.object_id = o.id;
    w.headers.push_back({"content-type", "application/json"});
    w.body = bj::serialize(event);
    ctx_.send_webhook(std::move(w));
  }
};

}  // namespace

std::unique_ptr<Simulator> make_gelato_sim(Context& ctx) {
  return std::make_unique<GelatoSim>(ctx);
}

}  // namespace mg::sim
