#include "gateway/core/checkout_machine.hpp"
#include "gateway/core/model_json.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mg::core {
namespace {

namespace bj = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr Timestamp kT0 = 1'700'000'000'000;

std::vector<std::string> event_types(const Effects& fx) {
  std::vector<std::string> out;
  for (const auto& e : fx.events) out.push_back(e.type);
  return out;
}

std::vector<std::string> job_kinds(const Effects& fx) {
  std::vector<std::string> out;
  for (const auto& j : fx.jobs) out.push_back(j.kind);
  return out;
}

std::string status_in(const Event& e) { return std::string(e.object.at("status").as_string()); }

Fulfillment make_fulfillment(std::string id, std::string adapter, std::string sku,
                             std::int64_t quantity, std::int64_t amount, std::int64_t shipping) {
  Fulfillment f;
  f.id = std::move(id);
  f.adapter = std::move(adapter);
  f.lines.push_back({std::move(sku), quantity});
  f.amount = amount;
  f.amount_shipping = shipping;
  f.created_at = f.updated_at = kT0;
  return f;
}

Line make_line(std::string sku, std::int64_t quantity, std::int64_t unit, std::string adapter) {
  Line l;
  l.sku = std::move(sku);
  l.title = l.sku;
  l.quantity = quantity;
  l.unit_amount = unit;
  l.amount = unit * quantity;
  l.fulfillment_adapter = std::move(adapter);
  return l;
}

Checkout base_checkout() {
  Checkout c;
  c.id = "chk_test";
  c.seller = "sel_hype";
  c.currency = "EUR";
  c.buyer.id = "u_1";
  c.created_at = c.updated_at = kT0;
  return c;
}

// Two partners: ful_a makes two tees (5000 + 499 shipping), ful_b one mug (1500 + 300).
Checkout two_partner_checkout() {
  Checkout c = base_checkout();
  c.lines.push_back(make_line("tee", 2, 2500, "printful-main"));
  c.lines.push_back(make_line("mug", 1, 1500, "gelato-main"));
  c.fulfillments.push_back(make_fulfillment("ful_a", "printful-main", "tee", 2, 5000, 499));
  c.fulfillments.push_back(make_fulfillment("ful_b", "gelato-main", "mug", 1, 1500, 300));
  c.amount_subtotal = 6500;
  c.amount_shipping = 799;
  c.amount_total = 7299;
  return c;
}

// One partner makes everything: 5000 + 499 shipping.
Checkout one_partner_checkout() {
  Checkout c = base_checkout();
  c.lines.push_back(make_line("tee", 2, 2500, "printful-main"));
  c.fulfillments.push_back(make_fulfillment("ful_a", "printful-main", "tee", 2, 5000, 499));
  c.amount_subtotal = 5000;
  c.amount_shipping = 499;
  c.amount_total = 5499;
  return c;
}

// Nothing to ship.
Checkout digital_checkout() {
  Checkout c = base_checkout();
  c.lines.push_back(make_line("ebook", 1, 1200, ""));
  c.amount_subtotal = 1200;
  c.amount_total = 1200;
  return c;
}

PaymentFact payment(PaymentStatus s, std::string reference = "pi_1") {
  PaymentFact f;
  f.status = s;
  f.reference = std::move(reference);
  return f;
}

FulfillmentFact order(FulfillmentStatus s, std::string reference = "ord_1") {
  FulfillmentFact f;
  f.status = s;
  f.reference = std::move(reference);
  return f;
}

FulfillmentFact shipped(std::string tracking, std::string reference = "ord_1") {
  FulfillmentFact f = order(FulfillmentStatus::shipped, std::move(reference));
  f.shipments.push_back({"DHL", std::move(tracking), "https://track.example/x", kT0});
  return f;
}

RefundFact refund_outcome(std::string refund_id, RefundStatus s, std::int64_t amount,
                          std::string reference = "re_1") {
  RefundFact f;
  f.refund_id = std::move(refund_id);
  f.reference = std::move(reference);
  f.status = s;
  f.amount = amount;
  return f;
}

void pay(Checkout& c, Timestamp t = kT0 + 1) {
  apply_payment_fact(c, payment(PaymentStatus::succeeded), t);
  ASSERT_EQ(c.payment.status, PaymentStatus::succeeded);
}

std::string refund(Checkout& c, std::int64_t amount, Timestamp t) {
  std::string id;
  auto r = request_refund(c, amount, "requested_by_customer", t, id);
  EXPECT_TRUE(r.has_value());
  return id;
}

// ---- ranks, edges, derived status ---------------------------------------------------------

TEST(CheckoutRank, FollowsTheLifecycleOrder) {
  EXPECT_LT(rank(CheckoutStatus::requires_payment), rank(CheckoutStatus::payment_failed));
  EXPECT_LT(rank(CheckoutStatus::payment_failed), rank(CheckoutStatus::paid));
  EXPECT_LT(rank(CheckoutStatus::paid), rank(CheckoutStatus::fulfilling));
  EXPECT_LT(rank(CheckoutStatus::fulfilling), rank(CheckoutStatus::fulfilled));
  EXPECT_LT(rank(CheckoutStatus::fulfilled), rank(CheckoutStatus::partially_refunded));
  EXPECT_LT(rank(CheckoutStatus::partially_refunded), rank(CheckoutStatus::refunded));
  EXPECT_LT(rank(CheckoutStatus::refunded), rank(CheckoutStatus::canceled));
}

TEST(FulfillmentRank, FailedAndCanceledShareTheTerminalRank) {
  EXPECT_EQ(rank(FulfillmentStatus::failed), rank(FulfillmentStatus::canceled));
  EXPECT_GT(rank(FulfillmentStatus::canceled), rank(FulfillmentStatus::delivered));
  EXPECT_LT(rank(FulfillmentStatus::pending), rank(FulfillmentStatus::submitted));
  EXPECT_LT(rank(FulfillmentStatus::submitted), rank(FulfillmentStatus::in_production));
  EXPECT_LT(rank(FulfillmentStatus::in_production), rank(FulfillmentStatus::shipped));
  EXPECT_LT(rank(FulfillmentStatus::shipped), rank(FulfillmentStatus::delivered));
}

TEST(PaymentEdges, MoveOnlyForward) {
  using P = PaymentStatus;
  EXPECT_TRUE(can_advance(P::pending, P::requires_action));
  EXPECT_TRUE(can_advance(P::pending, P::processing));
  EXPECT_TRUE(can_advance(P::requires_action, P::processing));
  EXPECT_TRUE(can_advance(P::processing, P::failed));
  EXPECT_TRUE(can_advance(P::processing, P::succeeded));
  EXPECT_TRUE(can_advance(P::pending, P::canceled));
  EXPECT_FALSE(can_advance(P::processing, P::requires_action));
  EXPECT_FALSE(can_advance(P::processing, P::pending));
  EXPECT_FALSE(can_advance(P::failed, P::processing));
}

TEST(PaymentEdges, RepeatingAStatusIsNoEdge) {
  for (auto s : {PaymentStatus::pending, PaymentStatus::requires_action, PaymentStatus::processing,
                 PaymentStatus::failed, PaymentStatus::succeeded, PaymentStatus::canceled}) {
    EXPECT_FALSE(can_advance(s, s)) << to_string(s);
  }
}

TEST(PaymentEdges, SuccessOverridesFailureAndCancellation) {
  EXPECT_TRUE(can_advance(PaymentStatus::failed, PaymentStatus::succeeded));
  EXPECT_TRUE(can_advance(PaymentStatus::canceled, PaymentStatus::succeeded));
}

TEST(PaymentEdges, NothingLeavesSucceededOrCanceled) {
  for (auto to : {PaymentStatus::pending, PaymentStatus::requires_action, PaymentStatus::processing,
                  PaymentStatus::failed, PaymentStatus::canceled}) {
    EXPECT_FALSE(can_advance(PaymentStatus::succeeded, to)) << to_string(to);
  }
  for (auto to : {PaymentStatus::pending, PaymentStatus::requires_action, PaymentStatus::processing,
                  PaymentStatus::failed}) {
    EXPECT_FALSE(can_advance(PaymentStatus::canceled, to)) << to_string(to);
  }
}

TEST(FulfillmentEdges, ForwardStepsAndSkipsAreAllowed) {
  using F = FulfillmentStatus;
  EXPECT_TRUE(can_advance(F::pending, F::submitted));
  EXPECT_TRUE(can_advance(F::submitted, F::in_production));
  EXPECT_TRUE(can_advance(F::in_production, F::shipped));
  EXPECT_TRUE(can_advance(F::shipped, F::delivered));
  EXPECT_TRUE(can_advance(F::pending, F::shipped));
  EXPECT_TRUE(can_advance(F::submitted, F::delivered));
}

TEST(FulfillmentEdges, BackwardStepsAreRefused) {
  using F = FulfillmentStatus;
  EXPECT_FALSE(can_advance(F::shipped, F::in_production));
  EXPECT_FALSE(can_advance(F::in_production, F::submitted));
  EXPECT_FALSE(can_advance(F::submitted, F::pending));
  EXPECT_FALSE(can_advance(F::shipped, F::shipped));
}

TEST(FulfillmentEdges, CancelAndFailureOnlyUntilProductionEnds) {
  using F = FulfillmentStatus;
  for (auto to : {F::canceled, F::failed}) {
    EXPECT_TRUE(can_advance(F::pending, to));
    EXPECT_TRUE(can_advance(F::submitted, to));
    EXPECT_TRUE(can_advance(F::in_production, to));
    EXPECT_FALSE(can_advance(F::shipped, to));
    EXPECT_FALSE(can_advance(F::delivered, to));
  }
}

TEST(FulfillmentEdges, TerminalStatusesNeverMove) {
  using F = FulfillmentStatus;
  for (auto from : {F::delivered, F::canceled, F::failed}) {
    for (auto to : {F::pending, F::submitted, F::in_production, F::shipped, F::delivered,
                    F::canceled, F::failed}) {
      EXPECT_FALSE(can_advance(from, to)) << to_string(from) << " -> " << to_string(to);
    }
  }
}

TEST(DeriveStatus, OpenPaymentRequiresPayment) {
  Checkout c = one_partner_checkout();
  for (auto s :
       {PaymentStatus::pending, PaymentStatus::requires_action, PaymentStatus::processing}) {
    c.payment.status = s;
    EXPECT_EQ(derive_status(c), CheckoutStatus::requires_payment) << to_string(s);
  }
}

TEST(DeriveStatus, FailedAndCanceledPayments) {
  Checkout c = one_partner_checkout();
  c.payment.status = PaymentStatus::failed;
  EXPECT_EQ(derive_status(c), CheckoutStatus::payment_failed);
  c.payment.status = PaymentStatus::canceled;
  EXPECT_EQ(derive_status(c), CheckoutStatus::canceled);
}

TEST(DeriveStatus, CancellationWinsOverASucceededPayment) {
  Checkout c = one_partner_checkout();
  c.payment.status = PaymentStatus::succeeded;
  c.canceled_at = kT0;
  EXPECT_EQ(derive_status(c), CheckoutStatus::canceled);
}

TEST(DeriveStatus, FollowsTheFulfillments) {
  Checkout c = two_partner_checkout();
  c.payment.status = PaymentStatus::succeeded;
  EXPECT_EQ(derive_status(c), CheckoutStatus::paid);
  c.fulfillments[0].status = FulfillmentStatus::submitted;
  EXPECT_EQ(derive_status(c), CheckoutStatus::fulfilling);
  c.fulfillments[0].status = FulfillmentStatus::shipped;
  EXPECT_EQ(derive_status(c), CheckoutStatus::fulfilling);
  c.fulfillments[1].status = FulfillmentStatus::delivered;
  EXPECT_EQ(derive_status(c), CheckoutStatus::fulfilled);
}

TEST(DeriveStatus, AFailedFulfillmentDoesNotHoldBackTheOthers) {
  Checkout c = two_partner_checkout();
  c.payment.status = PaymentStatus::succeeded;
  c.fulfillments[0].status = FulfillmentStatus::failed;
  c.fulfillments[1].status = FulfillmentStatus::shipped;
  EXPECT_EQ(derive_status(c), CheckoutStatus::fulfilled);
}

TEST(DeriveStatus, NothingToShipIsFulfilledOncePaid) {
  Checkout c = digital_checkout();
  c.payment.status = PaymentStatus::succeeded;
  EXPECT_EQ(derive_status(c), CheckoutStatus::fulfilled);
}

TEST(DeriveStatus, OnlySucceededRefundsCount) {
  Checkout c = one_partner_checkout();
  c.payment.status = PaymentStatus::succeeded;
  c.refunds.push_back({"rfd_1", 100, "", RefundStatus::pending, "", "", false, "", kT0, kT0});
  c.refunds.push_back({"rfd_2", 200, "", RefundStatus::failed, "", "", false, "", kT0, kT0});
  EXPECT_EQ(derive_status(c), CheckoutStatus::paid);
  c.refunds.push_back({"rfd_3", 300, "", RefundStatus::succeeded, "", "", false, "", kT0, kT0});
  EXPECT_EQ(derive_status(c), CheckoutStatus::partially_refunded);
  c.refunds.push_back({"rfd_4", 5199, "", RefundStatus::succeeded, "", "", false, "", kT0, kT0});
  EXPECT_EQ(derive_status(c), CheckoutStatus::refunded);
}

TEST(StatusEventType, NamesTheContractEvents) {
  EXPECT_EQ(status_event_type(CheckoutStatus::paid), "checkout.paid");
  EXPECT_EQ(status_event_type(CheckoutStatus::payment_failed), "checkout.payment_failed");
  EXPECT_EQ(status_event_type(CheckoutStatus::fulfilled), "checkout.fulfilled");
  EXPECT_EQ(status_event_type(CheckoutStatus::partially_refunded), "checkout.partially_refunded");
  EXPECT_EQ(status_event_type(CheckoutStatus::refunded), "checkout.refunded");
  EXPECT_EQ(status_event_type(CheckoutStatus::canceled), "checkout.canceled");
  EXPECT_EQ(status_event_type(CheckoutStatus::requires_payment), "");
  EXPECT_EQ(status_event_type(CheckoutStatus::fulfilling), "");
}

TEST(Refundable, IsTheTotalMinusSucceededAndPendingRefunds) {
  Checkout c = one_partner_checkout();
  EXPECT_EQ(refundable(c), 5499);
  c.refunds.push_back({"rfd_1", 1000, "", RefundStatus::succeeded, "", "", false, "", kT0, kT0});
  c.refunds.push_back({"rfd_2", 400, "", RefundStatus::pending, "", "", false, "", kT0, kT0});
  c.refunds.push_back({"rfd_3", 900, "", RefundStatus::failed, "", "", false, "", kT0, kT0});
  EXPECT_EQ(refundable(c), 4099);
  c.refunds.push_back({"rfd_4", 9000, "", RefundStatus::succeeded, "", "", false, "", kT0, kT0});
  EXPECT_EQ(refundable(c), 0);
}

TEST(PaymentSerialKey, IsSharedByAllPaymentJobsOfOneCheckout) {
  EXPECT_EQ(payment_serial_key("chk_abc"), "chk_abc:payment");
  EXPECT_NE(payment_serial_key("chk_abc"), payment_serial_key("chk_abd"));
}

// ---- creation and payment -----------------------------------------------------------------

TEST(CheckoutCreated, AnnouncesTheCheckoutAndQueuesThePaymentCreate) {
  Checkout c = two_partner_checkout();
  auto fx = checkout_created(c, kT0);
  EXPECT_THAT(event_types(fx), ElementsAre("checkout.created"));
  EXPECT_THAT(fx.events[0].id, StartsWith("evt_"));
  EXPECT_EQ(fx.events[0].checkout_id, "chk_test");
  EXPECT_EQ(fx.events[0].created_at, kT0);
  EXPECT_EQ(status_in(fx.events[0]), "requires_payment");
  EXPECT_EQ(fx.events[0].object.at("id").as_string(), "chk_test");
  ASSERT_THAT(job_kinds(fx), ElementsAre("payment.create"));
  EXPECT_EQ(fx.jobs[0].serial_key, "chk_test:payment");
  EXPECT_EQ(fx.jobs[0].checkout_id, "chk_test");
  EXPECT_EQ(c.status, CheckoutStatus::requires_payment);
}

TEST(PaymentFacts, SucceededMovesToPaidAndQueuesOneCreatePerFulfillment) {
  Checkout c = two_partner_checkout();
  auto fx = apply_payment_fact(c, payment(PaymentStatus::succeeded, "pi_42"), kT0 + 5);
  EXPECT_EQ(c.status, CheckoutStatus::paid);
  EXPECT_EQ(c.payment.status, PaymentStatus::succeeded);
  EXPECT_EQ(c.payment.reference, "pi_42");
  EXPECT_EQ(c.updated_at, kT0 + 5);
  ASSERT_THAT(event_types(fx), ElementsAre("checkout.paid"));
  EXPECT_EQ(status_in(fx.events[0]), "paid");
  EXPECT_EQ(fx.events[0].object.at("payment").at("status").as_string(), "succeeded");
  ASSERT_THAT(job_kinds(fx), ElementsAre("fulfillment.create", "fulfillment.create"));
  EXPECT_EQ(fx.jobs[0].payload, (bj::object{{"fulfillment", "ful_a"}}));
  EXPECT_EQ(fx.jobs[0].serial_key, "ful_a");
  EXPECT_EQ(fx.jobs[1].payload, (bj::object{{"fulfillment", "ful_b"}}));
  EXPECT_EQ(fx.jobs[1].serial_key, "ful_b");
}

TEST(PaymentFacts, DigitalOnlyCheckoutIsPaidThenFulfilledAndAnnouncesBoth) {
  Checkout c = digital_checkout();
  auto fx = apply_payment_fact(c, payment(PaymentStatus::succeeded), kT0 + 5);
  EXPECT_EQ(c.status, CheckoutStatus::fulfilled);
  ASSERT_THAT(event_types(fx), ElementsAre("checkout.paid", "checkout.fulfilled"));
  // Rendered after the status settled: both snapshots show the final status.
  EXPECT_EQ(status_in(fx.events[0]), "fulfilled");
  EXPECT_EQ(status_in(fx.events[1]), "fulfilled");
  EXPECT_THAT(fx.jobs, IsEmpty());
}

TEST(PaymentFacts, DuplicateSucceededChangesNothing) {
  Checkout c = two_partner_checkout();
  pay(c, kT0 + 1);
  auto fx = apply_payment_fact(c, payment(PaymentStatus::succeeded), kT0 + 9);
  EXPECT_TRUE(fx.empty());
  EXPECT_EQ(c.status, CheckoutStatus::paid);
  EXPECT_EQ(c.updated_at, kT0 + 1);
}

TEST(PaymentFacts, FailedAnnouncesOnlyThePaymentFailure) {
  Checkout c = one_partner_checkout();
  PaymentFact f = payment(PaymentStatus::failed);
  f.failure_message = "Your card was declined.";
  auto fx = apply_payment_fact(c, f, kT0 + 5);
  EXPECT_EQ(c.status, CheckoutStatus::payment_failed);
  EXPECT_EQ(c.payment.failure_code, "payment_failed");
  EXPECT_EQ(c.payment.failure_message, "Your card was declined.");
  ASSERT_THAT(event_types(fx), ElementsAre("checkout.payment_failed"));
  EXPECT_EQ(status_in(fx.events[0]), "payment_failed");
  EXPECT_THAT(fx.jobs, IsEmpty());
}

TEST(PaymentFacts, FailedKeepsTheProcessorsCode) {
  Checkout c = one_partner_checkout();
  PaymentFact f = payment(PaymentStatus::failed);
  f.failure_code = "card_declined";
  apply_payment_fact(c, f, kT0 + 5);
  EXPECT_EQ(c.payment.failure_code, "card_declined");
}

TEST(PaymentFacts, RequiresActionStoresTheClientActionWithoutEvents) {
  Checkout c = one_partner_checkout();
  PaymentFact f = payment(PaymentStatus::requires_action);
  f.client_action = ClientAction{"redirect", "https://pay.example/3ds"};
  auto fx = apply_payment_fact(c, f, kT0 + 5);
  EXPECT_TRUE(fx.empty());
  EXPECT_EQ(c.status, CheckoutStatus::requires_payment);
  EXPECT_EQ(c.payment.status, PaymentStatus::requires_action);
  ASSERT_TRUE(c.payment.client_action.has_value());
  EXPECT_EQ(c.payment.client_action->value, "https://pay.example/3ds");
  EXPECT_EQ(c.updated_at, kT0 + 5);
}

TEST(PaymentFacts, SucceededClearsClientActionAndFailure) {
  Checkout c = one_partner_checkout();
  PaymentFact action = payment(PaymentStatus::requires_action);
  action.client_action = ClientAction{"client_secret", "pi_1_secret"};
  apply_payment_fact(c, action, kT0 + 1);
  apply_payment_fact(c, payment(PaymentStatus::succeeded), kT0 + 2);
  EXPECT_FALSE(c.payment.client_action.has_value());
  EXPECT_EQ(c.payment.failure_code, "");
}

TEST(PaymentFacts, LateProcessingAfterSucceededIsIgnored) {
  Checkout c = one_partner_checkout();
  pay(c, kT0 + 1);
  for (auto s : {PaymentStatus::processing, PaymentStatus::requires_action, PaymentStatus::failed,
                 PaymentStatus::canceled, PaymentStatus::pending}) {
    auto fx = apply_payment_fact(c, payment(s), kT0 + 9);
    EXPECT_TRUE(fx.empty()) << to_string(s);
    EXPECT_EQ(c.payment.status, PaymentStatus::succeeded);
    EXPECT_EQ(c.status, CheckoutStatus::paid);
    EXPECT_EQ(c.canceled_at, 0);
  }
  EXPECT_EQ(c.updated_at, kT0 + 1);
}

TEST(PaymentFacts, SucceededAfterFailedIsPaidAfterAll) {
  Checkout c = one_partner_checkout();
  apply_payment_fact(c, payment(PaymentStatus::failed), kT0 + 1);
  auto fx = apply_payment_fact(c, payment(PaymentStatus::succeeded), kT0 + 2);
  EXPECT_EQ(c.status, CheckoutStatus::paid);
  EXPECT_EQ(c.payment.failure_code, "");
  EXPECT_THAT(event_types(fx), ElementsAre("checkout.paid"));
  EXPECT_THAT(job_kinds(fx), ElementsAre("fulfillment.create"));
}

TEST(PaymentFacts, ReferenceIsKeptOnceLearnedAndPartnerDataMerges) {
  Checkout c = one_partner_checkout();
  PaymentFact first = payment(PaymentStatus::processing, "pi_first");
  first.partner_data = {{"order_id", "O-1"}, {"capture_id", "old"}};
  apply_payment_fact(c, first, kT0 + 1);
  PaymentFact second = payment(PaymentStatus::succeeded, "pi_other");
  second.partner_data = {{"capture_id", "CAP-2"}};
  apply_payment_fact(c, second, kT0 + 2);
  EXPECT_EQ(c.payment.reference, "pi_first");
  EXPECT_EQ(c.payment.partner_data,
            (std::map<std::string, std::string>{{"capture_id", "CAP-2"}, {"order_id", "O-1"}}));
}

TEST(PaymentFacts, ProcessorCancelCancelsTheCheckout) {
  Checkout c = two_partner_checkout();
  auto fx = apply_payment_fact(c, payment(PaymentStatus::canceled), kT0 + 3);
  EXPECT_EQ(c.status, CheckoutStatus::canceled);
  EXPECT_EQ(c.canceled_at, kT0 + 3);
  ASSERT_THAT(event_types(fx), ElementsAre("checkout.canceled"));
  EXPECT_EQ(status_in(fx.events[0]), "canceled");
  EXPECT_THAT(fx.jobs, IsEmpty());
}

TEST(PaymentFacts, SucceededAfterTheProcessorCanceledIsRefunded) {
  Checkout c = one_partner_checkout();
  apply_payment_fact(c, payment(PaymentStatus::canceled), kT0 + 1);
  auto fx = apply_payment_fact(c, payment(PaymentStatus::succeeded), kT0 + 2);
  EXPECT_EQ(c.status, CheckoutStatus::canceled);
  EXPECT_EQ(c.payment.status, PaymentStatus::succeeded);
  ASSERT_EQ(c.refunds.size(), 1u);
  EXPECT_EQ(c.refunds[0].amount, 5499);
  EXPECT_TRUE(c.refunds[0].automatic);
  ASSERT_THAT(job_kinds(fx), ElementsAre("payment.refund"));
  EXPECT_EQ(fx.jobs[0].serial_key, "chk_test:payment");
}

TEST(RecordPaymentCreated, StoresProcessorAttemptsAndClientAction) {
  Checkout c = one_partner_checkout();
  PaymentFact f = payment(PaymentStatus::requires_action, "pi_77");
  f.client_action = ClientAction{"client_secret", "pi_77_secret_x"};
  std::vector<PaymentAttempt> attempts{{"adyen-eu", "unavailable", "connect refused", kT0},
                                       {"stripe-main", "created", "", kT0 + 1}};
  auto fx = record_payment_created(c, "stripe-main", f, attempts, kT0 + 2);
  EXPECT_TRUE(fx.events.empty());
  EXPECT_TRUE(fx.jobs.empty());
  EXPECT_EQ(c.payment.processor, "stripe-main");
  EXPECT_EQ(c.payment.reference, "pi_77");
  EXPECT_EQ(c.payment.status, PaymentStatus::requires_action);
  ASSERT_TRUE(c.payment.client_action.has_value());
  EXPECT_EQ(c.payment.client_action->type, "client_secret");
  EXPECT_EQ(c.payment.client_action->value, "pi_77_secret_x");
  ASSERT_EQ(c.payment.attempts.size(), 2u);
  EXPECT_EQ(c.payment.attempts[0].processor, "adyen-eu");
  EXPECT_EQ(c.payment.attempts[1].outcome, "created");
  EXPECT_EQ(c.updated_at, kT0 + 2);
  EXPECT_EQ(c.status, CheckoutStatus::requires_payment);
}

TEST(RecordPaymentCreated, PendingReplyStillKeepsItsClientAction) {
  Checkout c = one_partner_checkout();
  PaymentFact f = payment(PaymentStatus::pending, "pi_78");
  f.client_action = ClientAction{"redirect", "https://gw.example/hosted/sandbox/pay/1"};
  record_payment_created(c, "sandbox-pay", f, {}, kT0 + 2);
  ASSERT_TRUE(c.payment.client_action.has_value());
  EXPECT_EQ(c.payment.client_action->type, "redirect");
  EXPECT_EQ(c.payment.reference, "pi_78");
}

TEST(RecordPaymentCreated, ImmediateSuccessIsPaid) {
  Checkout c = one_partner_checkout();
  auto fx =
      record_payment_created(c, "sandbox-pay", payment(PaymentStatus::succeeded), {}, kT0 + 2);
  EXPECT_EQ(c.status, CheckoutStatus::paid);
  EXPECT_THAT(event_types(fx), ElementsAre("checkout.paid"));
  EXPECT_THAT(job_kinds(fx), ElementsAre("fulfillment.create"));
}

TEST(RecordPaymentNotCreated, FailsThePaymentWithTheGivenCode) {
  Checkout c = one_partner_checkout();
  std::vector<PaymentAttempt> attempts{{"stripe-main", "unavailable", "timeout", kT0}};
  auto fx = record_payment_not_created(c, "partner_unavailable", "no processor reachable", attempts,
                                       kT0 + 4);
  EXPECT_EQ(c.status, CheckoutStatus::payment_failed);
  EXPECT_EQ(c.payment.status, PaymentStatus::failed);
  EXPECT_EQ(c.payment.failure_code, "partner_unavailable");
  EXPECT_EQ(c.payment.failure_message, "no processor reachable");
  EXPECT_EQ(c.payment.attempts.size(), 1u);
  ASSERT_THAT(event_types(fx), ElementsAre("checkout.payment_failed"));
  EXPECT_EQ(status_in(fx.events[0]), "payment_failed");
  EXPECT_THAT(fx.jobs, IsEmpty());
}

// ---- fulfillment --------------------------------------------------------------------------

TEST(FulfillmentPlaced, SubmittedOrderStartsFulfilling) {
  Checkout c = two_partner_checkout();
  pay(c);
  auto fx =
      record_fulfillment_placed(c, "ful_a", order(FulfillmentStatus::submitted, "PF-1"), kT0 + 10);
  EXPECT_EQ(c.fulfillments[0].status, FulfillmentStatus::submitted);
  EXPECT_EQ(c.fulfillments[0].reference, "PF-1");
  EXPECT_EQ(c.fulfillments[0].updated_at, kT0 + 10);
  EXPECT_EQ(c.status, CheckoutStatus::fulfilling);
  // `fulfilling` has no event of its own.
  ASSERT_THAT(event_types(fx), ElementsAre("fulfillment.submitted"));
  const auto& o = fx.events[0].object;
  EXPECT_EQ(o.at("object").as_string(), "fulfillment");
  EXPECT_EQ(o.at("id").as_string(), "ful_a");
  EXPECT_EQ(o.at("checkout").as_string(), "chk_test");
  EXPECT_EQ(o.at("status").as_string(), "submitted");
  EXPECT_EQ(o.at("reference").as_string(), "PF-1");
  EXPECT_THAT(fx.jobs, IsEmpty());
}

TEST(FulfillmentPlaced, OrderPlacedAfterCancelIsCanceledAtThePartner) {
  Checkout c = one_partner_checkout();
  ASSERT_TRUE(request_cancel(c, kT0 + 1).has_value());
  ASSERT_EQ(c.fulfillments[0].status, FulfillmentStatus::canceled);
  auto fx =
      record_fulfillment_placed(c, "ful_a", order(FulfillmentStatus::submitted, "PF-9"), kT0 + 2);
  EXPECT_EQ(c.fulfillments[0].status, FulfillmentStatus::canceled);
  EXPECT_EQ(c.fulfillments[0].reference, "PF-9");
  EXPECT_THAT(event_types(fx), IsEmpty());
  ASSERT_THAT(job_kinds(fx), ElementsAre("fulfillment.cancel"));
  EXPECT_EQ(fx.jobs[0].payload, (bj::object{{"fulfillment", "ful_a"}}));
  EXPECT_EQ(fx.jobs[0].serial_key, "ful_a");
}

TEST(FulfillmentFacts, EachStepEmitsItsEventAndTheLastShipmentFulfills) {
  Checkout c = two_partner_checkout();
  pay(c);
  record_fulfillment_placed(c, "ful_a", order(FulfillmentStatus::submitted, "A"), kT0 + 2);
  record_fulfillment_placed(c, "ful_b", order(FulfillmentStatus::submitted, "B"), kT0 + 2);

  auto fx =
      apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::in_production, "A"), kT0 + 3);
  EXPECT_THAT(event_types(fx), ElementsAre("fulfillment.in_production"));
  EXPECT_EQ(c.status, CheckoutStatus::fulfilling);

  fx = apply_fulfillment_fact(c, "ful_a", shipped("TRK-A", "A"), kT0 + 4);
  EXPECT_THAT(event_types(fx), ElementsAre("fulfillment.shipped"));
  EXPECT_EQ(c.status, CheckoutStatus::fulfilling);

  fx = apply_fulfillment_fact(c, "ful_b", order(FulfillmentStatus::in_production, "B"), kT0 + 5);
  EXPECT_THAT(event_types(fx), ElementsAre("fulfillment.in_production"));

  fx = apply_fulfillment_fact(c, "ful_b", shipped("TRK-B", "B"), kT0 + 6);
  ASSERT_THAT(event_types(fx), ElementsAre("fulfillment.shipped", "checkout.fulfilled"));
  EXPECT_EQ(c.status, CheckoutStatus::fulfilled);
  const auto& ship = fx.events[0].object;
  EXPECT_EQ(ship.at("id").as_string(), "ful_b");
  EXPECT_EQ(ship.at("status").as_string(), "shipped");
  ASSERT_EQ(ship.at("shipments").as_array().size(), 1u);
  const auto& s = ship.at("shipments").as_array()[0].as_object();
  EXPECT_EQ(s.at("carrier").as_string(), "DHL");
  EXPECT_EQ(s.at("tracking_number").as_string(), "TRK-B");
  EXPECT_EQ(s.at("tracking_url").as_string(), "https://track.example/x");
  EXPECT_EQ(status_in(fx.events[1]), "fulfilled");

  fx = apply_fulfillment_fact(c, "ful_b", order(FulfillmentStatus::delivered, "B"), kT0 + 7);
  EXPECT_THAT(event_types(fx), ElementsAre("fulfillment.delivered"));
  EXPECT_EQ(c.status, CheckoutStatus::fulfilled);
}

