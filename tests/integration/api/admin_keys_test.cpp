// CONTRACT §5 /v1/admin/api-keys and /v1/admin/audit-log, the roles keys carry (app, admin,
// viewer, seller-restricted app keys), per-key rate limits, and master-key rotation.
#include "gateway/service/key_rotation.hpp"
#include "gateway/store/async.hpp"
#include "tests/integration/api/api_support.hpp"
#include "webhooks/outbound/endpoints.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <set>

namespace mg::testing::api {
namespace {

constexpr const char* kInvalid = "invalid_request";

Reply as(GatewayFixture& f, const std::string& key, const std::string& method,
         const std::string& target, const std::string& body = "") {
  std::vector<http::Header> h;
  if (!key.empty()) h.push_back({"authorization", "Bearer " + key});
  if (!body.empty()) h.push_back({"content-type", "application/json"});
  if (method == "POST") h.push_back({"idempotency-key", core::new_id("idem")});
  return f.request(method, target, body, h);
}

class AdminKeys : public SuiteGateway {
 protected:
  static Reply as(const std::string& key, const std::string& method, const std::string& target,
                  const std::string& body = "") {
    return api::as(f(), key, method, target, body);
  }
  // Creates a key and returns the 201 reply's object.
  static bj::object create_key(const std::string& body) {
    Reply r = as(kAdminKey, "POST", "/v1/admin/api-keys", body);
    EXPECT_EQ(r.status, 201) << r.body;
    bj::value doc = r.json();
    return doc.as_object();
  }
};

TEST_F(AdminKeys, CreatedKeyIsShownOnceStoredAsAHashAndWorksAtOnce) {
  bj::object k = create_key(R"({"role":"app","name":"shop backend"})");
  std::string key = str(k.at("key"));
  std::string id = str(k.at("id"));
  EXPECT_TRUE(key.starts_with("mgk_live_")) << key;
  EXPECT_GE(key.size(), 40u);
  EXPECT_TRUE(id.starts_with("key_")) << id;
  EXPECT_EQ(str(k.at("role")), "app");
  EXPECT_EQ(str(k.at("name")), "shop backend");
  EXPECT_TRUE(k.at("seller").is_null());
  EXPECT_EQ(str(k.at("prefix")), "mgk_live_");
  EXPECT_EQ(str(k.at("last4")), key.substr(key.size() - 4));
  EXPECT_FALSE(k.at("revoked").as_bool());
  EXPECT_EQ(str(k.at("created_by")), "key_bootstrap_admin");

  // It works at once, for the checkout API only.
  EXPECT_EQ(as(key, "GET", "/v1/checkouts").status, 200);
  EXPECT_TRUE(
      is_error(as(key, "GET", "/v1/admin/api-keys"), 403, "permission", "permission_denied"));

  // Reads never show the key, nor its hash; the database holds only the hash.
  std::string hash = core::hex_encode(core::sha256(key));
  Reply one = as(kAdminKey, "GET", "/v1/admin/api-keys/" + id);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_FALSE(one.json().as_object().contains("key"));
  EXPECT_EQ(one.body.find(key.substr(9)), std::string::npos);
  EXPECT_EQ(one.body.find(hash), std::string::npos);
  EXPECT_EQ(
      f().count("SELECT COUNT(*) FROM api_keys WHERE id = '" + id + "' AND hash = '" + hash + "'"),
      1);
  std::string db = file_bytes(f().db_path()) + file_bytes(f().db_path() + "-wal");
  EXPECT_EQ(db.find(key.substr(9)), std::string::npos);

  // Revoked: refused at once, and listed as revoked.
  Reply revoked = as(kAdminKey, "DELETE", "/v1/admin/api-keys/" + id);
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_TRUE(revoked.json().at("revoked").as_bool());
  EXPECT_FALSE(revoked.json().at("revoked_at").is_null());
  EXPECT_TRUE(is_error(as(key, "GET", "/v1/checkouts"), 401, "authentication", "invalid_api_key"));
  EXPECT_EQ(as(kAdminKey, "DELETE", "/v1/admin/api-keys/" + id).status, 200);
  EXPECT_TRUE(as(kAdminKey, "GET", "/v1/admin/api-keys/" + id).json().at("revoked").as_bool());
}

TEST_F(AdminKeys, WithoutARoleTheKeyIsAnAppKey) {
  bj::object k = create_key(R"({})");
  EXPECT_EQ(str(k.at("role")), "app");
  EXPECT_TRUE(k.at("name").is_null());
  EXPECT_EQ(as(str(k.at("key")), "GET", "/v1/checkouts").status, 200);
}

TEST_F(AdminKeys, ListPaginatesAndShowsNoSecrets) {
  std::vector<std::string> keys;
  std::set<std::string> made;
  for (int i = 0; i < 5; ++i) {
    bj::object k = create_key(R"({"role":"viewer"})");
    keys.push_back(str(k.at("key")));
    made.insert(str(k.at("id")));
  }
  std::set<std::string> seen;
  std::string after;
  for (int pages = 0; pages < 50; ++pages) {
    Reply r = as(kAdminKey, "GET",
                 "/v1/admin/api-keys?limit=2" + (after.empty() ? "" : "&starting_after=" + after));
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& k : keys) EXPECT_EQ(r.body.find(k.substr(9)), std::string::npos);
    bj::value doc = r.json();
    const auto& data = doc.at("data").as_array();
    EXPECT_LE(data.size(), 2u);
    for (const auto& item : data) {
      EXPECT_FALSE(item.as_object().contains("key"));
      EXPECT_TRUE(seen.insert(str(item.at("id"))).second) << "twice: " << item;
      EXPECT_TRUE(str(item.at("redacted")).starts_with("mgk_live_\xE2\x80\xA6"));
    }
    if (!doc.at("has_more").as_bool()) break;
    after = str(data.back().at("id"));
  }
  for (const auto& id : made) EXPECT_TRUE(seen.count(id)) << id;
  EXPECT_EQ(static_cast<long>(seen.size()), f().count("SELECT COUNT(*) FROM api_keys"));
  EXPECT_TRUE(is_error(as(kAdminKey, "GET", "/v1/admin/api-keys?limit=0"), 400, kInvalid,
                       "invalid_field", "limit"));
}

TEST_F(AdminKeys, BadRequestsNameTheFieldAndStoreNothing) {
  struct Bad {
    std::string body;
    std::string code, param;
  };
  std::vector<Bad> bad{
      {R"({"role":"root"})", "invalid_field", "role"},
      {R"({"role":7})", "invalid_field", "role"},
      {R"({"role":"admin","seller":"sel_hype"})", "invalid_field", "seller"},
      {R"({"role":"viewer","seller":"sel_hype"})", "invalid_field", "seller"},
      {R"({"role":"app","seller":"sel_nobody"})", "resource_missing", "seller"},
      {R"({"role":"app","seller":"no spaces"})", "invalid_field", "seller"},
      {R"({"role":"app","name":5})", "invalid_field", "name"},
      {R"({"role":"app","scopes":["all"]})", "unknown_field", "scopes"},
  };
  ASSERT_TRUE(quiesce(f()));
  for (const auto& b : bad) {
    std::string before = dump(f());
    EXPECT_TRUE(is_error(as(kAdminKey, "POST", "/v1/admin/api-keys", b.body), 400, kInvalid, b.code,
                         b.param))
        << b.body;
    EXPECT_EQ(dump(f()), before) << b.body;
  }
  std::string before = dump(f());
  EXPECT_TRUE(
      is_error(as(kAdminKey, "POST", "/v1/admin/api-keys", "{"), 400, kInvalid, "invalid_json"));
  EXPECT_TRUE(is_error(as(kAdminKey, "DELETE", "/v1/admin/api-keys/key_nope"), 404, "not_found",
                       "not_found", "id"));
  EXPECT_TRUE(is_error(as(kAdminKey, "GET", "/v1/admin/api-keys/key_nope"), 404, "not_found",
                       "not_found", "id"));
  EXPECT_EQ(dump(f()), before);
}

TEST_F(AdminKeys, ViewerKeysReadBothApisAndWriteNothing) {
  std::string viewer = str(create_key(R"({"role":"viewer","name":"support"})").at("key"));
  for (std::string target :
       {"/v1/admin/adapters", "/v1/admin/adapter-types", "/v1/admin/sellers/sel_hype",
        "/v1/admin/products", "/v1/admin/routing", "/v1/admin/api-keys", "/v1/admin/audit-log",
        "/v1/admin/webhook-endpoints", "/v1/checkouts", "/v1/events",
        "/v1/products?seller=sel_hype"}) {
    Reply r = as(viewer, "GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
  }
  struct Write {
    std::string method, target, body;
  };
  std::vector<Write> writes{
      {"PUT", "/v1/admin/sellers/sel_hype", R"({"name":"Hacked"})"},
      {"DELETE", "/v1/admin/products/tee", ""},
      {"PUT", "/v1/admin/routing", R"({"rules":[]})"},
      {"POST", "/v1/admin/api-keys", R"({"role":"admin"})"},
      {"POST", "/v1/admin/webhook-endpoints", R"({"url":"https://x.example/h","events":["*"]})"},
      {"POST", "/v1/checkouts", GatewayFixture::checkout_body({{"tee", 1}})},
  };
  ASSERT_TRUE(quiesce(f()));
  for (const auto& w : writes) {
    std::string before = dump(f());
    EXPECT_TRUE(
        is_error(as(viewer, w.method, w.target, w.body), 403, "permission", "permission_denied"))
        << w.method << " " << w.target;
    EXPECT_EQ(dump(f()), before) << w.method << " " << w.target;
  }
}

TEST_F(AdminKeys, StoredAdminKeysReachEverythingAndAppKeysOnlyTheCheckoutApi) {
  std::string admin = str(create_key(R"({"role":"admin"})").at("key"));
  std::string app = str(create_key(R"({"role":"app"})").at("key"));
  Reply put = as(admin, "PUT", "/v1/admin/sellers/sel_keys", R"({"name":"Keys"})");
  EXPECT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(as(admin, "GET", "/v1/checkouts").status, 200);
  Reply created = as(app, "POST", "/v1/checkouts", GatewayFixture::checkout_body({{"ebook", 1}}));
  EXPECT_EQ(created.status, 201) << created.body;
  for (std::string target : {"/v1/admin/adapters", "/v1/admin/audit-log", "/v1/admin/api-keys"}) {
    EXPECT_TRUE(is_error(as(app, "GET", target), 403, "permission", "permission_denied")) << target;
  }
  EXPECT_TRUE(is_error(as(app, "POST", "/v1/admin/api-keys", R"({"role":"admin"})"), 403,
                       "permission", "permission_denied"));
}

TEST_F(AdminKeys, SellerRestrictedKeysSeeOnlyTheirSeller) {
  ASSERT_LT(as(kAdminKey, "PUT", "/v1/admin/sellers/sel_other", R"({"name":"Other"})").status, 300);
  bj::object k = create_key(R"({"role":"app","seller":"sel_hype"})");
  EXPECT_EQ(str(k.at("seller")), "sel_hype");
  std::string hype = str(k.at("key"));
  std::string other = str(create_key(R"({"role":"app","seller":"sel_other"})").at("key"));

  Reply mine = as(hype, "POST", "/v1/checkouts", GatewayFixture::checkout_body({{"ebook", 1}}));
  ASSERT_EQ(mine.status, 201) << mine.body;
  std::string id = str(mine.json().at("id"));
  EXPECT_EQ(as(hype, "GET", "/v1/checkouts/" + id).status, 200);

  ASSERT_TRUE(quiesce(f()));
  std::string before = dump(f());
  EXPECT_TRUE(
      is_error(as(other, "POST", "/v1/checkouts", GatewayFixture::checkout_body({{"ebook", 1}})),
               403, "permission", "permission_denied", "seller"));
  EXPECT_TRUE(
      is_error(as(other, "GET", "/v1/checkouts/" + id), 404, "not_found", "not_found", "id"));
  EXPECT_EQ(as(other, "POST", "/v1/checkouts/" + id + "/cancel", "{}").status, 404);
  EXPECT_EQ(as(other, "POST", "/v1/checkouts/" + id + "/refunds", R"({"amount":1})").status, 404);
  EXPECT_TRUE(is_error(as(other, "GET", "/v1/products?seller=sel_hype"), 403, "permission",
                       "permission_denied", "seller"));
  EXPECT_EQ(dump(f()), before);
  Reply list = as(other, "GET", "/v1/checkouts?limit=100");
  ASSERT_EQ(list.status, 200);
  EXPECT_TRUE(data_of(list).empty()) << list.body;
  Reply events = as(other, "GET", "/v1/events?checkout=" + id);
  ASSERT_EQ(events.status, 200);
  EXPECT_TRUE(data_of(events).empty()) << events.body;
  for (const auto& c : data_of(as(hype, "GET", "/v1/checkouts?limit=100"))) {
    EXPECT_EQ(str(c.at("seller")), "sel_hype");
  }
}

TEST_F(AdminKeys, AuditLogRecordsChangesWithoutSecrets) {
  const std::string secret = webhooks::generate_secret();
  const std::string payload = secret.substr(6);
  bj::object put{{"type", "sandbox_payments"},
                 {"credentials", bj::object{{"webhook_secret", secret}}},
                 {"settings", bj::object{{"succeed_after_ms", 10}}}};
  Reply created = as(kAdminKey, "PUT", "/v1/admin/adapters/audit-pay", bj::serialize(put));
  ASSERT_EQ(created.status, 201) << created.body;
  Reply endpoint = as(kAdminKey, "POST", "/v1/admin/webhook-endpoints",
                      R"({"url":"https://hooks.example/audit","events":["*"]})");
  ASSERT_EQ(endpoint.status, 201) << endpoint.body;
  const std::string endpoint_secret = str(endpoint.json().at("secret"));
  bj::object key = create_key(R"({"role":"viewer","name":"audited"})");
  const std::string key_secret = str(key.at("key"));

  Reply log = as(kAdminKey, "GET", "/v1/admin/audit-log?path=/v1/admin/adapters/audit-pay");
  ASSERT_EQ(log.status, 200) << log.body;
  auto entries = data_of(log);
  ASSERT_EQ(entries.size(), 1u) << log.body;
  const auto& e = entries[0].as_object();
  EXPECT_TRUE(str(e.at("id")).starts_with("aud_"));
  EXPECT_EQ(str(e.at("key")), "key_bootstrap_admin");
  EXPECT_EQ(str(e.at("method")), "PUT");
  EXPECT_EQ(str(e.at("path")), "/v1/admin/adapters/audit-pay");
  EXPECT_EQ(e.at("status").as_int64(), 201);
  EXPECT_EQ(str(e.at("change").at("type")), "sandbox_payments");
  EXPECT_EQ(str(e.at("change").at("credentials").at("webhook_secret")), "[redacted]");
  EXPECT_EQ(e.at("change").at("settings").at("succeed_after_ms").as_int64(), 10);
  EXPECT_TRUE(str(e.at("remote_address")).starts_with("127.0.0.1")) << e;
  EXPECT_FALSE(str(e.at("request_id")).empty());
  EXPECT_FALSE(str(e.at("at")).empty());

  // Newest first; reads are not audited; the key's creation is.
  Reply all = as(kAdminKey, "GET", "/v1/admin/audit-log?limit=3");
  auto latest = data_of(all);
  ASSERT_GE(latest.size(), 3u);
  EXPECT_EQ(str(latest[0].at("path")), "/v1/admin/api-keys");
  EXPECT_EQ(str(latest[0].at("change").at("name")), "audited");
  EXPECT_EQ(str(latest[1].at("path")), "/v1/admin/webhook-endpoints");
  EXPECT_EQ(str(latest[2].at("path")), "/v1/admin/adapters/audit-pay");
  EXPECT_EQ(f().count("SELECT COUNT(*) FROM audit_log WHERE method = 'GET'"), 0);

  // Not one secret anywhere: audit rows, replies, the database file.
  std::string rows = dump(f());
  std::string db = file_bytes(f().db_path()) + file_bytes(f().db_path() + "-wal");
  for (const std::string& s : {payload, endpoint_secret.substr(6), key_secret.substr(9)}) {
    EXPECT_EQ(rows.find(s), std::string::npos) << s;
    EXPECT_EQ(db.find(s), std::string::npos) << s;
    EXPECT_EQ(all.body.find(s), std::string::npos) << s;
  }

  // Filters, and pages that follow each other.
  std::string viewer = key_secret;
  ASSERT_EQ(as(viewer, "GET", "/v1/admin/audit-log").status, 200);
  Reply by_key = as(kAdminKey, "GET", "/v1/admin/audit-log?key=" + str(key.at("id")));
  EXPECT_TRUE(data_of(by_key).empty()) << by_key.body;
  Reply by_admin = as(kAdminKey, "GET", "/v1/admin/audit-log?key=key_bootstrap_admin&limit=100");
  for (const auto& x : data_of(by_admin)) EXPECT_EQ(str(x.at("key")), "key_bootstrap_admin");
  std::set<std::string> ids;
  std::string after;
  int pages = 0;
  for (; pages < 100; ++pages) {
    Reply p = as(kAdminKey, "GET",
                 "/v1/admin/audit-log?limit=2" + (after.empty() ? "" : "&starting_after=" + after));
    ASSERT_EQ(p.status, 200);
    bj::value doc = p.json();
    for (const auto& x : doc.at("data").as_array()) {
      EXPECT_TRUE(ids.insert(str(x.at("id"))).second);
    }
    if (!doc.at("has_more").as_bool()) break;
    after = str(doc.at("data").as_array().back().at("id"));
  }
  EXPECT_EQ(static_cast<long>(ids.size()), f().count("SELECT COUNT(*) FROM audit_log"));
  EXPECT_GE(pages, 1);
}

TEST_F(AdminKeys, EveryAdminChangeLeavesOneEntryWithItsStatus) {
  ASSERT_TRUE(quiesce(f()));
  long before = f().count("SELECT COUNT(*) FROM audit_log");
  struct Change {
    std::string method, target, body;
    int status;
  };
  std::vector<Change> changes{
      {"PUT", "/v1/admin/sellers/sel_trail", R"({"name":"Trail"})", 201},
      {"PUT", "/v1/admin/sellers/sel_trail", R"({"name":"Trail 2"})", 200},
      {"PUT", "/v1/admin/products/trail-tee",
       R"({"seller":"sel_trail","title":"Tee","unit_amount":100,"currency":"EUR"})", 201},
      {"DELETE", "/v1/admin/products/trail-tee", "", 200},
      {"PUT", "/v1/admin/adapters/trail-pay",
       R"({"type":"sandbox_payments","credentials":{"webhook_secret":"whsec_dHJhaWx0cmFpbHRyYWlsdHJhaWx0cmFpbA=="}})",
       201},
      {"DELETE", "/v1/admin/adapters/trail-pay", "", 200},
      {"PUT", "/v1/admin/routing", R"({"rules":[]})", 200},
      {"POST", "/v1/admin/webhook-endpoints", R"({"url":"https://hooks.example/t","events":["*"]})",
       201},
  };
  for (const auto& c : changes) {
    Reply r = as(kAdminKey, c.method, c.target, c.body);
    ASSERT_EQ(r.status, c.status) << c.method << " " << c.target << ": " << r.body;
  }
  std::string key_id = str(create_key(R"({"role":"app"})").at("id"));
  ASSERT_EQ(as(kAdminKey, "DELETE", "/v1/admin/api-keys/" + key_id).status, 200);
  // Revoking it again changes nothing, so it leaves nothing.
  ASSERT_EQ(as(kAdminKey, "DELETE", "/v1/admin/api-keys/" + key_id).status, 200);
  changes.push_back({"POST", "/v1/admin/api-keys", "", 201});
  changes.push_back({"DELETE", "/v1/admin/api-keys/" + key_id, "", 200});

  ASSERT_EQ(f().count("SELECT COUNT(*) FROM audit_log"),
            before + static_cast<long>(changes.size()));
  Reply log = as(kAdminKey, "GET", "/v1/admin/audit-log?limit=" + std::to_string(changes.size()));
  auto entries = data_of(log);
  ASSERT_EQ(entries.size(), changes.size());
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const auto& e = entries[changes.size() - 1 - i];  // newest first
    EXPECT_EQ(str(e.at("method")), changes[i].method) << i;
    EXPECT_EQ(str(e.at("path")), changes[i].target.substr(0, changes[i].target.find('?'))) << i;
    EXPECT_EQ(e.at("status").as_int64(), changes[i].status) << i;
  }
  EXPECT_EQ(log.body.find("dHJhaWx0cmFpbHRy"), std::string::npos);
}

TEST_F(AdminKeys, AuditLogIsAppendOnly) {
  ASSERT_EQ(as(kAdminKey, "PUT", "/v1/admin/sellers/sel_audit", R"({"name":"A"})").status, 201);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(f().db_path().c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  EXPECT_NE(sqlite3_exec(db, "UPDATE audit_log SET status = 500", nullptr, nullptr, &err),
            SQLITE_OK);
  sqlite3_free(err);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM audit_log", nullptr, nullptr, &err), SQLITE_OK);
  sqlite3_free(err);
  sqlite3_close(db);
  EXPECT_GE(f().count("SELECT COUNT(*) FROM audit_log WHERE path = '/v1/admin/sellers/sel_audit'"),
            1);
}

TEST_F(AdminKeys, RefusedAdminRequestsLeaveNoAuditEntry) {
  ASSERT_TRUE(quiesce(f()));
  long before = f().count("SELECT COUNT(*) FROM audit_log");
  EXPECT_EQ(as(kAdminKey, "PUT", "/v1/admin/sellers/sel_bad", R"({"name":5})").status, 400);
  EXPECT_EQ(as(kAppKey, "PUT", "/v1/admin/sellers/sel_bad", R"({"name":"x"})").status, 403);
  EXPECT_EQ(f().count("SELECT COUNT(*) FROM audit_log"), before);
}

TEST_F(AdminKeys, LastUseIsRecorded) {
  bj::object k = create_key(R"({"role":"app"})");
  EXPECT_TRUE(k.at("last_used_at").is_null());
  ASSERT_EQ(as(str(k.at("key")), "GET", "/v1/checkouts").status, 200);
  Reply one = as(kAdminKey, "GET", "/v1/admin/api-keys/" + str(k.at("id")));
  EXPECT_FALSE(one.json().at("last_used_at").is_null()) << one.body;
}

// ---- rate limits ----

TEST(AdminRateLimit, EachKeyHasItsOwnBucketAnd429SaysWhenToRetry) {
  GatewayFixture f([](config::Config& c) {
    c.rate_limit_per_second = 1;
    c.rate_limit_burst = 5;
  });
  // At one token a second, 60 requests in a row cannot all pass: the burst runs out.
  int passed = 0;
  Reply limited;
  for (int i = 0; i < 60; ++i) {
    Reply r = as(f, kAppKey, "GET", "/v1/checkouts");
    if (r.status == 429) {
      limited = r;
      break;
    }
    ASSERT_EQ(r.status, 200) << r.body;
    ++passed;
  }
  EXPECT_GE(passed, 5);
  ASSERT_EQ(limited.status, 429);
  EXPECT_TRUE(is_error(limited, 429, "rate_limited", "rate_limited"));
  int retry_after = std::stoi(limited.header("retry-after"));
  EXPECT_GE(retry_after, 1);
  // Refused requests store nothing, and other keys are not held back.
  std::string before = dump(f);
  EXPECT_EQ(
      as(f, kAppKey, "POST", "/v1/checkouts", GatewayFixture::checkout_body({{"ebook", 1}})).status,
      429);
  EXPECT_EQ(dump(f), before);
  EXPECT_EQ(as(f, kAdminKey, "GET", "/v1/checkouts").status, 200);
  // Requests without a key are answered as before (401), not limited.
  EXPECT_EQ(as(f, "", "GET", "/v1/checkouts").status, 401);
}

// ---- changes without a restart ----

TEST(AdminChanges, ACheckoutStartedUnderOldRoutingFinishesUnderIt) {
  GatewayFixture f;
  bj::object pay2{{"type", "sandbox_payments"},
                  {"credentials", bj::object{{"webhook_secret", webhooks::generate_secret()}}},
                  {"settings", bj::object{{"succeed_after_ms", 10}}}};
  ASSERT_EQ(f.admin("PUT", "/v1/admin/adapters/pay-2", bj::serialize(pay2)).status, 201);
  ASSERT_EQ(f.admin("PUT", "/v1/admin/routing", R"({"rules":[{"processors":["pay-2"]}]})").status,
            200);
  bj::object started = f.create_checkout({{"ebook", 1}}, "pm_sandbox_action");
  std::string id = str(started.at("id"));
  ASSERT_EQ(str(started.at("payment").at("processor")), "pay-2");
  std::string url = str(started.at("payment").at("client_action").at("url"));

  // New rules send new checkouts elsewhere; the one in flight keeps its processor.
  ASSERT_EQ(
      f.admin("PUT", "/v1/admin/routing", R"({"rules":[{"processors":["sandbox-pay"]}]})").status,
      200);
  bj::object later = f.create_checkout({{"ebook", 1}}, "pm_sandbox_action");
  EXPECT_EQ(str(later.at("payment").at("processor")), "sandbox-pay");

  Reply page = f.request("GET", url.substr(url.find("/hosted/")));
  ASSERT_EQ(page.status, 200) << page.body;
  // Nothing ships for an e-book: paid is fulfilled at once.
  bj::object paid = f.wait_for_status(id, "fulfilled");
  EXPECT_EQ(str(paid.at("status")), "fulfilled");
  EXPECT_EQ(str(paid.at("payment").at("processor")), "pay-2");
  EXPECT_EQ(str(paid.at("payment").at("status")), "succeeded");
}

// ---- credentials at rest ----

TEST(AdminCredentials, WithoutAMasterKeyCredentialsAreRefusedAndSaySo) {
  GatewayFixture f([](config::Config& c) {
    c.master_key.clear();
    c.seed = bj::object{};  // the seeded sandboxes carry credentials
  });
  std::string before = dump(f);
  bj::object put{{"type", "sandbox_payments"},
                 {"credentials", bj::object{{"webhook_secret", webhooks::generate_secret()}}}};
  Reply r = f.admin("PUT", "/v1/admin/adapters/pay-x", bj::serialize(put));
  EXPECT_TRUE(is_error(r, 422, kInvalid, "unprocessable", "credentials"));
  EXPECT_NE(r.body.find("MERCHGATE_MASTER_KEY"), std::string::npos) << r.body;
  Reply endpoint = f.admin("POST", "/v1/admin/webhook-endpoints",
                           R"({"url":"https://hooks.example/x","events":["*"]})");
  EXPECT_EQ(endpoint.status, 422) << endpoint.body;
  EXPECT_NE(endpoint.body.find("MERCHGATE_MASTER_KEY"), std::string::npos) << endpoint.body;
  EXPECT_EQ(dump(f), before);
}

// ---- master-key rotation ----

TEST(MasterKeyRotation, ReencryptsEverySecretInOneTransaction) {
  GatewayFixture f;
  const std::string adapter_secret = webhooks::generate_secret();
  bj::object put{{"type", "sandbox_payments"},
                 {"credentials", bj::object{{"webhook_secret", adapter_secret}}}};
  ASSERT_EQ(f.admin("PUT", "/v1/admin/adapters/rot-pay", bj::serialize(put)).status, 201);
  Reply endpoint = f.admin("POST", "/v1/admin/webhook-endpoints",
                           R"({"url":"https://hooks.example/rot","events":["*"]})");
  ASSERT_EQ(endpoint.status, 201) << endpoint.body;
  std::string endpoint_id = str(endpoint.json().at("id"));
  std::string endpoint_secret = str(endpoint.json().at("secret"));

  auto old_box = service::SecretBox::from_base64(f.gateway().config().master_key);
  ASSERT_TRUE(old_box);
  auto new_box = service::SecretBox::from_base64(core::base64_encode(core::random_bytes(32)));
  ASSERT_TRUE(new_box);

  // A wrong "current" key changes nothing.
  auto wrong = service::SecretBox::from_base64(core::base64_encode(core::random_bytes(32)));
  std::string before = dump(f);
  auto refused = service::rotate_master_key(f.gateway().store(), *wrong, *new_box);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("does not decrypt"), std::string::npos);
  EXPECT_EQ(dump(f), before);

  auto rotated = service::rotate_master_key(f.gateway().store(), *old_box, *new_box);
  ASSERT_TRUE(rotated) << rotated.error().message;
  EXPECT_GE(rotated->adapters, 4);  // the three seeded sandboxes and rot-pay
  EXPECT_EQ(rotated->endpoints, 1);

  // Everything opens under the new key and nothing under the old one.
  auto records = store::async_read(f.gateway().store(), [](store::ReadTx& tx) {
    return Result<std::pair<std::vector<store::AdapterRecord>, std::vector<store::EndpointRecord>>>(
        std::make_pair(tx.adapters(), tx.endpoints()));
  });
  auto both =
      boost::asio::co_spawn(f.gateway().io(), std::move(records), boost::asio::use_future).get();
  ASSERT_TRUE(both);
  int sealed = 0;
  for (const auto& a : both->first) {
    if (a.sealed_credentials.empty()) continue;
    ++sealed;
    EXPECT_FALSE(old_box->open(a.sealed_credentials, a.id)) << a.id;
    auto opened = new_box->open(a.sealed_credentials, a.id);
    ASSERT_TRUE(opened) << a.id;
    if (a.id == "rot-pay") {
      EXPECT_EQ(str(opened->at("webhook_secret")), adapter_secret);
    }
  }
  EXPECT_EQ(rotated->adapters, sealed);
  ASSERT_EQ(both->second.size(), 1u);
  EXPECT_FALSE(webhooks::open_secrets(*old_box, both->second[0], 0));
  auto secrets = webhooks::open_secrets(*new_box, both->second[0], 0);
  ASSERT_TRUE(secrets);
  ASSERT_EQ(secrets->size(), 1u);
  EXPECT_EQ((*secrets)[0].secret, endpoint_secret);
}

}  // namespace
}  // namespace mg::testing::api
