#include "adapters/adapter.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace mg::adapters {
namespace {

namespace bj = boost::json;

// Through the bytes the inbox stores.
std::optional<InboundEvent> round_trip(const InboundEvent& e) {
  return inbound_event_from_json(bj::parse(bj::serialize(to_json(e))).as_object());
}

void expect_same_envelope(const InboundEvent& a, const InboundEvent& b) {
  EXPECT_EQ(a.partner_event_id, b.partner_event_id);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.checkout_id, b.checkout_id);
  EXPECT_EQ(a.fulfillment_id, b.fulfillment_id);
  EXPECT_EQ(a.payment_reference, b.payment_reference);
  EXPECT_EQ(a.order_reference, b.order_reference);
  EXPECT_EQ(a.action, b.action);
  EXPECT_EQ(a.payment.has_value(), b.payment.has_value());
  EXPECT_EQ(a.refund.has_value(), b.refund.has_value());
  EXPECT_EQ(a.dispute.has_value(), b.dispute.has_value());
  EXPECT_EQ(a.fulfillment.has_value(), b.fulfillment.has_value());
}

TEST(InboundEventJson, PaymentFactRoundTrips) {
  InboundEvent e;
  e.partner_event_id = "evt_1Stripe";
  e.type = "payment_intent.requires_action";
  e.kind = InboundEvent::Kind::payment;
  e.checkout_id = "chk_1";
  e.payment_reference = "pi_1";
  e.action = "capture";
  core::PaymentFact f;
  f.status = core::PaymentStatus::requires_action;
  f.reference = "pi_1";
  f.client_action = core::ClientAction{"redirect", "https://hooks.example/3ds"};
  f.failure_code = "authentication_required";
  f.failure_message = "3DS needed";
  f.partner_data = {{"capture_id", "CAP-1"}, {"payer", "P-9"}};
  e.payment = f;
  auto back = round_trip(e);
  ASSERT_TRUE(back.has_value());
  expect_same_envelope(e, *back);
  ASSERT_TRUE(back->payment.has_value());
  EXPECT_EQ(back->payment->status, f.status);
  EXPECT_EQ(back->payment->reference, f.reference);
  ASSERT_TRUE(back->payment->client_action.has_value());
  EXPECT_EQ(back->payment->client_action->type, "redirect");
  EXPECT_EQ(back->payment->client_action->value, "https://hooks.example/3ds");
  EXPECT_EQ(back->payment->failure_code, f.failure_code);
  EXPECT_EQ(back->payment->failure_message, f.failure_message);
  EXPECT_EQ(back->payment->partner_data, f.partner_data);
}

TEST(InboundEventJson, PaymentWithoutClientActionStaysWithout) {
  InboundEvent e;
  e.partner_event_id = "evt_2";
  e.kind = InboundEvent::Kind::payment;
  e.payment = core::PaymentFact{};
  e.payment->status = core::PaymentStatus::succeeded;
  auto back = round_trip(e);
  ASSERT_TRUE(back.has_value());
  ASSERT_TRUE(back->payment.has_value());
  EXPECT_FALSE(back->payment->client_action.has_value());
  EXPECT_EQ(back->payment->status, core::PaymentStatus::succeeded);
}

TEST(InboundEventJson, RefundFactRoundTrips) {
  InboundEvent e;
  e.partner_event_id = "evt_r";
  e.type = "charge.refund.updated";
  e.kind = InboundEvent::Kind::refund;
  e.payment_reference = "pi_1";
  e.refund = core::RefundFact{"rfd_1", "re_1", core::RefundStatus::failed, 1234, "declined"};
  auto back = round_trip(e);
  ASSERT_TRUE(back.has_value());
  expect_same_envelope(e, *back);
  ASSERT_TRUE(back->refund.has_value());
  EXPECT_EQ(back->refund->refund_id, "rfd_1");
  EXPECT_EQ(back->refund->reference, "re_1");
  EXPECT_EQ(back->refund->status, core::RefundStatus::failed);
  EXPECT_EQ(back->refund->amount, 1234);
  EXPECT_EQ(back->refund->failure_message, "declined");
}

TEST(InboundEventJson, DisputeFactRoundTrips) {
  InboundEvent e;
  e.partner_event_id = "evt_d";
  e.kind = InboundEvent::Kind::dispute;
  e.dispute = core::DisputeFact{"dp_1", true, "lost", 5000, "fraudulent"};
  auto back = round_trip(e);
  ASSERT_TRUE(back.has_value());
  expect_same_envelope(e, *back);
  ASSERT_TRUE(back->dispute.has_value());
  EXPECT_EQ(back->dispute->reference, "dp_1");
  EXPECT_TRUE(back->dispute->closed);
  EXPECT_EQ(back->dispute->status, "lost");
  EXPECT_EQ(back->dispute->amount, 5000);
  EXPECT_EQ(back->dispute->reason, "fraudulent");
}

