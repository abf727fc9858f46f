// Partner webhooks end to end (CONTRACT §4): signed by the test with the sandbox secrets and sent
// over the wire, so duplicates, reordering and unknown references can be staged exactly.
#include "tests/integration/flow/flow_helpers.hpp"

#include "gateway/core/crypto.hpp"

#include <gtest/gtest.h>

namespace mg::testing {
namespace {

using flow::str;

// sandbox-merch that stays at `submitted` for a minute: its own webhooks do not interfere.
void slow_merch(config::Config& c) {
  for (auto& a : c.seed.at("adapters").as_array()) {
    if (a.at("id").as_string() != "sandbox-merch") continue;
    auto& s = a.at("settings").as_object();
    s["in_production_after_ms"] = 60'000;
    s["shipped_after_ms"] = 70'000;
    s["delivered_after_ms"] = 80'000;
  }
}

struct Order {
  std::string checkout;
  std::string fulfillment;
  std::string reference;
};

Order submitted_order(GatewayFixture& f) {
  auto c = f.create_checkout({{"tee", 1}});
  Order o;
  o.checkout = str(c.at("id"));
  EXPECT_TRUE(eventually(
      [&] { return flow::fulfillment_status(f, o.checkout, "sandbox-merch") == "submitted"; }));
  // Settled but for the order's own webhooks, which are a minute away.
  EXPECT_TRUE(eventually([&] {
    return f.count("SELECT COUNT(*) FROM jobs WHERE state = 'queued'") == 0 &&
           flow::count_in(flow::ledger_path(f, "sandbox-pay"),
                          "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") == 0;
  }));
  auto x = f.get_checkout(o.checkout);
  o.fulfillment = str(x.at("fulfillments").as_array()[0].at("id"));
  o.reference = str(x.at("fulfillments").as_array()[0].at("reference"));
  return o;
}

Reply send_order_event(GatewayFixture& f, const Order& o, const std::string& status,
                       const std::string& tracking = "",
                       const std::string& adapter = "sandbox-merch") {
  std::string eid = core::new_id("evt_test");
  std::string body =
      flow::order_event_body(eid, status, o.reference, o.fulfillment, o.checkout, tracking);
  return flow::post_webhook(f, adapter, body, flow::webhook_headers(f, adapter, eid, body));
}

std::vector<std::string> tracking_numbers(const boost::json::object& checkout) {
  std::vector<std::string> out;
  for (const auto& s : checkout.at("fulfillments").as_array()[0].at("shipments").as_array()) {
    out.push_back(str(s.at("tracking_number")));
  }
  return out;
}

TEST(InboundWebhookFlow, ReplayedDeliveryIsAcknowledgedAndChangesNothing) {
  GatewayFixture f;
  auto c = f.create_checkout({{"tee", 1}});
  std::string id = str(c.at("id"));
  ASSERT_TRUE(eventually([&] {
    return flow::fulfillment_status(f, id, "sandbox-merch") == "delivered" && flow::quiet(f);
  }));
  auto counts = f.table_counts();
  auto types = f.event_types(id);
  auto checkout = f.get_checkout(id);

  // The sandbox's own payment.succeeded, delivered once already, arrives again.
  auto rows = flow::query(flow::ledger_path(f, "sandbox-pay"),
                          "SELECT event_id, body FROM outbox WHERE type = 'payment.succeeded'");
  ASSERT_EQ(rows.size(), 1u);
  auto headers = flow::webhook_headers(f, "sandbox-pay", rows[0][0], rows[0][1]);
  Reply dup = flow::post_webhook(f, "sandbox-pay", rows[0][1], headers);
  EXPECT_GE(dup.status, 200);
  EXPECT_LT(dup.status, 300) << dup.body;
  EXPECT_EQ(f.table_counts(), counts);
  EXPECT_EQ(f.event_types(id), types);
  EXPECT_EQ(flow::text(f.get_checkout(id)), flow::text(checkout));

  // A new fact (a second parcel), then exactly the same bytes and headers again.
  std::string order = str(checkout.at("fulfillments").as_array()[0].at("reference"));
  std::string ful = str(checkout.at("fulfillments").as_array()[0].at("id"));
  std::string eid = core::new_id("evt_test");
  std::string body = flow::order_event_body(eid, "shipped", order, ful, id, "SBXSECONDPARCEL");
  auto signed_headers = flow::webhook_headers(f, "sandbox-merch", eid, body);
  Reply first = flow::post_webhook(f, "sandbox-merch", body, signed_headers);
  ASSERT_EQ(first.status / 100, 2) << first.body;
  auto after_first = f.get_checkout(id);
  EXPECT_EQ(tracking_numbers(after_first).size(), 2u);
  auto types_first = f.event_types(id);
  EXPECT_EQ(types_first.size(), types.size() + 1);
  EXPECT_EQ(types_first.back(), "fulfillment.shipped");
  auto counts_first = f.table_counts();
  EXPECT_EQ(counts_first["inbound_webhooks"], counts["inbound_webhooks"] + 1);

  Reply second = flow::post_webhook(f, "sandbox-merch", body, signed_headers);
  EXPECT_EQ(second.status, first.status) << second.body;
  EXPECT_EQ(f.table_counts(), counts_first);
  EXPECT_EQ(f.event_types(id), types_first);
  EXPECT_EQ(flow::text(f.get_checkout(id)), flow::text(after_first));
}

TEST(InboundWebhookFlow, OutOfOrderOrderWebhooksNeverMoveBackwards) {
  GatewayFixture f(slow_merch);
  Order o = submitted_order(f);
  auto base = f.event_types(o.checkout);

  Reply delivered = send_order_event(f, o, "delivered", "SBXFIRST");
  ASSERT_EQ(delivered.status / 100, 2) << delivered.body;
  auto c = f.get_checkout(o.checkout);
  EXPECT_EQ(str(c.at("status")), "fulfilled");
  EXPECT_EQ(str(c.at("fulfillments").as_array()[0].at("status")), "delivered");
  EXPECT_EQ(tracking_numbers(c), (std::vector<std::string>{"SBXFIRST"}));
  // The jump ends in delivered, then fulfilled (skipped steps may be announced before it).
  auto expected = f.event_types(o.checkout);
  ASSERT_GE(expected.size(), base.size() + 2);
  EXPECT_EQ(std::vector<std::string>(expected.begin(), expected.begin() + base.size()), base);
  EXPECT_EQ(expected[expected.size() - 2], "fulfillment.delivered");
  EXPECT_EQ(expected.back(), "checkout.fulfilled");
  EXPECT_EQ(flow::count_of(expected, "fulfillment.delivered"), 1);
  EXPECT_EQ(flow::count_of(expected, "checkout.fulfilled"), 1);
  for (std::size_t i = base.size(); i + 2 < expected.size(); ++i) {
    EXPECT_TRUE(expected[i] == "fulfillment.in_production" || expected[i] == "fulfillment.shipped")
        << expected[i];
  }

  // Late news about earlier steps: acknowledged, nothing moves back.
  for (const char* late : {"in_production", "submitted"}) {
    Reply r = send_order_event(f, o, late);
    EXPECT_EQ(r.status / 100, 2) << r.body;
  }
  Reply same_parcel = send_order_event(f, o, "shipped", "SBXFIRST");
  EXPECT_EQ(same_parcel.status / 100, 2) << same_parcel.body;
  auto still = f.get_checkout(o.checkout);
  EXPECT_EQ(str(still.at("status")), "fulfilled");
  EXPECT_EQ(str(still.at("fulfillments").as_array()[0].at("status")), "delivered");
  EXPECT_EQ(tracking_numbers(still), (std::vector<std::string>{"SBXFIRST"}));
  EXPECT_EQ(f.event_types(o.checkout), expected);

  // A late `shipped` with a parcel not seen before adds its tracking, status stays delivered.
  Reply new_parcel = send_order_event(f, o, "shipped", "SBXSECOND");
  EXPECT_EQ(new_parcel.status / 100, 2) << new_parcel.body;
  auto last = f.get_checkout(o.checkout);
  EXPECT_EQ(str(last.at("status")), "fulfilled");
  EXPECT_EQ(str(last.at("fulfillments").as_array()[0].at("status")), "delivered");
  EXPECT_EQ(tracking_numbers(last), (std::vector<std::string>{"SBXFIRST", "SBXSECOND"}));
  expected.push_back("fulfillment.shipped");
  EXPECT_EQ(f.event_types(o.checkout), expected);

  // A cancel or failure after delivery is not believed either.
  for (const char* late : {"canceled", "failed"}) {
    Reply r = send_order_event(f, o, late);
    EXPECT_EQ(r.status / 100, 2) << r.body;
  }
  EXPECT_EQ(str(f.get_checkout(o.checkout).at("fulfillments").as_array()[0].at("status")),
            "delivered");
  EXPECT_TRUE(f.get_checkout(o.checkout).at("refunds").as_array().empty());
  EXPECT_EQ(f.event_types(o.checkout), expected);
  EXPECT_EQ(f.count("SELECT COUNT(*) FROM inbound_webhooks WHERE checkout_id = '" + o.checkout +
                    "' AND adapter_id = 'sandbox-merch'"),
            7);
}

// A partner that gives up on an order it had accepted: the buyer gets that order's share back.
void expect_partner_give_up_refunds(const std::string& status, const std::string& reason) {
  GatewayFixture f(slow_merch);
  Order o = submitted_order(f);
  Reply r = send_order_event(f, o, status);
  ASSERT_EQ(r.status / 100, 2) << r.body;
  auto done = f.wait_for_status(o.checkout, "refunded");
  ASSERT_EQ(str(done.at("status")), "refunded") << done;
  EXPECT_EQ(str(done.at("fulfillments").as_array()[0].at("status")), status);
  ASSERT_EQ(done.at("refunds").as_array().size(), 1u);
  const auto& refund = done.at("refunds").as_array()[0];
  EXPECT_EQ(refund.at("amount").as_int64(), 2995);
  EXPECT_TRUE(refund.at("automatic").as_bool());
  EXPECT_EQ(str(refund.at("reason")), reason);
  EXPECT_EQ(str(refund.at("fulfillment")), o.fulfillment);
  auto types = f.event_types(o.checkout);
  EXPECT_EQ(flow::count_of(types, "fulfillment." + status), 1);
  EXPECT_EQ(flow::count_of(types, "refund.succeeded"), 1);
  EXPECT_EQ(types.back(), "checkout.refunded");
  EXPECT_EQ(flow::scalar(flow::ledger_path(f, "sandbox-pay"), "SELECT SUM(amount) FROM refunds"),
            "2995");
  // The same news again refunds nothing more.
  Reply again = send_order_event(f, o, status);
  EXPECT_EQ(again.status / 100, 2);
  ASSERT_TRUE(eventually([&] {
    return f.count("SELECT COUNT(*) FROM jobs WHERE state = 'queued'") == 0 &&
           flow::count_in(flow::ledger_path(f, "sandbox-pay"),
                          "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") == 0;
  }));
  EXPECT_EQ(f.get_checkout(o.checkout).at("refunds").as_array().size(), 1u);
  EXPECT_EQ(f.event_types(o.checkout), types);
}

TEST(InboundWebhookFlow, PartnerFailingAnAcceptedOrderRefundsIt) {
  expect_partner_give_up_refunds("failed", "fulfillment_failed");
}

TEST(InboundWebhookFlow, PartnerCancelingAnAcceptedOrderRefundsIt) {
  expect_partner_give_up_refunds("canceled", "fulfillment_canceled");
}

// A refund made in the processor's own dashboard is recorded when its webhook arrives.
TEST(InboundWebhookFlow, RefundMadeAtTheProcessorIsRecorded) {
  GatewayFixture f;
  auto c = f.create_checkout({{"ebook", 1}});
  std::string id = str(c.at("id"));
  std::string reference = str(c.at("payment").at("reference"));
  ASSERT_EQ(str(f.wait_for_status(id, "fulfilled").at("status")), "fulfilled");
  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));
  auto base = f.event_types(id);

