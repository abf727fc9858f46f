// PayPal's wire format against PayPal's published bytes: the transmission signature with PayPal's
// own sandbox certificate and two signed samples from PayPal's SDKs, Orders v2 objects, errors,
// amounts, certificate hosts, and webhook events.
#include "adapters/payments/paypal/paypal_wire.hpp"
#include "gateway/core/crypto.hpp"
#include "tests/unit/adapters/payments/fixture.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace mg::adapters::paypal {
namespace {

namespace bj = boost::json;
using mg::testing::fixture;

bj::object object_of(const std::string& json) { return bj::parse(json).as_object(); }

constexpr const char* kCert = "paypal/sandbox_cert_CERT-360caa42-fca2a594-a5cafa77.pem";

// paypal/PayPal-Java-SDK ValidateCert sample.
constexpr const char* kJavaSig =
    "vSOIQFIZQHv8G2vpbOpD/4fSC4/MYhdHyv+AmgJyeJQq6q5avWyHIe/zL6qO5hle192HSqKbYveLoFXGJun2od2zXN3Q"
    "45VBXwdX3woXYGaNq532flAtiYin+tQ/0pNwRDsVIufCxa3a8HskaXy+YEfXNnwCSL287esD3HgOHmuAs0mYKQdbR4e8Ev"
    "k8XOOQaZzGeV7GNXXz19gzzvyHbsbHmDz5VoRl9so5OoHqvnc5RtgjZfG8KA9lXh2MTPSbtdTLQb9ikKYnOGM+FasFMx"
    "k5stJisgmxaefpO9Q1qm3rCjaJ29aAOyDNr3Q7WkeN3w4bSXtFMwyRBOF28pJg9g==";
// paypal/rest-api-sdk-nodejs webhook_payload_verify.js sample.
constexpr const char* kNodeSig =
    "t8hlRk64rpEImZMKqgtp5dlWaT1W8ed/mf8Msos341QInVn3BMQubjAhM/cKiSJtW07VwJvSX7X4+YUmHBrm5BQ+CEkC"
    "lke4Yf4ouhCK6GWsfs0J8cKkmjI0XxfJpPLgjROEWY3MXorwCtbvrEo5vrRI2+TyLkquBKAlM95LbNWG43lxMu0LHzsSR"
    "UBDdt5IP1b2CKqbcEJKGrC78iw+fJEQGagkJAiv3Qvpw8F/8q7FCQAZ3c81mzTvP4ZH3Xk2/nNznEA7eMi3u1EjSpTmL"
    "fAb423ytX37Ts0QpmPNgxJe8wnMB/+fvt4xjYH6KNe+bIcYU30hUIe9O8c9UFwKuQ==";

bool verifies(const std::string& signed_text, const char* signature) {
  auto sig = core::base64_decode(signature);
  return sig && core::rsa_sha256_verify_with_certificate(fixture(kCert), signed_text, *sig);
}

TEST(PayPalSignature, SignedStringUsesTheUnsignedDecimalCrc32) {
  std::string body = fixture("paypal/java_sdk_sample_event.json");
  EXPECT_EQ(signed_string("b2384410-f8d2-11e4-8bf3-77339302725b", "2015-05-12T18:14:14Z",
                          "3RN13029J36659323", body),
            "b2384410-f8d2-11e4-8bf3-77339302725b|2015-05-12T18:14:14Z|3RN13029J36659323|"
            "2487599788");
  // Above 2^31: a signed rendering would be negative.
  EXPECT_GT(core::crc32(body), 0x7fffffffu);
}

TEST(PayPalSignature, PublishedJavaSdkSampleVerifiesWithPayPalsCertificate) {
  std::string body = fixture("paypal/java_sdk_sample_event.json");
  EXPECT_TRUE(verifies(signed_string("b2384410-f8d2-11e4-8bf3-77339302725b", "2015-05-12T18:14:14Z",
                                     "3RN13029J36659323", body),
                       kJavaSig));
}

TEST(PayPalSignature, PublishedNodeSdkSampleVerifiesWithPayPalsCertificate) {
  std::string body = fixture("paypal/node_sdk_sample_event.json");
  EXPECT_TRUE(verifies(signed_string("103e3700-8b0c-11e6-8695-6b62a8a99ac4", "2016-10-05T14:57:40Z",
                                     "3TR748995U920805P", body),
                       kNodeSig));
}

TEST(PayPalSignature, AnyChangeBreaksIt) {
  std::string body = fixture("paypal/java_sdk_sample_event.json");
  const char* id = "b2384410-f8d2-11e4-8bf3-77339302725b";
  const char* time = "2015-05-12T18:14:14Z";
  EXPECT_FALSE(verifies(signed_string(id, time, "3RN13029J36659324", body), kJavaSig));
  EXPECT_FALSE(
      verifies(signed_string(id, "2015-05-12T18:14:15Z", "3RN13029J36659323", body), kJavaSig));
  std::string tampered = body;
  tampered.replace(tampered.find("20.00"), 5, "90.00");
  EXPECT_FALSE(verifies(signed_string(id, time, "3RN13029J36659323", tampered), kJavaSig));
  EXPECT_FALSE(verifies(signed_string(id, time, "3RN13029J36659323", body), kNodeSig));
}

TEST(PayPalSignature, CertificateOnlyFromPayPalHosts) {
  std::vector<std::string> hosts{"paypal.com"};
  EXPECT_FALSE(certificate_url_problem(
      "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77",
      hosts));
  EXPECT_FALSE(certificate_url_problem("https://api.paypal.com/v1/notifications/certs/X", hosts));
  EXPECT_FALSE(certificate_url_problem("https://paypal.com/c", hosts));
  EXPECT_TRUE(certificate_url_problem("http://api.paypal.com/v1/notifications/certs/X", hosts));
  EXPECT_TRUE(certificate_url_problem("https://evil.example/paypal.com", hosts));
  EXPECT_TRUE(certificate_url_problem("https://api.paypal.com.evil.example/c", hosts));
  EXPECT_TRUE(certificate_url_problem("https://evilpaypal.com/c", hosts));
  EXPECT_TRUE(certificate_url_problem("https://user:pw@api.paypal.com/c", hosts));
  EXPECT_TRUE(certificate_url_problem("/relative", hosts));
  EXPECT_TRUE(certificate_url_problem("http://127.0.0.1:9/c", hosts));
  // A simulator on loopback, when named.
  EXPECT_FALSE(certificate_url_problem("http://127.0.0.1:9/c", {"127.0.0.1"}));
}

TEST(PayPalSignature, TransmissionTimeWindow) {
  core::Timestamp t = 0;
  ASSERT_TRUE(core::parse_time("2015-05-12T18:14:14Z", t));
  EXPECT_TRUE(check_transmission_time("2015-05-12T18:14:14Z", t + 1000, 300));
  auto stale = check_transmission_time("2015-05-12T18:14:14Z", t + 301'000, 300);
  ASSERT_FALSE(stale);
  EXPECT_TRUE(stale.error().is(adapter_errc::stale_webhook));
  EXPECT_FALSE(check_transmission_time("2015-05-12T18:14:14Z", t - 600'000, 300));  // future
  EXPECT_TRUE(check_transmission_time("2015-05-12T18:14:14Z", t + 86400'000LL * 365, 0));
  EXPECT_TRUE(
      check_transmission_time("yesterday", t, 300).error().is(adapter_errc::invalid_webhook));
}

TEST(PayPalAmounts, DecimalStringsByCurrency) {
  EXPECT_EQ(format_value(2599, "EUR"), "25.99");
  EXPECT_EQ(format_value(5, "USD"), "0.05");
  EXPECT_EQ(format_value(3000, "JPY"), "3000");
  EXPECT_EQ(format_value(100000, "HUF"), "1000");  // PayPal takes HUF without decimals
  EXPECT_FALSE(format_value(100050, "HUF"));
  EXPECT_FALSE(format_value(100, "XXZ"));
  EXPECT_EQ(parse_value("25.99", "EUR"), 2599);
  EXPECT_EQ(parse_value("25.9", "EUR"), 2590);
  EXPECT_EQ(parse_value("25", "EUR"), 2500);
  EXPECT_EQ(parse_value("3000", "JPY"), 3000);
  EXPECT_EQ(parse_value("1000", "HUF"), 100000);
  EXPECT_FALSE(parse_value("25.999", "EUR"));
  EXPECT_FALSE(parse_value("-1", "EUR"));
  EXPECT_FALSE(parse_value("1e3", "EUR"));
  EXPECT_FALSE(parse_value("25.", "EUR"));
}

PaymentRequest request() {
  PaymentRequest r;
  r.ctx.checkout_id = "chk_1";
  r.amount = 5495;
  r.currency = "EUR";
  r.description = "merchgate checkout chk_1";
  return r;
}

TEST(PayPalOrders, CreateBodyNamesTheCheckout) {
  bj::object body = order_body(request());
  EXPECT_EQ(
      bj::serialize(body),
      R"({"intent":"CAPTURE","purchase_units":[{"reference_id":"chk_1","custom_id":"chk_1",)"
      R"("amount":{"currency_code":"EUR","value":"54.95"},"description":"merchgate checkout chk_1"}]})");
}

TEST(PayPalOrders, ReturnUrlPayoutAndFee) {
  PaymentRequest r = request();
  r.return_url = "https://app.example.com/back";
  r.buyer_email = "ada@example.com";
  r.payout_account = "SELLER123";
  r.platform_fee = 275;
  bj::object body = order_body(r);
  const auto& unit = body.at("purchase_units").as_array()[0].as_object();
  EXPECT_EQ(unit.at("payee").at("merchant_id"), "SELLER123");
  EXPECT_EQ(
      unit.at("payment_instruction").at("platform_fees").as_array()[0].at("amount").at("value"),
      "2.75");
  const auto& ctx = body.at("payment_source").at("paypal").at("experience_context").as_object();
  EXPECT_EQ(ctx.at("return_url"), "https://app.example.com/back");
  EXPECT_EQ(ctx.at("shipping_preference"), "NO_SHIPPING");
}

TEST(PayPalOrders, CreatedOrderIsAPayerActionRedirect) {
  auto fact = order_fact(object_of(fixture("paypal/order_created.json")));
  EXPECT_EQ(fact.reference, "5O190127TN364715T");
  EXPECT_EQ(fact.status, core::PaymentStatus::requires_action);
  ASSERT_TRUE(fact.client_action);
  EXPECT_EQ(fact.client_action->type, "redirect");
  EXPECT_EQ(fact.client_action->value,
            "https://www.paypal.com/checkoutnow?token=5O190127TN364715T");
}

TEST(PayPalOrders, CapturedOrderSucceededWithItsCaptureId) {
  auto order = object_of(fixture("paypal/order_captured.json"));
  auto fact = order_fact(order);
  EXPECT_EQ(fact.status, core::PaymentStatus::succeeded);
  EXPECT_EQ(fact.partner_data.at("paypal_capture"), "3C679366HH908993F");
  EXPECT_EQ(capture_id(order), "3C679366HH908993F");
  order["purchase_units"]
      .as_array()[0]
      .as_object()["payments"]
      .as_object()["captures"]
      .as_array()[0]
      .as_object()["status"] = "DECLINED";
  EXPECT_EQ(order_fact(order).status, core::PaymentStatus::failed);
}

TEST(PayPalOrders, RefundAnswer) {
  auto r = refund_created(object_of(fixture("paypal/refund.json")));
  EXPECT_EQ(r.reference, "1JU08902781691411");
  EXPECT_EQ(r.status, core::RefundStatus::succeeded);
  EXPECT_EQ(refund_status("PENDING"), core::RefundStatus::pending);
  EXPECT_EQ(refund_status("CANCELLED"), core::RefundStatus::failed);
  RefundRequest rr;
  rr.ctx.checkout_id = "chk_1";
  rr.refund_id = "rfd_1";
  rr.amount = 500;
  rr.currency = "EUR";
  EXPECT_EQ(bj::serialize(refund_body(rr)),
            R"({"amount":{"currency_code":"EUR","value":"5.00"},"custom_id":"chk_1/rfd_1"})");
}

TEST(PayPalErrors, InstrumentDeclinedIsADecline) {
  auto e = error_from(422, fixture("paypal/error_instrument_declined.json"));
  EXPECT_TRUE(e.is(adapter_errc::declined));
  EXPECT_EQ(e.partner_code, "INSTRUMENT_DECLINED");
  EXPECT_TRUE(
      error_from(
          422, R"({"name":"UNPROCESSABLE_ENTITY","details":[{"issue":"ORDER_ALREADY_CAPTURED"}]})")
          .is(adapter_errc::invalid_state));
  EXPECT_TRUE(
      error_from(401,
                 R"({"error":"invalid_client","error_description":"Client Authentication failed"})")
          .is(adapter_errc::authentication));
  EXPECT_TRUE(
      error_from(400,
                 R"({"name":"INVALID_REQUEST","details":[{"issue":"MISSING_REQUIRED_PARAMETER"}]})")
          .is(adapter_errc::rejected));
  // 503: PayPal did not take the request (another processor may); 500: the outcome is unknown.
  EXPECT_TRUE(error_from(503, R"({"name":"SERVICE_UNAVAILABLE"})").is(adapter_errc::unavailable));
  EXPECT_TRUE(
      error_from(500, R"({"name":"INTERNAL_SERVER_ERROR"})").is(adapter_errc::partner_error));
  EXPECT_TRUE(error_from(404, R"({"name":"RESOURCE_NOT_FOUND"})").is(adapter_errc::not_found));
  EXPECT_TRUE(error_from(429, "{}").is(adapter_errc::rate_limited));
}

TEST(PayPalToken, ParsesTheDocumentedAnswer) {
  auto t = parse_token(
      R"({"scope":"https://uri.paypal.com/services/invoicing","access_token":"A21AAFEpH4PsADK7qSS7pSRsgzfENtu-Q1ysgEDVDESseMHBYXVJYE8ovjj68elIDy8nF26AwPhfXTIeWAZHSLIsQkSYz9ifg","token_type":"Bearer","app_id":"APP-80W284485P519543T","expires_in":31668,"nonce":"2020-04-03T15:35:36ZaYZlGvEkV4yVSz8g6bAKFoGSEzuy3CQcz3ljhibkOHg"})");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->expires_in_s, 31668);
  EXPECT_TRUE(t->access_token.starts_with("A21AA"));
  EXPECT_FALSE(parse_token(R"({"access_token":"x"})"));
}

TEST(PayPalEvents, OrderApprovedAsksForTheCapture) {
  auto r = parse_event(fixture("paypal/event_checkout_order_approved.json"));
  ASSERT_TRUE(r);
  const auto& e = r->events.at(0);
  EXPECT_EQ(e.partner_event_id, "WH-COC11055RA711503B-4YM959094A144403T");
  EXPECT_EQ(e.kind, InboundEvent::Kind::payment);
  EXPECT_EQ(e.action, "capture");
  EXPECT_EQ(e.checkout_id, "chk_0Abc12345678901234567890");
  EXPECT_EQ(e.payment_reference, "5O190127TN364715T");
  EXPECT_EQ(e.payment->status, core::PaymentStatus::processing);
}

TEST(PayPalEvents, CaptureCompleted) {
  auto r = parse_event(fixture("paypal/event_payment_capture_completed.json"));
  ASSERT_TRUE(r);
  const auto& e = r->events.at(0);
  EXPECT_EQ(e.payment_reference, "5O190127TN364715T");
  EXPECT_EQ(e.checkout_id, "chk_0Abc12345678901234567890");
  EXPECT_EQ(e.payment->status, core::PaymentStatus::succeeded);
  EXPECT_EQ(e.payment->partner_data.at("paypal_capture"), "3C679366HH908993F");
  auto denied = object_of(fixture("paypal/event_payment_capture_completed.json"));
  denied["event_type"] = "PAYMENT.CAPTURE.DENIED";
  denied["resource"].as_object()["status"] = "DECLINED";
  auto d = parse_event(bj::serialize(denied));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->events.at(0).payment->status, core::PaymentStatus::failed);
}

TEST(PayPalEvents, CaptureRefundedNamesMerchgatesRefund) {
  auto r = parse_event(fixture("paypal/event_payment_capture_refunded.json"));
  ASSERT_TRUE(r);
  const auto& e = r->events.at(0);
  EXPECT_EQ(e.kind, InboundEvent::Kind::refund);
  EXPECT_EQ(e.checkout_id, "chk_0Abc12345678901234567890");
  EXPECT_TRUE(e.payment_reference.empty());  // the capture id is not the payment's reference
  EXPECT_EQ(e.refund->refund_id, "rfd_0Abc12345678901234567890");
  EXPECT_EQ(e.refund->reference, "1Y107995YT783435V");
  EXPECT_EQ(e.refund->amount, 99);
  EXPECT_EQ(e.refund->status, core::RefundStatus::succeeded);
}

TEST(PayPalEvents, CaptureReversedIsALostDispute) {
  auto r = parse_event(fixture("paypal/event_payment_capture_reversed.json"));
  ASSERT_TRUE(r);
  const auto& e = r->events.at(0);
  EXPECT_EQ(e.kind, InboundEvent::Kind::dispute);
  EXPECT_TRUE(e.dispute->closed);
  EXPECT_EQ(e.dispute->status, "lost");
  EXPECT_EQ(e.dispute->amount, 251);
}

TEST(PayPalEvents, UnknownTypesAreIgnored) {
  auto r = parse_event(fixture("paypal/java_sdk_sample_event.json"));  // PAYMENT.SALE.COMPLETED
  ASSERT_TRUE(r);
  EXPECT_EQ(r->events.at(0).kind, InboundEvent::Kind::ignored);
  EXPECT_EQ(r->events.at(0).type, "PAYMENT.SALE.COMPLETED");
  EXPECT_TRUE(parse_event("[]").error().is(adapter_errc::malformed_webhook));
}

TEST(PayPalSettings, ParseAndValidate) {
  auto s = Settings::parse({});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->certificate_hosts, std::vector<std::string>{"paypal.com"});
  EXPECT_EQ(default_base_url("live"), "https://api-m.paypal.com");
  EXPECT_EQ(Settings::parse(bj::object{{"webhook_verification", "trust"}}).error().param,
            "settings.webhook_verification");
  EXPECT_EQ(Settings::parse(bj::object{{"environment", "prod"}}).error().param,
            "settings.environment");
}

}  // namespace
}  // namespace mg::adapters::paypal
