#include "adapters/payments/paypal/paypal_payments.hpp"

#include "adapters/http/client.hpp"
#include "adapters/payments/paypal/paypal_wire.hpp"
#include "adapters/payments/support/payment_support.hpp"
#include "adapters/schema.hpp"
#include "gateway/core/crypto.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>
#include <mutex>

namespace mg::adapters::paypal {
namespace asio = boost::asio;
namespace bj = boost::json;
namespace {

using SteadyClock = std::chrono::steady_clock;

using payments::credential;
using payments::str;
using payments::trim_slash;

// PayPal-Request-Id is at most 108 characters; longer keys are hashed (stable).
std::string request_id(const std::string& key) { return payments::bounded_key(key, 108); }

// PayPal ids: orders, captures, refunds (upper case and digits), webhook event ids (WH-…).
bool is_path_id(std::string_view id) { return payments::is_path_id(id, 64, "-"); }

struct Call {
  std::string method;
  std::string path;
  std::string body;  // JSON, sent as is
  std::string request_id;
  std::string traceparent;
  std::string operation;
};

struct Bearer {
  std::string token;
  std::uint64_t generation = 0;
};

class PayPalPayments final : public PaymentAdapter {
 public:
  PayPalPayments(const AdapterConfig& config, Settings settings, std::string client_id,
                 std::string client_secret, std::string webhook_id, AdapterServices services)
      : PaymentAdapter(config.id),
        settings_(std::move(settings)),
        client_id_(std::move(client_id)),
        client_secret_(std::move(client_secret)),
        webhook_id_(std::move(webhook_id)),
        services_(std::move(services)),
        base_url_(trim_slash(config.base_url.empty()
                                 ? std::string(default_base_url(settings_.environment))
                                 : config.base_url)) {}

  std::string_view type() const noexcept override { return PayPalFactory::kType; }

  Result<void> validate(const PaymentRequest& request) const override {
    if (request.method.empty() || request.method == "paypal") return {};
    return make_error(errc::invalid_field,
                      "paypal takes no method (the buyer approves at PayPal) or 'paypal'; got '" +
                          request.method + "'",
                      "payment.method");
  }

  Task<AResult<core::PaymentFact>> create_payment(const PaymentRequest& request) override {
    if (!format_value(request.amount, request.currency)) {
      co_return adapter_error(
          adapter_errc::rejected,
          "paypal cannot express " + std::to_string(request.amount) + " " + request.currency);
    }
    Call call{"POST",
              "/v2/checkout/orders",
              bj::serialize(order_body(request)),
              request.ctx.idempotency_key,
              request.ctx.traceparent,
              "payment.create"};
    auto r = co_await send(call);
    if (!r) co_return r.error();
    co_return order_fact(*r);
  }

  Task<AResult<core::PaymentFact>> get_payment(const PaymentRef& ref) override {
    auto r = co_await get_order(ref);
    if (!r) co_return r.error();
    co_return order_fact(*r);
  }

  Task<AResult<core::PaymentFact>> capture_payment(const PaymentRef& ref) override {
    if (!is_path_id(ref.reference)) co_return bad_reference(ref.reference);
    Call call{"POST",
              "/v2/checkout/orders/" + ref.reference + "/capture",
              {},
              ref.ctx.idempotency_key,
              ref.ctx.traceparent,
              "payment.capture"};
    auto r = co_await send(call);
    if (!r && r.error().is(adapter_errc::invalid_state)) co_return co_await get_payment(ref);
    if (!r) co_return r.error();
    co_return order_fact(*r);
  }

  // An order with intent CAPTURE has no void: one that was never captured simply expires at
  // PayPal. A captured one is too late (the service then refunds it).
  Task<AResult<core::PaymentFact>> cancel_payment(const PaymentRef& ref) override {
    auto r = co_await get_order(ref);
    if (!r) co_return r.error();
    core::PaymentFact fact = order_fact(*r);
    if (fact.status == core::PaymentStatus::succeeded ||
        fact.status == core::PaymentStatus::failed || !capture_id(*r).empty()) {
      co_return adapter_error(adapter_errc::invalid_state,
                              "paypal order " + ref.reference + " is already captured", 409);
    }
    fact.status = core::PaymentStatus::canceled;
    fact.client_action.reset();
    co_return fact;
  }

