#pragma once
// Strict reading of JSON request bodies: every failure names the field (`param`) at fault.
#include "gateway/core/error.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace mg::core::json {

// Parses a request body: UTF-8 JSON, depth at most 32, an object at the top.
Result<boost::json::object> parse_object(std::string_view body);

// "a.b" / "a[0]" path building for `param`.
std::string join(std::string_view prefix, std::string_view key);
std::string index(std::string_view prefix, std::size_t i);

// Refuses keys outside `allowed` (errc::unknown_field, param = the key's path).
Result<void> only_keys(const boost::json::object& o,
                       std::initializer_list<std::string_view> allowed, std::string_view prefix);

// Typed field access. A missing (or null, when `null_is_missing`) required field is
// errc::missing_field; a wrong type is errc::invalid_field.
struct Field {
  const boost::json::object& object;
  std::string_view key;
  std::string_view prefix;

  std::string path() const { return join(prefix, key); }
  const boost::json::value* find() const;  // nullptr when absent or null
};

Result<std::string> required_string(const Field& f, std::size_t max_length = 500,
                                    std::size_t min_length = 1);
Result<std::optional<std::string>> optional_string(const Field& f, std::size_t max_length = 500);
Result<std::int64_t> required_int(const Field& f, std::int64_t min, std::int64_t max);
Result<std::optional<std::int64_t>> optional_int(const Field& f, std::int64_t min,
                                                 std::int64_t max);
Result<std::optional<bool>> optional_bool(const Field& f);
// An object or absent/null (nullptr).
Result<const boost::json::object*> optional_object(const Field& f);
Result<const boost::json::object*> required_object(const Field& f);
Result<const boost::json::array*> optional_array(const Field& f);
Result<const boost::json::array*> required_array(const Field& f);

// An integer JSON number in range (no doubles, no strings); `path` is used for errors.
Result<std::int64_t> as_int(const boost::json::value& v, std::string_view path, std::int64_t min,
                            std::int64_t max);

// True when `s` is valid UTF-8 without control characters other than tab/newline.
bool is_clean_text(std::string_view s) noexcept;

}  // namespace mg::core::json