TEST(InboundEventJson, FulfillmentFactRoundTrips) {
  InboundEvent e;
  e.partner_event_id = "pf_evt_9";
  e.type = "package_shipped";
  e.kind = InboundEvent::Kind::fulfillment;
  e.fulfillment_id = "ful_1";
  e.order_reference = "PF-77";
  core::FulfillmentFact f;
  f.status = core::FulfillmentStatus::shipped;
  f.reference = "PF-77";
  f.shipments = {{"DHL", "JD1", "https://dhl.example/JD1", 1'700'000'000'123},
                 {"UPS", "1Z", "", 0}};
  f.failure_code = "partial";
  f.failure_message = "one box late";
  e.fulfillment = f;
  auto back = round_trip(e);
  ASSERT_TRUE(back.has_value());
  expect_same_envelope(e, *back);
  ASSERT_TRUE(back->fulfillment.has_value());
  EXPECT_EQ(back->fulfillment->status, core::FulfillmentStatus::shipped);
  EXPECT_EQ(back->fulfillment->reference, "PF-77");
  ASSERT_EQ(back->fulfillment->shipments.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back->fulfillment->shipments[i].carrier, f.shipments[i].carrier);
    EXPECT_EQ(back->fulfillment->shipments[i].tracking_number, f.shipments[i].tracking_number);
    EXPECT_EQ(back->fulfillment->shipments[i].tracking_url, f.shipments[i].tracking_url);
    EXPECT_EQ(back->fulfillment->shipments[i].shipped_at, f.shipments[i].shipped_at);
  }
  EXPECT_EQ(back->fulfillment->failure_code, "partial");
  EXPECT_EQ(back->fulfillment->failure_message, "one box late");
  // Without line data it stays unknown, which is not the same as "nothing shipped".
  EXPECT_FALSE(back->fulfillment->shipped.has_value());
}

TEST(InboundEventJson, WhatThePackagesHeldRoundTrips) {
  InboundEvent e;
  e.partner_event_id = "pf2:order_updated:13";
  e.kind = InboundEvent::Kind::fulfillment;
  core::FulfillmentFact f;
  f.status = core::FulfillmentStatus::in_production;
  f.shipments = {{"USPS", "9400", "", 0}};
  f.shipped = std::map<std::string, std::int64_t>{{"tee", 1}, {"cap", 0}};
  e.fulfillment = f;
  auto back = round_trip(e);
  ASSERT_TRUE(back && back->fulfillment && back->fulfillment->shipped);
  EXPECT_EQ(*back->fulfillment->shipped, *f.shipped);
}

TEST(InboundEventJson, IgnoredEventRoundTripsWithoutFacts) {
  InboundEvent e;
  e.partner_event_id = "evt_x";
  e.type = "customer.created";
  auto back = round_trip(e);
  ASSERT_TRUE(back.has_value());
  expect_same_envelope(e, *back);
  EXPECT_EQ(back->kind, InboundEvent::Kind::ignored);
}

TEST(InboundEventJson, RefusesWhatItCannotTrust) {
  EXPECT_FALSE(inbound_event_from_json(bj::object{{"kind", "payment"}}).has_value());
  EXPECT_FALSE(inbound_event_from_json(bj::object{{"partner_event_id", "e"}, {"kind", "shipment"}})
                   .has_value());
  EXPECT_FALSE(inbound_event_from_json(bj::parse(R"({"partner_event_id": "e", "kind": "payment",
                                 "payment": {"status": "paid"}})")
                                           .as_object())
                   .has_value());
  EXPECT_FALSE(inbound_event_from_json(bj::parse(R"({"partner_event_id": "e", "kind": "refund",
                                 "refund": {"status": "done"}})")
                                           .as_object())
                   .has_value());
  EXPECT_FALSE(inbound_event_from_json(bj::parse(R"({"partner_event_id": "e", "kind": "fulfillment",
                                 "fulfillment": {"status": "lost"}})")
                                           .as_object())
                   .has_value());
}

TEST(AdapterErrors, RetryableAreTheTransientOnes) {
  for (auto e : {adapter_errc::unavailable, adapter_errc::timeout, adapter_errc::partner_error,
                 adapter_errc::rate_limited}) {
    EXPECT_TRUE(is_retryable(adapter_error(e, "x"))) << make_error_code(e).message();
  }
  for (auto e :
       {adapter_errc::rejected, adapter_errc::authentication, adapter_errc::not_found,
        adapter_errc::declined, adapter_errc::refused, adapter_errc::invalid_state,
        adapter_errc::unsupported, adapter_errc::invalid_webhook, adapter_errc::stale_webhook}) {
    EXPECT_FALSE(is_retryable(adapter_error(e, "x"))) << make_error_code(e).message();
  }
}

