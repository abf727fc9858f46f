// Merch partners in the gateway's flows, without a partner on the wire: unsigned webhooks (Gelato,
// Printful v1) are only hints to read the order back, and anyone can post them, so a flood of
// hints for one fulfillment queues one read; a product a partner cannot quote is the catalog's
// fault (422 naming the line), not the partner's; an order that fails after part of it shipped
// is refunded what did not ship, once.
#include "gateway/core/crypto.hpp"
#include "tests/integration/flow/flow_helpers.hpp"

#include <gtest/gtest.h>

namespace mg::testing {
namespace {

namespace bj = boost::json;

// Gelato at an address nothing listens on, quoting from the products' shipping tables: nothing
// here needs Gelato to answer.
void gelato_with_card(GatewayFixture& f, const std::string& shipping) {
  Reply put = f.admin("PUT", "/v1/admin/adapters/gelato-main",
                      R"({"type": "gelato", "base_url": "http://127.0.0.1:9",
                          "credentials": {"api_key": "k"},
                          "settings": {"shipping_quotes": "table"}})");
  ASSERT_EQ(put.status, 201) << put.body;
  put = f.admin("PUT", "/v1/admin/products/g-card",
                R"({"seller": "sel_hype", "title": "Card", "unit_amount": 900, "currency": "EUR",
                    "fulfillment": {"adapter": "gelato-main", "product_uid": "cards_a5",
                                    "files": [{"url": "https://cdn.example/card.pdf"}])" +
                    shipping + "}}");
  ASSERT_EQ(put.status, 201) << put.body;
}

TEST(MerchPartnerFlow, HintsForOneFulfillmentQueueOneReadWhileItWaits) {
  // No job workers: what the hints queue stays queued, so it can be counted.
  GatewayFixture f([](config::Config& c) { c.job_concurrency = 0; });
  gelato_with_card(f, R"(, "shipping": {"EUR": 300})");
  auto c = f.create_checkout({{"g-card", 1}});
  std::string id = flow::str(c.at("id"));
  std::string fid = flow::str(c.at("fulfillments").as_array()[0].at("id"));
  for (int i = 0; i < 5; ++i) {
    std::string body = bj::serialize(bj::object{{"id", "os_hint_" + std::to_string(i)},
                                                {"event", "order_status_updated"},
                                                {"orderId", "g-order-1"},
                                                {"orderReferenceId", fid},
                                                {"fulfillmentStatus", "shipped"}});
    Reply r =
        f.request("POST", "/v1/webhooks/gelato-main", body, {{"content-type", "application/json"}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  EXPECT_EQ(f.count(flow::jobs_sql(id, "fulfillment.sync", "queued")), 1);
  // Each hint is still stored (and would be deduplicated on its own id).
  EXPECT_EQ(
      f.count("SELECT COUNT(*) FROM inbound_webhooks WHERE partner_event_id LIKE 'os_hint_%'"), 5);
  // Nothing a hint says is applied: the fulfillment waits for what Gelato's API says.
  EXPECT_EQ(flow::str(f.get_checkout(id).at("fulfillments").as_array()[0].at("status")), "pending");
}

TEST(MerchPartnerFlow, AProductNothingCanQuoteIsRefusedNamingItsLineAndNothingIsStored) {
  GatewayFixture f;
  gelato_with_card(f, "");  // no shipping table, and Gelato is told not to quote
  auto counts = f.table_counts();
  Reply r =
      f.app("POST", "/v1/checkouts", GatewayFixture::checkout_body({{"tee", 1}, {"g-card", 2}}));
  ASSERT_EQ(r.status, 422) << r.body;
  bj::value doc = r.json();
  const auto& error = doc.at("error");
  EXPECT_EQ(flow::str(error.at("code")), "unprocessable");
  EXPECT_EQ(flow::str(error.at("param")), "lines[1].sku");
  EXPECT_NE(flow::str(error.at("message")).find("g-card"), std::string::npos) << r.body;
  EXPECT_NE(flow::str(error.at("message")).find("'shipping' table"), std::string::npos) << r.body;
  EXPECT_EQ(f.table_counts(), counts);
}

// Printful v2 webhooks are signed with the hex-decoded secret.
constexpr const char* kPrintfulSecret =
    "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

// Printful at an address nothing listens on (the order is never placed from here), quoting from
// the products' shipping tables: 400 for the first item, 100 for each further one.
void printful_with_tee_and_cap(GatewayFixture& f) {
  Reply put = f.admin("PUT", "/v1/admin/adapters/printful-main",
                      std::string(R"({"type": "printful", "base_url": "http://127.0.0.1:9",
                          "credentials": {"api_token": "t", "webhook_secret": ")") +
                          kPrintfulSecret + R"("}, "settings": {"shipping_quotes": "table"}})");
  ASSERT_EQ(put.status, 201) << put.body;
  for (auto [sku, amount] : {std::pair{"pf-tee", 2500}, std::pair{"pf-cap", 1500}}) {
    put = f.admin("PUT", std::string("/v1/admin/products/") + sku,
                  bj::serialize(bj::object{
                      {"seller", "sel_hype"},
                      {"title", sku},
                      {"unit_amount", amount},
                      {"currency", "EUR"},
                      {"fulfillment", bj::object{{"adapter", "printful-main"},
                                                 {"sync_variant", "10"},
                                                 {"shipping", bj::object{{"EUR", 400}}},
                                                 {"shipping_additional", bj::object{{"EUR", 100}}}}}}));
    ASSERT_EQ(put.status, 201) << put.body;
  }
}

// What Printful signs about order 77 (merchgate's `fid`): its status, and one package that held
// one of the two tees.
Reply post_printful_order(GatewayFixture& f, const std::string& type, const std::string& status,
                          const std::string& fid, const std::string& occurred_at) {
  bj::object order{
      {"id", 77},
      {"external_id", fid},
      {"status", status},
      {"items", bj::array{bj::object{{"id", 1}, {"external_id", "pf-tee"}, {"quantity", 2}},
                          bj::object{{"id", 2}, {"external_id", "pf-cap"}, {"quantity", 1}}}},
      {"shipments", bj::array{bj::object{{"id", 10},
                                         {"carrier", "USPS"},
                                         {"tracking_number", "9400110200828911663274"},
                                         {"tracking_url", "https://tools.usps.com/t/9400"},
                                         {"shipped_at", 1588716060},
                                         {"reshipment", false},
                                         {"items", bj::array{bj::object{{"item_id", 1},
                                                                        {"quantity", 1}}}}}}}};
  bj::object data{{"order", std::move(order)}};
  if (status == "failed") data["reason"] = "The cap's blank is out of stock";
  std::string body = bj::serialize(bj::object{{"type", type},
                                              {"occurred_at", occurred_at},
                                              {"retries", 0},
                                              {"store_id", 1},
                                              {"data", std::move(data)}});
  std::string key = *core::hex_decode(kPrintfulSecret);
  return f.request("POST", "/v1/webhooks/printful-main", body,
                   {{"content-type", "application/json"},
                    {"x-pf-webhook-signature", core::hex_encode(core::hmac_sha256(key, body))}});
}

TEST(MerchPartnerFlow, AnOrderFailingAfterItsFirstPackageRefundsWhatDidNotShipOnce) {
  GatewayFixture f;
  printful_with_tee_and_cap(f);
  auto c = f.create_checkout({{"pf-tee", 2}, {"pf-cap", 1}});
  std::string id = flow::str(c.at("id"));
  ASSERT_EQ(c.at("amount_total").as_int64(), 5000 + 1500 + 600);
  std::string fid = flow::str(c.at("fulfillments").as_array()[0].at("id"));
  f.wait_for_status(id, "paid");

  Reply partial = post_printful_order(f, "order_updated", "partial", fid, "2026-11-26T10:00:00Z");
  ASSERT_EQ(partial.status, 200) << partial.body;
  auto shipping = f.get_checkout(id);
  const auto* ful = flow::fulfillment_at(shipping, "printful-main");
  ASSERT_TRUE(ful);
  EXPECT_EQ(flow::str(ful->at("status")), "in_production");
  EXPECT_EQ(ful->at("lines").as_array()[0].at("quantity_shipped").as_int64(), 1);
  EXPECT_EQ(ful->at("lines").as_array()[1].at("quantity_shipped").as_int64(), 0);

  Reply failed = post_printful_order(f, "order_failed", "failed", fid, "2026-11-26T11:00:00Z");
  ASSERT_EQ(failed.status, 200) << failed.body;
  auto done = f.wait_for_status(id, "partially_refunded");
  ASSERT_EQ(flow::str(done.at("status")), "partially_refunded") << flow::text(done);
  ful = flow::fulfillment_at(done, "printful-main");
  EXPECT_EQ(flow::str(ful->at("status")), "failed");
  EXPECT_EQ(flow::str(ful->at("failure_code")), "printful_failed");
  EXPECT_NE(flow::str(ful->at("failure_message")).find("refunded what did not ship"),
            std::string::npos)
      << flow::text(*ful);
  ASSERT_EQ(done.at("refunds").as_array().size(), 1u);
  const auto& refund = done.at("refunds").as_array()[0];
  // One tee and the cap: 4000, and 600 x 4000 / 6500 of the shipping (369.2).
  EXPECT_EQ(refund.at("amount").as_int64(), 4000 + 369);
  EXPECT_TRUE(refund.at("automatic").as_bool());
  EXPECT_EQ(flow::str(refund.at("reason")), "fulfillment_failed");
  EXPECT_EQ(flow::str(refund.at("fulfillment")), fid);
  EXPECT_EQ(flow::text(refund.at("lines")),
            R"([{"sku":"pf-tee","quantity":1},{"sku":"pf-cap","quantity":1}])");
  EXPECT_EQ(flow::scalar(flow::ledger_path(f, "sandbox-pay"), "SELECT SUM(amount) FROM refunds"),
            "4369");

  // The failure again, redelivered as is and as a new event: nothing more is refunded.
  auto types = f.event_types(id);
  EXPECT_EQ(post_printful_order(f, "order_failed", "failed", fid, "2026-11-26T11:00:00Z").status,
            200);
  EXPECT_EQ(post_printful_order(f, "order_failed", "failed", fid, "2026-11-26T12:00:00Z").status,
            200);
  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));
  EXPECT_EQ(f.get_checkout(id).at("refunds").as_array().size(), 1u);
  EXPECT_EQ(f.event_types(id), types);
  EXPECT_EQ(flow::count_of(types, "fulfillment.shipped"), 1);
  EXPECT_EQ(flow::count_of(types, "fulfillment.failed"), 1);
  EXPECT_EQ(flow::count_of(types, "refund.succeeded"), 1);
  EXPECT_EQ(types.back(), "checkout.partially_refunded");
}

}  // namespace
}  // namespace mg::testing
