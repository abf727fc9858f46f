// Adyen's wire format against Adyen's published bytes: the HMAC example of Adyen's Node library,
// its notification mocks, Checkout API answers and errors.
#include "adapters/payments/adyen/adyen_wire.hpp"
#include "tests/unit/adapters/payments/fixture.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace mg::adapters::adyen {
namespace {

namespace bj = boost::json;
using mg::testing::fixture;

constexpr const char* kKey = "DFB1EB5485895CFA84146406857104ABB4CBCABDC8AAF103A624C8F6A3EAAB00";

Settings settings() {
  Settings s;
  s.merchant_account = "MagentoMerchantTest2";
  return s;
}

// A library mock with its item signed under the published key (the mocks' own key is unknown).
std::string resigned(const std::string& name) {
  bj::value v = bj::parse(fixture("adyen/" + name));
  auto& item = v.at("notificationItems").as_array()[0].at("NotificationRequestItem").as_object();
  item["additionalData"].as_object()["hmacSignature"] = *item_signature(kKey, item);
  return bj::serialize(v);
}

TEST(AdyenHmac, PublishedExampleOfAdyensLibrary) {
  bj::value v = bj::parse(fixture("adyen/published_example.json"));
  const auto& item =
      v.at("notificationItems").as_array()[0].at("NotificationRequestItem").as_object();
  EXPECT_EQ(signing_string(item),
            "pspReference:originalReference:merchantAccount:reference:1000:EUR:CAPTURE:true");
  EXPECT_EQ(item_signature(kKey, item), "xhpHvYq2u2Np0rstbZ6QjLGu7JWhvf7Iwaa6EviJSX0=");
  auto r = parse_notification(fixture("adyen/published_example.json"), kKey, settings());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "[accepted]");
  EXPECT_EQ(r->status, 200);
}

TEST(AdyenHmac, KeyIsHexDecodedAndEitherCase) {
  bj::value v = bj::parse(fixture("adyen/published_example.json"));
  const auto& item =
      v.at("notificationItems").as_array()[0].at("NotificationRequestItem").as_object();
  std::string lower(kKey);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(item_signature(lower, item), "xhpHvYq2u2Np0rstbZ6QjLGu7JWhvf7Iwaa6EviJSX0=");
  EXPECT_FALSE(item_signature("not hex", item));
}

TEST(AdyenHmac, MissingOriginalReferenceSignsEmpty) {
  bj::value v = bj::parse(fixture("adyen/authorisationTrue.json"));
  const auto& item =
      v.at("notificationItems").as_array()[0].at("NotificationRequestItem").as_object();
  EXPECT_EQ(signing_string(item),
            "123456789::MagentoMerchantTest2:8313842560770001:10100:EUR:AUTHORISATION:true");
}

TEST(AdyenHmac, BadOrMissingSignaturesRejectTheBatch) {
  // The mocks as published: signed with a key we do not have.
  auto r = parse_notification(fixture("adyen/captureTrue.json"), kKey, settings());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is(adapter_errc::invalid_webhook));
  bj::value v = bj::parse(fixture("adyen/published_example.json"));
  auto& item = v.at("notificationItems").as_array()[0].at("NotificationRequestItem").as_object();
  item["amount"].as_object()["value"] = 100000;  // tampered after signing
  EXPECT_TRUE(parse_notification(bj::serialize(v), kKey, settings())
                  .error()
                  .is(adapter_errc::invalid_webhook));
  item["additionalData"].as_object().erase("hmacSignature");
  EXPECT_TRUE(parse_notification(bj::serialize(v), kKey, settings())
                  .error()
                  .is(adapter_errc::invalid_webhook));
  EXPECT_TRUE(
      parse_notification("{}", kKey, settings()).error().is(adapter_errc::malformed_webhook));
  EXPECT_TRUE(parse_notification("[accepted]", kKey, settings())
                  .error()
                  .is(adapter_errc::malformed_webhook));
}

