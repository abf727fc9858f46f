// CONTRACT §2 keys and roles, §3 shop listing, §5 admin API and operations: every admin endpoint
// of gateway/api/admin_routes.cpp, the conventions every reply follows, and secrets that never
// leave merchgate (responses, database file) once written.
#include "tests/integration/api/api_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace mg::testing::api {
namespace {

constexpr const char* kInvalid = "invalid_request";

class AdminApi : public SuiteGateway {
 protected:
  static Reply as(const char* key, const std::string& method, const std::string& target,
                  const std::string& body = "") {
    std::vector<http::Header> h;
    if (key) h.push_back({"authorization", std::string("Bearer ") + key});
    if (!body.empty()) h.push_back({"content-type", "application/json"});
    if (method == "POST") h.push_back({"idempotency-key", core::new_id("idem")});
    return f().request(method, target, body, h);
  }
  // Every item of a list endpoint, following starting_after `page` at a time.
  static std::vector<bj::object> walk(const std::string& target, const char* key, int page,
                                      const char* id_field, int* pages = nullptr) {
    std::vector<bj::object> all;
    std::string after;
    int n = 0;
    for (;;) {
      std::string sep = target.find('?') == std::string::npos ? "?" : "&";
      std::string url = target + sep + "limit=" + std::to_string(page) +
                        (after.empty() ? "" : "&starting_after=" + after);
      Reply r = as(key, "GET", url);
      EXPECT_EQ(r.status, 200) << url << ": " << r.body;
      if (r.status != 200 || ++n > 100) break;
      auto doc = r.json().as_object();
      const auto& data = doc.at("data").as_array();
      EXPECT_LE(data.size(), static_cast<std::size_t>(page));
      for (const auto& item : data) all.push_back(item.as_object());
      if (!doc.at("has_more").as_bool()) break;
      EXPECT_FALSE(data.empty());
      if (data.empty()) break;
      after = str(data.back().at(id_field));
    }
    if (pages) *pages = n;
    return all;
  }
};

// Runs a request that must be refused, and checks the database did not change.
#define EXPECT_REFUSED_UNCHANGED(reply_expr, status, type, code, param)      \
  do {                                                                       \
    EXPECT_TRUE(quiesce(f()));                                               \
    std::string before_ = dump(f());                                         \
    Reply r_ = (reply_expr);                                                 \
    EXPECT_TRUE(is_error(r_, status, type, code, param)) << #reply_expr;     \
    EXPECT_EQ(dump(f()), before_) << #reply_expr << " changed the database"; \
  } while (0)

// ---- keys and roles ----

TEST_F(AdminApi, MissingOrWrongKeyIs401) {
  for (std::string target :
       {"/v1/checkouts", "/v1/events", "/v1/products?seller=sel_hype", "/v1/checkouts/chk_1",
        "/v1/admin/adapter-types", "/v1/admin/checkouts/chk_1/timeline"}) {
    EXPECT_TRUE(
        is_error(as(nullptr, "GET", target), 401, "authentication", "authentication_required"))
        << target;
    EXPECT_TRUE(
        is_error(as("mgk_not_a_key", "GET", target), 401, "authentication", "invalid_api_key"))
        << target;
    std::string admin_typo = kAdminKey;
    admin_typo[5] = admin_typo[5] == 'x' ? 'y' : 'x';
    EXPECT_TRUE(
        is_error(as(admin_typo.c_str(), "GET", target), 401, "authentication", "invalid_api_key"))
        << target;
  }
  EXPECT_REFUSED_UNCHANGED(
      as(nullptr, "POST", "/v1/checkouts", GatewayFixture::checkout_body({{"tee", 1}})), 401,
      "authentication", "authentication_required", "");
  EXPECT_REFUSED_UNCHANGED(as(nullptr, "PUT", "/v1/admin/sellers/sel_x", R"({"name":"X"})"), 401,
                           "authentication", "authentication_required", "");
  // The scheme is case-insensitive (RFC 9110); the key is not.
  Reply lower = f().request("GET", "/v1/checkouts", "",
                            {{"authorization", std::string("bearer ") + kAppKey}});
  EXPECT_EQ(lower.status, 200) << lower.body;
}

TEST_F(AdminApi, AppKeyOnAdminEndpointsIs403) {
  struct Route {
    std::string method, target, body;
  };
  std::vector<Route> routes{
      {"GET", "/v1/admin/adapter-types", ""},
      {"GET", "/v1/admin/adapters", ""},
      {"GET", "/v1/admin/adapters/sandbox-pay", ""},
      {"PUT", "/v1/admin/adapters/sandbox-pay", R"({"type":"sandbox_payments","enabled":false})"},
      {"DELETE", "/v1/admin/adapters/sandbox-pay", ""},
      {"GET", "/v1/admin/sellers", ""},
      {"GET", "/v1/admin/sellers/sel_hype", ""},
      {"PUT", "/v1/admin/sellers/sel_hype", R"({"name":"Hacked","platform_fee_bps":0})"},
      {"GET", "/v1/admin/products", ""},
      {"GET", "/v1/admin/products/tee", ""},
      {"PUT", "/v1/admin/products/tee",
       R"({"seller":"sel_hype","title":"Tee","unit_amount":1,"currency":"EUR"})"},
      {"DELETE", "/v1/admin/products/tee", ""},
      {"GET", "/v1/admin/routing", ""},
      {"PUT", "/v1/admin/routing", R"({"rules":[]})"},
      {"GET", "/v1/admin/checkouts/chk_1/timeline", ""},
  };
  for (const auto& rt : routes) {
    EXPECT_REFUSED_UNCHANGED(as(kAppKey, rt.method, rt.target, rt.body), 403, "permission",
                             "permission_denied", "");
  }
  EXPECT_EQ(as(kAdminKey, "GET", "/v1/admin/products/tee").json().at("unit_amount").as_int64(),
            2500);
  EXPECT_EQ(str(as(kAdminKey, "GET", "/v1/admin/sellers/sel_hype").json().at("name")), "Hype");
  EXPECT_TRUE(
      as(kAdminKey, "GET", "/v1/admin/adapters/sandbox-pay").json().at("enabled").as_bool());
}

TEST_F(AdminApi, AdminKeyReachesAppEndpoints) {
  EXPECT_EQ(as(kAdminKey, "GET", "/v1/checkouts").status, 200);
  EXPECT_EQ(as(kAdminKey, "GET", "/v1/events").status, 200);
  EXPECT_EQ(as(kAdminKey, "GET", "/v1/products?seller=sel_hype").status, 200);
  Reply created = as(kAdminKey, "POST", "/v1/checkouts",
                     GatewayFixture::checkout_body({{"ebook", 1}}, "pm_sandbox_action"));
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = str(created.json().at("id"));
  EXPECT_EQ(as(kAdminKey, "GET", "/v1/checkouts/" + id).status, 200);
  EXPECT_EQ(as(kAdminKey, "POST", "/v1/checkouts/" + id + "/cancel").status, 200);
}

TEST_F(AdminApi, OperationsEndpointsNeedNoKey) {
  for (std::string target : {"/healthz", "/readyz", "/metrics"}) {
    Reply r = f().request("GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    EXPECT_FALSE(r.header("request-id").empty()) << target;
  }
}

// ---- adapter types and adapters ----

TEST_F(AdminApi, AdapterTypesListTheSandboxesWithTheirSchemas) {
  Reply r = as(kAdminKey, "GET", "/v1/admin/adapter-types");
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = r.json().as_object();
  EXPECT_FALSE(doc.at("has_more").as_bool());
  std::map<std::string, bj::object> types;
  for (const auto& t : doc.at("data").as_array()) types[str(t.at("type"))] = t.as_object();
  ASSERT_TRUE(types.count("sandbox_payments")) << r.body;
  ASSERT_TRUE(types.count("sandbox_fulfillment")) << r.body;
  EXPECT_EQ(str(types["sandbox_payments"].at("kind")), "payment");
  EXPECT_EQ(str(types["sandbox_fulfillment"].at("kind")), "fulfillment");
  for (const char* name : {"sandbox_payments", "sandbox_fulfillment"}) {
    const auto& schema = types[name].at("schema").as_object();
    const auto& creds = schema.at("credentials").as_object();
    EXPECT_EQ(str(creds.at("type")), "object");
    EXPECT_TRUE(creds.at("properties").as_object().contains("webhook_secret")) << name;
    EXPECT_EQ(str(schema.at("settings").at("type")), "object") << name;
    EXPECT_TRUE(schema.at("settings").at("properties").is_object()) << name;
    EXPECT_FALSE(str(types[name].at("description")).empty());
  }
  EXPECT_TRUE(types["sandbox_payments"]
                  .at("schema")
                  .at("settings")
                  .at("properties")
                  .as_object()
                  .contains("succeed_after_ms"));
}

TEST_F(AdminApi, AdapterPutGetDeleteShowCredentialsRedacted) {
  const std::string secret = webhooks::generate_secret();
  const std::string payload = secret.substr(6);
  const std::string raw_key = *webhooks::secret_key(secret);
  const std::string redacted = "whsec_\xE2\x80\xA6" + secret.substr(secret.size() - 4);
  std::vector<std::string> bodies;
  auto keep = [&](const Reply& r) {
    bodies.push_back(r.body);
    return r;
  };

  bj::object put{{"type", "sandbox_payments"},
                 {"credentials", bj::object{{"webhook_secret", secret}}},
                 {"settings", bj::object{{"succeed_after_ms", 10}}}};
  Reply created = keep(as(kAdminKey, "PUT", "/v1/admin/adapters/pay-2", bj::serialize(put)));
  ASSERT_EQ(created.status, 201) << created.body;
  auto c = created.json().as_object();
  EXPECT_EQ(str(c.at("id")), "pay-2");
  EXPECT_EQ(str(c.at("type")), "sandbox_payments");
  EXPECT_TRUE(c.at("enabled").as_bool());
  EXPECT_EQ(str(c.at("credentials").at("webhook_secret")), redacted);
  EXPECT_EQ(c.at("settings").at("succeed_after_ms").as_int64(), 10);

  Reply got = keep(as(kAdminKey, "GET", "/v1/admin/adapters/pay-2"));
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(str(got.json().at("credentials").at("webhook_secret")), redacted);
  EXPECT_TRUE(got.json().at("status").at("live").as_bool());

  Reply list = keep(as(kAdminKey, "GET", "/v1/admin/adapters"));
  ASSERT_EQ(list.status, 200);
  std::set<std::string> ids;
  for (const auto& a : data_of(list)) ids.insert(str(a.at("id")));
  EXPECT_EQ(ids,
            (std::set<std::string>{"pay-2", "sandbox-merch", "sandbox-merch-2", "sandbox-pay"}));
  Reply ready = keep(f().request("GET", "/readyz"));
  EXPECT_TRUE(ready.json().at("adapters").as_object().contains("pay-2")) << ready.body;

  Reply replaced = keep(as(kAdminKey, "PUT", "/v1/admin/adapters/pay-2", bj::serialize(put)));
  EXPECT_EQ(replaced.status, 200) << replaced.body;
  keep(f().request("GET", "/metrics"));

  // The secret is in no response and nowhere in the database files in clear.
  for (const auto& b : bodies) {
    EXPECT_EQ(b.find(payload), std::string::npos) << b;
    EXPECT_EQ(b.find(secret), std::string::npos) << b;
  }
  for (const std::string& path : {f().db_path(), f().db_path() + "-wal"}) {
    std::string bytes = file_bytes(path);
    EXPECT_EQ(bytes.find(payload), std::string::npos) << path;
    EXPECT_EQ(bytes.find(raw_key), std::string::npos) << path;
  }

  Reply deleted = as(kAdminKey, "DELETE", "/v1/admin/adapters/pay-2");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.json(), bj::value(bj::object{{"id", "pay-2"}, {"deleted", true}}));
  EXPECT_TRUE(is_error(as(kAdminKey, "GET", "/v1/admin/adapters/pay-2"), 404, "not_found",
                       "not_found", "id"));
  EXPECT_REFUSED_UNCHANGED(as(kAdminKey, "DELETE", "/v1/admin/adapters/pay-2"), 404, "not_found",
                           "not_found", "id");
  EXPECT_FALSE(f().request("GET", "/readyz").json().at("adapters").as_object().contains("pay-2"));
  // Its webhooks are now for an unknown adapter.
  std::string body =
      payment_event_body("evt_x", "payment.succeeded", "sbp_x", "chk_x", "succeeded", 1, "EUR");
  EXPECT_TRUE(is_error(f().request("POST", "/v1/webhooks/pay-2", body,
                                   webhook_headers(secret, "evt_x", now_seconds(), body)),
                       404, "not_found", "not_found", "adapter_id"));
}

TEST_F(AdminApi, SeededSecretsAreNeitherShownNorStoredInClear) {
  Reply list = as(kAdminKey, "GET", "/v1/admin/adapters");
  ASSERT_EQ(list.status, 200);
  std::string db = file_bytes(f().db_path()) + file_bytes(f().db_path() + "-wal");
  for (const char* id : {"sandbox-pay", "sandbox-merch", "sandbox-merch-2"}) {
    std::string secret = seed_secret(id);
    ASSERT_FALSE(secret.empty());
    std::string payload = secret.substr(6);
    EXPECT_EQ(list.body.find(payload), std::string::npos) << id;
    Reply one = as(kAdminKey, "GET", std::string("/v1/admin/adapters/") + id);
    EXPECT_EQ(one.body.find(payload), std::string::npos) << id;
    EXPECT_TRUE(
        str(one.json().at("credentials").at("webhook_secret")).starts_with("whsec_\xE2\x80\xA6"));
    EXPECT_EQ(db.find(payload), std::string::npos) << id;
    EXPECT_EQ(db.find(*webhooks::secret_key(secret)), std::string::npos) << id;
  }
}

TEST_F(AdminApi, AdapterPutWithoutCredentialsKeepsTheStoredOnes) {
  const std::string secret = webhooks::generate_secret();
  bj::object put{{"type", "sandbox_payments"},
                 {"credentials", bj::object{{"webhook_secret", secret}}}};
  ASSERT_EQ(as(kAdminKey, "PUT", "/v1/admin/adapters/pay-3", bj::serialize(put)).status, 201);

  Reply replaced = as(kAdminKey, "PUT", "/v1/admin/adapters/pay-3",
                      R"({"type":"sandbox_payments","settings":{"succeed_after_ms":20}})");
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(str(replaced.json().at("credentials").at("webhook_secret")),
            "whsec_\xE2\x80\xA6" + secret.substr(secret.size() - 4));
  Reply got = as(kAdminKey, "GET", "/v1/admin/adapters/pay-3");
  EXPECT_EQ(got.json().at("settings").at("succeed_after_ms").as_int64(), 20);
  EXPECT_EQ(str(got.json().at("credentials").at("webhook_secret")),
            "whsec_\xE2\x80\xA6" + secret.substr(secret.size() - 4));

  // The live adapter still verifies with the secret it was given first.
  std::string body = R"({"id":"evt_k","type":"charge.updated","data":{}})";
  std::string id = core::new_id("evt_sbx");
  Reply ok = f().request("POST", "/v1/webhooks/pay-3", body,
                         webhook_headers(secret, id, now_seconds(), body));
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(f().count("SELECT COUNT(*) FROM inbound_webhooks WHERE adapter_id = 'pay-3' AND "
                      "partner_event_id = '" +
                      id + "'"),
            1);
  EXPECT_TRUE(
      is_error(f().request("POST", "/v1/webhooks/pay-3", body,
                           webhook_headers(webhooks::generate_secret(), id, now_seconds(), body)),
               400, kInvalid, "invalid_signature"));

  // Disabled: still configured (and shown), but it takes no payments.
  Reply disabled = as(kAdminKey, "PUT", "/v1/admin/adapters/pay-3",
                      R"({"type":"sandbox_payments","enabled":false})");
  ASSERT_EQ(disabled.status, 200) << disabled.body;
  EXPECT_FALSE(disabled.json().at("enabled").as_bool());
  EXPECT_FALSE(
      f().request("GET", "/readyz").json().at("adapters").at("pay-3").at("enabled").as_bool());
  bj::object explicit_pay3 = parse_object(GatewayFixture::checkout_body({{"ebook", 1}}));
  explicit_pay3["payment"].as_object()["processor"] = "pay-3";
  EXPECT_REFUSED_UNCHANGED(as(kAppKey, "POST", "/v1/checkouts", bj::serialize(explicit_pay3)), 400,
                           kInvalid, "resource_missing", "payment.processor");

  // Rotated: the new secret verifies at once, the old one no longer does.
  const std::string rotated = webhooks::generate_secret();
  Reply rotate =
      as(kAdminKey, "PUT", "/v1/admin/adapters/pay-3",
         bj::serialize(bj::object{{"type", "sandbox_payments"},
                                  {"credentials", bj::object{{"webhook_secret", rotated}}}}));
  ASSERT_EQ(rotate.status, 200) << rotate.body;
  std::string id2 = core::new_id("evt_sbx");
  EXPECT_TRUE(is_error(f().request("POST", "/v1/webhooks/pay-3", body,
                                   webhook_headers(secret, id2, now_seconds(), body)),
                       400, kInvalid, "invalid_signature"));
  EXPECT_EQ(f().request("POST", "/v1/webhooks/pay-3", body,
                        webhook_headers(rotated, id2, now_seconds(), body))
                .status,
            200);

  // Credentials do not carry over to another type.
  EXPECT_REFUSED_UNCHANGED(
      as(kAdminKey, "PUT", "/v1/admin/adapters/pay-3", R"({"type":"sandbox_fulfillment"})"), 400,
      kInvalid, "missing_field", "credentials.webhook_secret");
  EXPECT_EQ(as(kAdminKey, "DELETE", "/v1/admin/adapters/pay-3").status, 200);
}

TEST_F(AdminApi, AdapterValidationErrorsNameTheKey) {
  const std::string secret = webhooks::generate_secret();
  auto put = [&](const std::string& id, bj::object body) {
    return as(kAdminKey, "PUT", "/v1/admin/adapters/" + id, bj::serialize(body));
  };
  auto pay = [&](bj::object credentials, bj::object settings = {}) {
    return bj::object{{"type", "sandbox_payments"},
                      {"credentials", std::move(credentials)},
                      {"settings", std::move(settings)}};
  };
  bj::object creds{{"webhook_secret", secret}};
  EXPECT_REFUSED_UNCHANGED(put("bad-1", pay({{"webhook_secret", "not-a-secret"}})), 400, kInvalid,
                           "invalid_field", "credentials.webhook_secret");
  EXPECT_REFUSED_UNCHANGED(put("bad-1", pay({{"webhook_secret", "whsec_c2hvcnQ="}})), 400, kInvalid,
                           "invalid_field", "credentials.webhook_secret");
  EXPECT_REFUSED_UNCHANGED(put("bad-1", pay({{"webhook_secret", 5}})), 400, kInvalid,
                           "invalid_field", "credentials.webhook_secret");
  EXPECT_REFUSED_UNCHANGED(put("bad-1", pay(bj::object{})), 400, kInvalid, "missing_field",
                           "credentials.webhook_secret");
  EXPECT_REFUSED_UNCHANGED(put("bad-1", pay({{"webhook_secret", secret}, {"api_key", "k"}})), 400,
                           kInvalid, "unknown_field", "credentials.api_key");
  EXPECT_REFUSED_UNCHANGED(put("bad-1", pay(creds, {{"succeed_after_ms", -1}})), 400, kInvalid,
                           "invalid_field", "settings.succeed_after_ms");
  EXPECT_REFUSED_UNCHANGED(put("bad-1", pay(creds, {{"succeed_after_ms", "fast"}})), 400, kInvalid,
                           "invalid_field", "settings.succeed_after_ms");
  EXPECT_REFUSED_UNCHANGED(put("bad-1", pay(creds, {{"bogus", 1}})), 400, kInvalid, "unknown_field",
                           "settings.bogus");
  EXPECT_REFUSED_UNCHANGED(
      put("bad-1", bj::object{{"type", "sandbox_fulfillment"},
                              {"credentials", creds},
                              {"settings", bj::object{{"shipping", bj::object{{"EUR", -5}}}}}}),
      400, kInvalid, "invalid_field", "settings.shipping.EUR");
  EXPECT_REFUSED_UNCHANGED(put("bad-1", bj::object{{"credentials", creds}}), 400, kInvalid,
                           "missing_field", "type");
  EXPECT_REFUSED_UNCHANGED(
      put("bad-1", bj::object{{"type", "sandbox_payments"}, {"credentials", "whsec_x"}}), 400,
      kInvalid, "invalid_field", "credentials");
  EXPECT_REFUSED_UNCHANGED(
      put("bad-1",
          bj::object{{"type", "sandbox_payments"}, {"credentials", creds}, {"enabled", "yes"}}),
      400, kInvalid, "invalid_field", "enabled");
  EXPECT_REFUSED_UNCHANGED(put("bad-1", bj::object{{"type", "sandbox_payments"},
                                                   {"credentials", creds},
                                                   {"base_url", "ftp://example.com"}}),
                           400, kInvalid, "invalid_field", "base_url");
  EXPECT_REFUSED_UNCHANGED(
      put("bad-1",
          bj::object{{"type", "sandbox_payments"}, {"credentials", creds}, {"secret", "x"}}),
      400, kInvalid, "unknown_field", "secret");
  EXPECT_REFUSED_UNCHANGED(put("Bad%20Id", pay(creds)), 400, kInvalid, "invalid_field", "id");
  EXPECT_REFUSED_UNCHANGED(as(kAdminKey, "PUT", "/v1/admin/adapters/bad-1", "{"), 400, kInvalid,
                           "invalid_json", "");
  EXPECT_REFUSED_UNCHANGED(f().request("PUT", "/v1/admin/adapters/bad-1", bj::serialize(pay(creds)),
                                       {{"authorization", std::string("Bearer ") + kAdminKey},
                                        {"content-type", "text/plain"}}),
                           415, kInvalid, "unsupported_media_type", "");

  // An unknown type lists the known ones.
  std::string before = dump(f());
  Reply unknown = put("bad-1", bj::object{{"type", "stripe-ish"}, {"credentials", creds}});
  EXPECT_TRUE(is_error(unknown, 400, kInvalid, "invalid_field", "type"));
  std::string message = str(unknown.json().at("error").at("message"));
  EXPECT_NE(message.find("sandbox_payments"), std::string::npos) << message;
  EXPECT_NE(message.find("sandbox_fulfillment"), std::string::npos) << message;
  EXPECT_EQ(dump(f()), before);
  // No error echoes the secret it was given.
  Reply err = put("bad-1", pay({{"webhook_secret", secret}, {"api_key", secret}}));
  EXPECT_EQ(err.status, 400);
  EXPECT_EQ(err.body.find(secret.substr(6)), std::string::npos) << err.body;
  EXPECT_TRUE(is_error(as(kAdminKey, "GET", "/v1/admin/adapters/bad-1"), 404, "not_found",
                       "not_found", "id"));
}

// ---- sellers ----

TEST_F(AdminApi, ASellerIsDeletedOnlyWhenNothingNamesIt) {
  ASSERT_EQ(as(kAdminKey, "PUT", "/v1/admin/sellers/sel_gone", R"({"name":"Gone"})").status, 201);
  Reply deleted = as(kAdminKey, "DELETE", "/v1/admin/sellers/sel_gone");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_TRUE(deleted.json().at("deleted").as_bool());
  EXPECT_TRUE(is_error(as(kAdminKey, "GET", "/v1/admin/sellers/sel_gone"), 404, "not_found",
                       "not_found", "id"));
  EXPECT_TRUE(is_error(as(kAdminKey, "DELETE", "/v1/admin/sellers/sel_gone"), 404, "not_found",
                       "not_found", "id"));
  // sel_other still sells a product: refused, and it stays.
  Reply refused = as(kAdminKey, "DELETE", "/v1/admin/sellers/sel_other");
  EXPECT_TRUE(is_error(refused, 409, "conflict", "invalid_state", "")) << refused.body;
  EXPECT_NE(refused.body.find("products"), std::string::npos) << refused.body;
  EXPECT_EQ(as(kAdminKey, "GET", "/v1/admin/sellers/sel_other").status, 200);
  EXPECT_EQ(as(kAppKey, "DELETE", "/v1/admin/sellers/sel_other").status, 403);
}

TEST_F(AdminApi, SellersCreateReplaceAndRead) {
  Reply created =
      as(kAdminKey, "PUT", "/v1/admin/sellers/sel_new",
         R"({"name":"New Shop","platform_fee_bps":250,"payouts":{"sandbox-pay":"acct_new"}})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto c = created.json().as_object();
  EXPECT_EQ(str(c.at("id")), "sel_new");
  EXPECT_EQ(str(c.at("name")), "New Shop");
  EXPECT_EQ(c.at("platform_fee_bps").as_int64(), 250);
  EXPECT_EQ(str(c.at("payouts").at("sandbox-pay")), "acct_new");
  Reply got = as(kAdminKey, "GET", "/v1/admin/sellers/sel_new");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.json(), created.json());

  Reply replaced = as(kAdminKey, "PUT", "/v1/admin/sellers/sel_new",
                      R"({"name":"Renamed","platform_fee_bps":10000})");
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(str(replaced.json().at("name")), "Renamed");
  EXPECT_EQ(replaced.json().at("platform_fee_bps").as_int64(), 10000);
  EXPECT_TRUE(replaced.json().at("payouts").as_object().empty());
  EXPECT_EQ(replaced.json().at("created_at"), c.at("created_at"));
  EXPECT_EQ(
      as(kAdminKey, "PUT", "/v1/admin/sellers/sel_zero", R"({"name":"Zero","platform_fee_bps":0})")
          .status,
      201);
  EXPECT_EQ(as(kAdminKey, "GET", "/v1/admin/sellers/sel_new").json(), replaced.json());
  EXPECT_TRUE(is_error(as(kAdminKey, "GET", "/v1/admin/sellers/sel_nope"), 404, "not_found",
                       "not_found", "id"));
}

TEST_F(AdminApi, SellerValidation) {
  auto put = [&](const std::string& body) {
    return as(kAdminKey, "PUT", "/v1/admin/sellers/sel_bad", body);
  };
  EXPECT_REFUSED_UNCHANGED(put(R"({"name":"B","platform_fee_bps":10001})"), 400, kInvalid,
                           "amount_out_of_range", "platform_fee_bps");
  EXPECT_REFUSED_UNCHANGED(put(R"({"name":"B","platform_fee_bps":-1})"), 400, kInvalid,
                           "amount_out_of_range", "platform_fee_bps");
  EXPECT_REFUSED_UNCHANGED(put(R"({"name":"B","platform_fee_bps":"250"})"), 400, kInvalid,
                           "invalid_field", "platform_fee_bps");
  EXPECT_REFUSED_UNCHANGED(put(R"({"name":"B","platform_fee_bps":2.5})"), 400, kInvalid,
                           "invalid_field", "platform_fee_bps");
  EXPECT_REFUSED_UNCHANGED(put(R"({"platform_fee_bps":100})"), 400, kInvalid, "missing_field",
                           "name");
  EXPECT_REFUSED_UNCHANGED(put(R"({"name":"B","payouts":{"Bad Id":"acct"}})"), 400, kInvalid,
                           "invalid_field", "payouts.Bad Id");
  EXPECT_REFUSED_UNCHANGED(put(R"({"name":"B","payouts":{"sandbox-pay":5}})"), 400, kInvalid,
                           "invalid_field", "payouts.sandbox-pay");
  EXPECT_REFUSED_UNCHANGED(put(R"({"name":"B","fee":5})"), 400, kInvalid, "unknown_field", "fee");
  EXPECT_REFUSED_UNCHANGED(
      as(kAdminKey, "PUT", "/v1/admin/sellers/bad%20seller", R"({"name":"B"})"), 400, kInvalid,
      "invalid_field", "id");
  EXPECT_REFUSED_UNCHANGED(put("[]"), 400, kInvalid, "invalid_json", "");
}

TEST_F(AdminApi, SellerListPaginates) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(as(kAdminKey, "PUT", "/v1/admin/sellers/sel_page_" + std::to_string(i),
                 R"({"name":"Page"})")
                  .status,
              201);
  }
  Reply all = as(kAdminKey, "GET", "/v1/admin/sellers?limit=100");
  ASSERT_EQ(all.status, 200);
  EXPECT_FALSE(all.json().at("has_more").as_bool());
  std::vector<std::string> ids;
  for (const auto& s : data_of(all)) ids.push_back(str(s.at("id")));
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_GE(ids.size(), 7u);

  int pages = 0;
  auto walked = walk("/v1/admin/sellers", kAdminKey, 2, "id", &pages);
  std::vector<std::string> walked_ids;
  for (const auto& s : walked) walked_ids.push_back(str(s.at("id")));
  EXPECT_EQ(walked_ids, ids);
  EXPECT_EQ(pages, static_cast<int>((ids.size() + 1) / 2));

  Reply first = as(kAdminKey, "GET", "/v1/admin/sellers?limit=1");
  EXPECT_EQ(first.json().at("data").as_array().size(), 1u);
  EXPECT_TRUE(first.json().at("has_more").as_bool());
  // Default page size is 20.
  EXPECT_EQ(as(kAdminKey, "GET", "/v1/admin/sellers").json().at("data").as_array().size(),
            std::min<std::size_t>(ids.size(), 20));
  for (std::string bad : {"0", "101", "abc", "-1", "1.5", ""}) {
    EXPECT_TRUE(is_error(as(kAdminKey, "GET", "/v1/admin/sellers?limit=" + bad), 400, kInvalid,
                         "invalid_field", "limit"))
        << bad;
  }
}

