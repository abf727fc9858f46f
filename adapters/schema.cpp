#include "adapters/schema.hpp"

#include "gateway/core/json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdio>
#include <cstdlib>

namespace mg::adapters {
namespace bj = boost::json;
namespace {

std::string_view type_of(const bj::value& v) {
  if (v.is_object()) return "object";
  if (v.is_array()) return "array";
  if (v.is_string()) return "string";
  if (v.is_bool()) return "boolean";
  if (v.is_int64() || v.is_uint64()) return "integer";
  if (v.is_double()) return "number";
  return "null";
}

Error fail(std::string_view path, std::string message) {
  std::string p(path);
  return make_error(errc::invalid_field, "'" + p + "' " + message, p);
}

}  // namespace

Result<void> validate_against_schema(const bj::value& value, const bj::object& schema,
                                     std::string_view path) {
  if (const auto* t = schema.if_contains("type"); t && t->is_string()) {
    std::string_view want = t->as_string();
    std::string_view got = type_of(value);
    bool ok = want == got || (want == "number" && got == "integer");
    if (!ok) return fail(path, "must be of type " + std::string(want));
  }
  if (const auto* e = schema.if_contains("enum"); e && e->is_array()) {
    bool found = false;
    for (const auto& option : e->as_array()) found = found || option == value;
    if (!found) {
      std::string options;
      for (const auto& option : e->as_array()) {
        if (!options.empty()) options += ", ";
        options += bj::serialize(option);
      }
      return fail(path, "must be one of " + options);
    }
  }
  if (value.is_string()) {
    std::string_view s = value.as_string();
    if (const auto* m = schema.if_contains("minLength");
        m && m->is_int64() && static_cast<std::int64_t>(s.size()) < m->as_int64()) {
      return fail(path, "must be at least " + std::to_string(m->as_int64()) + " characters");
    }
    if (const auto* m = schema.if_contains("maxLength");
        m && m->is_int64() && static_cast<std::int64_t>(s.size()) > m->as_int64()) {
      return fail(path, "must be at most " + std::to_string(m->as_int64()) + " characters");
    }
    if (const auto* pre = schema.if_contains("x-prefix");
        pre && pre->is_string() && !s.starts_with(pre->as_string())) {
      return fail(path, "must start with '" + std::string(pre->as_string()) + "'");
    }
    if (const auto* f = schema.if_contains("format");
        f && f->is_string() && f->as_string() == "uri") {
      if (!(s.starts_with("https://") || s.starts_with("http://"))) {
        return fail(path, "must be an http(s) URL");
      }
    }
    if (!core::json::is_clean_text(s)) return fail(path, "must be text without control characters");
  }
  if (value.is_int64()) {
    std::int64_t n = value.as_int64();
    if (const auto* m = schema.if_contains("minimum"); m && m->is_int64() && n < m->as_int64()) {
      return fail(path, "must be at least " + std::to_string(m->as_int64()));
    }
    if (const auto* m = schema.if_contains("maximum"); m && m->is_int64() && n > m->as_int64()) {
      return fail(path, "must be at most " + std::to_string(m->as_int64()));
    }
  }
  if (value.is_uint64()) {
    // Above INT64_MAX, so above any maximum a schema can state.
    if (const auto* m = schema.if_contains("maximum"); m && m->is_int64()) {
      return fail(path, "must be at most " + std::to_string(m->as_int64()));
    }
  }
  if (value.is_double()) {
    double d = value.as_double();
    if (const auto* m = schema.if_contains("minimum");
        m && m->is_number() && d < m->to_number<double>()) {
      return fail(path, "must be at least " + bj::serialize(*m));
    }
    if (const auto* m = schema.if_contains("maximum");
        m && m->is_number() && d > m->to_number<double>()) {
      return fail(path, "must be at most " + bj::serialize(*m));
    }
  }
  if (value.is_array()) {
    if (const auto* items = schema.if_contains("items"); items && items->is_object()) {
      const auto& arr = value.as_array();
      for (std::size_t i = 0; i < arr.size(); ++i) {
        if (auto r =
                validate_against_schema(arr[i], items->as_object(), core::json::index(path, i));
            !r) {
          return r;
        }
      }
    }
  }
  if (value.is_object()) {
    const auto& o = value.as_object();
    const bj::object* props = nullptr;
    if (const auto* p = schema.if_contains("properties"); p && p->is_object())
      props = &p->as_object();
    if (const auto* req = schema.if_contains("required"); req && req->is_array()) {
      for (const auto& k : req->as_array()) {
        if (k.is_string() && !o.contains(k.as_string())) {
          std::string p = core::json::join(path, k.as_string());
          return make_error(errc::missing_field, "'" + p + "' is required", p);
        }
      }
    }
    const auto* additional = schema.if_contains("additionalProperties");
    bool closed = additional && additional->is_bool() && !additional->as_bool();
    for (const auto& kv : o) {
      std::string p = core::json::join(path, kv.key());
      const bj::value* sub = props ? props->if_contains(kv.key()) : nullptr;
      if (!sub && additional && additional->is_object()) sub = additional;
      if (!sub) {
        if (closed) {
          std::string known;
          if (props) {
            for (const auto& pk : *props) {
              if (!known.empty()) known += ", ";
              known += pk.key();
            }
          }
          return make_error(errc::unknown_field,
                            "unknown key '" + p + "'" + (known.empty() ? "" : "; known: " + known),
                            p);
        }
        continue;
      }
      if (sub->is_object()) {
        if (auto r = validate_against_schema(kv.value(), sub->as_object(), p); !r) return r;
      }
    }
  }
  return {};
}

bj::object schema_from(std::string_view json_text) {
  boost::system::error_code ec;
  bj::value v = bj::parse(json_text, ec);
  if (ec || !v.is_object()) {
    std::fprintf(stderr, "bug: adapter schema literal is not a JSON object: %.*s\n",
                 static_cast<int>(json_text.size()), json_text.data());
    std::abort();
  }
  return std::move(v.as_object());
}

}  // namespace mg::adapters
