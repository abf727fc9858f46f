// CONTRACT §2 Idempotency-Key: a replay gets the stored reply byte for byte, a reused key with
// another request is a 409 `idempotency`, a replay while the first is running is a 409
// `in_progress`, keys belong to one API key, and refused requests are not stored.
#include "gateway/service/checkout_service.hpp"
#include "tests/integration/api/api_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <latch>
#include <mutex>
#include <thread>

namespace mg::testing::api {
namespace {

class Idempotency : public SuiteGateway {
 protected:
  static long checkouts() { return f().count("SELECT COUNT(*) FROM checkouts"); }
  static long keys_named(const std::string& key) {
    return f().count("SELECT COUNT(*) FROM idempotency_keys WHERE key = '" + key + "'");
  }
  // An e-book paid by redirect: created in requires_payment and left there (nothing in flight).
  static std::string quiet_body(const std::string& video = "v_1") {
    bj::object b = parse_object(GatewayFixture::checkout_body({{"ebook", 1}}, "pm_sandbox_action"));
    b["metadata"].as_object()["video_id"] = video;
    return bj::serialize(b);
  }
  static Reply post(const std::string& target, const std::string& body, const std::string& key,
                    const char* api_key = kAppKey) {
    std::vector<http::Header> h{{"authorization", std::string("Bearer ") + api_key},
                                {"idempotency-key", key}};
    if (!body.empty()) h.push_back({"content-type", "application/json"});
    return f().request("POST", target, body, h);
  }
};

TEST_F(Idempotency, SameKeySameBodyReturnsTheStoredReplyByteForByte) {
  std::string key = core::new_id("idem");
  std::string body = GatewayFixture::checkout_body({{"tee", 1}});
  long before = checkouts();

  Reply first = post("/v1/checkouts", body, key);
  ASSERT_EQ(first.status, 201) << first.body;
  std::string id = str(first.json().at("id"));
  Reply again = post("/v1/checkouts", body, key);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("content-type"), first.header("content-type"));
  EXPECT_NE(again.header("request-id"), first.header("request-id"));

  // Later, after the checkout moved on, the replay is still the reply of the first request.
  auto paid = f().wait_for_status(id, "fulfilled");
  ASSERT_EQ(str(paid.at("status")), "fulfilled");
  Reply later = post("/v1/checkouts", body, key);
  EXPECT_EQ(later.status, 201);
  EXPECT_EQ(later.body, first.body);
  EXPECT_EQ(str(later.json().at("status")), "requires_payment");

  EXPECT_EQ(checkouts(), before + 1);
  EXPECT_EQ(keys_named(key), 1);
  EXPECT_EQ(f().count("SELECT COUNT(*) FROM events WHERE type = 'checkout.created' AND "
                      "checkout_id = '" +
                      id + "'"),
            1);
}

TEST_F(Idempotency, SameKeyOtherBodyIsAConflictAndStoresNothing) {
  std::string key = core::new_id("idem");
  Reply first = post("/v1/checkouts", quiet_body("v_a"), key);
  ASSERT_EQ(first.status, 201) << first.body;
  ASSERT_TRUE(quiesce(f()));
  std::string before = dump(f());

  for (const std::string& other :
       {quiet_body("v_b"), GatewayFixture::checkout_body({{"ebook", 2}}, "pm_sandbox_action"),
        std::string(R"({"seller":"sel_hype"})")}) {
    Reply r = post("/v1/checkouts", other, key);
    EXPECT_TRUE(is_error(r, 409, "idempotency", "idempotency_mismatch", "Idempotency-Key"));
  }
  EXPECT_EQ(dump(f()), before);
  // The original is still what the key answers.
  EXPECT_EQ(post("/v1/checkouts", quiet_body("v_a"), key).body, first.body);
}

TEST_F(Idempotency, ConcurrentReplaysGetTheOriginalOrInProgressAndMakeOneCheckout) {
  constexpr int kRounds = 8;
  constexpr int kThreads = 4;
  long before = checkouts();
  int in_progress = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::string key = core::new_id("idem");
    std::string body = quiet_body("v_round_" + std::to_string(round));
    std::vector<Reply> replies(kThreads);
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        replies[t] = post("/v1/checkouts", body, key);
      });
    }
    for (auto& t : threads) t.join();

    std::string original;
    for (const auto& r : replies) {
      if (r.status == 201) {
        if (original.empty()) original = r.body;
        EXPECT_EQ(r.body, original) << "round " << round;
      } else {
        ++in_progress;
        EXPECT_TRUE(is_error(r, 409, "idempotency", "in_progress", "Idempotency-Key"))
            << "round " << round;
      }
    }
    ASSERT_FALSE(original.empty()) << "round " << round << ": no reply was the checkout";
    // Once the first finished, every replay is the original.
    Reply after = post("/v1/checkouts", body, key);
    EXPECT_EQ(after.status, 201);
    EXPECT_EQ(after.body, original);
    EXPECT_EQ(keys_named(key), 1);
  }
  EXPECT_EQ(checkouts(), before + kRounds);
  RecordProperty("in_progress_replies", in_progress);
}