// ---- products ----

TEST_F(AdminApi, ProductsCreateReplaceReadAndDelete) {
  std::string body =
      R"({"seller":"sel_hype","title":"Mug","unit_amount":1200,"currency":"EUR",
          "images":["https://img.example/mug.png"],
          "fulfillment":{"adapter":"sandbox-merch","product":"71","variant":"4012",
                         "files":[{"url":"https://img.example/front.png"}]}})";
  Reply created = as(kAdminKey, "PUT", "/v1/admin/products/mug-white", body);
  ASSERT_EQ(created.status, 201) << created.body;
  auto p = created.json().as_object();
  EXPECT_EQ(str(p.at("sku")), "mug-white");
  EXPECT_EQ(str(p.at("seller")), "sel_hype");
  EXPECT_EQ(p.at("unit_amount").as_int64(), 1200);
  EXPECT_EQ(str(p.at("currency")), "EUR");
  EXPECT_EQ(str(p.at("fulfillment").at("adapter")), "sandbox-merch");
  EXPECT_EQ(str(p.at("fulfillment").at("variant")), "4012");
  EXPECT_TRUE(p.at("active").as_bool());
  EXPECT_EQ(as(kAdminKey, "GET", "/v1/admin/products/mug-white").json(), created.json());

  Reply replaced = as(kAdminKey, "PUT", "/v1/admin/products/mug-white",
                      R"({"seller":"sel_hype","title":"Mug","unit_amount":1300,"currency":"EUR",
                          "fulfillment":{"adapter":"sandbox-merch-2"}})");
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(replaced.json().at("unit_amount").as_int64(), 1300);
  EXPECT_EQ(replaced.json().at("created_at"), p.at("created_at"));
  // The catalog price is what a checkout charges, at once.
  auto c = f().create_checkout({{"mug-white", 2}});
  EXPECT_EQ(c.at("amount_subtotal").as_int64(), 2600);
  EXPECT_EQ(str(c.at("lines").as_array()[0].at("fulfillment_adapter")), "sandbox-merch-2");

  Reply deleted = as(kAdminKey, "DELETE", "/v1/admin/products/mug-white");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.json(), bj::value(bj::object{{"sku", "mug-white"}, {"deleted", true}}));
  EXPECT_TRUE(is_error(as(kAdminKey, "GET", "/v1/admin/products/mug-white"), 404, "not_found",
                       "not_found", "sku"));
  EXPECT_REFUSED_UNCHANGED(as(kAdminKey, "DELETE", "/v1/admin/products/mug-white"), 404,
                           "not_found", "not_found", "sku");
  EXPECT_TRUE(is_error(
      as(kAppKey, "POST", "/v1/checkouts", GatewayFixture::checkout_body({{"mug-white", 1}})), 400,
      kInvalid, "resource_missing", "lines[0].sku"));
}