TEST(AdyenNotifications, AuthorisationSucceeds) {
  auto r = parse_notification(resigned("authorisationTrue.json"), kKey, settings());
  ASSERT_TRUE(r) << r.error().message;
  const auto& e = r->events.at(0);
  EXPECT_EQ(e.type, "AUTHORISATION");
  EXPECT_EQ(e.kind, InboundEvent::Kind::payment);
  EXPECT_EQ(e.payment_reference, "123456789");
  EXPECT_EQ(e.checkout_id, "8313842560770001");
  EXPECT_EQ(e.payment->status, core::PaymentStatus::succeeded);
  EXPECT_EQ(e.partner_event_id, "AUTHORISATION:123456789::true");
  Settings manual = settings();
  manual.capture = "manual";
  auto m = parse_notification(resigned("authorisationTrue.json"), kKey, manual);
  EXPECT_EQ(m->events.at(0).payment->status, core::PaymentStatus::processing);
  EXPECT_EQ(m->events.at(0).action, "capture");
}

TEST(AdyenNotifications, CaptureSuccessAndFailure) {
  auto ok = parse_notification(resigned("captureTrue.json"), kKey, settings());
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->events.at(0).payment_reference, "ORIGINAL_PSP");
  EXPECT_EQ(ok->events.at(0).payment->status, core::PaymentStatus::succeeded);
  auto failed = parse_notification(resigned("captureFalse.json"), kKey, settings());
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->events.at(0).payment->status, core::PaymentStatus::failed);
  EXPECT_EQ(failed->events.at(0).payment->failure_message, "Insufficient balance on payment");
}

TEST(AdyenNotifications, RefundSuccessAndFailure) {
  auto ok = parse_notification(resigned("refundTrue.json"), kKey, settings());
  ASSERT_TRUE(ok);
  const auto& e = ok->events.at(0);
  EXPECT_EQ(e.kind, InboundEvent::Kind::refund);
  EXPECT_EQ(e.payment_reference, "ORIGINAL_PSP");
  EXPECT_EQ(e.refund->reference, "PSP_REFERENCE");
  EXPECT_EQ(e.refund->amount, 1500);
  EXPECT_EQ(e.refund->status, core::RefundStatus::succeeded);
  EXPECT_TRUE(e.refund->refund_id.empty());  // not one of merchgate's rfd_ ids
  auto failed = parse_notification(resigned("refundFalse.json"), kKey, settings());
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->events.at(0).refund->status, core::RefundStatus::failed);
}

TEST(AdyenNotifications, EventCodesMap) {
  bj::value v = bj::parse(resigned("captureTrue.json"));
  auto code = [&](std::string event_code, std::string success = "true") {
    bj::value x = v;
    auto& item = x.at("notificationItems").as_array()[0].at("NotificationRequestItem").as_object();
    item["eventCode"] = event_code;
    item["success"] = success;
    item["merchantReference"] = "rfd_0Abc";
    item["additionalData"].as_object()["hmacSignature"] = *item_signature(kKey, item);
    return parse_notification(bj::serialize(x), kKey, settings()).value().events.at(0);
  };
  EXPECT_EQ(code("CAPTURE_FAILED").payment->status, core::PaymentStatus::failed);
  EXPECT_EQ(code("CANCELLATION").payment->status, core::PaymentStatus::canceled);
  EXPECT_EQ(code("CANCELLATION", "false").kind, InboundEvent::Kind::ignored);
  EXPECT_EQ(code("REFUND").refund->refund_id, "rfd_0Abc");
  EXPECT_EQ(code("REFUND_FAILED").refund->status, core::RefundStatus::failed);
  auto cb = code("CHARGEBACK");
  EXPECT_EQ(cb.kind, InboundEvent::Kind::dispute);
  EXPECT_EQ(cb.dispute->reference, "chargeback:ORIGINAL_PSP");
  EXPECT_FALSE(cb.dispute->closed);
  EXPECT_TRUE(code("CHARGEBACK_REVERSED").dispute->closed);
  EXPECT_EQ(code("SECOND_CHARGEBACK").dispute->status, "lost");
  auto refused = code("AUTHORISATION", "false");
  EXPECT_EQ(refused.payment->status, core::PaymentStatus::failed);
  EXPECT_EQ(code("REPORT_AVAILABLE").kind, InboundEvent::Kind::ignored);
}