TEST(FulfillmentFacts, LateShippedWebhookAfterDeliveredChangesNothing) {
  Checkout c = one_partner_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_a", shipped("TRK-1"), kT0 + 2);
  apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::delivered), kT0 + 3);
  auto fx = apply_fulfillment_fact(c, "ful_a", shipped("TRK-1"), kT0 + 4);
  EXPECT_TRUE(fx.empty());
  EXPECT_EQ(c.fulfillments[0].status, FulfillmentStatus::delivered);
  EXPECT_EQ(c.fulfillments[0].shipments.size(), 1u);
  EXPECT_EQ(c.fulfillments[0].updated_at, kT0 + 3);
  EXPECT_EQ(c.updated_at, kT0 + 3);
}

TEST(FulfillmentFacts, AJumpAnnouncesTheSkippedStepsInOrder) {
  Checkout c = one_partner_checkout();
  pay(c);
  auto fx = apply_fulfillment_fact(c, "ful_a", shipped("TRK-1"), kT0 + 2);
  ASSERT_THAT(event_types(fx), ElementsAre("fulfillment.submitted", "fulfillment.in_production",
                                           "fulfillment.shipped", "checkout.fulfilled"));
  // Rendered after the transition settled: every snapshot shows where the order is now.
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(fx.events[i].object.at("id").as_string(), "ful_a");
    EXPECT_EQ(status_in(fx.events[i]), "shipped");
  }
  EXPECT_EQ(status_in(fx.events[3]), "fulfilled");

  fx = apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::delivered), kT0 + 3);
  EXPECT_THAT(event_types(fx), ElementsAre("fulfillment.delivered"));
}

