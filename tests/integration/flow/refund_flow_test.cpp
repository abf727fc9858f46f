// Refunds end to end: automatic ones when a partner refuses an order, and the app's full and
// partial refunds through POST /v1/checkouts/{id}/refunds.
#include "tests/integration/flow/flow_helpers.hpp"

#include <gtest/gtest.h>

namespace mg::testing {
namespace {

using flow::str;

TEST(RefundFlow, PartnerRefusalRefundsTheWholeCheckoutAutomatically) {
  GatewayFixture f;
  auto c = f.create_checkout({{"cursed-tee", 1}});
  std::string id = str(c.at("id"));
  EXPECT_EQ(c.at("amount_total").as_int64(), 2500 + 495);

  auto done = f.wait_for_status(id, "refunded");
  ASSERT_EQ(str(done.at("status")), "refunded") << done;
  ASSERT_EQ(done.at("fulfillments").as_array().size(), 1u);
  const auto& ful = done.at("fulfillments").as_array()[0];
  EXPECT_EQ(str(ful.at("status")), "failed");
  EXPECT_EQ(str(ful.at("failure_code")), "product_refused");
  EXPECT_FALSE(str(ful.at("failure_message")).empty());
  ASSERT_EQ(done.at("refunds").as_array().size(), 1u);
  const auto& refund = done.at("refunds").as_array()[0];
  EXPECT_EQ(refund.at("amount").as_int64(), 2995);
  EXPECT_EQ(str(refund.at("status")), "succeeded");
  EXPECT_TRUE(refund.at("automatic").as_bool());
  EXPECT_EQ(str(refund.at("fulfillment")), str(ful.at("id")));
  EXPECT_EQ(str(refund.at("reason")), "fulfillment_failed");
  EXPECT_EQ(done.at("amount_refunded").as_int64(), 2995);

  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));
  EXPECT_EQ(f.event_types(id),
            (std::vector<std::string>{"checkout.created", "checkout.paid", "fulfillment.failed",
                                      "refund.succeeded", "checkout.refunded"}));
  EXPECT_EQ(flow::count_in(flow::ledger_path(f, "sandbox-merch"), "SELECT COUNT(*) FROM orders"),
            0);
  auto rows = flow::query(flow::ledger_path(f, "sandbox-pay"), "SELECT amount FROM refunds");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "2995");
  // The refusal was not retried: one create call, recorded.
  EXPECT_EQ(f.count("SELECT COUNT(*) FROM partner_calls WHERE checkout_id = '" + id +
                    "' AND operation = 'fulfillment.create'"),
            1);
}

TEST(RefundFlow, RefusalByOnePartnerRefundsOnlyItsShare) {
  GatewayFixture f;
  auto c = f.create_checkout({{"cursed-tee", 1}, {"poster", 1}});
  std::string id = str(c.at("id"));
  EXPECT_EQ(c.at("amount_total").as_int64(), 2500 + 1500 + 495 + 300);

  ASSERT_TRUE(eventually([&] {
    auto x = f.get_checkout(id);
    const auto* poster = flow::fulfillment_at(x, "sandbox-merch-2");
    return str(x.at("status")) == "partially_refunded" && poster &&
           str(poster->at("status")) == "delivered";
  }));
  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));
  auto done = f.get_checkout(id);
  EXPECT_EQ(str(done.at("status")), "partially_refunded");
  const auto* cursed = flow::fulfillment_at(done, "sandbox-merch");
  ASSERT_TRUE(cursed);
  EXPECT_EQ(str(cursed->at("status")), "failed");
  ASSERT_EQ(done.at("refunds").as_array().size(), 1u);
  const auto& refund = done.at("refunds").as_array()[0];
  EXPECT_EQ(refund.at("amount").as_int64(), 2500 + 495);
  EXPECT_EQ(str(refund.at("status")), "succeeded");
  EXPECT_EQ(str(refund.at("fulfillment")), str(cursed->at("id")));
  EXPECT_EQ(done.at("amount_refunded").as_int64(), 2995);

  auto types = f.event_types(id);
  EXPECT_EQ(flow::count_of(types, "fulfillment.failed"), 1);
  EXPECT_EQ(flow::count_of(types, "refund.succeeded"), 1);
  EXPECT_EQ(flow::count_of(types, "checkout.partially_refunded"), 1);
  EXPECT_EQ(flow::count_of(types, "checkout.refunded"), 0);
  EXPECT_EQ(flow::count_of(types, "fulfillment.delivered"), 1);
  EXPECT_EQ(flow::count_in(flow::ledger_path(f, "sandbox-merch"), "SELECT COUNT(*) FROM orders"),
            0);
  EXPECT_EQ(flow::count_in(flow::ledger_path(f, "sandbox-merch-2"), "SELECT COUNT(*) FROM orders"),
            1);
  EXPECT_EQ(flow::scalar(flow::ledger_path(f, "sandbox-pay"), "SELECT SUM(amount) FROM refunds"),
            "2995");
}

