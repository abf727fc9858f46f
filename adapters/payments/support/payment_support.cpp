#include "adapters/payments/support/payment_support.hpp"

#include "gateway/core/crypto.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>

namespace mg::adapters::payments {
namespace bj = boost::json;

std::string str(const bj::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::int64_t num(const bj::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : 0;
}

const bj::object* sub(const bj::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

const bj::array* arr(const bj::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_array() ? &v->as_array() : nullptr;
}

AResult<bj::object> webhook_object(std::string_view body, std::string_view what) {
  boost::system::error_code ec;
  bj::value v = bj::parse(body, ec);
  if (ec || !v.is_object()) {
    return adapter_error(adapter_errc::malformed_webhook,
                         std::string(what) + " is not a JSON object", 400);
  }
  return std::move(v.as_object());
}

std::string credential(const AdapterConfig& config, std::string_view key) {
  return str(config.credentials, key);
}

std::string trim_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string bounded_key(const std::string& key, std::size_t max_size) {
  return key.size() <= max_size ? key : core::hex_encode(core::sha256(key));
}

bool is_path_id(std::string_view id, std::size_t max_size, std::string_view extra) {
  return !id.empty() && id.size() <= max_size &&
         std::all_of(id.begin(), id.end(), [extra](unsigned char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  extra.find(static_cast<char>(c)) != std::string_view::npos;
         });
}

std::optional<AdapterError> common_status_error(int status, const std::string& message,
                                                const std::string& code,
                                                std::string_view retry_after) {
  if (status == 401 || status == 403) {
    return adapter_error(adapter_errc::authentication, message, status, code);
  }
  if (status == 404) return adapter_error(adapter_errc::not_found, message, status, code);
  if (status == 409 || status == 429) {
    // 409: another request with this idempotency key is still running; 429: rate limited.
    AdapterError e = adapter_error(adapter_errc::rate_limited, message, status, code);
    std::int64_t seconds = 1;
    if (!retry_after.empty()) {
      std::from_chars(retry_after.data(), retry_after.data() + retry_after.size(), seconds);
    }
    e.retry_after = std::chrono::seconds(std::clamp<std::int64_t>(seconds, 1, 3600));
    return e;
  }
  if (status >= 500 || status < 400) return server_error(status, message, code);
  return std::nullopt;
}

AResult<bj::object> object_answer(const http::ClientResponse& response, std::string_view what,
                                  ErrorFrom error_from) {
  if (response.status < 200 || response.status >= 300) {
    return error_from(response.status, response.body, response.header("retry-after"));
  }
  boost::system::error_code ec;
  bj::value v = bj::parse(response.body, ec);
  if (ec || !v.is_object()) {
    return adapter_error(adapter_errc::partner_error,
                         std::string(what) + ": the answer is not a JSON object", response.status);
  }
  return std::move(v.as_object());
}

Task<AResult<bj::object>> send_for_object(http::HttpClient& client, http::ClientRequest request,
                                          std::string what, ErrorFrom error_from) {
  auto r = co_await client.async_send(std::move(request));
  if (!r) co_return transport_error(r.error(), what);
  co_return object_answer(*r, what, error_from);
}

}  // namespace mg::adapters::payments