TEST(FulfillmentFacts, SkippedStepsStartAfterTheCurrentOne) {
  Checkout c = one_partner_checkout();
  pay(c);
  record_fulfillment_placed(c, "ful_a", order(FulfillmentStatus::submitted), kT0 + 2);
  auto fx = apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::delivered), kT0 + 3);
  EXPECT_THAT(event_types(fx), ElementsAre("fulfillment.in_production", "fulfillment.shipped",
                                           "fulfillment.delivered", "checkout.fulfilled"));
}

TEST(FulfillmentFacts, FailureIsNotPrecededBySkippedSteps) {
  Checkout c = one_partner_checkout();
  pay(c);
  auto fx = apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::failed), kT0 + 2);
  EXPECT_THAT(event_types(fx), ElementsAre("fulfillment.failed"));
}

TEST(FulfillmentFacts, OutOfOrderFactsOnlyMoveForward) {
  Checkout c = one_partner_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_a", shipped("TRK-1"), kT0 + 2);
  for (auto late : {FulfillmentStatus::submitted, FulfillmentStatus::in_production,
                    FulfillmentStatus::pending}) {
    auto fx = apply_fulfillment_fact(c, "ful_a", order(late), kT0 + 3);
    EXPECT_TRUE(fx.empty()) << to_string(late);
  }
  EXPECT_EQ(c.fulfillments[0].status, FulfillmentStatus::shipped);
  EXPECT_EQ(c.status, CheckoutStatus::fulfilled);
}

