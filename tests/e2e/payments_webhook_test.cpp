// Processor webhooks at the real gateway's POST /v1/webhooks/{adapter_id}: signed with each
// processor's scheme by the test (Stripe-Signature, Adyen's per-item HMAC), an unknown event
// type is stored and answered 2xx (Adyen: "[accepted]") and changes nothing; a bad signature, a
// stale timestamp or a PayPal certificate URL off PayPal's hosts is a 400 and changes nothing.
// PayPal with `webhook_verification: "api"`: the gateway asks the simulator's
// verify-webhook-signature, which says SUCCESS only for what it signed itself.
#include "adapters/payments/adyen/adyen_wire.hpp"
#include "adapters/payments/stripe/stripe_wire.hpp"
#include "gateway/core/clock.hpp"
#include "tests/e2e/payments_sim_setup.hpp"

#include <gtest/gtest.h>

#include <ctime>

namespace mg::testing {
namespace {

using namespace payments;

std::int64_t now_s() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::size_t event_count(GatewayProcess& gw) {
  auto r = gw.app("GET", "/v1/events?limit=100");
  if (!r || r->status != 200) return 0;
  bj::value doc = r->json();
  return doc.at("data").as_array().size();
}

std::optional<Reply> post_stripe(GatewayProcess& gw, const std::string& body,
                                 const std::string& signature) {
  return gw.request(
      "POST", "/v1/webhooks/stripe-main", body,
      {{"content-type", "application/json; charset=utf-8"}, {"stripe-signature", signature}});
}

class ProcessorWebhooks : public ::testing::Test {
 protected:
  void SetUp() override {
    gw_.start();
    sim_ = std::make_unique<SimProcess>(dir_.path(), processors(gw_), 300);
    configure(gw_, *sim_, {"stripe-main"});
  }
  TempDir dir_;
  GatewayProcess gw_{dir_.path()};
  std::unique_ptr<SimProcess> sim_;
};

const std::string kCustomerCreated =
    R"({"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","api_version":"2024-06-20",)"
    R"("created":1686089970,"data":{"object":{"id":"cus_NrNLdthmBOAQjB","object":"customer"}},)"
    R"("livemode":false,"pending_webhooks":1,"type":"customer.created"})";

TEST_F(ProcessorWebhooks, StripeUnknownEventTypeIsAcknowledgedAndChangesNothing) {
  std::string sig = adapters::stripe::signature_header(kStripeSecret, now_s(), kCustomerCreated);
  auto r = post_stripe(gw_, kCustomerCreated, sig);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status / 100, 2) << r->body;
  // Again (Stripe retries until it hears 2xx): a duplicate, still 2xx.
  r = post_stripe(gw_, kCustomerCreated, sig);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status / 100, 2) << r->body;
  EXPECT_EQ(event_count(gw_), 0u);
}

