// The checkout flows end to end through HTTP, the real store and the sandbox adapters: paid and
// shipped, declined, paid on a hosted page, split across partners, digital, zero-decimal money.
#include "tests/integration/flow/flow_helpers.hpp"

#include <gtest/gtest.h>

#include <set>

namespace mg::testing {
namespace {

namespace bj = boost::json;
using flow::str;

TEST(CheckoutFlow, PaidPrintedShippedAndDeliveredWithEveryStepAnEvent) {
  GatewayFixture f;
  auto c = f.create_checkout({{"tee", 2}});
  std::string id = str(c.at("id"));
  EXPECT_EQ(str(c.at("status")), "requires_payment");
  EXPECT_EQ(c.at("amount_subtotal").as_int64(), 5000);
  EXPECT_EQ(c.at("amount_shipping").as_int64(), 495);
  EXPECT_EQ(c.at("amount_total").as_int64(), 5495);
  EXPECT_EQ(c.at("platform_fee").as_int64(), 250);
  EXPECT_EQ(str(c.at("payment").at("processor")), "sandbox-pay");
  EXPECT_TRUE(str(c.at("payment").at("reference")).starts_with("sbp_"));

  auto done = f.wait_for_status(id, "fulfilled");
  ASSERT_EQ(str(done.at("status")), "fulfilled");
  const auto& ful = done.at("fulfillments").as_array();
  ASSERT_EQ(ful.size(), 1u);
  EXPECT_TRUE(eventually([&] {
    return str(f.get_checkout(id).at("fulfillments").as_array()[0].at("status")) == "delivered";
  }));
  auto final = f.get_checkout(id);
  const auto& shipment = final.at("fulfillments").as_array()[0].at("shipments").as_array()[0];
  EXPECT_EQ(str(shipment.at("carrier")), "Sandbox Post");
  EXPECT_TRUE(str(shipment.at("tracking_number")).starts_with("SBX"));

  EXPECT_EQ(f.event_types(id),
            (std::vector<std::string>{"checkout.created", "checkout.paid", "fulfillment.submitted",
                                      "fulfillment.in_production", "fulfillment.shipped",
                                      "checkout.fulfilled", "fulfillment.delivered"}));
}

TEST(CheckoutFlow, DeclinedCardEndsInPaymentFailedAndNothingIsOrdered) {
  GatewayFixture f;
  auto c = f.create_checkout({{"tee", 1}}, "pm_sandbox_decline");
  std::string id = str(c.at("id"));
  EXPECT_EQ(str(c.at("status")), "requires_payment");

  auto failed = f.wait_for_status(id, "payment_failed");
  ASSERT_EQ(str(failed.at("status")), "payment_failed");
  EXPECT_EQ(str(failed.at("payment").at("status")), "failed");
  EXPECT_EQ(str(failed.at("payment").at("failure_code")), "card_declined");
  EXPECT_FALSE(str(failed.at("payment").at("failure_message")).empty());
  EXPECT_TRUE(failed.at("payment").at("client_action").is_null());
  EXPECT_TRUE(failed.at("refunds").as_array().empty());
  ASSERT_EQ(failed.at("fulfillments").as_array().size(), 1u);
  EXPECT_EQ(str(failed.at("fulfillments").as_array()[0].at("status")), "pending");

  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));
  EXPECT_EQ(f.event_types(id),
            (std::vector<std::string>{"checkout.created", "checkout.payment_failed"}));
  EXPECT_EQ(f.count(flow::jobs_sql(id, "fulfillment.create", "done")), 0);
  EXPECT_EQ(f.count(flow::jobs_sql(id, "fulfillment.create", "queued")), 0);
  EXPECT_EQ(flow::count_in(flow::ledger_path(f, "sandbox-merch"), "SELECT COUNT(*) FROM orders"),
            0);
  EXPECT_EQ(flow::count_in(flow::ledger_path(f, "sandbox-pay"),
                           "SELECT COUNT(*) FROM payments WHERE checkout_id = '" + id + "'"),
            1);
  // The failure event carries the checkout as it was then.
  auto events = f.app("GET", "/v1/events?type=checkout.payment_failed&checkout=" + id).json();
  ASSERT_EQ(events.at("data").as_array().size(), 1u);
  const auto& object = events.at("data").as_array()[0].at("data").at("object");
  EXPECT_EQ(str(object.at("id")), id);
  EXPECT_EQ(str(object.at("status")), "payment_failed");
  EXPECT_EQ(str(object.at("payment").at("failure_code")), "card_declined");
}

