#pragma once
// Routing rules (CONTRACT §5 /v1/admin/routing): the first rule whose match fits the checkout
// names the processors to try, in order.
#include "gateway/core/error.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mg::core {

struct RoutingRule {
  std::vector<std::string> currencies;  // empty: any
  std::vector<std::string> countries;   // empty: any (buyer's shipping country)
  std::optional<std::int64_t> min_amount;
  std::optional<std::int64_t> max_amount;
  std::vector<std::string> processors;
};

struct RoutingTable {
  std::vector<RoutingRule> rules;
};

// The processors of the first matching rule, or empty when none matches.
std::vector<std::string> route(const RoutingTable& table, std::string_view currency,
                               std::string_view country, std::int64_t amount);

// {"rules": [{"match": {"currency": [...], "country": [...], "min_amount", "max_amount"},
//             "processors": [...]}]}; errors name the field.
Result<RoutingTable> parse_routing(const boost::json::object& body);
boost::json::object to_json(const RoutingTable& table);

}  // namespace mg::core
