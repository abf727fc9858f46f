#include "webhooks/signature/standard_webhooks.hpp"

#include "gateway/core/crypto.hpp"

#include <gtest/gtest.h>

namespace mg::webhooks {
namespace {

// The published vector of the reference implementation's "sign function works" test:
// standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts
// (commit 10d3e46d720c4e5861a792bec25792a04ad4e2b3).
constexpr std::string_view kSpecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kSpecMsgId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::int64_t kSpecTimestamp = 1614265330;
constexpr std::string_view kSpecPayload = R"({"test": 2432232314})";
constexpr std::string_view kSpecSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

std::string spec_key() { return secret_key(kSpecSecret).value(); }

std::string other_key() { return secret_key(generate_secret()).value(); }

Result<void> verify_at(const std::vector<std::string>& keys, std::string_view timestamp,
                       std::string_view signature, std::string_view body, std::int64_t now) {
  return verify(keys, kSpecMsgId, timestamp, signature, body, now);
}

TEST(StandardWebhooks, SignsThePublishedTestVector) {
  EXPECT_EQ(sign(spec_key(), kSpecMsgId, kSpecTimestamp, kSpecPayload), kSpecSignature);
}

TEST(StandardWebhooks, VerifiesThePublishedTestVector) {
  auto r = verify_at({spec_key()}, "1614265330", kSpecSignature, kSpecPayload, kSpecTimestamp);
  EXPECT_TRUE(r.has_value()) << r.error().message;
}

TEST(StandardWebhooks, SecretKeyDecodesTheBase64AfterThePrefix) {
  auto key = secret_key(kSpecSecret);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(*key, core::base64_decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").value());
  EXPECT_EQ(key->size(), 24u);
}

TEST(StandardWebhooks, GeneratedSecretsAreValidAndDistinct) {
  const std::string a = generate_secret();
  EXPECT_TRUE(a.starts_with("whsec_"));
  auto key = secret_key(a);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->size(), 32u);
  EXPECT_NE(a, generate_secret());
}

TEST(StandardWebhooks, RejectsSecretWithoutPrefix) {
  auto r = secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_field);
  EXPECT_EQ(r.error().param, "webhook_secret");
  EXPECT_FALSE(secret_key("WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").has_value());
}

TEST(StandardWebhooks, RejectsSecretWithInvalidBase64) {
  auto r = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La!aSw");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_field);
  EXPECT_EQ(r.error().param, "webhook_secret");
}

TEST(StandardWebhooks, RejectsSecretShorterThanTwentyFourBytes) {
  const std::string short_secret = "whsec_" + core::base64_encode(std::string(23, 'k'));
  auto r = secret_key(short_secret);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_field);
  EXPECT_EQ(r.error().param, "webhook_secret");
  EXPECT_FALSE(secret_key("whsec_").has_value());
  EXPECT_TRUE(secret_key("whsec_" + core::base64_encode(std::string(24, 'k'))).has_value());
}

TEST(StandardWebhooks, SignatureHeaderSignsWithEveryKey) {
  const std::string key = spec_key();
  const std::string other = other_key();
  EXPECT_EQ(
      signature_header({other, key}, kSpecMsgId, kSpecTimestamp, kSpecPayload),
      sign(other, kSpecMsgId, kSpecTimestamp, kSpecPayload) + " " + std::string(kSpecSignature));
}

TEST(StandardWebhooks, AcceptsRotationHeaderWhereOnlyTheSecondSignatureMatches) {
  const std::string header =
      signature_header({other_key(), spec_key()}, kSpecMsgId, kSpecTimestamp, kSpecPayload);
  auto r = verify_at({spec_key()}, "1614265330", header, kSpecPayload, kSpecTimestamp);
  EXPECT_TRUE(r.has_value()) << r.error().message;
}

TEST(StandardWebhooks, AcceptsWhenAnyOfSeveralKeysMatches) {
  auto r = verify_at({other_key(), spec_key()}, "1614265330", kSpecSignature, kSpecPayload,
                     kSpecTimestamp);
  EXPECT_TRUE(r.has_value()) << r.error().message;
}

TEST(StandardWebhooks, RejectsTamperedBody) {
  auto r = verify_at({spec_key()}, "1614265330", kSpecSignature, R"({"test": 2432232315})",
                     kSpecTimestamp);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_signature);
}

TEST(StandardWebhooks, RejectsTamperedIdOrTimestamp) {
  auto wrong_id =
      verify({spec_key()}, "msg_other", "1614265330", kSpecSignature, kSpecPayload, kSpecTimestamp);
  ASSERT_FALSE(wrong_id.has_value());
  EXPECT_EQ(wrong_id.error().code, errc::invalid_signature);
  auto wrong_ts =
      verify_at({spec_key()}, "1614265331", kSpecSignature, kSpecPayload, kSpecTimestamp);
  ASSERT_FALSE(wrong_ts.has_value());
  EXPECT_EQ(wrong_ts.error().code, errc::invalid_signature);
}

