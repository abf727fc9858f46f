#include "tools/sim/printful_sim.hpp"

#include "gateway/core/crypto.hpp"
#include "tools/sim/merch_sim.hpp"

#include <boost/json/serialize.hpp>

namespace mg::sim {
namespace {

namespace bj = boost::json;
using merch::Order;
using merch::Stage;
using merch::str;

http::Response pf_ok(const bj::value& result) {
  return json_reply(200, bj::object{{"code", 200}, {"result", result}});
}

http::Response pf_error(int status, std::string_view reason, std::string message) {
  return json_reply(status,
                    bj::object{{"code", status},
                               {"result", message},
                               {"error", bj::object{{"reason", reason}, {"message", message}}}});
}

std::string_view pf_status(const Order& o) {
  switch (o.stage) {
    case Stage::draft:
      return "draft";
    case Stage::submitted:
      return "pending";
    case Stage::in_production:
      return "inprocess";
    case Stage::shipped:
      return o.partial ? "partial" : "fulfilled";
    case Stage::delivered:
      return "fulfilled";  // Printful has no delivered status
    case Stage::canceled:
      return "canceled";
    case Stage::failed:
      return "failed";
  }
  return "pending";
}

// Printful's id of the order's i-th item (a number).
std::int64_t item_id(const Order& o, std::size_t i) {
  return std::stoll(o.id) * 100 + static_cast<std::int64_t>(i) + 1;
}

bj::object shipment_json(const Order& o, const merch::Package& p, std::size_t i) {
  bj::array items;
  for (const auto& u : p.items) {
    items.push_back(bj::object{{"item_id", item_id(o, u.item)},
                               {"quantity", u.quantity},
                               {"picked", u.quantity},
                               {"printed", u.quantity}});
  }
  return bj::object{{"id", std::stoll(o.id) * 10 + static_cast<std::int64_t>(i) + 1},
                    {"carrier", p.carrier},
                    {"service", p.carrier + " Standard"},
                    {"tracking_number", p.tracking_number},
                    {"tracking_url", p.tracking_url},
                    {"created", p.shipped_at_ms / 1000},
                    {"ship_date", merch::iso_time(p.shipped_at_ms).substr(0, 10)},
                    {"shipped_at", p.shipped_at_ms / 1000},
                    {"reshipment", false},
                    {"items", std::move(items)}};
}

bj::object order_json(const Order& o) {
  bj::array shipments;
  for (std::size_t i = 0; i < o.packages.size(); ++i) {
    shipments.push_back(shipment_json(o, o.packages[i], i));
  }
  const auto* recipient = o.request.if_contains("recipient");
  bj::array items;
  if (const auto* in = o.request.if_contains("items"); in && in->is_array()) {
    for (const auto& it : in->as_array()) {
      if (!it.is_object()) continue;
      bj::object item = it.as_object();
      item["id"] = item_id(o, items.size());
      items.push_back(std::move(item));
    }
  }
  return bj::object{{"id", std::stoll(o.id)},
                    {"external_id", o.external_id},
                    {"store", 1},
                    {"status", pf_status(o)},
                    {"shipping", str(o.request, "shipping")},
                    {"created", o.created_ms / 1000},
                    {"updated", o.created_ms / 1000},
                    {"recipient", recipient ? *recipient : bj::value(bj::object{})},
                    {"items", std::move(items)},
                    {"shipments", std::move(shipments)}};
}

// The demo store's sync products: one tee in two sizes, one poster.
const bj::array& sync_products() {
  static const bj::array products = [] {
    bj::array out;
    auto variant = [](int id, int product, int catalog_product, int catalog_variant,
                      std::string name, std::string sku, std::string price, std::string size) {
      return bj::object{
          {"id", id},
          {"external_id", "ext-" + std::to_string(id)},
          {"sync_product_id", product},
          {"name", name},
          {"synced", true},
          {"variant_id", catalog_variant},
          {"retail_price", price},
          {"currency", "EUR"},
          {"is_ignored", false},
          {"sku", sku},
          {"product", bj::object{{"variant_id", catalog_variant},
                                 {"product_id", catalog_product},
                                 {"image", "https://files.cdn.printful.com/products/" +
                                               std::to_string(catalog_product) + "/" +
                                               std::to_string(catalog_variant) + ".jpg"},
                                 {"name", name}}},
          {"size", size},
          {"color", "Black"},
          {"availability_status", "active"}};
    };
    out.push_back(bj::object{
        {"sync_product", bj::object{{"id", 301},
                                    {"external_id", "sim-tee"},
                                    {"name", "Sim tee"},
                                    {"variants", 2},
                                    {"synced", 2},
                                    {"thumbnail_url", "https://files.cdn.printful.com/sim/tee.png"},
                                    {"is_ignored", false}}},
        {"sync_variants", bj::array{variant(3011, 301, 71, 4017, "Sim tee - Black / M",
                                            "sim-tee-black-m", "25.00", "M"),
                                    variant(3012, 301, 71, 4018, "Sim tee - Black / L",
                                            "sim-tee-black-l", "25.00", "L")}}});
    out.push_back(
        bj::object{{"sync_product",
                    bj::object{{"id", 302},
                               {"external_id", "sim-poster"},
                               {"name", "Sim poster"},
                               {"variants", 1},
                               {"synced", 1},
                               {"thumbnail_url", "https://files.cdn.printful.com/sim/poster.png"},
                               {"is_ignored", false}}},
                   {"sync_variants", bj::array{variant(3021, 302, 1, 6239, "Sim poster 18x24",
                                                       "sim-poster-18x24", "15.00", "18x24")}}});
    return out;
  }();
  return products;
}

class PrintfulSim final : public merch::OrderBookSim {
 public:
  explicit PrintfulSim(Context& ctx) : OrderBookSim(ctx, "#") {}

