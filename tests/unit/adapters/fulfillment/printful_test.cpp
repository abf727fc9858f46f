#include "adapters/fulfillment/printful/printful.hpp"

#include "tests/unit/adapters/fulfillment/merch_test_support.hpp"

#include <gtest/gtest.h>

namespace mg::adapters::printful {
namespace {

namespace bj = boost::json;
using testing::fixture;
using testing::fixture_json;

constexpr const char* kHexSecret =
    "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
// HMAC-SHA256(hex-decoded kHexSecret, printful/webhook_order_updated_v2.json), computed with
// Python's hmac module.
constexpr const char* kV2Signature =
    "4f92f52070d00dfc6d5950a2b3f7aa5a1586d3e67563f94e7377518579644669";

OrderRequest order_request() {
  OrderRequest r;
  r.ctx.checkout_id = "chk_1";
  r.fulfillment_id = "ful_0Kx3b7Q2aZ8mN4pR6tV1wY9c";
  r.currency = "EUR";
  r.amount_shipping = 495;
  r.buyer_email = "ada@example.com";
  r.address = testing::address();
  r.address.line2 = "Scala B";
  r.lines.push_back(testing::line(
      "tee", 2, 2500,
      bj::object{{"adapter", "printful-main"},
                 {"product", "71"},
                 {"variant", "4012"},
                 {"files", bj::array{bj::object{{"url", "https://cdn.example/f.png"}}}}}));
  r.lines.push_back(testing::line("hoodie", 1, 5500,
                                  bj::object{{"adapter", "printful-main"}, {"sync_variant", 10}}));
  return r;
}

TEST(PrintfulWire, BuildsTheOrderWithMerchgatesFulfillmentIdAsExternalId) {
  Settings s;
  bj::object body = wire::order_body(order_request(), s);
  EXPECT_EQ(body.at("external_id"), "ful_0Kx3b7Q2aZ8mN4pR6tV1wY9c");
  EXPECT_EQ(body.at("shipping"), "STANDARD");
  const auto& r = body.at("recipient").as_object();
  EXPECT_EQ(r.at("name"), "Ada Lovelace");
  EXPECT_EQ(r.at("address1"), "1 Main St");
  EXPECT_EQ(r.at("address2"), "Scala B");
  EXPECT_EQ(r.at("country_code"), "IT");
  EXPECT_EQ(r.at("zip"), "20121");
  EXPECT_EQ(r.at("email"), "ada@example.com");
  const auto& items = body.at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("variant_id"), 4012);  // numbers, as Printful's schema has them
  EXPECT_EQ(items[0].at("external_id"), "tee");  // what names it in the shipments' items
  EXPECT_EQ(items[0].at("quantity"), 2);
  EXPECT_EQ(items[0].at("retail_price"), "25.00");
  EXPECT_EQ(items[0].at("files").as_array()[0].at("url"), "https://cdn.example/f.png");
  EXPECT_EQ(items[1].at("sync_variant_id"), 10);
  EXPECT_FALSE(items[1].as_object().contains("variant_id"));
  EXPECT_EQ(body.at("retail_costs").at("currency"), "EUR");
  EXPECT_EQ(body.at("retail_costs").at("shipping"), "4.95");
}

TEST(PrintfulWire, RatesNeedACatalogVariantForEveryLine) {
  QuoteRequest q;
  q.currency = "EUR";
  q.address = testing::address("US");
  q.address.state = "CA";
  q.lines.push_back(testing::line("tee", 3, 2500, bj::object{{"variant", "4012"}}));
  auto body = wire::rates_body(q);
  ASSERT_TRUE(body);
  EXPECT_EQ(body->at("recipient").at("country_code"), "US");
  EXPECT_EQ(body->at("recipient").at("state_code"), "CA");
  EXPECT_EQ(body->at("items").as_array()[0].at("variant_id"), 4012);
  EXPECT_EQ(body->at("items").as_array()[0].at("quantity"), 3);
  EXPECT_EQ(body->at("currency"), "EUR");
  q.lines.push_back(testing::line("hoodie", 1, 5500, bj::object{{"sync_variant", "10"}}));
  EXPECT_FALSE(wire::rates_body(q));
}

TEST(PrintfulWire, PicksTheConfiguredRateFromTheDocumentedReply) {
  bj::object reply = fixture_json("printful/shipping_rates.json");
  Settings s;
  auto standard = wire::pick_rate(reply.at("result"), s, "EUR");
  ASSERT_TRUE(standard) << standard.error().message;
  EXPECT_EQ(standard->amount, 1360);
  EXPECT_EQ(standard->method, "STANDARD");
  s.shipping = "EXPRESS";
  EXPECT_EQ(wire::pick_rate(reply.at("result"), s, "EUR")->amount, 2795);
  auto other_currency = wire::pick_rate(reply.at("result"), s, "USD");
  ASSERT_FALSE(other_currency);
  EXPECT_EQ(other_currency.error().partner_code, "currency");
  auto none = wire::pick_rate(bj::array{}, s, "EUR");
  ASSERT_FALSE(none);
  EXPECT_TRUE(none.error().is(adapter_errc::refused));
}

TEST(PrintfulWire, MapsEveryDocumentedStatus) {
  using S = core::FulfillmentStatus;
  EXPECT_EQ(wire::map_status("draft"), S::submitted);
  EXPECT_EQ(wire::map_status("pending"), S::submitted);
  EXPECT_EQ(wire::map_status("onhold"), S::submitted);
  EXPECT_EQ(wire::map_status("inprocess"), S::in_production);
  // Some packages left, the rest is still being made: not shipped until the last one is.
  EXPECT_EQ(wire::map_status("partial"), S::in_production);
  EXPECT_EQ(wire::map_status("fulfilled"), S::shipped);
  EXPECT_EQ(wire::map_status("failed"), S::failed);
  EXPECT_EQ(wire::map_status("canceled"), S::canceled);
  EXPECT_EQ(wire::map_status("archived"), S::submitted);
}

TEST(PrintfulWire, ReadsTheDocumentedOrderWithEachPackage) {
  auto fact = wire::order_fact(fixture_json("printful/order.json").at("result").as_object());
  EXPECT_EQ(fact.reference, "13");
  // "partial": the packages so far are kept, the order is still in production.
  EXPECT_EQ(fact.status, core::FulfillmentStatus::in_production);
  ASSERT_EQ(fact.shipments.size(), 2u);
  // The documented example has tracking_number 0: no number yet, one entry per shipment.
  EXPECT_EQ(fact.shipments[0].tracking_number, "printful-shipment-10");
  EXPECT_EQ(fact.shipments[0].carrier, "FEDEX");
  EXPECT_EQ(fact.shipments[0].shipped_at, 1588716060000);
  EXPECT_EQ(fact.shipments[1].tracking_number, "9400110200828911663274");
  EXPECT_EQ(fact.shipments[1].tracking_url,
            "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400110200828911663274");
  // Each shipment lists item 1 once; the item's external_id names the line.
  ASSERT_TRUE(fact.shipped);
  EXPECT_EQ(*fact.shipped, (std::map<std::string, std::int64_t>{{"item-1", 2}}));
}

TEST(PrintfulWire, WhatShippedIsUnknownUnlessEveryShipmentNamesItsItems) {
  bj::object order = fixture_json("printful/order.json").at("result").as_object();
  auto shipments = [&]() -> bj::array& { return order.at("shipments").as_array(); };
  // A reshipment replaces a lost package: its items were counted already.
  shipments()[1].as_object()["reshipment"] = true;
  EXPECT_EQ(*wire::order_fact(order).shipped, (std::map<std::string, std::int64_t>{{"item-1", 1}}));
  shipments()[1].as_object()["items"] = bj::array{};
  EXPECT_FALSE(wire::order_fact(order).shipped) << "a shipment without its items";
  shipments()[1].as_object()["items"] = bj::array{bj::object{{"item_id", 99}, {"quantity", 1}}};
  EXPECT_FALSE(wire::order_fact(order).shipped) << "an item not in the order";
  shipments()[1].as_object()["items"] = bj::array{bj::object{{"item_id", 1}, {"quantity", 1}}};
  order.at("items").as_array()[0].as_object()["external_id"] = nullptr;
  EXPECT_FALSE(wire::order_fact(order).shipped) << "an item merchgate did not name";
  // Nothing shipped yet is known: nothing.
  shipments().clear();
  ASSERT_TRUE(wire::order_fact(order).shipped);
  EXPECT_TRUE(wire::order_fact(order).shipped->empty());
}

TEST(PrintfulWebhook, UnsignedV1WebhookIsOnlyAHint) {
  auto r = wire::parse_webhook(testing::webhook(fixture("printful/webhook_package_shipped_v1.json"),
                                                {{"content-type", "application/json"}}),
                               wire::webhook_keys(kHexSecret));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->events.size(), 1u);
  const auto& e = r->events[0];
  EXPECT_EQ(e.kind, InboundEvent::Kind::fulfillment);
  EXPECT_EQ(e.action, "sync");
  EXPECT_FALSE(e.fulfillment) << "an unsigned body must never be applied as a fact";
  EXPECT_EQ(e.order_reference, "13");
  EXPECT_EQ(e.fulfillment_id, "4235234213");
  EXPECT_EQ(e.partner_event_id, "pf1:package_shipped:13:1622456737:10");
}

