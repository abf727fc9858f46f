#include "gateway/core/card_scan.hpp"

#include <array>

namespace mg::core {
namespace {

constexpr std::size_t kMinPanDigits = 13;
constexpr std::size_t kMaxPanDigits = 19;

// Keys that name card data, compared case-insensitively.
constexpr std::array<std::string_view, 11> kCardKeys = {
    "card_number", "cardnumber", "card",          "cvc",       "cvv",     "cvv2",
    "cvc2",        "pan",        "security_code", "exp_month", "exp_year"};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_separator(char c) { return c == ' ' || c == '-'; }

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

bool is_card_key(std::string_view key) {
  for (std::string_view k : kCardKeys) {
    if (iequals(key, k)) return true;
  }
  return false;
}

// Luhn over the digits of `run`, skipping its separators.
bool passes_luhn(std::string_view run) {
  int sum = 0;
  bool double_it = false;
  for (auto it = run.rbegin(); it != run.rend(); ++it) {
    if (!is_digit(*it)) continue;
    int d = *it - '0';
    if (double_it) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double_it = !double_it;
  }
  return sum % 10 == 0;
}

// A key that is itself a card number must not reach logs or error messages through the path.
std::string masked(std::string_view key) {
  std::size_t digits = 0;
  for (char c : key) digits += is_digit(c) ? 1 : 0;
  std::string out(key);
  for (char& c : out) {
    if (is_digit(c) && digits-- > 4) c = '*';
  }
  return out;
}

bool scalar_looks_like_card_number(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::string:
      return looks_like_card_number(v.get_string());
    case boost::json::kind::int64:
      return looks_like_card_number(std::to_string(v.get_int64()));
    case boost::json::kind::uint64:
      return looks_like_card_number(std::to_string(v.get_uint64()));
    default:
      return false;
  }
}

// Depth-first in document order; `path` holds the path of `v` and is restored before returning.
bool find_in(const boost::json::value& v, std::string& path) {
  if (const auto* object = v.if_object()) {
    for (const auto& entry : *object) {
      const std::size_t mark = path.size();
      if (!path.empty()) path += '.';
      if (looks_like_card_number(entry.key())) {
        path += masked(entry.key());
        return true;
      }
      path += entry.key();
      if (is_card_key(entry.key()) || find_in(entry.value(), path)) return true;
      path.resize(mark);
    }
    return false;
  }
  if (const auto* array = v.if_array()) {
    for (std::size_t i = 0; i < array->size(); ++i) {
      const std::size_t mark = path.size();
      path += '[';
      path += std::to_string(i);
      path += ']';
      if (find_in((*array)[i], path)) return true;
      path.resize(mark);
    }
    return false;
  }
  return scalar_looks_like_card_number(v);
}

}  // namespace

bool looks_like_card_number(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    if (!is_digit(text[i])) {
      ++i;
      continue;
    }
    // A maximal run: digits, each pair of groups joined by at most one space or dash.
    const std::size_t begin = i;
    std::size_t digits = 0;
    while (i < text.size()) {
      if (is_digit(text[i])) {
        ++digits;
        ++i;
      } else if (is_separator(text[i]) && i + 1 < text.size() && is_digit(text[i + 1])) {
        ++i;
      } else {
        break;
      }
    }
    if (digits >= kMinPanDigits && digits <= kMaxPanDigits &&
        passes_luhn(text.substr(begin, i - begin))) {
      return true;
    }
  }
  return false;
}

std::optional<std::string> find_card_data(const boost::json::value& document) {
  std::string path;
  if (find_in(document, path)) return path;
  return std::nullopt;
}

}  // namespace mg::core