TEST(FulfillmentFacts, FailureAfterShipmentIsIgnored) {
  Checkout c = one_partner_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_a", shipped("TRK-1"), kT0 + 2);
  FulfillmentFact failed = order(FulfillmentStatus::failed);
  failed.failure_code = "lost";
  auto fx = apply_fulfillment_fact(c, "ful_a", failed, kT0 + 3);
  EXPECT_TRUE(fx.empty());
  EXPECT_EQ(c.fulfillments[0].status, FulfillmentStatus::shipped);
  EXPECT_EQ(c.fulfillments[0].failure_code, "");
  EXPECT_THAT(c.refunds, IsEmpty());
}

TEST(FulfillmentFacts, DuplicateShippedFactChangesNothing) {
  Checkout c = one_partner_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_a", shipped("TRK-1"), kT0 + 2);
  auto fx = apply_fulfillment_fact(c, "ful_a", shipped("TRK-1"), kT0 + 3);
  EXPECT_TRUE(fx.empty());
  EXPECT_EQ(c.fulfillments[0].shipments.size(), 1u);
  EXPECT_EQ(c.updated_at, kT0 + 2);
}

TEST(FulfillmentFacts, ASecondPackageIsAnnouncedAsAnotherShipment) {
  Checkout c = one_partner_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_a", shipped("TRK-1"), kT0 + 2);
  FulfillmentFact both = shipped("TRK-1");
  both.shipments.push_back({"UPS", "TRK-2", "", 0});
  auto fx = apply_fulfillment_fact(c, "ful_a", both, kT0 + 3);
  ASSERT_THAT(event_types(fx), ElementsAre("fulfillment.shipped"));
  ASSERT_EQ(c.fulfillments[0].shipments.size(), 2u);
  EXPECT_EQ(c.fulfillments[0].shipments[1].tracking_number, "TRK-2");
  // A package without its own timestamp is dated when merchgate learned of it.
  EXPECT_EQ(c.fulfillments[0].shipments[1].shipped_at, kT0 + 3);
  EXPECT_EQ(fx.events[0].object.at("shipments").as_array().size(), 2u);
  EXPECT_EQ(c.status, CheckoutStatus::fulfilled);
}

// A split order: the first package leaves while the rest is still being made.
FulfillmentFact partly_shipped(std::string tracking) {
  FulfillmentFact f = order(FulfillmentStatus::in_production);
  f.shipments.push_back({"DHL", std::move(tracking), "https://track.example/x", kT0});
  return f;
}

TEST(FulfillmentFacts, APartlyShippedOrderAnnouncesEachPackageAndFulfillsAtTheLast) {
  Checkout c = one_partner_checkout();
  pay(c);
  record_fulfillment_placed(c, "ful_a", order(FulfillmentStatus::submitted), kT0 + 2);
  auto first = apply_fulfillment_fact(c, "ful_a", partly_shipped("TRK-1"), kT0 + 3);
  ASSERT_THAT(event_types(first), ElementsAre("fulfillment.in_production", "fulfillment.shipped"));
  // The package is news; the order is not complete: no checkout.fulfilled yet.
  EXPECT_EQ(status_in(first.events[1]), "in_production");
  EXPECT_EQ(first.events[1].object.at("shipments").as_array().size(), 1u);
  EXPECT_EQ(c.fulfillments[0].status, FulfillmentStatus::in_production);
  EXPECT_EQ(c.status, CheckoutStatus::fulfilling);
  // The same report again changes nothing.
  EXPECT_TRUE(apply_fulfillment_fact(c, "ful_a", partly_shipped("TRK-1"), kT0 + 4).empty());
  FulfillmentFact all = shipped("TRK-1");
  all.shipments.push_back({"UPS", "TRK-2", "", 0});
  auto last = apply_fulfillment_fact(c, "ful_a", all, kT0 + 5);
  ASSERT_THAT(event_types(last), ElementsAre("fulfillment.shipped", "checkout.fulfilled"));
  EXPECT_EQ(status_in(last.events[0]), "shipped");
  EXPECT_EQ(c.fulfillments[0].shipments.size(), 2u);
  EXPECT_EQ(c.status, CheckoutStatus::fulfilled);
}

TEST(FulfillmentFacts, AFailureAfterPartOfTheOrderShippedIsFlaggedNotRefunded) {
  Checkout c = two_partner_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_a", partly_shipped("TRK-1"), kT0 + 2);
  FulfillmentFact failed = order(FulfillmentStatus::failed);
  failed.failure_code = "printful_failed";
  failed.failure_message = "Printful could not fulfill order ord_1";
  auto fx = apply_fulfillment_fact(c, "ful_a", failed, kT0 + 3);
  EXPECT_THAT(event_types(fx), ElementsAre("fulfillment.failed"));
  // The shipped tee is the buyer's: nothing is refunded automatically, the fulfillment says why.
  EXPECT_THAT(c.refunds, IsEmpty());
  EXPECT_THAT(job_kinds(fx), IsEmpty());
  const Fulfillment& f = c.fulfillments[0];
  EXPECT_EQ(f.status, FulfillmentStatus::failed);
  EXPECT_EQ(f.failure_code, "partially_shipped");
  EXPECT_NE(f.failure_message.find("printful_failed"), std::string::npos) << f.failure_message;
  EXPECT_NE(f.failure_message.find("/v1/checkouts/chk_test/refunds"), std::string::npos);
  EXPECT_EQ(status_in(fx.events[0]), "failed");
  EXPECT_EQ(c.status, CheckoutStatus::fulfilling);
  // The other partner's order is unaffected and its failure would still be refunded in full.
  apply_fulfillment_fact(c, "ful_b", order(FulfillmentStatus::failed), kT0 + 4);
  ASSERT_EQ(c.refunds.size(), 1u);
  EXPECT_EQ(c.refunds[0].amount, 1800);
  EXPECT_EQ(c.refunds[0].fulfillment_id, "ful_b");
}

TEST(FulfillmentFacts, APackageReportedWithTheFailureIsAnnouncedFirstAndBlocksTheRefund) {
  Checkout c = one_partner_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::in_production), kT0 + 2);
  FulfillmentFact failed = order(FulfillmentStatus::failed);
  failed.shipments.push_back({"DHL", "TRK-1", "", 0});
  auto fx = apply_fulfillment_fact(c, "ful_a", failed, kT0 + 3);
  EXPECT_THAT(event_types(fx), ElementsAre("fulfillment.shipped", "fulfillment.failed"));
  EXPECT_THAT(c.refunds, IsEmpty());
  EXPECT_EQ(c.fulfillments[0].failure_code, "partially_shipped");
}

TEST(FulfillmentFacts, APackageAfterTheFailureIsKeptButNotAnnounced) {
  Checkout c = one_partner_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_a", partly_shipped("TRK-1"), kT0 + 2);
  apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::failed), kT0 + 3);
  FulfillmentFact late = order(FulfillmentStatus::failed);
  late.shipments.push_back({"DHL", "TRK-1", "", 0});
  late.shipments.push_back({"DHL", "TRK-2", "", 0});
  auto fx = apply_fulfillment_fact(c, "ful_a", late, kT0 + 4);
  EXPECT_THAT(event_types(fx), IsEmpty());
  EXPECT_EQ(c.fulfillments[0].shipments.size(), 2u);
  EXPECT_EQ(c.fulfillments[0].status, FulfillmentStatus::failed);
}

// ---- refunding what did not ship -------------------------------------------------------------

// One partner makes two tees (2 x 2500) and a cap (1000), 600 shipping: 6600 in all.
Checkout tees_and_cap_checkout() {
  Checkout c = base_checkout();
  c.lines.push_back(make_line("tee", 2, 2500, "printful-main"));
  c.lines.push_back(make_line("cap", 1, 1000, "printful-main"));
  Fulfillment f = make_fulfillment("ful_a", "printful-main", "tee", 2, 6000, 600);
  f.lines.push_back({"cap", 1});
  c.fulfillments.push_back(std::move(f));
  c.amount_subtotal = 6000;
  c.amount_shipping = 600;
  c.amount_total = 6600;
  return c;
}

// The packages so far, and what the partner says they held all together.
FulfillmentFact packages(FulfillmentStatus s, std::vector<std::string> tracking,
                         std::map<std::string, std::int64_t> held) {
  FulfillmentFact f = order(s);
  for (auto& t : tracking) f.shipments.push_back({"DHL", std::move(t), "", kT0});
  f.shipped = std::move(held);
  return f;
}

void set_shipped(Fulfillment& f, std::string_view sku, std::int64_t quantity) {
  for (auto& l : f.lines)
    if (l.sku == sku) l.quantity_shipped = quantity;
}

TEST(UnshippedPart, WithNothingShippedItIsEveryLineAndAllTheShippingAsForARefusal) {
  Checkout c = tees_and_cap_checkout();
  auto part = unshipped_part(c, c.fulfillments[0]);
  ASSERT_TRUE(part);
  EXPECT_EQ(part->amount_lines, 6000);
  EXPECT_EQ(part->amount_shipping, 600);
  EXPECT_EQ(part->amount(), c.fulfillments[0].amount + c.fulfillments[0].amount_shipping);
  ASSERT_EQ(part->lines.size(), 2u);
  EXPECT_EQ(part->lines[0].sku, "tee");
  EXPECT_EQ(part->lines[0].quantity, 2);
}

TEST(UnshippedPart, PartOfALineShippedLeavesTheRestAndItsShareOfShipping) {
  Checkout c = tees_and_cap_checkout();
  Fulfillment& f = c.fulfillments[0];
  f.shipments.push_back({"DHL", "TRK-1", "", kT0});
  f.packages_accounted = 1;
  set_shipped(f, "tee", 1);
  auto part = unshipped_part(c, f);
  ASSERT_TRUE(part);
  // One tee and the cap did not ship: 3500 of the 6000; shipping splits 600 as 3500 : 2500.
  ASSERT_EQ(part->lines.size(), 2u);
  EXPECT_EQ(part->lines[0].sku, "tee");
  EXPECT_EQ(part->lines[0].quantity, 1);
  EXPECT_EQ(part->lines[1].sku, "cap");
  EXPECT_EQ(part->lines[1].quantity, 1);
  EXPECT_EQ(part->amount_lines, 3500);
  EXPECT_EQ(part->amount_shipping, 350);
  EXPECT_EQ(part->amount(), 3850);
}