  http::Response unavailable() const override {
    return pf_error(503, "ServiceUnavailable", "Simulated outage, please try again later");
  }

 private:
  http::Response route(const http::Request& req) override {
    if (!merch::bearer_ok(req)) {
      return pf_error(401, "Unauthorized", "The access token provided is invalid.");
    }
    auto seg = merch::segments(req.path);
    const std::string& m = req.method;
    if (seg.size() == 1 && seg[0] == "store" && m == "GET") {
      return pf_ok(bj::object{{"id", 1}, {"name", "merchgate-sim store"}, {"type", "native"}});
    }
    if (seg.size() == 1 && seg[0] == "orders" && m == "POST") return create(req);
    if (seg.size() == 2 && seg[0] == "orders" && m == "GET") return get(seg[1]);
    if (seg.size() == 2 && seg[0] == "orders" && m == "DELETE") return cancel(seg[1]);
    if (seg.size() == 3 && seg[0] == "orders" && seg[2] == "confirm" && m == "POST") {
      return confirm(seg[1]);
    }
    if (seg.size() == 2 && seg[0] == "shipping" && seg[1] == "rates" && m == "POST") {
      return rates(req);
    }
    if (seg.size() == 2 && seg[0] == "store" && seg[1] == "products" && m == "GET") {
      return products(req);
    }
    if (seg.size() == 3 && seg[0] == "store" && seg[1] == "products" && m == "GET") {
      for (const auto& p : sync_products()) {
        if (str(p.as_object().at("sync_product").as_object(), "id") == seg[2]) return pf_ok(p);
      }
      return pf_error(404, "NotFound", "Not Found");
    }
    return pf_error(404, "NotFound", "Not Found");
  }

  std::optional<Order> lookup(const std::string& id) const {
    if (id.starts_with("@")) return book_.find_external("store", id.substr(1));
    return book_.find(id);
  }

