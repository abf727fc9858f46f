#pragma once
// The adapter seam (DESIGN "Adapters"): interfaces every payment processor and merch partner
// implements, the normalized facts they return, and the registry of built-in types.
// An adapter is a translator: it never touches the store, the router or another adapter.
#include "adapters/http/circuit_breaker.hpp"
#include "gateway/core/checkout_machine.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/core/error.hpp"
#include "gateway/core/model.hpp"
#include "gateway/server/http_types.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;
}
namespace mg::http {
class HttpClient;
}

namespace mg::adapters {

template <class T>
using Task = boost::asio::awaitable<T>;

// ---- errors -------------------------------------------------------------------------------

enum class adapter_errc {
  unavailable = 1,    // the partner could not be reached; the request had no effect there
  timeout,            // sent but unanswered: the outcome is unknown
  partner_error,      // 5xx or an unreadable answer: the outcome is unknown
  rejected,           // 4xx: the partner refused the request as made (data or configuration)
  authentication,     // the partner refused the credentials
  rate_limited,       // 429: try later (AdapterError::retry_after)
  not_found,          // the partner does not know the object
  declined,           // a payment was declined: a normal outcome, final for this attempt
  refused,            // a merch partner will not make the order (unprintable, out of stock)
  invalid_state,      // the object cannot do that now (cancel after production started)
  unsupported,        // this adapter does not offer the operation
  invalid_webhook,    // bad or missing signature
  stale_webhook,      // signed, but outside the replay window
  malformed_webhook,  // signed, but the body is not what the partner documents
};

const boost::system::error_category& adapter_category() noexcept;
boost::system::error_code make_error_code(adapter_errc e) noexcept;

struct AdapterError {
  boost::system::error_code code;
  std::string message;       // for operators; never holds a secret
  int http_status = 0;       // the partner's status, when there was one
  std::string partner_code;  // the partner's own error code
  std::chrono::milliseconds retry_after{0};

  bool is(adapter_errc e) const noexcept { return code == make_error_code(e); }
};

[[noreturn]] void throw_exception_from_error(const AdapterError& e,
                                             const boost::source_location& loc);

template <class T>
using AResult = boost::system::result<T, AdapterError>;

AdapterError adapter_error(adapter_errc code, std::string message, int http_status = 0,
                           std::string partner_code = {});

// A 5xx (or another status no operation expects) from the partner. 503 Service Unavailable
// means the partner did not take the request (RFC 9110 §15.6.4): unavailable, so another
// processor may be tried. Any other may have had an effect: partner_error (outcome unknown).
AdapterError server_error(int http_status, std::string message, std::string partner_code = {});

// Worth trying again later (same partner, same idempotency key).
bool is_retryable(const AdapterError& e) noexcept;
// The request certainly had no effect at the partner: another processor may be tried.
bool is_safe_to_fail_over(const AdapterError& e) noexcept;
// Counts against the adapter's circuit breaker.
bool is_partner_failure(const AdapterError& e) noexcept;

// A failed outbound call (an http::client_errc) as an adapter error: nothing could have reached
// the partner (URL, DNS, connect, TLS) → unavailable; sent but unanswered → timeout; a broken or
// unreadable answer → partner_error. `what` names the call for the message.
AdapterError transport_error(const boost::system::error_code& ec, std::string_view what);

// ---- calls --------------------------------------------------------------------------------

struct CallContext {
  std::string checkout_id;
  std::string idempotency_key;  // derived from the job: a retry sends the same key
  std::string traceparent;
  // The job's try: 1 on the first, more on retries, 0 when unknown. Adapters whose partner has
  // no idempotency key look for an earlier try's object unless this is 1.
  int attempt = 0;
};

struct PaymentRequest {
  CallContext ctx;
  std::int64_t amount = 0;
  std::string currency;
  std::string method;      // the app's payment method token, if any
  std::string return_url;  // where a redirect sends the buyer back
  std::string buyer_email;
  std::optional<core::Address> shipping;
  std::string description;
  std::string payout_account;     // the seller's account at this processor (Connect)
  std::int64_t platform_fee = 0;  // application fee when payout_account is set
  std::map<std::string, std::string> metadata;
};

struct PaymentRef {
  CallContext ctx;
  std::string reference;
  std::int64_t amount = 0;
  std::string currency;
  std::map<std::string, std::string> partner_data;
};

struct RefundRequest {
  CallContext ctx;
  std::string refund_id;  // merchgate's rfd_ id
  std::string reference;  // the processor's refund id, once known (get_refund)
  std::string payment_reference;
  std::int64_t amount = 0;
  std::string currency;
  std::string reason;
  std::map<std::string, std::string> partner_data;
};

struct RefundCreated {
  std::string reference;
  core::RefundStatus status = core::RefundStatus::pending;
  std::string failure_message;
};

struct OrderLine {
  std::string sku;
  std::string title;
  std::int64_t quantity = 0;
  std::int64_t unit_amount = 0;
  boost::json::object spec;  // the product's fulfillment block
};

struct OrderRequest {
  CallContext ctx;
  std::string fulfillment_id;  // merchgate's ful_ id: the partner's external id
  std::vector<OrderLine> lines;
  core::Address address;
  std::string buyer_email;
  std::string currency;
  std::int64_t amount_shipping = 0;
};

struct OrderRef {
  CallContext ctx;
  std::string fulfillment_id;
  std::string reference;  // the partner's order id (empty if never learned)
};

struct QuoteRequest {
  CallContext ctx;
  std::vector<OrderLine> lines;
  core::Address address;
  std::string currency;
};

struct Quote {
  std::int64_t amount = 0;
  std::string currency;
  std::string method;
};

// ---- inbound webhooks ---------------------------------------------------------------------

struct WebhookRequest {
  std::vector<http::Header> headers;  // lower-case names
  std::string body;
  std::vector<std::pair<std::string, std::string>> query;
  core::Timestamp now = 0;