TEST(AdapterErrors, OnlyUnreachedPartnersAreSafeToFailOver) {
  EXPECT_TRUE(is_safe_to_fail_over(adapter_error(adapter_errc::unavailable, "refused")));
  // The outcome is unknown: trying another processor could charge twice.
  EXPECT_FALSE(is_safe_to_fail_over(adapter_error(adapter_errc::timeout, "x")));
  EXPECT_FALSE(is_safe_to_fail_over(adapter_error(adapter_errc::partner_error, "x")));
  // A decline is the buyer's answer, not the processor's failure.
  EXPECT_FALSE(is_safe_to_fail_over(adapter_error(adapter_errc::declined, "x")));
}

TEST(AdapterErrors, OnlyA503AmongServerErrorsSaysTheRequestWasNotTaken) {
  EXPECT_TRUE(server_error(503, "down").is(adapter_errc::unavailable));
  EXPECT_TRUE(is_safe_to_fail_over(server_error(503, "down")));
  for (int status : {500, 502, 504, 302}) {
    AdapterError e = server_error(status, "x", "api_error");
    EXPECT_TRUE(e.is(adapter_errc::partner_error)) << status;
    EXPECT_FALSE(is_safe_to_fail_over(e)) << status;
    EXPECT_EQ(e.http_status, status);
    EXPECT_EQ(e.partner_code, "api_error");
  }
}

TEST(AdapterErrors, PartnerFailuresFeedTheBreaker) {
  for (auto e : {adapter_errc::unavailable, adapter_errc::timeout, adapter_errc::partner_error}) {
    EXPECT_TRUE(is_partner_failure(adapter_error(e, "x")));
  }
  for (auto e : {adapter_errc::declined, adapter_errc::rejected, adapter_errc::rate_limited,
                 adapter_errc::not_found}) {
    EXPECT_FALSE(is_partner_failure(adapter_error(e, "x")));
  }
}

TEST(AdapterErrors, CategoryNamesEveryValue) {
  const std::pair<adapter_errc, std::string_view> messages[] = {
      {adapter_errc::unavailable, "partner unavailable"},
      {adapter_errc::timeout, "partner timed out"},
      {adapter_errc::partner_error, "partner error"},
      {adapter_errc::rejected, "rejected by partner"},
      {adapter_errc::authentication, "partner refused the credentials"},
      {adapter_errc::rate_limited, "rate limited by partner"},
      {adapter_errc::not_found, "not found at partner"},
      {adapter_errc::declined, "payment declined"},
      {adapter_errc::refused, "order refused by partner"},
      {adapter_errc::invalid_state, "invalid state at partner"},
      {adapter_errc::unsupported, "operation not supported"},
      {adapter_errc::invalid_webhook, "invalid webhook"},
      {adapter_errc::stale_webhook, "stale webhook"},
  };
  for (const auto& [e, text] : messages) {
    auto ec = make_error_code(e);
    EXPECT_EQ(&ec.category(), &adapter_category());
    EXPECT_EQ(ec.message(), text);
  }
  EXPECT_STREQ(adapter_category().name(), "merchgate.adapter");
  EXPECT_EQ(adapter_category().message(999), "unknown adapter error");
}

TEST(AdapterErrors, CarryTheirDetails) {
  AdapterError e = adapter_error(adapter_errc::rejected, "bad currency", 400, "invalid_currency");
  EXPECT_TRUE(e.is(adapter_errc::rejected));
  EXPECT_FALSE(e.is(adapter_errc::declined));
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.partner_code, "invalid_currency");
  EXPECT_EQ(e.retry_after.count(), 0);
  // A project errc with the same number is a different error.
  EXPECT_NE(e.code, mg::make_error_code(static_cast<mg::errc>(e.code.value())));
}

TEST(WebhookRequest, FindsHeadersByLowerCaseName) {
  WebhookRequest r;
  r.headers = {{"stripe-signature", "t=1,v1=abc"}, {"content-type", "application/json"}};
  EXPECT_EQ(r.header("stripe-signature"), "t=1,v1=abc");
  EXPECT_EQ(r.header("x-missing"), "");
}

TEST(AdapterKind, HasNames) {
  EXPECT_EQ(to_string(Kind::payment), "payment");
  EXPECT_EQ(to_string(Kind::fulfillment), "fulfillment");
}

}  // namespace
}  // namespace mg::adapters
