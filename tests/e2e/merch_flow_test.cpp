// Merch partners end to end: the real `merchgate` and `merchgate-sim` binaries over loopback.
// One checkout with lines from two partners makes two orders, each with its tracking; a partner
// that refuses gets its lines and their shipping refunded automatically, and one that fails after
// its first package (Printful, Printify, Gelato) what did not ship, once; an outage or rejected
// credentials are waited out (one order, no refund); a cancel asks the partner first; duplicated
// and reordered webhooks count once, and a Gelato order split in two packages announces each;
// with every webhook dropped the reconciler still catches up; an unsigned webhook that
// contradicts the partner's API changes nothing but a read of that API; and the catalog imports
// the partners' products.
#include "gateway/core/crypto.hpp"
#include "tests/e2e/checkout_wait.hpp"
#include "tests/e2e/merch_sim_process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace mg::testing {
namespace {

namespace bj = boost::json;

constexpr const char* kPrintfulSecret =
    "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
constexpr const char* kProtocolSecret = "whsec_bWVyY2gtcGFydG5lci1wcm90b2NvbC10ZXN0LWtleSE=";
constexpr const char* kPrintifySecret = "printify-e2e-secret";

std::string hook(const GatewayProcess& gw, const std::string& adapter) {
  return "http://127.0.0.1:" + std::to_string(gw.port()) + "/v1/webhooks/" + adapter;
}

void put(GatewayProcess& gw, const std::string& target, const bj::object& body) {
  auto r = admin(gw, "PUT", target, bj::serialize(body));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->status == 200 || r->status == 201) << target << ": " << r->body;
}

// A product of sel_hype in EUR, made by the partner its fulfillment block names.
void put_product(GatewayProcess& gw, const std::string& sku, const std::string& title,
                 std::int64_t unit_amount, const bj::object& fulfillment) {
  put(gw, "/v1/admin/products/" + sku,
      {{"seller", "sel_hype"},
       {"title", title},
       {"unit_amount", unit_amount},
       {"currency", "EUR"},
       {"fulfillment", fulfillment}});
}

// The merch adapters at the simulator, and one product each.
void configure(GatewayProcess& gw, const SimProcess& sim) {
  if (!sim.url("printful").empty()) {
    put(gw, "/v1/admin/adapters/printful-main",
        {{"type", "printful"},
         {"base_url", sim.url("printful")},
         {"credentials", {{"api_token", "pf-token"}, {"webhook_secret", kPrintfulSecret}}},
         {"settings", {{"store_id", "1"}}}});
    put_product(gw, "pf-tee", "Printful tee", 2500,
                {{"adapter", "printful-main"},
                 {"product", "71"},
                 {"variant", "4017"},
                 {"files", bj::array{bj::object{{"url", "https://cdn.example/front.png"}}}}});
    put_product(gw, "pf-cap", "Printful cap", 1500,
                {{"adapter", "printful-main"},
                 {"product", "206"},
                 {"variant", "7853"},
                 {"files", bj::array{bj::object{{"url", "https://cdn.example/cap.png"}}}}});
  }
  if (!sim.url("printify").empty()) {
    put(gw, "/v1/admin/adapters/printify-main",
        {{"type", "printify"},
         {"base_url", sim.url("printify")},
         {"credentials", {{"api_token", "pfy-token"}, {"webhook_secret", kPrintifySecret}}},
         {"settings", {{"shop_id", "1234"}}}});
    // The shop sells in USD: EUR checkouts quote from the products' tables (450, +100 each).
    for (auto [sku, amount] : {std::pair{"py-mug", 1400}, std::pair{"py-tee", 2000}}) {
      put_product(gw, sku, sku, amount,
                  {{"adapter", "printify-main"},
                   {"product", "5bfd0b66a342bcc9b5563216"},
                   {"variant", 17887},
                   {"shipping", {{"EUR", 450}}},
                   {"shipping_additional", {{"EUR", 100}}}});
    }
  }
  if (!sim.url("partner-protocol").empty()) {
    put(gw, "/v1/admin/adapters/shop-main",
        {{"type", "partner_protocol"},
         {"base_url", sim.url("partner-protocol")},
         {"credentials", {{"api_key", "shop-key"}, {"webhook_secret", kProtocolSecret}}},
         {"settings", {{"store", "hype"}}}});
    put_product(gw, "pp-poster", "Shop poster", 1500,
                {{"adapter", "shop-main"}, {"product", "poster"}, {"variant", "a3"}});
  }
  if (!sim.url("gelato").empty()) {
    put(gw, "/v1/admin/adapters/gelato-main",
        {{"type", "gelato"},
         {"base_url", sim.url("gelato")},
         {"credentials", {{"api_key", "gelato-key"}}},
         {"settings", bj::object{}}});
    put_product(gw, "g-card", "Gelato card", 900,
                {{"adapter", "gelato-main"},
                 {"product_uid", "cards_pf_a5_pt_350-gsm-coated-silk_cl_4-4_ver"},
                 {"files", bj::array{bj::object{{"url", "https://cdn.example/card.pdf"}}}}});
    put_product(gw, "g-poster", "Gelato poster", 1500,
                {{"adapter", "gelato-main"},
                 {"product_uid", "flat_130x180-mm-5r_170-gsm-65lb-uncoated_4-0_ver"},
                 {"files", bj::array{bj::object{{"url", "https://cdn.example/poster.pdf"}}}}});
  }
}

