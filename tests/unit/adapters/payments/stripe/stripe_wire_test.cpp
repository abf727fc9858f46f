// Stripe's wire format against Stripe's documented bytes: form encoding, PaymentIntent and Refund
// objects, the error object, Stripe-Signature (stripe-python's published test vectors), events.
#include "adapters/payments/stripe/stripe_wire.hpp"
#include "tests/unit/adapters/payments/fixture.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace mg::adapters::stripe {
namespace {

namespace bj = boost::json;
using mg::testing::fixture;

constexpr std::int64_t kT = 1700000000;
constexpr const char* kSecret = "whsec_test_secret";
constexpr const char* kSignature =
    "3bfab77baf5f7b6991a46c9b53b6547d7afc56148b10468fcad9f35c1992ffbd";

bj::object object_of(const std::string& json) { return bj::parse(json).as_object(); }

std::string value_of(const FormFields& f, std::string_view key) {
  for (const auto& [k, v] : f)
    if (k == key) return v;
  return "<absent>";
}

PaymentRequest request() {
  PaymentRequest r;
  r.ctx.checkout_id = "chk_1";
  r.ctx.idempotency_key = "chk_1:payment.create:stripe-main";
  r.amount = 5495;
  r.currency = "EUR";
  r.method = "pm_card_visa";
  r.description = "merchgate checkout chk_1";
  r.metadata = {{"merchgate_checkout", "chk_1"}, {"video_id", "v 987&x=[1]"}};
  return r;
}

TEST(StripeForm, EncodesBracketKeysAndReservedBytes) {
  FormFields f{{"amount", "2000"},
               {"metadata[order_id]", "6735"},
               {"description", "Tee & hoodie, 100% cotton"},
               {"shipping[address][line1]", "1 Main St"}};
  EXPECT_EQ(form_encode(f),
            "amount=2000&metadata%5Border_id%5D=6735&description=Tee%20%26%20hoodie%2C%20100%25%"
            "20cotton&shipping%5Baddress%5D%5Bline1%5D=1%20Main%20St");
}

TEST(StripeForm, DecodesWhatItEncodesAndPlusAsSpace) {
  FormFields f{{"metadata[a b]", "x=y&z"}, {"k", "ü"}};
  EXPECT_EQ(form_decode(form_encode(f)), f);
  auto plus = form_decode("a=1+2&b=%5Bx%5D");
  ASSERT_TRUE(plus);
  EXPECT_EQ((*plus)[0].second, "1 2");
  EXPECT_EQ((*plus)[1].second, "[x]");
  EXPECT_FALSE(form_decode("a=%zz"));
  EXPECT_FALSE(form_decode("a=%4"));
}

TEST(StripeCreate, ConfirmsAGivenMethodWithoutRedirects) {
  auto f = create_params(request(), Settings{});
  EXPECT_EQ(value_of(f, "amount"), "5495");
  EXPECT_EQ(value_of(f, "currency"), "eur");
  EXPECT_EQ(value_of(f, "payment_method"), "pm_card_visa");
  EXPECT_EQ(value_of(f, "confirm"), "true");
  EXPECT_EQ(value_of(f, "capture_method"), "automatic");
  EXPECT_EQ(value_of(f, "automatic_payment_methods[allow_redirects]"), "never");
  EXPECT_EQ(value_of(f, "metadata[merchgate_checkout]"), "chk_1");
  EXPECT_EQ(value_of(f, "metadata[video_id]"), "v 987&x=[1]");
  EXPECT_EQ(value_of(f, "transfer_data[destination]"), "<absent>");
}

TEST(StripeCreate, WithoutMethodLeavesConfirmationToTheClient) {
  PaymentRequest r = request();
  r.method.clear();
  auto f = create_params(r, Settings{});
  EXPECT_EQ(value_of(f, "confirm"), "<absent>");
  EXPECT_EQ(value_of(f, "payment_method"), "<absent>");
  EXPECT_EQ(value_of(f, "automatic_payment_methods[enabled]"), "true");
}

TEST(StripeCreate, ReturnUrlAllowsRedirectMethods) {
  PaymentRequest r = request();
  r.return_url = "https://app.example.com/back";
  auto f = create_params(r, Settings{});
  EXPECT_EQ(value_of(f, "return_url"), "https://app.example.com/back");
  EXPECT_EQ(value_of(f, "automatic_payment_methods[allow_redirects]"), "<absent>");
}

TEST(StripeCreate, ConnectDestinationChargeCarriesPayoutAndFee) {
  PaymentRequest r = request();
  r.payout_account = "acct_1Hype";
  r.platform_fee = 275;
  auto f = create_params(r, Settings{});
  EXPECT_EQ(value_of(f, "transfer_data[destination]"), "acct_1Hype");
  EXPECT_EQ(value_of(f, "application_fee_amount"), "275");
}

TEST(StripeCreate, ShippingAndManualCapture) {
  PaymentRequest r = request();
  r.shipping =
      core::Address{"Ada L", "1 Main St", std::nullopt, "Milan", std::nullopt, "20121", "IT"};
  Settings s;
  s.capture_method = "manual";
  auto f = create_params(r, s);
  EXPECT_EQ(value_of(f, "capture_method"), "manual");
  EXPECT_EQ(value_of(f, "shipping[name]"), "Ada L");
  EXPECT_EQ(value_of(f, "shipping[address][country]"), "IT");
  EXPECT_EQ(value_of(f, "shipping[address][line2]"), "<absent>");
}

TEST(StripeCreate, MetadataRespectsStripeLimits) {
  PaymentRequest r = request();
  r.metadata.clear();
  r.metadata["merchgate_checkout"] = "chk_1";
  r.metadata[std::string(41, 'k')] = "too long a key";
  r.metadata["brackets[x]"] = "refused";
  r.metadata["long"] = std::string(600, 'v');
  for (int i = 0; i < 60; ++i) r.metadata["k" + std::to_string(i)] = "v";
  auto f = create_params(r, Settings{});
  int count = 0;
  for (const auto& [k, v] : f) {
    if (!k.starts_with("metadata[")) continue;
    ++count;
    EXPECT_LE(k.size() - 10, 40u);
    EXPECT_LE(v.size(), 500u);
  }
  EXPECT_EQ(count, 50);
  EXPECT_EQ(value_of(f, "metadata[merchgate_checkout]"), "chk_1");
}

TEST(StripeRefund, ReversesTheTransferOfADestinationCharge) {
  RefundRequest r;
  r.ctx.checkout_id = "chk_1";
  r.refund_id = "rfd_1";
  r.payment_reference = "pi_1";
  r.amount = 500;
  r.reason = "requested_by_customer";
  auto plain = refund_params(r);
  EXPECT_EQ(value_of(plain, "payment_intent"), "pi_1");
  EXPECT_EQ(value_of(plain, "amount"), "500");
  EXPECT_EQ(value_of(plain, "reason"), "requested_by_customer");
  EXPECT_EQ(value_of(plain, "metadata[merchgate_refund]"), "rfd_1");
  EXPECT_EQ(value_of(plain, "reverse_transfer"), "<absent>");
  r.reason = "the print was smudged";
  r.partner_data[std::string(kDestinationKey)] = "acct_1Hype";
  auto connect = refund_params(r);
  EXPECT_EQ(value_of(connect, "reason"), "<absent>");  // not one of Stripe's reasons
  EXPECT_EQ(value_of(connect, "metadata[reason]"), "the print was smudged");
  EXPECT_EQ(value_of(connect, "reverse_transfer"), "true");
  EXPECT_EQ(value_of(connect, "refund_application_fee"), "true");
}

TEST(StripeObjects, DocumentedPaymentIntentNeedsTheClientSecret) {
  auto fact = payment_fact(object_of(fixture("stripe/payment_intent.json")));
  EXPECT_EQ(fact.reference, "pi_3MtwBwLkdIwHu7ix28a3tqPa");
  EXPECT_EQ(fact.status, core::PaymentStatus::requires_action);
  ASSERT_TRUE(fact.client_action);
  EXPECT_EQ(fact.client_action->type, "client_secret");
  EXPECT_EQ(fact.client_action->value,
            "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH");
}

TEST(StripeObjects, StatusesMapForward) {
  auto pi = object_of(fixture("stripe/payment_intent.json"));
  auto with = [&](std::string status) {
    bj::object o = pi;
    o["status"] = status;
    return payment_fact(o).status;
  };
  EXPECT_EQ(with("succeeded"), core::PaymentStatus::succeeded);
  EXPECT_EQ(with("processing"), core::PaymentStatus::processing);
  EXPECT_EQ(with("requires_capture"), core::PaymentStatus::processing);
  EXPECT_EQ(with("canceled"), core::PaymentStatus::canceled);
  EXPECT_EQ(with("requires_confirmation"), core::PaymentStatus::requires_action);
  bj::object redirect = pi;
  redirect["status"] = "requires_action";
  redirect["next_action"] =
      bj::object{{"type", "redirect_to_url"},
                 {"redirect_to_url", bj::object{{"url", "https://hooks.stripe.com/3d_secure_2/x"},
                                                {"return_url", "https://app.example.com"}}}};
  auto fact = payment_fact(redirect);
  ASSERT_TRUE(fact.client_action);
  EXPECT_EQ(fact.client_action->type, "redirect");
  EXPECT_EQ(fact.client_action->value, "https://hooks.stripe.com/3d_secure_2/x");
}

TEST(StripeObjects, DocumentedRefund) {
  auto r = refund_created(object_of(fixture("stripe/refund.json")));
  EXPECT_EQ(r.reference, "re_1Nispe2eZvKYlo2Cd31jOCgZ");
  EXPECT_EQ(r.status, core::RefundStatus::succeeded);
  EXPECT_EQ(refund_status("pending"), core::RefundStatus::pending);
  EXPECT_EQ(refund_status("requires_action"), core::RefundStatus::pending);
  EXPECT_EQ(refund_status("failed"), core::RefundStatus::failed);
  EXPECT_EQ(refund_status("canceled"), core::RefundStatus::failed);
}

TEST(StripeErrors, CardErrorIsADeclineWithTheDeclineCode) {
  auto e = error_from(402, fixture("stripe/error_card_declined.json"));
  EXPECT_TRUE(e.is(adapter_errc::declined));
  EXPECT_EQ(e.partner_code, "generic_decline");
  EXPECT_EQ(e.http_status, 402);
  EXPECT_NE(e.message.find("Your card was declined."), std::string::npos);
  EXPECT_FALSE(is_safe_to_fail_over(e));
  EXPECT_FALSE(is_retryable(e));
}

TEST(StripeErrors, StatusesClassify) {
  std::string invalid =
      R"({"error":{"code":"parameter_missing","message":"Missing required param: amount.","param":"amount","type":"invalid_request_error"}})";
  EXPECT_TRUE(error_from(400, invalid).is(adapter_errc::rejected));
  EXPECT_NE(error_from(400, invalid).message.find("param amount"), std::string::npos);
  EXPECT_TRUE(
      error_from(
          401,
          R"({"error":{"message":"Invalid API Key provided: sk_test_****1234","type":"invalid_request_error"}})")
          .is(adapter_errc::authentication));
  EXPECT_TRUE(
      error_from(404, R"({"error":{"code":"resource_missing","type":"invalid_request_error"}})")
          .is(adapter_errc::not_found));
  EXPECT_TRUE(
      error_from(
          400,
          R"({"error":{"code":"payment_intent_unexpected_state","type":"invalid_request_error"}})")
          .is(adapter_errc::invalid_state));
  auto limited = error_from(429, R"({"error":{"type":"invalid_request_error"}})", "7");
  EXPECT_TRUE(limited.is(adapter_errc::rate_limited));
  EXPECT_EQ(limited.retry_after, std::chrono::seconds(7));
  EXPECT_TRUE(error_from(409, "{}").is(adapter_errc::rate_limited));
  auto server = error_from(500, R"({"error":{"type":"api_error"}})");
  EXPECT_TRUE(server.is(adapter_errc::partner_error));
  EXPECT_FALSE(is_safe_to_fail_over(server));  // it may have charged
  EXPECT_TRUE(error_from(502, "<html>bad gateway</html>").is(adapter_errc::partner_error));
}

TEST(StripeSignature, MatchesStripePythonsTestVector) {
  std::string payload = fixture("stripe/stripe_python_dummy_payload.txt");
  EXPECT_EQ(compute_signature(kSecret, kT, payload), kSignature);
  EXPECT_EQ(signature_header(kSecret, kT, payload), "t=1700000000,v1=" + std::string(kSignature));
  EXPECT_TRUE(verify_signature("t=1700000000,v1=" + std::string(kSignature), payload, kSecret,
                               kT + 10, 300));
}

TEST(StripeSignature, AnyV1MayMatchAndOtherSchemesAreIgnored) {
  std::string payload = fixture("stripe/stripe_python_dummy_payload.txt");
  std::string good = "v1=" + std::string(kSignature);
  EXPECT_TRUE(verify_signature("t=1700000000,v1=bad_signature," + good + ",v0=zzz", payload,
                               kSecret, kT, 300));
  EXPECT_TRUE(
      verify_signature("t=1700000000," + good + ",v1=bad_signature", payload, kSecret, kT, 300));
}

TEST(StripeSignature, RejectsBadSignaturesAndHeaders) {
  std::string payload = fixture("stripe/stripe_python_dummy_payload.txt");
  auto bad = verify_signature("t=1700000000,v1=bad_signature", payload, kSecret, kT, 300);
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().is(adapter_errc::invalid_webhook));
  EXPECT_EQ(bad.error().message, "No signatures found matching the expected signature for payload");
  auto scheme =
      verify_signature("t=1700000000,v0=" + std::string(kSignature), payload, kSecret, kT, 300);
  ASSERT_FALSE(scheme);
  EXPECT_EQ(scheme.error().message, "No signatures found with expected scheme v1");
  auto junk = verify_signature("i'm not even a real signature header", payload, kSecret, kT, 300);
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().message, "Unable to extract timestamp and signatures from header");
  EXPECT_FALSE(verify_signature("", payload, kSecret, kT, 300));
  EXPECT_FALSE(verify_signature("t=abc,v1=" + std::string(kSignature), payload, kSecret, kT, 300));
  // A changed body or another secret does not verify.
  EXPECT_FALSE(verify_signature("t=1700000000,v1=" + std::string(kSignature), payload + " ",
                                kSecret, kT, 300));
  EXPECT_FALSE(verify_signature("t=1700000000,v1=" + std::string(kSignature), payload,
                                "whsec_other", kT, 300));
  // The timestamp is signed: moving it breaks the signature.
  EXPECT_FALSE(
      verify_signature("t=1700000001,v1=" + std::string(kSignature), payload, kSecret, kT, 300));
}

