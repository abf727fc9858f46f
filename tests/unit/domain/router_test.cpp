#include "gateway/api/router.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mg::api {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Only matching is under test: the handlers are never called.
class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add("GET", "/healthz", Access::open, {});
    router_.add("POST", "/v1/checkouts", Access::app, {});
    router_.add("GET", "/v1/checkouts", Access::app, {});
    router_.add("GET", "/v1/checkouts/{id}", Access::app, {});
    router_.add("POST", "/v1/checkouts/{id}/cancel", Access::app, {});
    router_.add("POST", "/v1/checkouts/{id}/refunds", Access::app, {});
    router_.add("PUT", "/v1/admin/adapters/{id}", Access::admin, {});
    router_.add("GET", "/v1/admin/adapters/{id}", Access::admin, {});
    router_.add("DELETE", "/v1/admin/adapters/{id}", Access::admin, {});
    router_.add("GET", "/hosted/{adapter_id}/*", Access::open, {});
    router_.add("POST", "/hosted/{adapter_id}/*", Access::open, {});
  }
  Router router_;
};

TEST_F(RouterTest, MatchesAStaticPath) {
  auto m = router_.match("GET", "/healthz");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/healthz");
  EXPECT_EQ(m.route->access, Access::open);
  EXPECT_THAT(m.params, IsEmpty());
  EXPECT_EQ(m.allow, "");
}

TEST_F(RouterTest, PicksTheRouteOfTheMethod) {
  auto post = router_.match("POST", "/v1/checkouts");
  ASSERT_NE(post.route, nullptr);
  EXPECT_EQ(post.route->method, "POST");
  auto get = router_.match("GET", "/v1/checkouts");
  ASSERT_NE(get.route, nullptr);
  EXPECT_EQ(get.route->method, "GET");
  EXPECT_EQ(get.allow, "");
}

TEST_F(RouterTest, CapturesParamsInOrder) {
  auto m = router_.match("POST", "/v1/checkouts/chk_123/refunds");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/checkouts/{id}/refunds");
  EXPECT_THAT(m.params, ElementsAre("chk_123"));
  auto a = router_.match("DELETE", "/v1/admin/adapters/stripe-main");
  ASSERT_NE(a.route, nullptr);
  EXPECT_EQ(a.route->access, Access::admin);
  EXPECT_THAT(a.params, ElementsAre("stripe-main"));
}

TEST_F(RouterTest, SegmentCountMustMatch) {
  EXPECT_EQ(router_.match("GET", "/v1/checkouts/chk_1/extra").route, nullptr);
  EXPECT_EQ(router_.match("GET", "/v1").route, nullptr);
  EXPECT_EQ(router_.match("POST", "/v1/checkouts/chk_1/cancel/now").route, nullptr);
}

TEST_F(RouterTest, TrailingStarTakesTheRest) {
  auto m = router_.match("GET", "/hosted/sandbox-pay/pay/pi_1/confirm");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/hosted/{adapter_id}/*");
  EXPECT_TRUE(m.route->tail);
  EXPECT_THAT(m.params, ElementsAre("sandbox-pay"));
  EXPECT_EQ(m.tail, "pay/pi_1/confirm");
  auto one = router_.match("POST", "/hosted/sandbox-pay/x");
  ASSERT_NE(one.route, nullptr);
  EXPECT_EQ(one.tail, "x");
}

TEST_F(RouterTest, UnknownPathHasNoRouteAndNoAllow) {
  auto m = router_.match("GET", "/v2/nothing");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allow, "");
  EXPECT_EQ(router_.match("GET", "/").route, nullptr);
}

TEST_F(RouterTest, KnownPathWithOtherMethodListsTheAllowedOnes) {
  auto m = router_.match("PATCH", "/v1/admin/adapters/stripe-main");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allow, "PUT, GET, DELETE");
  auto c = router_.match("DELETE", "/v1/checkouts");
  EXPECT_EQ(c.route, nullptr);
  EXPECT_EQ(c.allow, "POST, GET");
  auto h = router_.match("POST", "/healthz");
  EXPECT_EQ(h.allow, "GET");
}

TEST_F(RouterTest, EachMethodIsListedOnce) {
  Router r;
  r.add("GET", "/things/{id}", Access::open, {});
  r.add("GET", "/things/special", Access::open, {});
  auto m = r.match("PUT", "/things/special");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allow, "GET");
}

TEST_F(RouterTest, FirstRegisteredMatchWins) {
  Router r;
  r.add("GET", "/things/special", Access::admin, {});
  r.add("GET", "/things/{id}", Access::open, {});
  auto m = r.match("GET", "/things/special");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->access, Access::admin);
  EXPECT_THAT(m.params, IsEmpty());
  auto other = r.match("GET", "/things/else");
  ASSERT_NE(other.route, nullptr);
  EXPECT_THAT(other.params, ElementsAre("else"));
}

TEST_F(RouterTest, MethodsAreCaseSensitive) {
  EXPECT_EQ(router_.match("get", "/healthz").route, nullptr);
  EXPECT_EQ(router_.match("get", "/healthz").allow, "GET");
}

}  // namespace
}  // namespace mg::api