const bj::object* fulfillment_at(const bj::object& c, std::string_view adapter) {
  for (const auto& f : c.at("fulfillments").as_array()) {
    if (f.as_object().at("adapter").as_string() == adapter) return &f.as_object();
  }
  return nullptr;
}

std::string status_of(const bj::object* f) {
  return f ? std::string(f->at("status").as_string()) : std::string();
}

std::string create(GatewayProcess& gw, const std::vector<std::pair<std::string, int>>& lines) {
  auto r =
      gw.app("POST", "/v1/checkouts", GatewayFixture::checkout_body(lines), core::new_id("idem"));
  EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no answer") << "\n" << gw.log_tail();
  return r && r->status == 201 ? std::string(r->json().as_object().at("id").as_string())
                               : std::string();
}

TEST(MerchEndToEnd, OneCheckoutWithTwoPartnersMakesTwoOrdersEachWithTracking) {
  TempDir dir;
  GatewayProcess gw(dir.path());
  gw.start();
  SimProcess sim(dir.path(),
                 {{"printful", hook(gw, "printful-main"), kPrintfulSecret},
                  {"partner-protocol", hook(gw, "shop-main"), kProtocolSecret}},
                 300);
  configure(gw, sim);
  auto r = gw.app("POST", "/v1/checkouts",
                  GatewayFixture::checkout_body({{"pf-tee", 1}, {"pp-poster", 2}}),
                  core::new_id("idem"));
  ASSERT_TRUE(r && r->status == 201) << (r ? r->body : "") << gw.log_tail();
  bj::object created = r->json().as_object();
  std::string id(created.at("id").as_string());
  // Shipping quoted by each partner's rate endpoint: 3.99 for one item, 4.99 for two.
  EXPECT_EQ(created.at("amount_shipping"), 399 + 499);
  bj::object c = wait_checkout(gw, id, [](const bj::object& x) {
    for (const auto& f : x.at("fulfillments").as_array()) {
      if (f.as_object().at("shipments").as_array().empty()) return false;
    }
    return x.at("status") == "fulfilled";
  });
  ASSERT_EQ(c.at("status"), "fulfilled") << bj::serialize(c) << "\n" << gw.log_tail();
  ASSERT_EQ(c.at("fulfillments").as_array().size(), 2u);
  for (const auto& fv : c.at("fulfillments").as_array()) {
    const auto& f = fv.as_object();
    EXPECT_FALSE(f.at("reference").as_string().empty());
    const auto& s = f.at("shipments").as_array().at(0).as_object();
    EXPECT_FALSE(s.at("tracking_number").as_string().empty());
    EXPECT_TRUE(s.at("tracking_url").as_string().starts_with("https://")) << bj::serialize(s);
    std::string partner = f.at("adapter") == "printful-main" ? "printful" : "partner-protocol";
    EXPECT_EQ(sim.orders_for(partner, std::string(f.at("id").as_string())), 1u);
  }
  auto types = event_types(gw, id);
  EXPECT_EQ(std::count(types.begin(), types.end(), "fulfillment.shipped"), 2);
  EXPECT_EQ(std::count(types.begin(), types.end(), "checkout.fulfilled"), 1);
}