TEST_F(AdminApi, ProductValidation) {
  auto put = [&](const std::string& body) {
    return as(kAdminKey, "PUT", "/v1/admin/products/bad-product", body);
  };
  auto product = [](const std::string& extra) {
    return R"({"seller":"sel_hype","title":"P","unit_amount":100,"currency":"EUR")" + extra + "}";
  };
  EXPECT_REFUSED_UNCHANGED(
      put(R"({"seller":"sel_nope","title":"P","unit_amount":100,"currency":"EUR"})"), 400, kInvalid,
      "resource_missing", "seller");
  EXPECT_REFUSED_UNCHANGED(put(product(R"(,"fulfillment":{"adapter":"no-such-printer"})")), 400,
                           kInvalid, "resource_missing", "fulfillment.adapter");
  EXPECT_REFUSED_UNCHANGED(put(product(R"(,"fulfillment":{"adapter":"sandbox-pay"})")), 400,
                           kInvalid, "resource_missing", "fulfillment.adapter");
  EXPECT_REFUSED_UNCHANGED(put(product(R"(,"fulfillment":{"product":"71"})")), 400, kInvalid,
                           "missing_field", "fulfillment.adapter");
  EXPECT_REFUSED_UNCHANGED(
      put(product(R"(,"fulfillment":{"adapter":"sandbox-merch","colour":"red"})")), 400, kInvalid,
      "unknown_field", "fulfillment.colour");
  EXPECT_REFUSED_UNCHANGED(
      put(product(R"(,"fulfillment":{"adapter":"sandbox-merch","fail":"yes"})")), 400, kInvalid,
      "invalid_field", "fulfillment.fail");
  EXPECT_REFUSED_UNCHANGED(
      put(product(R"(,"fulfillment":{"adapter":"sandbox-merch","variant":4012})")), 400, kInvalid,
      "invalid_field", "fulfillment.variant");
  EXPECT_REFUSED_UNCHANGED(put(product(R"(,"fulfillment":"sandbox-merch")")), 400, kInvalid,
                           "invalid_field", "fulfillment");
  for (std::string currency : {"EURO", "eur", "ABC", ""}) {
    EXPECT_REFUSED_UNCHANGED(
        put(R"({"seller":"sel_hype","title":"P","unit_amount":100,"currency":")" + currency +
            "\"}"),
        400, kInvalid, "unknown_currency", "currency");
  }
  EXPECT_REFUSED_UNCHANGED(
      put(R"({"seller":"sel_hype","title":"P","unit_amount":-1,"currency":"EUR"})"), 400, kInvalid,
      "amount_out_of_range", "unit_amount");
  EXPECT_REFUSED_UNCHANGED(
      put(R"({"seller":"sel_hype","title":"P","unit_amount":100000000,"currency":"EUR"})"), 400,
      kInvalid, "amount_out_of_range", "unit_amount");
  EXPECT_REFUSED_UNCHANGED(
      put(R"({"seller":"sel_hype","title":"P","unit_amount":"100","currency":"EUR"})"), 400,
      kInvalid, "invalid_field", "unit_amount");
  EXPECT_REFUSED_UNCHANGED(put(R"({"seller":"sel_hype","unit_amount":100,"currency":"EUR"})"), 400,
                           kInvalid, "missing_field", "title");
  EXPECT_REFUSED_UNCHANGED(put(product(R"(,"images":["http://img.example/a.png"])")), 400, kInvalid,
                           "invalid_field", "images[0]");
  EXPECT_REFUSED_UNCHANGED(put(product(R"(,"price":100)")), 400, kInvalid, "unknown_field",
                           "price");
  EXPECT_REFUSED_UNCHANGED(put(product(R"(,"active":"no")")), 400, kInvalid, "invalid_field",
                           "active");
  EXPECT_REFUSED_UNCHANGED(as(kAdminKey, "PUT", "/v1/admin/products/bad%20sku", product("")), 400,
                           kInvalid, "invalid_field", "sku");
  EXPECT_TRUE(is_error(as(kAdminKey, "GET", "/v1/admin/products/bad-product"), 404, "not_found",
                       "not_found", "sku"));
}

TEST_F(AdminApi, ProductListPaginatesAndFiltersBySeller) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(as(kAdminKey, "PUT", "/v1/admin/products/other-item-" + std::to_string(i),
                 R"({"seller":"sel_other","title":"Item","unit_amount":100,"currency":"EUR",
                     "active":)" +
                     std::string(i % 2 ? "false" : "true") + "}")
                  .status,
              201);
  }
  auto walked = walk("/v1/admin/products?seller=sel_other", kAdminKey, 2, "sku");
  std::vector<std::string> skus;
  for (const auto& p : walked) {
    skus.push_back(str(p.at("sku")));
    EXPECT_EQ(str(p.at("seller")), "sel_other");
  }
  // The admin list holds inactive products too.
  EXPECT_EQ(skus, (std::vector<std::string>{"other-item-0", "other-item-1", "other-item-2",
                                            "other-item-3", "other-item-4", "other-tee"}));
  auto everything = walk("/v1/admin/products", kAdminKey, 3, "sku");
  EXPECT_GE(everything.size(), 13u);
}

