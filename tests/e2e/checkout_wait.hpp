#pragma once
// Reading a checkout through the app API and waiting, bounded, for it to reach a state: shared by
// the end-to-end suites (merch_*, payments_*).
#include "tests/support/gateway_process.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <functional>
#include <string>

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

}  // namespace mg::testing
