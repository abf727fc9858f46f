#pragma once
// sandbox_fulfillment: an in-process print shop. It takes orders (idempotent by merchgate's
// fulfillment id), walks them through submitted -> in_production -> shipped (carrier, tracking
// number) -> delivered on a configurable clock, announcing each step with a signed webhook, and
// refuses orders holding a product whose fulfillment block says "fail": true.
#include "adapters/adapter.hpp"

#include <map>
#include <set>

namespace mg::adapters::sandbox {

struct FulfillmentSettings {
  std::int64_t in_production_after_ms = 2000;
  std::int64_t shipped_after_ms = 4000;
  std::int64_t delivered_after_ms = 6000;
  std::string carrier = "Sandbox Post";
  std::map<std::string, std::int64_t> shipping;  // currency -> flat rate per order
  std::set<std::string> unsupported_countries{"AQ"};

  static Result<FulfillmentSettings> parse(const boost::json::object& settings);
};

struct SandboxFulfillmentFactory {
  static constexpr std::string_view kType = "sandbox_fulfillment";
  static AdapterType type();
};

}  // namespace mg::adapters::sandbox