  http::Response create(const http::Request& req) {
    auto body = merch::body_object(req);
    if (!body) return pf_error(400, "BadRequest", "Invalid JSON");
    bool confirm_now = req.query_param("confirm").value_or("") == "true" ||
                       req.query_param("confirm").value_or("") == "1";
    bool update = req.query_param("update_existing").value_or("") == "true" ||
                  req.query_param("update_existing").value_or("") == "1";
    const auto* recipient = body->if_contains("recipient");
    const auto* items = body->if_contains("items");
    if (!recipient || !recipient->is_object() || !items || !items->is_array() ||
        items->as_array().empty()) {
      return pf_error(400, "BadRequest", "Recipient and items are required");
    }
    if (str(recipient->as_object(), "country_code") == merch::kUnshippableCountry) {
      return pf_error(400, "BadRequest", "Recipient country is not supported for shipping");
    }
    for (const auto& it : items->as_array()) {
      if (!it.is_object() ||
          (!it.as_object().contains("variant_id") && !it.as_object().contains("sync_variant_id"))) {
        return pf_error(400, "BadRequest", "Item variant_id or sync_variant_id is required");
      }
    }
    if (ctx_.knobs().refuse_all) {
      return pf_error(400, "BadRequest",
                      "Order cannot be fulfilled: one of the items is out of stock");
    }
    std::string external = str(*body, "external_id");
    if (auto existing = book_.find_external("store", external)) {
      if (!update) return pf_error(400, "BadRequest", "Order with this external ID already exists");
      if (existing->stage != Stage::draft) {
        return pf_error(400, "BadRequest", "Only draft orders can be updated");
      }
      auto updated = book_.update(existing->id, [&](Order& o) {
        o.request = *body;
        o.item_quantities = merch::quantities(items);
        if (confirm_now) o.confirmed_ms = ctx_.now_ms();
      });
      return pf_ok(order_json(*updated));
    }
    Order o;
    o.external_id = external;
    o.scope = "store";
    o.request = *body;
    o.item_quantities = merch::quantities(items);
    o.carrier = "USPS";
    Order stored = book_.add(std::move(o));
    if (confirm_now) {
      stored = *book_.update(stored.id, [&](Order& x) { x.confirmed_ms = ctx_.now_ms(); });
    }
    return pf_ok(order_json(stored));
  }

  http::Response get(const std::string& id) const {
    auto o = lookup(id);
    if (!o) return pf_error(404, "NotFound", "Order not found");
    return pf_ok(order_json(*o));
  }

  http::Response confirm(const std::string& id) {
    auto o = lookup(id);
    if (!o) return pf_error(404, "NotFound", "Order not found");
    if (o->stage != Stage::draft) {
      return pf_error(400, "BadRequest", "Only draft orders can be confirmed");
    }
    auto updated = book_.update(o->id, [&](Order& x) { x.confirmed_ms = ctx_.now_ms(); });
    return pf_ok(order_json(*updated));
  }

  http::Response cancel(const std::string& id) {
    auto o = lookup(id);
    if (!o) return pf_error(404, "NotFound", "Order not found");
    if (o->stage == Stage::canceled) return pf_ok(order_json(*o));
    if (o->stage != Stage::draft && o->stage != Stage::submitted) {
      return pf_error(400, "BadRequest", "Order is already in fulfillment and can't be canceled");
    }
    auto updated = book_.update(o->id, [&](Order& x) { x.canceled_ms = ctx_.now_ms(); });
    return pf_ok(order_json(*updated));
  }