TEST(StandardWebhooks, RejectsSignatureMadeWithAnotherSecret) {
  auto r = verify_at({other_key()}, "1614265330", kSpecSignature, kSpecPayload, kSpecTimestamp);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_signature);
  auto none = verify_at({}, "1614265330", kSpecSignature, kSpecPayload, kSpecTimestamp);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, errc::invalid_signature);
}

TEST(StandardWebhooks, AcceptsTimestampAtTheToleranceEdges) {
  for (std::int64_t now : {kSpecTimestamp - 300, kSpecTimestamp + 300}) {
    auto r = verify_at({spec_key()}, "1614265330", kSpecSignature, kSpecPayload, now);
    EXPECT_TRUE(r.has_value()) << now;
  }
}

TEST(StandardWebhooks, RejectsStaleTimestamp) {
  auto r = verify_at({spec_key()}, "1614265330", kSpecSignature, kSpecPayload,
                     kSpecTimestamp + kDefaultToleranceSeconds + 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::stale_timestamp);
}

TEST(StandardWebhooks, RejectsFutureTimestamp) {
  auto r = verify_at({spec_key()}, "1614265330", kSpecSignature, kSpecPayload,
                     kSpecTimestamp - kDefaultToleranceSeconds - 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::stale_timestamp);
}

TEST(StandardWebhooks, HonoursCustomTolerance) {
  auto r = verify({spec_key()}, kSpecMsgId, "1614265330", kSpecSignature, kSpecPayload,
                  kSpecTimestamp + 11, 10);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::stale_timestamp);
  EXPECT_TRUE(verify({spec_key()}, kSpecMsgId, "1614265330", kSpecSignature, kSpecPayload,
                     kSpecTimestamp + 10, 10)
                  .has_value());
}

TEST(StandardWebhooks, RejectsExtremeTimestampsWithoutOverflow) {
  for (std::string_view ts : {"-9223372036854775808", "9223372036854775807"}) {
    auto r = verify_at({spec_key()}, ts, kSpecSignature, kSpecPayload, kSpecTimestamp);
    ASSERT_FALSE(r.has_value()) << ts;
    EXPECT_EQ(r.error().code, errc::stale_timestamp) << ts;
  }
}

TEST(StandardWebhooks, RejectsNonIntegerTimestamp) {
  for (std::string_view ts : {"hello", "", "1614265330.0", " 1614265330", "1614265330 ",
                              "+1614265330", "1.6e9", "99999999999999999999"}) {
    auto r = verify_at({spec_key()}, ts, kSpecSignature, kSpecPayload, kSpecTimestamp);
    ASSERT_FALSE(r.has_value()) << ts;
    EXPECT_EQ(r.error().code, errc::invalid_signature) << ts;
    EXPECT_EQ(r.error().message, "webhook-timestamp is not an integer") << ts;
  }
}

TEST(StandardWebhooks, IgnoresEntriesWhoseVersionIsNotV1) {
  const std::string_view base64 = kSpecSignature.substr(3);
  for (std::string prefix : {"v1a,", "v2,", "V1,", ",", ""}) {
    auto r = verify_at({spec_key()}, "1614265330", prefix + std::string(base64), kSpecPayload,
                       kSpecTimestamp);
    ASSERT_FALSE(r.has_value()) << prefix;
    EXPECT_EQ(r.error().code, errc::invalid_signature) << prefix;
  }
  const std::string mixed = "v1a," + std::string(base64) + " " + std::string(kSpecSignature);
  EXPECT_TRUE(
      verify_at({spec_key()}, "1614265330", mixed, kSpecPayload, kSpecTimestamp).has_value());
}

TEST(StandardWebhooks, RejectsEmptyOrPartialSignatures) {
  for (std::string_view header :
       {"", " ", "v1,", "v1,g0hM9SsE", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE"}) {
    auto r = verify_at({spec_key()}, "1614265330", header, kSpecPayload, kSpecTimestamp);
    ASSERT_FALSE(r.has_value()) << header;
    EXPECT_EQ(r.error().code, errc::invalid_signature) << header;
  }
}

TEST(StandardWebhooks, RejectsMissingWebhookId) {
  auto r = verify({spec_key()}, "", "1614265330", kSpecSignature, kSpecPayload, kSpecTimestamp);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_signature);
}

}  // namespace
}  // namespace mg::webhooks