  Task<AResult<RefundCreated>> refund(const RefundRequest& request) override {
    std::string capture;
    if (auto it = request.partner_data.find(std::string(kCaptureKey));
        it != request.partner_data.end()) {
      capture = it->second;
    }
    if (capture.empty()) {
      PaymentRef ref{request.ctx, request.payment_reference, request.amount, request.currency,
                     request.partner_data};
      auto order = co_await get_order(ref);
      if (!order) co_return order.error();
      capture = capture_id(*order);
    }
    if (!is_path_id(capture)) {
      co_return adapter_error(adapter_errc::invalid_state,
                              "paypal order " + request.payment_reference + " has no capture");
    }
    Call call{"POST",
              "/v2/payments/captures/" + capture + "/refund",
              bj::serialize(refund_body(request)),
              request.ctx.idempotency_key,
              request.ctx.traceparent,
              "payment.refund"};
    auto r = co_await send(call);
    if (!r) co_return r.error();
    co_return refund_created(*r);
  }

  Task<AResult<RefundCreated>> get_refund(const RefundRequest& request) override {
    if (!is_path_id(request.reference)) co_return bad_reference(request.reference);
    Call call{
        "GET",       "/v2/payments/refunds/" + request.reference, {}, {}, request.ctx.traceparent,
        "refund.get"};
    auto r = co_await send(call);
    if (!r) co_return r.error();
    co_return refund_created(*r);
  }

  Task<AResult<WebhookResult>> verify_webhook(const WebhookRequest& request) override {
    std::string transmission_id(request.header("paypal-transmission-id"));
    std::string time(request.header("paypal-transmission-time"));
    std::string signature(request.header("paypal-transmission-sig"));
    std::string cert_url(request.header("paypal-cert-url"));
    std::string algo(request.header("paypal-auth-algo"));
    if (transmission_id.empty() || time.empty() || signature.empty() || cert_url.empty()) {
      co_return adapter_error(adapter_errc::invalid_webhook,
                              "missing PAYPAL-TRANSMISSION-ID/-TIME/-SIG or PAYPAL-CERT-URL", 400);
    }
    if (auto fresh = check_transmission_time(time, request.now, settings_.webhook_tolerance_s);
        !fresh) {
      co_return fresh.error();
    }
    if (auto parsed = payments::webhook_object(request.body); !parsed) co_return parsed.error();
    if (settings_.webhook_verification == "api") {
      // The event goes back byte for byte (spliced in, not re-serialized).
      std::string body = R"({"auth_algo":)" + bj::serialize(bj::value(algo)) + R"(,"cert_url":)" +
                         bj::serialize(bj::value(cert_url)) + R"(,"transmission_id":)" +
                         bj::serialize(bj::value(transmission_id)) + R"(,"transmission_sig":)" +
                         bj::serialize(bj::value(signature)) + R"(,"transmission_time":)" +
                         bj::serialize(bj::value(time)) + R"(,"webhook_id":)" +
                         bj::serialize(bj::value(webhook_id_)) + R"(,"webhook_event":)" +
                         request.body + "}";
      Call call{
          "POST",          "/v1/notifications/verify-webhook-signature", std::move(body), {}, {},
          "webhook.verify"};
      auto r = co_await send(call);
      if (!r) {
        co_return adapter_error(adapter_errc::invalid_webhook,
                                "verify-webhook-signature failed: " + r.error().message, 400);
      }
      if (str(*r, "verification_status") != "SUCCESS") {
        co_return adapter_error(adapter_errc::invalid_webhook,
                                "PayPal says the signature does not verify", 400);
      }
      co_return parse_event(request.body);
    }
    if (algo != "SHA256withRSA") {
      co_return adapter_error(adapter_errc::invalid_webhook,
                              "PAYPAL-AUTH-ALGO '" + algo + "' is not SHA256withRSA", 400);
    }
    if (auto problem = certificate_url_problem(cert_url, settings_.certificate_hosts)) {
      co_return adapter_error(adapter_errc::invalid_webhook, "PAYPAL-CERT-URL refused: " + *problem,
                              400);
    }
    auto sig = core::base64_decode(signature);
    if (!sig) {
      co_return adapter_error(adapter_errc::invalid_webhook,
                              "PAYPAL-TRANSMISSION-SIG is not base64", 400);
    }
    auto pem = co_await certificate(cert_url);
    if (!pem) co_return pem.error();
    std::string data = signed_string(transmission_id, time, webhook_id_, request.body);
    if (!core::rsa_sha256_verify_with_certificate(*pem, data, *sig)) {
      co_return adapter_error(adapter_errc::invalid_webhook,
                              "PAYPAL-TRANSMISSION-SIG does not verify", 400);
    }
    co_return parse_event(request.body);
  }

  Task<AResult<std::string>> test_credentials() override {
    auto bearer = co_await get_bearer(0);
    if (!bearer) co_return bearer.error();
    co_return "PayPal REST app " + client_id_.substr(0, 8) + "… authenticated (" +
        settings_.environment + ")";
  }

 private:
  static AdapterError bad_reference(const std::string& reference) {
    return adapter_error(adapter_errc::not_found, "paypal: '" + reference + "' is not a PayPal id");
  }