TEST_F(Idempotency, ReplayWhileTheFirstIsStillRunningIs409InProgress) {
  // Deterministic: the key's record is open (status 0), as while the first request runs.
  std::string key = core::new_id("idem");
  std::string body = quiet_body("v_running");
  std::string hash = service::request_fingerprint("POST", "/v1/checkouts", body);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(f().db_path().c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "INSERT INTO idempotency_keys (scope, key, request_hash, "
                                 "status_code, created_at) VALUES ('key_bootstrap_app', ?, ?, 0, "
                                 "strftime('%s','now') * 1000)",
                                 -1, &stmt, nullptr),
              SQLITE_OK);
    sqlite3_bind_text(stmt, 1, key.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(stmt, 2, hash.data(), static_cast<int>(hash.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  }
  long before = checkouts();
  Reply r = post("/v1/checkouts", body, key);
  EXPECT_TRUE(is_error(r, 409, "idempotency", "in_progress", "Idempotency-Key"));
  // Another body under the running key is a mismatch, not "in progress".
  Reply other = post("/v1/checkouts", quiet_body("v_other"), key);
  EXPECT_TRUE(is_error(other, 409, "idempotency", "idempotency_mismatch", "Idempotency-Key"));
  EXPECT_EQ(checkouts(), before);
}

TEST_F(Idempotency, KeysBelongToOneApiKey) {
  std::string key = core::new_id("idem");
  std::string body = quiet_body("v_scoped");
  Reply app = post("/v1/checkouts", body, key, kAppKey);
  Reply admin = post("/v1/checkouts", body, key, kAdminKey);
  ASSERT_EQ(app.status, 201) << app.body;
  ASSERT_EQ(admin.status, 201) << admin.body;
  EXPECT_NE(str(app.json().at("id")), str(admin.json().at("id")));
  EXPECT_EQ(post("/v1/checkouts", body, key, kAppKey).body, app.body);
  EXPECT_EQ(post("/v1/checkouts", body, key, kAdminKey).body, admin.body);
  EXPECT_EQ(keys_named(key), 2);
  // And with another body, each key conflicts only with its own use.
  EXPECT_EQ(post("/v1/checkouts", quiet_body("v_x"), key, kAdminKey).status, 409);
}

TEST_F(Idempotency, SameKeyOnAnotherEndpointIs409) {
  std::string key = core::new_id("idem");
  Reply created = post("/v1/checkouts", quiet_body("v_endpoint"), key);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = str(created.json().at("id"));
  ASSERT_TRUE(quiesce(f()));
  std::string before = dump(f());

  Reply cancel = post("/v1/checkouts/" + id + "/cancel", "", key);
  EXPECT_TRUE(is_error(cancel, 409, "idempotency", "idempotency_mismatch", "Idempotency-Key"));
  Reply refund = post("/v1/checkouts/" + id + "/refunds", R"({"amount":100})", key);
  EXPECT_TRUE(is_error(refund, 409, "idempotency", "idempotency_mismatch", "Idempotency-Key"));
  EXPECT_EQ(dump(f()), before);
  EXPECT_EQ(str(f().get_checkout(id).at("status")), "requires_payment");
}

TEST_F(Idempotency, CancelReplaysTheStoredReply) {
  Reply created = post("/v1/checkouts", quiet_body("v_cancel"), core::new_id("idem"));
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = str(created.json().at("id"));
  std::string key = core::new_id("idem");
  std::string target = "/v1/checkouts/" + id + "/cancel";

  Reply first = post(target, R"({"reason":"buyer changed their mind"})", key);
  ASSERT_EQ(first.status, 200) << first.body;
  Reply again = post(target, R"({"reason":"buyer changed their mind"})", key);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  ASSERT_EQ(str(f().wait_for_status(id, "canceled").at("status")), "canceled");
  Reply later = post(target, R"({"reason":"buyer changed their mind"})", key);
  EXPECT_EQ(later.status, 200);
  EXPECT_EQ(later.body, first.body);

  EXPECT_TRUE(is_error(post(target, "", key), 409, "idempotency", "idempotency_mismatch",
                       "Idempotency-Key"));
  EXPECT_TRUE(is_error(post(target, "", core::new_id("idem")), 409, "conflict", "invalid_state"));
  auto types = f().event_types(id);
  EXPECT_EQ(std::count(types.begin(), types.end(), "checkout.canceled"), 1);
}

TEST_F(Idempotency, RefundReplaysTheStoredReplyAndRefundsOnce) {
  auto c = f().create_checkout({{"ebook", 2}}, "pm_sandbox_ok");  // 1800 EUR cents
  std::string id = str(c.at("id"));
  ASSERT_TRUE(eventually(
      [&] { return str(f().get_checkout(id).at("payment").at("status")) == "succeeded"; }));
  std::string target = "/v1/checkouts/" + id + "/refunds";
  std::string key = core::new_id("idem");

  Reply first = post(target, R"({"amount":600,"reason":"damaged"})", key);
  ASSERT_EQ(first.status, 201) << first.body;
  Reply again = post(target, R"({"amount":600,"reason":"damaged"})", key);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_TRUE(is_error(post(target, R"({"amount":700,"reason":"damaged"})", key), 409,
                       "idempotency", "idempotency_mismatch", "Idempotency-Key"));

  // A new key is a new refund.
  Reply second = post(target, R"({"amount":600,"reason":"damaged"})", core::new_id("idem"));
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_NE(str(second.json().at("id")), str(first.json().at("id")));
  EXPECT_TRUE(eventually([&] {
    auto now = f().get_checkout(id);
    return now.at("amount_refunded").as_int64() == 1200 && now.at("refunds").as_array().size() == 2;
  }));
  EXPECT_EQ(post(target, R"({"amount":600,"reason":"damaged"})", key).body, first.body);
  EXPECT_TRUE(is_error(post(target, R"({"amount":700})", core::new_id("idem")), 422,
                       "invalid_request", "unprocessable", "amount"));
  EXPECT_EQ(f().get_checkout(id).at("refunds").as_array().size(), 2u);
}

TEST_F(Idempotency, ReusedKeyWithAnInvalidBodyIs409OnEveryEndpoint) {
  // The key decides first: a key already bound to a request answers 409 whatever else is sent.
  auto c = f().create_checkout({{"ebook", 1}}, "pm_sandbox_ok");
  std::string id = str(c.at("id"));
  ASSERT_TRUE(eventually(
      [&] { return str(f().get_checkout(id).at("payment").at("status")) == "succeeded"; }));

  std::string create_key = core::new_id("idem");
  ASSERT_EQ(post("/v1/checkouts", quiet_body("v_bound"), create_key).status, 201);
  EXPECT_TRUE(is_error(post("/v1/checkouts", "{", create_key), 409, "idempotency",
                       "idempotency_mismatch", "Idempotency-Key"));

  std::string refund_key = core::new_id("idem");
  std::string refunds = "/v1/checkouts/" + id + "/refunds";
  ASSERT_EQ(post(refunds, R"({"amount":100})", refund_key).status, 201);
  EXPECT_TRUE(is_error(post(refunds, R"({"amount":"lots"})", refund_key), 409, "idempotency",
                       "idempotency_mismatch", "Idempotency-Key"));
  EXPECT_TRUE(is_error(post(refunds, "{", refund_key), 409, "idempotency", "idempotency_mismatch",
                       "Idempotency-Key"));

  Reply other = post("/v1/checkouts", quiet_body("v_cancel_bound"), core::new_id("idem"));
  ASSERT_EQ(other.status, 201);
  std::string cancel = "/v1/checkouts/" + str(other.json().at("id")) + "/cancel";
  std::string cancel_key = core::new_id("idem");
  ASSERT_EQ(post(cancel, "", cancel_key).status, 200);
  EXPECT_TRUE(is_error(post(cancel, R"({"reason":7})", cancel_key), 409, "idempotency",
                       "idempotency_mismatch", "Idempotency-Key"));
}

TEST_F(Idempotency, ADeclinedPaymentReplaysItsStoredReply) {
  std::string key = core::new_id("idem");
  std::string body = GatewayFixture::checkout_body({{"ebook", 1}}, "pm_sandbox_decline");
  Reply first = post("/v1/checkouts", body, key);
  ASSERT_EQ(first.status, 201) << first.body;
  std::string id = str(first.json().at("id"));
  ASSERT_EQ(str(f().wait_for_status(id, "payment_failed").at("status")), "payment_failed");
  Reply again = post("/v1/checkouts", body, key);
  EXPECT_EQ(again.status, first.status);
  EXPECT_EQ(again.body, first.body);
}

TEST_F(Idempotency, RefusedRequestsAreNotStored) {
  std::string key = core::new_id("idem");
  std::string bad = GatewayFixture::checkout_body({{"no-such-sku", 1}});
  Reply first = post("/v1/checkouts", bad, key);
  ASSERT_TRUE(is_error(first, 400, "invalid_request", "resource_missing", "lines[0].sku"));
  Reply again = post("/v1/checkouts", bad, key);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.json(), first.json());
  EXPECT_EQ(keys_named(key), 0);

  // 422 and 404 are not stored either.
  Reply mismatch = post("/v1/checkouts",
                        GatewayFixture::checkout_body({{"tee", 1}}, "pm_sandbox_ok", "USD"), key);
  EXPECT_TRUE(is_error(mismatch, 422, "invalid_request", "currency_mismatch", "lines[0].sku"));
  Reply missing = post("/v1/checkouts/chk_nope/refunds", R"({"amount":1})", key);
  EXPECT_TRUE(is_error(missing, 404, "not_found", "not_found", "id"));
  EXPECT_EQ(keys_named(key), 0);

  // The key is still free: a valid request with it succeeds, and from then on it is bound.
  Reply good = post("/v1/checkouts", quiet_body("v_after_400"), key);
  EXPECT_EQ(good.status, 201) << good.body;
  EXPECT_EQ(keys_named(key), 1);
  EXPECT_TRUE(is_error(post("/v1/checkouts", bad, key), 409, "idempotency", "idempotency_mismatch",
                       "Idempotency-Key"));
}

}  // namespace
}  // namespace mg::testing::api
