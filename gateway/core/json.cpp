#include "gateway/core/json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

#include <algorithm>

namespace mg::core::json {
namespace bj = boost::json;

Result<bj::object> parse_object(std::string_view body) {
  bj::parse_options options;
  options.max_depth = 32;
  boost::system::error_code ec;
  bj::value v = bj::parse(body, ec, {}, options);
  if (ec) {
    return make_error(errc::invalid_json, "request body is not valid JSON: " + ec.message());
  }
  if (!v.is_object()) return make_error(errc::invalid_json, "request body must be a JSON object");
  return std::move(v.as_object());
}

std::string join(std::string_view prefix, std::string_view key) {
  if (prefix.empty()) return std::string(key);
  std::string out(prefix);
  out += '.';
  out += key;
  return out;
}

std::string index(std::string_view prefix, std::size_t i) {
  std::string out(prefix);
  out += '[';
  out += std::to_string(i);
  out += ']';
  return out;
}

Result<void> only_keys(const bj::object& o, std::initializer_list<std::string_view> allowed,
                       std::string_view prefix) {
  for (const auto& kv : o) {
    if (std::find(allowed.begin(), allowed.end(), std::string_view(kv.key())) == allowed.end()) {
      return make_error(errc::unknown_field, "unknown field '" + std::string(kv.key()) + "'",
                        join(prefix, kv.key()));
    }
  }
  return {};
}

const bj::value* Field::find() const {
  const bj::value* v = object.if_contains(key);
  if (!v || v->is_null()) return nullptr;
  return v;
}

bool is_clean_text(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F) return false;
      ++i;
      continue;
    }
    int extra = -1;
    if (c >= 0xC2 && c <= 0xDF)
      extra = 1;
    else if (c >= 0xE0 && c <= 0xEF)
      extra = 2;
    else if (c >= 0xF0 && c <= 0xF4)
      extra = 3;
    if (extra < 0 || i + static_cast<std::size_t>(extra) >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    // Overlong forms, UTF-16 surrogates and code points above U+10FFFF are not UTF-8.
    unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
        (c == 0xF4 && c1 > 0x8F)) {
      return false;
    }
    i += static_cast<std::size_t>(extra) + 1;
  }
  return true;
}

Result<std::string> required_string(const Field& f, std::size_t max_length,
                                    std::size_t min_length) {
  const bj::value* v = f.find();
  if (!v) return make_error(errc::missing_field, "'" + f.path() + "' is required", f.path());
  if (!v->is_string()) {
    return make_error(errc::invalid_field, "'" + f.path() + "' must be a string", f.path());
  }
  std::string_view s = v->as_string();
  if (s.size() < min_length || s.size() > max_length) {
    return make_error(errc::invalid_field,
                      "'" + f.path() + "' must be " + std::to_string(min_length) + " to " +
                          std::to_string(max_length) + " characters",
                      f.path());
  }
  if (!is_clean_text(s)) {
    return make_error(errc::invalid_field,
                      "'" + f.path() + "' must be UTF-8 text without control characters", f.path());
  }
  return std::string(s);
}

Result<std::optional<std::string>> optional_string(const Field& f, std::size_t max_length) {
  if (!f.find()) return std::optional<std::string>{};
  auto s = required_string(f, max_length, 0);
  if (!s) return s.error();
  return std::optional<std::string>(std::move(*s));
}

Result<std::int64_t> as_int(const bj::value& v, std::string_view path, std::int64_t min,
                            std::int64_t max) {
  std::string p(path);
  if (v.is_int64()) {
    std::int64_t n = v.as_int64();
    if (n < min || n > max) {
      return make_error(
          errc::amount_out_of_range,
          "'" + p + "' must be between " + std::to_string(min) + " and " + std::to_string(max), p);
    }
    return n;
  }
  if (v.is_uint64()) {
    return make_error(
        errc::amount_out_of_range,
        "'" + p + "' must be between " + std::to_string(min) + " and " + std::to_string(max), p);
  }
  return make_error(errc::invalid_field, "'" + p + "' must be an integer", p);
}

Result<std::int64_t> required_int(const Field& f, std::int64_t min, std::int64_t max) {
  const bj::value* v = f.find();
  if (!v) return make_error(errc::missing_field, "'" + f.path() + "' is required", f.path());
  return as_int(*v, f.path(), min, max);
}

Result<std::optional<std::int64_t>> optional_int(const Field& f, std::int64_t min,
                                                 std::int64_t max) {
  const bj::value* v = f.find();
  if (!v) return std::optional<std::int64_t>{};
  auto n = as_int(*v, f.path(), min, max);
  if (!n) return n.error();
  return std::optional<std::int64_t>(*n);
}

Result<std::optional<bool>> optional_bool(const Field& f) {
  const bj::value* v = f.find();
  if (!v) return std::optional<bool>{};
  if (!v->is_bool()) {
    return make_error(errc::invalid_field, "'" + f.path() + "' must be true or false", f.path());
  }
  return std::optional<bool>(v->as_bool());
}

Result<const bj::object*> optional_object(const Field& f) {
  const bj::value* v = f.find();
  if (!v) return static_cast<const bj::object*>(nullptr);
  if (!v->is_object()) {
    return make_error(errc::invalid_field, "'" + f.path() + "' must be an object", f.path());
  }
  return &v->as_object();
}

Result<const bj::object*> required_object(const Field& f) {
  auto o = optional_object(f);
  if (!o) return o.error();
  if (!*o) return make_error(errc::missing_field, "'" + f.path() + "' is required", f.path());
  return *o;
}

Result<const bj::array*> optional_array(const Field& f) {
  const bj::value* v = f.find();
  if (!v) return static_cast<const bj::array*>(nullptr);
  if (!v->is_array()) {
    return make_error(errc::invalid_field, "'" + f.path() + "' must be an array", f.path());
  }
  return &v->as_array();
}

Result<const bj::array*> required_array(const Field& f) {
  auto a = optional_array(f);
  if (!a) return a.error();
  if (!*a) return make_error(errc::missing_field, "'" + f.path() + "' is required", f.path());
  return *a;
}

}  // namespace mg::core::json