// A checkout that was paid, shipped and delivered, with every partner webhook in.
std::string delivered_checkout(GatewayFixture& f,
                               const std::vector<std::pair<std::string, int>>& lines) {
  auto c = f.create_checkout(lines);
  std::string id = str(c.at("id"));
  EXPECT_TRUE(eventually([&] {
    return flow::fulfillment_status(f, id, "sandbox-merch") == "delivered" && flow::quiet(f);
  }));
  return id;
}

TEST(RefundFlow, FullRefundOfADeliveredCheckout) {
  GatewayFixture f;
  std::string id = delivered_checkout(f, {{"tee", 1}});
  auto before = f.event_types(id);

  Reply r = f.app("POST", "/v1/checkouts/" + id + "/refunds", R"({"reason": "damaged"})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto refund = r.json().as_object();
  EXPECT_TRUE(str(refund.at("id")).starts_with("rfd_"));
  EXPECT_EQ(str(refund.at("object")), "refund");
  EXPECT_EQ(str(refund.at("checkout")), id);
  EXPECT_EQ(refund.at("amount").as_int64(), 2995);
  EXPECT_EQ(str(refund.at("currency")), "EUR");
  EXPECT_EQ(str(refund.at("reason")), "damaged");
  EXPECT_FALSE(refund.at("automatic").as_bool());
  std::string status = str(refund.at("status"));
  EXPECT_TRUE(status == "pending" || status == "succeeded") << status;

  auto done = f.wait_for_status(id, "refunded");
  ASSERT_EQ(str(done.at("status")), "refunded");
  EXPECT_EQ(done.at("amount_refunded").as_int64(), 2995);
  ASSERT_EQ(done.at("refunds").as_array().size(), 1u);
  EXPECT_EQ(str(done.at("refunds").as_array()[0].at("id")), str(refund.at("id")));
  EXPECT_EQ(str(done.at("refunds").as_array()[0].at("status")), "succeeded");
  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));

  auto types = f.event_types(id);
  ASSERT_EQ(types.size(), before.size() + 2);
  EXPECT_EQ(types[before.size()], "refund.succeeded");
  EXPECT_EQ(types[before.size() + 1], "checkout.refunded");
  auto rows =
      flow::query(flow::ledger_path(f, "sandbox-pay"), "SELECT amount, refund_id FROM refunds");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "2995");
  EXPECT_EQ(rows[0][1], str(refund.at("id")));

  // Nothing is left to refund.
  Reply more = f.app("POST", "/v1/checkouts/" + id + "/refunds", R"({"amount": 1})");
  EXPECT_EQ(more.status, 422) << more.body;
  EXPECT_EQ(str(more.json().at("error").at("param")), "amount");
}

TEST(RefundFlow, PartialRefundsAddUpAndEachAnnouncesItself) {
  GatewayFixture f;
  std::string id = delivered_checkout(f, {{"tee", 2}});  // 5000 + 495
  auto base = f.event_types(id);
  std::vector<std::string> expected = base;

  Reply first = f.app("POST", "/v1/checkouts/" + id + "/refunds", R"({"amount": 1000})");
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.json().at("amount").as_int64(), 1000);
  ASSERT_TRUE(
      eventually([&] { return f.get_checkout(id).at("amount_refunded").as_int64() == 1000; }));
  EXPECT_EQ(str(f.get_checkout(id).at("status")), "partially_refunded");
  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));
  expected.insert(expected.end(), {"refund.succeeded", "checkout.partially_refunded"});
  EXPECT_EQ(f.event_types(id), expected);

  Reply over = f.app("POST", "/v1/checkouts/" + id + "/refunds", R"({"amount": 4496})");
  EXPECT_EQ(over.status, 422) << over.body;
  EXPECT_EQ(str(over.json().at("error").at("param")), "amount");
  EXPECT_NE(str(over.json().at("error").at("message")).find("4495"), std::string::npos);

  Reply second = f.app("POST", "/v1/checkouts/" + id + "/refunds", R"({"amount": 500})");
  ASSERT_EQ(second.status, 201) << second.body;
  ASSERT_TRUE(
      eventually([&] { return f.get_checkout(id).at("amount_refunded").as_int64() == 1500; }));
  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));
  expected.insert(expected.end(), {"refund.succeeded", "checkout.partially_refunded"});
  EXPECT_EQ(f.event_types(id), expected);
  EXPECT_EQ(str(f.get_checkout(id).at("status")), "partially_refunded");

  // The rest, by omitting the amount.
  Reply rest = f.app("POST", "/v1/checkouts/" + id + "/refunds", "{}");
  ASSERT_EQ(rest.status, 201) << rest.body;
  EXPECT_EQ(rest.json().at("amount").as_int64(), 5495 - 1500);
  auto done = f.wait_for_status(id, "refunded");
  ASSERT_EQ(str(done.at("status")), "refunded");
  EXPECT_EQ(done.at("amount_refunded").as_int64(), 5495);
  EXPECT_EQ(done.at("refunds").as_array().size(), 3u);
  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));
  expected.insert(expected.end(), {"refund.succeeded", "checkout.refunded"});
  EXPECT_EQ(f.event_types(id), expected);
  EXPECT_EQ(flow::scalar(flow::ledger_path(f, "sandbox-pay"), "SELECT SUM(amount) FROM refunds"),
            "5495");
  EXPECT_EQ(flow::count_in(flow::ledger_path(f, "sandbox-pay"), "SELECT COUNT(*) FROM refunds"), 3);

  // A refund event's snapshot is the refund.
  auto events = f.app("GET", "/v1/events?type=refund.succeeded&checkout=" + id).json();
  ASSERT_EQ(events.at("data").as_array().size(), 3u);
  const auto& newest = events.at("data").as_array()[0].at("data").at("object");
  EXPECT_EQ(str(newest.at("object")), "refund");
  EXPECT_EQ(str(newest.at("id")), str(rest.json().at("id")));
  EXPECT_EQ(str(newest.at("status")), "succeeded");
}