  auto send = [&](std::int64_t amount) {
    std::string eid = core::new_id("evt_test");
    std::string body = boost::json::serialize(boost::json::object{
        {"id", eid},
        {"type", "refund.succeeded"},
        {"created_at", 0},
        {"data", boost::json::object{{"refund", boost::json::object{{"id", "sbr_dashboard"},
                                                                    {"payment", reference},
                                                                    {"checkout", id},
                                                                    {"status", "succeeded"},
                                                                    {"amount", amount},
                                                                    {"currency", "EUR"}}}}}});
    return flow::post_webhook(f, "sandbox-pay", body,
                              flow::webhook_headers(f, "sandbox-pay", eid, body));
  };
  Reply r = send(400);
  ASSERT_EQ(r.status / 100, 2) << r.body;
  auto x = f.get_checkout(id);
  EXPECT_EQ(str(x.at("status")), "partially_refunded");
  EXPECT_EQ(x.at("amount_refunded").as_int64(), 400);
  ASSERT_EQ(x.at("refunds").as_array().size(), 1u);
  EXPECT_EQ(str(x.at("refunds").as_array()[0].at("reference")), "sbr_dashboard");
  EXPECT_EQ(str(x.at("refunds").as_array()[0].at("status")), "succeeded");
  auto expected = base;
  expected.insert(expected.end(), {"refund.succeeded", "checkout.partially_refunded"});
  EXPECT_EQ(f.event_types(id), expected);

