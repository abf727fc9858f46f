#pragma once
// What the payment-processor adapters (stripe, paypal, adyen) share and no other module needs:
// reading their JSON answers, credentials from the adapter block, bounded idempotency keys and
// path ids, the HTTP status classes every processor maps the same way, and "send, map a
// transport failure, check 2xx, parse a JSON object". Processor-specific wire formats and error
// shapes stay in each adapter's *_wire.cpp.
#include "adapters/adapter.hpp"
#include "adapters/http/client.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mg::adapters::payments {

// ---- JSON answers ------------------------------------------------------------------------

// A string member, or empty.
std::string str(const boost::json::object& o, std::string_view key);
// An int64 member, or 0.
std::int64_t num(const boost::json::object& o, std::string_view key);
// An object / array member, or null.
const boost::json::object* sub(const boost::json::object& o, std::string_view key);
const boost::json::array* arr(const boost::json::object& o, std::string_view key);

// A webhook body as a JSON object, or malformed_webhook (400) saying "<what> is not a JSON
// object".
AResult<boost::json::object> webhook_object(std::string_view body,
                                            std::string_view what = "event body");

// ---- configuration -------------------------------------------------------------------------

// A string credential of the adapter block, or empty.
std::string credential(const AdapterConfig& config, std::string_view key);
// `url` without trailing slashes.
std::string trim_slash(std::string url);

// ---- ids -------------------------------------------------------------------------------------

// The job's idempotency key as the processor takes it: as is up to `max_size` characters,
// longer ones hashed (64 hex, stable, so a retry sends the same key).
std::string bounded_key(const std::string& key, std::size_t max_size);
// Whether `id` is safe as one path segment: 1..max_size of [A-Za-z0-9] and `extra` characters.
bool is_path_id(std::string_view id, std::size_t max_size, std::string_view extra = {});

// ---- answers ---------------------------------------------------------------------------------

// The statuses every processor maps alike: 401/403 authentication, 404 not_found, 409/429
// rate_limited (Retry-After in seconds, 1..3600, default 1), 5xx or a non-4xx server_error.
// nullopt for any other 4xx: the processor's own error shape decides (declines, states, …).
std::optional<AdapterError> common_status_error(int status, const std::string& message,
                                                const std::string& code,
                                                std::string_view retry_after);

// A processor's mapping of a non-2xx answer (its *_wire.cpp error_from).
using ErrorFrom = AdapterError (*)(int status, std::string_view body, std::string_view retry_after);

// An answer as a JSON object: a non-2xx is `error_from`'s error, a 2xx that is not a JSON object
// a partner_error naming `what` ("stripe payment.create").
AResult<boost::json::object> object_answer(const http::ClientResponse& response,
                                           std::string_view what, ErrorFrom error_from);

// Sends `request` and reads the answer as object_answer does; a transport failure is
// transport_error(…, what). `what` names the call ("stripe payment.create").
Task<AResult<boost::json::object>> send_for_object(http::HttpClient& client,
                                                   http::ClientRequest request, std::string what,
                                                   ErrorFrom error_from);

}  // namespace mg::adapters::payments
