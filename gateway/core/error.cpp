#include "gateway/core/error.hpp"

#include <stdexcept>

namespace mg {
namespace {

struct Row {
  int status;
  std::string_view type;
  std::string_view name;
};

Row row(errc e) noexcept {
  switch (e) {
    case errc::invalid_json:
      return {400, "invalid_request", "invalid_json"};
    case errc::invalid_field:
      return {400, "invalid_request", "invalid_field"};
    case errc::missing_field:
      return {400, "invalid_request", "missing_field"};
    case errc::unknown_field:
      return {400, "invalid_request", "unknown_field"};
    case errc::unknown_currency:
      return {400, "invalid_request", "unknown_currency"};
    case errc::amount_out_of_range:
      return {400, "invalid_request", "amount_out_of_range"};
    case errc::card_data_forbidden:
      return {400, "invalid_request", "card_data_forbidden"};
    case errc::resource_missing:
      return {400, "invalid_request", "resource_missing"};
    case errc::missing_idempotency_key:
      return {400, "invalid_request", "missing_idempotency_key"};
    case errc::invalid_idempotency_key:
      return {400, "invalid_request", "invalid_idempotency_key"};
    case errc::invalid_signature:
      return {400, "invalid_request", "invalid_signature"};
    case errc::stale_timestamp:
      return {400, "invalid_request", "stale_timestamp"};
    case errc::authentication_required:
      return {401, "authentication", "authentication_required"};
    case errc::invalid_api_key:
      return {401, "authentication", "invalid_api_key"};
    case errc::permission_denied:
      return {403, "permission", "permission_denied"};
    case errc::not_found:
      return {404, "not_found", "not_found"};
    case errc::route_not_found:
      return {404, "not_found", "route_not_found"};
    case errc::method_not_allowed:
      return {405, "invalid_request", "method_not_allowed"};
    case errc::invalid_state:
      return {409, "conflict", "invalid_state"};
    case errc::idempotency_mismatch:
      return {409, "idempotency", "idempotency_mismatch"};
    case errc::idempotency_in_progress:
      return {409, "idempotency", "in_progress"};
    case errc::body_too_large:
      return {413, "invalid_request", "body_too_large"};
    case errc::unsupported_media_type:
      return {415, "invalid_request", "unsupported_media_type"};
    case errc::unprocessable:
      return {422, "invalid_request", "unprocessable"};
    case errc::currency_mismatch:
      return {422, "invalid_request", "currency_mismatch"};
    case errc::amount_too_large:
      return {422, "invalid_request", "amount_too_large"};
    case errc::unshippable_address:
      return {422, "invalid_request", "unshippable_address"};
    case errc::rate_limited:
      return {429, "rate_limited", "rate_limited"};
    case errc::partner_error:
      return {502, "partner_error", "partner_error"};
    case errc::partner_unavailable:
      return {503, "unavailable", "partner_unavailable"};
    case errc::unavailable:
      return {503, "unavailable", "unavailable"};
    case errc::internal:
      return {500, "internal", "internal"};
  }
  return {500, "internal", "internal"};
}

class ApiCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "merchgate"; }
  std::string message(int ev) const override {
    return std::string(row(static_cast<errc>(ev)).name);
  }
};

}  // namespace

const boost::system::error_category& api_category() noexcept {
  static const ApiCategory category;
  return category;
}

boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), api_category()};
}

int http_status(errc e) noexcept { return row(e).status; }
std::string_view error_type(errc e) noexcept { return row(e).type; }
std::string_view error_code_name(errc e) noexcept { return row(e).name; }

void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw std::runtime_error(std::string(error_code_name(e.code)) + ": " + e.message);
}

}  // namespace mg