TEST(UnshippedPart, SharesRoundSoNoMinorUnitIsRefundedTwice) {
  Checkout c = tees_and_cap_checkout();
  Fulfillment& f = c.fulfillments[0];
  f.amount_shipping = 499;
  f.shipments.push_back({"DHL", "TRK-1", "", kT0});
  f.packages_accounted = 1;
  set_shipped(f, "tee", 1);
  // 499 split 3500 : 2500 is 291.08 : 207.92; the largest remainder takes the odd unit.
  EXPECT_EQ(unshipped_part(c, f)->amount_shipping, 291);
  set_shipped(f, "tee", 2);
  set_shipped(f, "cap", 0);
  EXPECT_EQ(unshipped_part(c, f)->amount_shipping, 83);  // 1000 : 5000 -> 83.17 : 415.83
}

TEST(UnshippedPart, EverythingShippedLeavesNothing) {
  Checkout c = tees_and_cap_checkout();
  Fulfillment& f = c.fulfillments[0];
  f.shipments.push_back({"DHL", "TRK-1", "", kT0});
  f.packages_accounted = 1;
  set_shipped(f, "tee", 5);  // more than ordered counts as all of it
  set_shipped(f, "cap", 1);
  auto part = unshipped_part(c, f);
  ASSERT_TRUE(part);
  EXPECT_TRUE(part->lines.empty());
  EXPECT_EQ(part->amount(), 0);
}

TEST(UnshippedPart, UnknownWhileAPackageIsNotAccountedFor) {
  Checkout c = tees_and_cap_checkout();
  Fulfillment& f = c.fulfillments[0];
  f.shipments.push_back({"DHL", "TRK-1", "", kT0});
  f.shipments.push_back({"DHL", "TRK-2", "", kT0});
  f.packages_accounted = 1;
  EXPECT_FALSE(unshipped_part(c, f));
  // A line the checkout does not have cannot be priced either.
  Checkout other = tees_and_cap_checkout();
  other.lines.pop_back();
  EXPECT_FALSE(unshipped_part(other, other.fulfillments[0]));
}

TEST(UnshippedPart, FreeLinesShareTheShippingByQuantity) {
  Checkout c = tees_and_cap_checkout();
  for (auto& l : c.lines) l.unit_amount = l.amount = 0;
  Fulfillment& f = c.fulfillments[0];
  f.shipments.push_back({"DHL", "TRK-1", "", kT0});
  f.packages_accounted = 1;
  set_shipped(f, "tee", 2);
  auto part = unshipped_part(c, f);
  ASSERT_TRUE(part);
  EXPECT_EQ(part->amount_lines, 0);
  EXPECT_EQ(part->amount_shipping, 200);  // 1 of 3 items did not ship
}

TEST(FulfillmentFacts, AFailureAfterPartShippedRefundsOnlyWhatDidNotShipAndOnce) {
  Checkout c = tees_and_cap_checkout();
  pay(c);
  auto first = apply_fulfillment_fact(
      c, "ful_a", packages(FulfillmentStatus::in_production, {"TRK-1"}, {{"tee", 1}}), kT0 + 2);
  ASSERT_THAT(event_types(first), ElementsAre("fulfillment.submitted", "fulfillment.in_production",
                                              "fulfillment.shipped"));
  // The package's news shows what it held.
  const auto& shown = first.events[2].object.at("lines").as_array();
  EXPECT_EQ(shown[0].at("quantity_shipped"), 1);
  EXPECT_EQ(shown[1].at("quantity_shipped"), 0);
  FulfillmentFact failed = order(FulfillmentStatus::failed);
  failed.failure_code = "printful_failed";
  failed.failure_message = "Printful could not fulfill order ord_1";
  auto fx = apply_fulfillment_fact(c, "ful_a", failed, kT0 + 3);
  EXPECT_THAT(event_types(fx), ElementsAre("fulfillment.failed"));
  EXPECT_THAT(job_kinds(fx), ElementsAre("payment.refund"));
  const Fulfillment& f = c.fulfillments[0];
  EXPECT_EQ(f.failure_code, "printful_failed");
  EXPECT_THAT(f.failure_message, HasSubstr("1 package(s) had shipped: refunded what did not ship"));
  ASSERT_EQ(c.refunds.size(), 1u);
  const Refund& r = c.refunds[0];
  EXPECT_EQ(r.amount, 3500 + 350);
  EXPECT_TRUE(r.automatic);
  EXPECT_EQ(r.reason, "fulfillment_failed");
  EXPECT_EQ(r.fulfillment_id, "ful_a");
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[0].sku, "tee");
  EXPECT_EQ(r.lines[0].quantity, 1);
  EXPECT_EQ(r.lines[1].sku, "cap");
  // The same failure again (a duplicate webhook, a retried sync) refunds nothing more.
  EXPECT_TRUE(apply_fulfillment_fact(c, "ful_a", failed, kT0 + 4).empty());
  EXPECT_EQ(c.refunds.size(), 1u);
  auto settled = apply_refund_fact(c, refund_outcome(r.id, RefundStatus::succeeded, 0), kT0 + 5);
  EXPECT_THAT(event_types(settled), ElementsAre("refund.succeeded", "checkout.partially_refunded"));
  const auto& lines = settled.events[0].object.at("lines").as_array();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("sku"), "tee");
  EXPECT_EQ(lines[0].at("quantity"), 1);
  EXPECT_EQ(c.amount_refunded(), 3850);
}

TEST(FulfillmentFacts, AFailureThatBringsItsPackagesRefundsTheRestAtOnce) {
  Checkout c = tees_and_cap_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::in_production), kT0 + 2);
  auto fx = apply_fulfillment_fact(
      c, "ful_a", packages(FulfillmentStatus::failed, {"TRK-1", "TRK-2"}, {{"tee", 2}}), kT0 + 3);
  EXPECT_THAT(event_types(fx),
              ElementsAre("fulfillment.shipped", "fulfillment.shipped", "fulfillment.failed"));
  ASSERT_EQ(c.refunds.size(), 1u);
  // Only the cap did not ship: 1000 and 600 x 1000 / 6000 of the shipping.
  EXPECT_EQ(c.refunds[0].amount, 1100);
  ASSERT_EQ(c.refunds[0].lines.size(), 1u);
  EXPECT_EQ(c.refunds[0].lines[0].sku, "cap");
}

TEST(FulfillmentFacts, APartnerCancelingAfterEverythingShippedRefundsNothing) {
  Checkout c = tees_and_cap_checkout();
  pay(c);
  apply_fulfillment_fact(
      c, "ful_a",
      packages(FulfillmentStatus::in_production, {"TRK-1"}, {{"tee", 2}, {"cap", 1}}), kT0 + 2);
  auto fx = apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::canceled), kT0 + 3);
  EXPECT_THAT(event_types(fx), ElementsAre("fulfillment.canceled"));
  EXPECT_THAT(c.refunds, IsEmpty());
  EXPECT_THAT(c.fulfillments[0].failure_message, HasSubstr("with every line: nothing to refund"));
}

TEST(FulfillmentFacts, APackageWhoseContentsAreUnknownKeepsTheOperatorFlag) {
  Checkout c = tees_and_cap_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_a",
                         packages(FulfillmentStatus::in_production, {"TRK-1"}, {{"tee", 1}}),
                         kT0 + 2);
  // A second package arrives from a source that does not say what it held.
  apply_fulfillment_fact(c, "ful_a", partly_shipped("TRK-2"), kT0 + 3);
  auto shown = to_json(c.fulfillments[0], c, Form::api);
  EXPECT_TRUE(shown.at("lines").as_array()[0].at("quantity_shipped").is_null());
  apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::failed), kT0 + 4);
  EXPECT_THAT(c.refunds, IsEmpty());
  EXPECT_EQ(c.fulfillments[0].failure_code, "partially_shipped");
  EXPECT_THAT(c.fulfillments[0].failure_message,
              HasSubstr("printful-main did not say what they held"));
}

TEST(FulfillmentFacts, AnOlderReadOrAnUnknownSkuNeverLowersWhatShipped) {
  Checkout c = tees_and_cap_checkout();
  pay(c);
  apply_fulfillment_fact(
      c, "ful_a",
      packages(FulfillmentStatus::in_production, {"TRK-1", "TRK-2"}, {{"tee", 2}}), kT0 + 2);
  // A stale read that knew only the first package.
  apply_fulfillment_fact(c, "ful_a",
                         packages(FulfillmentStatus::in_production, {"TRK-1"}, {{"tee", 1}}),
                         kT0 + 3);
  // A read that names something the fulfillment does not hold.
  apply_fulfillment_fact(
      c, "ful_a",
      packages(FulfillmentStatus::in_production, {"TRK-1", "TRK-2"}, {{"mug", 1}}), kT0 + 4);
  const Fulfillment& f = c.fulfillments[0];
  EXPECT_EQ(f.lines[0].quantity_shipped, 2);
  EXPECT_EQ(f.lines[1].quantity_shipped, 0);
  EXPECT_EQ(f.packages_accounted, 2);
  EXPECT_TRUE(f.shipped_lines_known());
}

TEST(FulfillmentFacts, AnAutomaticRefundNeverExceedsWhatIsStillRefundable) {
  Checkout c = tees_and_cap_checkout();
  pay(c);
  refund(c, 6000, kT0 + 2);  // the app refunded most of it already
  apply_fulfillment_fact(c, "ful_a",
                         packages(FulfillmentStatus::in_production, {"TRK-1"}, {{"tee", 1}}),
                         kT0 + 3);
  apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::failed), kT0 + 4);
  ASSERT_EQ(c.refunds.size(), 2u);
  EXPECT_EQ(c.refunds[1].amount, 600);
  EXPECT_EQ(refundable(c), 0);
}

TEST(FulfillmentFacts, StoredShippedLinesSurviveTheRoundTrip) {
  Checkout c = tees_and_cap_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_a",
                         packages(FulfillmentStatus::in_production, {"TRK-1"}, {{"tee", 1}}),
                         kT0 + 2);
  apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::failed), kT0 + 3);
  auto back = checkout_from_storage(to_json(c, Form::storage));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->fulfillments[0].lines[0].quantity_shipped, 1);
  EXPECT_EQ(back->fulfillments[0].packages_accounted, 1);
  ASSERT_EQ(back->refunds[0].lines.size(), 2u);
  EXPECT_EQ(back->refunds[0].lines[1].sku, "cap");
  EXPECT_EQ(back->refunds[0].lines[1].quantity, 1);
}

TEST(FulfillmentFacts, EveryNewPackageIsAnnouncedEvenWhenOneFactBringsSeveral) {
  Checkout c = one_partner_checkout();
  pay(c);
  record_fulfillment_placed(c, "ful_a", order(FulfillmentStatus::submitted), kT0 + 2);
  // The partner's last word arrives first (reordered webhooks): two packages at once.
  FulfillmentFact delivered = order(FulfillmentStatus::delivered);
  delivered.shipments.push_back({"DHL", "TRK-1", "", 0});
  delivered.shipments.push_back({"DHL", "TRK-2", "", 0});
  auto fx = apply_fulfillment_fact(c, "ful_a", delivered, kT0 + 3);
  EXPECT_THAT(event_types(fx),
              ElementsAre("fulfillment.in_production", "fulfillment.shipped", "fulfillment.shipped",
                          "fulfillment.delivered", "checkout.fulfilled"));
  // The earlier report of the first package, arriving late, changes nothing.
  EXPECT_TRUE(apply_fulfillment_fact(c, "ful_a", partly_shipped("TRK-1"), kT0 + 4).empty());
}

TEST(FulfillmentFacts, UnknownFulfillmentIsIgnored) {
  Checkout c = one_partner_checkout();
  pay(c);
  auto fx = apply_fulfillment_fact(c, "ful_nope", shipped("TRK-1"), kT0 + 2);
  EXPECT_TRUE(fx.empty());
  EXPECT_EQ(c.updated_at, kT0 + 1);
}