  // The processor announces the same refund again under a new event id: still one refund.
  Reply again = send(400);
  EXPECT_EQ(again.status / 100, 2) << again.body;
  EXPECT_EQ(f.get_checkout(id).at("refunds").as_array().size(), 1u);
  EXPECT_EQ(f.get_checkout(id).at("amount_refunded").as_int64(), 400);
  EXPECT_EQ(f.event_types(id), expected);
  // What is left can still be refunded through merchgate, and no more.
  Reply over = f.app("POST", "/v1/checkouts/" + id + "/refunds", R"({"amount": 501})");
  EXPECT_EQ(over.status, 422) << over.body;
}

TEST(InboundWebhookFlow, PaymentFailureAfterSuccessIsIgnored) {
  GatewayFixture f;
  auto c = f.create_checkout({{"ebook", 1}});
  std::string id = str(c.at("id"));
  std::string reference = str(c.at("payment").at("reference"));
  ASSERT_EQ(str(f.wait_for_status(id, "fulfilled").at("status")), "fulfilled");
  ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));
  auto types = f.event_types(id);

  std::string eid = core::new_id("evt_test");
  std::string body = flow::payment_event_body(eid, "failed", reference, 900, "EUR", id);
  Reply r = flow::post_webhook(f, "sandbox-pay", body,
                               flow::webhook_headers(f, "sandbox-pay", eid, body));
  EXPECT_EQ(r.status / 100, 2) << r.body;
  auto after = f.get_checkout(id);
  EXPECT_EQ(str(after.at("status")), "fulfilled");
  EXPECT_EQ(str(after.at("payment").at("status")), "succeeded");
  EXPECT_EQ(f.event_types(id), types);
}

