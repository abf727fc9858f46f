#pragma once
// POST /v1/checkouts: the request as parsed and validated, then priced against the catalog.
// Prices come from the catalog, never from the request (CONTRACT §3).
#include "gateway/core/error.hpp"
#include "gateway/core/model.hpp"

#include <boost/json/object.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mg::core {

inline constexpr std::size_t kMaxCheckoutLines = 100;

struct CheckoutLineRequest {
  std::string sku;
  std::int64_t quantity = 0;
};

struct CheckoutRequest {
  std::string seller;
  Buyer buyer;
  std::string currency;
  std::vector<CheckoutLineRequest> lines;
  std::string processor;   // empty: routing decides
  std::string method;      // processor payment method token, if the app has one
  std::string return_url;  // where a redirect client action sends the buyer back
  boost::json::object metadata;
};

// Shape and range checks, no catalog: unknown fields, types, currency code, quantities,
// address, metadata limits, card data anywhere (errc::card_data_forbidden).
Result<CheckoutRequest> parse_checkout_request(const boost::json::object& body);

// Validates the lines against the catalog and prices them; groups them by the fulfillment
// adapter that makes them. `find_product` returns nullptr for an unknown sku.
struct CartPlan {
  std::vector<Line> lines;
  std::map<std::string, std::vector<std::size_t>> lines_by_adapter;  // adapter id -> line indexes
  std::int64_t amount_subtotal = 0;
};
Result<CartPlan> plan_cart(const CheckoutRequest& request, const Seller& seller,
                           const std::function<const Product*(const std::string&)>& find_product);

// The new checkout: one pending fulfillment per adapter with its shipping quote, totals and the
// platform fee. `shipping` maps adapter id -> quote in the checkout currency.
Result<Checkout> build_checkout(CheckoutRequest request, CartPlan plan, const Seller& seller,
                                const std::map<std::string, std::int64_t>& shipping,
                                std::string api_key_id, Timestamp now);

// Address shape checks shared with admin inputs; `prefix` is the param path.
Result<Address> parse_address(const boost::json::object& o, std::string_view prefix);

}  // namespace mg::core