  http::Response rates(const http::Request& req) {
    auto body = merch::body_object(req);
    if (!body) return pf_error(400, "BadRequest", "Invalid JSON");
    const auto* recipient = body->if_contains("recipient");
    const auto* items = body->if_contains("items");
    if (!recipient || !recipient->is_object() || !items || !items->is_array()) {
      return pf_error(400, "BadRequest", "Recipient and items are required");
    }
    if (str(recipient->as_object(), "country_code") == merch::kUnshippableCountry) {
      return pf_error(400, "BadRequest", "Recipient country is not supported for shipping");
    }
    std::int64_t count = 0;
    for (const auto& it : items->as_array()) {
      if (it.is_object()) count += merch::num(it.as_object(), "quantity", 1);
    }
    std::string currency = str(*body, "currency");
    if (currency.empty()) currency = "USD";
    std::int64_t standard = merch::shipping_price(count, currency);
    return pf_ok(bj::array{bj::object{{"id", "STANDARD"},
                                      {"name", "Flat Rate (Estimated delivery: 4-7 days)"},
                                      {"rate", merch::decimal(standard, currency)},
                                      {"currency", currency},
                                      {"minDeliveryDays", 4},
                                      {"maxDeliveryDays", 7}},
                           bj::object{{"id", "EXPRESS"},
                                      {"name", "Express (Estimated delivery: 2-3 days)"},
                                      {"rate", merch::decimal(standard * 3, currency)},
                                      {"currency", currency},
                                      {"minDeliveryDays", 2},
                                      {"maxDeliveryDays", 3}}});
  }

  http::Response products(const http::Request& req) const {
    std::int64_t offset = std::atoll(std::string(req.query_param("offset").value_or("0")).c_str());
    std::int64_t limit = std::atoll(std::string(req.query_param("limit").value_or("20")).c_str());
    bj::array out;
    const auto& all = sync_products();
    for (std::int64_t i = offset; i < static_cast<std::int64_t>(all.size()) && i < offset + limit;
         ++i) {
      out.push_back(all[static_cast<std::size_t>(i)].as_object().at("sync_product"));
    }
    return json_reply(
        200, bj::object{{"code", 200},
                        {"result", std::move(out)},
                        {"paging",
                         bj::object{{"total", all.size()}, {"offset", offset}, {"limit", limit}}}});
  }

  // One webhook per change, in the format the secret selects: v2 signed, or v1 unsigned.
  void announce(const Order& o, Stage before, std::size_t packages_before) override {
    bool v2 = !ctx_.secret().empty();
    std::int64_t now = ctx_.now_ms();
    bj::object order = order_json(o);
    std::vector<std::pair<std::string, bj::object>> events;  // type, data
    for (std::size_t i = packages_before; i < o.packages.size(); ++i) {
      bj::object shipment = shipment_json(o, o.packages[i], i);
      events.push_back({v2 ? "shipment_sent" : "package_shipped",
                        bj::object{{"shipment", std::move(shipment)}, {"order", order}}});
    }
    if (o.stage != before && o.stage != Stage::shipped) {
      std::string type = o.stage == Stage::canceled ? "order_canceled"
                         : o.stage == Stage::failed ? "order_failed"
                                                    : "order_updated";
      bj::object data{{"order", order}};
      if (o.stage == Stage::canceled || o.stage == Stage::failed) data["reason"] = o.failure;
      events.push_back({type, std::move(data)});
    }
    for (auto& [type, data] : events) {
      bj::object envelope = v2 ? bj::object{{"type", type},
                                            {"occurred_at", merch::iso_time(now)},
                                            {"retries", 0},
                                            {"store_id", 1},
                                            {"data", std::move(data)}}
                               : bj::object{{"type", type},
                                            {"created", now / 1000},
                                            {"retries", 0},
                                            {"store", 1},
                                            {"data", std::move(data)}};
      OutboundWebhook w;
      w.object_id = o.id;
      w.headers.push_back({"content-type", "application/json"});
      w.body = bj::serialize(envelope);
      std::string secret = ctx_.secret();
      if (v2) {
        ctx_.send_webhook(std::move(w), [secret](OutboundWebhook& out) {
          auto raw = core::hex_decode(secret);
          std::string key = raw ? *raw : secret;
          out.headers.push_back(
              {"x-pf-webhook-signature", core::hex_encode(core::hmac_sha256(key, out.body))});
          out.headers.push_back({"x-pf-webhook-public-key", "sim-public-key"});
        });
      } else {
        ctx_.send_webhook(std::move(w));
      }
    }
  }
};

}  // namespace

std::unique_ptr<Simulator> make_printful_sim(Context& ctx) {
  return std::make_unique<PrintfulSim>(ctx);
}

}  // namespace mg::sim
