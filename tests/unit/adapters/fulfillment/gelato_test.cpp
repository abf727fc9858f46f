#include "adapters/fulfillment/gelato/gelato.hpp"

#include "tests/unit/adapters/fulfillment/merch_test_support.hpp"

#include <gtest/gtest.h>

namespace mg::adapters::gelato {
namespace {

namespace bj = boost::json;
using testing::fixture;
using testing::fixture_json;

TEST(GelatoWire, CreatesADraftWithTheFulfillmentIdAsOrderReference) {
  OrderRequest r;
  r.ctx.checkout_id = "chk_1";
  r.fulfillment_id = "ful_1";
  r.currency = "USD";
  r.buyer_email = "apisupport@gelato.com";
  r.address = testing::address("US");
  r.address.name = "Paul Smith";
  r.address.state = "NY";
  r.lines.push_back(testing::line(
      "tee-s", 1, 2000,
      bj::object{{"product_uid",
                  "apparel_product_gca_t-shirt_gsc_crewneck_gcu_unisex_gqa_classic_gsi_s_gco_white_"
                  "gpr_4-4"},
                 {"files", bj::array{bj::object{{"type", "back"},
                                                {"url", "https://cdn.example/logo.png"}}}}}));
  Settings s;
  s.shipment_method = "express";
  bj::object body = wire::order_body(r, s);
  EXPECT_EQ(body.at("orderType"), "draft");
  EXPECT_EQ(body.at("orderReferenceId"), "ful_1");
  EXPECT_EQ(body.at("customerReferenceId"), "chk_1");
  EXPECT_EQ(body.at("currency"), "USD");
  EXPECT_EQ(body.at("shipmentMethodUid"), "express");
  const auto& item = body.at("items").as_array().at(0).as_object();
  EXPECT_EQ(item.at("itemReferenceId"), "tee-s");
  EXPECT_EQ(item.at("quantity"), 1);
  EXPECT_EQ(item.at("files").as_array().at(0).at("type"), "back");
  const auto& a = body.at("shippingAddress").as_object();
  EXPECT_EQ(a.at("firstName"), "Paul");
  EXPECT_EQ(a.at("lastName"), "Smith");
  EXPECT_EQ(a.at("postCode"), "20121");
  EXPECT_EQ(a.at("state"), "NY");
  EXPECT_EQ(a.at("email"), "apisupport@gelato.com");
}

TEST(GelatoWire, QuotesTheCheapestOrTheConfiguredMethodFromTheDocumentedReply) {
  bj::object reply = fixture_json("gelato/quote.json");
  Settings s;
  auto cheapest = wire::pick_quote(reply, s, "EUR");
  ASSERT_TRUE(cheapest) << cheapest.error().message;
  EXPECT_EQ(cheapest->amount, 511);
  s.shipment_method = "express";
  auto express = wire::pick_quote(reply, s, "EUR");
  ASSERT_TRUE(express);
  EXPECT_EQ(express->amount, 2511);
  EXPECT_EQ(express->method, "ups_next_day_commercial");
  auto usd = wire::pick_quote(reply, s, "USD");
  ASSERT_FALSE(usd);
  EXPECT_TRUE(usd.error().is(adapter_errc::refused));
  auto empty = wire::pick_quote(bj::object{{"quotes", bj::array{}}}, s, "EUR");
  ASSERT_FALSE(empty);
  EXPECT_TRUE(empty.error().is(adapter_errc::refused));
}

TEST(GelatoWire, MapsTheDocumentedStatuses) {
  using S = core::FulfillmentStatus;
  for (const char* s : {"created", "uploading", "passed", "draft", "pending_approval",
                        "pending_personalization", "digitizing", "not_connected", "on_hold"}) {
    EXPECT_EQ(wire::map_status(s), S::submitted) << s;
  }
  EXPECT_EQ(wire::map_status("in_production"), S::in_production);
  EXPECT_EQ(wire::map_status("printed"), S::in_production);
  EXPECT_EQ(wire::map_status("shipped"), S::shipped);
  EXPECT_EQ(wire::map_status("in_transit"), S::shipped);
  EXPECT_EQ(wire::map_status("delivered"), S::delivered);
  EXPECT_EQ(wire::map_status("returned"), S::shipped);
  EXPECT_EQ(wire::map_status("failed"), S::failed);
  EXPECT_EQ(wire::map_status("canceled"), S::canceled);
}

TEST(GelatoWire, ReadsTheDocumentedOrderWithItsPackages) {
  auto fact = wire::order_fact(fixture_json("gelato/order.json"));
  EXPECT_EQ(fact.reference, "37365096-6628-4538-a9c2-fbf9892deb85");
  EXPECT_EQ(fact.status, core::FulfillmentStatus::in_production);  // printed
  ASSERT_EQ(fact.shipments.size(), 1u);
  EXPECT_EQ(fact.shipments[0].carrier, "UPS Surepost");
  EXPECT_EQ(fact.shipments[0].tracking_number, "12345678990");
  EXPECT_EQ(fact.shipments[0].tracking_url, "http://test.tracking.url");
  // The (shortened) example's package lists a second item the example leaves out: what that
  // package held is not known.
  EXPECT_FALSE(fact.shipped);
}

// The documented order made of two items, "tee" x2 and "card", of which only the tee left, in a
// package Gelato names both in the shipment and in the item's fulfillments.
bj::object order_with_one_item_shipped() {
  bj::object order = fixture_json("gelato/order.json");
  auto& items = order.at("items").as_array();
  bj::object tee = items[0].as_object();
  tee["itemReferenceId"] = "tee";
  tee["quantity"] = 2;
  tee["fulfillmentStatus"] = "shipped";
  tee["fulfillments"] = bj::array{bj::object{{"trackingCode", "12345678990"},
                                             {"trackingUrl", "http://test.tracking.url"},
                                             {"shipmentMethodName", "UPS Surepost"}}};
  bj::object card = items[0].as_object();
  card["id"] = "13c165fe-de51-4ea9-86e6-98503ae14486";
  card["itemReferenceId"] = "card";
  items = bj::array{tee, card};
  order.at("shipment").at("packages").as_array()[0].as_object()["orderItemIds"] =
      bj::array{tee.at("id")};
  return order;
}

TEST(GelatoWire, WhatShippedIsEachItemAPackageOrAFulfillmentNames) {
  bj::object order = order_with_one_item_shipped();
  auto fact = wire::order_fact(order);
  ASSERT_EQ(fact.shipments.size(), 1u);
  ASSERT_TRUE(fact.shipped);
  EXPECT_EQ(*fact.shipped, (std::map<std::string, std::int64_t>{{"tee", 2}}));
  // An item merchgate did not name (no itemReferenceId) in a package: unknown.
  order.at("items").as_array()[0].as_object().erase("itemReferenceId");
  EXPECT_FALSE(wire::order_fact(order).shipped);
  // A package no item claims: unknown.
  bj::object unclaimed = order_with_one_item_shipped();
  unclaimed.at("items").as_array()[0].as_object().erase("fulfillments");
  unclaimed.at("shipment").at("packages").as_array()[0].as_object()["orderItemIds"] = bj::array{};
  EXPECT_FALSE(wire::order_fact(unclaimed).shipped);
}

TEST(GelatoWire, ConnectedOrdersAddUpWhatTheirPartsShipped) {
  bj::object part = order_with_one_item_shipped();
  bj::object other{{"id", "other"},
                   {"fulfillmentStatus", "shipped"},
                   {"items", bj::array{bj::object{{"id", "o-1"},
                                                  {"itemReferenceId", "poster"},
                                                  {"quantity", 3},
                                                  {"fulfillments", bj::array{bj::object{
                                                                       {"trackingCode", "T-2"}}}}}}}};
  auto fact = wire::combined_fact({part, other});
  ASSERT_EQ(fact.shipments.size(), 2u);
  ASSERT_TRUE(fact.shipped);
  EXPECT_EQ(*fact.shipped, (std::map<std::string, std::int64_t>{{"poster", 3}, {"tee", 2}}));
  other.at("items").as_array()[0].as_object().erase("itemReferenceId");
  EXPECT_FALSE(wire::combined_fact({part, other}).shipped) << "one part unknown: all unknown";
}

TEST(GelatoWire, ASplitOrderMovesAsFarAsItsSlowestPart) {
  bj::object shipped = fixture_json("gelato/order.json");
  shipped["fulfillmentStatus"] = "shipped";
  bj::object passed{{"id", "other"}, {"fulfillmentStatus", "passed"}};
  auto fact = wire::combined_fact({shipped, passed});
  EXPECT_EQ(fact.status, core::FulfillmentStatus::submitted);
  EXPECT_EQ(fact.shipments.size(), 1u);
  bj::object failed{{"id", "third"}, {"fulfillmentStatus", "failed"}};
  auto shipped_and_failed = wire::combined_fact({shipped, failed});
  EXPECT_EQ(shipped_and_failed.status, core::FulfillmentStatus::failed);
  EXPECT_EQ(shipped_and_failed.shipments.size(), 1u) << "what shipped stays known";
  EXPECT_EQ(shipped_and_failed.failure_code, "gelato_failed");
  EXPECT_EQ(wire::combined_fact({failed}).status, core::FulfillmentStatus::failed);
  bj::object canceled{{"id", "c"}, {"fulfillmentStatus", "canceled"}};
  EXPECT_EQ(wire::combined_fact({shipped, canceled}).status, core::FulfillmentStatus::shipped);
}

TEST(GelatoWire, AFailedPartWaitsForTheOthersToShipOrEnd) {
  bj::object shipped = fixture_json("gelato/order.json");
  shipped["fulfillmentStatus"] = "shipped";
  bj::object failed{{"id", "f"}, {"fulfillmentStatus", "failed"}};
  bj::object printing{{"id", "p"}, {"fulfillmentStatus", "in_production"}};
  bj::object canceled{{"id", "c"}, {"fulfillmentStatus", "canceled"}};
  // A part still being made keeps the order in production (its packages are still to come)...
  auto waiting = wire::combined_fact({failed, printing, shipped});
  EXPECT_EQ(waiting.status, core::FulfillmentStatus::in_production);
  EXPECT_EQ(waiting.shipments.size(), 1u);
  // ...whichever part comes first.
  EXPECT_EQ(wire::combined_fact({printing, failed}).status, core::FulfillmentStatus::in_production);
  // Once nothing else can move, the failure stands.
  EXPECT_EQ(wire::combined_fact({failed, canceled}).status, core::FulfillmentStatus::failed);
  EXPECT_EQ(wire::combined_fact({failed, shipped}).status, core::FulfillmentStatus::failed);
}

TEST(GelatoWebhook, OrderStatusUpdatedIsUnsignedSoOnlyAHint) {
  auto r = wire::parse_webhook(
      testing::webhook(fixture("gelato/webhook_order_status_updated.json"), {}));
  ASSERT_TRUE(r) << r.error().message;
  const auto& e = r->events.at(0);
  EXPECT_EQ(e.partner_event_id, "os_5e5680ce494f6");
  EXPECT_EQ(e.kind, InboundEvent::Kind::fulfillment);
  EXPECT_EQ(e.action, "sync");
  EXPECT_FALSE(e.fulfillment) << "it says shipped; only Gelato's API may say so";
  EXPECT_EQ(e.order_reference, "a6a1f9ce-2bdd-4a9e-9f8d-0009df0e24d9");
  EXPECT_EQ(e.fulfillment_id, "{{MyOrderId}}");
}

TEST(GelatoWebhook, OtherEventsAreIgnoredAndBodiesWithoutIdAreMalformed) {
  auto stock = wire::parse_webhook(testing::webhook(
      R"({"id":"sra_1","event":"catalog_product_stock_availability_updated"})", {}));
  ASSERT_TRUE(stock);
  EXPECT_EQ(stock->events.at(0).kind, InboundEvent::Kind::ignored);
  auto bad = wire::parse_webhook(testing::webhook(R"({"event":"order_status_updated"})", {}));
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().is(adapter_errc::malformed_webhook));
}

TEST(GelatoType, PublishesTheApiKey) {
  AdapterType t = GelatoFactory::type();
  EXPECT_TRUE(t.schema.at("credentials").at("properties").as_object().contains("api_key"));
  EXPECT_EQ(t.default_base_url, "https://order.gelatoapis.com");
}

}  // namespace
}  // namespace mg::adapters::gelato
