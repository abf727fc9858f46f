#include "gateway/core/country.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mg::core {
namespace {

TEST(IsCountryCode, AcceptsAssignedCodes) {
  for (const char* code : {"IT", "US", "DE", "GB", "JP", "AD", "ZW", "AQ", "SS", "CW", "BQ"}) {
    EXPECT_TRUE(is_country_code(code)) << code;
  }
}

TEST(IsCountryCode, AcceptsExactlyTheTwoHundredFortyNineAssignedCodes) {
  int assigned = 0;
  std::string code = "AA";
  for (char a = 'A'; a <= 'Z'; ++a) {
    for (char b = 'A'; b <= 'Z'; ++b) {
      code[0] = a;
      code[1] = b;
      assigned += is_country_code(code) ? 1 : 0;
    }
  }
  EXPECT_EQ(assigned, 249);
}

TEST(IsCountryCode, RejectsLowerAndMixedCase) {
  EXPECT_FALSE(is_country_code("it"));
  EXPECT_FALSE(is_country_code("It"));
  EXPECT_FALSE(is_country_code("uS"));
}

TEST(IsCountryCode, RejectsReservedAndUserAssignedCodes) {
  for (const char* code : {"UK", "EU", "XK", "AN", "YU", "ZZ", "AA", "QM", "XA"}) {
    EXPECT_FALSE(is_country_code(code)) << code;
  }
}

TEST(IsCountryCode, RejectsMalformedInput) {
  EXPECT_FALSE(is_country_code(""));
  EXPECT_FALSE(is_country_code("I"));
  EXPECT_FALSE(is_country_code("ITA"));
  EXPECT_FALSE(is_country_code("1T"));
  EXPECT_FALSE(is_country_code("I "));
  EXPECT_FALSE(is_country_code("@A"));
  EXPECT_FALSE(is_country_code("A["));
}

}  // namespace
}  // namespace mg::core
