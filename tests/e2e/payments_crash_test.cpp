// SIGKILL between "payment sent to the processor" and "result stored": after a restart the job
// asks the same processor again with the same idempotency key (Stripe's Idempotency-Key, PayPal's
// PayPal-Request-Id, Adyen's Idempotency-Key), the simulator replays its first answer, and the
// processor holds exactly one payment for the checkout.
#include "tests/e2e/payments_sim_setup.hpp"

#include <gtest/gtest.h>

namespace mg::testing {
namespace {

using namespace payments;

struct Processor {
  const char* type;         // adapter type and merchgate-sim flag
  const char* method;       // the checkout's payment method ("" for none)
  const char* create_path;  // the call that makes the payment at the processor
  const char* key_header;   // where the idempotency key travels
  const char* objects;      // the simulator's state list holding payments
  const char* settled;      // the payment status the restarted gateway reaches
};

class PaymentCrash : public ::testing::TestWithParam<Processor> {};

TEST_P(PaymentCrash, KilledAfterTheProcessorCallTheRestartMakesNoSecondPayment) {
  const Processor& p = GetParam();
  TempDir dir;
  GatewayProcess gw(dir.path());
  gw.start({{"MERCHGATE_TEST_CRASH_POINT", "payment.create.after_partner_call:1"}});
  SimProcess sim(dir.path(), processors(gw), 300);
  configure(gw, sim, {std::string(p.type) + "-main"});

  std::string key = core::new_id("idem");
  std::string body = GatewayFixture::checkout_body({{"ebook", 1}}, p.method);
  auto first = gw.app("POST", "/v1/checkouts", body, key);
  EXPECT_FALSE(first && first->status == 201) << "answered before the crash point";
  ASSERT_TRUE(eventually([&] { return !gw.running(); }, std::chrono::seconds(15)))
      << "the crash point was never reached\n"
      << gw.log_tail();
  // The processor made the payment; merchgate never stored that it did.
  ASSERT_EQ(sim_state(sim, p.type).at(p.objects).as_array().size(), 1u) << sim.log_tail();

  gw.start();
  std::optional<Reply> created;
  ASSERT_TRUE(eventually(
      [&] {
        created = gw.app("POST", "/v1/checkouts", body, key);
        return created && created->status == 201;
      },
      std::chrono::seconds(30)))
      << (created ? created->body : "no answer") << "\n"
      << gw.log_tail();
  bj::value doc = created->json();
  std::string id(doc.at("id").as_string());
  bj::object c = wait_checkout(gw, id, payment_is(p.settled));
  ASSERT_EQ(payment_status(c), p.settled) << bj::serialize(c) << "\n" << gw.log_tail();
  EXPECT_EQ(c.at("payment").at("processor").as_string(), std::string(p.type) + "-main");

  // Two calls with one key, one payment.
  auto calls = received(sim, p.type, "POST", p.create_path);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(header_of(calls[0], p.key_header), header_of(calls[1], p.key_header));
  EXPECT_FALSE(header_of(calls[0], p.key_header).empty());
  if (std::string(p.type) == "stripe") {
    EXPECT_EQ(header_of(calls[0], p.key_header), id + ":payment.create:stripe-main");
  }
  EXPECT_EQ(sim_state(sim, p.type).at(p.objects).as_array().size(), 1u);
  EXPECT_EQ(gw.terminate(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Processors, PaymentCrash,
    ::testing::Values(Processor{"stripe", "pm_card_visa", "/v1/payment_intents", "idempotency-key",
                                "payment_intents", "succeeded"},
                      Processor{"paypal", "", "/v2/checkout/orders", "paypal-request-id", "orders",
                                "requires_action"},
                      Processor{"adyen", "", "/v71/sessions", "idempotency-key", "payments",
                                "requires_action"}),
    [](const auto& info) { return std::string(info.param.type); });

}  // namespace
}  // namespace mg::testing
