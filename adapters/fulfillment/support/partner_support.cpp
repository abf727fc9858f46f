#include "adapters/fulfillment/support/partner_support.hpp"

#include "gateway/core/crypto.hpp"
#include "gateway/core/json.hpp"
#include "gateway/core/money.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace mg::adapters::merch {
namespace bj = boost::json;

std::string str(const bj::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_int64()) return std::to_string(v.as_int64());
  if (v.is_uint64()) return std::to_string(v.as_uint64());
  return {};
}

std::string str(const bj::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v ? str(*v) : std::string();
}

std::int64_t int_or(const bj::object& o, std::string_view key, std::int64_t fallback) {
  const auto* v = o.if_contains(key);
  if (!v) return fallback;
  if (v->is_int64()) return v->as_int64();
  if (v->is_string()) {
    std::string_view s = v->as_string();
    std::int64_t n = 0;
    if (s.empty() || s.size() > 18) return fallback;
    for (char c : s) {
      if (c < '0' || c > '9') return fallback;
      n = n * 10 + (c - '0');
    }
    return n;
  }
  return fallback;
}

bool bool_or(const bj::object& o, std::string_view key, bool fallback) {
  const auto* v = o.if_contains(key);
  return v && v->is_bool() ? v->as_bool() : fallback;
}