// A processor's webhook about some other payment that names this checkout (its metadata) must not
// pay it: the checkout's own payment is still waiting for the buyer.
TEST(InboundWebhookFlow, WebhookAboutAnotherPaymentDoesNotPayTheCheckout) {
  GatewayFixture f;
  auto c = f.create_checkout({{"tee", 1}}, "pm_sandbox_action");
  std::string id = str(c.at("id"));
  auto checkout = f.get_checkout(id);
  std::string eid = core::new_id("evt_test");
  std::string body =
      flow::payment_event_body(eid, "succeeded", "sbp_some_other_payment", 1, "EUR", id);
  Reply r = flow::post_webhook(f, "sandbox-pay", body,
                               flow::webhook_headers(f, "sandbox-pay", eid, body));
  EXPECT_EQ(r.status / 100, 2) << r.body;
  EXPECT_FALSE(
      eventually([&] { return str(f.get_checkout(id).at("status")) != "requires_payment"; },
                 std::chrono::milliseconds(500)));
  EXPECT_EQ(flow::text(f.get_checkout(id)), flow::text(checkout));
  EXPECT_EQ(f.event_types(id), (std::vector<std::string>{"checkout.created"}));
  EXPECT_NE(flow::scalar(f.db_path(),
                         "SELECT status FROM inbound_webhooks WHERE "
                         "partner_event_id = '" +
                             eid + "'"),
            "applied");
  EXPECT_EQ(flow::count_in(flow::ledger_path(f, "sandbox-merch"), "SELECT COUNT(*) FROM orders"),
            0);
}

