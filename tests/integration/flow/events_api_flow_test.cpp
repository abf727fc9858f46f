// GET /v1/events end to end (CONTRACT §6): the normalized event log, newest first, filtered by
// type and checkout, paginated, each event a snapshot of its object when it happened.
#include "tests/integration/flow/flow_helpers.hpp"

#include <gtest/gtest.h>

#include <set>

namespace mg::testing {
namespace {

namespace bj = boost::json;
using flow::str;

bj::array list(GatewayFixture& f, const std::string& query, bool* has_more = nullptr) {
  Reply r = f.app("GET", "/v1/events" + query);
  EXPECT_EQ(r.status, 200) << query << ": " << r.body;
  auto doc = r.json().as_object();
  if (has_more) *has_more = doc.at("has_more").as_bool();
  return doc.at("data").as_array();
}

std::vector<std::string> ids_of(const bj::array& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(str(e.at("id")));
  return out;
}

class EventsApi : public ::testing::Test {
 protected:
  void SetUp() override {
    auto a = f.create_checkout({{"tee", 1}});
    first = str(a.at("id"));
    ASSERT_TRUE(eventually([&] {
      return flow::fulfillment_status(f, first, "sandbox-merch") == "delivered" && flow::quiet(f);
    }));
    auto b = f.create_checkout({{"ebook", 1}});
    second = str(b.at("id"));
    ASSERT_EQ(str(f.wait_for_status(second, "fulfilled").at("status")), "fulfilled");
    ASSERT_TRUE(eventually([&] { return flow::quiet(f); }));
  }