TEST(MerchEndToEnd, ARefusingPartnerIsRefundedItsLinesAndTheirShipping) {
  TempDir dir;
  GatewayProcess gw(dir.path());
  gw.start();
  SimProcess sim(dir.path(),
                 {{"printful", hook(gw, "printful-main"), kPrintfulSecret},
                  {"partner-protocol", hook(gw, "shop-main"), kProtocolSecret}},
                 300);
  configure(gw, sim);
  sim.knobs("partner-protocol", R"({"refuse_all": true})");
  std::string id = create(gw, {{"pf-tee", 1}, {"pp-poster", 1}});
  ASSERT_FALSE(id.empty());
  bj::object c = wait_checkout(gw, id, [](const bj::object& x) {
    const bj::object* shop = fulfillment_at(x, "shop-main");
    const auto& refunds = x.at("refunds").as_array();
    return status_of(shop) == "failed" && !refunds.empty() &&
           refunds[0].as_object().at("status") == "succeeded";
  });
  const bj::object* shop = fulfillment_at(c, "shop-main");
  ASSERT_EQ(status_of(shop), "failed") << bj::serialize(c) << "\n" << gw.log_tail();
  ASSERT_EQ(c.at("refunds").as_array().size(), 1u);
  const auto& refund = c.at("refunds").as_array()[0].as_object();
  EXPECT_EQ(refund.at("amount"), 1500 + 399) << "the poster and its share of shipping";
  EXPECT_EQ(refund.at("status"), "succeeded");
  EXPECT_EQ(sim.orders("partner-protocol").size(), 0u);
  // The other partner's order goes on.
  c = wait_checkout(gw, id, [](const bj::object& x) {
    return status_of(fulfillment_at(x, "printful-main")) == "shipped";
  });
  EXPECT_EQ(status_of(fulfillment_at(c, "printful-main")), "shipped");
  EXPECT_EQ(c.at("status"), "partially_refunded");
  auto types = event_types(gw, id);
  EXPECT_NE(std::find(types.begin(), types.end(), "fulfillment.failed"), types.end());
  EXPECT_NE(std::find(types.begin(), types.end(), "refund.succeeded"), types.end());
}

// A partner that fails an order after its first package left (knob fail_after_first_package:
// two lines of one unit each, the first line ships, the order fails instead of sending the
// second): the buyer gets back the second line and its share of the shipping, once, however
// often the partner repeats itself.
struct FailsAfterFirstPackage {
  std::string partner;  // the simulator
  std::string adapter;
  std::string secret;
  std::string shipped_sku, unshipped_sku;
  std::int64_t refund;  // the unshipped line's amount and its share of the shipping
};

void expect_refund_of_what_did_not_ship(const FailsAfterFirstPackage& p) {
  TempDir dir;
  GatewayProcess gw(dir.path());
  gw.start();
  SimProcess sim(dir.path(), {{p.partner, hook(gw, p.adapter), p.secret}}, 300);
  configure(gw, sim);
  sim.knobs(p.partner, R"({"duplicate_webhooks": true, "fail_after_first_package": true})");
  std::string id = create(gw, {{p.shipped_sku, 1}, {p.unshipped_sku, 1}});
  ASSERT_FALSE(id.empty());
  bj::object c = wait_checkout(gw, id, [](const bj::object& x) {
    const auto& refunds = x.at("refunds").as_array();
    return x.at("status") == "partially_refunded" && refunds.size() == 1 &&
           refunds[0].at("status") == "succeeded";
  });
  ASSERT_EQ(c.at("status"), "partially_refunded") << bj::serialize(c) << "\n" << gw.log_tail();
  const bj::object* f = fulfillment_at(c, p.adapter);
  ASSERT_TRUE(f);
  EXPECT_EQ(status_of(f), "failed");
  EXPECT_EQ(f->at("shipments").as_array().size(), 1u);
  EXPECT_NE(f->at("failure_message").as_string().find("refunded what did not ship"),
            bj::string::npos)
      << bj::serialize(*f);
  const auto& lines = f->at("lines").as_array();
  EXPECT_EQ(lines[0].at("sku").as_string(), p.shipped_sku);
  EXPECT_EQ(lines[0].at("quantity_shipped"), 1);
  EXPECT_EQ(lines[1].at("quantity_shipped"), 0);
  const auto& refund = c.at("refunds").as_array()[0].as_object();
  EXPECT_EQ(refund.at("amount"), p.refund);
  EXPECT_TRUE(refund.at("automatic").as_bool());
  EXPECT_EQ(refund.at("reason"), "fulfillment_failed");
  EXPECT_EQ(refund.at("fulfillment"), f->at("id"));
  EXPECT_EQ(bj::serialize(refund.at("lines")),
            R"([{"sku":")" + p.unshipped_sku + R"(","quantity":1}])");
  // Every webhook came twice, and the failure is read again by anything that syncs: let the
  // copies land, then the refund is still the only one and every event happened once.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  bj::object later = checkout(gw, id);
  EXPECT_EQ(later.at("refunds").as_array().size(), 1u) << bj::serialize(later);
  auto types = event_types(gw, id);
  EXPECT_EQ(std::count(types.begin(), types.end(), "fulfillment.shipped"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "fulfillment.failed"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "refund.succeeded"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "checkout.partially_refunded"), 1);
  EXPECT_EQ(sim.orders_for(p.partner, std::string(f->at("id").as_string())), 1u);
}

