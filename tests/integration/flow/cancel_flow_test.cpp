// Cancellation end to end: before payment (the payment is voided), after payment but before
// production (refunded and the order canceled at the partner), and too late.
#include "tests/integration/flow/flow_helpers.hpp"

#include <gtest/gtest.h>

namespace mg::testing {
namespace {

using flow::str;

// sandbox-merch's clock, so a test can hold an order in one state.
std::function<void(config::Config&)> merch_timing(std::int64_t in_production, std::int64_t shipped,
                                                  std::int64_t delivered,
                                                  std::string adapter = "sandbox-merch") {
  return [=](config::Config& c) {
    for (auto& a : c.seed.at("adapters").as_array()) {
      if (a.at("id").as_string() != adapter) continue;
      auto& s = a.at("settings").as_object();
      s["in_production_after_ms"] = in_production;
      s["shipped_after_ms"] = shipped;
      s["delivered_after_ms"] = delivered;
    }
  };
}

Reply cancel(GatewayFixture& f, const std::string& id, const std::string& key = "") {
  return f.app("POST", "/v1/checkouts/" + id + "/cancel", "", key);
}

TEST(CancelFlow, BeforePaymentVoidsThePaymentAtTheProcessor) {
  GatewayFixture f;
  auto c = f.create_checkout({{"tee", 1}}, "pm_sandbox_action");
  std::string id = str(c.at("id"));
  std::string reference = str(c.at("payment").at("reference"));
  std::string url = str(c.at("payment").at("client_action").at("url"));

  Reply r = cancel(f, id);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(str(r.json().at("status")), "canceled");
  EXPECT_FALSE(r.json().at("canceled_at").is_null());
  EXPECT_EQ(str(r.json().at("fulfillments").as_array()[0].at("status")), "canceled");

  ASSERT_TRUE(
      eventually([&] { return str(f.get_checkout(id).at("payment").at("status")) == "canceled"; }));
  std::string ledger = flow::ledger_path(f, "sandbox-pay");
  EXPECT_NE(flow::scalar(ledger, "SELECT canceled_at FROM payments WHERE id = '" + reference + "'"),
            "");
  EXPECT_EQ(f.count(flow::jobs_sql(id, "payment.cancel", "done")), 1);
  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));

  auto done = f.get_checkout(id);
  EXPECT_EQ(str(done.at("status")), "canceled");
  EXPECT_TRUE(done.at("refunds").as_array().empty());
  EXPECT_EQ(f.event_types(id), (std::vector<std::string>{"checkout.created", "fulfillment.canceled",
                                                         "checkout.canceled"}));
  // The hosted page no longer takes the money.
  Reply page = f.request("GET", url.substr(std::string("http://127.0.0.1").size()));
  EXPECT_EQ(page.status, 409) << page.body;
  EXPECT_EQ(
      flow::scalar(ledger, "SELECT completed_at FROM payments WHERE id = '" + reference + "'"), "");
  EXPECT_EQ(str(f.get_checkout(id).at("payment").at("status")), "canceled");
  EXPECT_EQ(flow::count_in(flow::ledger_path(f, "sandbox-merch"), "SELECT COUNT(*) FROM orders"),
            0);
  Reply refund = f.app("POST", "/v1/checkouts/" + id + "/refunds", R"({"amount": 100})");
  EXPECT_EQ(refund.status, 409) << refund.body;
}