TEST(StripeSignature, RejectsTimestampsOutsideTheTolerance) {
  std::string payload = fixture("stripe/stripe_python_dummy_payload.txt");
  std::string header = "t=1700000000,v1=" + std::string(kSignature);
  EXPECT_TRUE(verify_signature(header, payload, kSecret, kT + 300, 300));
  auto stale = verify_signature(header, payload, kSecret, kT + 301, 300);
  ASSERT_FALSE(stale);
  EXPECT_TRUE(stale.error().is(adapter_errc::stale_webhook));
  EXPECT_EQ(stale.error().message, "Timestamp outside the tolerance zone (1700000000)");
  // Tolerance 0 checks the signature only (stripe-python's "no tolerance").
  EXPECT_TRUE(verify_signature(header, payload, kSecret, kT + 86400, 0));
}

TEST(StripeEvents, PaymentIntentSucceeded) {
  auto r = parse_event(fixture("stripe/event_payment_intent_succeeded.json"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->events.size(), 1u);
  const auto& e = r->events[0];
  EXPECT_EQ(e.partner_event_id, "evt_3MtwBwLkdIwHu7ix0aE1bc2d");
  EXPECT_EQ(e.kind, InboundEvent::Kind::payment);
  EXPECT_EQ(e.checkout_id, "chk_0Abc12345678901234567890");
  EXPECT_EQ(e.payment_reference, "pi_3MtwBwLkdIwHu7ix28a3tqPa");
  ASSERT_TRUE(e.payment);
  EXPECT_EQ(e.payment->status, core::PaymentStatus::succeeded);
  EXPECT_EQ(e.payment->partner_data.at("stripe_charge"), "ch_3MtwBwLkdIwHu7ix1y6O2gXA");
  EXPECT_EQ(e.payment->partner_data.at("stripe_destination"), "acct_1Hype");
  EXPECT_TRUE(e.action.empty());
  EXPECT_EQ(r->status, 200);
}

TEST(StripeEvents, PaymentFailedCarriesTheDeclineCode) {
  auto r = parse_event(fixture("stripe/event_payment_intent_payment_failed.json"));
  ASSERT_TRUE(r);
  const auto& e = r->events.at(0);
  ASSERT_TRUE(e.payment);
  EXPECT_EQ(e.payment->status, core::PaymentStatus::failed);
  EXPECT_EQ(e.payment->failure_code, "insufficient_funds");
  EXPECT_EQ(e.payment->failure_message, "Your card has insufficient funds.");
}

TEST(StripeEvents, AmountCapturableUpdatedAsksForACapture) {
  auto body = object_of(fixture("stripe/event_payment_intent_succeeded.json"));
  body["type"] = "payment_intent.amount_capturable_updated";
  body["data"].as_object()["object"].as_object()["status"] = "requires_capture";
  auto r = parse_event(bj::serialize(body));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->events.at(0).action, "capture");
  EXPECT_EQ(r->events.at(0).payment->status, core::PaymentStatus::processing);
}