  Task<AResult<bj::object>> get_order(const PaymentRef& ref) {
    if (!is_path_id(ref.reference)) co_return bad_reference(ref.reference);
    Call call{"GET",        "/v2/checkout/orders/" + ref.reference, {}, {}, ref.ctx.traceparent,
              "payment.get"};
    co_return co_await send(call);
  }

  // The cached token, refreshed before it expires. One caller refreshes at a time; the others
  // keep using a token that is still valid, or wait for the refresh. `refused` is the
  // generation of a token PayPal just refused (0: none).
  Task<AResult<Bearer>> get_bearer(std::uint64_t refused) {
    auto deadline = SteadyClock::now() + services_.http->options().total_timeout;
    std::uint64_t failures_seen = 0;
    {
      std::lock_guard lock(token_mutex_);
      failures_seen = token_failures_;
    }
    std::optional<asio::steady_timer> timer;
    for (;;) {
      bool refresh_here = false;
      std::optional<Bearer> usable;
      std::optional<AdapterError> failed;
      {
        std::lock_guard lock(token_mutex_);
        core::Timestamp now = services_.clock->now();
        bool valid = !token_.empty() && now < token_expires_at_ && token_generation_ != refused;
        if (valid) usable = Bearer{token_, token_generation_};
        bool due = !valid || now >= token_refresh_at_;
        if (due && !refreshing_) {
          refreshing_ = true;
          refresh_here = true;
        } else if (!valid && token_failures_ != failures_seen) {
          failed = last_token_error_;  // the refresh we waited for failed: do not pile on
        }
      }
      if (refresh_here) {
        auto fetched = co_await fetch_token();
        std::lock_guard lock(token_mutex_);
        refreshing_ = false;
        if (!fetched) {
          ++token_failures_;
          last_token_error_ = fetched.error();
          if (usable) co_return *usable;  // still valid: try again on a later call
          co_return fetched.error();
        }
        core::Timestamp now = services_.clock->now();
        std::int64_t lifetime_ms = fetched->expires_in_s * 1000;
        token_ = fetched->access_token;
        token_expires_at_ = now + lifetime_ms - std::min<std::int64_t>(lifetime_ms / 10, 60'000);
        // Renew ahead: 5 minutes before expiry, or halfway through a short-lived token.
        token_refresh_at_ = now + lifetime_ms - std::min<std::int64_t>(lifetime_ms / 2, 300'000);
        ++token_generation_;
        co_return Bearer{token_, token_generation_};
      }
      if (usable) co_return *usable;
      if (failed) co_return *failed;
      if (SteadyClock::now() >= deadline) {
        co_return adapter_error(adapter_errc::timeout,
                                "paypal: gave up waiting for the OAuth token refresh");
      }
      if (!timer) timer.emplace(co_await asio::this_coro::executor);
      timer->expires_after(std::chrono::milliseconds(5));
      co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  Task<AResult<Token>> fetch_token() {
    http::ClientRequest req;
    req.method = "POST";
    req.url = base_url_ + "/v1/oauth2/token";
    req.headers.push_back(
        {"authorization", "Basic " + core::base64_encode(client_id_ + ":" + client_secret_)});
    req.headers.push_back({"content-type", "application/x-www-form-urlencoded"});
    req.headers.push_back({"accept", "application/json"});
    req.body = "grant_type=client_credentials";
    req.idempotent = true;  // a token request has no side effect
    req.adapter = id();
    req.operation = "oauth.token";
    auto r = co_await services_.http->async_send(std::move(req));
    if (!r) co_return transport_error(r.error(), "paypal oauth token");
    if (r->status != 200) co_return error_from(r->status, r->body, r->header("retry-after"));
    co_return parse_token(r->body);
  }

  // Sends one call with the bearer token; a refused token is renewed once and the call repeated
  // (same PayPal-Request-Id, so it is still one request to PayPal).
  Task<AResult<bj::object>> send(const Call& call) {
    std::uint64_t refused = 0;
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto bearer = co_await get_bearer(refused);
      if (!bearer) co_return bearer.error();
      http::ClientRequest req;
      req.method = call.method;
      req.url = base_url_ + call.path;
      req.headers.push_back({"authorization", "Bearer " + bearer->token});
      req.headers.push_back({"accept", "application/json"});
      if (call.method == "POST") {
        req.headers.push_back({"content-type", "application/json"});
        req.headers.push_back({"prefer", "return=representation"});
        if (!call.request_id.empty())
          req.headers.push_back({"paypal-request-id", request_id(call.request_id)});
        req.body = call.body;
        req.idempotent = !call.request_id.empty();
      } else {
        req.idempotent = true;
      }
      req.traceparent = call.traceparent;
      req.adapter = id();
      req.operation = call.operation;
      std::string what = "paypal " + call.operation;
      auto r = co_await services_.http->async_send(std::move(req));
      if (!r) co_return transport_error(r.error(), what);
      if (r->status == 401 && attempt == 0) {
        refused = bearer->generation;
        continue;
      }
      co_return payments::object_answer(*r, what, &error_from);
    }
    co_return adapter_error(adapter_errc::authentication, "paypal refused a fresh token", 401);
  }

  // PayPal's signing certificate, fetched once per URL and kept a day.
  Task<AResult<std::string>> certificate(const std::string& url) {
    core::Timestamp now = services_.clock->now();
    {
      std::lock_guard lock(cert_mutex_);
      if (auto it = certs_.find(url); it != certs_.end() && now < it->second.second) {
        co_return it->second.first;
      }
    }
    http::ClientRequest req;
    req.method = "GET";
    req.url = url;
    req.idempotent = true;
    req.adapter = id();
    req.operation = "webhook.certificate";
    auto r = co_await services_.http->async_send(std::move(req));
    if (!r || r->status != 200 ||
        r->body.find("-----BEGIN CERTIFICATE-----") == std::string::npos ||
        r->body.size() > 64 * 1024) {
      co_return adapter_error(
          adapter_errc::invalid_webhook,
          "cannot fetch PayPal's certificate from " + url +
              (r ? " (HTTP " + std::to_string(r->status) + ")" : ": " + r.error().message()),
          400);
    }
    std::lock_guard lock(cert_mutex_);
    if (certs_.size() >= 32) certs_.clear();
    certs_[url] = {r->body, now + 24 * 3600'000};
    co_return r->body;
  }

  Settings settings_;
  std::string client_id_;
  std::string client_secret_;
  std::string webhook_id_;
  AdapterServices services_;
  std::string base_url_;

  std::mutex token_mutex_;
  std::string token_;
  core::Timestamp token_expires_at_ = 0;
  core::Timestamp token_refresh_at_ = 0;
  std::uint64_t token_generation_ = 0;
  std::uint64_t token_failures_ = 0;
  bool refreshing_ = false;
  AdapterError last_token_error_;

  std::mutex cert_mutex_;
  std::map<std::string, std::pair<std::string, core::Timestamp>> certs_;
};

}  // namespace

AdapterType PayPalFactory::type() {
  AdapterType t;
  t.name = kType;
  t.kind = Kind::payment;
  t.description =
      "PayPal Orders v2: the buyer approves at PayPal, merchgate captures; refunds on the "
      "capture; webhooks verified against PayPal's certificate or its verify API.";
  t.default_base_url = "https://api-m.sandbox.paypal.com";
  t.schema = schema_from(R"json({
    "credentials": {
      "type": "object", "additionalProperties": false,
      "required": ["client_id", "client_secret", "webhook_id"],
      "properties": {
        "client_id": {"type": "string", "minLength": 1, "maxLength": 255,
          "description": "the REST app's client id"},
        "client_secret": {"type": "string", "minLength": 1, "maxLength": 255, "x-secret": true,
          "description": "the REST app's secret"},
        "webhook_id": {"type": "string", "minLength": 1, "maxLength": 64,
          "description": "the id PayPal gave the webhook pointing at /v1/webhooks/{adapter_id}"}
      }
    },
    "settings": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "environment": {"type": "string", "enum": ["sandbox", "live"],
          "description": "sandbox (default) or live: picks the API host when base_url is not set"},
        "webhook_verification": {"type": "string", "enum": ["certificate", "api"],
          "description": "certificate (default): verify locally with PayPal's certificate; api: ask /v1/notifications/verify-webhook-signature"},
        "certificate_hosts": {"type": "array", "items": {"type": "string", "minLength": 1},
          "description": "hosts PAYPAL-CERT-URL may name, each with its subdomains (default [\"paypal.com\"])"},
        "webhook_tolerance_s": {"type": "integer", "minimum": 0, "maximum": 2592000,
          "description": "reject transmissions older than this (default 259200: PayPal retries for 3 days; 0 disables)"}
      }
    }
  })json");
  t.create = [](const AdapterConfig& config,
                AdapterServices& services) -> Result<std::shared_ptr<Adapter>> {
    auto settings = Settings::parse(config.settings);
    if (!settings) return settings.error();
    if (!services.http || !services.clock) {
      return make_error(errc::internal, "paypal needs the outbound HTTP client", "type");
    }
    return std::shared_ptr<Adapter>(std::make_shared<PayPalPayments>(
        config, std::move(*settings), credential(config, "client_id"),
        credential(config, "client_secret"), credential(config, "webhook_id"), services));
  };
  return t;
}

}  // namespace mg::adapters::paypal