// ---- the shop listing (app keys) ----

TEST_F(AdminApi, ShopListingShowsActiveProductsWithVariantsAndAvailability) {
  ASSERT_EQ(as(kAdminKey, "PUT", "/v1/admin/sellers/sel_shop", R"({"name":"Shop"})").status, 201);
  auto product = [&](const std::string& sku, const std::string& extra, int status = 201) {
    Reply r = as(
        kAdminKey, "PUT", "/v1/admin/products/" + sku,
        R"({"seller":"sel_shop","title":")" + sku +
            R"(","unit_amount":2000,"currency":"EUR","fulfillment":{"adapter":"sandbox-merch"})" +
            extra + "}");
    EXPECT_EQ(r.status, status) << r.body;
  };
  product("shirt-s",
          R"(,"group":"shirt","options":{"size":"S"},"images":["https://img.example/s.png"])");
  product("shirt-m", R"(,"group":"shirt","options":{"size":"M"},"in_stock":false)");
  product("shirt-l", R"(,"group":"shirt","options":{"size":"L"},"active":false)");
  product("zine", "");
  ASSERT_EQ(
      as(kAdminKey, "PUT", "/v1/admin/products/zine-old",
         R"({"seller":"sel_shop","title":"Old","unit_amount":500,"currency":"EUR","active":false})")
          .status,
      201);

  Reply r = as(kAppKey, "GET", "/v1/products?seller=sel_shop");
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = r.json().as_object();
  EXPECT_FALSE(doc.at("has_more").as_bool());
  std::map<std::string, bj::object> by_sku;
  std::vector<std::string> skus;
  for (const auto& p : doc.at("data").as_array()) {
    skus.push_back(str(p.at("sku")));
    by_sku[skus.back()] = p.as_object();
  }
  EXPECT_EQ(skus, (std::vector<std::string>{"shirt-m", "shirt-s", "zine"}));
  const auto& s = by_sku["shirt-s"];
  EXPECT_EQ(str(s.at("title")), "shirt-s");
  EXPECT_EQ(s.at("unit_amount").as_int64(), 2000);
  EXPECT_EQ(str(s.at("currency")), "EUR");
  EXPECT_EQ(str(s.at("availability")), "in_stock");
  EXPECT_EQ(s.at("images"), bj::value(bj::array{"https://img.example/s.png"}));
  std::map<std::string, std::string> variants;
  for (const auto& v : s.at("variants").as_array()) {
    variants[str(v.at("sku"))] = str(v.at("availability"));
  }
  EXPECT_EQ(variants, (std::map<std::string, std::string>{{"shirt-m", "out_of_stock"},
                                                          {"shirt-s", "in_stock"}}));
  EXPECT_EQ(str(by_sku["shirt-m"].at("availability")), "out_of_stock");
  EXPECT_EQ(by_sku["shirt-m"].at("variants").as_array().size(), 2u);
  EXPECT_TRUE(by_sku["zine"].at("variants").as_array().empty());

  // Paging, and changes show at once.
  Reply page = as(kAppKey, "GET", "/v1/products?seller=sel_shop&limit=2");
  EXPECT_EQ(page.json().at("data").as_array().size(), 2u);
  EXPECT_TRUE(page.json().at("has_more").as_bool());
  Reply rest = as(kAppKey, "GET", "/v1/products?seller=sel_shop&limit=2&starting_after=shirt-s");
  ASSERT_EQ(rest.json().at("data").as_array().size(), 1u);
  EXPECT_EQ(str(rest.json().at("data").as_array()[0].at("sku")), "zine");
  EXPECT_FALSE(rest.json().at("has_more").as_bool());
  product("shirt-l", R"(,"group":"shirt","options":{"size":"L"},"active":true)", 200);
  Reply after = as(kAppKey, "GET", "/v1/products?seller=sel_shop");
  EXPECT_EQ(after.json().at("data").as_array().size(), 4u);

  // Another seller's products never show; the seller is required and must exist.
  Reply hype = as(kAppKey, "GET", "/v1/products?seller=sel_hype&limit=100");
  for (const auto& p : data_of(hype)) {
    EXPECT_EQ(str(p.at("seller")), "sel_hype");
  }
  EXPECT_TRUE(
      is_error(as(kAppKey, "GET", "/v1/products"), 400, kInvalid, "missing_field", "seller"));
  EXPECT_TRUE(is_error(as(kAppKey, "GET", "/v1/products?seller=sel_nope"), 404, "not_found",
                       "not_found", "seller"));
}