// The hosted page URL names the gateway's public_url (no port in the fixture): the path and
// query on this fixture's port.
std::string local_target(const std::string& url) {
  const std::string prefix = "http://127.0.0.1";
  EXPECT_TRUE(url.starts_with(prefix + "/")) << url;
  return url.substr(prefix.size());
}

void expect_hosted_payment_completes(const std::string& method) {
  GatewayFixture f;
  std::string body = GatewayFixture::checkout_body({{"tee", 1}}, method);
  Reply created = f.app("POST", "/v1/checkouts", body);
  ASSERT_EQ(created.status, 201) << created.body;
  auto c = created.json().as_object();
  std::string id = str(c.at("id"));
  EXPECT_EQ(str(c.at("status")), "requires_payment");
  EXPECT_EQ(str(c.at("payment").at("status")), "requires_action");
  const auto& action = c.at("payment").at("client_action");
  ASSERT_TRUE(action.is_object()) << created.body;
  EXPECT_EQ(str(action.at("type")), "redirect");
  std::string url = str(action.at("url"));
  std::string reference = str(c.at("payment").at("reference"));
  EXPECT_NE(url.find("/hosted/sandbox-pay/pay/" + reference + "?token="), std::string::npos) << url;

  // Nothing happens until the buyer opens the page.
  EXPECT_FALSE(
      eventually([&] { return str(f.get_checkout(id).at("status")) != "requires_payment"; },
                 std::chrono::milliseconds(300)));

  // A guessed link does not pay.
  Reply forged = f.request("GET", "/hosted/sandbox-pay/pay/" + reference + "?token=deadbeef");
  EXPECT_EQ(forged.status, 404);
  EXPECT_EQ(str(f.get_checkout(id).at("status")), "requires_payment");

  Reply page = f.request("GET", local_target(url));
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_TRUE(page.header("content-type").starts_with("text/html")) << page.header("content-type");
  EXPECT_NE(page.body.find(id), std::string::npos);

  auto paid = f.wait_for_status(id, "fulfilled");
  ASSERT_EQ(str(paid.at("status")), "fulfilled");
  EXPECT_EQ(str(paid.at("payment").at("status")), "succeeded");
  EXPECT_TRUE(paid.at("payment").at("client_action").is_null());
  ASSERT_TRUE(eventually([&] {
    return flow::fulfillment_status(f, id, "sandbox-merch") == "delivered" && flow::quiet(f);
  }));

  auto counts = f.table_counts();
  auto types = f.event_types(id);
  auto ledger_events =
      flow::count_in(flow::ledger_path(f, "sandbox-pay"), "SELECT COUNT(*) FROM outbox");
  Reply again = f.request("GET", local_target(url));
  EXPECT_EQ(again.status, 200) << again.body;
  // Give a second success webhook, were one scheduled, time to arrive (the outbox polls 100 ms).
  EXPECT_FALSE(
      eventually([&] { return !flow::outboxes_drained(f); }, std::chrono::milliseconds(400)));
  EXPECT_EQ(flow::count_in(flow::ledger_path(f, "sandbox-pay"), "SELECT COUNT(*) FROM outbox"),
            ledger_events);
  EXPECT_EQ(f.table_counts(), counts);
  EXPECT_EQ(f.event_types(id), types);
  EXPECT_EQ(flow::count_of(types, "checkout.paid"), 1);
  EXPECT_EQ(types.front(), "checkout.created");
  EXPECT_EQ(types[1], "checkout.paid");
  EXPECT_EQ(str(f.get_checkout(id).at("status")), "fulfilled");
}