TEST(FulfillmentFacts, RefusedOrderFailsAndRefundsItsLinesAndShipping) {
  Checkout c = two_partner_checkout();
  pay(c);
  FulfillmentFact refused = order(FulfillmentStatus::failed, "");
  refused.failure_code = "out_of_stock";
  refused.failure_message = "mug discontinued";
  auto fx = apply_fulfillment_fact(c, "ful_b", refused, kT0 + 5);

  const Fulfillment& b = c.fulfillments[1];
  EXPECT_EQ(b.status, FulfillmentStatus::failed);
  EXPECT_EQ(b.failure_code, "out_of_stock");
  EXPECT_EQ(b.failure_message, "mug discontinued");
  ASSERT_THAT(event_types(fx), ElementsAre("fulfillment.failed"));
  EXPECT_EQ(fx.events[0].object.at("status").as_string(), "failed");
  ASSERT_EQ(c.refunds.size(), 1u);
  const Refund& r = c.refunds[0];
  EXPECT_EQ(r.amount, 1500 + 300);
  EXPECT_TRUE(r.automatic);
  EXPECT_EQ(r.reason, "fulfillment_failed");
  EXPECT_EQ(r.fulfillment_id, "ful_b");
  EXPECT_EQ(r.status, RefundStatus::pending);
  ASSERT_THAT(job_kinds(fx), ElementsAre("payment.refund"));
  EXPECT_EQ(fx.jobs[0].payload, (bj::object{{"refund", r.id}}));
  EXPECT_EQ(fx.jobs[0].serial_key, "chk_test:payment");
  EXPECT_EQ(c.status, CheckoutStatus::paid);
  EXPECT_EQ(refundable(c), 7299 - 1800);

  auto done = apply_refund_fact(c, refund_outcome(r.id, RefundStatus::succeeded, 1800), kT0 + 6);
  EXPECT_THAT(event_types(done), ElementsAre("refund.succeeded", "checkout.partially_refunded"));
  EXPECT_EQ(c.status, CheckoutStatus::partially_refunded);
}

TEST(FulfillmentFacts, OnlyPartnerRefusingIsRefundedInFull) {
  Checkout c = one_partner_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::failed), kT0 + 2);
  ASSERT_EQ(c.refunds.size(), 1u);
  EXPECT_EQ(c.refunds[0].amount, 5499);
  auto fx =
      apply_refund_fact(c, refund_outcome(c.refunds[0].id, RefundStatus::succeeded, 5499), kT0 + 3);
  EXPECT_EQ(c.status, CheckoutStatus::refunded);
  ASSERT_THAT(event_types(fx), ElementsAre("refund.succeeded", "checkout.refunded"));
  EXPECT_EQ(status_in(fx.events[1]), "refunded");
}

TEST(FulfillmentFacts, PartnerCancelingTheOrderIsRefundedToo) {
  Checkout c = two_partner_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::in_production), kT0 + 2);
  auto fx = apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::canceled), kT0 + 3);
  EXPECT_THAT(event_types(fx), ElementsAre("fulfillment.canceled"));
  ASSERT_EQ(c.refunds.size(), 1u);
  EXPECT_EQ(c.refunds[0].amount, 5000 + 499);
  EXPECT_EQ(c.refunds[0].reason, "fulfillment_canceled");
  EXPECT_EQ(c.refunds[0].fulfillment_id, "ful_a");
  EXPECT_THAT(job_kinds(fx), ElementsAre("payment.refund"));
}

TEST(FulfillmentFacts, DuplicateRefusalRefundsOnlyOnce) {
  Checkout c = one_partner_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::failed), kT0 + 2);
  auto fx = apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::failed), kT0 + 3);
  EXPECT_TRUE(fx.empty());
  EXPECT_EQ(c.refunds.size(), 1u);
}

TEST(FulfillmentFacts, RefusalWithoutSuccessfulPaymentRefundsNothing) {
  Checkout c = one_partner_checkout();
  auto fx = apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::failed), kT0 + 2);
  EXPECT_THAT(event_types(fx), ElementsAre("fulfillment.failed"));
  EXPECT_THAT(fx.jobs, IsEmpty());
  EXPECT_THAT(c.refunds, IsEmpty());
}

// ---- refunds ------------------------------------------------------------------------------

TEST(RequestRefund, QueuesAPendingRefundWithoutEvents) {
  Checkout c = one_partner_checkout();
  pay(c);
  std::string id;
  auto r = request_refund(c, 1000, "damaged", kT0 + 5, id);
  ASSERT_TRUE(r.has_value());
  EXPECT_THAT(id, StartsWith("rfd_"));
  ASSERT_EQ(c.refunds.size(), 1u);
  EXPECT_EQ(c.refunds[0].id, id);
  EXPECT_EQ(c.refunds[0].amount, 1000);
  EXPECT_EQ(c.refunds[0].reason, "damaged");
  EXPECT_EQ(c.refunds[0].status, RefundStatus::pending);
  EXPECT_FALSE(c.refunds[0].automatic);
  EXPECT_EQ(c.refunds[0].created_at, kT0 + 5);
  EXPECT_THAT(event_types(*r), IsEmpty());
  ASSERT_THAT(job_kinds(*r), ElementsAre("payment.refund"));
  EXPECT_EQ(r->jobs[0].payload, (bj::object{{"refund", id}}));
  EXPECT_EQ(r->jobs[0].serial_key, "chk_test:payment");
  EXPECT_EQ(c.status, CheckoutStatus::paid);
  EXPECT_EQ(refundable(c), 4499);
  EXPECT_EQ(c.updated_at, kT0 + 5);
}

TEST(RequestRefund, RefusedWithoutASuccessfulPayment) {
  Checkout c = one_partner_checkout();
  std::string id;
  auto r = request_refund(c, 100, "", kT0 + 5, id);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_state);
  EXPECT_EQ(r.error().status(), 409);
  EXPECT_THAT(c.refunds, IsEmpty());
  EXPECT_EQ(id, "");
}

TEST(RequestRefund, NonPositiveAmountIsA400OnAmount) {
  Checkout c = one_partner_checkout();
  pay(c);
  for (std::int64_t amount : {0, -5}) {
    std::string id;
    auto r = request_refund(c, amount, "", kT0 + 5, id);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::amount_out_of_range);
    EXPECT_EQ(r.error().status(), 400);
    EXPECT_EQ(r.error().param, "amount");
  }
  EXPECT_THAT(c.refunds, IsEmpty());
}

TEST(RequestRefund, CannotExceedWhatIsStillRefundable) {
  Checkout c = one_partner_checkout();
  pay(c);
  refund(c, 5000, kT0 + 2);  // pending refunds count against the cap
  std::string id;
  auto r = request_refund(c, 500, "", kT0 + 5, id);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::unprocessable);
  EXPECT_EQ(r.error().status(), 422);
  EXPECT_EQ(r.error().param, "amount");
  EXPECT_THAT(r.error().message, HasSubstr("499"));
  EXPECT_EQ(c.refunds.size(), 1u);
  EXPECT_TRUE(request_refund(c, 499, "", kT0 + 6, id).has_value());
  EXPECT_EQ(refundable(c), 0);
}

TEST(RefundFacts, EachPartialRefundRepeatsPartiallyRefunded) {
  Checkout c = one_partner_checkout();
  pay(c);
  std::string first = refund(c, 1000, kT0 + 2);
  auto fx =
      apply_refund_fact(c, refund_outcome(first, RefundStatus::succeeded, 1000, "re_1"), kT0 + 3);
  ASSERT_THAT(event_types(fx), ElementsAre("refund.succeeded", "checkout.partially_refunded"));
  EXPECT_EQ(fx.events[0].object.at("object").as_string(), "refund");
  EXPECT_EQ(fx.events[0].object.at("id").as_string(), first);
  EXPECT_EQ(fx.events[0].object.at("status").as_string(), "succeeded");
  EXPECT_EQ(fx.events[0].object.at("amount").as_int64(), 1000);
  EXPECT_EQ(status_in(fx.events[1]), "partially_refunded");
  EXPECT_EQ(fx.events[1].object.at("amount_refunded").as_int64(), 1000);
  EXPECT_EQ(c.refunds[0].reference, "re_1");

  std::string second = refund(c, 500, kT0 + 4);
  fx = apply_refund_fact(c, refund_outcome(second, RefundStatus::succeeded, 500, "re_2"), kT0 + 5);
  ASSERT_THAT(event_types(fx), ElementsAre("refund.succeeded", "checkout.partially_refunded"));
  EXPECT_EQ(fx.events[1].object.at("amount_refunded").as_int64(), 1500);

  std::string rest = refund(c, 3999, kT0 + 6);
  fx = apply_refund_fact(c, refund_outcome(rest, RefundStatus::succeeded, 3999, "re_3"), kT0 + 7);
  ASSERT_THAT(event_types(fx), ElementsAre("refund.succeeded", "checkout.refunded"));
  EXPECT_EQ(c.status, CheckoutStatus::refunded);
  EXPECT_EQ(refundable(c), 0);
}

TEST(RefundFacts, DuplicateSucceededRefundAddsNoEvents) {
  Checkout c = one_partner_checkout();
  pay(c);
  std::string id = refund(c, 1000, kT0 + 2);
  apply_refund_fact(c, refund_outcome(id, RefundStatus::succeeded, 1000), kT0 + 3);
  auto fx = apply_refund_fact(c, refund_outcome(id, RefundStatus::succeeded, 1000), kT0 + 4);
  EXPECT_TRUE(fx.empty()) << ::testing::PrintToString(event_types(fx));
  EXPECT_EQ(c.status, CheckoutStatus::partially_refunded);
  EXPECT_EQ(c.amount_refunded(), 1000);
  EXPECT_EQ(c.updated_at, kT0 + 3);
}

TEST(RefundFacts, FullRefundAtOnceIsRefunded) {
  Checkout c = one_partner_checkout();
  pay(c);
  std::string id = refund(c, 5499, kT0 + 2);
  auto fx = apply_refund_fact(c, refund_outcome(id, RefundStatus::succeeded, 5499), kT0 + 3);
  EXPECT_THAT(event_types(fx), ElementsAre("refund.succeeded", "checkout.refunded"));
  EXPECT_EQ(c.status, CheckoutStatus::refunded);
}

TEST(RefundFacts, FailedRefundFreesTheAmountAgain) {
  Checkout c = one_partner_checkout();
  pay(c);
  std::string id = refund(c, 2000, kT0 + 2);
  RefundFact failed = refund_outcome(id, RefundStatus::failed, 2000);
  failed.failure_message = "insufficient balance";
  auto fx = apply_refund_fact(c, failed, kT0 + 3);
  ASSERT_THAT(event_types(fx), ElementsAre("refund.failed"));
  EXPECT_EQ(fx.events[0].object.at("status").as_string(), "failed");
  EXPECT_EQ(fx.events[0].object.at("failure_message").as_string(), "insufficient balance");
  EXPECT_EQ(c.refunds[0].status, RefundStatus::failed);
  EXPECT_EQ(c.refunds[0].failure_message, "insufficient balance");
  EXPECT_EQ(c.status, CheckoutStatus::paid);
  EXPECT_EQ(refundable(c), 5499);
}

TEST(RefundFacts, LateFailureAfterSuccessIsIgnored) {
  Checkout c = one_partner_checkout();
  pay(c);
  std::string id = refund(c, 2000, kT0 + 2);
  apply_refund_fact(c, refund_outcome(id, RefundStatus::succeeded, 2000), kT0 + 3);
  auto fx = apply_refund_fact(c, refund_outcome(id, RefundStatus::failed, 2000), kT0 + 4);
  EXPECT_TRUE(fx.empty());
  EXPECT_EQ(c.refunds[0].status, RefundStatus::succeeded);
}

