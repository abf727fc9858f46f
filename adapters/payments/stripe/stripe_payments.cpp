#include "adapters/payments/stripe/stripe_payments.hpp"

#include "adapters/http/client.hpp"
#include "adapters/payments/stripe/stripe_wire.hpp"
#include "adapters/payments/support/payment_support.hpp"
#include "adapters/schema.hpp"

namespace mg::adapters::stripe {
namespace bj = boost::json;
namespace {

using payments::credential;
using payments::trim_slash;

// Stripe accepts idempotency keys up to 255 characters; longer ones are hashed (stable).
std::string stripe_key(const std::string& key) { return payments::bounded_key(key, 255); }

// Stripe ids: pi_…, re_…, acct_….
bool is_path_id(std::string_view id) { return payments::is_path_id(id, 255, "_"); }

// One call: method, path, form parameters (POST), the idempotency key, metric labels.
struct Call {
  std::string method;
  std::string path;
  FormFields form;
  std::string idempotency_key;
  std::string traceparent;
  std::string operation;
};

class StripePayments final : public PaymentAdapter {
 public:
  StripePayments(const AdapterConfig& config, Settings settings, std::string secret_key,
                 std::string webhook_secret, AdapterServices services)
      : PaymentAdapter(config.id),
        settings_(std::move(settings)),
        secret_key_(std::move(secret_key)),
        webhook_secret_(std::move(webhook_secret)),
        services_(std::move(services)),
        base_url_(trim_slash(config.base_url.empty() ? std::string(StripeFactory::kDefaultBaseUrl)
                                                     : config.base_url)) {}

  std::string_view type() const noexcept override { return StripeFactory::kType; }

  Result<void> validate(const PaymentRequest& request) const override {
    if (request.method.empty() || is_method_token(request.method)) return {};
    return make_error(errc::invalid_field,
                      "stripe takes a PaymentMethod id such as pm_card_visa, or no method (the "
                      "client confirms with the client_secret); got '" +
                          request.method + "'",
                      "payment.method");
  }

  Task<AResult<core::PaymentFact>> create_payment(const PaymentRequest& request) override {
    Call call{"POST",
              "/v1/payment_intents",
              create_params(request, settings_),
              request.ctx.idempotency_key,
              request.ctx.traceparent,
              "payment.create"};
    auto r = co_await send(call);
    if (!r) co_return r.error();
    co_return payment_fact(*r);
  }

  Task<AResult<core::PaymentFact>> get_payment(const PaymentRef& ref) override {
    if (!is_path_id(ref.reference)) co_return bad_reference(ref.reference);
    Call call{"GET",        "/v1/payment_intents/" + ref.reference, {}, {}, ref.ctx.traceparent,
              "payment.get"};
    auto r = co_await send(call);
    if (!r) co_return r.error();
    co_return payment_fact(*r);
  }

  Task<AResult<core::PaymentFact>> capture_payment(const PaymentRef& ref) override {
    if (!is_path_id(ref.reference)) co_return bad_reference(ref.reference);
    Call call{"POST",
              "/v1/payment_intents/" + ref.reference + "/capture",
              {},
              ref.ctx.idempotency_key,
              ref.ctx.traceparent,
              "payment.capture"};
    auto r = co_await send(call);
    if (!r && r.error().is(adapter_errc::invalid_state)) {
      // Already captured (or canceled): what Stripe holds now is the answer.
      co_return co_await get_payment(ref);
    }
    if (!r) co_return r.error();
    co_return payment_fact(*r);
  }

  Task<AResult<core::PaymentFact>> cancel_payment(const PaymentRef& ref) override {
    if (!is_path_id(ref.reference)) co_return bad_reference(ref.reference);
    Call call{"POST",
              "/v1/payment_intents/" + ref.reference + "/cancel",
              {{"cancellation_reason", "requested_by_customer"}},
              ref.ctx.idempotency_key,
              ref.ctx.traceparent,
              "payment.cancel"};
    auto r = co_await send(call);
    if (!r) co_return r.error();
    co_return payment_fact(*r);
  }

  Task<AResult<RefundCreated>> refund(const RefundRequest& request) override {
    Call call{"POST",
              "/v1/refunds",
              refund_params(request),
              request.ctx.idempotency_key,
              request.ctx.traceparent,
              "payment.refund"};
    auto r = co_await send(call);
    if (!r) co_return r.error();
    co_return refund_created(*r);
  }

  Task<AResult<RefundCreated>> get_refund(const RefundRequest& request) override {
    if (!is_path_id(request.reference)) co_return bad_reference(request.reference);
    Call call{"GET",       "/v1/refunds/" + request.reference, {}, {}, request.ctx.traceparent,
              "refund.get"};
    auto r = co_await send(call);
    if (!r) co_return r.error();
    co_return refund_created(*r);
  }

