// `merchgate rotate-master-key`: the real binary re-encrypts every stored secret under a new key;
// the gateway then runs with the new key, and refusals change nothing.
#include "gateway/core/crypto.hpp"
#include "tests/e2e/command_run.hpp"
#include "tests/support/gateway_process.hpp"

#include <gtest/gtest.h>

namespace mg::testing {
namespace {

std::vector<http::Header> admin_headers() {
  return {{"authorization", std::string("Bearer ") + kAdminKey},
          {"content-type", "application/json"}};
}

TEST(RotateMasterKey, ReencryptsEverySecretAndTheGatewayRunsWithTheNewKey) {
  TempDir dir;
  GatewayProcess gw(dir.path());
  gw.start();
  auto endpoint =
      gw.request("POST", "/v1/admin/webhook-endpoints",
                 R"({"url":"https://hooks.example/rot","events":["*"]})", admin_headers());
  ASSERT_TRUE(endpoint && endpoint->status == 201) << (endpoint ? endpoint->body : "down");
  ASSERT_EQ(gw.terminate(), 0);

  const std::string config = dir.path() + "/merchgate.json";
  const std::string old_key = test_config(dir.path()).master_key;
  const std::string new_key = core::base64_encode(core::random_bytes(32));
  const std::string wrong_key = core::base64_encode(core::random_bytes(32));

  CommandResult no_new =
      run_merchgate("rotate-master-key --config " + config, "MERCHGATE_MASTER_KEY=" + old_key);
  EXPECT_EQ(no_new.exit_code, 2) << no_new.output;
  EXPECT_NE(no_new.output.find("MERCHGATE_NEW_MASTER_KEY"), std::string::npos) << no_new.output;

  CommandResult wrong =
      run_merchgate("rotate-master-key --config " + config,
                    "MERCHGATE_MASTER_KEY=" + wrong_key + " MERCHGATE_NEW_MASTER_KEY=" + new_key);
  EXPECT_EQ(wrong.exit_code, 2) << wrong.output;
  EXPECT_NE(wrong.output.find("nothing changed"), std::string::npos) << wrong.output;

  CommandResult rotated =
      run_merchgate("rotate-master-key --config " + config,
                    "MERCHGATE_MASTER_KEY=" + old_key + " MERCHGATE_NEW_MASTER_KEY=" + new_key);
  ASSERT_EQ(rotated.exit_code, 0) << rotated.output;
  EXPECT_NE(rotated.output.find("of 3 adapter(s) and the secrets of 1 webhook endpoint(s)"),
            std::string::npos)
      << rotated.output;

  // With the new key every adapter opens its credentials and goes live.
  gw.start({{"MERCHGATE_MASTER_KEY", new_key}});
  auto adapters = gw.request("GET", "/v1/admin/adapters", "", admin_headers());
  ASSERT_TRUE(adapters && adapters->status == 200);
  boost::json::value doc = adapters->json();
  ASSERT_EQ(doc.at("data").as_array().size(), 3u) << adapters->body;
  for (const auto& a : doc.at("data").as_array()) {
    EXPECT_TRUE(a.at("status").at("live").as_bool()) << a;
    EXPECT_TRUE(
        std::string(a.at("credentials").at("webhook_secret").as_string()).starts_with("whsec_"))
        << a;
  }
  auto id = std::string(endpoint->json().at("id").as_string());
  auto one = gw.request("GET", "/v1/admin/webhook-endpoints/" + id, "", admin_headers());
  ASSERT_TRUE(one && one->status == 200) << (one ? one->body : "down");
  ASSERT_EQ(gw.terminate(), 0);

  // Rotated once, the old key no longer opens anything: those adapters are left out at start.
  gw.start({{"MERCHGATE_MASTER_KEY", old_key}});
  auto stale = gw.request("GET", "/readyz");
  ASSERT_TRUE(stale);
  EXPECT_TRUE(stale->json().at("adapters").as_object().empty()) << stale->body;
  gw.terminate();
}

}  // namespace
}  // namespace mg::testing