TEST(CancelFlow, AfterPaymentBeforeProductionRefundsAndCancelsTheOrder) {
  GatewayFixture f(merch_timing(60'000, 70'000, 80'000));
  auto c = f.create_checkout({{"tee", 1}});
  std::string id = str(c.at("id"));
  ASSERT_TRUE(
      eventually([&] { return flow::fulfillment_status(f, id, "sandbox-merch") == "submitted"; }));
  auto before = f.get_checkout(id);
  EXPECT_EQ(str(before.at("status")), "fulfilling");
  std::string order = str(before.at("fulfillments").as_array()[0].at("reference"));
  ASSERT_FALSE(order.empty());
  std::string reads = "SELECT COUNT(*) FROM partner_calls WHERE checkout_id = '" + id +
                      "' AND operation = 'fulfillment.get'";
  auto reads_before = f.count(reads);

  Reply r = cancel(f, id);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(str(r.json().at("status")), "canceled");
  // The partner was asked first whether production had started.
  EXPECT_EQ(f.count(reads), reads_before + 1);

  ASSERT_TRUE(eventually([&] {
    auto x = f.get_checkout(id);
    const auto& refunds = x.at("refunds").as_array();
    return flow::fulfillment_status(f, id, "sandbox-merch") == "canceled" && refunds.size() == 1 &&
           str(refunds[0].at("status")) == "succeeded";
  }));
  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));
  auto done = f.get_checkout(id);
  EXPECT_EQ(str(done.at("status")), "canceled");
  EXPECT_EQ(str(done.at("payment").at("status")), "succeeded");
  const auto& refund = done.at("refunds").as_array()[0];
  EXPECT_EQ(refund.at("amount").as_int64(), 2995);
  EXPECT_TRUE(refund.at("automatic").as_bool());
  EXPECT_EQ(str(refund.at("reason")), "canceled");
  EXPECT_EQ(done.at("amount_refunded").as_int64(), 2995);

  std::string merch = flow::ledger_path(f, "sandbox-merch");
  EXPECT_NE(flow::scalar(merch, "SELECT canceled_at FROM orders WHERE id = '" + order + "'"), "");
  // The partner dropped the production webhooks it had scheduled and announced the cancel.
  EXPECT_EQ(flow::count_in(merch, "SELECT COUNT(*) FROM outbox WHERE type = 'order.in_production'"),
            0);
  EXPECT_EQ(flow::count_in(merch, "SELECT COUNT(*) FROM outbox WHERE type = 'order.canceled'"), 1);
  EXPECT_EQ(flow::scalar(flow::ledger_path(f, "sandbox-pay"), "SELECT SUM(amount) FROM refunds"),
            "2995");

  auto types = f.event_types(id);
  ASSERT_GE(types.size(), 6u);
  EXPECT_EQ(std::vector<std::string>(types.begin(), types.begin() + 4),
            (std::vector<std::string>{"checkout.created", "checkout.paid", "fulfillment.submitted",
                                      "checkout.canceled"}));
  EXPECT_EQ(flow::count_of(types, "fulfillment.canceled"), 1);
  EXPECT_EQ(flow::count_of(types, "refund.succeeded"), 1);
  EXPECT_EQ(flow::count_of(types, "checkout.canceled"), 1);
  EXPECT_EQ(flow::count_of(types, "fulfillment.in_production"), 0);
  EXPECT_EQ(types.size(), 6u);
}

TEST(CancelFlow, AfterProductionStartedIsRefusedNamingTheFulfillment) {
  GatewayFixture f(merch_timing(100, 60'000, 70'000));
  auto c = f.create_checkout({{"tee", 1}});
  std::string id = str(c.at("id"));
  ASSERT_TRUE(eventually(
      [&] { return flow::fulfillment_status(f, id, "sandbox-merch") == "in_production"; }));
  ASSERT_TRUE(eventually([&] {
    return f.count("SELECT COUNT(*) FROM jobs WHERE state = 'queued'") == 0 &&
           flow::count_in(flow::ledger_path(f, "sandbox-merch"),
                          "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND "
                          "type = 'order.in_production'") == 0;
  }));
  auto before = f.get_checkout(id);
  auto counts = f.table_counts();
  auto types = f.event_types(id);
  std::string fulfillment = str(before.at("fulfillments").as_array()[0].at("id"));

  Reply r = cancel(f, id);
  EXPECT_EQ(r.status, 409) << r.body;
  auto error = r.json().at("error");
  EXPECT_EQ(str(error.at("type")), "conflict");
  EXPECT_NE(str(error.at("message")).find(fulfillment), std::string::npos) << r.body;

  EXPECT_EQ(f.table_counts(), counts);
  EXPECT_EQ(f.event_types(id), types);
  auto after = f.get_checkout(id);
  EXPECT_EQ(flow::text(after), flow::text(before));
  EXPECT_EQ(str(after.at("status")), "fulfilling");
  EXPECT_EQ(flow::count_in(flow::ledger_path(f, "sandbox-pay"), "SELECT COUNT(*) FROM refunds"), 0);
  EXPECT_EQ(flow::scalar(flow::ledger_path(f, "sandbox-merch"), "SELECT canceled_at FROM orders"),
            "");
}