TEST(AdyenCheckout, PaymentAnswers) {
  auto ok =
      payment_result(bj::parse(fixture("adyen/payments_authorised.json")).as_object(), settings());
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, core::PaymentStatus::succeeded);
  EXPECT_EQ(ok->reference, "NC6HT9CRT65ZGN82");
  auto redirect =
      payment_result(bj::parse(fixture("adyen/payments_redirect.json")).as_object(), settings());
  ASSERT_TRUE(redirect);
  EXPECT_EQ(redirect->status, core::PaymentStatus::requires_action);
  EXPECT_TRUE(redirect->reference.empty());
  EXPECT_EQ(redirect->client_action->type, "redirect");
  EXPECT_TRUE(
      redirect->client_action->value.starts_with("https://checkoutshopper-test.adyen.com/"));
  auto refused =
      payment_result(bj::parse(fixture("adyen/payments_refused.json")).as_object(), settings());
  ASSERT_FALSE(refused);
  EXPECT_TRUE(refused.error().is(adapter_errc::declined));
  EXPECT_EQ(refused.error().partner_code, "12");
  auto session = session_result(bj::parse(fixture("adyen/sessions_hosted.json")).as_object());
  EXPECT_EQ(
      session.client_action->value,
      "https://checkoutshopper-test.adyen.com/checkoutshopper/checkout/session/CS6C5F7ACF7E83D2B5");
  EXPECT_EQ(session.partner_data.at("adyen_session"), "CS6C5F7ACF7E83D2B5");
}

TEST(AdyenCheckout, ErrorsClassify) {
  auto e = error_from(422, fixture("adyen/error_422.json"));
  EXPECT_TRUE(e.is(adapter_errc::rejected));
  EXPECT_EQ(e.partner_code, "14_030");
  EXPECT_TRUE(
      error_from(
          401,
          R"({"status":401,"errorCode":"000","message":"HTTP Status Response - Unauthorized","errorType":"security"})")
          .is(adapter_errc::authentication));
  EXPECT_TRUE(error_from(500, "{}").is(adapter_errc::partner_error));
  EXPECT_TRUE(error_from(503, "{}").is(adapter_errc::unavailable));
}

TEST(AdyenCheckout, RequestBodies) {
  PaymentRequest r;
  r.ctx.checkout_id = "chk_1";
  r.amount = 5495;
  r.currency = "EUR";
  r.method = "ideal";
  r.return_url = "https://app.example.com/back";
  r.payout_account = "BA00000000000000000000001";
  r.platform_fee = 275;
  bj::object body = payment_body(r, settings(), "https://gw.example.com");
  EXPECT_EQ(body.at("reference"), "chk_1");
  EXPECT_EQ(body.at("merchantAccount"), "MagentoMerchantTest2");
  EXPECT_EQ(body.at("paymentMethod").at("type"), "ideal");
  EXPECT_EQ(body.at("amount").at("value"), 5495);
  EXPECT_EQ(body.at("splits").as_array()[0].at("amount").at("value"), 5495 - 275);
  EXPECT_EQ(body.at("splits").as_array()[1].at("type"), "Commission");
  r.return_url.clear();
  bj::object session = session_body(r, settings(), "https://gw.example.com");
  EXPECT_EQ(session.at("mode"), "hosted");
  EXPECT_EQ(session.at("returnUrl"), "https://gw.example.com");
  EXPECT_FALSE(session.contains("paymentMethod"));
  EXPECT_EQ(
      bj::serialize(modification_body(settings(), 500, "EUR", "rfd_1")),
      R"({"merchantAccount":"MagentoMerchantTest2","reference":"rfd_1","amount":{"currency":"EUR","value":500}})");
}

TEST(AdyenSettings, MerchantAccountIsRequired) {
  EXPECT_EQ(Settings::parse({}).error().param, "settings.merchant_account");
  EXPECT_TRUE(is_method_token("ideal"));
  EXPECT_FALSE(is_method_token("4111111111111111 "));
}

}  // namespace
}  // namespace mg::adapters::adyen
