// Hot functions on the request path, one benchmark each.
#include "gateway/core/card_scan.hpp"
#include "gateway/core/cart.hpp"
#include "gateway/core/checkout_machine.hpp"
#include "gateway/core/json.hpp"
#include "gateway/core/model_json.hpp"
#include "gateway/service/checkout_service.hpp"
#include "webhooks/signature/standard_webhooks.hpp"

#include <benchmark/benchmark.h>
#include <boost/json.hpp>

namespace {

namespace bj = boost::json;
using namespace mg;

const std::string kBody = R"({"seller":"sel_hype","currency":"EUR",
  "buyer":{"id":"u_123","email":"a@example.com","shipping_address":{"name":"Ada L",
  "line1":"1 Main St","line2":null,"city":"Milan","state":null,"postal_code":"20121",
  "country":"IT"}},"lines":[{"sku":"hype-tee-black-m","quantity":2},
  {"sku":"hype-hoodie-grey-l","quantity":1}],"payment":{"processor":null,
  "method":"pm_sandbox_ok"},"metadata":{"video_id":"v_987"}})";

core::Checkout sample_checkout() {
  auto req = core::parse_checkout_request(*core::json::parse_object(kBody));
  core::Seller seller{"sel_hype", "Hype", 500, {}, 0, 0};
  std::map<std::string, core::Product> products;
  for (const char* sku : {"hype-tee-black-m", "hype-hoodie-grey-l"}) {
    core::Product p;
    p.sku = sku;
    p.seller = "sel_hype";
    p.title = sku;
    p.unit_amount = 2500;
    p.currency = "EUR";
    p.fulfillment = bj::object{{"adapter", "sandbox-merch"}};
    products[sku] = p;
  }
  auto plan = core::plan_cart(*req, seller, [&](const std::string& sku) { return &products[sku]; });
  return *core::build_checkout(*req, *plan, seller, {{"sandbox-merch", 495}}, "key", 1);
}

void ParseAndValidateCheckoutRequest(benchmark::State& state) {
  for (auto _ : state) {
    auto doc = core::json::parse_object(kBody);
    auto req = core::parse_checkout_request(*doc);
    benchmark::DoNotOptimize(req);
  }
}
BENCHMARK(ParseAndValidateCheckoutRequest);

void ScanBodyForCardData(benchmark::State& state) {
  bj::value doc = bj::parse(kBody);
  for (auto _ : state) benchmark::DoNotOptimize(core::find_card_data(doc));
}
BENCHMARK(ScanBodyForCardData);

void SerializeCheckoutForApi(benchmark::State& state) {
  auto c = sample_checkout();
  for (auto _ : state) benchmark::DoNotOptimize(bj::serialize(core::to_json(c, core::Form::api)));
}
BENCHMARK(SerializeCheckoutForApi);

void LoadCheckoutFromStorage(benchmark::State& state) {
  std::string stored = bj::serialize(core::to_json(sample_checkout(), core::Form::storage));
  for (auto _ : state) {
    bj::value v = bj::parse(stored);
    benchmark::DoNotOptimize(core::checkout_from_storage(v.as_object()));
  }
}
BENCHMARK(LoadCheckoutFromStorage);

void ApplyPaymentSucceeded(benchmark::State& state) {
  auto base = sample_checkout();
  core::PaymentFact fact;
  fact.status = core::PaymentStatus::succeeded;
  fact.reference = "sbp_x";
  for (auto _ : state) {
    auto c = base;
    benchmark::DoNotOptimize(core::apply_payment_fact(c, fact, 2));
  }
}
BENCHMARK(ApplyPaymentSucceeded);

void VerifyStandardWebhookSignature(benchmark::State& state) {
  std::string key = *webhooks::secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  std::string body(400, 'x');
  std::string sig = webhooks::sign(key, "msg_1", 1700000000, body);
  for (auto _ : state) {
    benchmark::DoNotOptimize(webhooks::verify({key}, "msg_1", "1700000000", sig, body, 1700000000));
  }
}
BENCHMARK(VerifyStandardWebhookSignature);

void FingerprintIdempotentRequest(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(service::request_fingerprint("POST", "/v1/checkouts", kBody));
  }
}
BENCHMARK(FingerprintIdempotentRequest);

}  // namespace

BENCHMARK_MAIN();