// ---- routing ----

TEST(AdminRouting, RulesValidateAndTakeEffectWithoutRestart) {
  GatewayFixture f;
  auto admin = [&](const std::string& method, const std::string& target,
                   const std::string& body = "") { return f.admin(method, target, body); };
  Reply empty = admin("GET", "/v1/admin/routing");
  ASSERT_EQ(empty.status, 200);
  EXPECT_EQ(empty.json(), bj::value(bj::object{{"rules", bj::array{}}}));

  struct Bad {
    std::string body, code, param;
  };
  std::vector<Bad> bad{
      {R"({"rules":[{"match":{},"processors":["stripe-main"]}]})", "resource_missing",
       "rules[0].processors[0]"},
      {R"({"rules":[{"processors":["sandbox-pay"]},{"processors":["sandbox-pay","nope"]}]})",
       "resource_missing", "rules[1].processors[1]"},
      {R"({"rules":[{"processors":["sandbox-merch"]}]})", "resource_missing",
       "rules[0].processors[0]"},
      {R"({"rules":[{"processors":[]}]})", "missing_field", "rules[0].processors"},
      {R"({"rules":[{"processors":["Not An Id"]}]})", "invalid_field", "rules[0].processors[0]"},
      {R"({"rules":[{"match":{"currency":["eur"]},"processors":["sandbox-pay"]}]})",
       "invalid_field", "rules[0].match.currency[0]"},
      {R"({"rules":[{"match":{"country":["IT","ZZ"]},"processors":["sandbox-pay"]}]})",
       "invalid_field", "rules[0].match.country[1]"},
      {R"({"rules":[{"match":{"min_amount":500,"max_amount":100},"processors":["sandbox-pay"]}]})",
       "invalid_field", "rules[0].match.min_amount"},
      {R"({"rules":[{"match":{"min_amount":-1},"processors":["sandbox-pay"]}]})",
       "amount_out_of_range", "rules[0].match.min_amount"},
      {R"({"rules":[{"match":{"amount":5},"processors":["sandbox-pay"]}]})", "unknown_field",
       "rules[0].match.amount"},
      {R"({"rules":["sandbox-pay"]})", "invalid_field", "rules[0]"},
      {R"({})", "missing_field", "rules"},
      {R"({"rules":[],"default":"x"})", "unknown_field", "default"},
  };
  for (const auto& b : bad) {
    std::string before = dump(f);
    EXPECT_TRUE(is_error(admin("PUT", "/v1/admin/routing", b.body), 400, kInvalid, b.code, b.param))
        << b.body;
    EXPECT_EQ(dump(f), before) << b.body;
  }

  // A second processor, and rules that send Italian euro carts to it.
  ASSERT_EQ(admin("PUT", "/v1/admin/adapters/pay-2",
                  bj::serialize(bj::object{
                      {"type", "sandbox_payments"},
                      {"credentials", bj::object{{"webhook_secret", webhooks::generate_secret()}}},
                      {"settings", bj::object{{"succeed_after_ms", 10}}}}))
                .status,
            201);
  std::string rules =
      R"({"rules":[{"match":{"currency":["EUR"],"country":["IT"],"min_amount":0,"max_amount":100000},
                    "processors":["pay-2","sandbox-pay"]},
                   {"match":{},"processors":["sandbox-pay"]}]})";
  Reply put = admin("PUT", "/v1/admin/routing", rules);
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.json(), bj::parse(rules));
  EXPECT_EQ(admin("GET", "/v1/admin/routing").json(), bj::parse(rules));

  auto it = f.create_checkout({{"tee", 1}});
  EXPECT_EQ(str(it.at("payment").at("processor")), "pay-2");
  Reply fr = f.app("POST", "/v1/checkouts",
                   GatewayFixture::checkout_body({{"tee", 1}}, "pm_sandbox_ok", "EUR", "FR"));
  ASSERT_EQ(fr.status, 201) << fr.body;
  EXPECT_EQ(str(fr.json().at("payment").at("processor")), "sandbox-pay");
  EXPECT_EQ(str(f.wait_for_status(str(it.at("id")), "fulfilled").at("status")), "fulfilled");

  // Rules that match nothing for this cart: refused with the field that decided.
  ASSERT_EQ(admin("PUT", "/v1/admin/routing",
                  R"({"rules":[{"match":{"currency":["USD"]},"processors":["sandbox-pay"]}]})")
                .status,
            200);
  ASSERT_TRUE(quiesce(f));
  std::string before = dump(f);
  EXPECT_TRUE(is_error(f.app("POST", "/v1/checkouts", GatewayFixture::checkout_body({{"tee", 1}})),
                       422, kInvalid, "unprocessable", "currency"));
  EXPECT_EQ(dump(f), before);
}

