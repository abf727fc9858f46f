#include "gateway/core/money.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <numeric>

namespace mg::core {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

std::int64_t sum(const std::vector<std::int64_t>& v) {
  return std::accumulate(v.begin(), v.end(), std::int64_t{0});
}

TEST(FindCurrency, FindsTwoDecimalCurrencies) {
  auto eur = find_currency("EUR");
  ASSERT_TRUE(eur.has_value());
  EXPECT_EQ(eur->code, "EUR");
  EXPECT_EQ(eur->exponent, 2);
  ASSERT_TRUE(find_currency("USD").has_value());
  EXPECT_EQ(find_currency("USD")->exponent, 2);
}

TEST(FindCurrency, KnowsZeroThreeAndFourDecimalCurrencies) {
  EXPECT_EQ(find_currency("JPY").value().exponent, 0);
  EXPECT_EQ(find_currency("KRW").value().exponent, 0);
  EXPECT_EQ(find_currency("XOF").value().exponent, 0);
  EXPECT_EQ(find_currency("KWD").value().exponent, 3);
  EXPECT_EQ(find_currency("BHD").value().exponent, 3);
  EXPECT_EQ(find_currency("TND").value().exponent, 3);
  EXPECT_EQ(find_currency("CLF").value().exponent, 4);
  EXPECT_EQ(find_currency("UYW").value().exponent, 4);
}

TEST(FindCurrency, FindsFirstAndLastCodesOfTheTable) {
  EXPECT_TRUE(find_currency("AED").has_value());
  EXPECT_TRUE(find_currency("ZWG").has_value());
}

TEST(FindCurrency, RejectsLowerAndMixedCase) {
  EXPECT_FALSE(find_currency("eur").has_value());
  EXPECT_FALSE(find_currency("Eur").has_value());
  EXPECT_FALSE(find_currency("jpy").has_value());
}

TEST(FindCurrency, RejectsUnknownAndMalformedCodes) {
  EXPECT_FALSE(find_currency("ABC").has_value());
  EXPECT_FALSE(find_currency("").has_value());
  EXPECT_FALSE(find_currency("EU").has_value());
  EXPECT_FALSE(find_currency("EURO").has_value());
  EXPECT_FALSE(find_currency("EUR ").has_value());
}

TEST(FindCurrency, RejectsCodesWithoutMinorUnitAndWithdrawnCodes) {
  EXPECT_FALSE(find_currency("XAU").has_value());
  EXPECT_FALSE(find_currency("XTS").has_value());
  EXPECT_FALSE(find_currency("XXX").has_value());
  EXPECT_FALSE(find_currency("XDR").has_value());
  EXPECT_FALSE(find_currency("HRK").has_value());
  EXPECT_FALSE(find_currency("DEM").has_value());
}

TEST(CheckedAdd, AddsNonNegativeAmounts) {
  EXPECT_EQ(checked_add(2, 3), 5);
  EXPECT_EQ(checked_add(0, 0), 0);
  EXPECT_EQ(checked_add(kMax - 1, 1), kMax);
}

TEST(CheckedAdd, RejectsOverflowAtInt64Max) {
  EXPECT_FALSE(checked_add(kMax, 1).has_value());
  EXPECT_FALSE(checked_add(kMax, kMax).has_value());
}

TEST(CheckedAdd, RejectsNegativeInputs) {
  EXPECT_FALSE(checked_add(-1, 5).has_value());
  EXPECT_FALSE(checked_add(5, -1).has_value());
}

TEST(CheckedMul, MultipliesNonNegativeAmounts) {
  EXPECT_EQ(checked_mul(2599, 3), 7797);
  EXPECT_EQ(checked_mul(kMax, 1), kMax);
  EXPECT_EQ(checked_mul(kMax, 0), 0);
}

TEST(CheckedMul, RejectsOverflowAtInt64Max) {
  EXPECT_FALSE(checked_mul(kMax, 2).has_value());
  EXPECT_FALSE(checked_mul(kMax / 2 + 1, 2).has_value());
  EXPECT_FALSE(checked_mul(std::int64_t{1} << 32, std::int64_t{1} << 31).has_value());
}

TEST(CheckedMul, RejectsNegativeInputs) {
  EXPECT_FALSE(checked_mul(-2, 3).has_value());
  EXPECT_FALSE(checked_mul(3, -2).has_value());
  EXPECT_FALSE(checked_mul(-2, -3).has_value());
}

TEST(BasisPointsOf, ComputesExactShares) {
  EXPECT_EQ(basis_points_of(10'000, 250), 250);
  EXPECT_EQ(basis_points_of(2599, 10'000), 2599);
  EXPECT_EQ(basis_points_of(2599, 0), 0);
}

TEST(BasisPointsOf, RoundsHalfUp) {
  EXPECT_EQ(basis_points_of(1, 5'000), 1);   // 0.5 -> 1
  EXPECT_EQ(basis_points_of(3, 5'000), 2);   // 1.5 -> 2
  EXPECT_EQ(basis_points_of(1, 4'999), 0);   // 0.4999 -> 0
  EXPECT_EQ(basis_points_of(999, 150), 15);  // 14.985 -> 15
  EXPECT_EQ(basis_points_of(1'001, 50), 5);  // 5.005 -> 5
}

TEST(BasisPointsOf, DoesNotOverflowOnLargeAmounts) {
  EXPECT_EQ(basis_points_of(kMax, 10'000), kMax);
  EXPECT_EQ(basis_points_of(kMax, 5'000), kMax / 2 + 1);  // x.5 rounds up
}

TEST(BasisPointsOf, RejectsBasisPointsOutOfRangeAndNegativeAmounts) {
  EXPECT_FALSE(basis_points_of(100, -1).has_value());
  EXPECT_FALSE(basis_points_of(100, 10'001).has_value());
  EXPECT_FALSE(basis_points_of(-100, 100).has_value());
}

TEST(AllocateProportionally, SplitsProportionally) {
  EXPECT_EQ(allocate_proportionally(1'000, {1, 3}), (std::vector<std::int64_t>{250, 750}));
  EXPECT_EQ(allocate_proportionally(101, {1'000, 3'000}), (std::vector<std::int64_t>{25, 76}));
  EXPECT_EQ(allocate_proportionally(500, {0, 7}), (std::vector<std::int64_t>{0, 500}));
}

TEST(AllocateProportionally, BreaksRemainderTiesByLowerIndex) {
  EXPECT_EQ(allocate_proportionally(100, {1, 1, 1}), (std::vector<std::int64_t>{34, 33, 33}));
  EXPECT_EQ(allocate_proportionally(2, {1, 1, 1}), (std::vector<std::int64_t>{1, 1, 0}));
}

TEST(AllocateProportionally, GivesLeftoverToLargestRemainderFirst) {
  // 7 split 2:3:5 is 1.4, 2.1, 3.5: the floors leave one unit, which goes to the .5 remainder.
  EXPECT_EQ(allocate_proportionally(7, {2, 3, 5}), (std::vector<std::int64_t>{1, 2, 4}));
}

TEST(AllocateProportionally, PartsAlwaysSumToTotal) {
  const std::vector<std::vector<std::int64_t>> weight_sets = {
      {1}, {1, 1, 1}, {3, 7, 11, 13}, {1, 0, 0, 2}, {999'999, 1, 1}, {5, 5, 5, 5, 5, 5, 5}};
  for (std::int64_t total : {std::int64_t{0}, std::int64_t{1}, std::int64_t{99},
                             std::int64_t{12'345}, kMaxCheckoutAmount}) {
    for (const auto& weights : weight_sets) {
      auto parts = allocate_proportionally(total, weights);
      ASSERT_EQ(parts.size(), weights.size());
      EXPECT_EQ(sum(parts), total);
    }
  }
}

TEST(AllocateProportionally, UsesWideIntermediatesForHugeValues) {
  auto parts = allocate_proportionally(kMax, {kMax, kMax});
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], kMax / 2 + 1);
  EXPECT_EQ(parts[1], kMax / 2);
  auto uneven = allocate_proportionally(kMax, {kMax, 1, kMax - 1});
  ASSERT_EQ(uneven.size(), 3u);
  EXPECT_EQ(uneven[0] + uneven[1] + uneven[2], kMax);  // no signed overflow on the way
  EXPECT_EQ(uneven[1], 0);
}

TEST(AllocateProportionally, ReturnsEmptyForEmptyOrZeroWeights) {
  EXPECT_TRUE(allocate_proportionally(100, {}).empty());
  EXPECT_TRUE(allocate_proportionally(100, {0, 0}).empty());
}

TEST(AllocateProportionally, ReturnsEmptyForNegativeInputs) {
  EXPECT_TRUE(allocate_proportionally(-100, {1, 1}).empty());
  EXPECT_TRUE(allocate_proportionally(100, {2, -1}).empty());
}

TEST(FormatAmount, PrintsMinorUnitsWithTheCurrencyExponent) {
  EXPECT_EQ(format_amount(2599, *find_currency("EUR")), "25.99 EUR");
  EXPECT_EQ(format_amount(2599, *find_currency("JPY")), "2599 JPY");
  EXPECT_EQ(format_amount(1234, *find_currency("KWD")), "1.234 KWD");
  EXPECT_EQ(format_amount(12345, *find_currency("CLF")), "1.2345 CLF");
}

TEST(FormatAmount, PadsTheFractionWithZeros) {
  EXPECT_EQ(format_amount(5, *find_currency("EUR")), "0.05 EUR");
  EXPECT_EQ(format_amount(0, *find_currency("EUR")), "0.00 EUR");
  EXPECT_EQ(format_amount(1000, *find_currency("USD")), "10.00 USD");
  EXPECT_EQ(format_amount(7, *find_currency("KWD")), "0.007 KWD");
}

TEST(FormatAmount, PrintsNegativeAmountsWithLeadingMinus) {
  EXPECT_EQ(format_amount(-2599, *find_currency("EUR")), "-25.99 EUR");
  EXPECT_EQ(format_amount(-5, *find_currency("EUR")), "-0.05 EUR");
  EXPECT_EQ(format_amount(-42, *find_currency("JPY")), "-42 JPY");
  EXPECT_EQ(format_amount(std::numeric_limits<std::int64_t>::min(), *find_currency("EUR")),
            "-92233720368547758.08 EUR");
}

}  // namespace
}  // namespace mg::core
