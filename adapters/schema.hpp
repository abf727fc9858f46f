#pragma once
// The JSON Schema subset adapter types publish for their credentials and settings: type,
// properties, required, additionalProperties: false, enum, minimum/maximum, minLength/maxLength,
// items, format "uri". Enough to validate config and render admin forms; errors name the key.
#include "gateway/core/error.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string_view>

namespace mg::adapters {

// Validates `value` against `schema`; `path` prefixes the param of any error.
Result<void> validate_against_schema(const boost::json::value& value,
                                     const boost::json::object& schema, std::string_view path);

// Parses a schema literal written in C++ source (a programming error aborts: caught by tests).
boost::json::object schema_from(std::string_view json_text);

}  // namespace mg::adapters
