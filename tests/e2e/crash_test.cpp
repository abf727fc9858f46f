// Crash safety with the real binary: SIGKILL at chosen points and at random moments during
// payment and fulfillment; after restarts every checkout reaches its expected final state with
// exactly one payment at the processor, one order per partner, and no missing or duplicated
// event.
#include "gateway/core/crypto.hpp"
#include "tests/support/gateway_process.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

namespace mg::testing {
namespace {

namespace bj = boost::json;

std::string str(const bj::value& v) { return std::string(v.as_string()); }

// POSTs until a definitive reply arrives, through crashes, restarts and 409 in_progress.
Reply post_until_answered(GatewayProcess& gw, const std::string& target, const std::string& body,
                          const std::string& key,
                          std::chrono::seconds within = std::chrono::seconds(60),
                          std::atomic<int>* interrupted = nullptr) {
  std::optional<Reply> reply;
  bool ok = eventually(
      [&] {
        reply = gw.app("POST", target, body, key);
        if (!reply) {
          if (interrupted) ++*interrupted;
          return false;
        }
        bool in_progress =
            reply->status == 409 && reply->body.find("in_progress") != std::string::npos;
        return !in_progress && reply->status != 503;
      },
      within);
  EXPECT_TRUE(ok) << "no answer for " << key << "\n" << gw.log_tail();
  return reply.value_or(Reply{});
}

std::vector<std::string> sorted_event_types(GatewayProcess& gw, const std::string& checkout) {
  auto r = gw.app("GET", "/v1/events?limit=100&checkout=" + checkout);
  std::vector<std::string> types;
  if (!r || r->status != 200) return types;
  bj::value doc = r->json();
  for (const auto& e : doc.as_object().at("data").as_array()) {
    types.emplace_back(e.as_object().at("type").as_string());
  }
  std::sort(types.begin(), types.end());
  return types;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

bj::object checkout_of(GatewayProcess& gw, const std::string& id) {
  auto r = gw.app("GET", "/v1/checkouts/" + id);
  if (!r || r->status != 200) return {};
  return r->json().as_object();
}

bool delivered_everywhere(const bj::object& c) {
  if (c.empty()) return false;
  for (const auto& f : c.at("fulfillments").as_array()) {
    if (f.as_object().at("status").as_string() != "delivered") return false;
  }
  return true;
}

const std::vector<std::string> kShippedOnce = {"checkout.created",      "checkout.paid",
                                               "fulfillment.submitted", "fulfillment.in_production",
                                               "fulfillment.shipped",   "checkout.fulfilled",
                                               "fulfillment.delivered"};

struct CrashPoint {
  const char* name;
};

class CrashAt : public ::testing::TestWithParam<CrashPoint> {};

TEST_P(CrashAt, RestartFinishesTheCheckoutWithOnePaymentAndOneOrder) {
  TempDir dir;
  GatewayProcess gw(dir.path());
  gw.start({{"MERCHGATE_TEST_CRASH_POINT", std::string(GetParam().name) + ":1"}});
  std::string key = core::new_id("idem");
  std::string body = GatewayFixture::checkout_body({{"tee", 1}});

  // The first attempt may die with the process; it is replayed with the same key.
  auto first = gw.app("POST", "/v1/checkouts", body, key);
  std::string id;
  if (first && first->status == 201) id = str(first->json().as_object().at("id"));
  ASSERT_TRUE(eventually([&] { return !gw.running(); }, std::chrono::seconds(15)))
      << "the crash point was never reached\n"
      << gw.log_tail();
  gw.start();
  Reply created = post_until_answered(gw, "/v1/checkouts", body, key);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string replayed_id = str(created.json().as_object().at("id"));
  if (!id.empty()) {
    EXPECT_EQ(replayed_id, id);
  }
  id = replayed_id;

  ASSERT_TRUE(eventually([&] { return delivered_everywhere(checkout_of(gw, id)); },
                         std::chrono::seconds(30)))
      << gw.log_tail();
  EXPECT_EQ(str(checkout_of(gw, id).at("status")), "fulfilled");
  EXPECT_EQ(ledger_count(dir.path(), "sandbox-pay",
                         "SELECT COUNT(*) FROM payments WHERE checkout_id = '" + id + "'"),
            1);
  EXPECT_EQ(ledger_count(dir.path(), "sandbox-merch",
                         "SELECT COUNT(*) FROM orders WHERE checkout_id = '" + id + "'"),
            1);
  EXPECT_EQ(sorted_event_types(gw, id), sorted(kShippedOnce));
  EXPECT_EQ(gw.terminate(), 0);
}

INSTANTIATE_TEST_SUITE_P(PartnerCalls, CrashAt,
                         ::testing::Values(CrashPoint{"payment.create.after_partner_call"},
                                           CrashPoint{"fulfillment.create.after_partner_call"}),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           std::replace(n.begin(), n.end(), '.', '_');
                           return n;
                         });

TEST(CrashSafety, RefundInterruptedAfterTheProcessorCallIsSentOnce) {
  TempDir dir;
  GatewayProcess gw(dir.path());
  gw.start({{"MERCHGATE_TEST_CRASH_POINT", "payment.refund.after_partner_call:1"}});
  Reply created = post_until_answered(
      gw, "/v1/checkouts", GatewayFixture::checkout_body({{"ebook", 2}}), core::new_id("idem"));
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = str(created.json().as_object().at("id"));
  ASSERT_TRUE(eventually([&] {
    auto c = checkout_of(gw, id);
    return !c.empty() && str(c.at("status")) == "fulfilled";
  }));

  std::string key = core::new_id("idem");
  gw.app("POST", "/v1/checkouts/" + id + "/refunds", R"({"amount": 500})", key);
  ASSERT_TRUE(eventually([&] { return !gw.running(); }, std::chrono::seconds(15))) << gw.log_tail();
  gw.start();
  Reply refund =
      post_until_answered(gw, "/v1/checkouts/" + id + "/refunds", R"({"amount": 500})", key);
  ASSERT_EQ(refund.status, 201) << refund.body;
  ASSERT_TRUE(eventually([&] {
    auto c = checkout_of(gw, id);
    return !c.empty() && str(c.at("status")) == "partially_refunded";
  })) << gw.log_tail();
  EXPECT_EQ(ledger_count(dir.path(), "sandbox-pay", "SELECT COUNT(*) FROM refunds"), 1);
  EXPECT_EQ(checkout_of(gw, id).at("amount_refunded").as_int64(), 500);
  EXPECT_EQ(sorted_event_types(gw, id),
            sorted({"checkout.created", "checkout.paid", "checkout.fulfilled", "refund.succeeded",
                    "checkout.partially_refunded"}));
}

// Checkouts of every kind created while the gateway is SIGKILLed at random moments.
TEST(CrashSafety, RandomKillsDuringTrafficLoseNothingAndDuplicateNothing) {
  TempDir dir;
  GatewayProcess gw(dir.path());
  gw.start();

  struct Kind {
    std::vector<std::pair<std::string, int>> lines;
    std::string method;
    std::string final_status;
    std::vector<std::string> events;
    std::map<std::string, int> orders;  // adapter -> orders expected
  };
  const std::vector<Kind> kinds = {
      {{{"tee", 1}}, "pm_sandbox_ok", "fulfilled", kShippedOnce, {{"sandbox-merch", 1}}},
      {{{"tee", 1}, {"poster", 2}},
       "pm_sandbox_ok",
       "fulfilled",
       {"checkout.created", "checkout.paid", "fulfillment.submitted", "fulfillment.submitted",
        "fulfillment.in_production", "fulfillment.in_production", "fulfillment.shipped",
        "fulfillment.shipped", "checkout.fulfilled", "fulfillment.delivered",
        "fulfillment.delivered"},
       {{"sandbox-merch", 1}, {"sandbox-merch-2", 1}}},
      {{{"tee", 1}},
       "pm_sandbox_decline",
       "payment_failed",
       {"checkout.created", "checkout.payment_failed"},
       {}},
      {{{"cursed-tee", 1}},
       "pm_sandbox_ok",
       "refunded",
       {"checkout.created", "checkout.paid", "fulfillment.failed", "refund.succeeded",
        "checkout.refunded"},
       {}},
      {{{"ebook", 1}},
       "pm_sandbox_ok",
       "fulfilled",
       {"checkout.created", "checkout.paid", "checkout.fulfilled"},
       {}},
  };
  struct Made {
    const Kind* kind;
    std::string key;
    std::string body;
    std::string id;
  };
  std::vector<Made> made;
  for (int i = 0; i < 15; ++i) {
    const Kind& k = kinds[i % kinds.size()];
    made.push_back(
        {&k, core::new_id("idem"), GatewayFixture::checkout_body(k.lines, k.method), {}});
  }

  std::atomic<bool> clients_done{false};
  std::atomic<int> interrupted{0};
  std::thread client([&] {
    for (auto& m : made) {
      Reply r = post_until_answered(gw, "/v1/checkouts", m.body, m.key, std::chrono::seconds(90),
                                    &interrupted);
      if (r.status == 201) m.id = str(r.json().as_object().at("id"));
      // Spread the traffic over the kills, so they land mid-request and mid-fulfillment.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    clients_done = true;
  });
  std::mt19937 rng(20261126);
  std::uniform_int_distribution<int> pause(100, 500);
  int kills = 0;
  while (!clients_done || kills < 8) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause(rng)));
    gw.kill9();
    ++kills;
    gw.start();
  }
  client.join();
  ASSERT_TRUE(clients_done);
  EXPECT_GT(interrupted.load(), 0) << "no kill landed while a request was in flight";