  GatewayFixture f;
  std::string first;   // tee: 7 events
  std::string second;  // ebook: 3 events
};

TEST_F(EventsApi, EveryEventIsASnapshotWithItsObject) {
  auto events = list(f, "?limit=100");
  ASSERT_EQ(events.size(), 10u);
  std::set<std::string> ids;
  for (const auto& ev : events) {
    const auto& e = ev.as_object();
    EXPECT_TRUE(str(e.at("id")).starts_with("evt_")) << e;
    EXPECT_EQ(str(e.at("object")), "event");
    EXPECT_FALSE(str(e.at("type")).empty());
    EXPECT_FALSE(e.at("created_at").is_null());
    ASSERT_TRUE(e.at("data").at("object").is_object()) << e;
    const auto& object = e.at("data").at("object").as_object();
    std::string type = str(e.at("type"));
    if (type.starts_with("checkout.")) {
      EXPECT_EQ(str(object.at("object")), "checkout");
      EXPECT_EQ(str(object.at("id")), str(e.at("checkout")));
    } else if (type.starts_with("fulfillment.")) {
      EXPECT_EQ(str(object.at("object")), "fulfillment");
      EXPECT_EQ(str(object.at("checkout")), str(e.at("checkout")));
      EXPECT_EQ("fulfillment." + str(object.at("status")), type);
    }
    ids.insert(str(e.at("id")));
    // One event read on its own is the same document.
    Reply one = f.app("GET", "/v1/events/" + str(e.at("id")));
    ASSERT_EQ(one.status, 200);
    EXPECT_EQ(flow::text(one.json()), flow::text(ev));
  }
  EXPECT_EQ(ids.size(), events.size());

  // Snapshots, not live views: the creation event still shows the checkout awaiting payment.
  auto created = list(f, "?type=checkout.created&checkout=" + first);
  ASSERT_EQ(created.size(), 1u);
  const auto& snapshot = created[0].at("data").at("object");
  EXPECT_EQ(str(snapshot.at("status")), "requires_payment");
  EXPECT_TRUE(snapshot.at("fulfillments").as_array()[0].at("shipments").as_array().empty());
  auto in_production = list(f, "?type=fulfillment.in_production&checkout=" + first);
  ASSERT_EQ(in_production.size(), 1u);
  EXPECT_TRUE(in_production[0].at("data").at("object").at("shipments").as_array().empty());
  auto shipped = list(f, "?type=fulfillment.shipped&checkout=" + first);
  ASSERT_EQ(shipped.size(), 1u);
  const auto& parcel = shipped[0].at("data").at("object").at("shipments").as_array()[0];
  EXPECT_EQ(str(parcel.at("carrier")), "Sandbox Post");
  EXPECT_TRUE(str(parcel.at("tracking_number")).starts_with("SBX"));
  EXPECT_FALSE(str(parcel.at("tracking_url")).empty());

  Reply missing = f.app("GET", "/v1/events/evt_nope");
  EXPECT_EQ(missing.status, 404);
}

TEST_F(EventsApi, NewestFirstAndFilteredByCheckoutAndType) {
  auto all = list(f, "?limit=100");
  // Newest first: the second checkout's events lead, its creation after the first's delivery.
  EXPECT_EQ(str(all[0].at("checkout")), second);
  EXPECT_EQ(str(all[0].at("type")), "checkout.fulfilled");
  EXPECT_EQ(str(all.back().at("type")), "checkout.created");
  EXPECT_EQ(str(all.back().at("checkout")), first);

  auto mine = list(f, "?checkout=" + second);
  std::vector<std::string> types;
  for (const auto& e : mine) {
    EXPECT_EQ(str(e.at("checkout")), second);
    types.push_back(str(e.at("type")));
  }
  EXPECT_EQ(types,
            (std::vector<std::string>{"checkout.fulfilled", "checkout.paid", "checkout.created"}));
  EXPECT_EQ(list(f, "?checkout=" + first + "&limit=100").size(), 7u);

  auto created = list(f, "?type=checkout.created");
  ASSERT_EQ(created.size(), 2u);
  EXPECT_EQ(str(created[0].at("checkout")), second);
  EXPECT_EQ(str(created[1].at("checkout")), first);
  for (const auto& e : created) EXPECT_EQ(str(e.at("type")), "checkout.created");

  auto both = list(f, "?type=fulfillment.shipped&checkout=" + first);
  ASSERT_EQ(both.size(), 1u);
  EXPECT_TRUE(list(f, "?type=fulfillment.shipped&checkout=" + second).empty());
  EXPECT_TRUE(list(f, "?type=dispute.opened").empty());
  EXPECT_TRUE(list(f, "?checkout=chk_nope").empty());
}

TEST_F(EventsApi, PagesWalkTheWholeLogOnce) {
  auto all = ids_of(list(f, "?limit=100"));
  ASSERT_EQ(all.size(), 10u);
  std::vector<std::string> walked;
  std::string after;
  int pages = 0;
  for (bool more = true; more && pages < 20; ++pages) {
    std::string q = "?limit=3" + (after.empty() ? "" : "&starting_after=" + after);
    auto page = list(f, q, &more);
    ASSERT_FALSE(page.empty()) << q;
    EXPECT_LE(page.size(), 3u);
    for (const auto& id : ids_of(page)) walked.push_back(id);
    after = walked.back();
  }
  EXPECT_EQ(pages, 4);
  EXPECT_EQ(walked, all);

  // A filter paginates within itself.
  bool more = true;
  auto first_page = list(f, "?checkout=" + first + "&limit=4", &more);
  EXPECT_TRUE(more);
  auto rest =
      list(f, "?checkout=" + first + "&limit=4&starting_after=" + str(first_page.back().at("id")),
           &more);
  EXPECT_FALSE(more);
  EXPECT_EQ(first_page.size() + rest.size(), 7u);
  for (const auto& e : rest) EXPECT_EQ(str(e.at("checkout")), first);
}

TEST_F(EventsApi, BadQueriesAndMissingKeysAreRefused) {
  for (const char* q : {"?limit=0", "?limit=101", "?limit=abc"}) {
    Reply r = f.app("GET", std::string("/v1/events") + q);
    EXPECT_EQ(r.status, 400) << q;
    EXPECT_EQ(str(r.json().at("error").at("param")), "limit") << q;
  }
  Reply anonymous = f.request("GET", "/v1/events");
  EXPECT_EQ(anonymous.status, 401);
}

}  // namespace
}  // namespace mg::testing
