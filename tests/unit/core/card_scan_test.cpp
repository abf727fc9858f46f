#include "gateway/core/card_scan.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

namespace mg::core {
namespace {

std::optional<std::string> scan(std::string_view json) {
  return find_card_data(boost::json::parse(json));
}

TEST(LooksLikeCardNumber, DetectsTestPans) {
  EXPECT_TRUE(looks_like_card_number("4242424242424242"));
  EXPECT_TRUE(looks_like_card_number("5555555555554444"));
  EXPECT_TRUE(looks_like_card_number("378282246310005"));  // Amex, 15 digits
  EXPECT_TRUE(looks_like_card_number("6011111111111117"));
}

TEST(LooksLikeCardNumber, DetectsGroupsSeparatedBySpacesOrDashes) {
  EXPECT_TRUE(looks_like_card_number("4242 4242 4242 4242"));
  EXPECT_TRUE(looks_like_card_number("4242-4242-4242-4242"));
  EXPECT_TRUE(looks_like_card_number("3782 822463 10005"));
  EXPECT_TRUE(looks_like_card_number("4242 4242-4242 4242"));
}

TEST(LooksLikeCardNumber, DetectsPanInsideText) {
  EXPECT_TRUE(looks_like_card_number("my card is 4242 4242 4242 4242, thanks"));
  EXPECT_TRUE(looks_like_card_number("pan:4242424242424242."));
}

TEST(LooksLikeCardNumber, TreatsNonLuhnSixteenDigitsAsClean) {
  EXPECT_FALSE(looks_like_card_number("4242424242424241"));
  EXPECT_FALSE(looks_like_card_number("4242 4242 4242 4241"));
}

TEST(LooksLikeCardNumber, TreatsPhoneNumbersAsClean) {
  EXPECT_FALSE(looks_like_card_number("+1 415-555-2671"));
  EXPECT_FALSE(looks_like_card_number("+44 20 7946 0958"));
  EXPECT_FALSE(looks_like_card_number("+39 06 6982 1234"));
  EXPECT_FALSE(looks_like_card_number("(415) 555-2671"));
}

TEST(LooksLikeCardNumber, RequiresThirteenToNineteenDigits) {
  // Both runs pass Luhn: only their length makes them clean.
  EXPECT_FALSE(looks_like_card_number("424242424242"));          // 12 digits
  EXPECT_FALSE(looks_like_card_number("42424242424242424242"));  // 20 digits
  EXPECT_TRUE(looks_like_card_number("9999999999999999998"));    // 19 digits, Luhn-valid
}

TEST(LooksLikeCardNumber, DoesNotJoinGroupsAcrossDoubleSeparators) {
  // Each group of four is its own run, far below 13 digits.
  EXPECT_FALSE(looks_like_card_number("4242  4242  4242  4242"));
  EXPECT_FALSE(looks_like_card_number("4242 / 4242 / 4242 / 4242"));
}

TEST(LooksLikeCardNumber, TreatsOrdinaryTextAsClean) {
  EXPECT_FALSE(looks_like_card_number(""));
  EXPECT_FALSE(looks_like_card_number("Blue T-shirt, size M"));
  EXPECT_FALSE(looks_like_card_number("order 2024-000123"));
  EXPECT_FALSE(looks_like_card_number("2024-06-01T12:00:00Z"));
}

TEST(FindCardData, ReturnsNulloptForCleanDocument) {
  EXPECT_EQ(scan(R"({"lines":[{"sku":"TSHIRT-M","quantity":2}],"metadata":{"note":"gift"},
                    "phone":"+1 415-555-2671","amount":2599,"ok":true,"nothing":null})"),
            std::nullopt);
}

TEST(FindCardData, ReportsPathOfNestedString) {
  EXPECT_EQ(scan(R"({"metadata":{"note":"4242424242424242"}})"), "metadata.note");
  EXPECT_EQ(scan(R"({"lines":[{"sku":"A"},{"sku":"4242-4242-4242-4242"}]})"), "lines[1].sku");
  EXPECT_EQ(scan(R"({"a":{"b":[0,{"c":["x","4242 4242 4242 4242"]}]}})"), "a.b[1].c[1]");
}

TEST(FindCardData, ReportsTopLevelKeyAlone) {
  EXPECT_EQ(scan(R"({"note":"378282246310005"})"), "note");
}

TEST(FindCardData, ReportsTopLevelArrayIndex) {
  EXPECT_EQ(scan(R"([{"a":1},"4242424242424242"])"), "[1]");
}

TEST(FindCardData, ReportsFirstMatchInDocumentOrder) {
  EXPECT_EQ(scan(R"({"x":"clean","y":"4242424242424242","z":"5555555555554444"})"), "y");
}

TEST(FindCardData, DetectsIntegerPan) {
  EXPECT_EQ(scan(R"({"ref":4242424242424242})"), "ref");
  EXPECT_EQ(scan(R"({"ref":9999999999999999998})"), "ref");  // above INT64_MAX: uint64
  EXPECT_EQ(scan(R"({"ref":4242424242424241})"), std::nullopt);
}

TEST(FindCardData, DetectsCardKeysCaseInsensitively) {
  EXPECT_EQ(scan(R"({"card_number":"x"})"), "card_number");
  EXPECT_EQ(scan(R"({"payment":{"CVC":"123"}})"), "payment.CVC");
  EXPECT_EQ(scan(R"({"payment":{"Cvv2":null}})"), "payment.Cvv2");
  EXPECT_EQ(scan(R"({"p":[{"security_code":1}]})"), "p[0].security_code");
  EXPECT_EQ(scan(R"({"PAN":"x"})"), "PAN");
  EXPECT_EQ(scan(R"({"exp_month":12})"), "exp_month");
  EXPECT_EQ(scan(R"({"cardNumber":"x"})"), "cardNumber");
}

TEST(FindCardData, ReportsCardObjectBeforeItsContents) {
  EXPECT_EQ(scan(R"({"source":{"card":{"number":"4242424242424242","cvc":"123"}}})"),
            "source.card");
}

TEST(FindCardData, IgnoresKeysThatOnlyContainCardWords) {
  EXPECT_EQ(scan(R"({"gift_card_message":"hi","card_design":"red","panel":1})"), std::nullopt);
}

TEST(FindCardData, DetectsKeyThatLooksLikeCardNumberWithoutEchoingIt) {
  EXPECT_EQ(scan(R"({"metadata":{"4242424242424242":"x"}})"), "metadata.************4242");
  EXPECT_EQ(scan(R"({"4242-4242-4242-4242":1})"), "****-****-****-4242");
}

}  // namespace
}  // namespace mg::core
