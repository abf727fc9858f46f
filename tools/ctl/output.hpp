#pragma once
// merchgatectl's human output: aligned tables for lists, "key: value" blocks for one object.
// --json bypasses all of this and prints the API's JSON.
#include <boost/json/value.hpp>

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace mg::ctl {

struct Column {
  std::string header;
  // A dotted path into the item ("status.breaker"), or a function of the item.
  std::string path;
  std::function<std::string(const boost::json::object&)> render = {};
};

// A value as one short cell: strings bare, null as "-", objects and arrays as compact JSON.
std::string text_of(const boost::json::value& v);
// The value at a dotted path, or null.
const boost::json::value* at_path(const boost::json::object& o, std::string_view path);
// "25.00 EUR" from minor units and a currency code (raw minor units if the code is unknown).
std::string money(const boost::json::value& amount, const boost::json::value& currency);

void print_table(std::ostream& out, const boost::json::array& items,
                 const std::vector<Column>& columns);
// Top-level fields one per line; nested objects indented below their key.
void print_object(std::ostream& out, const boost::json::object& o, int indent = 0);
// Indented JSON (Boost.JSON 1.81 has no pretty printer).
void print_json(std::ostream& out, const boost::json::value& v, int indent = 0);

}  // namespace mg::ctl
