// Building sandbox instances through the registry: a bad block is refused with an error naming
// the key, an unknown type lists the known ones, a good block yields a working instance.
#include "tests/integration/adapters/sandbox_harness.hpp"

#include <gtest/gtest.h>

namespace mg::testing {
namespace {

namespace bj = boost::json;

class SandboxConfig : public ::testing::Test {
 protected:
  // The param of the error the registry gives for this block ("" when it was accepted).
  std::string refusal(const adapters::AdapterConfig& config) {
    auto made = h_.create(config);
    if (made) return "";
    EXPECT_FALSE(made.error().message.empty());
    return made.error().param;
  }
  adapters::AdapterConfig payments(bj::object settings, bj::object credentials) {
    adapters::AdapterConfig c;
    c.id = "pay-" + std::to_string(++n_);
    c.type = "sandbox_payments";
    c.credentials = std::move(credentials);
    c.settings = std::move(settings);
    return c;
  }
  adapters::AdapterConfig fulfillment(bj::object settings) {
    adapters::AdapterConfig c;
    c.id = "ful-" + std::to_string(++n_);
    c.type = "sandbox_fulfillment";
    c.credentials = bj::object{{"webhook_secret", secret_}};
    c.settings = std::move(settings);
    return c;
  }

  std::string secret_ = webhooks::generate_secret();
  SandboxHarness h_;
  int n_ = 0;
};

TEST_F(SandboxConfig, BothSandboxTypesAreRegisteredWithSchemas) {
  for (std::string_view name : {"sandbox_payments", "sandbox_fulfillment"}) {
    const auto* type = h_.registry().find(name);
    ASSERT_NE(type, nullptr) << name;
    EXPECT_TRUE(type->schema.contains("credentials")) << name;
    EXPECT_TRUE(type->schema.contains("settings")) << name;
  }
  EXPECT_EQ(h_.registry().find("sandbox_payments")->kind, adapters::Kind::payment);
  EXPECT_EQ(h_.registry().find("sandbox_fulfillment")->kind, adapters::Kind::fulfillment);
}

TEST_F(SandboxConfig, AnUnknownTypeNamesTheKnownOnes) {
  adapters::AdapterConfig c = payments({}, bj::object{{"webhook_secret", secret_}});
  c.type = "sandbox_paymnts";
  auto made = h_.create(c);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().param, "type");
  EXPECT_NE(made.error().message.find("sandbox_payments"), std::string::npos);
  EXPECT_NE(made.error().message.find("sandbox_fulfillment"), std::string::npos);
}

TEST_F(SandboxConfig, CredentialErrorsNameTheWebhookSecret) {
  EXPECT_EQ(refusal(payments({}, {})), "credentials.webhook_secret");
  EXPECT_EQ(refusal(payments({}, bj::object{{"webhook_secret", 42}})),
            "credentials.webhook_secret");
  EXPECT_EQ(refusal(payments({}, bj::object{{"webhook_secret", "sk_test_123"}})),
            "credentials.webhook_secret");
  EXPECT_EQ(refusal(payments({}, bj::object{{"webhook_secret", "whsec_dG9vc2hvcnQ="}})),
            "credentials.webhook_secret")
      << "too short once decoded";
  EXPECT_EQ(refusal(payments({}, bj::object{{"webhook_secret", "whsec_!!!not-base64!!!"}})),
            "credentials.webhook_secret");
  EXPECT_EQ(refusal(payments({}, bj::object{{"webhook_secret", secret_}, {"api_key", "x"}})),
            "credentials.api_key");
  adapters::AdapterConfig ful = fulfillment({});
  ful.credentials = bj::object();
  EXPECT_EQ(refusal(ful), "credentials.webhook_secret");
}

TEST_F(SandboxConfig, SettingErrorsNameTheKey) {
  bj::object creds{{"webhook_secret", secret_}};
  EXPECT_EQ(refusal(payments(bj::object{{"succeed_after_ms", -1}}, creds)),
            "settings.succeed_after_ms");
  EXPECT_EQ(refusal(payments(bj::object{{"succeed_after_ms", "fast"}}, creds)),
            "settings.succeed_after_ms");
  EXPECT_EQ(refusal(payments(bj::object{{"decline_after_ms", 600'001}}, creds)),
            "settings.decline_after_ms");
  EXPECT_EQ(refusal(payments(bj::object{{"refund_after_ms", 1.5}}, creds)),
            "settings.refund_after_ms");
  EXPECT_EQ(refusal(payments(bj::object{{"succeed_after_sec", 1}}, creds)),
            "settings.succeed_after_sec");

  EXPECT_EQ(refusal(fulfillment(
                bj::object{{"in_production_after_ms", 5000}, {"shipped_after_ms", 1000}})),
            "settings.shipped_after_ms");
  EXPECT_EQ(refusal(fulfillment(bj::object{{"delivered_after_ms", -5}})),
            "settings.delivered_after_ms");
  EXPECT_EQ(refusal(fulfillment(bj::object{{"shipping", bj::object{{"XYZ", 100}}}})),
            "settings.shipping.XYZ");
  EXPECT_EQ(refusal(fulfillment(bj::object{{"shipping", bj::object{{"EUR", -1}}}})),
            "settings.shipping.EUR");
  EXPECT_EQ(refusal(fulfillment(bj::object{{"shipping", bj::object{{"EUR", "4.95"}}}})),
            "settings.shipping.EUR");
  EXPECT_EQ(refusal(fulfillment(bj::object{{"carrier", ""}})), "settings.carrier");
  auto countries = refusal(fulfillment(bj::object{{"unsupported_countries", bj::array{"AQX"}}}));
  EXPECT_TRUE(countries.starts_with("settings.unsupported_countries")) << countries;
  EXPECT_EQ(refusal(fulfillment(bj::object{{"ship_faster", true}})), "settings.ship_faster");
}

TEST_F(SandboxConfig, AGoodBlockYieldsAnInstanceWithItsLedgerInTheDataDir) {
  adapters::AdapterConfig pay =
      payments(bj::object{{"succeed_after_ms", 0}}, bj::object{{"webhook_secret", secret_}});
  auto made = h_.create(pay);
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ((*made)->id(), pay.id);
  EXPECT_EQ((*made)->type(), "sandbox_payments");
  EXPECT_EQ((*made)->kind(), adapters::Kind::payment);
  EXPECT_TRUE(std::filesystem::exists(h_.ledger_path(pay.id)));
  auto described = h_.run((*made)->test_credentials());
  ASSERT_TRUE(described) << described.error().message;
  EXPECT_NE(described->find("0 payments"), std::string::npos) << *described;

  auto ful = h_.create(fulfillment(bj::object{{"carrier", "Poste"}}));
  ASSERT_TRUE(ful) << ful.error().message;
  EXPECT_EQ((*ful)->type(), "sandbox_fulfillment");
  EXPECT_EQ((*ful)->kind(), adapters::Kind::fulfillment);
}

}  // namespace
}  // namespace mg::testing