  Task<AResult<WebhookResult>> verify_webhook(const WebhookRequest& request) override {
    auto ok = verify_signature(request.header("stripe-signature"), request.body, webhook_secret_,
                               request.now / 1000, settings_.webhook_tolerance_s);
    if (!ok) co_return ok.error();
    co_return parse_event(request.body);
  }

  Task<AResult<std::string>> test_credentials() override {
    Call call{"GET", "/v1/account", {}, {}, {}, "account.get"};
    auto r = co_await send(call);
    if (!r) co_return r.error();
    std::string id;
    if (const auto* v = r->if_contains("id"); v && v->is_string()) id = v->as_string();
    bool live = secret_key_.find("_live_") != std::string::npos;
    co_return "Stripe account " + (id.empty() ? std::string("(unnamed)") : id) +
        (live ? " (live mode)" : " (test mode)");
  }

 private:
  static AdapterError bad_reference(const std::string& reference) {
    return adapter_error(adapter_errc::not_found, "stripe: '" + reference + "' is not a Stripe id");
  }

  // Sends one call; a 2xx JSON object is the value, anything else an AdapterError.
  Task<AResult<bj::object>> send(const Call& call) {
    http::ClientRequest req;
    req.method = call.method;
    req.url = base_url_ + call.path;
    req.headers.push_back({"authorization", "Bearer " + secret_key_});
    req.headers.push_back({"stripe-version", settings_.api_version});
    req.headers.push_back({"accept", "application/json"});
    if (call.method == "POST") {
      req.headers.push_back({"content-type", "application/x-www-form-urlencoded"});
      // Every POST carries the job's key: a retry is the same request to Stripe.
      if (!call.idempotency_key.empty())
        req.headers.push_back({"idempotency-key", stripe_key(call.idempotency_key)});
      req.body = form_encode(call.form);
      req.idempotent = !call.idempotency_key.empty();
    } else {
      req.idempotent = true;
    }
    req.traceparent = call.traceparent;
    req.adapter = id();
    req.operation = call.operation;
    std::string what = "stripe " + call.operation;
    co_return co_await payments::send_for_object(*services_.http, std::move(req), std::move(what),
                                                 &error_from);
  }

  Settings settings_;
  std::string secret_key_;
  std::string webhook_secret_;
  AdapterServices services_;
  std::string base_url_;
};

}  // namespace

AdapterType StripeFactory::type() {
  AdapterType t;
  t.name = kType;
  t.kind = Kind::payment;
  t.description =
      "Stripe PaymentIntents with Connect destination charges (seller payouts), refunds and "
      "Stripe-Signature webhooks.";
  t.default_base_url = kDefaultBaseUrl;
  t.schema = schema_from(R"json({
    "credentials": {
      "type": "object", "additionalProperties": false,
      "required": ["secret_key", "webhook_secret"],
      "properties": {
        "secret_key": {"type": "string", "minLength": 8, "maxLength": 255, "x-secret": true,
          "description": "secret (sk_test_…, sk_live_…) or restricted (rk_…) API key"},
        "webhook_secret": {"type": "string", "x-prefix": "whsec_", "maxLength": 255,
          "x-secret": true,
          "description": "the signing secret of the webhook endpoint pointing at /v1/webhooks/{adapter_id}"}
      }
    },
    "settings": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "capture_method": {"type": "string", "enum": ["automatic", "automatic_async", "manual"],
          "description": "automatic (default) or manual: authorize, then merchgate captures on payment_intent.amount_capturable_updated"},
        "api_version": {"type": "string", "minLength": 10, "maxLength": 40,
          "description": "Stripe-Version header (default 2024-06-20)"},
        "webhook_tolerance_s": {"type": "integer", "minimum": 0, "maximum": 3600,
          "description": "replay window for Stripe-Signature timestamps (default 300; 0 disables)"}
      }
    }
  })json");
  t.create = [](const AdapterConfig& config,
                AdapterServices& services) -> Result<std::shared_ptr<Adapter>> {
    auto settings = Settings::parse(config.settings);
    if (!settings) return settings.error();
    std::string key = credential(config, "secret_key");
    if (!(key.starts_with("sk_") || key.starts_with("rk_"))) {
      return make_error(errc::invalid_field,
                        "'credentials.secret_key' must be a Stripe secret (sk_…) or restricted "
                        "(rk_…) key",
                        "credentials.secret_key");
    }
    if (!services.http) {
      return make_error(errc::internal, "stripe needs the outbound HTTP client", "type");
    }
    return std::shared_ptr<Adapter>(
        std::make_shared<StripePayments>(config, std::move(*settings), std::move(key),
                                         credential(config, "webhook_secret"), services));
  };
  return t;
}

}  // namespace mg::adapters::stripe