TEST(CancelFlow, RefusalNamesTheFulfillmentThatIsInProduction) {
  // sandbox-merch holds the tee at submitted; sandbox-merch-2 holds the poster in production.
  auto slow_tee = merch_timing(60'000, 70'000, 80'000);
  auto started_poster = merch_timing(100, 60'000, 70'000, "sandbox-merch-2");
  GatewayFixture f([&](config::Config& c) {
    slow_tee(c);
    started_poster(c);
  });
  auto c = f.create_checkout({{"tee", 1}, {"poster", 1}});
  std::string id = str(c.at("id"));
  ASSERT_TRUE(eventually([&] {
    return flow::fulfillment_status(f, id, "sandbox-merch") == "submitted" &&
           flow::fulfillment_status(f, id, "sandbox-merch-2") == "in_production";
  }));
  auto before = f.get_checkout(id);
  std::string tee = str(flow::fulfillment_at(before, "sandbox-merch")->at("id"));
  std::string poster = str(flow::fulfillment_at(before, "sandbox-merch-2")->at("id"));
  auto refunds = f.count("SELECT COUNT(*) FROM jobs WHERE kind = 'payment.refund'");
  std::string reads = "SELECT COUNT(*) FROM partner_calls WHERE checkout_id = '" + id +
                      "' AND operation = 'fulfillment.get'";
  auto reads_before = f.count(reads);

  Reply r = cancel(f, id);
  EXPECT_EQ(r.status, 409) << r.body;
  // Refused on what merchgate already knows: the submitted tee's partner is not asked.
  EXPECT_EQ(f.count(reads), reads_before);
  std::string message = str(r.json().at("error").at("message"));
  EXPECT_NE(message.find(poster), std::string::npos) << message;
  EXPECT_EQ(message.find(tee), std::string::npos) << message;
  auto after = f.get_checkout(id);
  EXPECT_TRUE(after.at("canceled_at").is_null());
  EXPECT_TRUE(after.at("refunds").as_array().empty());
  EXPECT_EQ(flow::fulfillment_status(f, id, "sandbox-merch"), "submitted");
  EXPECT_EQ(f.count("SELECT COUNT(*) FROM jobs WHERE kind = 'payment.refund'"), refunds);
  EXPECT_EQ(f.count(flow::jobs_sql(id, "fulfillment.cancel", "queued")) +
                f.count(flow::jobs_sql(id, "fulfillment.cancel", "done")),
            0);
  EXPECT_EQ(flow::count_of(f.event_types(id), "checkout.canceled"), 0);
}

TEST(CancelFlow, WhileThePaymentIsProcessingItIsVoided) {
  GatewayFixture f([](config::Config& c) {
    for (auto& a : c.seed.at("adapters").as_array()) {
      if (a.at("id").as_string() == "sandbox-pay") {
        a.at("settings").as_object()["succeed_after_ms"] = 60'000;
      }
    }
  });
  auto c = f.create_checkout({{"tee", 1}});
  std::string id = str(c.at("id"));
  std::string reference = str(c.at("payment").at("reference"));
  EXPECT_EQ(str(c.at("payment").at("status")), "processing");
  Reply r = cancel(f, id);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(
      eventually([&] { return str(f.get_checkout(id).at("payment").at("status")) == "canceled"; }));
  std::string ledger = flow::ledger_path(f, "sandbox-pay");
  EXPECT_NE(flow::scalar(ledger, "SELECT canceled_at FROM payments WHERE id = '" + reference + "'"),
            "");
  // The success it had scheduled will never be announced.
  EXPECT_EQ(flow::count_in(ledger,
                           "SELECT COUNT(*) FROM outbox WHERE type = 'payment.succeeded' "
                           "AND sent_at IS NULL"),
            0);
  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));
  auto done = f.get_checkout(id);
  EXPECT_EQ(str(done.at("status")), "canceled");
  EXPECT_TRUE(done.at("refunds").as_array().empty());
  EXPECT_EQ(flow::count_in(ledger, "SELECT COUNT(*) FROM refunds"), 0);
  EXPECT_EQ(flow::count_in(flow::ledger_path(f, "sandbox-merch"), "SELECT COUNT(*) FROM orders"),
            0);
}