TEST(InboundWebhookFlow, BadSignatureStaleTimestampAndUnknownAdapterAreRefused) {
  GatewayFixture f(slow_merch);
  Order o = submitted_order(f);
  auto counts = f.table_counts();
  std::string eid = core::new_id("evt_test");
  std::string body =
      flow::order_event_body(eid, "delivered", o.reference, o.fulfillment, o.checkout, "SBXX");

  // Signed with another partner's secret.
  Reply wrong_key = flow::post_webhook(f, "sandbox-merch", body,
                                       flow::webhook_headers(f, "sandbox-merch-2", eid, body));
  EXPECT_TRUE(wrong_key.status == 400 || wrong_key.status == 401) << wrong_key.status;
  // The body changed after signing.
  auto headers = flow::webhook_headers(f, "sandbox-merch", eid, body);
  std::string tampered = body;
  tampered.replace(tampered.find("SBXX"), 4, "SBXY");
  Reply changed = flow::post_webhook(f, "sandbox-merch", tampered, headers);
  EXPECT_TRUE(changed.status == 400 || changed.status == 401) << changed.status;
  // Outside the replay window.
  Reply stale = flow::post_webhook(
      f, "sandbox-merch", body,
      flow::webhook_headers(f, "sandbox-merch", eid, body, std::time(nullptr) - 3600));
  EXPECT_TRUE(stale.status == 400 || stale.status == 401) << stale.status;
  Reply unknown = flow::post_webhook(f, "no-such-partner", body, headers);
  EXPECT_EQ(unknown.status, 404) << unknown.body;

  EXPECT_EQ(f.table_counts(), counts);
  EXPECT_EQ(flow::fulfillment_status(f, o.checkout, "sandbox-merch"), "submitted");
}

TEST(InboundWebhookFlow, WebhookForAnotherPartnersOrderIsStoredAsIgnored) {
  GatewayFixture f(slow_merch);
  Order o = submitted_order(f);
  auto types = f.event_types(o.checkout);
  Reply r = send_order_event(f, o, "delivered", "SBXZ", "sandbox-merch-2");
  EXPECT_EQ(r.status / 100, 2) << r.body;
  EXPECT_EQ(flow::fulfillment_status(f, o.checkout, "sandbox-merch"), "submitted");
  EXPECT_EQ(f.event_types(o.checkout), types);
  EXPECT_EQ(f.count("SELECT COUNT(*) FROM inbound_webhooks WHERE adapter_id = 'sandbox-merch-2' "
                    "AND status = 'ignored'"),
            1);
}

