#include "tools/ctl/output.hpp"

#include "gateway/core/money.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <ostream>

namespace mg::ctl {
namespace bj = boost::json;

namespace {

// Terminal columns a UTF-8 string takes (code points; no wide characters in our output).
std::size_t width(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

}  // namespace

std::string text_of(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::null:
      return "-";
    case bj::kind::string:
      return std::string(v.as_string());
    case bj::kind::bool_:
      return v.as_bool() ? "yes" : "no";
    case bj::kind::array:
      if (std::all_of(v.as_array().begin(), v.as_array().end(),
                      [](const bj::value& x) { return x.is_string(); })) {
        std::string out;
        for (const auto& x : v.as_array()) out += (out.empty() ? "" : ",") + text_of(x);
        return out.empty() ? "-" : out;
      }
      return bj::serialize(v);
    default:
      return bj::serialize(v);
  }
}

const bj::value* at_path(const bj::object& o, std::string_view path) {
  const bj::object* cur = &o;
  while (true) {
    auto dot = path.find('.');
    const bj::value* v = cur->if_contains(path.substr(0, dot));
    if (!v || dot == std::string_view::npos) return v;
    if (!v->is_object()) return nullptr;
    cur = &v->as_object();
    path.remove_prefix(dot + 1);
  }
}

std::string money(const bj::value& amount, const bj::value& currency) {
  if (!amount.is_int64()) return text_of(amount);
  if (currency.is_string()) {
    if (auto c = core::find_currency(currency.as_string())) {
      return core::format_amount(amount.as_int64(), *c) + " " + std::string(currency.as_string());
    }
  }
  return std::to_string(amount.as_int64());
}

void print_table(std::ostream& out, const bj::array& items, const std::vector<Column>& columns) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::size_t> widths;
  for (const auto& c : columns) widths.push_back(width(c.header));
  for (const auto& item : items) {
    if (!item.is_object()) continue;
    const auto& o = item.as_object();
    std::vector<std::string> row;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      std::string cell;
      if (columns[i].render) {
        cell = columns[i].render(o);
      } else {
        const auto* v = at_path(o, columns[i].path);
        cell = v ? text_of(*v) : "-";
      }
      if (width(cell) > 60) cell = cell.substr(0, 57) + "...";
      widths[i] = std::max(widths[i], width(cell));
      row.push_back(std::move(cell));
    }
    rows.push_back(std::move(row));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      s += cells[i];
      if (i + 1 < cells.size()) s += std::string(widths[i] - width(cells[i]) + 2, ' ');
    }
    out << s << "\n";
  };
  std::vector<std::string> headers;
  for (const auto& c : columns) headers.push_back(c.header);
  line(headers);
  for (const auto& r : rows) line(r);
  if (rows.empty()) out << "(none)\n";
}

void print_object(std::ostream& out, const bj::object& o, int indent) {
  std::size_t key_width = 0;
  for (const auto& kv : o) key_width = std::max(key_width, kv.key().size());
  std::string pad(static_cast<std::size_t>(indent), ' ');
  for (const auto& kv : o) {
    const auto& v = kv.value();
    bool nested = (v.is_object() && !v.as_object().empty()) ||
                  (v.is_array() && !v.as_array().empty() &&
                   std::any_of(v.as_array().begin(), v.as_array().end(),
                               [](const bj::value& x) { return x.is_object(); }));
    if (nested) {
      out << pad << kv.key() << ":\n";
      if (v.is_object()) {
        print_object(out, v.as_object(), indent + 2);
      } else {
        for (const auto& x : v.as_array()) {
          if (x.is_object()) {
            out << pad << "  -\n";
            print_object(out, x.as_object(), indent + 4);
          } else {
            out << pad << "  - " << text_of(x) << "\n";
          }
        }
      }
    } else {
      out << pad << kv.key() << ":" << std::string(key_width - kv.key().size() + 1, ' ')
          << (v.is_object() || v.is_array() ? bj::serialize(v) : text_of(v)) << "\n";
    }
  }
}

void print_json(std::ostream& out, const bj::value& v, int indent) {
  std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  std::string close(static_cast<std::size_t>(indent), ' ');
  if (v.is_object() && !v.as_object().empty()) {
    out << "{\n";
    bool first = true;
    for (const auto& kv : v.as_object()) {
      if (!first) out << ",\n";
      first = false;
      out << pad << bj::serialize(bj::value(kv.key())) << ": ";
      print_json(out, kv.value(), indent + 2);
    }
    out << "\n" << close << "}";
  } else if (v.is_array() && !v.as_array().empty()) {
    out << "[\n";
    bool first = true;
    for (const auto& x : v.as_array()) {
      if (!first) out << ",\n";
      first = false;
      out << pad;
      print_json(out, x, indent + 2);
    }
    out << "\n" << close << "]";
  } else {
    out << bj::serialize(v);
  }
  if (indent == 0) out << "\n";
}

}  // namespace mg::ctl
