#include "gateway/core/crypto.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <set>
#include <string>

namespace mg::core {
namespace {

using namespace std::string_literals;

const std::string kKey(32, 'k');

bool all_alnum(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!ok) return false;
  }
  return true;
}

TEST(Sha256, MatchesKnownAnswerForAbc) {
  EXPECT_EQ(hex_encode(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, MatchesKnownAnswerForEmptyInput) {
  EXPECT_EQ(hex_encode(sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(HmacSha256, MatchesRfc4231TestCase2) {
  EXPECT_EQ(hex_encode(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// The context is reused per thread: each call must use its own key, whatever came before.
TEST(HmacSha256, SwitchesKeysBetweenCallsAndHashesLongAndEmptyKeys) {
  const std::string long_key(131, '\xaa');  // RFC 4231 test case 6: longer than a block
  const std::string case6 = "Test Using Larger Than Block-Size Key - Hash Key First";
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(hex_encode(hmac_sha256(long_key, case6)),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    EXPECT_EQ(hex_encode(hmac_sha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(hex_encode(hmac_sha256("", "")),
              "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  }
}

TEST(Hex, EncodesLowerCaseAndRoundTrips) {
  const std::string bytes = "\x00\x01\xab\xff"s;
  EXPECT_EQ(hex_encode(bytes), "0001abff");
  EXPECT_EQ(hex_decode("0001abff"), bytes);
  EXPECT_EQ(hex_decode("0001ABFF"), bytes);
  EXPECT_EQ(hex_decode(""), "");
}

TEST(Hex, RejectsOddLengthAndNonHexCharacters) {
  EXPECT_FALSE(hex_decode("abc").has_value());
  EXPECT_FALSE(hex_decode("zz").has_value());
  EXPECT_FALSE(hex_decode("0g").has_value());
  EXPECT_FALSE(hex_decode("0 ").has_value());
}

TEST(Base64, EncodesWithPaddingAndRoundTrips) {
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode(""), "");
  const std::string bytes = "\xff\xfe\x00\x01"s;
  EXPECT_EQ(base64_encode(bytes), "//4AAQ==");
  EXPECT_EQ(base64_decode("//4AAQ=="), bytes);
  for (std::size_t n = 0; n < 40; ++n) {
    const std::string data = random_bytes(n);
    EXPECT_EQ(base64_decode(base64_encode(data)), data) << n;
  }
}

TEST(Base64, AcceptsInputWithoutPadding) {
  EXPECT_EQ(base64_decode("Zm8"), "fo");
  EXPECT_EQ(base64_decode("Zg"), "f");
  EXPECT_EQ(base64_decode("//4AAQ"), "\xff\xfe\x00\x01"s);
}

TEST(Base64, RejectsInvalidInput) {
  EXPECT_FALSE(base64_decode("Zm9v!").has_value());
  EXPECT_FALSE(base64_decode("Zm 9v").has_value());
  EXPECT_FALSE(base64_decode("Z").has_value());      // one leftover character is never valid
  EXPECT_FALSE(base64_decode("Zg=a").has_value());   // data after padding
  EXPECT_FALSE(base64_decode("Zm8==").has_value());  // too much padding
  EXPECT_FALSE(base64_decode("Zm-_").has_value());   // URL-safe alphabet is not standard
}

TEST(Base64Url, UsesUrlSafeAlphabetWithoutPadding) {
  EXPECT_EQ(base64url_encode("\xfb\xff"s), "-_8");
  EXPECT_EQ(base64url_encode("f"), "Zg");
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_TRUE(constant_time_equal("a\0b"s, "a\0b"s));
  EXPECT_FALSE(constant_time_equal("a\0b"s, "a\0c"s));
}

TEST(Crc32, MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32(""), 0u);
}

TEST(Aes256Gcm, RoundTrips) {
  const std::string plaintext = "sk_live_secret \x00 bytes"s;
  const std::string sealed = aes256gcm_seal(kKey, plaintext, "adapter:stripe");
  EXPECT_EQ(sealed.size(), 2 + 12 + plaintext.size() + 16);
  EXPECT_EQ(sealed.substr(0, 2), "v1");
  EXPECT_EQ(aes256gcm_open(kKey, sealed, "adapter:stripe"), plaintext);
  EXPECT_EQ(aes256gcm_open(kKey, aes256gcm_seal(kKey, "", ""), ""), "");
}

TEST(Aes256Gcm, RejectsWrongKey) {
  const std::string sealed = aes256gcm_seal(kKey, "secret", "aad");
  EXPECT_EQ(aes256gcm_open(std::string(32, 'x'), sealed, "aad"), std::nullopt);
  EXPECT_EQ(aes256gcm_open(std::string(31, 'k'), sealed, "aad"), std::nullopt);
}

TEST(Aes256Gcm, RejectsWrongAad) {
  const std::string sealed = aes256gcm_seal(kKey, "secret", "adapter:stripe");
  EXPECT_EQ(aes256gcm_open(kKey, sealed, "adapter:paypal"), std::nullopt);
  EXPECT_EQ(aes256gcm_open(kKey, sealed, ""), std::nullopt);
}

TEST(Aes256Gcm, RejectsAnyTamperedByte) {
  const std::string sealed = aes256gcm_seal(kKey, "secret", "aad");
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    EXPECT_EQ(aes256gcm_open(kKey, tampered, "aad"), std::nullopt) << "byte " << i;
  }
}

TEST(Aes256Gcm, RejectsTruncatedInput) {
  const std::string sealed = aes256gcm_seal(kKey, "secret", "aad");
  EXPECT_EQ(aes256gcm_open(kKey, sealed.substr(0, sealed.size() - 1), "aad"), std::nullopt);
  EXPECT_EQ(aes256gcm_open(kKey, sealed.substr(0, 2 + 12 + 16 - 1), "aad"), std::nullopt);
  EXPECT_EQ(aes256gcm_open(kKey, "", "aad"), std::nullopt);
}

TEST(Aes256Gcm, TwoSealsOfTheSamePlaintextDiffer) {
  EXPECT_NE(aes256gcm_seal(kKey, "secret", "aad"), aes256gcm_seal(kKey, "secret", "aad"));
}

TEST(NewId, HasPrefixUnderscoreAndTwentyFourAlnumCharacters) {
  const std::string id = new_id("chk");
  ASSERT_EQ(id.size(), 4u + 24u);
  EXPECT_EQ(id.substr(0, 4), "chk_");
  EXPECT_TRUE(all_alnum(id.substr(4))) << id;
  EXPECT_NE(new_id("chk"), new_id("chk"));
}

TEST(NewId, LaterIdsSortAfterEarlierOnesSoIndexInsertsStayOnOnePage) {
  const std::string first = new_id("evt");
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  const std::string second = new_id("evt");
  EXPECT_LT(first, second);
  // The time part is the first 8 characters after the prefix; the rest stays random.
  EXPECT_NE(first.substr(12), second.substr(12));
}

TEST(RandomAlnum, ReturnsRequestedLengthOverTheAlnumCharset) {
  EXPECT_EQ(random_alnum(0), "");
  for (std::size_t n : {1u, 7u, 64u, 1000u}) {
    const std::string s = random_alnum(n);
    EXPECT_EQ(s.size(), n);
    EXPECT_TRUE(all_alnum(s)) << s;
  }
}

TEST(RandomAlnum, EventuallyUsesEveryCharacter) {
  // 62 symbols over 20,000 draws: missing one has probability around 62 * e^-322.
  const std::string s = random_alnum(20'000);
  EXPECT_EQ(std::set<char>(s.begin(), s.end()).size(), 62u);
}

TEST(RandomBytes, ReturnsRequestedLengthAndDiffers) {
  EXPECT_EQ(random_bytes(0).size(), 0u);
  EXPECT_EQ(random_bytes(32).size(), 32u);
  EXPECT_NE(random_bytes(32), random_bytes(32));
}

}  // namespace
}  // namespace mg::core