  for (const auto& m : made) {
    ASSERT_FALSE(m.id.empty()) << "checkout " << m.key << " never answered 201";
    bool settled = eventually(
        [&] {
          auto c = checkout_of(gw, m.id);
          return !c.empty() && c.at("status").as_string() == m.kind->final_status &&
                 (m.kind->final_status != "fulfilled" || delivered_everywhere(c));
        },
        std::chrono::seconds(40));
    ASSERT_TRUE(settled) << m.id << " is " << bj::serialize(checkout_of(gw, m.id)) << "\n"
                         << gw.log_tail();
    EXPECT_EQ(ledger_count(dir.path(), "sandbox-pay",
                           "SELECT COUNT(*) FROM payments WHERE checkout_id = '" + m.id + "'"),
              1)
        << m.id;
    for (const char* adapter : {"sandbox-merch", "sandbox-merch-2"}) {
      auto it = m.kind->orders.find(adapter);
      EXPECT_EQ(ledger_count(dir.path(), adapter,
                             "SELECT COUNT(*) FROM orders WHERE checkout_id = '" + m.id + "'"),
                it == m.kind->orders.end() ? 0 : it->second)
          << m.id << " at " << adapter;
    }
    EXPECT_EQ(sorted_event_types(gw, m.id), sorted(m.kind->events)) << m.id;
  }
  auto dead = gw.app("GET", "/metrics");
  ASSERT_TRUE(dead);
  EXPECT_NE(dead->body.find("merchgate_jobs_dead 0"), std::string::npos);
  EXPECT_EQ(gw.terminate(), 0);
}

}  // namespace
}  // namespace mg::testing