// ---- conventions on every reply ----

TEST_F(AdminApi, UnknownRoutesAre404AndWrongMethodsAre405WithAllow) {
  for (std::string target : {"/v1/nope", "/v1/checkouts/chk_1/nope", "/nope", "/v1/admin/nope"}) {
    EXPECT_TRUE(is_error(f().request("GET", target), 404, "not_found", "route_not_found"))
        << target;
    EXPECT_TRUE(is_error(as(kAppKey, "GET", target), 404, "not_found", "route_not_found"))
        << target;
  }
  struct Wrong {
    std::string method, target;
    std::set<std::string> allow;
  };
  std::vector<Wrong> wrong{
      {"DELETE", "/v1/checkouts", {"GET", "POST"}},
      {"PUT", "/v1/checkouts/chk_1", {"GET"}},
      {"GET", "/v1/checkouts/chk_1/cancel", {"POST"}},
      {"GET", "/v1/webhooks/sandbox-pay", {"POST"}},
      {"POST", "/healthz", {"GET"}},
      {"PATCH", "/v1/admin/routing", {"GET", "PUT"}},
      {"POST", "/v1/admin/adapters/sandbox-pay", {"GET", "PUT", "DELETE"}},
  };
  for (const auto& w : wrong) {
    std::string before = dump(f());
    Reply r = as(kAdminKey, w.method, w.target, w.method == "GET" ? "" : "{}");
    EXPECT_TRUE(is_error(r, 405, kInvalid, "method_not_allowed")) << w.method << " " << w.target;
    std::set<std::string> allow;
    std::string header = r.header("allow");
    for (std::size_t i = 0; i < header.size();) {
      auto comma = header.find(',', i);
      std::string m = header.substr(i, comma == std::string::npos ? std::string::npos : comma - i);
      m.erase(0, m.find_first_not_of(' '));
      m.erase(m.find_last_not_of(' ') + 1);
      allow.insert(m);
      if (comma == std::string::npos) break;
      i = comma + 1;
    }
    EXPECT_EQ(allow, w.allow) << w.method << " " << w.target << ": allow '" << header << "'";
    EXPECT_EQ(dump(f()), before);
  }
}

