#pragma once
// The payment processors end to end: the real `merchgate` configured against the real
// `merchgate-sim` serving Stripe, PayPal and Adyen, each adapter with the credentials the
// simulator signs its webhooks with, and helpers that act as the buyer's browser.
#include "gateway/core/crypto.hpp"
#include "tests/e2e/checkout_wait.hpp"
#include "tests/e2e/merch_sim_process.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

namespace mg::testing::payments {

namespace bj = boost::json;

// Any whsec_ string works: Stripe keys the HMAC with the whole secret.
inline constexpr const char* kStripeSecret = "whsec_ZTJlLXN0cmlwZS13ZWJob29rLXNpZ25pbmc=";
inline constexpr const char* kStripeKey = "sk_test_51E2eMerchgateSimulatorKey";
// PayPal's webhook_id: the simulator puts it in the signed string, merchgate checks it.
inline constexpr const char* kPaypalWebhookId = "8PT597110X687430LKGECATA";
// Adyen's documented example HMAC key (hex).
inline constexpr const char* kAdyenHmac =
    "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056";

inline std::string hook(const GatewayProcess& gw, const std::string& adapter) {
  return "http://127.0.0.1:" + std::to_string(gw.port()) + "/v1/webhooks/" + adapter;
}

// The simulator serving the three processors, signing webhooks for adapters named
// stripe-main, paypal-main and adyen-main on `gw`.
inline std::vector<SimProcess::Partner> processors(const GatewayProcess& gw) {
  return {{"stripe", hook(gw, "stripe-main"), kStripeSecret},
          {"paypal", hook(gw, "paypal-main"), kPaypalWebhookId},
          {"adyen", hook(gw, "adyen-main"), kAdyenHmac}};
}

inline void put(GatewayProcess& gw, const std::string& target, const bj::object& body) {
  auto r = admin(gw, "PUT", target, bj::serialize(body));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->status == 200 || r->status == 201) << target << ": " << r->body;
}

// Adapter blocks exactly as an operator writes them (docs/adapters/<type>.md).
inline bj::object adapter_block(const std::string& type, const std::string& base_url) {
  if (type == "stripe") {
    return {{"type", "stripe"},
            {"enabled", true},
            {"base_url", base_url},
            {"credentials", {{"secret_key", kStripeKey}, {"webhook_secret", kStripeSecret}}},
            {"settings", bj::object{}}};
  }
  if (type == "paypal") {
    return {{"type", "paypal"},
            {"enabled", true},
            {"base_url", base_url},
            {"credentials",
             {{"client_id", "e2e-client"},
              {"client_secret", "e2e-secret"},
              {"webhook_id", kPaypalWebhookId}}},
            {"settings",
             {{"environment", "sandbox"},
              {"webhook_verification", "certificate"},
              {"certificate_hosts", bj::array{"127.0.0.1"}}}}};
  }
  return {{"type", "adyen"},
          {"enabled", true},
          {"base_url", base_url},
          {"credentials", {{"api_key", "AQE1e2eMerchgateSimKey"}, {"hmac_key", kAdyenHmac}}},
          {"settings", {{"merchant_account", "MerchgateECOM"}}}};
}

// `<type>-main` at the simulator, plus a routing rule that sends every checkout to `order`.
inline void configure(GatewayProcess& gw, const SimProcess& sim,
                      const std::vector<std::string>& order) {
  for (const char* type : {"stripe", "paypal", "adyen"}) {
    if (sim.url(type).empty()) continue;
    put(gw, std::string("/v1/admin/adapters/") + type + "-main",
        adapter_block(type, sim.url(type)));
  }
  bj::array processors;
  for (const auto& p : order) processors.push_back(bj::value(p));
  put(gw, "/v1/admin/routing",
      {{"rules", bj::array{bj::object{{"match", bj::object{}}, {"processors", processors}}}}});
}

// checkout(), wait_checkout(), event_types() and has_event() come from tests/e2e/checkout_wait.hpp.
using mg::testing::checkout;
using mg::testing::event_types;
using mg::testing::has_event;
using mg::testing::wait_checkout;

inline std::string payment_status(const bj::object& c) {
  return std::string(c.at("payment").at("status").as_string());
}

inline std::function<bool(const bj::object&)> payment_is(std::string status) {
  return [status](const bj::object& c) { return payment_status(c) == status; };
}

// POST /v1/checkouts for `lines` paid with `method` ("" for none); the 201 body.
inline bj::object create(GatewayProcess& gw, const std::vector<std::pair<std::string, int>>& lines,
                         const std::string& method) {
  auto r = gw.app("POST", "/v1/checkouts", GatewayFixture::checkout_body(lines, method),
                  core::new_id("idem"));
  EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no answer") << "\n" << gw.log_tail();
  if (!r || r->status != 201) return {};
  bj::value doc = r->json();
  return doc.as_object();
}

inline std::optional<Reply> refund(GatewayProcess& gw, const std::string& id, std::int64_t amount) {
  return gw.app("POST", "/v1/checkouts/" + id + "/refunds",
                bj::serialize(bj::object{{"amount", amount}, {"reason", "requested_by_customer"}}),
                core::new_id("idem"));
}

inline std::optional<Reply> cancel(GatewayProcess& gw, const std::string& id) {
  return gw.app("POST", "/v1/checkouts/" + id + "/cancel", "{}", core::new_id("idem"));
}

// The URL of a created checkout's redirect client action.
inline std::string action_url(const bj::object& created) {
  return std::string(created.at("payment").at("client_action").at("url").as_string());
}

inline bool has_dispute(const bj::object& c) { return !c.at("disputes").as_array().empty(); }

// What the buyer's browser does with a redirect client action: one GET, no redirect followed.
inline Reply browse(const std::string& url) {
  http::ClientOptions options;
  options.allow_loopback = true;
  options.total_timeout = std::chrono::seconds(10);
  http::ClientRequest req;
  req.method = "GET";
  req.url = url;
  auto r = http::fetch_blocking(options, req);
  if (!r) return Reply{0, r.error().message(), {}};
  return {r->status, r->body, r->headers};
}

inline bj::object sim_state(const SimProcess& sim, const std::string& partner) {
  Reply r = sim.call(partner, "GET", "/__sim/state");
  if (r.status != 200) return {};
  bj::value doc = r.json();
  return doc.as_object();
}

// Requests the simulator received with this method and exact path (query excluded).
inline std::vector<bj::object> received(const SimProcess& sim, const std::string& partner,
                                        const std::string& method, const std::string& path) {
  std::vector<bj::object> out;
  for (const auto& v : sim.requests(partner)) {
    const auto& r = v.as_object();
    std::string target(r.at("target").as_string());
    target = target.substr(0, target.find('?'));
    if (r.at("method").as_string() == method && target == path) out.push_back(r);
  }
  return out;
}

inline std::string header_of(const bj::object& recorded, const std::string& name) {
  const auto* v = recorded.at("headers").as_object().if_contains(name);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace mg::testing::payments