TEST(CheckoutFlow, ActionMethodRedirectsToAHostedPageThatCompletesThePaymentOnce) {
  expect_hosted_payment_completes("pm_sandbox_action");
}

TEST(CheckoutFlow, NoMethodRedirectsToAHostedPageThatCompletesThePaymentOnce) {
  expect_hosted_payment_completes("");
}

TEST(CheckoutFlow, TwoPartnersMakeTwoFulfillmentsEachTrackedOnItsOwn) {
  GatewayFixture f;
  auto c = f.create_checkout({{"tee", 1}, {"poster", 2}});
  std::string id = str(c.at("id"));
  EXPECT_EQ(c.at("amount_subtotal").as_int64(), 2500 + 3000);
  EXPECT_EQ(c.at("amount_shipping").as_int64(), 495 + 300);
  EXPECT_EQ(c.at("amount_total").as_int64(), 2500 + 3000 + 795);
  const auto& lines = c.at("lines").as_array();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(str(lines[0].at("fulfillment_adapter")), "sandbox-merch");
  EXPECT_EQ(str(lines[1].at("fulfillment_adapter")), "sandbox-merch-2");
  ASSERT_EQ(c.at("fulfillments").as_array().size(), 2u);

  ASSERT_TRUE(eventually([&] {
    return flow::fulfillment_status(f, id, "sandbox-merch") == "delivered" &&
           flow::fulfillment_status(f, id, "sandbox-merch-2") == "delivered";
  }));
  auto done = f.get_checkout(id);
  EXPECT_EQ(str(done.at("status")), "fulfilled");
  const auto* a = flow::fulfillment_at(done, "sandbox-merch");
  const auto* b = flow::fulfillment_at(done, "sandbox-merch-2");
  ASSERT_TRUE(a && b);
  EXPECT_NE(str(a->at("id")), str(b->at("id")));
  EXPECT_EQ(a->at("amount_shipping").as_int64(), 495);
  EXPECT_EQ(b->at("amount_shipping").as_int64(), 300);
  ASSERT_EQ(a->at("lines").as_array().size(), 1u);
  EXPECT_EQ(str(a->at("lines").as_array()[0].at("sku")), "tee");
  ASSERT_EQ(b->at("lines").as_array().size(), 1u);
  EXPECT_EQ(str(b->at("lines").as_array()[0].at("sku")), "poster");
  EXPECT_EQ(b->at("lines").as_array()[0].at("quantity").as_int64(), 2);
  ASSERT_EQ(a->at("shipments").as_array().size(), 1u);
  ASSERT_EQ(b->at("shipments").as_array().size(), 1u);
  EXPECT_NE(str(a->at("shipments").as_array()[0].at("tracking_number")),
            str(b->at("shipments").as_array()[0].at("tracking_number")));
  // Each tracking URL leads to its own partner's tracking page on the gateway.
  for (const auto* ful : {a, b}) {
    const auto& parcel = ful->at("shipments").as_array()[0];
    std::string url = str(parcel.at("tracking_url"));
    EXPECT_NE(url.find("/hosted/" + str(ful->at("adapter")) + "/track/"), std::string::npos) << url;
    Reply page = f.request("GET", local_target(url));
    EXPECT_EQ(page.status, 200) << url;
    EXPECT_NE(page.body.find(str(parcel.at("tracking_number"))), std::string::npos);
    EXPECT_NE(page.body.find("delivered"), std::string::npos) << page.body;
  }

  // One order in each partner's books, made for the right fulfillment.
  for (const auto* ful : {a, b}) {
    std::string ledger = flow::ledger_path(f, str(ful->at("adapter")));
    auto rows = flow::query(ledger, "SELECT id, external_id, checkout_id, lines FROM orders");
    ASSERT_EQ(rows.size(), 1u) << ledger;
    EXPECT_EQ(rows[0][0], str(ful->at("reference")));
    EXPECT_EQ(rows[0][1], str(ful->at("id")));
    EXPECT_EQ(rows[0][2], id);
  }
  EXPECT_EQ(flow::scalar(flow::ledger_path(f, "sandbox-merch-2"), "SELECT lines FROM orders"),
            R"([{"sku":"poster","quantity":2}])");

  auto types = f.event_types(id);
  for (const char* t : {"fulfillment.submitted", "fulfillment.in_production", "fulfillment.shipped",
                        "fulfillment.delivered"}) {
    EXPECT_EQ(flow::count_of(types, t), 2) << t;
  }
  EXPECT_EQ(flow::count_of(types, "checkout.paid"), 1);
  EXPECT_EQ(flow::count_of(types, "checkout.fulfilled"), 1);
  // Each fulfillment event is about one fulfillment: both appear among the shipped events.
  auto shipped = f.app("GET", "/v1/events?type=fulfillment.shipped&checkout=" + id).json();
  std::set<std::string> ids;
  for (const auto& e : shipped.at("data").as_array()) {
    const auto& object = e.at("data").at("object");
    EXPECT_EQ(str(object.at("object")), "fulfillment");
    EXPECT_EQ(str(object.at("status")), "shipped");
    EXPECT_EQ(object.at("shipments").as_array().size(), 1u);
    ids.insert(str(object.at("id")));
  }
  EXPECT_EQ(ids, (std::set<std::string>{str(a->at("id")), str(b->at("id"))}));
  // fulfilled only once both have shipped.
  auto fulfilled = f.app("GET", "/v1/events?type=checkout.fulfilled&checkout=" + id).json();
  ASSERT_EQ(fulfilled.at("data").as_array().size(), 1u);
  for (const auto& fv :
       fulfilled.at("data").as_array()[0].at("data").at("object").at("fulfillments").as_array()) {
    std::string s = str(fv.at("status"));
    EXPECT_TRUE(s == "shipped" || s == "delivered") << s;
  }
}

