#include "adapters/schema.hpp"

#include "adapters/adapter.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace mg::adapters {
namespace {

namespace bj = boost::json;
using ::testing::HasSubstr;

bj::value json(std::string_view text) { return bj::parse(text); }

// A credentials schema in the style the adapter types publish.
const bj::object kCredentials = schema_from(R"({
  "type": "object",
  "additionalProperties": false,
  "required": ["secret_key"],
  "properties": {
    "secret_key": {"type": "string", "minLength": 8, "maxLength": 40, "x-prefix": "sk_"},
    "webhook_secret": {"type": "string", "x-prefix": "whsec_"},
    "mode": {"type": "string", "enum": ["test", "live"]}
  }
})");

const bj::object kSettings = schema_from(R"({
  "type": "object",
  "properties": {
    "succeed_after_ms": {"type": "integer", "minimum": 0, "maximum": 60000},
    "ratio": {"type": "number"},
    "enabled": {"type": "boolean"},
    "callback": {"type": "string", "format": "uri"},
    "files": {"type": "array", "items": {"type": "object", "required": ["url"],
              "properties": {"url": {"type": "string", "format": "uri"}}}},
    "shipping": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
  }
})");

Error invalid(const bj::value& v, const bj::object& schema, std::string_view path) {
  auto r = validate_against_schema(v, schema, path);
  EXPECT_FALSE(r.has_value()) << bj::serialize(v);
  return r ? Error{} : r.error();
}

TEST(SchemaValidation, AcceptsAConformingDocument) {
  EXPECT_TRUE(
      validate_against_schema(
          json(R"({"secret_key": "sk_test_abc", "webhook_secret": "whsec_x", "mode": "test"})"),
          kCredentials, "credentials")
          .has_value());
  EXPECT_TRUE(
      validate_against_schema(json(R"({"succeed_after_ms": 1000, "ratio": 0.5, "enabled": true,
                           "callback": "https://x.example/cb",
                           "files": [{"url": "https://x/1.png"}], "shipping": {"EUR": 495},
                           "free_form": [1, 2]})"),
                              kSettings, "settings")
          .has_value());
}

TEST(SchemaValidation, MissingRequiredKeyIsNamed) {
  Error e = invalid(json(R"({"webhook_secret": "whsec_x"})"), kCredentials, "credentials");
  EXPECT_EQ(e.code, errc::missing_field);
  EXPECT_EQ(e.param, "credentials.secret_key");
  EXPECT_THAT(e.message, HasSubstr("credentials.secret_key"));
}

TEST(SchemaValidation, UnknownKeyIsRefusedWhenClosedAndListsTheKnownOnes) {
  Error e = invalid(json(R"({"secret_key": "sk_test_abc", "api_key": "x"})"), kCredentials,
                    "credentials");
  EXPECT_EQ(e.code, errc::unknown_field);
  EXPECT_EQ(e.param, "credentials.api_key");
  EXPECT_THAT(e.message, HasSubstr("secret_key"));
  EXPECT_THAT(e.message, HasSubstr("webhook_secret"));
}

TEST(SchemaValidation, WrongTypeNamesTheKey) {
  Error e = invalid(json(R"({"secret_key": 42})"), kCredentials, "credentials");
  EXPECT_EQ(e.code, errc::invalid_field);
  EXPECT_EQ(e.param, "credentials.secret_key");
  EXPECT_THAT(e.message, HasSubstr("string"));
  EXPECT_EQ(invalid(json("[]"), kCredentials, "credentials").param, "credentials");
  EXPECT_EQ(invalid(json(R"({"enabled": "yes"})"), kSettings, "settings").param,
            "settings.enabled");
}

TEST(SchemaValidation, IntegersAreNumbersButNotTheOtherWayRound) {
  EXPECT_TRUE(validate_against_schema(json(R"({"ratio": 2})"), kSettings, "s").has_value());
  EXPECT_EQ(invalid(json(R"({"succeed_after_ms": 1.5})"), kSettings, "s").param,
            "s.succeed_after_ms");
  EXPECT_EQ(invalid(json(R"({"succeed_after_ms": 1000.0})"), kSettings, "s").param,
            "s.succeed_after_ms");
}

TEST(SchemaValidation, EnumListsTheOptions) {
  Error e = invalid(json(R"({"secret_key": "sk_test_abc", "mode": "prod"})"), kCredentials, "c");
  EXPECT_EQ(e.param, "c.mode");
  EXPECT_THAT(e.message, HasSubstr(R"("test", "live")"));
}

