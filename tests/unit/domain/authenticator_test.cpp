#include "gateway/api/authenticator.hpp"

#include <gtest/gtest.h>

namespace mg::api {
namespace {

TEST(BearerToken, ReadsTheKeyAfterTheScheme) {
  EXPECT_EQ(bearer_token("Bearer mgk_abc123"), "mgk_abc123");
}

TEST(BearerToken, SchemeIsCaseInsensitive) {
  EXPECT_EQ(bearer_token("bearer mgk_abc"), "mgk_abc");
  EXPECT_EQ(bearer_token("BEARER mgk_abc"), "mgk_abc");
}

TEST(BearerToken, SurroundingSpacesAreTrimmed) {
  EXPECT_EQ(bearer_token("Bearer    mgk_abc  "), "mgk_abc");
}

TEST(BearerToken, AnythingElseIsEmpty) {
  for (std::string_view h : {"", "Bearer", "Bearer ", "Bearer     ", "Basic dXNlcjpwYXNz",
                             "Bearermgk_abc", "Token mgk_abc", "mgk_abc", " Bearer mgk_abc"}) {
    EXPECT_EQ(bearer_token(h), "") << "'" << h << "'";
  }
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auth_.add_key("mgk_admin_0123456789abcdefghij", "key_admin", "admin");
    auth_.add_key("mgk_app_0123456789abcdefghijkl", "key_app", "app", "sel_hype");
  }
  Authenticator auth_;
};

TEST_F(AuthenticatorTest, RightKeyYieldsItsCaller) {
  auto admin = auth_.authenticate("mgk_admin_0123456789abcdefghij");
  ASSERT_TRUE(admin.has_value());
  EXPECT_EQ(admin->key_id, "key_admin");
  EXPECT_EQ(admin->role, "admin");
  EXPECT_EQ(admin->seller, "");
  auto app = auth_.authenticate("mgk_app_0123456789abcdefghijkl");
  ASSERT_TRUE(app.has_value());
  EXPECT_EQ(app->key_id, "key_app");
  EXPECT_EQ(app->role, "app");
  EXPECT_EQ(app->seller, "sel_hype");
}

TEST_F(AuthenticatorTest, WrongOrPartialKeysAreRefused) {
  for (std::string_view k :
       {"", "mgk_admin_0123456789abcdefghi", "mgk_admin_0123456789abcdefghijk",
        "MGK_ADMIN_0123456789ABCDEFGHIJ", "mgk_admin_0123456789abcdefghij ", "nope"}) {
    EXPECT_FALSE(auth_.authenticate(k).has_value()) << "'" << k << "'";
  }
}

TEST_F(AuthenticatorTest, EmptyUntilAKeyIsAdded) {
  Authenticator fresh;
  EXPECT_TRUE(fresh.empty());
  EXPECT_FALSE(fresh.authenticate("anything").has_value());
  EXPECT_FALSE(auth_.empty());
}

TEST_F(AuthenticatorTest, FirstEntryWinsForADuplicateKey) {
  auth_.add_key("mgk_admin_0123456789abcdefghij", "key_dup", "app");
  auto c = auth_.authenticate("mgk_admin_0123456789abcdefghij");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->key_id, "key_admin");
}

}  // namespace
}  // namespace mg::api