// The shipping splits in proportion to what shipped and what did not (largest remainder).
TEST(MerchEndToEnd, APrintfulOrderFailingAfterItsFirstPackageRefundsWhatDidNotShip) {
  // The cap (1500) did not ship; rates 4.99 for two items: 499 x 1500 / 4000 = 187.1.
  expect_refund_of_what_did_not_ship(
      {"printful", "printful-main", kPrintfulSecret, "pf-tee", "pf-cap", 1500 + 187});
}

TEST(MerchEndToEnd, APrintifyOrderFailingAfterItsFirstPackageRefundsWhatDidNotShip) {
  // The tee (2000) did not ship; table shipping 450 + 100: 550 x 2000 / 3400 = 323.5 -> 324.
  expect_refund_of_what_did_not_ship(
      {"printify", "printify-main", kPrintifySecret, "py-mug", "py-tee", 2000 + 324});
}

TEST(MerchEndToEnd, AGelatoOrderFailingAfterItsFirstPackageRefundsWhatDidNotShip) {
  // The poster (1500) did not ship; 4.99 for two items: 499 x 1500 / 2400 = 311.9 -> 312.
  expect_refund_of_what_did_not_ship(
      {"gelato", "gelato-main", "", "g-card", "g-poster", 1500 + 312});
}

// Printful with `api_token`, quoting from the tee's shipping table so a checkout opens whatever
// Printful's API does.
bj::object printful_quoting_from_tables(GatewayProcess& gw, const SimProcess& sim,
                                        const std::string& token) {
  bj::object pf{{"type", "printful"},
                {"base_url", sim.url("printful")},
                {"credentials", {{"api_token", token}, {"webhook_secret", kPrintfulSecret}}},
                {"settings", {{"store_id", "1"}, {"shipping_quotes", "table"}}}};
  put(gw, "/v1/admin/adapters/printful-main", pf);
  put_product(gw, "pf-tee", "Printful tee", 2500,
              {{"adapter", "printful-main"},
               {"variant", "4017"},
               {"files", bj::array{bj::object{{"url", "https://cdn.example/front.png"}}}},
               {"shipping", {{"EUR", 450}}}});
  return pf;
}

// How many orders merchgate tried to place at Printful (answered or not).
std::size_t order_posts(const SimProcess& sim) {
  std::size_t n = 0;
  for (const auto& r : sim.requests("printful")) {
    if (r.as_object().at("method") == "POST" &&
        r.as_object().at("target").as_string().starts_with("/orders?")) {
      ++n;
    }
  }
  return n;
}

// After a partner problem that is not the order's fault is over: one order, shipped, nobody
// refunded, no fulfillment.failed.
void expect_one_order_and_no_refund(GatewayProcess& gw, const SimProcess& sim,
                                    const std::string& id) {
  bj::object c = wait_checkout(gw, id, [](const bj::object& x) {
    return status_of(fulfillment_at(x, "printful-main")) == "shipped";
  });
  const bj::object* f = fulfillment_at(c, "printful-main");
  ASSERT_EQ(status_of(f), "shipped") << bj::serialize(c) << "\n" << gw.log_tail();
  EXPECT_EQ(sim.orders_for("printful", std::string(f->at("id").as_string())), 1u);
  EXPECT_TRUE(c.at("refunds").as_array().empty());
  EXPECT_EQ(c.at("status"), "fulfilled");
  auto types = event_types(gw, id);
  EXPECT_EQ(std::find(types.begin(), types.end(), "fulfillment.failed"), types.end());
}