TEST(SchemaValidation, StringLengthPrefixAndUri) {
  EXPECT_EQ(invalid(json(R"({"secret_key": "sk_1"})"), kCredentials, "c").param, "c.secret_key");
  EXPECT_EQ(
      invalid(json(R"({"secret_key": "sk_)" + std::string(38, 'a') + R"("})"), kCredentials, "c")
          .param,
      "c.secret_key");
  Error prefix = invalid(json(R"({"secret_key": "pk_test_abc"})"), kCredentials, "c");
  EXPECT_THAT(prefix.message, HasSubstr("sk_"));
  Error uri = invalid(json(R"({"callback": "ftp://x"})"), kSettings, "settings");
  EXPECT_EQ(uri.param, "settings.callback");
  EXPECT_THAT(uri.message, HasSubstr("URL"));
  EXPECT_EQ(invalid(json(R"({"callback": "https://x/\u0007"})"), kSettings, "s").param,
            "s.callback");
}

TEST(SchemaValidation, MinimumAndMaximumAreInclusive) {
  EXPECT_TRUE(
      validate_against_schema(json(R"({"succeed_after_ms": 0})"), kSettings, "s").has_value());
  EXPECT_TRUE(
      validate_against_schema(json(R"({"succeed_after_ms": 60000})"), kSettings, "s").has_value());
  EXPECT_EQ(invalid(json(R"({"succeed_after_ms": -1})"), kSettings, "s").param,
            "s.succeed_after_ms");
  EXPECT_EQ(invalid(json(R"({"succeed_after_ms": 60001})"), kSettings, "s").param,
            "s.succeed_after_ms");
}

TEST(SchemaValidation, HugeIntegersDoNotSlipPastTheMaximum) {
  Error e = invalid(json(R"({"succeed_after_ms": 18446744073709551615})"), kSettings, "s");
  EXPECT_EQ(e.param, "s.succeed_after_ms");
}

TEST(SchemaValidation, FractionalNumbersRespectTheBounds) {
  const bj::object schema = schema_from(R"({"type": "number", "minimum": 0, "maximum": 1})");
  EXPECT_TRUE(validate_against_schema(json("0.5"), schema, "ratio").has_value());
  EXPECT_TRUE(validate_against_schema(json("1"), schema, "ratio").has_value());
  EXPECT_EQ(invalid(json("1.5"), schema, "ratio").param, "ratio");
  EXPECT_EQ(invalid(json("-0.25"), schema, "ratio").param, "ratio");
}

TEST(SchemaValidation, ArrayItemsAreIndexedInThePath) {
  Error e = invalid(json(R"({"files": [{"url": "https://x/1.png"}, {"url": "file:///etc"}]})"),
                    kSettings, "settings");
  EXPECT_EQ(e.param, "settings.files[1].url");
  Error missing = invalid(json(R"({"files": [{}]})"), kSettings, "settings");
  EXPECT_EQ(missing.code, errc::missing_field);
  EXPECT_EQ(missing.param, "settings.files[0].url");
}

TEST(SchemaValidation, AdditionalPropertiesSchemaChecksEveryExtraKey) {
  Error e = invalid(json(R"({"shipping": {"EUR": 495, "USD": -1}})"), kSettings, "settings");
  EXPECT_EQ(e.param, "settings.shipping.USD");
}

TEST(SchemaValidation, TopLevelPathMayBeEmpty) {
  Error e = invalid(json(R"({})"), kCredentials, "");
  EXPECT_EQ(e.param, "secret_key");
}

TEST(SchemaFrom, ParsesALiteral) {
  bj::object s = schema_from(R"({"type": "string"})");
  EXPECT_EQ(s.at("type").as_string(), "string");
}

TEST(SchemaFromDeathTest, AbortsOnABrokenLiteral) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(schema_from("{not json"), "adapter schema literal");
  EXPECT_DEATH(schema_from("[1]"), "adapter schema literal");
}

TEST(Registry, UnknownTypeListsTheKnownOnes) {
  Registry r;
  r.add(AdapterType{"stripe", Kind::payment, "", "", {}, nullptr});
  r.add(AdapterType{"printful", Kind::fulfillment, "", "", {}, nullptr});
  EXPECT_EQ(r.names(), "stripe, printful");
  EXPECT_EQ(r.all().size(), 2u);
  EXPECT_NE(r.find("printful"), nullptr);
  EXPECT_EQ(r.find("Printful"), nullptr);
  AdapterServices services;
  auto made = r.create(AdapterConfig{"x", "paypal", true, "", {}, {}}, services);
  ASSERT_FALSE(made.has_value());
  EXPECT_EQ(made.error().param, "type");
  EXPECT_THAT(made.error().message, HasSubstr("stripe, printful"));
}

TEST(Registry, ValidatesCredentialsAndSettingsBeforeCreating) {
  Registry r;
  int created = 0;
  AdapterType t{"stripe", Kind::payment, "", "", {}, nullptr};
  t.schema = {{"credentials", kCredentials}, {"settings", kSettings}};
  t.create = [&created](const AdapterConfig&,
                        AdapterServices&) -> Result<std::shared_ptr<Adapter>> {
    ++created;
    return std::shared_ptr<Adapter>();
  };
  r.add(t);
  AdapterServices services;
  AdapterConfig bad{"stripe-main", "stripe", true, "", {{"secret_key", "nope"}}, {}};
  auto made = r.create(bad, services);
  ASSERT_FALSE(made.has_value());
  EXPECT_EQ(made.error().param, "credentials.secret_key");
  AdapterConfig bad_settings{"stripe-main",   "stripe", true, "", {{"secret_key", "sk_test_abc"}},
                             {{"ratio", "x"}}};
  EXPECT_EQ(r.create(bad_settings, services).error().param, "settings.ratio");
  EXPECT_EQ(created, 0);
  AdapterConfig good{"stripe-main", "stripe", true, "", {{"secret_key", "sk_test_abc"}}, {}};
  EXPECT_TRUE(r.create(good, services).has_value());
  EXPECT_EQ(created, 1);
}

}  // namespace
}  // namespace mg::adapters
