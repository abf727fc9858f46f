#include "adapters/payments/adyen/adyen_payments.hpp"

#include "adapters/http/client.hpp"
#include "adapters/payments/adyen/adyen_wire.hpp"
#include "adapters/payments/support/payment_support.hpp"
#include "adapters/schema.hpp"
#include "gateway/core/crypto.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace mg::adapters::adyen {
namespace bj = boost::json;
namespace {

using payments::credential;
using payments::trim_slash;

// Adyen takes idempotency keys up to 64 characters; longer ones are hashed (64 hex, stable).
std::string adyen_key(const std::string& key) { return payments::bounded_key(key, 64); }

bool is_psp_reference(std::string_view id) { return payments::is_path_id(id, 64); }

struct Call {
  std::string path;  // after /v{N}
  std::string body;
  std::string idempotency_key;
  std::string traceparent;
  std::string operation;
};

class AdyenPayments final : public PaymentAdapter {
 public:
  AdyenPayments(const AdapterConfig& config, Settings settings, std::string api_key,
                std::string hmac_key, AdapterServices services)
      : PaymentAdapter(config.id),
        settings_(std::move(settings)),
        api_key_(std::move(api_key)),
        hmac_key_(std::move(hmac_key)),
        services_(std::move(services)),
        base_url_(trim_slash(config.base_url.empty() ? std::string(AdyenFactory::kDefaultBaseUrl)
                                                     : config.base_url) +
                  "/v" + std::to_string(settings_.api_version)) {}

  std::string_view type() const noexcept override { return AdyenFactory::kType; }

  Result<void> validate(const PaymentRequest& request) const override {
    if (request.method.empty() || is_method_token(request.method)) return {};
    return make_error(errc::invalid_field,
                      "adyen takes an Adyen payment method type such as ideal or klarna, or no "
                      "method (Adyen's hosted checkout); got '" +
                          request.method + "'",
                      "payment.method");
  }

  Task<AResult<core::PaymentFact>> create_payment(const PaymentRequest& request) override {
    bool hosted = request.method.empty();
    Call call{hosted ? "/sessions" : "/payments",
              bj::serialize(hosted ? session_body(request, settings_, services_.public_url)
                                   : payment_body(request, settings_, services_.public_url)),
              request.ctx.idempotency_key, request.ctx.traceparent, "payment.create"};
    auto r = co_await send(call);
    if (!r) co_return r.error();
    if (hosted) co_return session_result(*r);
    co_return payment_result(*r, settings_);
  }

  // The Checkout API has no read of a payment: notifications are the news. "pending" changes
  // nothing in the checkout, so the reconciler's poll is harmless.
  Task<AResult<core::PaymentFact>> get_payment(const PaymentRef& ref) override {
    core::PaymentFact fact;
    fact.status = core::PaymentStatus::pending;
    fact.reference = ref.reference;
    co_return fact;
  }

  Task<AResult<core::PaymentFact>> capture_payment(const PaymentRef& ref) override {
    if (!is_psp_reference(ref.reference)) co_return bad_reference(ref.reference);
    Call call{"/payments/" + ref.reference + "/captures",
              bj::serialize(modification_body(settings_, ref.amount, ref.currency,
                                              ref.ctx.checkout_id + ":capture")),
              ref.ctx.idempotency_key, ref.ctx.traceparent, "payment.capture"};
    auto r = co_await send(call);
    if (!r) co_return r.error();
    core::PaymentFact fact;  // received: the CAPTURE notification settles it
    fact.status = core::PaymentStatus::processing;
    fact.reference = ref.reference;
    co_return fact;
  }

  // Asynchronous at Adyen: accepted here, confirmed by the CANCELLATION notification. A payment
  // that turns out captured anyway is refunded by the service when its success arrives.
  Task<AResult<core::PaymentFact>> cancel_payment(const PaymentRef& ref) override {
    if (!is_psp_reference(ref.reference)) co_return bad_reference(ref.reference);
    Call call{"/payments/" + ref.reference + "/cancels",
              bj::serialize(modification_body(settings_, 0, {}, ref.ctx.checkout_id + ":cancel")),
              ref.ctx.idempotency_key, ref.ctx.traceparent, "payment.cancel"};
    auto r = co_await send(call);
    if (!r) co_return r.error();
    core::PaymentFact fact;
    fact.status = core::PaymentStatus::canceled;
    fact.reference = ref.reference;
    co_return fact;
  }