TEST(StripeEvents, ChargeRefundedListsEachRefund) {
  auto r = parse_event(fixture("stripe/event_charge_refunded.json"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->events.size(), 1u);
  const auto& e = r->events[0];
  EXPECT_EQ(e.partner_event_id, "evt_1NirD82eZvKYlo2CRf9d0x1Q/re_1Nispe2eZvKYlo2Cd31jOCgZ");
  EXPECT_EQ(e.kind, InboundEvent::Kind::refund);
  EXPECT_EQ(e.payment_reference, "pi_1GszsK2eZvKYlo2CfhZyoZLp");
  ASSERT_TRUE(e.refund);
  EXPECT_EQ(e.refund->refund_id, "rfd_0Abc12345678901234567890");
  EXPECT_EQ(e.refund->reference, "re_1Nispe2eZvKYlo2Cd31jOCgZ");
  EXPECT_EQ(e.refund->status, core::RefundStatus::succeeded);
  EXPECT_EQ(e.refund->amount, 1000);
}

TEST(StripeEvents, RefundUpdatedCarriesTheDocumentedRefund) {
  bj::object evt = object_of(fixture("stripe/event_setup_intent_created.json"));
  evt["type"] = "charge.refund.updated";
  evt["data"].as_object()["object"] = bj::parse(fixture("stripe/refund.json"));
  auto r = parse_event(bj::serialize(evt));
  ASSERT_TRUE(r);
  const auto& e = r->events.at(0);
  EXPECT_EQ(e.kind, InboundEvent::Kind::refund);
  EXPECT_EQ(e.refund->reference, "re_1Nispe2eZvKYlo2Cd31jOCgZ");
  EXPECT_EQ(e.payment_reference, "pi_1GszsK2eZvKYlo2CfhZyoZLp");
}

TEST(StripeEvents, DisputeCreatedAndClosed) {
  auto r = parse_event(fixture("stripe/event_charge_dispute_created.json"));
  ASSERT_TRUE(r);
  const auto& e = r->events.at(0);
  EXPECT_EQ(e.kind, InboundEvent::Kind::dispute);
  EXPECT_EQ(e.payment_reference, "pi_3MtwBwLkdIwHu7ix28a3tqPa");
  ASSERT_TRUE(e.dispute);
  EXPECT_FALSE(e.dispute->closed);
  EXPECT_EQ(e.dispute->status, "needs_response");
  EXPECT_EQ(e.dispute->amount, 2000);
  auto closed = object_of(fixture("stripe/event_charge_dispute_created.json"));
  closed["type"] = "charge.dispute.closed";
  closed["data"].as_object()["object"].as_object()["status"] = "won";
  auto c = parse_event(bj::serialize(closed));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->events.at(0).dispute->closed);
  EXPECT_EQ(c->events.at(0).dispute->status, "won");
}

