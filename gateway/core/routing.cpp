#include "gateway/core/routing.hpp"

#include "gateway/core/country.hpp"
#include "gateway/core/json.hpp"
#include "gateway/core/money.hpp"

#include <algorithm>

namespace mg::core {
namespace bj = boost::json;

std::vector<std::string> route(const RoutingTable& table, std::string_view currency,
                               std::string_view country, std::int64_t amount) {
  auto contains = [](const std::vector<std::string>& v, std::string_view s) {
    return v.empty() || std::find(v.begin(), v.end(), s) != v.end();
  };
  for (const auto& rule : table.rules) {
    if (!contains(rule.currencies, currency)) continue;
    if (!rule.countries.empty() && (country.empty() || !contains(rule.countries, country)))
      continue;
    if (rule.min_amount && amount < *rule.min_amount) continue;
    if (rule.max_amount && amount > *rule.max_amount) continue;
    return rule.processors;
  }
  return {};
}

namespace {

Result<std::vector<std::string>> string_list(const bj::object& o, std::string_view key,
                                             std::string_view prefix,
                                             bool (*valid)(std::string_view),
                                             std::string_view what) {
  std::vector<std::string> out;
  auto arr = json::optional_array({o, key, prefix});
  if (!arr) return arr.error();
  if (!*arr) return out;
  for (std::size_t i = 0; i < (*arr)->size(); ++i) {
    const auto& v = (**arr)[i];
    std::string path = json::index(json::join(prefix, key), i);
    if (!v.is_string() || !valid(v.as_string())) {
      return make_error(errc::invalid_field, "'" + path + "' must be " + std::string(what), path);
    }
    out.emplace_back(v.as_string());
  }
  return out;
}

bool is_currency(std::string_view s) { return find_currency(s).has_value(); }
bool is_country(std::string_view s) { return is_country_code(s); }
bool is_adapter_id(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

}  // namespace

Result<RoutingTable> parse_routing(const bj::object& body) {
  if (auto r = json::only_keys(body, {"rules"}, ""); !r) return r.error();
  auto rules = json::required_array({body, "rules", ""});
  if (!rules) return rules.error();
  if ((*rules)->size() > 100) {
    return make_error(errc::invalid_field, "at most 100 routing rules", "rules");
  }
  RoutingTable table;
  for (std::size_t i = 0; i < (*rules)->size(); ++i) {
    std::string path = json::index("rules", i);
    const auto& rv = (**rules)[i];
    if (!rv.is_object()) return make_error(errc::invalid_field, "each rule is an object", path);
    const auto& ro = rv.as_object();
    if (auto r = json::only_keys(ro, {"match", "processors"}, path); !r) return r.error();
    RoutingRule rule;
    auto match = json::optional_object({ro, "match", path});
    if (!match) return match.error();
    if (*match) {
      std::string mpath = json::join(path, "match");
      const auto& m = **match;
      if (auto r = json::only_keys(m, {"currency", "country", "min_amount", "max_amount"}, mpath);
          !r) {
        return r.error();
      }
      auto cur = string_list(m, "currency", mpath, is_currency, "ISO 4217 codes");
      if (!cur) return cur.error();
      rule.currencies = std::move(*cur);
      auto cty = string_list(m, "country", mpath, is_country, "ISO 3166-1 alpha-2 codes");
      if (!cty) return cty.error();
      rule.countries = std::move(*cty);
      auto lo = json::optional_int({m, "min_amount", mpath}, 0, kMaxCheckoutAmount);
      if (!lo) return lo.error();
      rule.min_amount = *lo;
      auto hi = json::optional_int({m, "max_amount", mpath}, 0, INT64_MAX);
      if (!hi) return hi.error();
      rule.max_amount = *hi;
      if (rule.min_amount && rule.max_amount && *rule.min_amount > *rule.max_amount) {
        return make_error(errc::invalid_field, "min_amount is above max_amount",
                          json::join(mpath, "min_amount"));
      }
    }
    auto procs = string_list(ro, "processors", path, is_adapter_id, "adapter ids");
    if (!procs) return procs.error();
    if (procs->empty()) {
      return make_error(errc::missing_field, "a rule names at least one processor",
                        json::join(path, "processors"));
    }
    rule.processors = std::move(*procs);
    table.rules.push_back(std::move(rule));
  }
  return table;
}

bj::object to_json(const RoutingTable& table) {
  bj::array rules;
  for (const auto& r : table.rules) {
    bj::object match;
    auto list = [](const std::vector<std::string>& v) {
      bj::array a;
      for (const auto& s : v) a.push_back(bj::value(s));
      return a;
    };
    if (!r.currencies.empty()) match["currency"] = list(r.currencies);
    if (!r.countries.empty()) match["country"] = list(r.countries);
    if (r.min_amount) match["min_amount"] = *r.min_amount;
    if (r.max_amount) match["max_amount"] = *r.max_amount;
    rules.push_back(bj::object{{"match", std::move(match)}, {"processors", list(r.processors)}});
  }
  return bj::object{{"rules", std::move(rules)}};
}

}  // namespace mg::core
