#include "gateway/api/router.hpp"

namespace mg::api {
namespace {

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    auto j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

void Router::add(std::string method, std::string pattern, Access access, RouteHandler handler) {
  Route r;
  r.method = std::move(method);
  for (auto s : split(pattern)) {
    if (s == "*") {
      r.tail = true;
      break;
    }
    r.segments.emplace_back(s);
  }
  r.pattern = std::move(pattern);
  r.access = access;
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match m;
  auto parts = split(path);
  for (const auto& r : routes_) {
    if (r.tail ? parts.size() <= r.segments.size() : parts.size() != r.segments.size()) continue;
    std::vector<std::string> params;
    bool ok = true;
    for (std::size_t i = 0; i < r.segments.size() && ok; ++i) {
      const std::string& seg = r.segments[i];
      if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
        if (parts[i].empty()) ok = false;
        params.emplace_back(parts[i]);
      } else {
        ok = seg == parts[i];
      }
    }
    if (!ok) continue;
    if (r.method != method) {
      if (m.allow.find(r.method) == std::string::npos) {
        if (!m.allow.empty()) m.allow += ", ";
        m.allow += r.method;
      }
      continue;
    }
    m.route = &r;
    m.params = std::move(params);
    if (r.tail) {
      std::string tail;
      for (std::size_t i = r.segments.size(); i < parts.size(); ++i) {
        if (!tail.empty()) tail += '/';
        tail += parts[i];
      }
      m.tail = std::move(tail);
    }
    m.allow.clear();
    return m;
  }
  return m;
}

}  // namespace mg::api
