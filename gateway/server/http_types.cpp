#include "gateway/server/http_types.hpp"

#include <boost/json.hpp>

namespace mg::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>((hi << 4) | lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

}  // namespace

std::string_view Request::header(std::string_view lower_name) const noexcept {
  for (const auto& h : headers)
    if (h.name == lower_name) return h.value;
  return {};
}

bool Request::has_header(std::string_view lower_name) const noexcept {
  for (const auto& h : headers)
    if (h.name == lower_name) return true;
  return false;
}

std::optional<std::string_view> Request::query_param(std::string_view name) const noexcept {
  for (const auto& [k, v] : query)
    if (k == name) return std::string_view(v);
  return std::nullopt;
}

Response& Response::set_header(std::string_view lower_name, std::string value) {
  for (auto& h : headers) {
    if (h.name == lower_name) {
      h.value = std::move(value);
      return *this;
    }
  }
  headers.push_back({std::string(lower_name), std::move(value)});
  return *this;
}

std::string_view Response::header(std::string_view lower_name) const noexcept {
  for (const auto& h : headers)
    if (h.name == lower_name) return h.value;
  return {};
}

std::string error_body(const Error& error) {
  boost::json::object inner;
  inner["type"] = error.type();
  inner["code"] = error_code_name(error.code);
  inner["message"] = error.message;
  if (!error.param.empty()) inner["param"] = error.param;
  boost::json::object outer;
  outer["error"] = std::move(inner);
  return boost::json::serialize(outer);
}

Response error_response(const Error& error) {
  Response r;
  r.status = error.status();
  r.set_header("content-type", "application/json");
  r.body = error_body(error);
  return r;
}

bool parse_target(std::string_view target, std::string& path,
                  std::vector<std::pair<std::string, std::string>>& query) {
  if (target.empty() || target.front() != '/') return false;
  auto qpos = target.find('?');
  std::string_view raw_path = target.substr(0, qpos);
  if (!percent_decode(raw_path, path, false)) return false;
  if (path.find('\0') != std::string::npos) return false;
  query.clear();
  if (qpos == std::string_view::npos) return true;
  std::string_view rest = target.substr(qpos + 1);
  auto fpos = rest.find('#');
  if (fpos != std::string_view::npos) rest = rest.substr(0, fpos);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string key, value;
    if (!percent_decode(pair.substr(0, eq), key, true)) return false;
    if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), value, true))
      return false;
    query.emplace_back(std::move(key), std::move(value));
  }
  return true;
}

}  // namespace mg::http
