#include "gateway/core/money.hpp"

#include <algorithm>
#include <numeric>

namespace mg::core {

std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t out = 0;
  if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &out)) return std::nullopt;
  return out;
}

std::optional<std::int64_t> checked_mul(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t out = 0;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

std::optional<std::int64_t> basis_points_of(std::int64_t amount, std::int64_t bps) noexcept {
  // Amounts are minor units and never negative; "half up" is then unambiguous.
  if (amount < 0 || bps < 0 || bps > 10'000) return std::nullopt;
  // The 128-bit product cannot overflow, and the result is at most `amount`.
  const __int128 product = static_cast<__int128>(amount) * bps;
  return static_cast<std::int64_t>((product + 5'000) / 10'000);
}

std::vector<std::int64_t> allocate_proportionally(std::int64_t total,
                                                  const std::vector<std::int64_t>& weights) {
  if (total < 0) return {};
  __int128 weight_sum = 0;
  for (std::int64_t w : weights) {
    if (w < 0) return {};
    weight_sum += w;  // at most size() * 2^63: far from the 128-bit limit
  }
  if (weight_sum == 0) return {};

  std::vector<std::int64_t> parts(weights.size());
  std::vector<__int128> remainders(weights.size());
  std::int64_t allocated = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const __int128 scaled = static_cast<__int128>(total) * weights[i];
    parts[i] = static_cast<std::int64_t>(scaled / weight_sum);  // <= total
    remainders[i] = scaled % weight_sum;
    allocated += parts[i];  // the floors sum to at most `total`
  }

  // Fewer units are left than there are non-zero remainders, so a zero weight never gets one.
  std::int64_t left = total - allocated;
  std::vector<std::size_t> order(weights.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return remainders[a] > remainders[b]; });
  for (std::size_t i = 0; left > 0; ++i, --left) ++parts[order[i]];
  return parts;
}

std::string format_amount(std::int64_t minor, const Currency& currency) {
  // Unsigned magnitude so that INT64_MIN prints too.
  const std::uint64_t magnitude =
      minor < 0 ? 0 - static_cast<std::uint64_t>(minor) : static_cast<std::uint64_t>(minor);
  const int exponent = std::clamp(currency.exponent, 0, 18);
  std::uint64_t scale = 1;
  for (int i = 0; i < exponent; ++i) scale *= 10;

  std::string out;
  if (minor < 0) out += '-';
  out += std::to_string(magnitude / scale);
  if (exponent > 0) {
    std::string fraction = std::to_string(magnitude % scale);
    out += '.';
    out.append(static_cast<std::size_t>(exponent) - fraction.size(), '0');
    out += fraction;
  }
  out += ' ';
  out += currency.code;
  return out;
}

}  // namespace mg::core
