// Merch partners in the gateway's flows, without a partner on the wire: unsigned webhooks (Gelato,
// Printful v1) are only hints to read the order back, and anyone can post them, so a flood of
// hints for one fulfillment queues one read; a product a partner cannot quote is the catalog's
// fault (422 naming the line), not the partner's.
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

}  // namespace
}  // namespace mg::testing