  std::string_view header(std::string_view lower_name) const noexcept;
};

// One partner event, normalized. It names its target by whatever the partner echoes back
// (merchgate's own ids first), and carries at most one fact.
struct InboundEvent {
  enum class Kind { payment, refund, dispute, fulfillment, ignored };

  std::string partner_event_id;  // the deduplication key
  std::string type;              // the partner's event type, for logs and audit
  Kind kind = Kind::ignored;

  std::string checkout_id;
  std::string fulfillment_id;
  std::string payment_reference;
  std::string order_reference;

  std::optional<core::PaymentFact> payment;
  std::optional<core::RefundFact> refund;
  std::optional<core::DisputeFact> dispute;
  std::optional<core::FulfillmentFact> fulfillment;
  // A follow-up partner call the event asks for: "capture" (PayPal approval), "sync" (an
  // unsigned hint: fetch the object from the partner and apply what its API says).
  std::string action;
};

boost::json::object to_json(const InboundEvent& e);
std::optional<InboundEvent> inbound_event_from_json(const boost::json::object& o);

struct WebhookResult {
  std::vector<InboundEvent> events;
  int status = 200;
  std::string content_type = "application/json";
  std::string body = R"({"received":true})";
};

// ---- instances ----------------------------------------------------------------------------

enum class Kind { payment, fulfillment };
std::string_view to_string(Kind k) noexcept;

class Adapter {
 public:
  explicit Adapter(std::string id) : id_(std::move(id)) {}
  virtual ~Adapter() = default;
  Adapter(const Adapter&) = delete;
  Adapter& operator=(const Adapter&) = delete;

  const std::string& id() const noexcept { return id_; }
  virtual std::string_view type() const noexcept = 0;
  virtual Kind kind() const noexcept = 0;

  // Verifies the partner's signature scheme (replay window included) and normalizes the body.
  virtual Task<AResult<WebhookResult>> verify_webhook(const WebhookRequest& request) = 0;
  // A harmless authenticated call: a one-line description of the account on success.
  virtual Task<AResult<std::string>> test_credentials();
  // Pages the adapter serves under /hosted/{adapter_id}/ (the sandbox's payment page).
  virtual Task<std::optional<http::Response>> hosted_page(const http::Request& request,
                                                          std::string_view subpath);
  // Background work (a sandbox's webhook sender); stop() is called before the instance goes.
  virtual void start() {}
  virtual void stop() {}

  http::CircuitBreaker& breaker() noexcept { return breaker_; }

 private:
  std::string id_;
  http::CircuitBreaker breaker_;
};

class PaymentAdapter : public Adapter {
 public:
  using Adapter::Adapter;
  Kind kind() const noexcept final { return Kind::payment; }