TEST(RefundFacts, PendingFactRecordsTheReferenceOnly) {
  Checkout c = one_partner_checkout();
  pay(c);
  std::string id = refund(c, 2000, kT0 + 2);
  auto fx = apply_refund_fact(c, refund_outcome(id, RefundStatus::pending, 2000, "re_9"), kT0 + 3);
  EXPECT_TRUE(fx.empty());
  EXPECT_EQ(c.refunds[0].reference, "re_9");
  EXPECT_EQ(c.refunds[0].status, RefundStatus::pending);
  // A later fact that names only the processor's id finds the same refund.
  fx = apply_refund_fact(c, refund_outcome("", RefundStatus::succeeded, 2000, "re_9"), kT0 + 4);
  EXPECT_THAT(event_types(fx), ElementsAre("refund.succeeded", "checkout.partially_refunded"));
  EXPECT_EQ(c.refunds.size(), 1u);
  EXPECT_EQ(c.refunds[0].status, RefundStatus::succeeded);
}

TEST(RefundFacts, RefundMadeOutsideMerchgateIsRecorded) {
  Checkout c = one_partner_checkout();
  pay(c);
  auto fx =
      apply_refund_fact(c, refund_outcome("", RefundStatus::succeeded, 700, "re_dash"), kT0 + 3);
  ASSERT_EQ(c.refunds.size(), 1u);
  EXPECT_THAT(c.refunds[0].id, StartsWith("rfd_"));
  EXPECT_EQ(c.refunds[0].amount, 700);
  EXPECT_EQ(c.refunds[0].reason, "external");
  EXPECT_EQ(c.refunds[0].reference, "re_dash");
  EXPECT_EQ(c.refunds[0].status, RefundStatus::succeeded);
  EXPECT_FALSE(c.refunds[0].automatic);
  EXPECT_THAT(event_types(fx), ElementsAre("refund.succeeded", "checkout.partially_refunded"));

  // The same dashboard refund reported again is a duplicate.
  fx = apply_refund_fact(c, refund_outcome("", RefundStatus::succeeded, 700, "re_dash"), kT0 + 4);
  EXPECT_TRUE(fx.empty());
  EXPECT_EQ(c.refunds.size(), 1u);
}

TEST(RefundFacts, ExternalRefundIsCappedAtTheRefundable) {
  Checkout c = one_partner_checkout();
  pay(c);
  refund(c, 1000, kT0 + 2);
  auto fx =
      apply_refund_fact(c, refund_outcome("", RefundStatus::succeeded, 99999, "re_big"), kT0 + 3);
  ASSERT_EQ(c.refunds.size(), 2u);
  EXPECT_EQ(c.refunds[1].amount, 4499);
  EXPECT_EQ(refundable(c), 0);
}

TEST(RefundFacts, UnknownRefundThatDidNotSucceedIsIgnored) {
  Checkout c = one_partner_checkout();
  pay(c);
  for (auto s : {RefundStatus::pending, RefundStatus::failed}) {
    auto fx = apply_refund_fact(c, refund_outcome("", s, 700, "re_x"), kT0 + 3);
    EXPECT_TRUE(fx.empty());
  }
  auto fx =
      apply_refund_fact(c, refund_outcome("", RefundStatus::succeeded, 0, "re_zero"), kT0 + 3);
  EXPECT_TRUE(fx.empty());
  EXPECT_THAT(c.refunds, IsEmpty());
}

TEST(RecordRefundRefused, FailsTheRefund) {
  Checkout c = one_partner_checkout();
  pay(c);
  std::string id = refund(c, 2000, kT0 + 2);
  auto fx = record_refund_refused(c, id, "charge already refunded", kT0 + 3);
  ASSERT_THAT(event_types(fx), ElementsAre("refund.failed"));
  EXPECT_EQ(c.refunds[0].status, RefundStatus::failed);
  EXPECT_EQ(c.refunds[0].failure_message, "charge already refunded");
  EXPECT_EQ(c.refunds[0].updated_at, kT0 + 3);
}

TEST(RefundFacts, RefundAfterShippingKeepsFulfillmentFacts) {
  Checkout c = one_partner_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_a", shipped("TRK-1"), kT0 + 2);
  ASSERT_EQ(c.status, CheckoutStatus::fulfilled);
  std::string id = refund(c, 500, kT0 + 3);
  apply_refund_fact(c, refund_outcome(id, RefundStatus::succeeded, 500), kT0 + 4);
  EXPECT_EQ(c.status, CheckoutStatus::partially_refunded);
  EXPECT_EQ(c.fulfillments[0].status, FulfillmentStatus::shipped);
  ASSERT_EQ(c.fulfillments[0].shipments.size(), 1u);
  EXPECT_EQ(c.fulfillments[0].shipments[0].tracking_number, "TRK-1");

  auto fx = apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::delivered), kT0 + 5);
  EXPECT_THAT(event_types(fx), ElementsAre("fulfillment.delivered"));
  EXPECT_EQ(c.fulfillments[0].status, FulfillmentStatus::delivered);
  EXPECT_EQ(c.status, CheckoutStatus::partially_refunded);
}

// ---- cancel -------------------------------------------------------------------------------

TEST(RequestCancel, BeforePaymentCancelsThePaymentAndPendingOrders) {
  Checkout c = two_partner_checkout();
  auto r = request_cancel(c, kT0 + 7);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(c.status, CheckoutStatus::canceled);
  EXPECT_EQ(c.canceled_at, kT0 + 7);
  EXPECT_EQ(c.updated_at, kT0 + 7);
  for (const auto& f : c.fulfillments) {
    EXPECT_EQ(f.status, FulfillmentStatus::canceled);
    EXPECT_EQ(f.updated_at, kT0 + 7);
  }
  ASSERT_THAT(event_types(*r),
              ElementsAre("fulfillment.canceled", "fulfillment.canceled", "checkout.canceled"));
  EXPECT_EQ(r->events[0].object.at("id").as_string(), "ful_a");
  EXPECT_EQ(r->events[0].object.at("status").as_string(), "canceled");
  EXPECT_EQ(r->events[1].object.at("id").as_string(), "ful_b");
  EXPECT_EQ(status_in(r->events[2]), "canceled");
  ASSERT_THAT(job_kinds(*r), ElementsAre("payment.cancel"));
  EXPECT_EQ(r->jobs[0].serial_key, "chk_test:payment");
  EXPECT_THAT(c.refunds, IsEmpty());
}

TEST(RequestCancel, AfterPaymentRefundsInFull) {
  Checkout c = two_partner_checkout();
  pay(c);
  auto r = request_cancel(c, kT0 + 7);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(c.status, CheckoutStatus::canceled);
  EXPECT_EQ(c.payment.status, PaymentStatus::succeeded);
  EXPECT_THAT(event_types(*r),
              ElementsAre("fulfillment.canceled", "fulfillment.canceled", "checkout.canceled"));
  ASSERT_EQ(c.refunds.size(), 1u);
  EXPECT_EQ(c.refunds[0].amount, 7299);
  EXPECT_EQ(c.refunds[0].reason, "canceled");
  EXPECT_TRUE(c.refunds[0].automatic);
  EXPECT_EQ(c.refunds[0].fulfillment_id, "");
  ASSERT_THAT(job_kinds(*r), ElementsAre("payment.refund"));
  EXPECT_EQ(r->jobs[0].payload, (bj::object{{"refund", c.refunds[0].id}}));
  EXPECT_EQ(r->jobs[0].serial_key, "chk_test:payment");
  // The snapshot shows the refund the cancel started.
  EXPECT_EQ(r->events[2].object.at("refunds").as_array().size(), 1u);
}

TEST(RequestCancel, SubmittedOrdersAreCanceledAtThePartner) {
  Checkout c = two_partner_checkout();
  pay(c);
  record_fulfillment_placed(c, "ful_a", order(FulfillmentStatus::submitted, "A"), kT0 + 2);
  auto r = request_cancel(c, kT0 + 7);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(c.fulfillments[0].status, FulfillmentStatus::submitted);
  EXPECT_EQ(c.fulfillments[1].status, FulfillmentStatus::canceled);
  EXPECT_THAT(event_types(*r), ElementsAre("fulfillment.canceled", "checkout.canceled"));
  ASSERT_THAT(job_kinds(*r), ElementsAre("fulfillment.cancel", "payment.refund"));
  EXPECT_EQ(r->jobs[0].payload, (bj::object{{"fulfillment", "ful_a"}}));
  EXPECT_EQ(r->jobs[0].serial_key, "ful_a");

  // The partner confirms: the order is canceled, and nothing is refunded twice.
  auto fx = apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::canceled, "A"), kT0 + 8);
  EXPECT_THAT(event_types(fx), ElementsAre("fulfillment.canceled"));
  EXPECT_THAT(fx.jobs, IsEmpty());
  EXPECT_EQ(c.refunds.size(), 1u);
}

TEST(RequestCancel, RefusedOnceAnOrderIsInProduction) {
  Checkout c = two_partner_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::in_production, "A"), kT0 + 2);
  Checkout before = c;
  auto r = request_cancel(c, kT0 + 7);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_state);
  EXPECT_EQ(r.error().status(), 409);
  EXPECT_THAT(r.error().message, HasSubstr("ful_a"));
  EXPECT_THAT(r.error().message, HasSubstr("in_production"));
  EXPECT_EQ(c.status, before.status);
  EXPECT_EQ(c.canceled_at, 0);
  EXPECT_EQ(c.updated_at, before.updated_at);
  EXPECT_EQ(c.fulfillments[1].status, FulfillmentStatus::pending);
  EXPECT_THAT(c.refunds, IsEmpty());
}

TEST(RequestCancel, RefusedOnceAnOrderShipped) {
  Checkout c = one_partner_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_a", shipped("TRK-1"), kT0 + 2);
  auto r = request_cancel(c, kT0 + 7);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_state);
  EXPECT_THAT(r.error().message, HasSubstr("shipped"));
  EXPECT_EQ(c.status, CheckoutStatus::fulfilled);
}

TEST(RequestCancel, AFailedOrderDoesNotBlockTheCancel) {
  Checkout c = two_partner_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_b", order(FulfillmentStatus::failed), kT0 + 2);
  auto r = request_cancel(c, kT0 + 7);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(c.status, CheckoutStatus::canceled);
  // 1800 is already on its way back; the cancel refunds the rest.
  ASSERT_EQ(c.refunds.size(), 2u);
  EXPECT_EQ(c.refunds[1].amount, 7299 - 1800);
  EXPECT_EQ(refundable(c), 0);
}

TEST(RequestCancel, PartiallyRefundedRefundsOnlyTheRest) {
  Checkout c = one_partner_checkout();
  pay(c);
  std::string id = refund(c, 1000, kT0 + 2);
  apply_refund_fact(c, refund_outcome(id, RefundStatus::succeeded, 1000), kT0 + 3);
  auto r = request_cancel(c, kT0 + 7);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(c.refunds.size(), 2u);
  EXPECT_EQ(c.refunds[1].amount, 4499);
  EXPECT_EQ(c.status, CheckoutStatus::canceled);
}

TEST(RequestCancel, TwiceIsAConflict) {
  Checkout c = one_partner_checkout();
  ASSERT_TRUE(request_cancel(c, kT0 + 1).has_value());
  auto r = request_cancel(c, kT0 + 2);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_state);
  EXPECT_EQ(c.canceled_at, kT0 + 1);
}