TEST(InboundWebhookFlow, WebhookForUnknownPaymentIsKeptPendingAndTouchesNothing) {
  GatewayFixture f;
  auto c = f.create_checkout({{"tee", 1}}, "pm_sandbox_action");
  std::string id = str(c.at("id"));
  auto checkout = f.get_checkout(id);
  auto checkouts = f.count("SELECT COUNT(*) FROM checkouts");

  std::string eid = core::new_id("evt_test");
  std::string body = flow::payment_event_body(eid, "succeeded", "sbp_never_made", 2995, "EUR");
  Reply r = flow::post_webhook(f, "sandbox-pay", body,
                               flow::webhook_headers(f, "sandbox-pay", eid, body));
  EXPECT_EQ(r.status / 100, 2) << r.body;
  auto rows = flow::query(f.db_path(),
                          "SELECT status, COALESCE(checkout_id, '') FROM inbound_webhooks WHERE "
                          "partner_event_id = '" +
                              eid + "'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "pending");
  EXPECT_EQ(rows[0][1], "");
  EXPECT_EQ(f.count("SELECT COUNT(*) FROM jobs WHERE kind = 'inbound.apply' AND state = 'queued'"),
            1);

  // Tried again later (first after ~2 s): still nothing to apply it to, so it waits again.
  ASSERT_TRUE(eventually(
      [&] {
        return f.count(
                   "SELECT COUNT(*) FROM jobs WHERE kind = 'inbound.apply' AND attempts >= 1 "
                   "AND last_error IS NOT NULL") == 1;
      },
      std::chrono::seconds(15)));
  EXPECT_EQ(flow::scalar(f.db_path(),
                         "SELECT status FROM inbound_webhooks WHERE "
                         "partner_event_id = '" +
                             eid + "'"),
            "pending");
  EXPECT_EQ(f.count("SELECT COUNT(*) FROM checkouts"), checkouts);
  EXPECT_EQ(flow::text(f.get_checkout(id)), flow::text(checkout));
  EXPECT_EQ(f.event_types(id), (std::vector<std::string>{"checkout.created"}));
}

// The processor's webhook overtakes the reply of the call that creates the payment: the gateway
// does not know the reference yet. Staged by removing the reference from the gateway's index and
// putting it back, as the create call's commit would.
TEST(InboundWebhookFlow, WebhookThatOvertakesItsReferenceIsAppliedWhenTheReferenceAppears) {
  GatewayFixture f;
  auto c = f.create_checkout({{"tee", 1}}, "pm_sandbox_action");
  std::string id = str(c.at("id"));
  std::string reference = str(c.at("payment").at("reference"));
  std::string ref_row =
      "kind = 'payment' AND adapter_id = 'sandbox-pay' AND reference = '" + reference + "'";
  flow::query(f.db_path(), "DELETE FROM partner_refs WHERE " + ref_row);

  std::string eid = core::new_id("evt_test");
  std::string body = flow::payment_event_body(eid, "succeeded", reference, 2995, "EUR");
  Reply r = flow::post_webhook(f, "sandbox-pay", body,
                               flow::webhook_headers(f, "sandbox-pay", eid, body));
  EXPECT_EQ(r.status / 100, 2) << r.body;
  std::string status_sql =
      "SELECT status FROM inbound_webhooks WHERE partner_event_id = '" + eid + "'";
  EXPECT_EQ(flow::scalar(f.db_path(), status_sql), "pending");
  EXPECT_EQ(str(f.get_checkout(id).at("status")), "requires_payment");

  flow::query(f.db_path(),
              "INSERT INTO partner_refs (kind, adapter_id, reference, checkout_id) VALUES "
              "('payment', 'sandbox-pay', '" +
                  reference + "', '" + id + "')");
  ASSERT_TRUE(eventually([&] { return flow::scalar(f.db_path(), status_sql) == "applied"; },
                         std::chrono::seconds(20)));
  EXPECT_EQ(flow::scalar(f.db_path(),
                         "SELECT checkout_id FROM inbound_webhooks WHERE "
                         "partner_event_id = '" +
                             eid + "'"),
            id);
  auto paid = f.wait_for_status(id, "fulfilled");
  EXPECT_EQ(str(paid.at("status")), "fulfilled");
  EXPECT_EQ(str(paid.at("payment").at("status")), "succeeded");
  auto types = f.event_types(id);
  EXPECT_EQ(flow::count_of(types, "checkout.paid"), 1);
  EXPECT_EQ(f.count("SELECT COUNT(*) FROM jobs WHERE kind = 'inbound.apply' AND state = 'done'"),
            1);
}

}  // namespace
}  // namespace mg::testing