const bj::object* obj(const bj::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

const bj::array* arr(const bj::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_array() ? &v->as_array() : nullptr;
}

std::optional<bj::object> parse_object(std::string_view body) {
  boost::system::error_code ec;
  bj::value v = bj::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::optional<std::int64_t> decimal_to_minor(std::string_view text, std::string_view currency) {
  auto c = core::find_currency(currency);
  if (!c || text.empty() || text.size() > 24) return std::nullopt;
  std::int64_t whole = 0, fraction = 0;
  bool seen_dot = false;
  int fraction_digits = 0;
  for (char ch : text) {
    if (ch == '.') {
      if (seen_dot) return std::nullopt;
      seen_dot = true;
      continue;
    }
    if (ch < '0' || ch > '9') return std::nullopt;
    if (!seen_dot) {
      whole = whole * 10 + (ch - '0');
      if (whole > core::kMaxCheckoutAmount * 10) return std::nullopt;
      continue;
    }
    // Trailing zeros beyond the currency's exponent are fine ("13.600"); other digits are not.
    if (fraction_digits >= c->exponent && ch != '0') return std::nullopt;
    if (fraction_digits < c->exponent) fraction = fraction * 10 + (ch - '0');
    ++fraction_digits;
  }
  if (seen_dot && fraction_digits == 0) return std::nullopt;  // "13."
  for (int i = std::min(fraction_digits, c->exponent); i < c->exponent; ++i) fraction *= 10;
  std::int64_t scale = 1;
  for (int i = 0; i < c->exponent; ++i) scale *= 10;
  return whole * scale + fraction;
}

std::optional<std::int64_t> number_to_minor(const bj::value& v, std::string_view currency) {
  if (v.is_string()) return decimal_to_minor(v.as_string(), currency);
  if (v.is_int64()) {
    if (v.as_int64() < 0) return std::nullopt;
    return decimal_to_minor(std::to_string(v.as_int64()), currency);
  }
  if (v.is_double()) {
    double d = v.as_double();
    if (!(d >= 0) || d > 1e12) return std::nullopt;
    auto c = core::find_currency(currency);
    if (!c) return std::nullopt;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", c->exponent, d);
    return decimal_to_minor(buf, currency);
  }
  return std::nullopt;
}

std::string minor_to_decimal(std::int64_t minor, std::string_view currency) {
  auto c = core::find_currency(currency);
  int exponent = c ? c->exponent : 2;
  bool negative = minor < 0;
  std::string digits = std::to_string(negative ? -minor : minor);
  if (exponent > 0) {
    if (digits.size() <= static_cast<std::size_t>(exponent)) {
      digits.insert(0, static_cast<std::size_t>(exponent) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<std::size_t>(exponent), ".");
  }
  return negative ? "-" + digits : digits;
}

std::pair<std::string, std::string> split_name(std::string_view full) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  full = trim(full);
  auto space = full.find(' ');
  if (space == std::string_view::npos) return {std::string(full), std::string(full)};
  return {std::string(full.substr(0, space)), std::string(trim(full.substr(space + 1)))};
}

std::string path_segment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string join_url(std::string_view base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  return std::string(base) + std::string(path);
}

bool valid_sku(std::string_view s) {
  return !s.empty() && s.size() <= 100 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

std::string_view Reply::header(std::string_view lower_name) const noexcept {
  for (const auto& h : headers)
    if (h.name == lower_name) return h.value;
  return {};
}

std::chrono::milliseconds retry_after(std::string_view value, core::Timestamp now,
                                      std::chrono::milliseconds fallback) {
  constexpr std::chrono::milliseconds kMax = std::chrono::hours(1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return fallback;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 6) return kMax;
    std::int64_t seconds = std::stoll(std::string(value));
    return std::min<std::chrono::milliseconds>(std::chrono::seconds(seconds), kMax);
  }
  // An HTTP-date (IMF-fixdate): "Wed, 21 Oct 2015 07:28:00 GMT".
  std::tm tm{};
  std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return fallback;
  std::int64_t at = static_cast<std::int64_t>(timegm(&tm)) * 1000;
  if (at <= now) return std::chrono::milliseconds(0);
  return std::min<std::chrono::milliseconds>(std::chrono::milliseconds(at - now), kMax);
}

AdapterError transport_error(const boost::system::error_code& ec, std::string_view partner) {
  std::string p(partner);
  if (http::failed_before_sending(ec)) {
    return adapter_error(adapter_errc::unavailable, p + " unreachable: " + ec.message());
  }
  if (ec == http::client_errc::read_timeout || ec == http::client_errc::total_timeout) {
    return adapter_error(adapter_errc::timeout, p + " did not answer in time: " + ec.message());
  }
  return adapter_error(adapter_errc::partner_error, p + " call failed: " + ec.message());
}

AdapterError status_error(const Reply& reply, std::string_view partner, std::string message,
                          std::string partner_code, core::Timestamp now,
                          std::chrono::milliseconds rate_limit_fallback) {
  std::string text = std::string(partner) + " answered " + std::to_string(reply.status);
  if (!message.empty()) text += ": " + message;
  adapter_errc code = adapter_errc::rejected;
  if (reply.status == 401 || reply.status == 403) {
    code = adapter_errc::authentication;
  } else if (reply.status == 404) {
    code = adapter_errc::not_found;
  } else if (reply.status == 409) {
    code = adapter_errc::invalid_state;
  } else if (reply.status == 429) {
    code = adapter_errc::rate_limited;
  } else if (reply.status >= 500 || reply.status < 400) {
    code = adapter_errc::partner_error;
  }
  AdapterError e = adapter_error(code, std::move(text), reply.status, std::move(partner_code));
  if (code == adapter_errc::rate_limited) {
    e.retry_after = retry_after(reply.header("retry-after"), now, rate_limit_fallback);
  }
  return e;
}

Task<AResult<Reply>> send(http::HttpClient& client, http::ClientRequest request,
                          std::string_view partner) {
  std::string name(partner);
  auto r = co_await client.async_send(std::move(request));
  if (!r) co_return transport_error(r.error(), name);
  Reply reply;
  reply.status = r->status;
  reply.headers = std::move(r->headers);
  reply.body = std::move(r->body);
  reply.json = parse_object(reply.body);
  co_return reply;
}

Task<AResult<Reply>> send_within_rate_limit(http::HttpClient& client, http::ClientRequest request,
                                            std::string_view partner,
                                            std::chrono::milliseconds& budget,
                                            std::chrono::milliseconds fallback) {
  std::string name(partner);
  for (;;) {
    http::ClientRequest attempt = request;
    auto r = co_await send(client, std::move(attempt), name);
    if (!r || r->status != 429) co_return r;
    auto wait = retry_after(r->header("retry-after"), core::system_now(), fallback);
    if (wait > budget) co_return r;
    budget -= wait;
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, wait);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

AdapterError as_refusal(AdapterError e, std::string_view fallback_code) {
  if (e.is(adapter_errc::rejected) || e.is(adapter_errc::not_found) ||
      e.is(adapter_errc::invalid_state)) {
    e.code = make_error_code(adapter_errc::refused);
    if (e.partner_code.empty()) e.partner_code = std::string(fallback_code);
  }
  return e;
}

AdapterError unreadable(std::string_view partner, int http_status) {
  return adapter_error(adapter_errc::partner_error,
                       std::string(partner) + " sent an unreadable answer", http_status);
}

AResult<Quote> table_quote_or_error(const QuoteRequest& request, std::string_view why) {
  if (auto table = table_quote(request.lines, request.currency)) {
    return Quote{*table, request.currency, "table"};
  }
  return adapter_error(adapter_errc::unsupported,
                       "no shipping rate in " + request.currency + ": " + std::string(why) +
                           " and a product has no 'shipping' table in that currency");
}

std::optional<std::int64_t> table_quote(const std::vector<OrderLine>& lines,
                                        std::string_view currency) {
  std::int64_t first = -1, additional = 0, items = 0;
  for (const auto& l : lines) {
    const auto* table = obj(l.spec, "shipping");
    const auto* rate = table ? table->if_contains(currency) : nullptr;
    if (!rate || !rate->is_int64()) return std::nullopt;
    first = std::max(first, rate->as_int64());
    if (const auto* more = obj(l.spec, "shipping_additional")) {
      if (const auto* a = more->if_contains(currency); a && a->is_int64()) {
        additional = std::max(additional, a->as_int64());
      }
    }
    items += l.quantity;
  }
  if (first < 0) return std::nullopt;
  auto extra = core::checked_mul(additional, std::max<std::int64_t>(items - 1, 0));
  if (!extra) return std::nullopt;
  return core::checked_add(first, *extra);
}

Result<void> validate_shipping_table(const bj::object& spec) {
  for (std::string_view key : {"shipping", "shipping_additional"}) {
    const auto* v = spec.if_contains(key);
    if (!v || v->is_null()) continue;
    std::string path = "fulfillment." + std::string(key);
    if (!v->is_object()) {
      return make_error(errc::invalid_field,
                        "'" + path + "' maps currencies to minor units, e.g. {\"EUR\": 495}", path);
    }
    for (const auto& kv : v->as_object()) {
      std::string p = path + "." + std::string(kv.key());
      if (!core::find_currency(kv.key())) {
        return make_error(errc::unknown_currency, "'" + p + "' is not an ISO 4217 currency", p);
      }
      if (!kv.value().is_int64() || kv.value().as_int64() < 0 ||
          kv.value().as_int64() > core::kMaxCheckoutAmount) {
        return make_error(errc::invalid_field, "'" + p + "' must be an amount in minor units", p);
      }
    }
  }
  return {};
}

Result<std::string> spec_id(const bj::object& spec, std::string_view key) {
  const auto* v = spec.if_contains(key);
  std::string path = "fulfillment." + std::string(key);
  if (!v || v->is_null()) return std::string();
  if (v->is_int64() && v->as_int64() >= 0) return std::to_string(v->as_int64());
  if (v->is_string() && !v->as_string().empty() && v->as_string().size() <= 100 &&
      core::json::is_clean_text(v->as_string())) {
    return std::string(v->as_string());
  }
  return make_error(errc::invalid_field, "'" + path + "' must be a partner id (text or integer)",
                    path);
}

Result<void> validate_files(const bj::object& spec, std::string_view type_key) {
  const auto* v = spec.if_contains("files");
  if (!v || v->is_null()) return {};
  if (!v->is_array() || v->as_array().size() > 20) {
    return make_error(errc::invalid_field, "'fulfillment.files' is a list of at most 20 files",
                      "fulfillment.files");
  }
  const auto& files = v->as_array();
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::string path = core::json::index("fulfillment.files", i);
    if (!files[i].is_object()) {
      return make_error(errc::invalid_field, "'" + path + "' must be an object", path);
    }
    const auto& f = files[i].as_object();
    std::string url = str(f, "url");
    if (!(url.starts_with("https://") || url.starts_with("http://")) || url.size() > 2048) {
      return make_error(errc::invalid_field, "'" + path + ".url' must be an http(s) URL",
                        path + ".url");
    }
    if (const auto* t = f.if_contains(type_key); t && !t->is_string()) {
      std::string p = path + "." + std::string(type_key);
      return make_error(errc::invalid_field, "'" + p + "' must be text", p);
    }
  }
  return {};
}

bool hmac_hex_matches(std::string_view key, std::string_view body, std::string_view hex_signature) {
  std::string expected = core::hex_encode(core::hmac_sha256(key, body));
  std::string given(hex_signature);
  std::transform(given.begin(), given.end(), given.begin(),
                 [](char c) { return (c >= 'A' && c <= 'F') ? static_cast<char>(c + 32) : c; });
  return core::constant_time_equal(expected, given);
}

}  // namespace mg::adapters::merch
