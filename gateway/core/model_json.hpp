#pragma once
// JSON forms of the domain types. `Form::api` is what clients see (RFC 3339 times, no internal
// fields); `Form::storage` is what the store keeps (exact integers, everything) and reads back.
#include "gateway/core/error.hpp"
#include "gateway/core/model.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>

namespace mg::core {

enum class Form { api, storage };

boost::json::object to_json(const Checkout& c, Form form);
Result<Checkout> checkout_from_storage(const boost::json::object& o);

boost::json::object to_json(const Refund& r, const Checkout& c, Form form);
boost::json::object to_json(const Fulfillment& f, const Checkout& c, Form form);
boost::json::object to_json(const Dispute& d, const Checkout& c);

boost::json::object to_json(const Seller& s, Form form);
Result<Seller> seller_from_storage(const boost::json::object& o);

boost::json::object to_json(const Product& p, Form form);
Result<Product> product_from_storage(const boost::json::object& o);

boost::json::object to_json(const Address& a);
boost::json::object to_json(const Shipment& s, Form form);

// {"id", "object": "event", "type", "created_at", "checkout", "data": {"object": ...}}: the bytes
// stored once and delivered as they are.
std::string event_body(const Event& e);

// A time for a form: an RFC 3339 string (api) or integer milliseconds (storage); 0 is null.
boost::json::value time_value(Timestamp t, Form form);

}  // namespace mg::core