TEST_F(AdminApi, EveryReplyCarriesARequestId) {
  std::vector<Reply> replies{
      f().request("GET", "/healthz"),
      f().request("GET", "/readyz"),
      f().request("GET", "/metrics"),
      f().request("GET", "/v1/nope"),
      f().request("DELETE", "/v1/checkouts"),
      as(nullptr, "GET", "/v1/checkouts"),
      as(kAppKey, "GET", "/v1/checkouts"),
      as(kAppKey, "GET", "/v1/admin/routing"),
      as(kAppKey, "GET", "/v1/checkouts/chk_nope"),
      as(kAppKey, "POST", "/v1/checkouts", "{"),
      as(kAppKey, "POST", "/v1/checkouts",
         GatewayFixture::checkout_body({{"ebook", 1}}, "pm_sandbox_action")),
      f().request("POST", "/v1/checkouts", std::string(1024 * 1024 + 10, ' '),
                  app_headers(core::new_id("idem"))),
      f().request("POST", "/v1/webhooks/sandbox-pay", "{}"),
      f().request("GET", "/hosted/sandbox-pay/pay/sbp_nope?token=x"),
  };
  std::set<std::string> ids;
  for (const auto& r : replies) {
    std::string id = r.header("request-id");
    EXPECT_FALSE(id.empty()) << r.status << " " << r.body.substr(0, 200);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), replies.size());
  // A caller's own id (X-Request-Id) is kept; a malformed one is replaced.
  Reply mine = f().request("GET", "/healthz", "", {{"x-request-id", "req_from_caller-42"}});
  EXPECT_EQ(mine.header("request-id"), "req_from_caller-42");
  Reply bad = f().request("GET", "/healthz", "", {{"x-request-id", "bad id\twith junk"}});
  EXPECT_FALSE(bad.header("request-id").empty());
  EXPECT_EQ(bad.header("request-id").find(' '), std::string::npos);
}

// ---- operations ----

double metric_value(const std::string& text, const std::string& name,
                    const std::vector<std::string>& labels) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    std::string line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? text.size() : end + 1;
    if (!line.starts_with(name + "{")) continue;
    bool all = std::all_of(labels.begin(), labels.end(),
                           [&](const std::string& l) { return line.find(l) != std::string::npos; });
    if (all) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