TEST(PrintfulWebhook, SignedV2WebhookWithTheKnownVectorIsApplied) {
  auto r = wire::parse_webhook(testing::webhook(fixture("printful/webhook_order_updated_v2.json"),
                                                {{"x-pf-webhook-signature", kV2Signature},
                                                 {"x-pf-webhook-public-key", "pk"}}),
                               wire::webhook_keys(kHexSecret));
  ASSERT_TRUE(r) << r.error().message;
  const auto& e = r->events.at(0);
  EXPECT_TRUE(e.action.empty());
  ASSERT_TRUE(e.fulfillment);
  EXPECT_EQ(e.fulfillment->status, core::FulfillmentStatus::in_production);
  EXPECT_EQ(e.fulfillment_id, "4235234213");
  EXPECT_EQ(e.order_reference, "13");
}

TEST(PrintfulWebhook, RejectsAV2SignatureThatDoesNotMatch) {
  std::string body = fixture("printful/webhook_order_updated_v2.json");
  std::string tampered = body;
  tampered.replace(tampered.find("inprocess"), 9, "fulfilled");
  auto r =
      wire::parse_webhook(testing::webhook(tampered, {{"x-pf-webhook-signature", kV2Signature}}),
                          wire::webhook_keys(kHexSecret));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(adapter_errc::invalid_webhook));
  EXPECT_EQ(r.error().http_status, 401);
  auto no_secret =
      wire::parse_webhook(testing::webhook(body, {{"x-pf-webhook-signature", kV2Signature}}), {});
  ASSERT_FALSE(no_secret);
  EXPECT_TRUE(no_secret.error().is(adapter_errc::invalid_webhook));
}

