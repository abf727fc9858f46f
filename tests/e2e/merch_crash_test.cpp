// SIGKILL between "order sent to the partner" and "result stored": after a restart the job runs
// again and the adapter finds the order its first try made (Printful by @external_id, Printify by
// paging its recent orders, Gelato by searching the order reference, the Merch Partner Protocol by
// its idempotent create), so the partner holds exactly one order and the checkout finishes.
#include "gateway/core/crypto.hpp"
#include "tests/e2e/merch_sim_process.hpp"

#include <gtest/gtest.h>

namespace mg::testing {
namespace {

namespace bj = boost::json;

constexpr const char* kProtocolSecret = "whsec_bWVyY2gtcGFydG5lci1wcm90b2NvbC10ZXN0LWtleSE=";

struct Partner {
  const char* sim;      // merchgate-sim flag
  const char* type;     // adapter type
  const char* shipped;  // the status the order ends in (Printful has no "delivered")
};

bj::object adapter_body(const Partner& p, const std::string& base_url) {
  std::string type = p.type;
  if (type == "printful") {
    return {{"type", type}, {"base_url", base_url}, {"credentials", {{"api_token", "t"}}}};
  }
  if (type == "printify") {
    return {{"type", type},
            {"base_url", base_url},
            {"credentials", {{"api_token", "t"}}},
            {"settings", {{"shop_id", "1234"}, {"currency", "EUR"}}}};
  }
  if (type == "gelato") {
    return {{"type", type}, {"base_url", base_url}, {"credentials", {{"api_key", "k"}}}};
  }
  return {{"type", type},
          {"base_url", base_url},
          {"credentials", {{"api_key", "k"}, {"webhook_secret", kProtocolSecret}}},
          {"settings", {{"store", "crash-shop"}}}};
}

bj::object fulfillment_block(const Partner& p) {
  std::string type = p.type;
  bj::array files{bj::object{{"url", "https://cdn.example/f.png"}}};
  if (type == "printful") return {{"adapter", "merch"}, {"variant", "4017"}, {"files", files}};
  if (type == "printify") {
    return {{"adapter", "merch"}, {"product", "5bfd0b66a342bcc9b5563216"}, {"variant", 17887}};
  }
  if (type == "gelato") {
    return {{"adapter", "merch"}, {"product_uid", "flat_a4_poster"}, {"files", files}};
  }
  return {{"adapter", "merch"}, {"product", "tee"}, {"variant", "m"}};
}

class MerchCrash : public ::testing::TestWithParam<Partner> {};

TEST_P(MerchCrash, KilledAfterThePartnerCallTheRestartFindsTheOrderInsteadOfMakingASecond) {
  const Partner& p = GetParam();
  TempDir dir;
  GatewayProcess gw(dir.path());
  gw.start({{"MERCHGATE_TEST_CRASH_POINT", "fulfillment.create.after_partner_call:1"}});
  // Webhooks go to the first gateway's port, dead after the kill: the reconciler catches up.
  std::string hook = "http://127.0.0.1:" + std::to_string(gw.port()) + "/v1/webhooks/merch";
  SimProcess sim(dir.path(),
                 {{p.sim, hook, std::string(p.type) == "partner_protocol" ? kProtocolSecret : ""}},
                 300);
  auto put_adapter =
      admin(gw, "PUT", "/v1/admin/adapters/merch", bj::serialize(adapter_body(p, sim.url(p.sim))));
  ASSERT_TRUE(put_adapter && put_adapter->status == 201) << (put_adapter ? put_adapter->body : "");
  bj::object product{{"seller", "sel_hype"},
                     {"title", "Crash tee"},
                     {"unit_amount", 2500},
                     {"currency", "EUR"},
                     {"fulfillment", fulfillment_block(p)}};
  if (std::string(p.type) == "printify") {
    product["fulfillment"].as_object()["shipping"] = bj::object{{"EUR", 450}};
  }
  auto put_product = admin(gw, "PUT", "/v1/admin/products/crash-tee", bj::serialize(product));
  ASSERT_TRUE(put_product && put_product->status == 201) << (put_product ? put_product->body : "");

  auto created = gw.app("POST", "/v1/checkouts", GatewayFixture::checkout_body({{"crash-tee", 1}}),
                        core::new_id("idem"));
  ASSERT_TRUE(created && created->status == 201) << (created ? created->body : "") << gw.log_tail();
  std::string id(created->json().as_object().at("id").as_string());
  std::string fid(
      created->json().as_object().at("fulfillments").as_array().at(0).at("id").as_string());
  ASSERT_TRUE(eventually([&] { return !gw.running(); }, std::chrono::seconds(20)))
      << "the crash point was never reached\n"
      << gw.log_tail();
  // The partner took the order; merchgate never stored that it did.
  ASSERT_EQ(sim.orders_for(p.sim, fid), 1u) << sim.log_tail();

  gw.start();
  bj::object c;
  ASSERT_TRUE(eventually(
      [&] {
        auto r = gw.app("GET", "/v1/checkouts/" + id);
        if (!r || r->status != 200) return false;
        c = r->json().as_object();
        const auto& f = c.at("fulfillments").as_array().at(0).as_object();
        return f.at("status") == p.shipped;
      },
      std::chrono::seconds(45)))
      << bj::serialize(c) << "\n"
      << gw.log_tail();
  EXPECT_EQ(sim.orders_for(p.sim, fid), 1u) << "the retry made a second order at " << p.sim;
  EXPECT_EQ(c.at("status"), "fulfilled");
  const auto& f = c.at("fulfillments").as_array().at(0).as_object();
  EXPECT_FALSE(f.at("reference").as_string().empty());
  EXPECT_FALSE(f.at("shipments").as_array().empty());
  EXPECT_EQ(gw.terminate(), 0);
}

INSTANTIATE_TEST_SUITE_P(Partners, MerchCrash,
                         ::testing::Values(Partner{"printful", "printful", "shipped"},
                                           Partner{"printify", "printify", "delivered"},
                                           Partner{"gelato", "gelato", "delivered"},
                                           Partner{"partner-protocol", "partner_protocol",
                                                   "delivered"}),
                         [](const auto& info) {
                           std::string n = info.param.type;
                           return n;
                         });

}  // namespace
}  // namespace mg::testing