TEST(CheckoutFlow, DigitalOnlyNeedsNoAddressAndIsFulfilledWhenPaid) {
  GatewayFixture f;
  bj::value body = bj::parse(GatewayFixture::checkout_body({{"ebook", 1}}));
  body.at("buyer").as_object().erase("shipping_address");
  Reply r = f.app("POST", "/v1/checkouts", bj::serialize(body));
  ASSERT_EQ(r.status, 201) << r.body;
  auto c = r.json().as_object();
  std::string id = str(c.at("id"));
  EXPECT_EQ(c.at("amount_subtotal").as_int64(), 900);
  EXPECT_EQ(c.at("amount_shipping").as_int64(), 0);
  EXPECT_EQ(c.at("amount_total").as_int64(), 900);
  EXPECT_TRUE(c.at("fulfillments").as_array().empty());
  EXPECT_TRUE(c.at("lines").as_array()[0].at("fulfillment_adapter").is_null());
  EXPECT_TRUE(c.at("buyer").at("shipping_address").is_null());

  auto done = f.wait_for_status(id, "fulfilled");
  ASSERT_EQ(str(done.at("status")), "fulfilled");
  EXPECT_EQ(str(done.at("payment").at("status")), "succeeded");
  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));
  EXPECT_EQ(f.event_types(id),
            (std::vector<std::string>{"checkout.created", "checkout.paid", "checkout.fulfilled"}));
  EXPECT_EQ(f.count("SELECT COUNT(*) FROM jobs WHERE kind LIKE 'fulfillment.%'"), 0);
  EXPECT_EQ(flow::count_in(flow::ledger_path(f, "sandbox-merch"), "SELECT COUNT(*) FROM orders"),
            0);
  EXPECT_EQ(flow::count_in(flow::ledger_path(f, "sandbox-merch-2"), "SELECT COUNT(*) FROM orders"),
            0);
  // The paid snapshot already shows the payment; the fulfilled one the final status.
  auto paid = f.app("GET", "/v1/events?type=checkout.paid&checkout=" + id).json();
  ASSERT_EQ(paid.at("data").as_array().size(), 1u);
  EXPECT_EQ(str(paid.at("data").as_array()[0].at("data").at("object").at("payment").at("status")),
            "succeeded");
}

