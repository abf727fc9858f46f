#include "gateway/core/country.hpp"

#include <array>
#include <cstdint>

namespace mg::core {
namespace {

// The 249 officially assigned ISO 3166-1 alpha-2 codes (as in Debian's iso-codes and tzdata's
// iso3166.tab). User-assigned and reserved codes (XK, EU, UK...) are not countries here.
// clang-format off
constexpr std::array<std::string_view, 249> kCountries = {
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ",
    "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW",
    "CX", "CY", "CZ",
    "DE", "DJ", "DK", "DM", "DO", "DZ",
    "EC", "EE", "EG", "EH", "ER", "ES", "ET",
    "FI", "FJ", "FK", "FM", "FO", "FR",
    "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT",
    "GU", "GW", "GY",
    "HK", "HM", "HN", "HR", "HT", "HU",
    "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT",
    "JE", "JM", "JO", "JP",
    "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ",
    "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY",
    "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS",
    "MT", "MU", "MV", "MW", "MX", "MY", "MZ",
    "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ",
    "OM",
    "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY",
    "QA",
    "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ",
    "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ",
    "UA", "UG", "UM", "US", "UY", "UZ",
    "VA", "VC", "VE", "VG", "VI", "VN", "VU",
    "WF", "WS",
    "YE", "YT",
    "ZA", "ZM", "ZW",
};
// clang-format on

constexpr bool is_upper_pair(std::string_view code) {
  return code.size() == 2 && code[0] >= 'A' && code[0] <= 'Z' && code[1] >= 'A' && code[1] <= 'Z';
}

constexpr std::size_t slot(std::string_view code) {
  return static_cast<std::size_t>(code[0] - 'A') * 26 + static_cast<std::size_t>(code[1] - 'A');
}

// A 26x26 bitmap built at compile time: the lookup is two range checks and one bit test.
using Bitmap = std::array<std::uint64_t, (26 * 26 + 63) / 64>;
constexpr Bitmap kAssigned = [] {
  Bitmap bits{};
  for (std::string_view code : kCountries)
    bits[slot(code) / 64] |= std::uint64_t{1} << (slot(code) % 64);
  return bits;
}();

constexpr bool well_formed_and_unique() {
  for (std::size_t i = 0; i < kCountries.size(); ++i) {
    if (!is_upper_pair(kCountries[i])) return false;
    if (i > 0 && !(kCountries[i - 1] < kCountries[i])) return false;
  }
  return true;
}
static_assert(well_formed_and_unique(), "kCountries must be sorted, unique, upper-case pairs");

}  // namespace

bool is_country_code(std::string_view code) noexcept {
  return is_upper_pair(code) && (kAssigned[slot(code) / 64] >> (slot(code) % 64) & 1) != 0;
}

}  // namespace mg::core
