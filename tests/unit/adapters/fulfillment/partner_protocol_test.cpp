#include "adapters/fulfillment/partner_protocol/partner_protocol.hpp"
#include "adapters/fulfillment/spring/spring.hpp"

#include "tests/unit/adapters/fulfillment/merch_test_support.hpp"
#include "webhooks/signature/standard_webhooks.hpp"

#include <gtest/gtest.h>

namespace mg::adapters::protocol {
namespace {

namespace bj = boost::json;
using testing::fixture;
using testing::fixture_json;

// A Standard Webhooks vector computed with Python (hmac, base64) over the exact bytes of
// protocol/webhook_order_shipped.json: key "merch-partner-protocol-test-key!".
constexpr const char* kSecret = "whsec_bWVyY2gtcGFydG5lci1wcm90b2NvbC10ZXN0LWtleSE=";
constexpr const char* kId = "evt_2bXq9mTt4Lz";
constexpr std::int64_t kTimestamp = 1795710725;  // 2026-11-26T16:32:05Z
constexpr const char* kSignature = "v1,42kgILo/K/3RTVawFRY/L+lyp4xIjfJAl0iZWBV0ENs=";

std::vector<std::string> keys() { return {*webhooks::secret_key(kSecret)}; }

adapters::WebhookRequest signed_request(std::string body, std::int64_t now_seconds) {
  return testing::webhook(std::move(body),
                          {{"webhook-id", kId},
                           {"webhook-timestamp", std::to_string(kTimestamp)},
                           {"webhook-signature", kSignature}},
                          now_seconds * 1000);
}

TEST(ProtocolWire, OrderBodyCarriesTheExternalIdAndEverythingToPrint) {
  OrderRequest r;
  r.ctx.checkout_id = "chk_1";
  r.fulfillment_id = "ful_1";
  r.currency = "EUR";
  r.amount_shipping = 399;
  r.buyer_email = "a@example.com";
  r.address = testing::address();
  r.lines.push_back(testing::line(
      "hype-tee-black-m", 2, 2500,
      bj::object{{"product", "tee"},
                 {"variant", "m"},
                 {"files", bj::array{bj::object{{"url", "https://cdn.example.com/front.png"}}}}}));
  Settings s;
  s.store = "hype";
  bj::object body = wire::order_body(r, kProtocolDialect, s);
  EXPECT_EQ(body.at("external_id"), "ful_1");
  const auto& item = body.at("items").as_array().at(0).as_object();
  EXPECT_EQ(item.at("product_id"), "tee");
  EXPECT_EQ(item.at("variant_id"), "m");
  EXPECT_EQ(item.at("quantity"), 2);
  EXPECT_EQ(item.at("unit_price").at("amount"), 2500);
  EXPECT_EQ(item.at("files").as_array().at(0).at("placement"), "front");
  EXPECT_EQ(body.at("recipient").at("postal_code"), "20121");
  EXPECT_EQ(body.at("shipping").at("amount"), 399);
  EXPECT_EQ(body.at("metadata").at("checkout"), "chk_1");
}

TEST(ProtocolWire, SpringNamesItsProductsListings) {
  OrderRequest r;
  r.fulfillment_id = "ful_1";
  r.currency = "USD";
  r.address = testing::address("US");
  r.lines.push_back(testing::line("creator-hoodie", 1, 4500,
                                  bj::object{{"listing", "lst_123"}, {"variant", "9"}}));
  Settings s;
  s.store = "my-creator-store";
  bj::object body = wire::order_body(r, spring::kSpringDialect, s);
  EXPECT_EQ(body.at("items").as_array().at(0).at("product_id"), "lst_123");
  EXPECT_EQ(body.at("items").as_array().at(0).at("variant_id"), "9");
}

TEST(ProtocolWire, ReadsTheDocumentedOrder) {
  auto fact = wire::order_fact(fixture_json("protocol/order.json"));
  ASSERT_TRUE(fact) << fact.error().message;
  EXPECT_EQ(fact->reference, "mpo_7Hq2kD9xW1zB");
  EXPECT_EQ(fact->status, core::FulfillmentStatus::shipped);
  ASSERT_EQ(fact->shipments.size(), 1u);
  EXPECT_EQ(fact->shipments[0].carrier, "PostNL");
  EXPECT_EQ(fact->shipments[0].tracking_number, "3SABCD0123456789");
  EXPECT_GT(fact->shipments[0].shipped_at, 0);
  bj::object odd = fixture_json("protocol/order.json");
  odd["status"] = "teleported";
  EXPECT_FALSE(wire::order_fact(odd));
}

TEST(ProtocolWire, QuoteMustBeInTheCheckoutCurrency) {
  EXPECT_EQ(wire::quote_of(bj::object{{"amount", 399}, {"currency", "EUR"}}, "EUR")->amount, 399);
  EXPECT_FALSE(wire::quote_of(bj::object{{"amount", 399}, {"currency", "USD"}}, "EUR"));
  EXPECT_FALSE(wire::quote_of(bj::object{{"amount", "3.99"}, {"currency", "EUR"}}, "EUR"));
}

TEST(ProtocolWebhook, KnownVectorVerifiesAndTheOrderIsApplied) {
  auto r = wire::parse_webhook(
      signed_request(fixture("protocol/webhook_order_shipped.json"), kTimestamp + 10), keys());
  ASSERT_TRUE(r) << r.error().message;
  const auto& e = r->events.at(0);
  EXPECT_EQ(e.partner_event_id, kId);
  EXPECT_EQ(e.fulfillment_id, "ful_0Kx3b7Q2aZ8mN4pR6tV1wY9c");
  EXPECT_EQ(e.order_reference, "mpo_7Hq2kD9xW1zB");
  ASSERT_TRUE(e.fulfillment);
  EXPECT_EQ(e.fulfillment->status, core::FulfillmentStatus::shipped);
  EXPECT_EQ(e.fulfillment->shipments.at(0).tracking_number, "3SABCD0123456789");
}

TEST(ProtocolWebhook, OurSignerProducesTheSameVector) {
  EXPECT_EQ(
      webhooks::sign(keys()[0], kId, kTimestamp, fixture("protocol/webhook_order_shipped.json")),
      kSignature);
}

TEST(ProtocolWebhook, RejectsStaleTamperedAndUnsignedWebhooks) {
  std::string body = fixture("protocol/webhook_order_shipped.json");
  auto stale = wire::parse_webhook(signed_request(body, kTimestamp + 3600), keys());
  ASSERT_FALSE(stale);
  EXPECT_TRUE(stale.error().is(adapter_errc::stale_webhook));
  std::string tampered = body;
  tampered.replace(tampered.find("shipped"), 7, "deliver");
  auto bad = wire::parse_webhook(signed_request(tampered, kTimestamp), keys());
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().is(adapter_errc::invalid_webhook));
  auto unsigned_ = wire::parse_webhook(testing::webhook(body, {}, kTimestamp * 1000), keys());
  ASSERT_FALSE(unsigned_);
  EXPECT_TRUE(unsigned_.error().is(adapter_errc::invalid_webhook));
}

TEST(ProtocolImport, VariantsBecomeProductsInTheDialectsNames) {
  bj::object product{
      {"id", "lst_1"},
      {"title", "Creator hoodie"},
      {"images", bj::array{"https://img.example/1.png", "http://insecure.example/2.png"}},
      {"variants",
       bj::array{bj::object{{"id", "9"},
                            {"sku", "creator-hoodie-m"},
                            {"title", "M"},
                            {"price", bj::object{{"amount", 4500}, {"currency", "USD"}}},
                            {"options", bj::object{{"size", "M"}}},
                            {"available", true}},
                 bj::object{{"id", "10"}, {"title", "L"}, {"available", false}}}}};
  auto products = wire::imported_products(product, spring::kSpringDialect);
  ASSERT_EQ(products.size(), 2u);
  EXPECT_EQ(products[0].sku, "creator-hoodie-m");
  EXPECT_EQ(products[0].unit_amount, 4500);
  EXPECT_EQ(products[0].fulfillment.at("listing"), "lst_1");
  EXPECT_EQ(products[0].fulfillment.at("variant"), "9");
  EXPECT_EQ(products[0].images.size(), 1u);
  EXPECT_EQ(products[1].sku, "spring-lst_1-10");
  EXPECT_FALSE(products[1].unit_amount);
  EXPECT_FALSE(products[1].available);
}

TEST(ProtocolType, BothTypesPublishTheSameNamedCredentialsAndStore) {
  for (const AdapterType& t : {PartnerProtocolFactory::type(), spring::SpringFactory::type()}) {
    const auto& creds = t.schema.at("credentials").at("properties").as_object();
    EXPECT_TRUE(creds.contains("api_key")) << t.name;
    EXPECT_TRUE(creds.contains("webhook_secret")) << t.name;
    EXPECT_TRUE(t.schema.at("settings").at("properties").as_object().contains("store")) << t.name;
  }
}

}  // namespace
}  // namespace mg::adapters::protocol
