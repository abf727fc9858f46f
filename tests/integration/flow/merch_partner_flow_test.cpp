// Unsigned merch webhooks (Gelato, Printful v1) are only hints to read the order back, and anyone
// can post them: a flood of hints for one fulfillment queues one read, not one partner call each.
#include "tests/integration/flow/flow_helpers.hpp"

#include <gtest/gtest.h>

namespace mg::testing {
namespace {

namespace bj = boost::json;

TEST(MerchHintFlow, HintsForOneFulfillmentQueueOneReadWhileItWaits) {
  // No job workers: what the hints queue stays queued, so it can be counted.
  GatewayFixture f([](config::Config& c) { c.job_concurrency = 0; });
  Reply put = f.admin("PUT", "/v1/admin/adapters/gelato-main",
                      R"({"type": "gelato", "base_url": "http://127.0.0.1:9",
                          "credentials": {"api_key": "k"},
                          "settings": {"shipping_quotes": "table"}})");
  ASSERT_EQ(put.status, 201) << put.body;
  put = f.admin("PUT", "/v1/admin/products/g-card",
                R"({"seller": "sel_hype", "title": "Card", "unit_amount": 900, "currency": "EUR",
                    "fulfillment": {"adapter": "gelato-main", "product_uid": "cards_a5",
                                    "files": [{"url": "https://cdn.example/card.pdf"}],
                                    "shipping": {"EUR": 300}}})");
  ASSERT_EQ(put.status, 201) << put.body;
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

}  // namespace
}  // namespace mg::testing
