#include "gateway/service/secret_box.hpp"

#include "gateway/core/crypto.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace mg::service {
namespace {

namespace bj = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;

std::string key_b64(char fill = 'k') { return core::base64_encode(std::string(32, fill)); }

SecretBox box(char fill = 'k') {
  auto b = SecretBox::from_base64(key_b64(fill));
  EXPECT_TRUE(b.has_value());
  return b ? *b : SecretBox{};
}

const bj::object kCredentials{{"secret_key", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"},
                              {"webhook_secret", "whsec_abcdefghijklmnop"}};

TEST(SecretBoxKey, MustBeThirtyTwoBytesOfBase64) {
  EXPECT_TRUE(SecretBox::from_base64(key_b64()).has_value());
  EXPECT_TRUE(box().has_key());
  for (std::string bad :
       {core::base64_encode(std::string(31, 'k')), core::base64_encode(std::string(33, 'k')),
        std::string("not base64!"), std::string()}) {
    auto b = SecretBox::from_base64(bad);
    ASSERT_FALSE(b.has_value()) << bad;
    EXPECT_EQ(b.error().param, "MERCHGATE_MASTER_KEY");
    EXPECT_THAT(b.error().message, Not(HasSubstr(bad.empty() ? "\x01" : bad)));
  }
  EXPECT_FALSE(SecretBox{}.has_key());
}

TEST(SecretBoxSeal, OpensWhatItSealed) {
  SecretBox b = box();
  auto sealed = b.seal(kCredentials, "stripe-main");
  ASSERT_TRUE(sealed.has_value());
  auto opened = b.open(*sealed, "stripe-main");
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  EXPECT_EQ(*opened, kCredentials);
}

TEST(SecretBoxSeal, CiphertextHidesThePlaintextAndIsFreshEachTime) {
  SecretBox b = box();
  auto one = b.seal(kCredentials, "stripe-main");
  auto two = b.seal(kCredentials, "stripe-main");
  ASSERT_TRUE(one.has_value());
  ASSERT_TRUE(two.has_value());
  EXPECT_NE(*one, *two);
  EXPECT_THAT(*one, Not(HasSubstr("sk_test_")));
  EXPECT_THAT(*one, Not(HasSubstr("4eC39HqLyjWDarjtT1zdp7dc")));
}

TEST(SecretBoxSeal, SealedBlobMovedToAnotherAdapterDoesNotOpen) {
  SecretBox b = box();
  auto sealed = b.seal(kCredentials, "stripe-main");
  ASSERT_TRUE(sealed.has_value());
  auto moved = b.open(*sealed, "stripe-other");
  ASSERT_FALSE(moved.has_value());
  EXPECT_EQ(moved.error().code, errc::unavailable);
  EXPECT_THAT(moved.error().message, HasSubstr("stripe-other"));
}

TEST(SecretBoxSeal, WrongKeyOrTamperedBlobDoesNotOpen) {
  auto sealed = box('k').seal(kCredentials, "stripe-main");
  ASSERT_TRUE(sealed.has_value());
  EXPECT_FALSE(box('j').open(*sealed, "stripe-main").has_value());
  for (std::size_t i : {std::size_t{0}, std::size_t{5}, sealed->size() / 2, sealed->size() - 1}) {
    std::string tampered = *sealed;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    auto r = box('k').open(tampered, "stripe-main");
    EXPECT_FALSE(r.has_value()) << "flipped byte " << i;
  }
  EXPECT_FALSE(box('k').open(sealed->substr(0, sealed->size() - 1), "stripe-main").has_value());
}

TEST(SecretBoxSeal, NoCredentialsNeedNoKey) {
  SecretBox none;
  auto sealed = none.seal(bj::object{}, "sandbox-pay");
  ASSERT_TRUE(sealed.has_value());
  EXPECT_EQ(*sealed, "");
  auto opened = none.open("", "sandbox-pay");
  ASSERT_TRUE(opened.has_value());
  EXPECT_TRUE(opened->empty());
}

TEST(SecretBoxSeal, WithoutAKeyCredentialsAreRefusedAndSaySo) {
  SecretBox none;
  auto sealed = none.seal(kCredentials, "stripe-main");
  ASSERT_FALSE(sealed.has_value());
  EXPECT_EQ(sealed.error().code, errc::unprocessable);
  EXPECT_EQ(sealed.error().param, "credentials");
  EXPECT_THAT(sealed.error().message, HasSubstr("MERCHGATE_MASTER_KEY"));

  auto real = box().seal(kCredentials, "stripe-main");
  ASSERT_TRUE(real.has_value());
  auto opened = none.open(*real, "stripe-main");
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code, errc::unavailable);
  EXPECT_THAT(opened.error().message, HasSubstr("MERCHGATE_MASTER_KEY"));
}

TEST(Redact, KeepsAKnownPrefixAndTheLastFour) {
  EXPECT_EQ(redact("sk_test_4eC39HqLyjWDarjtT1zdp7dc"), "sk_test_…p7dc");
  EXPECT_EQ(redact("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "whsec_…LaSw");
  EXPECT_EQ(redact("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), "…WXYZ");
}

TEST(Redact, ShortValuesAreFullyHidden) {
  EXPECT_EQ(redact(""), "…");
  EXPECT_EQ(redact("hunter2"), "…");
  EXPECT_EQ(redact("12345678901"), "…");
}

TEST(Redact, NeverShowsTheWholeSecret) {
  for (std::string_view secret : {"sandbox_key1", "abcdefgh_xyz", "sk_live_abcd", "whsec_123456",
                                  "pk_test_1234567", "abcdefghijkl"}) {
    std::string shown = redact(secret);
    std::string visible;
    for (char c : shown) {
      if (static_cast<unsigned char>(c) < 0x80) visible += c;
    }
    // At least half of a short secret stays hidden.
    EXPECT_LE(visible.size() * 2, secret.size()) << secret << " -> " << shown;
  }
}

TEST(RedactAll, RedactsEveryValueAndKeepsTheKeys) {
  bj::object in{{"secret_key", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"},
                {"pin", "1234"},
                {"nested", bj::object{{"a", "b"}}},
                {"port", 443}};
  bj::object out = redact_all(in);
  EXPECT_EQ(out.size(), 4u);
  EXPECT_EQ(out.at("secret_key").as_string(), "sk_test_…p7dc");
  EXPECT_EQ(out.at("pin").as_string(), "…");
  EXPECT_EQ(out.at("nested").as_string(), "…");
  EXPECT_EQ(out.at("port").as_string(), "…");
}

}  // namespace
}  // namespace mg::service
