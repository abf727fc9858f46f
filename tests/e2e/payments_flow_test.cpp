// Payment processors end to end: the real `merchgate` and `merchgate-sim` binaries over loopback,
// one suite per processor (pay, decline, client action, full and partial refunds, cancel,
// dispute), and routing: a processor that cannot be reached fails over to the next with both
// attempts on the checkout; a decline never does; a processor whose circuit breaker is open is
// skipped without being called. Manual capture (Stripe `capture_method`, Adyen `capture`).
#include "tests/e2e/payments_sim_setup.hpp"

#include <gtest/gtest.h>

namespace mg::testing {
namespace {

using namespace payments;

std::string str(const bj::value& v) { return std::string(v.as_string()); }

// The one refund on `c` whose amount is `amount`, or null.
const bj::object* refund_of(const bj::object& c, std::int64_t amount) {
  for (const auto& r : c.at("refunds").as_array()) {
    if (r.as_object().at("amount") == amount) return &r.as_object();
  }
  return nullptr;
}

bool refund_succeeded(const bj::object& c, std::int64_t amount) {
  const bj::object* r = refund_of(c, amount);
  return r && r->at("status") == "succeeded";
}

// Two refunds (a partial one, then the rest) through the API, each settled by the processor.
void refund_partially_then_fully(GatewayProcess& gw, const std::string& id, std::int64_t total) {
  auto partial = refund(gw, id, 300);
  ASSERT_TRUE(partial);
  ASSERT_LT(partial->status, 300) << partial->body;
  bj::object c =
      wait_checkout(gw, id, [](const bj::object& x) { return refund_succeeded(x, 300); });
  ASSERT_TRUE(refund_succeeded(c, 300)) << bj::serialize(c) << "\n" << gw.log_tail();
  EXPECT_EQ(c.at("status"), "partially_refunded");
  auto rest = refund(gw, id, total - 300);
  ASSERT_TRUE(rest);
  ASSERT_LT(rest->status, 300) << rest->body;
  c = wait_checkout(gw, id, [&](const bj::object& x) { return refund_succeeded(x, total - 300); });
  ASSERT_TRUE(refund_succeeded(c, total - 300)) << bj::serialize(c) << "\n" << gw.log_tail();
  EXPECT_EQ(c.at("status"), "refunded");
  EXPECT_EQ(c.at("amount_refunded"), total);
  // Nothing more to give back.
  auto more = refund(gw, id, 1);
  ASSERT_TRUE(more);
  EXPECT_GE(more->status, 400) << more->body;
  EXPECT_TRUE(has_event(gw, id, "checkout.partially_refunded"));
  EXPECT_TRUE(has_event(gw, id, "checkout.refunded"));
}

class Processors : public ::testing::Test {
 protected:
  // `before_routing` adds adapters the routing rule names besides the simulator's three.
  void start(const std::vector<std::string>& order,
             const std::function<void()>& before_routing = {}) {
    gw_.start();
    sim_ = std::make_unique<SimProcess>(dir_.path(), processors(gw_), 300);
    if (before_routing) before_routing();
    configure(gw_, *sim_, order);
  }