TEST(MerchEndToEnd, CredentialsThePartnerRefusesAreRetriedUntilFixedNotRefunded) {
  TempDir dir;
  GatewayProcess gw(dir.path());
  gw.start();
  SimProcess sim(dir.path(), {{"printful", hook(gw, "printful-main"), kPrintfulSecret}}, 300);
  configure(gw, sim);
  bj::object pf = printful_quoting_from_tables(gw, sim, "invalid");  // Printful answers 401
  std::string id = create(gw, {{"pf-tee", 1}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(eventually([&] { return order_posts(sim) >= 1; })) << gw.log_tail();
  bj::object c = checkout(gw, id);
  EXPECT_EQ(status_of(fulfillment_at(c, "printful-main")), "pending") << bj::serialize(c);
  EXPECT_TRUE(c.at("refunds").as_array().empty()) << bj::serialize(c);
  // The operator fixes the token: the waiting order goes through, once.
  pf["credentials"].as_object()["api_token"] = "pf-token";
  put(gw, "/v1/admin/adapters/printful-main", pf);
  expect_one_order_and_no_refund(gw, sim, id);
}

TEST(MerchEndToEnd, APartnerOutageIsWaitedOutNotRefunded) {
  TempDir dir;
  GatewayProcess gw(dir.path());
  gw.start();
  SimProcess sim(dir.path(), {{"printful", hook(gw, "printful-main"), kPrintfulSecret}}, 300);
  configure(gw, sim);
  printful_quoting_from_tables(gw, sim, "pf-token");
  sim.knobs("printful", R"({"error_rate": 1.0})");  // every call answered with Printful's 5xx
  std::string id = create(gw, {{"pf-tee", 1}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(eventually([&] { return order_posts(sim) >= 1; })) << gw.log_tail();
  bj::object c = checkout(gw, id);
  EXPECT_EQ(status_of(fulfillment_at(c, "printful-main")), "pending") << bj::serialize(c);
  sim.knobs("printful", R"({"error_rate": 0})");
  expect_one_order_and_no_refund(gw, sim, id);
}

TEST(MerchEndToEnd, CancelAsksThePartnerFirstAndIsRefusedOnceProductionStarted) {
  TempDir dir;
  GatewayProcess gw(dir.path());
  gw.start();
  SimProcess sim(dir.path(), {{"gelato", hook(gw, "gelato-main"), ""}}, 1000);
  configure(gw, sim);
  // The webhook saying production started is lost: merchgate still holds the order as submitted.
  sim.knobs("gelato", R"({"drop_webhooks": true})");
  std::string id = create(gw, {{"g-card", 1}});
  ASSERT_FALSE(id.empty());
  bj::object c = wait_checkout(gw, id, [](const bj::object& x) {
    return status_of(fulfillment_at(x, "gelato-main")) == "submitted";
  });
  const bj::object* f = fulfillment_at(c, "gelato-main");
  ASSERT_EQ(status_of(f), "submitted") << bj::serialize(c) << "\n" << gw.log_tail();
  std::string fid(f->at("id").as_string());
  ASSERT_TRUE(eventually([&] {
    for (const auto& o : sim.orders("gelato")) {
      if (o.as_object().at("stage") != "submitted" && o.as_object().at("stage") != "draft") {
        return true;
      }
    }
    return false;
  }));
  auto r = gw.app("POST", "/v1/checkouts/" + id + "/cancel", "", core::new_id("idem"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409) << r->body;
  bj::value error = r->json();
  EXPECT_NE(std::string(error.at("error").at("message").as_string()).find(fid), std::string::npos)
      << r->body;
  c = checkout(gw, id);
  EXPECT_TRUE(c.at("refunds").as_array().empty()) << bj::serialize(c);
  EXPECT_TRUE(c.at("canceled_at").is_null());
  EXPECT_NE(status_of(fulfillment_at(c, "gelato-main")), "submitted") << "the partner's word";
  for (const auto& o : sim.orders("gelato")) EXPECT_NE(o.as_object().at("stage"), "canceled");
}

// A split order's events (newest first): one `fulfillment.shipped` per package, and the checkout
// fulfilled only with the last.
void expect_two_packages_announced_then_fulfilled(const std::vector<std::string>& types) {
  EXPECT_EQ(std::count(types.begin(), types.end(), "fulfillment.shipped"), 2);
  EXPECT_EQ(std::count(types.begin(), types.end(), "checkout.fulfilled"), 1);
  auto fulfilled = std::find(types.begin(), types.end(), "checkout.fulfilled");
  ASSERT_NE(fulfilled, types.end());
  EXPECT_EQ(std::count(types.begin(), fulfilled, "fulfillment.shipped"), 0)
      << "a package was announced after checkout.fulfilled";
}

TEST(MerchEndToEnd, DuplicatedAndReorderedWebhooksOfASplitShipmentCountOnce) {
  TempDir dir;
  GatewayProcess gw(dir.path());
  gw.start();
  SimProcess sim(dir.path(), {{"printful", hook(gw, "printful-main"), kPrintfulSecret}}, 100);
  configure(gw, sim);
  // Every webhook twice, newest first, and the order ships in two packages.
  sim.knobs(
      "printful",
      R"({"duplicate_webhooks": true, "out_of_order_webhooks": true, "split_shipments": true})");
  std::string id = create(gw, {{"pf-tee", 2}});
  ASSERT_FALSE(id.empty());
  bj::object c = wait_checkout(gw, id, [](const bj::object& x) {
    const bj::object* f = fulfillment_at(x, "printful-main");
    return f && f->at("shipments").as_array().size() == 2;
  });
  const bj::object* f = fulfillment_at(c, "printful-main");
  ASSERT_TRUE(f && f->at("shipments").as_array().size() == 2) << bj::serialize(c) << "\n"
                                                              << gw.log_tail();
  EXPECT_EQ(status_of(f), "shipped");
  EXPECT_EQ(c.at("status"), "fulfilled");
  EXPECT_NE(f->at("shipments").as_array()[0].at("tracking_number"),
            f->at("shipments").as_array()[1].at("tracking_number"));
  // Let the late copies arrive, then count: every step once, one `shipped` per package.
  ASSERT_TRUE(eventually([&] {
    auto r = admin(gw, "GET", "/v1/admin/checkouts/" + id + "/timeline");
    if (!r || r->status != 200) return false;
    bj::value timeline = r->json();
    return timeline.as_object().at("webhooks").as_array().size() >= 4;
  })) << gw.log_tail();
  auto types = event_types(gw, id);
  EXPECT_EQ(std::count(types.begin(), types.end(), "fulfillment.submitted"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "fulfillment.in_production"), 1);
  // Printful says `partial` between the packages.
  expect_two_packages_announced_then_fulfilled(types);
  EXPECT_EQ(sim.orders_for("printful", std::string(f->at("id").as_string())), 1u);
}

TEST(MerchEndToEnd, AGelatoOrderSplitInTwoPackagesAnnouncesEachAndShipsWithTheLast) {
  TempDir dir;
  GatewayProcess gw(dir.path());
  gw.start();
  SimProcess sim(dir.path(), {{"gelato", hook(gw, "gelato-main"), ""}}, 300);
  configure(gw, sim);
  // Every webhook twice, newest first, and the order ships in two packages: the card, then the
  // poster.
  sim.knobs(
      "gelato",
      R"({"duplicate_webhooks": true, "out_of_order_webhooks": true, "split_shipments": true})");
  std::string id = create(gw, {{"g-card", 1}, {"g-poster", 1}});
  ASSERT_FALSE(id.empty());
  // Between the packages: the first is announced, the order is still being made.
  bj::object between = wait_checkout(gw, id, [](const bj::object& x) {
    const bj::object* f = fulfillment_at(x, "gelato-main");
    return f && f->at("shipments").as_array().size() >= 1;
  });
  const bj::object* f = fulfillment_at(between, "gelato-main");
  ASSERT_TRUE(f) << bj::serialize(between) << "\n" << gw.log_tail();
  if (f->at("shipments").as_array().size() == 1) {
    EXPECT_EQ(status_of(f), "in_production");
    EXPECT_EQ(f->at("lines").as_array()[0].at("quantity_shipped"), 1);
    EXPECT_EQ(f->at("lines").as_array()[1].at("quantity_shipped"), 0);
    EXPECT_EQ(between.at("status"), "fulfilling");
  }
  bj::object c = wait_checkout(gw, id, [](const bj::object& x) {
    const bj::object* f = fulfillment_at(x, "gelato-main");
    return f && f->at("shipments").as_array().size() == 2 && x.at("status") == "fulfilled";
  });
  f = fulfillment_at(c, "gelato-main");
  ASSERT_TRUE(f && f->at("shipments").as_array().size() == 2) << bj::serialize(c) << "\n"
                                                              << gw.log_tail();
  EXPECT_TRUE(status_of(f) == "shipped" || status_of(f) == "delivered") << status_of(f);
  EXPECT_NE(f->at("shipments").as_array()[0].at("tracking_number"),
            f->at("shipments").as_array()[1].at("tracking_number"));
  EXPECT_EQ(f->at("lines").as_array()[1].at("quantity_shipped"), 1);
  // Let the late copies arrive, then count: one `shipped` per package, and the checkout is
  // fulfilled only with the last (the log is newest first).
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  expect_two_packages_announced_then_fulfilled(event_types(gw, id));
  EXPECT_EQ(sim.orders_for("gelato", std::string(f->at("id").as_string())), 1u);
}

TEST(MerchEndToEnd, WithEveryWebhookLostTheReconcilerCatchesUp) {
  TempDir dir;
  GatewayProcess gw(dir.path());
  gw.start();
  SimProcess sim(dir.path(),
                 {{"printful", hook(gw, "printful-main"), kPrintfulSecret},
                  {"gelato", hook(gw, "gelato-main"), ""}},
                 300);
  configure(gw, sim);
  sim.knobs("printful", R"({"drop_webhooks": true})");
  sim.knobs("gelato", R"({"drop_webhooks": true})");
  std::string id = create(gw, {{"pf-tee", 1}, {"g-card", 1}});
  ASSERT_FALSE(id.empty());
  // Gelato's orders reach "delivered" at 4 steps; the reconciler looks after 3 s of quiet.
  bj::object c = wait_checkout(
      gw, id,
      [](const bj::object& x) {
        return status_of(fulfillment_at(x, "gelato-main")) == "delivered" &&
               status_of(fulfillment_at(x, "printful-main")) == "shipped";
      },
      std::chrono::seconds(45));
  EXPECT_EQ(status_of(fulfillment_at(c, "gelato-main")), "delivered") << bj::serialize(c) << "\n"
                                                                      << gw.log_tail();
  EXPECT_EQ(status_of(fulfillment_at(c, "printful-main")), "shipped");
  EXPECT_EQ(c.at("status"), "fulfilled");
  // Nothing came by webhook: every step was read from the partners' APIs, none skipped.
  auto types = event_types(gw, id);
  for (const char* t : {"fulfillment.submitted", "fulfillment.in_production", "fulfillment.shipped",
                        "fulfillment.delivered"}) {
    EXPECT_NE(std::find(types.begin(), types.end(), t), types.end()) << t;
  }
}

TEST(MerchEndToEnd, AnUnsignedWebhookThatContradictsTheApiChangesNothing) {
  TempDir dir;
  GatewayProcess gw(dir.path());
  gw.start();
  // Orders stay where they are for 10 minutes: the partner's API says "passed".
  SimProcess sim(dir.path(), {{"gelato", hook(gw, "gelato-main"), ""}}, 600'000);
  configure(gw, sim);
  std::string id = create(gw, {{"g-card", 1}});
  ASSERT_FALSE(id.empty());
  bj::object c = wait_checkout(gw, id, [](const bj::object& x) {
    const bj::object* f = fulfillment_at(x, "gelato-main");
    return f && f->at("reference").is_string() && !f->at("reference").as_string().empty();
  });
  const bj::object* f = fulfillment_at(c, "gelato-main");
  ASSERT_TRUE(f) << gw.log_tail();
  std::string reference(f->at("reference").as_string());
  std::string fid(f->at("id").as_string());
  std::size_t reads_before = 0;
  for (const auto& r : sim.requests("gelato")) {
    if (r.as_object().at("target").as_string() == "/v4/orders/" + reference) ++reads_before;
  }
  // Anyone can post this: it claims the order shipped, with tracking.
  std::string forged = bj::serialize(bj::object{
      {"id", "os_forged_1"},
      {"event", "order_status_updated"},
      {"orderId", reference},
      {"storeId", nullptr},
      {"orderReferenceId", fid},
      {"fulfillmentStatus", "shipped"},
      {"items",
       bj::array{bj::object{
           {"itemReferenceId", "g-card"},
           {"fulfillmentStatus", "shipped"},
           {"fulfillments", bj::array{bj::object{{"trackingCode", "FAKE123"},
                                                 {"trackingUrl", "https://evil.example"}}}}}}}});
  auto posted = gw.request("POST", "/v1/webhooks/gelato-main", forged,
                           {{"content-type", "application/json"}});
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 200) << posted->body;
  // merchgate asks Gelato, and Gelato says the order is only accepted.
  ASSERT_TRUE(eventually([&] {
    std::size_t reads = 0;
    for (const auto& r : sim.requests("gelato")) {
      if (r.as_object().at("target").as_string() == "/v4/orders/" + reference) ++reads;
    }
    return reads > reads_before;
  })) << gw.log_tail();
  // Give the sync job's answer time to be recorded, then check nothing moved.
  ASSERT_TRUE(eventually([&] {
    auto r = admin(gw, "GET", "/v1/admin/checkouts/" + id + "/timeline");
    if (!r || r->status != 200) return false;
    bj::value timeline = r->json();
    for (const auto& call : timeline.as_object().at("partner_calls").as_array()) {
      if (call.as_object().at("operation") == "fulfillment.get") return true;
    }
    return false;
  }));
  c = checkout(gw, id);
  f = fulfillment_at(c, "gelato-main");
  ASSERT_TRUE(f);
  EXPECT_EQ(status_of(f), "submitted");
  EXPECT_TRUE(f->at("shipments").as_array().empty()) << bj::serialize(*f);
  auto types = event_types(gw, id);
  EXPECT_EQ(std::find(types.begin(), types.end(), "fulfillment.shipped"), types.end());
}

TEST(MerchEndToEnd, CatalogImportBringsThePartnersProductsWithTheirIds) {
  TempDir dir;
  GatewayProcess gw(dir.path());
  gw.start();
  SimProcess sim(dir.path(),
                 {{"printful", "", ""}, {"printify", "", ""}, {"partner-protocol", "", ""}}, 300);
  configure(gw, sim);
  put(gw, "/v1/admin/adapters/printify-main",
      {{"type", "printify"},
       {"base_url", sim.url("printify")},
       {"credentials", {{"api_token", "pfy-token"}}},
       {"settings", {{"shop_id", "1234"}}}});
  auto pf = admin(gw, "POST", "/v1/admin/adapters/printful-main/import-products",
                  R"({"seller": "sel_hype"})");
  ASSERT_TRUE(pf);
  ASSERT_EQ(pf->status, 200) << pf->body;
  EXPECT_EQ(pf->json().as_object().at("created").as_array().size(), 3u) << pf->body;
  auto product = admin(gw, "GET", "/v1/admin/products/sim-tee-black-m");
  ASSERT_TRUE(product && product->status == 200);
  bj::object p = product->json().as_object();
  EXPECT_EQ(p.at("unit_amount"), 2500);
  EXPECT_EQ(p.at("fulfillment").at("adapter"), "printful-main");
  EXPECT_EQ(p.at("fulfillment").at("sync_variant"), "3011");
  // Again: the products exist, so they are skipped unless overwrite is asked for.
  auto again = admin(gw, "POST", "/v1/admin/adapters/printful-main/import-products",
                     R"({"seller": "sel_hype"})");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->json().as_object().at("skipped").as_array().size(), 3u);
  auto overwrite = admin(gw, "POST", "/v1/admin/adapters/printful-main/import-products",
                         R"({"seller": "sel_hype", "overwrite": true})");
  ASSERT_TRUE(overwrite);
  EXPECT_EQ(overwrite->json().as_object().at("updated").as_array().size(), 3u);

  auto pfy = admin(gw, "POST", "/v1/admin/adapters/printify-main/import-products",
                   R"({"seller": "sel_hype", "sku_prefix": "pfy-"})");
  ASSERT_TRUE(pfy);
  ASSERT_EQ(pfy->status, 200) << pfy->body;
  EXPECT_EQ(pfy->json().as_object().at("created").as_array().size(), 3u) << pfy->body;
  auto shop = admin(gw, "POST", "/v1/admin/adapters/shop-main/import-products",
                    R"({"seller": "sel_hype"})");
  ASSERT_TRUE(shop);
  ASSERT_EQ(shop->status, 200) << shop->body;
  EXPECT_EQ(shop->json().as_object().at("created").as_array().size(), 3u) << shop->body;
  // An imported product sells like any other.
  std::string id = create(gw, {{"tee-m", 1}});
  EXPECT_FALSE(id.empty());
  auto sandbox = admin(gw, "POST", "/v1/admin/adapters/sandbox-merch/import-products",
                       R"({"seller": "sel_hype"})");
  ASSERT_TRUE(sandbox);
  EXPECT_EQ(sandbox->status, 422) << sandbox->body;
  auto missing =
      admin(gw, "POST", "/v1/admin/adapters/nope/import-products", R"({"seller": "sel_hype"})");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

}  // namespace
}  // namespace mg::testing