TEST(RefundFlow, PendingRefundsCountAgainstWhatIsLeft) {
  GatewayFixture f([](config::Config& c) {
    for (auto& a : c.seed.at("adapters").as_array()) {
      if (a.at("id").as_string() == "sandbox-pay") {
        a.at("settings").as_object()["refund_after_ms"] = 2000;
      }
    }
  });
  std::string id = delivered_checkout(f, {{"tee", 2}});  // 5495
  Reply first = f.app("POST", "/v1/checkouts/" + id + "/refunds", R"({"amount": 3000})");
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(str(first.json().at("status")), "pending");
  Reply second = f.app("POST", "/v1/checkouts/" + id + "/refunds", R"({"amount": 3000})");
  EXPECT_EQ(second.status, 422) << second.body;
  EXPECT_EQ(str(second.json().at("error").at("param")), "amount");
  EXPECT_NE(str(second.json().at("error").at("message")).find("2495"), std::string::npos)
      << second.body;
  Reply rest = f.app("POST", "/v1/checkouts/" + id + "/refunds", R"({"amount": 2495})");
  ASSERT_EQ(rest.status, 201) << rest.body;
  auto done = f.wait_for_status(id, "refunded");
  ASSERT_EQ(str(done.at("status")), "refunded");
  EXPECT_EQ(done.at("amount_refunded").as_int64(), 5495);
  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));
  EXPECT_EQ(flow::scalar(flow::ledger_path(f, "sandbox-pay"), "SELECT SUM(amount) FROM refunds"),
            "5495");
  auto types = f.event_types(id);
  EXPECT_EQ(flow::count_of(types, "refund.succeeded"), 2);
  EXPECT_EQ(flow::count_of(types, "checkout.refunded"), 1);
}

TEST(RefundFlow, ReplayedRefundRequestRefundsOnce) {
  GatewayFixture f;
  std::string id = delivered_checkout(f, {{"tee", 1}});
  std::string body = R"({"amount": 700})";
  Reply first = f.app("POST", "/v1/checkouts/" + id + "/refunds", body, "idem-refund-1");
  ASSERT_EQ(first.status, 201) << first.body;
  Reply again = f.app("POST", "/v1/checkouts/" + id + "/refunds", body, "idem-refund-1");
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  ASSERT_TRUE(
      eventually([&] { return f.get_checkout(id).at("amount_refunded").as_int64() == 700; }));
  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));
  EXPECT_EQ(f.get_checkout(id).at("refunds").as_array().size(), 1u);
  EXPECT_EQ(flow::count_in(flow::ledger_path(f, "sandbox-pay"), "SELECT COUNT(*) FROM refunds"), 1);
}

TEST(RefundFlow, RefundBeforePaymentIsAConflictAndChangesNothing) {
  GatewayFixture f;
  auto c = f.create_checkout({{"tee", 1}}, "pm_sandbox_action");
  std::string id = str(c.at("id"));
  auto before = f.table_counts();
  auto events = f.event_types(id);
  Reply r = f.app("POST", "/v1/checkouts/" + id + "/refunds", R"({"amount": 100})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(str(r.json().at("error").at("type")), "conflict");
  EXPECT_EQ(f.table_counts(), before);
  EXPECT_EQ(f.event_types(id), events);
  EXPECT_EQ(str(f.get_checkout(id).at("status")), "requires_payment");
  EXPECT_EQ(flow::count_in(flow::ledger_path(f, "sandbox-pay"), "SELECT COUNT(*) FROM refunds"), 0);
}

TEST(RefundFlow, RefundOfUnknownCheckoutIsNotFound) {
  GatewayFixture f;
  Reply r = f.app("POST", "/v1/checkouts/chk_nope/refunds", R"({"amount": 100})");
  EXPECT_EQ(r.status, 404) << r.body;
}

}  // namespace
}  // namespace mg::testing