  // A product whose partner takes ten minutes to start production: a paid checkout of it can
  // still be canceled (an e-book cannot: nothing ships, so it is fulfilled once paid).
  std::int64_t add_slow_product() {
    put(gw_, "/v1/admin/adapters/sandbox-slow",
        {{"type", "sandbox_fulfillment"},
         {"credentials", {{"webhook_secret", "whsec_c2xvdy1zYW5kYm94LWZ1bGZpbGxtZW50"}}},
         {"settings",
          {{"in_production_after_ms", 600'000},
           {"shipped_after_ms", 700'000},
           {"delivered_after_ms", 800'000},
           {"shipping", {{"EUR", 300}}}}}});
    put(gw_, "/v1/admin/products/slow-tee",
        {{"seller", "sel_hype"},
         {"title", "Slow tee"},
         {"unit_amount", 2500},
         {"currency", "EUR"},
         {"fulfillment", {{"adapter", "sandbox-slow"}}}});
    return 2500 + 300;
  }
  TempDir dir_;
  GatewayProcess gw_{dir_.path()};
  std::unique_ptr<SimProcess> sim_;
};

// ---- Stripe --------------------------------------------------------------------------------

TEST_F(Processors, StripePaysADestinationChargeWithTheJobsIdempotencyKey) {
  start({"stripe-main"});
  put(gw_, "/v1/admin/sellers/sel_hype",
      {{"name", "Hype"}, {"platform_fee_bps", 500}, {"payouts", {{"stripe-main", "acct_1Hype"}}}});
  bj::object created = create(gw_, {{"ebook", 2}}, "pm_card_visa");
  ASSERT_FALSE(created.empty());
  std::string id = str(created.at("id"));
  EXPECT_EQ(created.at("payment").at("processor"), "stripe-main");
  EXPECT_TRUE(str(created.at("payment").at("reference")).starts_with("pi_"));
  bj::object c = wait_checkout(gw_, id, payment_is("succeeded"));
  ASSERT_EQ(payment_status(c), "succeeded") << bj::serialize(c) << "\n" << gw_.log_tail();
  EXPECT_TRUE(has_event(gw_, id, "checkout.paid"));

  // At Stripe: one PaymentIntent, a destination charge with the platform's fee.
  auto posts = received(*sim_, "stripe", "POST", "/v1/payment_intents");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(header_of(posts[0], "idempotency-key"), id + ":payment.create:stripe-main");
  EXPECT_EQ(header_of(posts[0], "authorization"), std::string("Bearer ") + kStripeKey);
  std::string form(posts[0].at("body").as_string());
  EXPECT_NE(form.find("transfer_data%5Bdestination%5D=acct_1Hype"), std::string::npos) << form;
  EXPECT_NE(form.find("application_fee_amount=" + std::to_string(c.at("platform_fee").as_int64())),
            std::string::npos)
      << form;
  auto intents = sim_state(*sim_, "stripe").at("payment_intents").as_array();
  ASSERT_EQ(intents.size(), 1u);
  EXPECT_EQ(intents[0].at("status"), "succeeded");
  EXPECT_EQ(intents[0].at("amount"), c.at("amount_total"));
  EXPECT_EQ(intents[0].at("metadata").at("merchgate_checkout").as_string(), id);
}

TEST_F(Processors, StripeDeclineFailsTheCheckoutAndIsNeverTriedElsewhere) {
  start({"stripe-main", "adyen-main"});
  bj::object created = create(gw_, {{"ebook", 1}}, "pm_card_chargeDeclinedInsufficientFunds");
  ASSERT_FALSE(created.empty());
  std::string id = str(created.at("id"));
  bj::object c = wait_checkout(gw_, id, payment_is("failed"));
  ASSERT_EQ(payment_status(c), "failed") << bj::serialize(c);
  EXPECT_EQ(c.at("status"), "payment_failed");
  EXPECT_EQ(c.at("payment").at("failure_code"), "insufficient_funds");
  const auto& attempts = c.at("payment").at("attempts").as_array();
  ASSERT_EQ(attempts.size(), 1u) << bj::serialize(c);
  EXPECT_EQ(attempts[0].at("processor"), "stripe-main");
  EXPECT_EQ(attempts[0].at("outcome"), "failed");
  EXPECT_TRUE(received(*sim_, "adyen", "POST", "/v71/sessions").empty());
  EXPECT_TRUE(received(*sim_, "adyen", "POST", "/v71/payments").empty());
  EXPECT_TRUE(has_event(gw_, id, "checkout.payment_failed"));
}

TEST_F(Processors, StripeClientSecretIsConfirmedByTheClientThenThePaymentIsRefundedInTwoParts) {
  start({"stripe-main"});
  bj::object created = create(gw_, {{"ebook", 1}}, "");
  ASSERT_FALSE(created.empty());
  std::string id = str(created.at("id"));
  const auto& action = created.at("payment").at("client_action");
  ASSERT_TRUE(action.is_object()) << bj::serialize(created);
  EXPECT_EQ(action.at("type"), "client_secret");
  std::string secret = str(action.at("client_secret"));
  std::string pi = str(created.at("payment").at("reference"));
  EXPECT_TRUE(secret.starts_with(pi + "_secret_")) << secret;
  EXPECT_EQ(created.at("status"), "requires_payment");

  // Stripe.js confirms with the publishable key and the client_secret; the webhook tells merchgate.
  Reply confirmed = sim_->call("stripe", "POST", "/v1/payment_intents/" + pi + "/confirm",
                               "client_secret=" + secret + "&payment_method=pm_card_visa",
                               {{"authorization", "Bearer pk_test_e2e"},
                                {"content-type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(confirmed.status, 200) << confirmed.body;
  bj::object c = wait_checkout(gw_, id, payment_is("succeeded"));
  ASSERT_EQ(payment_status(c), "succeeded") << bj::serialize(c) << "\n" << gw_.log_tail();
  EXPECT_TRUE(has_event(gw_, id, "checkout.paid"));

  refund_partially_then_fully(gw_, id, 900);
  auto refunds = received(*sim_, "stripe", "POST", "/v1/refunds");
  ASSERT_EQ(refunds.size(), 2u);
  EXPECT_NE(header_of(refunds[0], "idempotency-key"), header_of(refunds[1], "idempotency-key"));
  EXPECT_EQ(sim_state(*sim_, "stripe").at("refunds").as_array().size(), 2u);
}

TEST_F(Processors, StripeCancelBeforePaymentCancelsTheIntentAndAfterPaymentRefundsIt) {
  start({"stripe-main"});
  bj::object open = create(gw_, {{"ebook", 1}}, "");
  ASSERT_FALSE(open.empty());
  std::string open_id = str(open.at("id"));
  std::string pi = str(open.at("payment").at("reference"));
  auto r = cancel(gw_, open_id);
  ASSERT_TRUE(r);
  ASSERT_LT(r->status, 300) << r->body;
  bj::object c = wait_checkout(gw_, open_id, payment_is("canceled"));
  EXPECT_EQ(payment_status(c), "canceled") << bj::serialize(c) << "\n" << gw_.log_tail();
  EXPECT_EQ(c.at("status"), "canceled");
  EXPECT_EQ(received(*sim_, "stripe", "POST", "/v1/payment_intents/" + pi + "/cancel").size(), 1u);

  std::int64_t total = add_slow_product();
  bj::object paid = create(gw_, {{"slow-tee", 1}}, "pm_card_visa");
  ASSERT_FALSE(paid.empty());
  std::string paid_id = str(paid.at("id"));
  c = wait_checkout(gw_, paid_id, payment_is("succeeded"));
  ASSERT_EQ(payment_status(c), "succeeded");
  r = cancel(gw_, paid_id);
  ASSERT_TRUE(r);
  ASSERT_LT(r->status, 300) << r->body;
  c = wait_checkout(gw_, paid_id, [&](const bj::object& x) { return refund_succeeded(x, total); });
  EXPECT_TRUE(refund_succeeded(c, total)) << bj::serialize(c) << "\n" << gw_.log_tail();
  EXPECT_EQ(c.at("status"), "canceled");
  EXPECT_EQ(received(*sim_, "stripe", "POST", "/v1/refunds").size(), 1u);
  EXPECT_TRUE(has_event(gw_, paid_id, "checkout.canceled"));
}

TEST_F(Processors, StripeDisputeOpensAndClosesOnTheCheckout) {
  start({"stripe-main"});
  bj::object created = create(gw_, {{"ebook", 1}}, "pm_card_createDispute");
  ASSERT_FALSE(created.empty());
  std::string id = str(created.at("id"));
  bj::object c = wait_checkout(gw_, id, has_dispute);
  ASSERT_EQ(c.at("disputes").as_array().size(), 1u) << bj::serialize(c) << "\n" << gw_.log_tail();
  const auto& d = c.at("disputes").as_array()[0].as_object();
  EXPECT_EQ(d.at("amount"), 900);
  std::string dp = str(d.at("reference"));
  EXPECT_TRUE(dp.starts_with("dp_")) << dp;
  EXPECT_TRUE(has_event(gw_, id, "dispute.opened"));

  // The merchant accepts the dispute in Stripe's dashboard.
  Reply closed = sim_->call("stripe", "POST", "/v1/disputes/" + dp + "/close", "",
                            {{"authorization", std::string("Bearer ") + kStripeKey}});
  ASSERT_EQ(closed.status, 200) << closed.body;
  ASSERT_TRUE(eventually([&] { return has_event(gw_, id, "dispute.closed"); })) << gw_.log_tail();
  c = checkout(gw_, id);
  EXPECT_NE(c.at("disputes").as_array()[0].at("status"), "needs_response") << bj::serialize(c);
}

// ---- PayPal --------------------------------------------------------------------------------

TEST_F(Processors, PaypalApprovalThenCaptureThenRefundsInTwoParts) {
  start({"paypal-main"});
  bj::object created = create(gw_, {{"ebook", 1}}, "");
  ASSERT_FALSE(created.empty());
  std::string id = str(created.at("id"));
  const auto& action = created.at("payment").at("client_action");
  ASSERT_TRUE(action.is_object()) << bj::serialize(created);
  ASSERT_EQ(action.at("type"), "redirect");
  std::string url = str(action.at("url"));
  EXPECT_NE(url.find("/checkoutnow?token="), std::string::npos) << url;

  // The buyer approves at PayPal; CHECKOUT.ORDER.APPROVED makes merchgate capture.
  EXPECT_EQ(browse(url).status, 200);
  bj::object c = wait_checkout(gw_, id, payment_is("succeeded"));
  ASSERT_EQ(payment_status(c), "succeeded") << bj::serialize(c) << "\n" << gw_.log_tail();
  EXPECT_TRUE(has_event(gw_, id, "checkout.paid"));
  std::string order = str(created.at("payment").at("reference"));
  auto captures = received(*sim_, "paypal", "POST", "/v2/checkout/orders/" + order + "/capture");
  ASSERT_GE(captures.size(), 1u);
  EXPECT_FALSE(header_of(captures[0], "paypal-request-id").empty());
  for (const auto& cap : captures) {
    EXPECT_EQ(header_of(cap, "paypal-request-id"), header_of(captures[0], "paypal-request-id"));
  }
  EXPECT_EQ(sim_state(*sim_, "paypal").at("captures").as_array().size(), 1u);

  refund_partially_then_fully(gw_, id, 900);
  EXPECT_EQ(sim_state(*sim_, "paypal").at("refunds").as_array().size(), 2u);
  // One OAuth2 token served every call.
  EXPECT_EQ(received(*sim_, "paypal", "POST", "/v1/oauth2/token").size(), 1u);
}

TEST_F(Processors, PaypalDeclinedCaptureFailsTheCheckout) {
  start({"paypal-main"});
  sim_->knobs("paypal", R"({"decline_all": true})");
  bj::object created = create(gw_, {{"ebook", 1}}, "");
  ASSERT_FALSE(created.empty());
  std::string id = str(created.at("id"));
  ASSERT_TRUE(created.at("payment").at("client_action").is_object());
  EXPECT_EQ(browse(action_url(created)).status, 200);
  bj::object c = wait_checkout(gw_, id, payment_is("failed"));
  ASSERT_EQ(payment_status(c), "failed") << bj::serialize(c) << "\n" << gw_.log_tail();
  EXPECT_EQ(c.at("status"), "payment_failed");
  EXPECT_TRUE(has_event(gw_, id, "checkout.payment_failed"));
  EXPECT_TRUE(sim_state(*sim_, "paypal").at("captures").as_array().empty());
}

TEST_F(Processors, PaypalCancelBeforeApprovalAndAfterCapture) {
  start({"paypal-main"});
  bj::object open = create(gw_, {{"ebook", 1}}, "");
  ASSERT_FALSE(open.empty());
  std::string open_id = str(open.at("id"));
  auto r = cancel(gw_, open_id);
  ASSERT_TRUE(r);
  ASSERT_LT(r->status, 300) << r->body;
  bj::object c =
      wait_checkout(gw_, open_id, [](const bj::object& x) { return x.at("status") == "canceled"; });
  EXPECT_EQ(c.at("status"), "canceled") << bj::serialize(c);
  // Approving afterwards charges nobody: merchgate does not capture a canceled checkout.
  browse(action_url(open));

  std::int64_t total = add_slow_product();
  bj::object paid = create(gw_, {{"slow-tee", 1}}, "");
  ASSERT_FALSE(paid.empty());
  std::string paid_id = str(paid.at("id"));
  browse(action_url(paid));
  c = wait_checkout(gw_, paid_id, payment_is("succeeded"));
  ASSERT_EQ(payment_status(c), "succeeded") << gw_.log_tail();
  r = cancel(gw_, paid_id);
  ASSERT_TRUE(r);
  ASSERT_LT(r->status, 300) << r->body;
  c = wait_checkout(gw_, paid_id, [&](const bj::object& x) { return refund_succeeded(x, total); });
  EXPECT_TRUE(refund_succeeded(c, total)) << bj::serialize(c) << "\n" << gw_.log_tail();
  EXPECT_EQ(c.at("status"), "canceled");

  // The canceled checkout's order was never captured (only the second one was).
  c = checkout(gw_, open_id);
  EXPECT_NE(payment_status(c), "succeeded") << bj::serialize(c);
  std::string open_order = str(open.at("payment").at("reference"));
  EXPECT_TRUE(
      received(*sim_, "paypal", "POST", "/v2/checkout/orders/" + open_order + "/capture").empty());
}

TEST_F(Processors, PaypalReversedCaptureIsALostDispute) {
  start({"paypal-main"});
  bj::object created = create(gw_, {{"ebook", 1}}, "");
  ASSERT_FALSE(created.empty());
  std::string id = str(created.at("id"));
  // The buyer pays, then their bank takes the money back.
  browse(action_url(created) + "&outcome=reversed");
  bj::object c = wait_checkout(gw_, id, has_dispute);
  ASSERT_EQ(c.at("disputes").as_array().size(), 1u) << bj::serialize(c) << "\n" << gw_.log_tail();
  EXPECT_EQ(c.at("disputes").as_array()[0].at("amount"), 900);
  EXPECT_EQ(c.at("disputes").as_array()[0].at("status"), "lost");
  EXPECT_TRUE(has_event(gw_, id, "dispute.opened"));
  EXPECT_EQ(payment_status(c), "succeeded");
}

// ---- Adyen ---------------------------------------------------------------------------------

TEST_F(Processors, AdyenHostedCheckoutPaysAndRefundsInTwoPartsByNotification) {
  start({"adyen-main"});
  bj::object created = create(gw_, {{"ebook", 1}}, "");
  ASSERT_FALSE(created.empty());
  std::string id = str(created.at("id"));
  const auto& action = created.at("payment").at("client_action");
  ASSERT_TRUE(action.is_object()) << bj::serialize(created);
  ASSERT_EQ(action.at("type"), "redirect");
  auto sessions = received(*sim_, "adyen", "POST", "/v71/sessions");
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(header_of(sessions[0], "x-api-key"), "AQE1e2eMerchgateSimKey");
  EXPECT_FALSE(header_of(sessions[0], "idempotency-key").empty());

  // The shopper pays on Adyen's page and is sent back; AUTHORISATION comes by notification.
  Reply page = browse(str(action.at("url")));
  EXPECT_EQ(page.status, 302);
  bj::object c = wait_checkout(gw_, id, payment_is("succeeded"));
  ASSERT_EQ(payment_status(c), "succeeded") << bj::serialize(c) << "\n" << gw_.log_tail();
  EXPECT_TRUE(has_event(gw_, id, "checkout.paid"));

  refund_partially_then_fully(gw_, id, 900);
  std::string psp = str(checkout(gw_, id).at("payment").at("reference"));
  auto modifications = sim_state(*sim_, "adyen").at("modifications").as_array();
  std::size_t refunds = 0;
  for (const auto& m : modifications) {
    if (m.at("type") == "refunds" && m.at("success").as_bool()) ++refunds;
  }
  EXPECT_EQ(refunds, 2u) << bj::serialize(modifications) << " psp " << psp;
}

TEST_F(Processors, AdyenRefusedPaymentFailsTheCheckout) {
  start({"adyen-main"});
  sim_->knobs("adyen", R"({"decline_all": true})");
  bj::object created = create(gw_, {{"ebook", 1}}, "");
  ASSERT_FALSE(created.empty());
  std::string id = str(created.at("id"));
  browse(action_url(created));
  bj::object c = wait_checkout(gw_, id, payment_is("failed"));
  ASSERT_EQ(payment_status(c), "failed") << bj::serialize(c) << "\n" << gw_.log_tail();
  EXPECT_EQ(c.at("status"), "payment_failed");
  EXPECT_TRUE(has_event(gw_, id, "checkout.payment_failed"));
}

TEST_F(Processors, AdyenCancelAfterPaymentRefundsIt) {
  start({"adyen-main"});
  std::int64_t total = add_slow_product();
  bj::object created = create(gw_, {{"slow-tee", 1}}, "");
  ASSERT_FALSE(created.empty());
  std::string id = str(created.at("id"));
  browse(action_url(created));
  bj::object c = wait_checkout(gw_, id, payment_is("succeeded"));
  ASSERT_EQ(payment_status(c), "succeeded") << gw_.log_tail();
  auto r = cancel(gw_, id);
  ASSERT_TRUE(r);
  ASSERT_LT(r->status, 300) << r->body;
  c = wait_checkout(gw_, id, [&](const bj::object& x) { return refund_succeeded(x, total); });
  EXPECT_TRUE(refund_succeeded(c, total)) << bj::serialize(c) << "\n" << gw_.log_tail();
  EXPECT_EQ(c.at("status"), "canceled");
  EXPECT_TRUE(has_event(gw_, id, "checkout.canceled"));
}

TEST_F(Processors, AdyenChargebackOpensADispute) {
  start({"adyen-main"});
  bj::object created = create(gw_, {{"ebook", 1}}, "");
  ASSERT_FALSE(created.empty());
  std::string id = str(created.at("id"));
  // Adyen's test holder name for a payment that is then charged back.
  browse(action_url(created) + "?holderName=CHARGEBACK");
  bj::object c = wait_checkout(gw_, id, has_dispute);
  ASSERT_EQ(c.at("disputes").as_array().size(), 1u) << bj::serialize(c) << "\n" << gw_.log_tail();
  const auto& d = c.at("disputes").as_array()[0].as_object();
  EXPECT_EQ(d.at("amount"), 900);
  EXPECT_EQ(d.at("status"), "open");
  EXPECT_TRUE(has_event(gw_, id, "dispute.opened"));
}

// ---- routing -------------------------------------------------------------------------------

TEST_F(Processors, AnUnreachableProcessorFailsOverToTheNextWithBothAttemptsRecorded) {
  // Stripe at a port nobody listens on: connection refused, nothing sent.
  start({"stripe-down", "adyen-main"}, [&] {
    put(gw_, "/v1/admin/adapters/stripe-down", adapter_block("stripe", "http://127.0.0.1:1"));
  });
  bj::object created = create(gw_, {{"ebook", 1}}, "");
  ASSERT_FALSE(created.empty()) << gw_.log_tail();
  std::string id = str(created.at("id"));
  EXPECT_EQ(created.at("payment").at("processor"), "adyen-main");
  const auto& attempts = created.at("payment").at("attempts").as_array();
  ASSERT_EQ(attempts.size(), 2u) << bj::serialize(created);
  EXPECT_EQ(attempts[0].at("processor"), "stripe-down");
  EXPECT_EQ(attempts[0].at("outcome"), "unavailable");
  EXPECT_EQ(attempts[1].at("processor"), "adyen-main");
  EXPECT_EQ(attempts[1].at("outcome"), "created");
  browse(action_url(created));
  bj::object c = wait_checkout(gw_, id, payment_is("succeeded"));
  EXPECT_EQ(payment_status(c), "succeeded") << gw_.log_tail();
  EXPECT_EQ(c.at("payment").at("attempts").as_array().size(), 2u);
}

TEST_F(Processors, A503FromTheProcessorFailsOverButA500StaysWithIt) {
  start({"stripe-main", "adyen-main"});
  // Every Stripe call answered 503: Stripe did not take the request, the next one may.
  sim_->knobs("stripe", R"({"error_rate": 1.0, "error_status": 503})");
  bj::object created = create(gw_, {{"ebook", 1}}, "");
  ASSERT_FALSE(created.empty()) << gw_.log_tail();
  EXPECT_EQ(created.at("payment").at("processor"), "adyen-main") << bj::serialize(created);
  const auto& attempts = created.at("payment").at("attempts").as_array();
  ASSERT_EQ(attempts.size(), 2u) << bj::serialize(created);
  EXPECT_EQ(attempts[0].at("outcome"), "unavailable");

  // A 500 may have charged: the same processor is asked again with the same key, never another.
  sim_->knobs("stripe", R"({"error_rate": 1.0, "error_status": 500})");
  bj::object unknown = create(gw_, {{"ebook", 1}}, "");
  ASSERT_FALSE(unknown.empty()) << gw_.log_tail();
  EXPECT_EQ(unknown.at("payment").at("processor"), "stripe-main") << bj::serialize(unknown);
  EXPECT_EQ(unknown.at("payment").at("status"), "pending");
  std::string id = str(unknown.at("id"));
  sim_->knobs("stripe", R"({"error_rate": 0})");
  bj::object c = wait_checkout(
      gw_, id, [](const bj::object& x) { return !x.at("payment").at("reference").is_null(); },
      std::chrono::seconds(30));
  EXPECT_EQ(c.at("payment").at("processor"), "stripe-main") << bj::serialize(c);
  auto posts = received(*sim_, "stripe", "POST", "/v1/payment_intents");
  std::size_t for_this = 0;
  for (const auto& p : posts) {
    if (header_of(p, "idempotency-key") == id + ":payment.create:stripe-main") ++for_this;
  }
  EXPECT_GE(for_this, 2u);
  for (const auto& s : received(*sim_, "adyen", "POST", "/v71/sessions")) {
    EXPECT_EQ(str(bj::parse(str(s.at("body"))).at("reference")).find(id), std::string::npos);
  }
}

TEST_F(Processors, AProcessorWhoseBreakerIsOpenIsSkippedWithoutBeingCalled) {
  start({"stripe-main", "adyen-main"});
  auto breaker = [&](const std::string& adapter) -> std::string {
    auto r = gw_.request("GET", "/readyz");
    if (!r) return "";
    bj::value doc = r->json();
    const auto* a = doc.at("adapters").as_object().if_contains(adapter);
    return a ? str(a->at("breaker")) : "";
  };
  EXPECT_EQ(breaker("stripe-main"), "closed");
  // Stripe answers every call with 503: each checkout fails over to Adyen, and consecutive
  // failures open Stripe's breaker.
  sim_->knobs("stripe", R"({"error_rate": 1.0, "error_status": 503})");
  for (int i = 0; i < 20 && breaker("stripe-main") != "open"; ++i) {
    bj::object c = create(gw_, {{"ebook", 1}}, "");
    ASSERT_FALSE(c.empty()) << gw_.log_tail();
    EXPECT_EQ(c.at("payment").at("processor"), "adyen-main") << bj::serialize(c);
  }
  ASSERT_EQ(breaker("stripe-main"), "open");

  // Stripe is back, but its breaker is still open: the next checkout goes straight to Adyen.
  sim_->knobs("stripe", R"({"error_rate": 0})");
  ASSERT_EQ(sim_->call("stripe", "DELETE", "/__sim/requests").status / 100, 2);
  bj::object created = create(gw_, {{"ebook", 1}}, "");
  ASSERT_FALSE(created.empty()) << gw_.log_tail();
  std::string id = str(created.at("id"));
  EXPECT_EQ(created.at("payment").at("processor"), "adyen-main") << bj::serialize(created);
  const auto& attempts = created.at("payment").at("attempts").as_array();
  ASSERT_EQ(attempts.size(), 2u) << bj::serialize(created);
  EXPECT_EQ(attempts[0].at("processor"), "stripe-main");
  EXPECT_EQ(attempts[0].at("outcome"), "skipped");
  EXPECT_EQ(attempts[1].at("processor"), "adyen-main");
  EXPECT_EQ(attempts[1].at("outcome"), "created");
  EXPECT_TRUE(sim_->requests("stripe").empty()) << bj::serialize(sim_->requests("stripe"));
  browse(action_url(created));
  bj::object c = wait_checkout(gw_, id, payment_is("succeeded"));
  EXPECT_EQ(payment_status(c), "succeeded") << gw_.log_tail();
}

// ---- manual capture ------------------------------------------------------------------------

TEST_F(Processors, StripeManualCaptureAuthorizesThenCapturesOnAmountCapturableUpdated) {
  start({"stripe-main"});
  bj::object block = adapter_block("stripe", sim_->url("stripe"));
  block["settings"] = bj::object{{"capture_method", "manual"}};
  put(gw_, "/v1/admin/adapters/stripe-main", block);
  bj::object created = create(gw_, {{"ebook", 1}}, "pm_card_visa");
  ASSERT_FALSE(created.empty());
  std::string id = str(created.at("id"));
  std::string pi = str(created.at("payment").at("reference"));
  bj::object c = wait_checkout(gw_, id, payment_is("succeeded"));
  ASSERT_EQ(payment_status(c), "succeeded") << bj::serialize(c) << "\n" << gw_.log_tail();
  EXPECT_TRUE(has_event(gw_, id, "checkout.paid"));

  auto posts = received(*sim_, "stripe", "POST", "/v1/payment_intents");
  ASSERT_EQ(posts.size(), 1u);
  std::string form(posts[0].at("body").as_string());
  EXPECT_NE(form.find("capture_method=manual"), std::string::npos) << form;
  auto captures = received(*sim_, "stripe", "POST", "/v1/payment_intents/" + pi + "/capture");
  ASSERT_GE(captures.size(), 1u);
  EXPECT_FALSE(header_of(captures[0], "idempotency-key").empty());
  for (const auto& cap : captures) {
    EXPECT_EQ(header_of(cap, "idempotency-key"), header_of(captures[0], "idempotency-key"));
  }
  auto intents = sim_state(*sim_, "stripe").at("payment_intents").as_array();
  ASSERT_EQ(intents.size(), 1u);
  EXPECT_EQ(intents[0].at("status"), "succeeded");
  EXPECT_EQ(intents[0].at("amount_received"), c.at("amount_total"));
}

TEST_F(Processors, AdyenManualCaptureCapturesAfterAuthorisation) {
  start({"adyen-main"});
  bj::object block = adapter_block("adyen", sim_->url("adyen"));
  block["settings"].as_object()["capture"] = "manual";
  put(gw_, "/v1/admin/adapters/adyen-main", block);
  bj::object created = create(gw_, {{"ebook", 1}}, "");
  ASSERT_FALSE(created.empty());
  std::string id = str(created.at("id"));
  auto sessions = received(*sim_, "adyen", "POST", "/v71/sessions");
  ASSERT_EQ(sessions.size(), 1u);
  bj::value session = bj::parse(str(sessions[0].at("body")));
  EXPECT_EQ(session.at("additionalData").at("manualCapture"), "true") << bj::serialize(session);

  browse(action_url(created));
  bj::object c = wait_checkout(gw_, id, payment_is("succeeded"));
  ASSERT_EQ(payment_status(c), "succeeded") << bj::serialize(c) << "\n" << gw_.log_tail();
  EXPECT_TRUE(has_event(gw_, id, "checkout.paid"));
  std::string psp = str(c.at("payment").at("reference"));
  auto captures = received(*sim_, "adyen", "POST", "/v71/payments/" + psp + "/captures");
  ASSERT_GE(captures.size(), 1u) << psp;
  EXPECT_FALSE(header_of(captures[0], "idempotency-key").empty());
  std::size_t captured = 0;
  bj::object state = sim_state(*sim_, "adyen");
  for (const auto& m : state.at("modifications").as_array()) {
    if (m.at("type") == "captures" && m.at("success").as_bool()) ++captured;
  }
  EXPECT_EQ(captured, 1u);
}

}  // namespace
}  // namespace mg::testing