TEST_F(AdminApi, HealthReadinessAndMetrics) {
  Reply health = f().request("GET", "/healthz");
  ASSERT_EQ(health.status, 200);
  EXPECT_EQ(health.json(), bj::value(bj::object{{"status", "ok"}}));

  Reply ready = f().request("GET", "/readyz");
  ASSERT_EQ(ready.status, 200) << ready.body;
  auto r = ready.json().as_object();
  EXPECT_EQ(str(r.at("status")), "ready");
  EXPECT_EQ(str(r.at("storage")), "ok");
  EXPECT_GE(r.at("schema_version").as_int64(), 1);
  EXPECT_EQ(r.at("schema_version"), r.at("schema_latest"));
  EXPECT_FALSE(r.at("draining").as_bool());
  for (const char* id : {"sandbox-pay", "sandbox-merch", "sandbox-merch-2"}) {
    ASSERT_TRUE(r.at("adapters").as_object().contains(id)) << ready.body;
    EXPECT_TRUE(r.at("adapters").at(id).at("enabled").as_bool());
    EXPECT_EQ(str(r.at("adapters").at(id).at("breaker")), "closed");
  }

  std::vector<std::string> healthz{"route=\"/healthz\"", "method=\"GET\"", "status=\"200\""};
  Reply m1 = f().request("GET", "/metrics");
  ASSERT_EQ(m1.status, 200);
  EXPECT_TRUE(m1.header("content-type").starts_with("text/plain")) << m1.header("content-type");
  EXPECT_NE(m1.body.find("# TYPE merchgate_http_requests_total counter"), std::string::npos);
  EXPECT_NE(m1.body.find("merchgate_http_request_seconds_bucket{"), std::string::npos);
  double before = metric_value(m1.body, "merchgate_http_requests_total", healthz);
  ASSERT_GE(before, 1);
  f().request("GET", "/healthz");
  f().request("GET", "/healthz");
  Reply m2 = f().request("GET", "/metrics");
  EXPECT_EQ(metric_value(m2.body, "merchgate_http_requests_total", healthz), before + 2);
  // Refusals are counted by status too.
  as(nullptr, "GET", "/v1/events");
  Reply m3 = f().request("GET", "/metrics");
  EXPECT_GE(metric_value(m3.body, "merchgate_http_requests_total",
                         {"route=\"/v1/events\"", "status=\"401\""}),
            1);
}

// ---- lists of the checkout API ----

TEST_F(AdminApi, CheckoutAndEventListsPaginateNewestFirst) {
  ASSERT_TRUE(quiesce(f()));
  std::vector<std::string> created;
  for (int i = 0; i < 5; ++i) {
    created.push_back(str(f().create_checkout({{"ebook", 1}}, "pm_sandbox_action").at("id")));
  }
  Reply all = as(kAppKey, "GET", "/v1/checkouts?limit=100");
  ASSERT_EQ(all.status, 200);
  std::vector<std::string> ids;
  for (const auto& c : data_of(all)) ids.push_back(str(c.at("id")));
  ASSERT_GE(ids.size(), 5u);
  // Newest first: the five just made lead, latest first.
  EXPECT_EQ(std::vector<std::string>(ids.begin(), ids.begin() + 5),
            std::vector<std::string>(created.rbegin(), created.rend()));
  std::vector<std::string> walked;
  for (const auto& c : walk("/v1/checkouts", kAppKey, 2, "id")) walked.push_back(str(c.at("id")));
  EXPECT_EQ(walked, ids);

  std::vector<std::string> event_ids;
  for (const auto& e : walk("/v1/events", kAppKey, 3, "id")) event_ids.push_back(str(e.at("id")));
  std::set<std::string> unique(event_ids.begin(), event_ids.end());
  EXPECT_EQ(unique.size(), event_ids.size());
  EXPECT_EQ(static_cast<long>(event_ids.size()), f().count("SELECT COUNT(*) FROM events"));
  Reply typed = as(kAppKey, "GET", "/v1/events?type=checkout.created&limit=100");
  for (const auto& e : data_of(typed)) {
    EXPECT_EQ(str(e.at("type")), "checkout.created");
  }
  EXPECT_TRUE(is_error(as(kAppKey, "GET", "/v1/checkouts?status=lost"), 400, kInvalid,
                       "invalid_field", "status"));
  Reply canceled_only = as(kAppKey, "GET", "/v1/checkouts?status=requires_payment&limit=100");
  for (const auto& c : data_of(canceled_only)) {
    EXPECT_EQ(str(c.at("status")), "requires_payment");
  }
  EXPECT_TRUE(
      is_error(as(kAppKey, "GET", "/v1/checkouts/chk_nope"), 404, "not_found", "not_found", "id"));
  EXPECT_TRUE(
      is_error(as(kAppKey, "GET", "/v1/events/evt_nope"), 404, "not_found", "not_found", "id"));
  EXPECT_TRUE(is_error(as(kAppKey, "GET", "/v1/checkouts?limit=0"), 400, kInvalid, "invalid_field",
                       "limit"));
  EXPECT_TRUE(is_error(as(kAppKey, "GET", "/v1/events?limit=101"), 400, kInvalid, "invalid_field",
                       "limit"));
}

// ---- the operator's timeline ----

TEST_F(AdminApi, TimelineShowsEventsPartnerCallsWebhooksAndJobs) {
  auto c = f().create_checkout({{"tee", 1}});
  std::string id = str(c.at("id"));
  ASSERT_EQ(str(f().wait_for_status(id, "fulfilled").at("status")), "fulfilled");
  ASSERT_TRUE(eventually([&] {
    return str(f().get_checkout(id).at("fulfillments").as_array()[0].at("status")) == "delivered";
  }));
  ASSERT_TRUE(quiesce(f()));

  Reply r = as(kAdminKey, "GET", "/v1/admin/checkouts/" + id + "/timeline");
  ASSERT_EQ(r.status, 200) << r.body;
  auto t = r.json().as_object();
  EXPECT_EQ(str(t.at("checkout").at("id")), id);
  EXPECT_EQ(str(t.at("checkout").at("status")), "fulfilled");

  std::vector<std::string> types;
  for (const auto& e : t.at("events").as_array()) {
    types.push_back(str(e.at("type")));
    EXPECT_TRUE(str(e.at("id")).starts_with("evt_"));
  }
  EXPECT_EQ(types, f().event_types(id));

  std::set<std::pair<std::string, std::string>> calls;
  for (const auto& pc : t.at("partner_calls").as_array()) {
    calls.insert({str(pc.at("adapter")), str(pc.at("operation"))});
    EXPECT_EQ(str(pc.at("outcome")), "ok") << bj::serialize(pc);
  }
  const std::string processor = str(t.at("checkout").at("payment").at("processor"));
  EXPECT_EQ(processor, "sandbox-pay");
  EXPECT_TRUE(calls.count({processor, "payment.create"})) << r.body;
  EXPECT_TRUE(calls.count({"sandbox-merch", "fulfillment.create"})) << r.body;

  std::set<std::string> hooks;
  for (const auto& w : t.at("webhooks").as_array()) {
    hooks.insert(str(w.at("adapter")) + " " + str(w.at("type")));
    EXPECT_EQ(str(w.at("status")), "applied") << bj::serialize(w);
  }
  EXPECT_TRUE(hooks.count(processor + " payment.succeeded")) << r.body;
  EXPECT_GE(std::count_if(hooks.begin(), hooks.end(),
                          [](const std::string& h) { return h.starts_with("sandbox-merch "); }),
            3);

  std::set<std::string> jobs;
  for (const auto& j : t.at("jobs").as_array()) {
    jobs.insert(str(j.at("kind")));
    EXPECT_EQ(str(j.at("state")), "done") << bj::serialize(j);
  }
  EXPECT_TRUE(jobs.count("payment.create")) << r.body;
  EXPECT_TRUE(jobs.count("fulfillment.create")) << r.body;

  EXPECT_TRUE(is_error(as(kAdminKey, "GET", "/v1/admin/checkouts/chk_nope/timeline"), 404,
                       "not_found", "not_found", "id"));
}

}  // namespace
}  // namespace mg::testing::api
