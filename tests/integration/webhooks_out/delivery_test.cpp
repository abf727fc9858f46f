// Outbound events (CONTRACT §6): signed per Standard Webhooks, at least once, in order per
// checkout, retried with backoff, paused when an endpoint keeps failing, resumed on re-enable,
// redelivered and replayed on request.
#include "tests/support/gateway_fixture.hpp"
#include "tests/support/webhook_receiver.hpp"
#include "webhooks/signature/standard_webhooks.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <set>
#include <sstream>

namespace mg::testing {
namespace {

namespace bj = boost::json;
using Mode = WebhookReceiver::Mode;

std::string str(const bj::value& v) { return std::string(v.as_string()); }

// Fast schedule: three retries 50/100/200 ms (full jitter below each), failing after 600 ms.
void fast_retries(config::Config& c) {
  c.webhook_retry_schedule = {std::chrono::milliseconds(50), std::chrono::milliseconds(100),
                              std::chrono::milliseconds(200)};
  c.webhook_min_retry_window = std::chrono::milliseconds(600);
  c.webhook_timeout = std::chrono::milliseconds(400);
}

struct Endpoint {
  std::string id;
  std::string secret;
};

Endpoint add_endpoint(GatewayFixture& f, const std::string& url,
                      const std::string& events = R"(["*"])") {
  Reply r = f.admin("POST", "/v1/admin/webhook-endpoints",
                    R"({"url": ")" + url + R"(", "events": )" + events + "}");
  EXPECT_EQ(r.status, 201) << r.body;
  auto o = r.json().as_object();
  return {str(o.at("id")), str(o.at("secret"))};
}

std::string event_type(const Received& r) { return str(bj::parse(r.body).as_object().at("type")); }

std::string event_checkout(const Received& r) {
  bj::value doc = bj::parse(r.body);
  const bj::value& c = doc.as_object().at("checkout");
  return c.is_string() ? str(c) : "";
}

TEST(WebhookDelivery, SignedPerStandardWebhooksWithTheStoredBytes) {
  WebhookReceiver rx;
  GatewayFixture f(fast_retries);
  Endpoint ep = add_endpoint(f, rx.url());
  EXPECT_TRUE(ep.secret.starts_with("whsec_"));
  auto key = webhooks::secret_key(ep.secret);
  ASSERT_TRUE(key);
  EXPECT_GE(key->size(), 24u);

  auto c = f.create_checkout({{"ebook", 1}});
  ASSERT_TRUE(rx.wait_for(3)) << "checkout.created, checkout.paid, checkout.fulfilled";
  for (const auto& r : rx.received()) {
    EXPECT_EQ(r.content_type, "application/json");
    std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    auto ok = webhooks::verify({*key}, r.webhook_id, r.webhook_timestamp, r.webhook_signature,
                               r.body, now);
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().message);
    // webhook-id is the event's id, and the body is exactly what GET /v1/events/{id} serves.
    Reply stored = f.app("GET", "/v1/events/" + r.webhook_id);
    ASSERT_EQ(stored.status, 200);
    EXPECT_EQ(stored.body, r.body);
  }
  std::vector<std::string> types;
  for (const auto& r : rx.received()) types.push_back(event_type(r));
  EXPECT_EQ(types,
            (std::vector<std::string>{"checkout.created", "checkout.paid", "checkout.fulfilled"}));
  (void)c;
}

TEST(WebhookDelivery, AnEndpointGetsOnlyTheEventTypesItAskedFor) {
  WebhookReceiver all, paid_only;
  GatewayFixture f(fast_retries);
  add_endpoint(f, all.url());
  add_endpoint(f, paid_only.url(), R"(["checkout.paid"])");
  f.create_checkout({{"ebook", 1}});
  ASSERT_TRUE(all.wait_for(3));
  ASSERT_TRUE(paid_only.wait_for(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(paid_only.count(), 1u);
  EXPECT_EQ(event_type(paid_only.received()[0]), "checkout.paid");
}

TEST(WebhookDelivery, FailuresAreRetriedAndEveryAttemptIsRecorded) {
  WebhookReceiver rx;
  rx.queue({{Mode::answer, 500}, {Mode::answer, 503}});
  GatewayFixture f(fast_retries);
  Endpoint ep = add_endpoint(f, rx.url());
  f.create_checkout({{"tee", 1}}, "pm_sandbox_action");  // one event: checkout.created
  ASSERT_TRUE(rx.wait_for(3));
  auto got = rx.received();
  EXPECT_EQ(got[0].webhook_id, got[1].webhook_id);
  EXPECT_EQ(got[1].webhook_id, got[2].webhook_id);
  // Full jitter keeps each wait under its step: 50 ms, then 100 ms (plus generous slack for a
  // loaded CI machine; the default schedule would wait seconds).
  EXPECT_LT(got[1].at - got[0].at, std::chrono::milliseconds(50 + 1500));
  EXPECT_LT(got[2].at - got[1].at, std::chrono::milliseconds(100 + 1500));
  ASSERT_TRUE(eventually([&] {
    Reply a = f.admin("GET", "/v1/admin/webhook-endpoints/" + ep.id + "/attempts");
    return a.json().as_object().at("data").as_array().size() == 3;
  }));
  Reply a = f.admin("GET", "/v1/admin/webhook-endpoints/" + ep.id + "/attempts");
  bj::value doc = a.json();
  const auto& data = doc.as_object().at("data").as_array();  // newest first
  std::vector<std::int64_t> codes;
  for (const auto& x : data) codes.push_back(x.as_object().at("status_code").as_int64());
  EXPECT_EQ(codes, (std::vector<std::int64_t>{200, 503, 500}));
  EXPECT_EQ(str(data[2].as_object().at("error")), "HTTP 500");
  EXPECT_EQ(str(data[0].as_object().at("response")), "ok");
}

TEST(WebhookDelivery, TimeoutsAndDroppedConnectionsAreRetried) {
  WebhookReceiver rx;
  rx.queue({{Mode::hang, 0}, {Mode::close, 0}});
  GatewayFixture f(fast_retries);
  Endpoint ep = add_endpoint(f, rx.url());
  f.create_checkout({{"tee", 1}}, "pm_sandbox_action");
  ASSERT_TRUE(rx.wait_for(3, std::chrono::seconds(15)));
  ASSERT_TRUE(eventually([&] {
    Reply a = f.admin("GET", "/v1/admin/webhook-endpoints/" + ep.id + "/attempts");
    return a.json().as_object().at("data").as_array().size() == 3;
  }));
  Reply a = f.admin("GET", "/v1/admin/webhook-endpoints/" + ep.id + "/attempts");
  bj::value doc = a.json();
  const auto& data = doc.as_object().at("data").as_array();
  EXPECT_TRUE(data[2].as_object().at("status_code").is_null()) << "the hang had no answer";
  EXPECT_TRUE(data[1].as_object().at("status_code").is_null()) << "the close had no answer";
  EXPECT_EQ(data[0].as_object().at("status_code").as_int64(), 200);
}

TEST(WebhookDelivery, EventsOfOneCheckoutArriveInOrderEvenWhenOneIsRetried) {
  WebhookReceiver rx;
  // The first delivery (checkout.created) fails twice: later events of that checkout must wait.
  rx.queue({{Mode::answer, 500}, {Mode::answer, 500}});
  GatewayFixture f(fast_retries);
  add_endpoint(f, rx.url());
  auto c = f.create_checkout({{"tee", 1}});
  std::string id = str(c.at("id"));
  f.wait_for_status(id, "fulfilled");
  ASSERT_TRUE(eventually([&] {
    return str(f.get_checkout(id).at("fulfillments").as_array()[0].at("status")) == "delivered";
  }));
  ASSERT_TRUE(rx.wait_for(2 + 7));
  std::vector<std::string> delivered;
  std::set<std::string> seen;
  for (const auto& r : rx.received()) {
    if (event_checkout(r) != id) continue;
    if (seen.insert(r.webhook_id).second) delivered.push_back(event_type(r));
  }
  std::vector<std::string> order = f.event_types(id);  // oldest first, as they happened
  EXPECT_EQ(delivered, order);
}

TEST(WebhookDelivery, AFailingEndpointPausesThenResumesWhereItStoppedWhenReEnabled) {
  WebhookReceiver rx;
  rx.set_default({Mode::answer, 500});
  GatewayFixture f(fast_retries);
  Endpoint ep = add_endpoint(f, rx.url());
  f.create_checkout({{"tee", 1}}, "pm_sandbox_action");
  ASSERT_TRUE(eventually([&] {
    Reply e = f.admin("GET", "/v1/admin/webhook-endpoints/" + ep.id);
    return str(e.json().as_object().at("status")) == "failing";
  }));
  EXPECT_FALSE(f.admin("GET", "/v1/admin/webhook-endpoints/" + ep.id)
                   .json()
                   .as_object()
                   .at("failing_since")
                   .is_null());
  std::size_t attempts_when_paused = rx.count();
  // Events keep being queued while paused, but nothing is sent.
  auto second = f.create_checkout({{"tee", 1}}, "pm_sandbox_action");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(rx.count(), attempts_when_paused);
  Reply metrics = f.request("GET", "/metrics");
  EXPECT_NE(metrics.body.find("merchgate_webhook_endpoint_failing{endpoint=\"" + ep.id + "\"} 1"),
            std::string::npos);

  rx.set_default({Mode::answer, 200});
  Reply resumed = f.admin("PATCH", "/v1/admin/webhook-endpoints/" + ep.id, R"({"enabled": true})");
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_EQ(str(resumed.json().as_object().at("status")), "active");
  ASSERT_TRUE(eventually([&] {
    std::set<std::string> ok;
    for (const auto& r : rx.received()) ok.insert(r.webhook_id);
    return ok.size() == 2;
  }));
  EXPECT_EQ(event_checkout(rx.received().back()), str(second.at("id")));
}

TEST(WebhookDelivery, GoneEndpointIsMarkedFailingAtOnce) {
  WebhookReceiver rx;
  rx.set_default({Mode::answer, 410});
  GatewayFixture f(fast_retries);
  Endpoint ep = add_endpoint(f, rx.url());
  f.create_checkout({{"tee", 1}}, "pm_sandbox_action");
  ASSERT_TRUE(eventually([&] {
    return str(f.admin("GET", "/v1/admin/webhook-endpoints/" + ep.id)
                   .json()
                   .as_object()
                   .at("status")) == "failing";
  }));
  EXPECT_EQ(rx.count(), 1u);
}

TEST(WebhookDelivery, RedeliverAndReplaySendEventsAgain) {
  WebhookReceiver rx;
  GatewayFixture f(fast_retries);
  Endpoint ep = add_endpoint(f, rx.url());
  auto before = core::format_time(core::system_now() - 1000);
  f.create_checkout({{"ebook", 1}});
  ASSERT_TRUE(rx.wait_for(3));
  std::string first = rx.received()[0].webhook_id;

  Reply r = f.app("POST", "/v1/events/" + first + "/redeliver");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.json().as_object().at("deliveries_queued").as_int64(), 1);
  ASSERT_TRUE(rx.wait_for(4));
  EXPECT_EQ(rx.received()[3].webhook_id, first);

  Reply missing = f.app("POST", "/v1/events/evt_nope/redeliver");
  EXPECT_EQ(missing.status, 404);

  Reply replay =
      f.admin("POST", "/v1/admin/webhook-endpoints/" + ep.id + "/replay?since=" + before);
  ASSERT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(replay.json().as_object().at("queued").as_int64(), 3);
  ASSERT_TRUE(rx.wait_for(7));
  Reply bad = f.admin("POST", "/v1/admin/webhook-endpoints/" + ep.id + "/replay?since=yesterday");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("\"param\":\"since\""), std::string::npos);
}

TEST(WebhookDelivery, DuringARotationBothSecretsSignThenOnlyTheNewOne) {
  WebhookReceiver rx;
  GatewayFixture f(fast_retries);
  Endpoint ep = add_endpoint(f, rx.url());
  Reply rot = f.admin("POST", "/v1/admin/webhook-endpoints/" + ep.id + "/rotate-secret",
                      R"({"expire_previous_in_seconds": 3600})");
  ASSERT_EQ(rot.status, 200) << rot.body;
  std::string fresh = str(rot.json().as_object().at("secret"));
  EXPECT_NE(fresh, ep.secret);
  f.create_checkout({{"tee", 1}}, "pm_sandbox_action");
  ASSERT_TRUE(rx.wait_for(1));
  Received got = rx.received()[0];
  EXPECT_EQ(std::count(got.webhook_signature.begin(), got.webhook_signature.end(), ' '), 1)
      << got.webhook_signature;
  std::int64_t now = core::system_now() / 1000;
  for (const auto& s : {ep.secret, fresh}) {
    EXPECT_TRUE(webhooks::verify({*webhooks::secret_key(s)}, got.webhook_id, got.webhook_timestamp,
                                 got.webhook_signature, got.body, now));
  }
  Reply now_only = f.admin("POST", "/v1/admin/webhook-endpoints/" + ep.id + "/rotate-secret",
                           R"({"expire_previous_in_seconds": 0})");
  std::string newest = str(now_only.json().as_object().at("secret"));
  f.create_checkout({{"tee", 1}}, "pm_sandbox_action");
  ASSERT_TRUE(rx.wait_for(2));
  got = rx.received()[1];
  EXPECT_EQ(got.webhook_signature.find(' '), std::string::npos) << got.webhook_signature;
  EXPECT_TRUE(webhooks::verify({*webhooks::secret_key(newest)}, got.webhook_id,
                               got.webhook_timestamp, got.webhook_signature, got.body, now));
  EXPECT_FALSE(webhooks::verify({*webhooks::secret_key(fresh)}, got.webhook_id,
                                got.webhook_timestamp, got.webhook_signature, got.body, now));
}

TEST(WebhookDelivery, MetadataAddressesAreRefusedAndSecretsAreNotStoredInClear) {
  GatewayFixture f(fast_retries);
  Endpoint ep = add_endpoint(f, "http://169.254.169.254/latest");
  f.create_checkout({{"tee", 1}}, "pm_sandbox_action");
  ASSERT_TRUE(eventually([&] {
    Reply a = f.admin("GET", "/v1/admin/webhook-endpoints/" + ep.id + "/attempts");
    return !a.json().as_object().at("data").as_array().empty();
  }));
  Reply a = f.admin("GET", "/v1/admin/webhook-endpoints/" + ep.id + "/attempts");
  EXPECT_NE(a.body.find("not allowed"), std::string::npos) << a.body;
  for (const char* suffix : {"", "-wal"}) {
    std::ifstream in(f.db_path() + suffix, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    EXPECT_EQ(bytes.str().find(ep.secret.substr(6)), std::string::npos);
  }
  // Reads never show the secret again.
  EXPECT_EQ(f.admin("GET", "/v1/admin/webhook-endpoints/" + ep.id).body.find(ep.secret),
            std::string::npos);
}

TEST(WebhookEndpoints, BadInputIsRefusedNamingTheFieldAndNothingIsStored) {
  GatewayFixture f(fast_retries);
  struct Case {
    std::string body;
    std::string param;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"events": ["*"]})", "url"},
           {R"({"url": "ftp://x.example", "events": ["*"]})", "url"},
           {R"({"url": "https://user:pw@x.example", "events": ["*"]})", "url"},
           {R"({"url": "https://x.example"})", "events"},
           {R"({"url": "https://x.example", "events": []})", "events"},
           {R"({"url": "https://x.example", "events": ["checkout.exploded"]})", "events[0]"},
           {R"({"url": "https://x.example", "events": ["*"], "colour": "red"})", "colour"},
           {R"({"url": "https://x.example", "events": ["*"], "enabled": "yes"})", "enabled"}}) {
    Reply r = f.admin("POST", "/v1/admin/webhook-endpoints", c.body);
    EXPECT_EQ(r.status, 400) << c.body << " → " << r.body;
    EXPECT_NE(r.body.find("\"param\":\"" + c.param + "\""), std::string::npos) << r.body;
  }
  EXPECT_EQ(f.count("SELECT COUNT(*) FROM webhook_endpoints"), 0);
  Reply app =
      f.app("POST", "/v1/admin/webhook-endpoints", R"({"url":"https://x.example","events":["*"]})");
  EXPECT_EQ(app.status, 403);
}

}  // namespace
}  // namespace mg::testing

namespace mg::testing {
namespace {

constexpr const char* kSeededSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

void seed_endpoint(config::Config& c, const std::string& url, const std::string& secret) {
  fast_retries(c);
  c.seed["webhook_endpoints"] = bj::array{bj::object{
      {"id", "we_orders"}, {"url", url}, {"events", bj::array{"*"}}, {"secret", secret}}};
}

TEST(WebhookEndpointSeed, AConfigSeededEndpointSignsWithTheSecretTheConfigGives) {
  WebhookReceiver rx;
  GatewayFixture f([&](config::Config& c) { seed_endpoint(c, rx.url(), kSeededSecret); });
  Reply got = f.admin("GET", "/v1/admin/webhook-endpoints/we_orders");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.body.find("whsec_"), std::string::npos) << "reads never show the secret";
  f.create_checkout({{"tee", 1}}, "pm_sandbox_action");
  ASSERT_TRUE(rx.wait_for(1));
  Received r = rx.received().front();
  auto key = webhooks::secret_key(kSeededSecret);
  ASSERT_TRUE(key);
  std::int64_t now = std::stoll(r.webhook_timestamp);
  EXPECT_TRUE(webhooks::verify({*key}, r.webhook_id, r.webhook_timestamp, r.webhook_signature,
                               r.body, now));
}

std::string seeded_url(const std::string& db_path) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::string url;
  if (sqlite3_prepare_v2(db, "SELECT url FROM webhook_endpoints WHERE id = 'we_orders'", -1, &st,
                         nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    url = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return url;
}

TEST(WebhookEndpointSeed, WhatTheDatabaseHoldsWinsOverTheSeedOnTheNextStart) {
  TempDir dir;
  config::Config first = test_config(dir.path());
  seed_endpoint(first, "https://a.example.com/hooks", kSeededSecret);
  {
    auto gw = Gateway::create(first);
    ASSERT_TRUE(gw) << gw.error().message;
  }
  config::Config second = test_config(dir.path());
  seed_endpoint(second, "https://b.example.com/hooks", kSeededSecret);
  {
    auto gw = Gateway::create(second);
    ASSERT_TRUE(gw) << gw.error().message;
  }
  EXPECT_EQ(seeded_url(dir.path() + "/merchgate.db"), "https://a.example.com/hooks");
}

TEST(WebhookEndpointSeed, ABadSeededSecretStopsTheStartNamingIt) {
  TempDir dir;
  config::Config c = test_config(dir.path());
  seed_endpoint(c, "https://app.example.com/hooks", "whsec_c2hvcnQ=");
  auto gw = Gateway::create(c);
  ASSERT_FALSE(gw);
  EXPECT_NE(gw.error().message.find("seed.webhook_endpoints 'we_orders'"), std::string::npos)
      << gw.error().message;
  EXPECT_NE(gw.error().message.find("secret"), std::string::npos) << gw.error().message;
}

}  // namespace
}  // namespace mg::testing
