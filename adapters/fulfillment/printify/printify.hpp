#pragma once
// printify: Printify's public API v1 (https://api.printify.com/v1) for one shop. Orders are made
// with merchgate's fulfillment id as `external_id` (and `label`), then sent to production; since
// Printify has no lookup by external id, a retry first pages through the shop's recent orders to
// find the one an earlier try made. Cancel with cancel.json (only "on-hold" and
// "payment-not-received" orders), quotes from orders/shipping.json, catalog import from the
// shop's products. Webhooks are signed `X-Pfy-Signature: sha256=<hex HMAC of the body>` when a
// secret was set; without a secret they are only hints (merchgate reads the order back).
// Printify's OpenAPI document (developers.printify.com/openapi.json) types the order's and the line
// items' `status` as free strings without an enum; the values are the ones its reference text
// lists for the order resource ("Order properties"): pending, on-hold, sending-to-production,
// in-production, canceled, fulfilled, partially-fulfilled, payment-not-received, had-issues
// (plus older values, see map_status). What shipped comes from the line items' status and
// `metadata.external_id` (merchgate sends each line's sku as its `external_id`).
#include "adapters/adapter.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace mg::adapters::printify {

struct Settings {
  std::string shop_id;
  std::string currency = "USD";  // the shop's currency: Printify's amounts are its cents
  int shipping_method = 1;       // 1 standard, 2 priority, 3 Printify Express, 4 economy
  bool send_shipping_notification = false;
  bool table_quotes = false;
  // Recent-order pages (10 each) a retry searches for an earlier try's order. Retries come
  // within the hour mostly; an order missed here is made twice, so the default is generous.
  int lookup_pages = 20;
  std::chrono::milliseconds rate_limit_wait{60'000};

  static Result<Settings> parse(const boost::json::object& settings);
};

struct PrintifyFactory {
  static constexpr std::string_view kType = "printify";
  static AdapterType type();
};

namespace wire {

boost::json::object address_to(const core::Address& a, std::string_view email);
boost::json::array line_items(const std::vector<OrderLine>& lines);
// POST /v1/shops/{shop_id}/orders.json body.
boost::json::object order_body(const OrderRequest& request, const Settings& settings);
// The price for `settings.shipping_method` in a shipping.json reply (cents).
AResult<Quote> pick_rate(const boost::json::object& reply, const Settings& settings);
core::FulfillmentStatus map_status(std::string_view status);
// An order (GET …/orders/{id}.json) as a fact: its status, shipments, and what shipped per line.
core::FulfillmentFact order_fact(const boost::json::object& order);
// Whether this listed order is the one made for `fulfillment_id` (external_id, label, or the
// metadata Printify keeps of them).
bool is_order_for(const boost::json::object& order, std::string_view fulfillment_id);
// `secret` empty: webhooks are unsigned hints; otherwise X-Pfy-Signature is required.
AResult<WebhookResult> parse_webhook(const WebhookRequest& request, const std::string& secret);
std::vector<ImportedProduct> imported_variants(const boost::json::object& product,
                                               const std::string& currency);

}  // namespace wire
}  // namespace mg::adapters::printify
