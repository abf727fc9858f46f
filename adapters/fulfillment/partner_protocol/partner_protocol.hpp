#pragma once
// partner_protocol: merchgate's open Merch Partner Protocol v1 (docs/partner-protocol.md,
// docs/partner-protocol.openapi.yaml). Any print shop that serves it plugs in with a base URL,
// an API key and a Standard Webhooks secret: orders made idempotently by merchgate's external id,
// read back, canceled before production, shipping quotes, and a product list for catalog import;
// the shop signs its webhooks, which carry the whole order, so they are applied as they are.
//
// The same client serves partners that speak the protocol with their own field names (a
// Dialect): `spring` names the product a "listing" and the store a Spring store slug.
#include "adapters/adapter.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace mg::adapters::protocol {

// How one partner names the protocol's product and variant ids in a product's fulfillment block.
struct Dialect {
  std::string_view type;         // the adapter type: "partner_protocol", "spring"
  std::string_view partner;      // for messages: "the partner", "Spring"
  std::string_view product_key;  // fulfillment block key of the protocol's product_id
  std::string_view variant_key;  // fulfillment block key of the protocol's variant_id
};

inline constexpr Dialect kProtocolDialect{"partner_protocol", "the partner", "product", "variant"};

struct Settings {
  std::string store;
  std::string shipping_method;  // asked for in quotes and orders; "" lets the shop choose
  bool table_quotes = false;
  std::chrono::milliseconds rate_limit_wait{30'000};

  static Result<Settings> parse(const boost::json::object& settings);
};

// The adapter type for a dialect: its schema (credentials api_key, webhook_secret; settings
// store, shipping_method, shipping_quotes, rate_limit_wait_ms) and factory.
AdapterType protocol_type(const Dialect& dialect, std::string_view description,
                          std::string_view default_base_url);

struct PartnerProtocolFactory {
  static constexpr std::string_view kType = "partner_protocol";
  static AdapterType type();
};

namespace wire {

inline constexpr std::string_view kVersion = "v1";

boost::json::object recipient(const core::Address& a, std::string_view email);
// POST /v1/stores/{store}/orders body.
boost::json::object order_body(const OrderRequest& request, const Dialect& dialect,
                               const Settings& settings);
// POST /v1/stores/{store}/shipping-quotes body.
boost::json::object quote_body(const QuoteRequest& request, const Dialect& dialect,
                               const Settings& settings);
AResult<Quote> quote_of(const boost::json::object& reply, const std::string& currency);
// The protocol's statuses are merchgate's: submitted, in_production, shipped, delivered,
// canceled, failed. nullopt for anything else.
std::optional<core::FulfillmentStatus> map_status(std::string_view status);
AResult<core::FulfillmentFact> order_fact(const boost::json::object& order);
// Standard Webhooks verification with `keys`, then the order the event carries as a fact.
AResult<WebhookResult> parse_webhook(const WebhookRequest& request,
                                     const std::vector<std::string>& keys);
std::vector<ImportedProduct> imported_products(const boost::json::object& product,
                                               const Dialect& dialect);

}  // namespace wire
}  // namespace mg::adapters::protocol
