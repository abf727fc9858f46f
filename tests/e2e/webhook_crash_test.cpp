// At-least-once delivery with the real binary: SIGKILL the gateway while deliveries are in flight,
// or right after a receiver said 200 but before the gateway recorded it; after restart every event
// reaches the endpoint (possibly twice, never zero times).
#include "gateway/core/crypto.hpp"
#include "tests/support/gateway_process.hpp"
#include "tests/support/webhook_receiver.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <thread>

namespace mg::testing {
namespace {

namespace bj = boost::json;
using Mode = WebhookReceiver::Mode;

// A 1 s send timeout keeps the delivery lease (2 × timeout) short, so a restart re-claims fast.
void short_webhook_timeout(bj::object& config) {
  config["webhooks"] = bj::object{{"timeout_ms", 1000}, {"retry_schedule_ms", bj::array{100, 200}}};
}

std::string add_endpoint(GatewayProcess& gw, const std::string& url) {
  auto r = gw.request("POST", "/v1/admin/webhook-endpoints",
                      R"({"url": ")" + url + R"(", "events": ["*"]})",
                      {{"authorization", std::string("Bearer ") + kAdminKey},
                       {"content-type", "application/json"}});
  EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no reply");
  if (!r || r->status != 201) return "";
  bj::value doc = r->json();
  return std::string(doc.as_object().at("id").as_string());
}

std::string create_checkout(GatewayProcess& gw, const std::string& key = core::new_id("idem")) {
  std::string body = GatewayFixture::checkout_body({{"tee", 1}});
  std::optional<Reply> r;
  // Retried with the same key through restarts: one checkout whatever happens.
  EXPECT_TRUE(eventually([&] {
    r = gw.app("POST", "/v1/checkouts", body, key);
    return r && r->status == 201;
  }));
  if (!r || r->status != 201) return "";
  bj::value doc = r->json();
  return std::string(doc.as_object().at("id").as_string());
}

// Every event the gateway committed for these checkouts, by id.
std::set<std::string> committed_events(GatewayProcess& gw, const std::vector<std::string>& ids) {
  std::set<std::string> out;
  for (const auto& id : ids) {
    auto r = gw.app("GET", "/v1/events?limit=100&checkout=" + id);
    if (!r || r->status != 200) continue;
    bj::value doc = r->json();
    for (const auto& e : doc.as_object().at("data").as_array()) {
      out.emplace(e.as_object().at("id").as_string());
    }
  }
  return out;
}

std::set<std::string> received_ids(const WebhookReceiver& rx, std::size_t from = 0) {
  std::set<std::string> out;
  auto got = rx.received();
  for (std::size_t i = from; i < got.size(); ++i) out.insert(got[i].webhook_id);
  return out;
}

bool fulfilled(GatewayProcess& gw, const std::string& id) {
  auto r = gw.app("GET", "/v1/checkouts/" + id);
  if (!r || r->status != 200) return false;
  bj::value doc = r->json();
  return doc.as_object().at("status").as_string() == "fulfilled";
}

// Waits until every committed event of `ids` has arrived since `from`; reports what is missing.
void expect_every_event_arrives(GatewayProcess& gw, const WebhookReceiver& rx,
                                const std::vector<std::string>& ids, std::size_t from) {
  std::set<std::string> missing;
  bool all = eventually(
      [&] {
        for (const auto& id : ids) {
          if (!fulfilled(gw, id)) return false;
        }
        missing.clear();
        auto got = received_ids(rx, from);
        for (const auto& e : committed_events(gw, ids)) {
          if (!got.contains(e)) missing.insert(e);
        }
        return missing.empty();
      },
      std::chrono::seconds(60));
  EXPECT_TRUE(all) << missing.size() << " events never arrived, e.g. "
                   << (missing.empty() ? "" : *missing.begin()) << "\n"
                   << gw.log_tail();
}

TEST(WebhookCrash, KilledWhileDeliveriesHangTheRestartDeliversThem) {
  TempDir dir;
  WebhookReceiver rx;
  rx.set_default({Mode::hang, 0});
  GatewayProcess gw(dir.path(), short_webhook_timeout);
  gw.start();
  ASSERT_FALSE(add_endpoint(gw, rx.url()).empty());
  std::string id = create_checkout(gw);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(rx.wait_for(1)) << gw.log_tail();  // a delivery is in flight, unanswered
  gw.kill9();

  std::size_t before_restart = rx.count();
  rx.set_default({Mode::answer, 200});
  gw.start();
  expect_every_event_arrives(gw, rx, {id}, before_restart);
}

TEST(WebhookCrash, KilledAfterThe200ButBeforeItWasRecordedTheEventIsSentAgain) {
  TempDir dir;
  WebhookReceiver rx;
  GatewayProcess gw(dir.path(), short_webhook_timeout);
  gw.start({{"MERCHGATE_TEST_CRASH_POINT", "webhook_after_send"}});
  ASSERT_FALSE(add_endpoint(gw, rx.url()).empty());
  // The first delivery kills the gateway, perhaps before it answered: replay the same key later.
  std::string key = core::new_id("idem");
  gw.app("POST", "/v1/checkouts", GatewayFixture::checkout_body({{"tee", 1}}), key);
  ASSERT_TRUE(eventually([&] { return !gw.running(); }, std::chrono::seconds(15)))
      << "the crash point was never reached\n"
      << gw.log_tail();
  ASSERT_EQ(rx.count(), 1u);
  std::string answered = rx.received().front().webhook_id;

  gw.start();
  std::string id = create_checkout(gw, key);
  ASSERT_FALSE(id.empty());
  expect_every_event_arrives(gw, rx, {id}, 0);
  std::size_t copies = 0;
  for (const auto& r : rx.received()) copies += r.webhook_id == answered;
  EXPECT_EQ(copies, 2u) << "answered once before the crash, sent again after it";
}

TEST(WebhookCrash, RandomKillsDuringAStreamOfEventsLoseNone) {
  TempDir dir;
  WebhookReceiver rx;
  GatewayProcess gw(dir.path(), short_webhook_timeout);
  gw.start();
  ASSERT_FALSE(add_endpoint(gw, rx.url()).empty());
  std::vector<std::string> ids;
  std::mt19937 rng(std::random_device{}());
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 3; ++i) ids.push_back(create_checkout(gw));
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 800));
    gw.kill9();
    gw.start();
  }
  for (const auto& id : ids) ASSERT_FALSE(id.empty());
  expect_every_event_arrives(gw, rx, ids, 0);
}

}  // namespace
}  // namespace mg::testing