TEST(CheckoutFlow, ShippableCartWithoutAddressIsRefused) {
  GatewayFixture f;
  bj::value body = bj::parse(GatewayFixture::checkout_body({{"ebook", 1}, {"tee", 1}}));
  body.at("buyer").as_object().erase("shipping_address");
  auto before = f.table_counts();
  Reply r = f.app("POST", "/v1/checkouts", bj::serialize(body));
  EXPECT_TRUE(r.status == 400 || r.status == 422) << r.status << " " << r.body;
  EXPECT_EQ(str(r.json().at("error").at("param")), "buyer.shipping_address");
  EXPECT_EQ(f.table_counts(), before);
}

TEST(CheckoutFlow, ZeroDecimalYenAmountsAreMinorUnitsEndToEnd) {
  GatewayFixture f;
  Reply r = f.app("POST", "/v1/checkouts",
                  GatewayFixture::checkout_body({{"tee-jpy", 2}}, "pm_sandbox_ok", "JPY", "JP"));
  ASSERT_EQ(r.status, 201) << r.body;
  auto c = r.json().as_object();
  std::string id = str(c.at("id"));
  EXPECT_EQ(str(c.at("currency")), "JPY");
  EXPECT_EQ(c.at("lines").as_array()[0].at("unit_amount").as_int64(), 3000);
  EXPECT_EQ(c.at("amount_subtotal").as_int64(), 6000);
  EXPECT_EQ(c.at("amount_shipping").as_int64(), 800);
  EXPECT_EQ(c.at("amount_total").as_int64(), 6800);
  EXPECT_EQ(c.at("platform_fee").as_int64(), 300);  // 5 % of the subtotal

  auto done = f.wait_for_status(id, "fulfilled");
  ASSERT_EQ(str(done.at("status")), "fulfilled");
  EXPECT_EQ(str(done.at("fulfillments").as_array()[0].at("currency")), "JPY");
  EXPECT_EQ(done.at("fulfillments").as_array()[0].at("amount_shipping").as_int64(), 800);
  auto rows = flow::query(flow::ledger_path(f, "sandbox-pay"),
                          "SELECT amount, currency FROM payments WHERE checkout_id = '" + id + "'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "6800");
  EXPECT_EQ(rows[0][1], "JPY");

  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));
  Reply refund = f.app("POST", "/v1/checkouts/" + id + "/refunds", R"({"amount": 800})");
  ASSERT_EQ(refund.status, 201) << refund.body;
  EXPECT_EQ(refund.json().at("amount").as_int64(), 800);
  EXPECT_EQ(str(refund.json().at("currency")), "JPY");
  auto partial = f.wait_for_status(id, "partially_refunded");
  ASSERT_EQ(str(partial.at("status")), "partially_refunded");
  EXPECT_EQ(partial.at("amount_refunded").as_int64(), 800);
  EXPECT_EQ(flow::scalar(flow::ledger_path(f, "sandbox-pay"), "SELECT SUM(amount) FROM refunds"),
            "800");
}

TEST(CheckoutFlow, ProductPricedInAnotherCurrencyIsRefusedAndNothingIsStored) {
  GatewayFixture f;
  auto before = f.table_counts();
  Reply r = f.app("POST", "/v1/checkouts",
                  GatewayFixture::checkout_body({{"tee", 1}, {"cap-usd", 1}}, "pm_sandbox_ok"));
  EXPECT_EQ(r.status, 422) << r.body;
  auto error = r.json().at("error");
  EXPECT_EQ(str(error.at("type")), "invalid_request");
  EXPECT_EQ(str(error.at("param")), "lines[1].sku");
  EXPECT_NE(str(error.at("message")).find("USD"), std::string::npos);
  EXPECT_EQ(f.table_counts(), before);
  EXPECT_EQ(flow::count_in(flow::ledger_path(f, "sandbox-pay"), "SELECT COUNT(*) FROM payments"),
            0);
}

}  // namespace
}  // namespace mg::testing
