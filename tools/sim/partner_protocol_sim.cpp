#include "tools/sim/partner_protocol_sim.hpp"

#include "tools/sim/merch_sim.hpp"
#include "webhooks/signature/standard_webhooks.hpp"

#include <boost/json/serialize.hpp>

namespace mg::sim {
namespace {

namespace bj = boost::json;
using merch::Order;
using merch::Stage;
using merch::str;

http::Response mpp_error(int status, std::string code, std::string message) {
  return json_reply(status,
                    bj::object{{"error", bj::object{{"code", code}, {"message", message}}}});
}

bj::object order_json(const Order& o) {
  bj::array shipments;
  for (const auto& p : o.packages) {
    shipments.push_back(bj::object{{"id", p.id},
                                   {"carrier", p.carrier},
                                   {"tracking_number", p.tracking_number},
                                   {"tracking_url", p.tracking_url},
                                   {"shipped_at", merch::iso_time(p.shipped_at_ms)}});
  }
  const auto* items = o.request.if_contains("items");
  const auto* recipient = o.request.if_contains("recipient");
  bj::value failure = nullptr;
  if (o.stage == Stage::failed) {
    failure = bj::object{{"code", "production_failed"}, {"message", o.failure}};
  } else if (o.stage == Stage::canceled) {
    failure = bj::object{{"code", "canceled"}, {"message", "canceled at the merchant's request"}};
  }
  return bj::object{{"id", o.id},
                    {"external_id", o.external_id},
                    // A split order whose first package left is still in production.
                    {"status", o.partial ? "in_production" : merch::to_string(o.stage)},
                    {"items", items ? *items : bj::value(bj::array{})},
                    {"recipient", recipient ? *recipient : bj::value(bj::object{})},
                    {"shipments", std::move(shipments)},
                    {"failure", std::move(failure)},
                    {"created_at", merch::iso_time(o.created_ms)},
                    {"updated_at", merch::iso_time(o.created_ms)}};
}

// The demo shop: two products, the second on a second page.
bj::object product(std::string id, std::string title, std::int64_t price,
                   std::vector<std::pair<std::string, std::string>> variants) {
  bj::array vs;
  for (const auto& [vid, size] : variants) {
    vs.push_back(bj::object{{"id", vid},
                            {"sku", id + "-" + vid},
                            {"title", size},
                            {"price", bj::object{{"amount", price}, {"currency", "EUR"}}},
                            {"options", bj::object{{"size", size}}},
                            {"available", true}});
  }
  return bj::object{{"id", id},
                    {"title", title},
                    {"description", "A product of the simulated print shop"},
                    {"images", bj::array{bj::value("https://shop.example/img/" + id + ".png")}},
                    {"variants", std::move(vs)}};
}

class PartnerProtocolSim final : public merch::OrderBookSim {
 public:
  explicit PartnerProtocolSim(Context& ctx) : OrderBookSim(ctx, "mpo_") {}

  http::Response unavailable() const override {
    return mpp_error(503, "unavailable", "the shop is unavailable; retry later");
  }

 private:
  http::Response route(const http::Request& req) override {
    if (!merch::bearer_ok(req)) return mpp_error(401, "unauthorized", "invalid API key");
    auto s = merch::segments(req.path);
    const std::string& m = req.method;
    if (s.size() < 3 || s[0] != "v1" || s[1] != "stores") {
      return mpp_error(404, "not_found", "no such resource");
    }
    const std::string& store = s[2];
    if (s.size() == 3 && m == "GET") {
      return json_reply(
          200, bj::object{{"id", store}, {"name", "Sim shop " + store}, {"currency", "EUR"}});
    }
    if (s.size() == 4 && s[3] == "products" && m == "GET") return products(req);
    if (s.size() == 4 && s[3] == "shipping-quotes" && m == "POST") return quote(req);
    if (s.size() == 4 && s[3] == "orders" && m == "POST") return create(req, store);
    if (s.size() == 4 && s[3] == "orders" && m == "GET") {
      std::string external(req.query_param("external_id").value_or(""));
      bj::array data;
      for (const auto& o : book_.list(store)) {
        if (external.empty() || o.external_id == external) data.push_back(order_json(o));
      }
      return json_reply(200, bj::object{{"data", std::move(data)}, {"next_cursor", nullptr}});
    }
    if (s.size() == 5 && s[3] == "orders" && m == "GET") {
      auto o = book_.find(s[4]);
      if (!o || o->scope != store) return mpp_error(404, "not_found", "no such order");
      return json_reply(200, order_json(*o));
    }
    if (s.size() == 6 && s[3] == "orders" && s[5] == "cancel" && m == "POST") {
      auto o = book_.find(s[4]);
      if (!o || o->scope != store) return mpp_error(404, "not_found", "no such order");
      if (o->stage == Stage::canceled) return json_reply(200, order_json(*o));
      if (o->stage != Stage::submitted) {
        return mpp_error(409, "not_cancelable",
                         "order " + o->id + " is " + std::string(merch::to_string(o->stage)) +
                             "; production has started");
      }
      auto canceled = book_.update(o->id, [&](Order& x) { x.canceled_ms = ctx_.now_ms(); });
      return json_reply(200, order_json(*canceled));
    }
    return mpp_error(404, "not_found", "no such resource");
  }

