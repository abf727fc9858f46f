#pragma once
// printful: Printful's REST API v1 (https://api.printful.com): orders created as drafts with
// merchgate's fulfillment id as `external_id` (`update_existing=true`, and a `GET /orders/@{id}`
// first, so a retry finds the order instead of making a second), then confirmed; cancel with
// DELETE; quotes from POST /shipping/rates; catalog import from the sync products. Webhooks: v2
// (signed, HMAC-SHA256 of the body in `x-pf-webhook-signature`) are applied as facts; v1 (unsigned)
// are only hints that make merchgate read the order back (fetch-to-verify).
#include "adapters/adapter.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace mg::adapters::printful {

struct Settings {
  std::string store_id;               // X-PF-Store-Id (needed with account-level tokens)
  std::string shipping = "STANDARD";  // Printful shipping method id for orders and quotes
  bool table_quotes = false;          // quote from the products' shipping tables, not the API
  std::chrono::milliseconds rate_limit_wait{60'000};  // a 429 without Retry-After

  static Result<Settings> parse(const boost::json::object& settings);
};

struct PrintfulFactory {
  static constexpr std::string_view kType = "printful";
  static AdapterType type();
};

// The wire format, as pure functions (tested against fixtures from Printful's documentation).
namespace wire {

// POST /orders body: recipient, items (sync_variant_id, or variant_id with files), retail costs.
boost::json::object order_body(const OrderRequest& request, const Settings& settings);
// POST /shipping/rates body; nullopt when a line has no catalog `variant` (rates need one).
std::optional<boost::json::object> rates_body(const QuoteRequest& request);
// The rate for `settings.shipping` (else the cheapest) from a /shipping/rates reply `result`.
AResult<Quote> pick_rate(const boost::json::value& result, const Settings& settings,
                         const std::string& currency);
// Printful status -> merchgate status: draft/pending/onhold -> submitted, inprocess ->
// in_production, partial/fulfilled -> shipped, failed -> failed, canceled -> canceled.
core::FulfillmentStatus map_status(std::string_view status);
// A v1 order object (`result` of GET /orders/{id}) as a fact, shipments included, and what they
// held when every shipment lists its items (matched to the order's items by `external_id`).
core::FulfillmentFact order_fact(const boost::json::object& order);
// Verifies and normalizes a webhook. `keys` are the HMAC keys of the v2 secret.
AResult<WebhookResult> parse_webhook(const WebhookRequest& request,
                                     const std::vector<std::string>& keys);
// The v2 HMAC keys of a webhook secret: the hex-decoded bytes (Printful shows the secret in hex)
// and the text itself.
std::vector<std::string> webhook_keys(std::string_view secret);
// The variants of one sync product (`result` of GET /store/products/{id}).
std::vector<ImportedProduct> imported_variants(const boost::json::object& result);

}  // namespace wire
}  // namespace mg::adapters::printful
