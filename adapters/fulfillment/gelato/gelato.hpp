#pragma once
// gelato: Gelato's Order API v4 (https://order.gelatoapis.com), key in X-API-KEY. Orders are
// created as drafts with merchgate's fulfillment id as `orderReferenceId` and turned into
// orders with PATCH {"orderType": "order"}; a retry first searches by that reference
// (POST /v4/orders:search) so it finds the earlier try's order. Quotes from POST
// /v4/orders:quote, cancel with POST /v4/orders/{id}:cancel (409 once printed). Gelato may split
// one order into connected orders: get_order reads them all. Its webhooks (order_status_updated
// with per-item tracking, …) are not signed, so they are only hints: merchgate reads the order
// back and applies what the API says.
#include "adapters/adapter.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace mg::adapters::gelato {

struct Settings {
  std::string shipment_method;  // a shipmentMethodUid or type ("normal", "express"); "": cheapest
  bool table_quotes = false;
  std::chrono::milliseconds rate_limit_wait{10'000};

  static Result<Settings> parse(const boost::json::object& settings);
};

struct GelatoFactory {
  static constexpr std::string_view kType = "gelato";
  static AdapterType type();
};

namespace wire {

boost::json::object address(const core::Address& a, std::string_view email);
// POST /v4/orders body (orderType "draft").
boost::json::object order_body(const OrderRequest& request, const Settings& settings);
// POST /v4/orders:quote body.
boost::json::object quote_body(const QuoteRequest& request);
// The shipping of a quote reply: per quote (one per production location) the configured method,
// else the cheapest, summed.
AResult<Quote> pick_quote(const boost::json::object& reply, const Settings& settings,
                          const std::string& currency);
core::FulfillmentStatus map_status(std::string_view fulfillment_status);
// One order (GET /v4/orders/{id}), with what shipped per item (`itemReferenceId` = the line's
// sku); several connected orders add up to one fact.
core::FulfillmentFact order_fact(const boost::json::object& order);
core::FulfillmentFact combined_fact(const std::vector<boost::json::object>& orders);
AResult<WebhookResult> parse_webhook(const WebhookRequest& request);

}  // namespace wire
}  // namespace mg::adapters::gelato