TEST(CancelFlow, CancelingTwiceIsAConflictButAReplayIsNot) {
  GatewayFixture f;
  auto c = f.create_checkout({{"tee", 1}}, "pm_sandbox_action");
  std::string id = str(c.at("id"));
  Reply first = cancel(f, id, "idem-cancel-1");
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));
  auto counts = f.table_counts();

  Reply second = cancel(f, id, "idem-cancel-2");
  EXPECT_EQ(second.status, 409) << second.body;
  EXPECT_EQ(str(second.json().at("error").at("type")), "conflict");
  EXPECT_EQ(f.table_counts(), counts);

  Reply replay = cancel(f, id, "idem-cancel-1");
  EXPECT_EQ(replay.status, 200);
  EXPECT_EQ(replay.body, first.body);
  EXPECT_EQ(f.table_counts(), counts);
  EXPECT_EQ(flow::count_of(f.event_types(id), "checkout.canceled"), 1);
}

// The buyer pays on the hosted page just as the app cancels: whichever the gateway learns first,
// the money comes back and nothing is made.
TEST(CancelFlow, PaymentCompletedAsTheAppCancelsIsRefunded) {
  GatewayFixture f(merch_timing(60'000, 70'000, 80'000));
  auto c = f.create_checkout({{"tee", 1}}, "pm_sandbox_action");
  std::string id = str(c.at("id"));
  std::string url = str(c.at("payment").at("client_action").at("url"));
  Reply page = f.request("GET", url.substr(std::string("http://127.0.0.1").size()));
  ASSERT_EQ(page.status, 200) << page.body;
  Reply r = cancel(f, id);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(str(r.json().at("status")), "canceled");

  ASSERT_TRUE(eventually([&] {
    auto x = f.get_checkout(id);
    const auto& refunds = x.at("refunds").as_array();
    return refunds.size() == 1 && str(refunds[0].at("status")) == "succeeded";
  })) << f.get_checkout(id);
  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));
  auto done = f.get_checkout(id);
  EXPECT_EQ(str(done.at("status")), "canceled");
  EXPECT_EQ(str(done.at("payment").at("status")), "succeeded");
  EXPECT_EQ(done.at("amount_refunded").as_int64(), 2995);
  EXPECT_EQ(str(done.at("fulfillments").as_array()[0].at("status")), "canceled");
  EXPECT_EQ(flow::scalar(flow::ledger_path(f, "sandbox-pay"), "SELECT SUM(amount) FROM refunds"),
            "2995");
  // Any order that reached the partner was canceled there.
  EXPECT_EQ(flow::count_in(flow::ledger_path(f, "sandbox-merch"),
                           "SELECT COUNT(*) FROM orders WHERE canceled_at IS NULL"),
            0);
  auto types = f.event_types(id);
  EXPECT_EQ(flow::count_of(types, "checkout.canceled"), 1);
  EXPECT_EQ(flow::count_of(types, "refund.succeeded"), 1);
  EXPECT_EQ(flow::count_of(types, "fulfillment.canceled"), 1);
}

}  // namespace
}  // namespace mg::testing
