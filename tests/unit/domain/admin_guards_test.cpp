// The pure parts of the admin guards: the per-key token bucket, what the audit log keeps of a
// request body, and the stored-key cache of the Authenticator.
#include "gateway/api/authenticator.hpp"
#include "gateway/api/rate_limiter.hpp"
#include "gateway/service/secret_box.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace mg {
namespace {
namespace bj = boost::json;
using namespace std::chrono_literals;

TEST(RateLimiter, BurstThenOneTokenPerIntervalPerKey) {
  api::RateLimiter limiter({2, 3});  // 2 a second, burst 3
  auto t0 = api::RateLimiter::Clock::time_point{} + 1000s;
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limiter.take("a", t0)) << i;
  auto refused = limiter.take("a", t0);
  ASSERT_TRUE(refused);
  EXPECT_EQ(*refused, 1);
  // Another key has its own bucket.
  EXPECT_FALSE(limiter.take("b", t0));
  // Half a second later, one token is back, and only one.
  EXPECT_FALSE(limiter.take("a", t0 + 500ms));
  EXPECT_TRUE(limiter.take("a", t0 + 500ms));
  // A long pause refills up to the burst, not beyond.
  auto t1 = t0 + 3600s;
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limiter.take("a", t1)) << i;
  EXPECT_TRUE(limiter.take("a", t1));
}

TEST(RateLimiter, RetryAfterCoversTheWait) {
  api::RateLimiter slow({0.1, 1});  // one token every 10 s
  auto t0 = api::RateLimiter::Clock::time_point{} + 1000s;
  EXPECT_FALSE(slow.take("k", t0));
  auto wait = slow.take("k", t0);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 10);
}

TEST(RateLimiter, ZeroRateMeansNoLimit) {
  api::RateLimiter off({0, 1});
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(off.take("k"));
}

TEST(WithoutSecrets, RedactsEverySecretKeyAtAnyDepthAndKeepsTheRest) {
  bj::value body = bj::parse(R"({
    "type": "stripe", "enabled": true,
    "credentials": {"secret_key": "sk_live_abcdefghijkl4242", "nested": {"x": "y"}},
    "settings": {"statement_descriptor": "HYPE", "webhook_secret": "whsec_abc",
                 "list": [{"api_key": "k1", "name": "n"}], "Password": "p", "client_token": 5},
    "rules": [{"processors": ["a"]}]
  })");
  bj::value out = service::without_secrets(body);
  EXPECT_EQ(out.at("type"), "stripe");
  EXPECT_EQ(out.at("enabled"), true);
  EXPECT_EQ(out.at("credentials"),
            bj::parse(R"({"secret_key":"[redacted]","nested":{"x":"[redacted]"}})"));
  EXPECT_EQ(out.at("settings").at("statement_descriptor"), "HYPE");
  EXPECT_EQ(out.at("settings").at("webhook_secret"), "[redacted]");
  EXPECT_EQ(out.at("settings").at("list").at(0).at("api_key"), "[redacted]");
  EXPECT_EQ(out.at("settings").at("list").at(0).at("name"), "n");
  EXPECT_EQ(out.at("settings").at("Password"), "[redacted]");
  EXPECT_EQ(out.at("settings").at("client_token"), "[redacted]");
  EXPECT_EQ(out.at("rules"), body.at("rules"));
  std::string text = bj::serialize(out);
  for (const char* s : {"sk_live", "4242", "whsec_abc", "k1"}) {
    EXPECT_EQ(text.find(s), std::string::npos) << s;
  }
}

TEST(StoredKeys, AddAuthenticateRevoke) {
  api::Authenticator auth;
  std::string key = api::generate_api_key();
  EXPECT_TRUE(key.starts_with("mgk_live_"));
  EXPECT_EQ(key.size(), 49u);
  EXPECT_NE(key, api::generate_api_key());
  store::ApiKeyRecord r;
  r.id = "key_1";
  r.hash = api::api_key_hash(key);
  r.role = "viewer";
  auth.load_stored({r});
  auto c = auth.authenticate(key);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->key_id, "key_1");
  EXPECT_EQ(c->role, "viewer");
  EXPECT_FALSE(auth.authenticate(key.substr(0, key.size() - 1)));
  EXPECT_TRUE(auth.should_touch("key_1", 1'000'000));
  EXPECT_FALSE(auth.should_touch("key_1", 1'030'000));
  EXPECT_TRUE(auth.should_touch("key_1", 1'061'000));
  EXPECT_FALSE(auth.should_touch("key_bootstrap_admin", 1'000'000));
  auth.revoke_stored("key_1");
  EXPECT_FALSE(auth.authenticate(key));
  store::ApiKeyRecord revoked = r;
  revoked.revoked_at = 5;
  auth.load_stored({revoked});
  EXPECT_FALSE(auth.authenticate(key));
}

}  // namespace
}  // namespace mg
