#pragma once
// Expected failures as values: one project error enum in Beast's pattern, mapped once to the
// HTTP status and the CONTRACT §2 error `type`, plus a message and the offending `param`.
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <string_view>
#include <system_error>

namespace mg {

enum class errc {
  // 400 invalid_request
  invalid_json = 1,
  invalid_field,
  missing_field,
  unknown_field,
  unknown_currency,
  amount_out_of_range,
  card_data_forbidden,
  resource_missing,  // a referenced seller, sku or adapter does not exist
  missing_idempotency_key,
  invalid_idempotency_key,
  invalid_signature,  // inbound webhook: bad or missing signature
  stale_timestamp,    // inbound webhook: outside the replay window
  // 401 / 403
  authentication_required,
  invalid_api_key,
  permission_denied,
  // 404 / 405
  not_found,
  route_not_found,
  method_not_allowed,
  // 409
  invalid_state,
  idempotency_mismatch,
  idempotency_in_progress,
  // 413 / 415 / 422 / 429
  body_too_large,
  unsupported_media_type,
  unprocessable,
  currency_mismatch,
  amount_too_large,
  unshippable_address,
  rate_limited,
  // 5xx
  partner_error,
  partner_unavailable,
  unavailable,
  internal,
};

const boost::system::error_category& api_category() noexcept;
boost::system::error_code make_error_code(errc e) noexcept;

// The HTTP status for a project error.
int http_status(errc e) noexcept;
// CONTRACT §2 `type`: invalid_request, authentication, permission, not_found, conflict,
// idempotency, rate_limited, partner_error, unavailable, internal.
std::string_view error_type(errc e) noexcept;
// CONTRACT §2 `code`: the enum name in snake_case, stable.
std::string_view error_code_name(errc e) noexcept;

// One failure: the code, a message for humans, and the field at fault (empty when none).
struct Error {
  errc code = errc::internal;
  std::string message;
  std::string param;

  int status() const noexcept { return http_status(code); }
  std::string_view type() const noexcept { return error_type(code); }
};

inline Error make_error(errc code, std::string message, std::string param = {}) {
  return Error{code, std::move(message), std::move(param)};
}

[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

}  // namespace mg

namespace boost::system {
template <>
struct is_error_code_enum<mg::errc> : std::true_type {};
}  // namespace boost::system