  // Pure checks before anything is stored (an unknown method token is a 400, not a charge).
  virtual Result<void> validate(const PaymentRequest& request) const;
  virtual Task<AResult<core::PaymentFact>> create_payment(const PaymentRequest& request) = 0;
  virtual Task<AResult<core::PaymentFact>> get_payment(const PaymentRef& ref) = 0;
  virtual Task<AResult<core::PaymentFact>> capture_payment(const PaymentRef& ref);
  virtual Task<AResult<core::PaymentFact>> cancel_payment(const PaymentRef& ref) = 0;
  virtual Task<AResult<RefundCreated>> refund(const RefundRequest& request) = 0;
  // What the processor says about a refund merchgate made (by `reference`): for the reconciler.
  virtual Task<AResult<RefundCreated>> get_refund(const RefundRequest& request);
};

// Catalog import (POST /v1/admin/adapters/{id}/import-products): what a partner's store holds.
struct ImportRequest {
  CallContext ctx;
  std::string currency;      // for partners whose prices carry no currency (the shop's currency)
  std::size_t limit = 1000;  // at most this many variants
};

// One sellable variant at the partner, ready to become a catalog product.
struct ImportedProduct {
  std::string sku;  // a valid catalog sku (the partner's own when it is one)
  std::string title;
  std::string description;
  std::optional<std::int64_t> unit_amount;  // the partner's retail price, when it has one
  std::string currency;
  std::vector<std::string> images;  // https URLs
  std::string group;                // variants of one partner product share it
  std::map<std::string, std::string> options;
  bool available = true;
  boost::json::object fulfillment;  // the product's fulfillment block, without "adapter"
};

class FulfillmentAdapter : public Adapter {
 public:
  using Adapter::Adapter;
  Kind kind() const noexcept final { return Kind::fulfillment; }

  // Checks a product's fulfillment block for this partner (admin PUT /products).
  virtual Result<void> validate_product(const boost::json::object& spec) const;
  // Shipping for these lines to this address; adapter_errc::refused when it cannot ship there.
  virtual Task<AResult<Quote>> quote_shipping(const QuoteRequest& request) = 0;
  // Idempotent by fulfillment_id: a retry finds the order made before instead of a second one.
  virtual Task<AResult<core::FulfillmentFact>> create_order(const OrderRequest& request) = 0;
  virtual Task<AResult<core::FulfillmentFact>> get_order(const OrderRef& ref) = 0;
  virtual Task<AResult<core::FulfillmentFact>> cancel_order(const OrderRef& ref) = 0;
  // The seller's products and variants in the partner's store, with the partner's ids.
  // Default: adapter_errc::unsupported.
  virtual Task<AResult<std::vector<ImportedProduct>>> import_products(const ImportRequest& request);
};

// ---- registry -----------------------------------------------------------------------------

// One adapter instance's configuration, the same shape in the config file and the admin API.
struct AdapterConfig {
  std::string id;
  std::string type;
  bool enabled = true;
  std::string base_url;
  boost::json::object credentials;
  boost::json::object settings;
};

// What the gateway lends adapters.
struct AdapterServices {
  boost::asio::io_context* io = nullptr;
  http::HttpClient* http = nullptr;
  const core::Clock* clock = nullptr;
  std::string public_url;  // how browsers reach the gateway (hosted pages, tracking links)
  std::string data_dir;    // where a sandbox keeps its ledger
  // Sends a request through the gateway's own router in-process (sandbox webhooks).
  std::function<Task<http::Response>(http::Request)> loopback;
};

struct AdapterType {
  std::string_view name;
  Kind kind = Kind::payment;
  std::string_view description;
  std::string_view default_base_url;
  // {"credentials": <JSON Schema>, "settings": <JSON Schema>}: validated before `create`.
  boost::json::object schema;
  std::function<Result<std::shared_ptr<Adapter>>(const AdapterConfig&, AdapterServices&)> create;
};

class Registry {
 public:
  void add(AdapterType type);
  const AdapterType* find(std::string_view name) const;
  std::vector<const AdapterType*> all() const;
  // "a, b, c": for errors naming the known types.
  std::string names() const;

  // Validates the block against the type's schema (errors name the key, e.g.
  // `credentials.secret_key`), then builds the instance.
  Result<std::shared_ptr<Adapter>> create(const AdapterConfig& config,
                                          AdapterServices& services) const;

 private:
  std::vector<AdapterType> types_;
};

// The explicit list of built-in adapters (one CMake option each; no static self-registration).
void register_builtin_adapters(Registry& registry);

}  // namespace mg::adapters

namespace boost::system {
template <>
struct is_error_code_enum<mg::adapters::adapter_errc> : std::true_type {};
}  // namespace boost::system
