#pragma once
// spring: Spring (formerly Teespring) over merchgate's Merch Partner Protocol v1. Spring
// publishes no open order API, so this adapter speaks the protocol (docs/partner-protocol.md) with
// Spring's own names: the store is a Spring store slug, a product is a Spring `listing` with its
// `variant`. `base_url` is required: the protocol endpoint Spring (or its integration) serves.
#include "adapters/adapter.hpp"
#include "adapters/fulfillment/partner_protocol/partner_protocol.hpp"

namespace mg::adapters::spring {

inline constexpr protocol::Dialect kSpringDialect{"spring", "Spring", "listing", "variant"};

struct SpringFactory {
  static constexpr std::string_view kType = "spring";
  static AdapterType type();
};

}  // namespace mg::adapters::spring
