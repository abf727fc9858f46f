#include "adapters/fulfillment/printify/printify.hpp"

#include "gateway/core/crypto.hpp"
#include "tests/unit/adapters/fulfillment/merch_test_support.hpp"

#include <gtest/gtest.h>

namespace mg::adapters::printify {
namespace {

namespace bj = boost::json;
using testing::fixture;
using testing::fixture_json;

// The secret from Printify's "Securing your webhooks" example, and HMAC-SHA256(secret, the exact
// bytes of printify/webhook_order_shipment_created.json) computed with Python's hmac module.
constexpr const char* kSecret = "7afa37fd47d7a52ea644382e04962a83c16aef62";
constexpr const char* kSignature =
    "sha256=52e015b937d91f06a998e1f5c3b76545b65d1da12cf6d18d0f5b1aead5e9dc1b";

TEST(PrintifyWire, BuildsTheDocumentedOrderBody) {
  OrderRequest r;
  r.fulfillment_id = "ful_abc";
  r.buyer_email = "example@msn.com";
  r.address = testing::address("BE");
  r.address.name = "John Smith";
  r.address.line2 = "45";
  r.lines.push_back(
      testing::line("necklace", 1, 2200,
                    bj::object{{"product", "5bfd0b66a342bcc9b5563216"}, {"variant", 17887}}));
  r.lines.push_back(testing::line("by-sku", 2, 1000, bj::object{{"sku", "MY-SKU"}}));
  r.lines.push_back(testing::line(
      "custom", 1, 1000,
      bj::object{{"blueprint", 9},
                 {"print_provider", 5},
                 {"variant", 17887},
                 {"print_areas", bj::object{{"front", "https://images.example.com/image.png"}}}}));
  Settings s;
  s.shop_id = "815256";
  bj::object body = wire::order_body(r, s);
  EXPECT_EQ(body.at("external_id"), "ful_abc");
  EXPECT_EQ(body.at("label"), "ful_abc");
  EXPECT_EQ(body.at("shipping_method"), 1);
  EXPECT_EQ(body.at("send_shipping_notification"), false);
  const auto& a = body.at("address_to").as_object();
  EXPECT_EQ(a.at("first_name"), "John");
  EXPECT_EQ(a.at("last_name"), "Smith");
  EXPECT_EQ(a.at("country"), "BE");
  EXPECT_EQ(a.at("address2"), "45");
  EXPECT_EQ(a.at("zip"), "20121");
  const auto& items = body.at("line_items").as_array();
  // The spec's submitOrderRequest takes an external_id per line item; it comes back in the
  // order's line_items[].metadata.external_id.
  EXPECT_EQ(items[0].at("external_id"), "necklace");
  EXPECT_EQ(items[1].at("external_id"), "by-sku");
  EXPECT_EQ(items[0].at("product_id"), "5bfd0b66a342bcc9b5563216");
  EXPECT_EQ(items[0].at("variant_id"), 17887);
  EXPECT_EQ(items[1].at("sku"), "MY-SKU");
  EXPECT_EQ(items[1].at("quantity"), 2);
  EXPECT_EQ(items[2].at("blueprint_id"), 9);
  EXPECT_EQ(items[2].at("print_provider_id"), 5);
  EXPECT_EQ(items[2].at("print_areas").at("front"), "https://images.example.com/image.png");
}

TEST(PrintifyWire, StatusesAreTheOnesPrintifyDocuments) {
  using S = core::FulfillmentStatus;
  // The OpenAPI document (developers.printify.com/openapi.json) types `status` as a string and
  // shows `fulfilled`, `in-production` (order:updated) and `pending` (line items); the full list
  // is the reference text's "Order properties" -> status.
  EXPECT_EQ(wire::map_status("pending"), S::submitted);
  EXPECT_EQ(wire::map_status("on-hold"), S::submitted);
  EXPECT_EQ(wire::map_status("payment-not-received"), S::submitted);
  EXPECT_EQ(wire::map_status("sending-to-production"), S::in_production);
  EXPECT_EQ(wire::map_status("in-production"), S::in_production);
  // Some packages left, the rest is still being made: not shipped until the last one is.
  EXPECT_EQ(wire::map_status("partially-fulfilled"), S::in_production);
  EXPECT_EQ(wire::map_status("fulfilled"), S::shipped);
  EXPECT_EQ(wire::map_status("canceled"), S::canceled);
  EXPECT_EQ(wire::map_status("had-issues"), S::failed);
  // Older values still seen in SDKs.
  EXPECT_EQ(wire::map_status("has-issues"), S::failed);
  EXPECT_EQ(wire::map_status("checking-quality"), S::submitted);
  EXPECT_EQ(wire::map_status("quality-declined"), S::failed);
  // A word Printify adds later moves nothing forward.
  EXPECT_EQ(wire::map_status("some-new-status"), S::submitted);
}

TEST(PrintifyWire, ReadsTheDocumentedOrder) {
  auto fact = wire::order_fact(fixture_json("printify/order.json"));
  EXPECT_EQ(fact.reference, "5a96f649b2439217d070f507");
  // fulfilled, and every shipment has delivered_at.
  EXPECT_EQ(fact.status, core::FulfillmentStatus::delivered);
  ASSERT_EQ(fact.shipments.size(), 1u);
  EXPECT_EQ(fact.shipments[0].carrier, "usps");
  EXPECT_EQ(fact.shipments[0].tracking_number, "94001116990045395649372");
  EXPECT_EQ(fact.shipments[0].tracking_url, "http://example.com/94001116990045395649372");
  // The line item is `fulfilled` and named by the external_id sent with it.
  ASSERT_TRUE(fact.shipped);
  EXPECT_EQ(*fact.shipped, (std::map<std::string, std::int64_t>{{"line-item-abc-001", 1}}));

  auto canceled = wire::order_fact(fixture_json("printify/order_canceled.json"));
  EXPECT_EQ(canceled.status, core::FulfillmentStatus::canceled);
}

TEST(PrintifyWire, WhatShippedComesFromTheLineItemsStatus) {
  bj::object order = fixture_json("printify/order.json");
  order["status"] = "partially-fulfilled";
  auto& items = order.at("line_items").as_array();
  bj::object second = items[0].as_object();
  second["quantity"] = 2;
  second["status"] = "in-production";
  second["fulfilled_at"] = nullptr;
  second.at("metadata").as_object()["external_id"] = "mug";
  items.push_back(second);
  auto fact = wire::order_fact(order);
  EXPECT_EQ(fact.status, core::FulfillmentStatus::in_production);
  ASSERT_TRUE(fact.shipped);
  EXPECT_EQ(*fact.shipped, (std::map<std::string, std::int64_t>{{"line-item-abc-001", 1}}));
  // A package left but no line item says it shipped: part of a line went, what is unknown.
  items[0].as_object()["status"] = "in-production";
  items[0].as_object()["fulfilled_at"] = nullptr;
  EXPECT_FALSE(wire::order_fact(order).shipped);
  // A line item merchgate did not name (an order made before it sent external ids).
  items[0].as_object()["status"] = "fulfilled";
  items[0].at("metadata").as_object().erase("external_id");
  EXPECT_FALSE(wire::order_fact(order).shipped);
}

TEST(PrintifyWire, FindsTheOrderAnEarlierTryMadeByItsExternalId) {
  bj::object canceled = fixture_json("printify/order_canceled.json");
  EXPECT_TRUE(wire::is_order_for(canceled, "2750e210-39bb-11e9-a503-452618153e4a"));
  EXPECT_FALSE(wire::is_order_for(canceled, "ful_other"));
}

TEST(PrintifyWire, PicksTheShippingMethodsPriceFromTheDocumentedReply) {
  bj::object reply = fixture_json("printify/shipping.json");
  Settings s;
  auto standard = wire::pick_rate(reply, s);
  ASSERT_TRUE(standard);
  EXPECT_EQ(standard->amount, 1000);
  EXPECT_EQ(standard->currency, "USD");
  s.shipping_method = 2;
  EXPECT_EQ(wire::pick_rate(reply, s)->amount, 5000);
  s.shipping_method = 3;
  EXPECT_EQ(wire::pick_rate(reply, s)->amount, 799);
  s.shipping_method = 4;
  EXPECT_EQ(wire::pick_rate(reply, s)->amount, 399);
  auto none = wire::pick_rate(bj::object{}, s);
  ASSERT_FALSE(none);
  EXPECT_TRUE(none.error().is(adapter_errc::refused));
}

TEST(PrintifyWebhook, KnownVectorVerifiesAndTheShipmentMakesMerchgateReadTheOrder) {
  auto r =
      wire::parse_webhook(testing::webhook(fixture("printify/webhook_order_shipment_created.json"),
                                           {{"x-pfy-signature", kSignature}}),
                          kSecret);
  ASSERT_TRUE(r) << r.error().message;
  const auto& e = r->events.at(0);
  EXPECT_EQ(e.partner_event_id, "653b6be8-2ff7-4ab5-a7a6-6889a8b3bbf5");
  EXPECT_EQ(e.order_reference, "5a96f649b2439217d070f507");
  // One package says nothing about the rest of the order: the order's status and every package
  // come from reading it back.
  EXPECT_EQ(e.kind, InboundEvent::Kind::fulfillment);
  EXPECT_EQ(e.action, "sync");
  EXPECT_FALSE(e.fulfillment);
}

TEST(PrintifyWebhook, RejectsAMissingOrWrongSignatureWhenASecretIsSet) {
  std::string body = fixture("printify/webhook_order_shipment_created.json");
  auto missing = wire::parse_webhook(testing::webhook(body, {}), kSecret);
  ASSERT_FALSE(missing);
  EXPECT_TRUE(missing.error().is(adapter_errc::invalid_webhook));
  auto wrong =
      wire::parse_webhook(testing::webhook(body + " ", {{"x-pfy-signature", kSignature}}), kSecret);
  ASSERT_FALSE(wrong);
  EXPECT_TRUE(wrong.error().is(adapter_errc::invalid_webhook));
  auto no_prefix = wire::parse_webhook(
      testing::webhook(body, {{"x-pfy-signature", std::string(kSignature).substr(7)}}), kSecret);
  ASSERT_FALSE(no_prefix);
}

TEST(PrintifyWebhook, WithoutASecretWebhooksAreOnlyHints) {
  auto r =
      wire::parse_webhook(testing::webhook(fixture("printify/webhook_order_updated.json"), {}), "");
  ASSERT_TRUE(r);
  const auto& e = r->events.at(0);
  EXPECT_EQ(e.action, "sync");
  EXPECT_FALSE(e.fulfillment);
}

TEST(PrintifyWebhook, OrderUpdatedCarriesTheDocumentedStatus) {
  std::string body = fixture("printify/webhook_order_updated.json");
  // Signed here with the example secret (the vector above covers the scheme itself).
  std::string sig = "sha256=" + core::hex_encode(core::hmac_sha256(kSecret, body));
  auto r = wire::parse_webhook(testing::webhook(body, {{"x-pfy-signature", sig}}), kSecret);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->events.at(0).fulfillment);
  EXPECT_EQ(r->events.at(0).fulfillment->status, core::FulfillmentStatus::in_production);
}

TEST(PrintifyWebhook, AnOrderThatEndsIsReadBackForWhatShipped) {
  for (const char* status : {"had-issues", "canceled"}) {
    std::string body = fixture("printify/webhook_order_updated.json");
    body.replace(body.find("in-production"), 13, status);
    std::string sig = "sha256=" + core::hex_encode(core::hmac_sha256(kSecret, body));
    auto r = wire::parse_webhook(testing::webhook(body, {{"x-pfy-signature", sig}}), kSecret);
    ASSERT_TRUE(r);
    const auto& e = r->events.at(0);
    EXPECT_EQ(e.action, "sync") << status;
    EXPECT_FALSE(e.fulfillment) << status;
  }
}

TEST(PrintifyImport, EnabledVariantsBecomeProductsWithThePartnerIds) {
  auto products = wire::imported_variants(fixture_json("printify/product.json"), "USD");
  ASSERT_EQ(products.size(), 1u);
  const auto& p = products[0];
  EXPECT_EQ(p.sku, "866366009");
  EXPECT_EQ(p.title, "Mug 11oz - 11oz");
  EXPECT_EQ(p.unit_amount, 1200);
  EXPECT_EQ(p.currency, "USD");
  EXPECT_EQ(p.options.at("size"), "11oz");
  EXPECT_EQ(p.fulfillment.at("product"), "5d39b159e7c48c000728c89f");
  EXPECT_EQ(p.fulfillment.at("variant"), "33719");
  ASSERT_EQ(p.images.size(), 1u);
}

TEST(PrintifyType, PublishesTheNamedCredentialsAndSettings) {
  AdapterType t = PrintifyFactory::type();
  const auto& creds = t.schema.at("credentials").at("properties").as_object();
  EXPECT_TRUE(creds.contains("api_token"));
  EXPECT_TRUE(creds.contains("webhook_secret"));
  EXPECT_TRUE(t.schema.at("settings").at("properties").as_object().contains("shop_id"));
}

}  // namespace
}  // namespace mg::adapters::printify
