#pragma once
// Reading a checkout and its events through the app API and waiting, bounded, for it to reach a
// state: shared by the end-to-end suites (merch_*, payments_*).
#include "tests/support/gateway_process.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace mg::testing {

// The checkout as GET /v1/checkouts/{id} returns it, or an empty object.
inline boost::json::object checkout(GatewayProcess& gw, const std::string& id) {
  auto r = gw.app("GET", "/v1/checkouts/" + id);
  if (!r || r->status != 200) return {};
  boost::json::value doc = r->json();
  return doc.as_object();
}

// Polls the checkout until `done` holds or `within` passes; returns the last one read.
inline boost::json::object wait_checkout(
    GatewayProcess& gw, const std::string& id,
    const std::function<bool(const boost::json::object&)>& done,
    std::chrono::seconds within = std::chrono::seconds(30)) {
  boost::json::object last;
  eventually(
      [&] {
        last = checkout(gw, id);
        return !last.empty() && done(last);
      },
      within);
  return last;
}

// The types of the checkout's events in the order GET /v1/events lists them (newest first);
// empty on error.
inline std::vector<std::string> event_types(GatewayProcess& gw, const std::string& id) {
  std::vector<std::string> types;
  auto r = gw.app("GET", "/v1/events?limit=100&checkout=" + id);
  if (!r || r->status != 200) return types;
  boost::json::value doc = r->json();
  for (const auto& e : doc.as_object().at("data").as_array()) {
    types.emplace_back(e.as_object().at("type").as_string());
  }
  return types;
}

inline bool has_event(GatewayProcess& gw, const std::string& id, const std::string& type) {
  auto types = event_types(gw, id);
  return std::find(types.begin(), types.end(), type) != types.end();
}

}  // namespace mg::testing
