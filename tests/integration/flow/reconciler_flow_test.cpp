// The reconciler end to end: partner webhooks are lost (deleted from the sandbox's outbox before
// they are sent), and the checkout still reaches its final state by polling the partners.
#include "tests/integration/flow/flow_helpers.hpp"

#include <gtest/gtest.h>

#include <set>

namespace mg::testing {
namespace {

using flow::str;

void impatient(config::Config& c) {
  c.stale_payment_after = std::chrono::milliseconds(100);
  c.stale_order_after = std::chrono::milliseconds(100);
  c.reconcile_every = std::chrono::milliseconds(100);
  // Slow enough partners that every webhook they schedule can be deleted before it is due.
  for (auto& a : c.seed.at("adapters").as_array()) {
    auto& s = a.at("settings").as_object();
    if (a.at("id").as_string() == "sandbox-pay") {
      s["succeed_after_ms"] = 800;
      s["decline_after_ms"] = 800;
      s["refund_after_ms"] = 800;
    } else {
      s["in_production_after_ms"] = 1000;
      s["shipped_after_ms"] = 1500;
      s["delivered_after_ms"] = 2000;
    }
  }
}

// Deletes every webhook the sandbox partners have not sent yet: they are lost.
void lose_webhooks(GatewayFixture& f) {
  for (const char* id : {"sandbox-pay", "sandbox-merch", "sandbox-merch-2"}) {
    flow::query(flow::ledger_path(f, id), "DELETE FROM outbox WHERE sent_at IS NULL");
  }
}

// Polls the checkout while losing webhooks, until `done` holds.
bool reaches(GatewayFixture& f, const std::string& id,
             const std::function<bool(const boost::json::object&)>& done,
             std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  return eventually(
      [&] {
        lose_webhooks(f);
        return done(f.get_checkout(id));
      },
      timeout);
}

TEST(ReconcilerFlow, LostPaymentAndOrderWebhooksAreMadeUpForByPolling) {
  GatewayFixture f(impatient);
  auto c = f.create_checkout({{"tee", 1}});
  std::string id = str(c.at("id"));
  lose_webhooks(f);
  ASSERT_TRUE(reaches(f, id, [](const boost::json::object& x) {
    return str(x.at("status")) == "fulfilled";
  })) << f.get_checkout(id);

  auto done = f.get_checkout(id);
  EXPECT_EQ(str(done.at("payment").at("status")), "succeeded");
  const auto& ful = done.at("fulfillments").as_array()[0];
  std::string fs = str(ful.at("status"));
  EXPECT_TRUE(fs == "shipped" || fs == "delivered") << fs;
  ASSERT_EQ(ful.at("shipments").as_array().size(), 1u);
  EXPECT_TRUE(str(ful.at("shipments").as_array()[0].at("tracking_number")).starts_with("SBX"));

  // No partner webhook reached the gateway: the jobs did it.
  EXPECT_EQ(f.count("SELECT COUNT(*) FROM inbound_webhooks"), 0);
  EXPECT_GE(f.count(flow::jobs_sql(id, "payment.sync", "done")), 1);
  EXPECT_GE(f.count(flow::jobs_sql(id, "fulfillment.sync", "done")), 1);
  EXPECT_GE(f.count("SELECT COUNT(*) FROM partner_calls WHERE checkout_id = '" + id +
                    "' AND operation = 'payment.get'"),
            1);
  EXPECT_GE(f.count("SELECT COUNT(*) FROM partner_calls WHERE checkout_id = '" + id +
                    "' AND operation = 'fulfillment.get'"),
            1);

  Reply timeline = f.admin("GET", "/v1/admin/checkouts/" + id + "/timeline");
  ASSERT_EQ(timeline.status, 200) << timeline.body;
  auto t = timeline.json();
  std::set<std::string> done_kinds;
  for (const auto& j : t.at("jobs").as_array()) {
    if (str(j.at("state")) == "done") done_kinds.insert(str(j.at("kind")));
  }
  EXPECT_TRUE(done_kinds.count("payment.sync")) << t.at("jobs");
  EXPECT_TRUE(done_kinds.count("fulfillment.sync")) << t.at("jobs");
  EXPECT_TRUE(done_kinds.count("fulfillment.create")) << t.at("jobs");
  EXPECT_TRUE(t.at("webhooks").as_array().empty());

  auto types = f.event_types(id);
  EXPECT_EQ(types.front(), "checkout.created");
  EXPECT_EQ(flow::count_of(types, "checkout.paid"), 1);
  EXPECT_EQ(flow::count_of(types, "fulfillment.submitted"), 1);
  EXPECT_EQ(flow::count_of(types, "fulfillment.shipped"), 1);
  EXPECT_EQ(flow::count_of(types, "checkout.fulfilled"), 1);
}

TEST(ReconcilerFlow, ShippedOrderOfAFulfilledCheckoutIsFollowedToDelivery) {
  GatewayFixture f(impatient);
  auto c = f.create_checkout({{"tee", 1}});
  std::string id = str(c.at("id"));
  lose_webhooks(f);
  ASSERT_TRUE(reaches(f, id, [](const boost::json::object& x) {
    return str(x.at("status")) == "fulfilled";
  })) << f.get_checkout(id);
  // Delivery is due 2 s after the order; the reconciler polls every 100 ms.
  bool delivered = reaches(
      f, id,
      [](const boost::json::object& x) {
        return str(x.at("fulfillments").as_array()[0].at("status")) == "delivered";
      },
      std::chrono::seconds(8));
  ASSERT_TRUE(delivered) << "a lost order.delivered webhook is made up for by fulfillment.sync";
  EXPECT_EQ(str(f.get_checkout(id).at("status")), "fulfilled");
  EXPECT_EQ(flow::count_of(f.event_types(id), "fulfillment.delivered"), 1);
}

TEST(ReconcilerFlow, LostDeclineWebhookStillEndsInPaymentFailed) {
  GatewayFixture f(impatient);
  auto c = f.create_checkout({{"tee", 1}}, "pm_sandbox_decline");
  std::string id = str(c.at("id"));
  lose_webhooks(f);
  ASSERT_TRUE(reaches(
      f, id, [](const boost::json::object& x) { return str(x.at("status")) == "payment_failed"; }));
  auto done = f.get_checkout(id);
  EXPECT_EQ(str(done.at("payment").at("failure_code")), "card_declined");
  EXPECT_EQ(f.count("SELECT COUNT(*) FROM inbound_webhooks"), 0);
  EXPECT_GE(f.count(flow::jobs_sql(id, "payment.sync", "done")), 1);
  EXPECT_EQ(f.event_types(id),
            (std::vector<std::string>{"checkout.created", "checkout.payment_failed"}));
  EXPECT_EQ(flow::count_in(flow::ledger_path(f, "sandbox-merch"), "SELECT COUNT(*) FROM orders"),
            0);
}

TEST(ReconcilerFlow, PaymentWaitingForTheBuyerIsPolledButNotMoved) {
  GatewayFixture f(impatient);
  auto c = f.create_checkout({{"tee", 1}}, "pm_sandbox_action");
  std::string id = str(c.at("id"));
  ASSERT_TRUE(eventually([&] { return f.count(flow::jobs_sql(id, "payment.sync", "done")) >= 2; }));
  auto x = f.get_checkout(id);
  EXPECT_EQ(str(x.at("status")), "requires_payment");
  EXPECT_EQ(str(x.at("payment").at("status")), "requires_action");
  EXPECT_FALSE(x.at("payment").at("client_action").is_null());
  EXPECT_EQ(f.event_types(id), (std::vector<std::string>{"checkout.created"}));
}

TEST(ReconcilerFlow, LostRefundWebhookStillSettlesTheRefund) {
  GatewayFixture f(impatient);
  auto c = f.create_checkout({{"ebook", 1}});
  std::string id = str(c.at("id"));
  ASSERT_EQ(str(f.wait_for_status(id, "fulfilled").at("status")), "fulfilled");
  Reply r = f.app("POST", "/v1/checkouts/" + id + "/refunds", R"({"amount": 300})");
  ASSERT_EQ(r.status, 201) << r.body;
  lose_webhooks(f);
  // The refund settles 800 ms after it is made; the reconciler polls every 100 ms.
  bool settled = reaches(
      f, id,
      [](const boost::json::object& x) {
        return str(x.at("refunds").as_array()[0].at("status")) == "succeeded";
      },
      std::chrono::seconds(8));
  ASSERT_TRUE(settled) << "a lost refund.succeeded webhook is made up for by payment.refund_sync";
  EXPECT_GE(f.count(flow::jobs_sql(id, "payment.refund_sync", "done")), 1);
  EXPECT_EQ(str(f.get_checkout(id).at("status")), "partially_refunded");
}

// Abandoned checkouts (the buyer never opened the payment page) stay requires_payment forever;
// the reconciler must still reach a newer checkout whose webhook was lost.
TEST(ReconcilerFlow, AbandonedCheckoutsDoNotStarveNewerOnes) {
  GatewayFixture f([](config::Config& c) {
    impatient(c);
    c.stale_payment_after = std::chrono::milliseconds(1000);
    c.reconcile_every = std::chrono::milliseconds(200);
  });
  constexpr int kAbandoned = 200;  // as many as the reconciler looks at per round
  for (int i = 0; i < kAbandoned; ++i) {
    Reply r = f.app("POST", "/v1/checkouts",
                    GatewayFixture::checkout_body({{"ebook", 1}}, "pm_sandbox_action"));
    ASSERT_EQ(r.status, 201) << r.body;
  }
  auto c = f.create_checkout({{"ebook", 1}});
  std::string id = str(c.at("id"));
  lose_webhooks(f);
  bool paid = reaches(
      f, id, [](const boost::json::object& x) { return str(x.at("status")) == "fulfilled"; },
      std::chrono::seconds(12));
  ASSERT_TRUE(paid) << "200 abandoned checkouts must not starve a newer one";
  EXPECT_GE(f.count(flow::jobs_sql(id, "payment.sync", "done")), 1);
}

}  // namespace
}  // namespace mg::testing