TEST(StripeEvents, UnknownTypesAreIgnoredNotRejected) {
  auto r = parse_event(fixture("stripe/event_setup_intent_created.json"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].kind, InboundEvent::Kind::ignored);
  EXPECT_EQ(r->events[0].type, "setup_intent.created");
  EXPECT_EQ(r->events[0].partner_event_id, "evt_1NG8Du2eZvKYlo2CUI79vXWy");
  EXPECT_EQ(r->status, 200);
}

TEST(StripeEvents, MalformedBodiesAreRejected) {
  EXPECT_TRUE(parse_event("not json").error().is(adapter_errc::malformed_webhook));
  EXPECT_TRUE(
      parse_event(R"({"id":"evt_1","type":"x"})").error().is(adapter_errc::malformed_webhook));
}

TEST(StripeSettings, ParseAndValidate) {
  EXPECT_EQ(Settings::parse({}).value().capture_method, "automatic");
  auto bad = Settings::parse(bj::object{{"capture_method", "later"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().param, "settings.capture_method");
  EXPECT_TRUE(is_method_token("pm_card_visa"));
  EXPECT_TRUE(is_method_token("pm_card_chargeDeclined"));
  EXPECT_FALSE(is_method_token("4242424242424242"));
  EXPECT_FALSE(is_method_token("pm_../../x"));
}

}  // namespace
}  // namespace mg::adapters::stripe