  http::Response create(const http::Request& req, const std::string& store) {
    auto body = merch::body_object(req);
    if (!body) return mpp_error(400, "invalid_request", "the body is not a JSON object");
    const auto* items = body->if_contains("items");
    const auto* recipient = body->if_contains("recipient");
    std::string external = str(*body, "external_id");
    if (external.empty() || !items || !items->is_array() || items->as_array().empty() ||
        !recipient || !recipient->is_object()) {
      return mpp_error(400, "invalid_request", "external_id, items and recipient are required");
    }
    // Idempotent by external_id: the same order comes back, never a second one.
    if (auto existing = book_.find_external(store, external)) {
      return json_reply(200, order_json(*existing));
    }
    if (str(recipient->as_object(), "country") == merch::kUnshippableCountry) {
      return mpp_error(422, "unshippable", "the shop does not ship to this country");
    }
    if (ctx_.knobs().refuse_all) {
      return mpp_error(422, "refused", "the shop cannot make this order (out of blanks)");
    }
    Order o;
    o.external_id = external;
    o.scope = store;
    o.request = *body;
    o.carrier = "PostNL";
    Order stored = book_.add(std::move(o));
    stored = *book_.update(stored.id, [&](Order& x) { x.confirmed_ms = ctx_.now_ms(); });
    return json_reply(201, order_json(stored));
  }

  http::Response quote(const http::Request& req) {
    auto body = merch::body_object(req);
    const auto* recipient = body ? body->if_contains("recipient") : nullptr;
    const auto* items = body ? body->if_contains("items") : nullptr;
    if (!recipient || !recipient->is_object() || !items || !items->is_array()) {
      return mpp_error(400, "invalid_request", "recipient and items are required");
    }
    if (str(recipient->as_object(), "country") == merch::kUnshippableCountry) {
      return mpp_error(422, "unshippable", "the shop does not ship to this country");
    }
    std::int64_t count = 0;
    for (const auto& it : items->as_array()) {
      if (it.is_object()) count += merch::num(it.as_object(), "quantity", 1);
    }
    std::string currency = str(*body, "currency");
    return json_reply(200, bj::object{{"amount", merch::shipping_price(count, currency)},
                                      {"currency", currency},
                                      {"method", "standard"},
                                      {"min_days", 3},
                                      {"max_days", 6}});
  }

  http::Response products(const http::Request& req) const {
    bool second = req.query_param("cursor").value_or("") == "page2";
    bj::array data;
    if (second) {
      data.push_back(product("poster", "Sim poster", 1500, {{"a3", "A3"}}));
    } else {
      data.push_back(product("tee", "Sim tee", 2500, {{"m", "M"}, {"l", "L"}}));
    }
    return json_reply(
        200, bj::object{{"data", std::move(data)},
                        {"next_cursor", second ? bj::value(nullptr) : bj::value("page2")}});
  }

  void announce(const Order& o, Stage before, std::size_t packages_before) override {
    std::vector<std::string> types;
    if (o.stage != before) types.push_back("order." + std::string(merch::to_string(o.stage)));
    if (o.stage == before && o.packages.size() > packages_before) types.push_back("order.shipped");
    std::string secret = ctx_.secret();
    auto key = webhooks::secret_key(secret);
    if (!key) return;  // the protocol's webhooks are always signed
    for (const auto& type : types) {
      std::string id = "evt_" + ctx_.random_id("", 20);
      bj::object event{{"id", id},
                       {"type", type},
                       {"created_at", merch::iso_time(ctx_.now_ms())},
                       {"data", bj::object{{"order", order_json(o)}}}};
      OutboundWebhook w;
      w.object_id = o.id;
      w.headers.push_back({"content-type", "application/json"});
      w.headers.push_back({"webhook-id", id});
      w.body = bj::serialize(event);
      std::string k = *key;
      // Signed at each send, so a retried delivery carries a fresh timestamp.
      ctx_.send_webhook(std::move(w), [k, id, this](OutboundWebhook& out) {
        std::int64_t ts = ctx_.now_ms() / 1000;
        out.headers.push_back({"webhook-timestamp", std::to_string(ts)});
        out.headers.push_back({"webhook-signature", webhooks::sign(k, id, ts, out.body)});
      });
    }
  }
};

}  // namespace

std::unique_ptr<Simulator> make_partner_protocol_sim(Context& ctx) {
  return std::make_unique<PartnerProtocolSim>(ctx);
}

}  // namespace mg::sim