  // Asynchronous: pending until the REFUND (or REFUND_FAILED) notification, which names the
  // refund by the reference sent here (merchgate's rfd_ id).
  Task<AResult<RefundCreated>> refund(const RefundRequest& request) override {
    if (!is_psp_reference(request.payment_reference)) {
      co_return bad_reference(request.payment_reference);
    }
    Call call{"/payments/" + request.payment_reference + "/refunds",
              bj::serialize(modification_body(settings_, request.amount, request.currency,
                                              request.refund_id)),
              request.ctx.idempotency_key, request.ctx.traceparent, "payment.refund"};
    auto r = co_await send(call);
    if (!r) co_return r.error();
    std::string psp;
    if (const auto* v = r->if_contains("pspReference"); v && v->is_string()) psp = v->as_string();
    co_return RefundCreated{psp, core::RefundStatus::pending, {}};
  }

  // No read of a refund either: it stays pending until its notification.
  Task<AResult<RefundCreated>> get_refund(const RefundRequest& request) override {
    co_return RefundCreated{request.reference, core::RefundStatus::pending, {}};
  }

  Task<AResult<WebhookResult>> verify_webhook(const WebhookRequest& request) override {
    co_return parse_notification(request.body, hmac_key_, settings_);
  }

  Task<AResult<std::string>> test_credentials() override {
    bj::object body{{"merchantAccount", settings_.merchant_account}};
    Call call{"/paymentMethods", bj::serialize(body), {}, {}, "payment_methods.list"};
    auto r = co_await send(call);
    if (!r) co_return r.error();
    std::size_t count = 0;
    if (const auto* m = r->if_contains("paymentMethods"); m && m->is_array())
      count = m->as_array().size();
    co_return "Adyen merchant account " + settings_.merchant_account + ": " +
        std::to_string(count) + " payment methods available";
  }

 private:
  static AdapterError bad_reference(const std::string& reference) {
    return adapter_error(adapter_errc::not_found,
                         "adyen: '" + reference + "' is not a pspReference");
  }

  Task<AResult<bj::object>> send(const Call& call) {
    http::ClientRequest req;
    req.method = "POST";
    req.url = base_url_ + call.path;
    req.headers.push_back({"x-api-key", api_key_});
    req.headers.push_back({"content-type", "application/json"});
    req.headers.push_back({"accept", "application/json"});
    if (!call.idempotency_key.empty())
      req.headers.push_back({"idempotency-key", adyen_key(call.idempotency_key)});
    req.body = call.body;
    req.idempotent = !call.idempotency_key.empty();
    req.traceparent = call.traceparent;
    req.adapter = id();
    req.operation = call.operation;
    std::string what = "adyen " + call.operation;
    co_return co_await payments::send_for_object(*services_.http, std::move(req), std::move(what),
                                                 &error_from);
  }

  Settings settings_;
  std::string api_key_;
  std::string hmac_key_;
  AdapterServices services_;
  std::string base_url_;
};

}  // namespace

AdapterType AdyenFactory::type() {
  AdapterType t;
  t.name = kType;
  t.kind = Kind::payment;
  t.description =
      "Adyen Checkout API: hosted checkout sessions or /payments with a method type; captures, "
      "refunds and cancels settled by HMAC-signed notifications.";
  t.default_base_url = kDefaultBaseUrl;
  t.schema = schema_from(R"json({
    "credentials": {
      "type": "object", "additionalProperties": false, "required": ["api_key", "hmac_key"],
      "properties": {
        "api_key": {"type": "string", "minLength": 8, "maxLength": 512, "x-secret": true,
          "description": "the API credential's key, sent as X-API-Key"},
        "hmac_key": {"type": "string", "minLength": 2, "maxLength": 256, "x-secret": true,
          "description": "the webhook's HMAC key (hex) that signs notifications"}
      }
    },
    "settings": {
      "type": "object", "additionalProperties": false, "required": ["merchant_account"],
      "properties": {
        "merchant_account": {"type": "string", "minLength": 1, "maxLength": 80,
          "description": "the merchant account payments are made for"},
        "api_version": {"type": "integer", "minimum": 49, "maximum": 99,
          "description": "Checkout API version in the path (default 71)"},
        "capture": {"type": "string", "enum": ["automatic", "manual"],
          "description": "automatic (default: the account's capture delay) or manual: merchgate captures after AUTHORISATION"}
      }
    }
  })json");
  t.create = [](const AdapterConfig& config,
                AdapterServices& services) -> Result<std::shared_ptr<Adapter>> {
    auto settings = Settings::parse(config.settings);
    if (!settings) return settings.error();
    std::string hmac = credential(config, "hmac_key");
    if (!core::hex_decode(hmac) || hmac.size() % 2 != 0) {
      return make_error(errc::invalid_field, "'credentials.hmac_key' must be hex",
                        "credentials.hmac_key");
    }
    if (!services.http) {
      return make_error(errc::internal, "adyen needs the outbound HTTP client", "type");
    }
    return std::shared_ptr<Adapter>(std::make_shared<AdyenPayments>(
        config, std::move(*settings), credential(config, "api_key"), std::move(hmac), services));
  };
  return t;
}

}  // namespace mg::adapters::adyen