TEST(PrintfulWebhook, ProductEventsAreIgnoredAndGarbageIsMalformed) {
  auto ignored = wire::parse_webhook(
      testing::webhook(R"({"type":"product_synced","created":1,"retries":0,"store":1,"data":{}})",
                       {}),
      {});
  ASSERT_TRUE(ignored);
  EXPECT_EQ(ignored->events.at(0).kind, InboundEvent::Kind::ignored);
  auto garbage = wire::parse_webhook(testing::webhook("not json", {}), {});
  ASSERT_FALSE(garbage);
  EXPECT_TRUE(garbage.error().is(adapter_errc::malformed_webhook));
}

TEST(PrintfulImport, TurnsSyncVariantsIntoProductsWithTheirIds) {
  auto products =
      wire::imported_variants(fixture_json("printful/sync_product.json").at("result").as_object());
  ASSERT_EQ(products.size(), 1u) << "ignored variants stay out";
  const auto& p = products[0];
  EXPECT_EQ(p.sku, "SKU1234");
  EXPECT_EQ(p.title, "Red T-Shirt");
  EXPECT_EQ(p.unit_amount, 2999);
  EXPECT_EQ(p.currency, "USD");
  EXPECT_EQ(p.group, "printful-13");
  EXPECT_EQ(p.options.at("size"), "XS");
  EXPECT_EQ(p.fulfillment.at("sync_variant"), "10");
  EXPECT_EQ(p.fulfillment.at("variant"), "3001");
  EXPECT_EQ(p.fulfillment.at("product"), "301");
  EXPECT_EQ(p.images.at(0), "https://files.cdn.printful.com/products/71/5309_1581412541.jpg");
}

TEST(PrintfulType, PublishesTheNamedCredentialsAndSettings) {
  AdapterType t = PrintfulFactory::type();
  const auto& creds = t.schema.at("credentials").at("properties").as_object();
  EXPECT_TRUE(creds.contains("api_token"));
  EXPECT_TRUE(creds.contains("webhook_secret"));
  EXPECT_TRUE(t.schema.at("settings").at("properties").as_object().contains("store_id"));
  EXPECT_EQ(t.default_base_url, "https://api.printful.com");
}

}  // namespace
}  // namespace mg::adapters::printful