TEST_F(ProcessorWebhooks, StripeBadSignatureAndStaleTimestampAreRefused) {
  std::int64_t t = now_s();
  // Signed with another endpoint's secret.
  auto r = post_stripe(gw_, kCustomerCreated,
                       adapters::stripe::signature_header("whsec_other", t, kCustomerCreated));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  // The body changed after signing.
  std::string tampered = kCustomerCreated;
  tampered.replace(tampered.find("customer.created"), 16, "customer.deleted");
  r = post_stripe(gw_, tampered,
                  adapters::stripe::signature_header(kStripeSecret, t, kCustomerCreated));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  // Rightly signed, six minutes ago: outside Stripe's 300 s tolerance.
  r = post_stripe(gw_, kCustomerCreated,
                  adapters::stripe::signature_header(kStripeSecret, t - 360, kCustomerCreated));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  // No header at all.
  r = gw_.request("POST", "/v1/webhooks/stripe-main", kCustomerCreated,
                  {{"content-type", "application/json"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_EQ(event_count(gw_), 0u);
}

bj::object adyen_item(const std::string& event_code) {
  return bj::object{{"additionalData", bj::object{}},
                    {"amount", bj::object{{"currency", "EUR"}, {"value", 0}}},
                    {"eventCode", event_code},
                    {"eventDate", "2024-06-01T12:00:00+02:00"},
                    {"merchantAccountCode", "MerchgateECOM"},
                    {"merchantReference", "report_1"},
                    {"pspReference", "K8Q3C8JQJG7DFB82"},
                    {"reason", "https://ca-test.adyen.com/reports/download/x.csv"},
                    {"success", "true"}};
}

std::string adyen_batch(bj::object item, const std::string& hex_key) {
  item["additionalData"].as_object()["hmacSignature"] =
      *adapters::adyen::item_signature(hex_key, item);
  return bj::serialize(bj::object{
      {"live", "false"},
      {"notificationItems", bj::array{bj::object{{"NotificationRequestItem", std::move(item)}}}}});
}

TEST_F(ProcessorWebhooks, AdyenUnknownEventCodeIsAcceptedAndABadHmacIsNot) {
  configure(gw_, *sim_, {"adyen-main"});
  auto r = gw_.request("POST", "/v1/webhooks/adyen-main",
                       adyen_batch(adyen_item("REPORT_AVAILABLE"), kAdyenHmac),
                       {{"content-type", "application/json"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->body, "[accepted]");
  // Signed with another key.
  r = gw_.request("POST", "/v1/webhooks/adyen-main",
                  adyen_batch(adyen_item("AUTHORISATION"), "00112233445566778899AABBCCDDEEFF"),
                  {{"content-type", "application/json"}});
  ASSERT_TRUE(r);
  EXPECT_GE(r->status, 400) << r->body;
  EXPECT_LT(r->status, 500) << r->body;
  EXPECT_NE(r->body, "[accepted]");
  EXPECT_EQ(event_count(gw_), 0u);
}

TEST_F(ProcessorWebhooks, PaypalCertificateIsNeverFetchedFromAnotherHost) {
  configure(gw_, *sim_, {"paypal-main"});
  std::string body =
      R"({"id":"WH-2WR32451HC0233532-67976317FL4543714","event_type":"PAYMENT.CAPTURE.COMPLETED",)"
      R"("resource":{"id":"42311647XV020574X"}})";
  auto r =
      gw_.request("POST", "/v1/webhooks/paypal-main", body,
                  {{"content-type", "application/json"},
                   {"paypal-auth-algo", "SHA256withRSA"},
                   {"paypal-cert-url", "https://evil.example/v1/notifications/certs/CERT-360caa42"},
                   {"paypal-transmission-id", "69cd13f0-d67a-11e5-baa3-778b53f4ae55"},
                   {"paypal-transmission-sig", "bm90IGEgc2lnbmF0dXJl"},
                   {"paypal-transmission-time", "2024-06-01T12:00:00Z"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  // A certificate URL on the simulator (an allowed host), but a signature it did not make.
  std::string cert_url = sim_->url("paypal") + "/v1/notifications/certs/CERT-unknown";
  r = gw_.request("POST", "/v1/webhooks/paypal-main", body,
                  {{"content-type", "application/json"},
                   {"paypal-auth-algo", "SHA256withRSA"},
                   {"paypal-cert-url", cert_url},
                   {"paypal-transmission-id", "69cd13f0-d67a-11e5-baa3-778b53f4ae55"},
                   {"paypal-transmission-sig", "bm90IGEgc2lnbmF0dXJl"},
                   {"paypal-transmission-time", core::format_time(core::system_now())}});
  ASSERT_TRUE(r);
  EXPECT_GE(r->status, 400) << r->body;
  EXPECT_EQ(event_count(gw_), 0u);
}

// ---- PayPal, webhook_verification "api" ----------------------------------------------------

// One transmission as the gateway forwarded it to verify-webhook-signature: the headers PayPal
// sent and the event's exact bytes (spliced into the request, not re-serialized).
struct Transmission {
  std::string algo, cert_url, id, sig, time, body;
};

Transmission transmission_of(const bj::object& recorded) {
  std::string raw(recorded.at("body").as_string());
  bj::value doc = bj::parse(raw);
  const bj::object& o = doc.as_object();
  auto s = [&](const char* k) { return std::string(o.at(k).as_string()); };
  const std::string marker = R"("webhook_event":)";
  std::size_t at = raw.find(marker);
  EXPECT_NE(at, std::string::npos) << raw;
  std::string body = raw.substr(at + marker.size(), raw.size() - at - marker.size() - 1);
  return {s("auth_algo"),        s("cert_url"),          s("transmission_id"),
          s("transmission_sig"), s("transmission_time"), body};
}

std::optional<Reply> post_paypal(GatewayProcess& gw, const Transmission& t) {
  return gw.request("POST", "/v1/webhooks/paypal-main", t.body,
                    {{"content-type", "application/json"},
                     {"paypal-auth-algo", t.algo},
                     {"paypal-cert-url", t.cert_url},
                     {"paypal-transmission-id", t.id},
                     {"paypal-transmission-sig", t.sig},
                     {"paypal-transmission-time", t.time}});
}

const char* const kVerifyPath = "/v1/notifications/verify-webhook-signature";

TEST_F(ProcessorWebhooks, PaypalApiVerificationAcceptsWhatPaypalSignedAndRefusesAnythingElse) {
  configure(gw_, *sim_, {"paypal-main"});
  bj::object block = adapter_block("paypal", sim_->url("paypal"));
  block["settings"].as_object()["webhook_verification"] = "api";
  put(gw_, "/v1/admin/adapters/paypal-main", block);

  // A buyer approves; CHECKOUT.ORDER.APPROVED and PAYMENT.CAPTURE.COMPLETED are each verified
  // by asking PayPal, and the checkout is paid.
  bj::object created = create(gw_, {{"ebook", 1}}, "");
  ASSERT_FALSE(created.empty());
  std::string id(created.at("id").as_string());
  EXPECT_EQ(browse(action_url(created)).status, 200);
  bj::object c = wait_checkout(gw_, id, payment_is("succeeded"));
  ASSERT_EQ(payment_status(c), "succeeded") << bj::serialize(c) << "\n" << gw_.log_tail();
  auto verifies = received(*sim_, "paypal", "POST", kVerifyPath);
  ASSERT_GE(verifies.size(), 2u);
  for (const auto& v : verifies) {
    EXPECT_TRUE(header_of(v, "authorization").starts_with("Bearer ")) << bj::serialize(v);
    bj::value doc = bj::parse(std::string(v.at("body").as_string()));
    EXPECT_EQ(doc.at("webhook_id"), kPaypalWebhookId);
  }
  // The certificate was never fetched: PayPal did the checking.
  for (const auto& r : sim_->requests("paypal")) {
    EXPECT_EQ(std::string(r.at("target").as_string()).find("/v1/notifications/certs/"),
              std::string::npos);
  }

  std::size_t events = event_count(gw_);
  Transmission genuine = transmission_of(verifies[0]);
  Transmission other = transmission_of(verifies[1]);
  auto verify_calls = [&] { return received(*sim_, "paypal", "POST", kVerifyPath).size(); };
  std::size_t asked = verify_calls();

  // The genuine transmission again (PayPal resends until it hears 2xx): SUCCESS, a duplicate.
  auto r = post_paypal(gw_, genuine);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status / 100, 2) << r->body;
  EXPECT_EQ(verify_calls(), ++asked);

  // The same headers over a changed event: PayPal answers FAILURE, the gateway refuses it.
  Transmission tampered = genuine;
  std::size_t at = tampered.body.find(R"("event_version":"1.0")");
  ASSERT_NE(at, std::string::npos) << tampered.body;
  tampered.body.replace(at, 21, R"("event_version":"1.1")");
  r = post_paypal(gw_, tampered);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_EQ(verify_calls(), ++asked);

  // Another transmission's signature over this one's headers and event.
  Transmission swapped = genuine;
  swapped.sig = other.sig;
  r = post_paypal(gw_, swapped);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_EQ(verify_calls(), ++asked);

  // A transmission PayPal never sent.
  Transmission forged = genuine;
  forged.id = "69cd13f0-d67a-11e5-baa3-778b53f4ae55";
  r = post_paypal(gw_, forged);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_EQ(verify_calls(), ++asked);

  EXPECT_EQ(event_count(gw_), events);
  EXPECT_EQ(payment_status(checkout(gw_, id)), "succeeded");
}

}  // namespace
}  // namespace mg::testing