TEST(RequestCancel, FullyRefundedIsAConflict) {
  Checkout c = one_partner_checkout();
  pay(c);
  std::string id = refund(c, 5499, kT0 + 2);
  apply_refund_fact(c, refund_outcome(id, RefundStatus::succeeded, 5499), kT0 + 3);
  auto r = request_cancel(c, kT0 + 4);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_state);
  EXPECT_EQ(c.status, CheckoutStatus::refunded);
  EXPECT_EQ(c.canceled_at, 0);
}

TEST(RequestCancel, PaymentSucceededAfterCancelIsRefundedAutomatically) {
  Checkout c = two_partner_checkout();
  ASSERT_TRUE(request_cancel(c, kT0 + 1).has_value());
  auto fx = apply_payment_fact(c, payment(PaymentStatus::succeeded), kT0 + 2);
  EXPECT_EQ(c.status, CheckoutStatus::canceled);
  EXPECT_EQ(c.payment.status, PaymentStatus::succeeded);
  ASSERT_EQ(c.refunds.size(), 1u);
  EXPECT_EQ(c.refunds[0].amount, 7299);
  EXPECT_EQ(c.refunds[0].reason, "canceled");
  EXPECT_TRUE(c.refunds[0].automatic);
  // Refund only: no order is placed for a canceled checkout.
  ASSERT_THAT(job_kinds(fx), ElementsAre("payment.refund"));
  EXPECT_EQ(fx.jobs[0].serial_key, "chk_test:payment");
  EXPECT_THAT(event_types(fx), IsEmpty());
}

TEST(RequestCancel, ProcessorConfirmingTheCancelAddsNoSecondEvent) {
  Checkout c = one_partner_checkout();
  ASSERT_TRUE(request_cancel(c, kT0 + 1).has_value());
  auto fx = apply_payment_fact(c, payment(PaymentStatus::canceled), kT0 + 2);
  EXPECT_THAT(event_types(fx), IsEmpty());
  EXPECT_EQ(c.payment.status, PaymentStatus::canceled);
  EXPECT_EQ(c.canceled_at, kT0 + 1);
}

TEST(RequestCancel, RefusalAfterCancelRefundsNothingMore) {
  Checkout c = one_partner_checkout();
  pay(c);
  record_fulfillment_placed(c, "ful_a", order(FulfillmentStatus::submitted, "A"), kT0 + 2);
  ASSERT_TRUE(request_cancel(c, kT0 + 3).has_value());
  auto fx = apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::failed, "A"), kT0 + 4);
  EXPECT_THAT(event_types(fx), ElementsAre("fulfillment.failed"));
  EXPECT_THAT(fx.jobs, IsEmpty());
  EXPECT_EQ(c.refunds.size(), 1u);
}

TEST(RequestCancel, CancelRefundSucceedingLeavesTheCheckoutCanceled) {
  Checkout c = one_partner_checkout();
  pay(c);
  ASSERT_TRUE(request_cancel(c, kT0 + 3).has_value());
  auto fx =
      apply_refund_fact(c, refund_outcome(c.refunds[0].id, RefundStatus::succeeded, 5499), kT0 + 4);
  EXPECT_THAT(event_types(fx), ElementsAre("refund.succeeded"));
  EXPECT_EQ(c.status, CheckoutStatus::canceled);
}

TEST(RequestCancel, PaymentFailureAfterCancelKeepsTheCheckoutCanceled) {
  Checkout c = one_partner_checkout();
  ASSERT_TRUE(request_cancel(c, kT0 + 1).has_value());
  auto fx = apply_payment_fact(c, payment(PaymentStatus::failed), kT0 + 2);
  EXPECT_THAT(event_types(fx), IsEmpty());
  EXPECT_EQ(c.status, CheckoutStatus::canceled);
  EXPECT_EQ(c.payment.status, PaymentStatus::failed);
}

TEST(RequestCancel, NothingIsLeftToRefundAfterACancel) {
  Checkout c = one_partner_checkout();
  pay(c);
  ASSERT_TRUE(request_cancel(c, kT0 + 2).has_value());
  std::string id;
  auto r = request_refund(c, 1, "", kT0 + 3, id);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::unprocessable);
  EXPECT_EQ(c.refunds.size(), 1u);
}

TEST(RequestCancel, RefusedCancelLeavesARefundPossible) {
  Checkout c = one_partner_checkout();
  pay(c);
  apply_fulfillment_fact(c, "ful_a", order(FulfillmentStatus::in_production), kT0 + 2);
  ASSERT_FALSE(request_cancel(c, kT0 + 3).has_value());
  std::string id;
  auto r = request_refund(c, 5499, "changed mind", kT0 + 4, id);
  ASSERT_TRUE(r.has_value());
  EXPECT_THAT(job_kinds(*r), ElementsAre("payment.refund"));
}

TEST(PaymentFacts, MixedCartWaitsForTheShippedPart) {
  Checkout c = one_partner_checkout();
  c.lines.push_back(make_line("ebook", 1, 1200, ""));
  c.amount_subtotal += 1200;
  c.amount_total += 1200;
  auto fx = apply_payment_fact(c, payment(PaymentStatus::succeeded), kT0 + 1);
  EXPECT_EQ(c.status, CheckoutStatus::paid);
  EXPECT_THAT(event_types(fx), ElementsAre("checkout.paid"));
  ASSERT_THAT(job_kinds(fx), ElementsAre("fulfillment.create"));
  EXPECT_EQ(fx.jobs[0].serial_key, "ful_a");
}

// ---- disputes -----------------------------------------------------------------------------

DisputeFact dispute(std::string reference, bool closed, std::string status) {
  DisputeFact d;
  d.reference = std::move(reference);
  d.closed = closed;
  d.status = std::move(status);
  d.amount = 5499;
  d.reason = "fraudulent";
  return d;
}

TEST(DisputeFacts, OpenedIsRecordedAndAnnounced) {
  Checkout c = one_partner_checkout();
  pay(c);
  auto fx = apply_dispute_fact(c, dispute("dp_1", false, ""), kT0 + 5);
  ASSERT_THAT(event_types(fx), ElementsAre("dispute.opened"));
  const auto& o = fx.events[0].object;
  EXPECT_EQ(o.at("object").as_string(), "dispute");
  EXPECT_EQ(o.at("reference").as_string(), "dp_1");
  EXPECT_EQ(o.at("checkout").as_string(), "chk_test");
  EXPECT_EQ(o.at("status").as_string(), "open");
  EXPECT_EQ(o.at("amount").as_int64(), 5499);
  EXPECT_EQ(o.at("reason").as_string(), "fraudulent");
  ASSERT_EQ(c.disputes.size(), 1u);
  EXPECT_EQ(c.disputes[0].status, "open");
  EXPECT_EQ(c.status, CheckoutStatus::paid);
  EXPECT_EQ(c.updated_at, kT0 + 5);
}

TEST(DisputeFacts, DuplicateOpenedChangesNothing) {
  Checkout c = one_partner_checkout();
  pay(c);
  apply_dispute_fact(c, dispute("dp_1", false, "needs_response"), kT0 + 5);
  auto fx = apply_dispute_fact(c, dispute("dp_1", false, "needs_response"), kT0 + 6);
  EXPECT_TRUE(fx.empty());
  EXPECT_EQ(c.disputes.size(), 1u);
}

TEST(DisputeFacts, ClosedCarriesTheOutcome) {
  Checkout c = one_partner_checkout();
  pay(c);
  apply_dispute_fact(c, dispute("dp_1", false, ""), kT0 + 5);
  auto fx = apply_dispute_fact(c, dispute("dp_1", true, "won"), kT0 + 6);
  ASSERT_THAT(event_types(fx), ElementsAre("dispute.closed"));
  EXPECT_EQ(fx.events[0].object.at("status").as_string(), "won");
  EXPECT_EQ(c.disputes[0].status, "won");
  EXPECT_EQ(c.disputes[0].updated_at, kT0 + 6);

  auto again = apply_dispute_fact(c, dispute("dp_1", true, "won"), kT0 + 7);
  EXPECT_TRUE(again.empty());
  auto flip = apply_dispute_fact(c, dispute("dp_1", true, "lost"), kT0 + 8);
  EXPECT_TRUE(flip.empty());
  EXPECT_EQ(c.disputes[0].status, "won");
}

TEST(DisputeFacts, FirstSeenClosedIsOpenedThenClosed) {
  Checkout c = one_partner_checkout();
  pay(c);
  auto fx = apply_dispute_fact(c, dispute("dp_2", true, "lost"), kT0 + 5);
  ASSERT_THAT(event_types(fx), ElementsAre("dispute.opened", "dispute.closed"));
  EXPECT_EQ(fx.events[1].object.at("status").as_string(), "lost");
  EXPECT_EQ(c.disputes[0].status, "lost");
}

TEST(DisputeFacts, ClosedWithoutAnOutcomeIsClosed) {
  Checkout c = one_partner_checkout();
  pay(c);
  apply_dispute_fact(c, dispute("dp_1", false, ""), kT0 + 5);
  apply_dispute_fact(c, dispute("dp_1", true, ""), kT0 + 6);
  EXPECT_EQ(c.disputes[0].status, "closed");

  apply_dispute_fact(c, dispute("dp_2", true, ""), kT0 + 7);
  ASSERT_EQ(c.disputes.size(), 2u);
  EXPECT_EQ(c.disputes[1].status, "closed");
}

TEST(DisputeFacts, DisputesAreTrackedSeparately) {
  Checkout c = one_partner_checkout();
  pay(c);
  apply_dispute_fact(c, dispute("dp_1", false, ""), kT0 + 5);
  auto fx = apply_dispute_fact(c, dispute("dp_2", false, ""), kT0 + 6);
  EXPECT_THAT(event_types(fx), ElementsAre("dispute.opened"));
  EXPECT_EQ(fx.events[0].object.at("reference").as_string(), "dp_2");
  EXPECT_EQ(c.disputes.size(), 2u);
}

// ---- plumbing -----------------------------------------------------------------------------

TEST(Effects, AppendKeepsOrder) {
  Effects a;
  a.events.push_back({"evt_1", "checkout.created", "chk", 0, {}});
  a.jobs.push_back({"payment.create", "chk", {}, "chk:payment", 0});
  Effects b;
  b.events.push_back({"evt_2", "checkout.paid", "chk", 0, {}});
  a.append(std::move(b));
  EXPECT_THAT(event_types(a), ElementsAre("checkout.created", "checkout.paid"));
  EXPECT_EQ(a.jobs.size(), 1u);
  EXPECT_FALSE(a.empty());
  EXPECT_TRUE(Effects{}.empty());
}

TEST(Events, EveryEventGetsItsOwnId) {
  Checkout c = digital_checkout();
  auto fx = apply_payment_fact(c, payment(PaymentStatus::succeeded), kT0 + 1);
  ASSERT_EQ(fx.events.size(), 2u);
  EXPECT_NE(fx.events[0].id, fx.events[1].id);
  for (const auto& e : fx.events) {
    EXPECT_EQ(e.checkout_id, "chk_test");
    EXPECT_EQ(e.created_at, kT0 + 1);
  }
}

TEST(CancelRequest, AFulfilledCheckoutIsRefundedNotCanceled) {
  Checkout c = digital_checkout();
  pay(c);
  ASSERT_EQ(c.status, CheckoutStatus::fulfilled);
  Checkout before = c;
  auto r = request_cancel(c, kT0 + 5);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, mg::errc::invalid_state);
  EXPECT_NE(r.error().message.find("refund it instead"), std::string::npos);
  EXPECT_EQ(c.canceled_at, 0);
  EXPECT_TRUE(c.refunds.empty());
  EXPECT_EQ(c.updated_at, before.updated_at);
}

}  // namespace
}  // namespace mg::core
