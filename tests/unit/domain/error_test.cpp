#include "gateway/core/error.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

namespace mg {
namespace {

struct Expected {
  errc code;
  int status;
  std::string_view type;
  std::string_view name;
};

// CONTRACT §2: the status and `type` of every project error.
constexpr Expected kTable[] = {
    {errc::invalid_json, 400, "invalid_request", "invalid_json"},
    {errc::invalid_field, 400, "invalid_request", "invalid_field"},
    {errc::missing_field, 400, "invalid_request", "missing_field"},
    {errc::unknown_field, 400, "invalid_request", "unknown_field"},
    {errc::unknown_currency, 400, "invalid_request", "unknown_currency"},
    {errc::amount_out_of_range, 400, "invalid_request", "amount_out_of_range"},
    {errc::card_data_forbidden, 400, "invalid_request", "card_data_forbidden"},
    {errc::resource_missing, 400, "invalid_request", "resource_missing"},
    {errc::missing_idempotency_key, 400, "invalid_request", "missing_idempotency_key"},
    {errc::invalid_idempotency_key, 400, "invalid_request", "invalid_idempotency_key"},
    {errc::invalid_signature, 400, "invalid_request", "invalid_signature"},
    {errc::stale_timestamp, 400, "invalid_request", "stale_timestamp"},
    {errc::authentication_required, 401, "authentication", "authentication_required"},
    {errc::invalid_api_key, 401, "authentication", "invalid_api_key"},
    {errc::permission_denied, 403, "permission", "permission_denied"},
    {errc::not_found, 404, "not_found", "not_found"},
    {errc::route_not_found, 404, "not_found", "route_not_found"},
    {errc::method_not_allowed, 405, "invalid_request", "method_not_allowed"},
    {errc::invalid_state, 409, "conflict", "invalid_state"},
    {errc::idempotency_mismatch, 409, "idempotency", "idempotency_mismatch"},
    {errc::idempotency_in_progress, 409, "idempotency", "in_progress"},
    {errc::body_too_large, 413, "invalid_request", "body_too_large"},
    {errc::unsupported_media_type, 415, "invalid_request", "unsupported_media_type"},
    {errc::unprocessable, 422, "invalid_request", "unprocessable"},
    {errc::currency_mismatch, 422, "invalid_request", "currency_mismatch"},
    {errc::amount_too_large, 422, "invalid_request", "amount_too_large"},
    {errc::unshippable_address, 422, "invalid_request", "unshippable_address"},
    {errc::rate_limited, 429, "rate_limited", "rate_limited"},
    {errc::partner_error, 502, "partner_error", "partner_error"},
    {errc::partner_unavailable, 503, "unavailable", "partner_unavailable"},
    {errc::unavailable, 503, "unavailable", "unavailable"},
    {errc::internal, 500, "internal", "internal"},
};

class ErrcMapping : public ::testing::TestWithParam<Expected> {};

TEST_P(ErrcMapping, MapsToTheDocumentedStatusTypeAndCode) {
  const Expected& e = GetParam();
  EXPECT_EQ(http_status(e.code), e.status);
  EXPECT_EQ(error_type(e.code), e.type);
  EXPECT_EQ(error_code_name(e.code), e.name);
  Error err = make_error(e.code, "msg", "field");
  EXPECT_EQ(err.status(), e.status);
  EXPECT_EQ(err.type(), e.type);
  EXPECT_EQ(err.param, "field");
  auto ec = make_error_code(e.code);
  EXPECT_EQ(&ec.category(), &api_category());
  EXPECT_EQ(ec.value(), static_cast<int>(e.code));
  EXPECT_EQ(ec.message(), e.name);
  EXPECT_TRUE(static_cast<bool>(ec));
}

INSTANTIATE_TEST_SUITE_P(EveryValue, ErrcMapping, ::testing::ValuesIn(kTable),
                         [](const ::testing::TestParamInfo<Expected>& info) {
                           return std::string(error_code_name(info.param.code));
                         });

TEST(ErrcTable, CoversEveryEnumValue) {
  // The enum runs from invalid_json (1) to internal; a new value must join the table above.
  std::set<int> seen;
  for (const auto& e : kTable) seen.insert(static_cast<int>(e.code));
  EXPECT_EQ(seen.size(), std::size(kTable));
  EXPECT_EQ(*seen.begin(), 1);
  EXPECT_EQ(*seen.rbegin(), static_cast<int>(errc::internal));
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(errc::internal));
}

TEST(ErrcTable, TypesAreFromTheContractList) {
  const std::set<std::string_view> contract = {
      "invalid_request", "authentication", "permission",    "not_found",   "conflict",
      "idempotency",     "rate_limited",   "partner_error", "unavailable", "internal"};
  for (const auto& e : kTable) EXPECT_TRUE(contract.contains(error_type(e.code))) << e.name;
}

TEST(ErrcTable, CodeNamesAreUniqueSnakeCase) {
  std::set<std::string_view> names;
  for (const auto& e : kTable) {
    std::string_view n = error_code_name(e.code);
    EXPECT_TRUE(names.insert(n).second) << n;
    for (char c : n) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << n;
  }
}

TEST(ApiCategory, IsNamedAndConvertsFromTheEnum) {
  EXPECT_STREQ(api_category().name(), "merchgate");
  boost::system::error_code ec = errc::not_found;
  EXPECT_EQ(ec, make_error_code(errc::not_found));
  EXPECT_NE(ec, make_error_code(errc::route_not_found));
}

TEST(ErrorValue, DefaultsToInternalWithoutParam) {
  Error e;
  EXPECT_EQ(e.code, errc::internal);
  EXPECT_EQ(e.status(), 500);
  EXPECT_EQ(make_error(errc::not_found, "gone").param, "");
}

TEST(ErrorValue, ResultValueOnErrorThrowsWithTheCode) {
  Result<int> r = make_error(errc::invalid_state, "already canceled");
  ASSERT_FALSE(r.has_value());
  try {
    (void)r.value();
    FAIL() << "value() of an error did not throw";
  } catch (const std::runtime_error& ex) {
    EXPECT_THAT(ex.what(), ::testing::HasSubstr("invalid_state"));
    EXPECT_THAT(ex.what(), ::testing::HasSubstr("already canceled"));
  }
}

}  // namespace
}  // namespace mg
