#pragma once
// What the merch-partner adapters (printful, printify, gelato, partner_protocol, spring) share and
// no other module needs: one HTTP call to a partner with its failures mapped onto adapter_errc,
// Retry-After, lenient JSON reading of partner bodies, money between minor units and the decimal
// strings partners use, names and URL path segments, the product shipping-table fallback, and
// hex HMAC-SHA256 webhook checks. Partner-specific JSON stays in each adapter.
#include "adapters/adapter.hpp"
#include "adapters/http/client.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mg::adapters::merch {

// ---- lenient JSON reading (partners mix numbers and strings for ids) -------------------------

// A string member, or an integer member rendered in decimal; empty otherwise.
std::string str(const boost::json::object& o, std::string_view key);
std::string str(const boost::json::value& v);
std::int64_t int_or(const boost::json::object& o, std::string_view key, std::int64_t fallback);
bool bool_or(const boost::json::object& o, std::string_view key, bool fallback);
const boost::json::object* obj(const boost::json::object& o, std::string_view key);
const boost::json::array* arr(const boost::json::object& o, std::string_view key);
// A JSON object body, or nullopt (not JSON, or not an object).
std::optional<boost::json::object> parse_object(std::string_view body);

// ---- money ---------------------------------------------------------------------------------

// "13.60" (or 13.6, or 13) in `currency`'s major unit -> 1360 minor units; nullopt when it is
// not a non-negative number, has more decimals than the currency, or the currency is unknown.
std::optional<std::int64_t> decimal_to_minor(std::string_view decimal, std::string_view currency);
std::optional<std::int64_t> number_to_minor(const boost::json::value& v, std::string_view currency);
// 1360 EUR -> "13.60"; 3000 JPY -> "3000".
std::string minor_to_decimal(std::int64_t minor, std::string_view currency);

// ---- text ----------------------------------------------------------------------------------

// "Ada Lovelace King" -> {"Ada", "Lovelace King"}; a single word is both (partners require both).
std::pair<std::string, std::string> split_name(std::string_view full_name);
// Percent-encodes everything but RFC 3986 unreserved characters: one safe path segment.
std::string path_segment(std::string_view s);
// base_url without trailing '/' + path (which starts with '/').
std::string join_url(std::string_view base_url, std::string_view path);
// Whether `s` can be a catalog sku as is (1-100 of [A-Za-z0-9_.-]).
bool valid_sku(std::string_view s);

// ---- calls ---------------------------------------------------------------------------------

struct Reply {
  int status = 0;
  std::vector<http::Header> headers;
  std::string body;
  std::optional<boost::json::object> json;  // the body when it is a JSON object

  std::string_view header(std::string_view lower_name) const noexcept;
  bool ok() const noexcept { return status >= 200 && status < 300; }
};

// `Retry-After` as delay-seconds or an HTTP-date, relative to `now`; `fallback` when absent or
// unreadable. Clamped to at most an hour.
std::chrono::milliseconds retry_after(std::string_view header_value, core::Timestamp now,
                                      std::chrono::milliseconds fallback);

// A transport failure as an adapter error: nothing sent -> unavailable (safe to retry anywhere);
// sent but unanswered -> timeout; anything else after sending -> partner_error (outcome unknown).
AdapterError transport_error(const boost::system::error_code& ec, std::string_view partner);

// A non-2xx reply as an adapter error: 401/403 authentication, 404 not_found, 409 invalid_state,
// 429 rate_limited (with Retry-After, else `rate_limit_fallback`), 5xx partner_error, other 4xx
// rejected. `message` should already carry the partner's own words.
AdapterError status_error(const Reply& reply, std::string_view partner, std::string message,
                          std::string partner_code, core::Timestamp now,
                          std::chrono::milliseconds rate_limit_fallback = std::chrono::seconds(30));

// Sends one request through the shared client and returns any HTTP status as a Reply.
// Built as a named request and moved in (GCC 12: no temporaries inside co_await expressions).
Task<AResult<Reply>> send(http::HttpClient& client, http::ClientRequest request,
                          std::string_view partner);
// As `send`, but a 429 waits for its Retry-After (else `fallback`) and sends again while the
// waits fit in `budget`, which is reduced by each wait: for long admin operations (a catalog
// import) that a rate limit should slow down, not fail. Jobs reschedule instead of waiting.
Task<AResult<Reply>> send_within_rate_limit(http::HttpClient& client, http::ClientRequest request,
                                            std::string_view partner,
                                            std::chrono::milliseconds& budget,
                                            std::chrono::milliseconds fallback);
// How long one catalog import (an admin request) may spend waiting out rate limits in all.
inline constexpr std::chrono::milliseconds kImportPatience = std::chrono::minutes(3);

// A failed create or confirm as the partner refusing the order: a 4xx about the order itself
// (rejected, not_found, invalid_state) becomes `refused` (partner code `fallback_code` when the
// partner gave none); credentials, rate limits and 5xx stay what they are.
AdapterError as_refusal(AdapterError e, std::string_view fallback_code);
// A 2xx whose body is not what the partner documents: the outcome is unknown.
AdapterError unreadable(std::string_view partner, int http_status);

// ---- shipping-table fallback -----------------------------------------------------------------

// The product's own table: the fulfillment block may carry "shipping": {"EUR": 495} (first item)
// and "shipping_additional": {"EUR": 150} (each further item). The order pays the largest first-
// item rate of its lines plus the largest additional rate for every further item. nullopt when
// a line has no rate in `currency`.
std::optional<std::int64_t> table_quote(const std::vector<OrderLine>& lines,
                                        std::string_view currency);
// The table quote as a Quote (method "table"), or `unsupported` saying `why` the partner was not
// asked and that a product has no table in the currency.
AResult<Quote> table_quote_or_error(const QuoteRequest& request, std::string_view why);
// Checks the optional "shipping" / "shipping_additional" blocks of a fulfillment block.
Result<void> validate_shipping_table(const boost::json::object& spec);

// ---- product blocks --------------------------------------------------------------------------

// An id in a fulfillment block: a non-empty string (at most 100) or a non-negative integer,
// returned as text; empty when absent. Errors name `fulfillment.<key>`.
Result<std::string> spec_id(const boost::json::object& spec, std::string_view key);
// Checks "files": [{"url": "https://…", "type"|"placement": "…"}] (optional, at most 20).
Result<void> validate_files(const boost::json::object& spec, std::string_view type_key);

// ---- webhooks --------------------------------------------------------------------------------

// hex(HMAC-SHA256(key, body)) compared in constant time with `hex_signature` (either case).
bool hmac_hex_matches(std::string_view key, std::string_view body, std::string_view hex_signature);

}  // namespace mg::adapters::merch
