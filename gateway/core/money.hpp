#pragma once
// Money in minor units with ISO 4217 currencies, and overflow-checked arithmetic.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mg::core {

// An active ISO 4217 currency: its upper-case alphabetic code and the number of decimals of its
// minor unit (JPY 0, EUR 2, KWD 3, CLF 4).
struct Currency {
  std::string_view code;
  int exponent = 2;
};

// Looks up an active ISO 4217 code; exact match on upper case ("eur" is not a currency here).
std::optional<Currency> find_currency(std::string_view code) noexcept;

// The largest amount merchgate accepts for one checkout (CONTRACT §2).
inline constexpr std::int64_t kMaxCheckoutAmount = 99'999'999;
inline constexpr std::int64_t kMaxLineQuantity = 10'000;

// Overflow-checked arithmetic on minor units: nullopt on overflow or negative inputs.
std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b) noexcept;
std::optional<std::int64_t> checked_mul(std::int64_t a, std::int64_t b) noexcept;

// `amount * bps / 10000`, rounded half up; nullopt on overflow or bps outside 0..10000.
std::optional<std::int64_t> basis_points_of(std::int64_t amount, std::int64_t bps) noexcept;

// Splits `total` across `weights` proportionally (largest remainder), so the parts always sum to
// `total`. Used to give each fulfillment its share of shipping or of a refund.
// Empty result when weights are empty or all zero.
std::vector<std::int64_t> allocate_proportionally(std::int64_t total,
                                                  const std::vector<std::int64_t>& weights);

// "25.99 EUR", "2599 JPY": for logs and human messages only, never for the wire.
std::string format_amount(std::int64_t minor, const Currency& currency);

}  // namespace mg::core
