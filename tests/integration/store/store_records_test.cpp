// What the store keeps, through its interface on a real SQLite file: checkouts and their partner
// references, the event log, idempotency keys, inbound webhooks and partner calls.
#include "gateway/core/model_json.hpp"
#include "tests/integration/store/store_harness.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace mg::testing {
namespace {

using store::ReadTx;
using store::Store;
using store::WriteTx;

core::Checkout make_checkout(const std::string& id, core::Timestamp at,
                             const std::string& seller = "sel_hype") {
  core::Checkout c;
  c.id = id;
  c.seller = seller;
  c.currency = "EUR";
  core::Line line;
  line.sku = "hype-tee-black-m";
  line.title = "Hype tee, black, M";
  line.quantity = 2;
  line.unit_amount = 2500;
  line.amount = 5000;
  line.fulfillment_adapter = "sandbox-ful";
  line.fulfillment_spec = boost::json::object{{"adapter", "sandbox-ful"}, {"product", "71"}};
  c.lines.push_back(line);
  c.amount_subtotal = 5000;
  c.amount_shipping = 495;
  c.amount_total = 5495;
  c.platform_fee = 250;
  c.payment.processor = "sandbox-pay";
  c.payment.reference = "sbp_" + id;
  c.payment.method = "pm_sandbox_ok";
  c.payment.status = core::PaymentStatus::processing;
  c.payment.partner_data["capture_id"] = "cap_1";
  core::Address address;
  address.name = "Ada L";
  address.line1 = "1 Main St";
  address.city = "Milan";
  address.postal_code = "20121";
  address.country = "IT";
  c.buyer.id = "u_123";
  c.buyer.email = "a@example.com";
  c.buyer.shipping_address = address;
  c.metadata = boost::json::object{{"video_id", "v_987"}};
  c.api_key_id = "key_app";
  c.created_at = at;
  c.updated_at = at;
  return c;
}

std::optional<std::string> by_ref(Store& s, std::string_view kind, std::string adapter,
                                  std::string reference) {
  std::string k(kind);
  return must_read(s, [k, adapter, reference](ReadTx& tx) {
    return tx.checkout_by_reference(k, adapter, reference);
  });
}

class StoreRecords : public ::testing::Test {
 protected:
  TempDir dir_;
  std::unique_ptr<Store> s_ = open_migrated(dir_.file("x.db"));
};

TEST_F(StoreRecords, ACheckoutRoundTripsThroughInsertAndRead) {
  auto c = make_checkout("chk_round", 1000);
  must_write(*s_, [c](WriteTx& tx) { tx.insert_checkout(c); });
  auto back = must_read(*s_, [](ReadTx& tx) { return tx.checkout("chk_round"); });
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, core::CheckoutStatus::requires_payment);
  EXPECT_EQ(back->seller, "sel_hype");
  EXPECT_EQ(back->currency, "EUR");
  ASSERT_EQ(back->lines.size(), 1u);
  EXPECT_EQ(back->lines[0].sku, "hype-tee-black-m");
  EXPECT_EQ(back->lines[0].quantity, 2);
  EXPECT_EQ(back->lines[0].fulfillment_spec, c.lines[0].fulfillment_spec);
  EXPECT_EQ(back->amount_total, 5495);
  EXPECT_EQ(back->platform_fee, 250);
  EXPECT_EQ(back->payment.reference, "sbp_chk_round");
  EXPECT_EQ(back->payment.status, core::PaymentStatus::processing);
  EXPECT_EQ(back->payment.partner_data, c.payment.partner_data);
  EXPECT_EQ(back->buyer.email, "a@example.com");
  ASSERT_TRUE(back->buyer.shipping_address);
  EXPECT_EQ(back->buyer.shipping_address->country, "IT");
  EXPECT_EQ(back->metadata, c.metadata);
  EXPECT_EQ(back->api_key_id, "key_app");
  EXPECT_EQ(back->created_at, 1000);
  EXPECT_FALSE(must_read(*s_, [](ReadTx& tx) { return tx.checkout("chk_missing"); }));
}

TEST_F(StoreRecords, UpdateUnderLockPersistsAndIndexesEveryPartnerReference) {
  auto c = make_checkout("chk_refs", 1000);
  core::Fulfillment f;
  f.id = "ful_1";
  f.adapter = "sandbox-ful";
  f.status = core::FulfillmentStatus::pending;
  c.fulfillments.push_back(f);
  must_write(*s_, [c](WriteTx& tx) { tx.insert_checkout(c); });

  EXPECT_EQ(by_ref(*s_, store::ref_kind::payment, "sandbox-pay", "sbp_chk_refs"), "chk_refs");
  EXPECT_EQ(by_ref(*s_, store::ref_kind::fulfillment, "sandbox-ful", "ful_1"), "chk_refs");
  EXPECT_FALSE(by_ref(*s_, store::ref_kind::order, "sandbox-ful", "sbo_1"));

  must_write(*s_, [](WriteTx& tx) {
    auto locked = tx.lock_checkout("chk_refs");
    ASSERT_TRUE(locked);
    locked->status = core::CheckoutStatus::paid;
    locked->payment.status = core::PaymentStatus::succeeded;
    locked->fulfillments[0].reference = "sbo_1";
    locked->fulfillments[0].status = core::FulfillmentStatus::submitted;
    core::Refund r;
    r.id = "rfd_1";
    r.amount = 500;
    r.reference = "sbr_1";
    locked->refunds.push_back(r);
    locked->updated_at = 2000;
    tx.update_checkout(*locked);
  });

  auto back = must_read(*s_, [](ReadTx& tx) { return tx.checkout("chk_refs"); });
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, core::CheckoutStatus::paid);
  EXPECT_EQ(back->updated_at, 2000);
  ASSERT_EQ(back->refunds.size(), 1u);
  EXPECT_EQ(back->refunds[0].reference, "sbr_1");
  EXPECT_EQ(by_ref(*s_, store::ref_kind::order, "sandbox-ful", "sbo_1"), "chk_refs");
  EXPECT_EQ(by_ref(*s_, store::ref_kind::refund, "sandbox-pay", "sbr_1"), "chk_refs");
  EXPECT_EQ(by_ref(*s_, store::ref_kind::payment, "sandbox-pay", "sbp_chk_refs"), "chk_refs");
  // A reference resolves only under its own kind and adapter.
  EXPECT_FALSE(by_ref(*s_, store::ref_kind::payment, "sandbox-pay", "sbr_1"));
  EXPECT_FALSE(by_ref(*s_, store::ref_kind::order, "other-ful", "sbo_1"));
  EXPECT_FALSE(by_ref(*s_, store::ref_kind::payment, "sandbox-pay", "sbp_unknown"));

  auto paid = must_read(*s_, [](ReadTx& tx) {
    store::CheckoutFilter f;
    f.status = "paid";
    return tx.checkouts(f);
  });
  ASSERT_EQ(paid.data.size(), 1u);
  EXPECT_EQ(paid.data[0].id, "chk_refs");
}

TEST_F(StoreRecords, AFailedUpdateOrDuplicateInsertLeavesNothingBehind) {
  auto c = make_checkout("chk_dup", 1000);
  must_write(*s_, [c](WriteTx& tx) { tx.insert_checkout(c); });

  auto dup = c;
  dup.seller = "sel_other";
  auto e1 = write_sync(*s_, [dup](WriteTx& tx) {
    tx.append_events({make_event("evt_dup", "checkout.created", "chk_dup", 1)});
    tx.insert_checkout(dup);
    return true;
  });
  EXPECT_NE(e1, nullptr);

  auto ghost = make_checkout("chk_ghost", 1000);
  auto e2 = write_sync(*s_, [ghost](WriteTx& tx) {
    tx.append_events({make_event("evt_ghost", "checkout.paid", "chk_ghost", 1)});
    tx.update_checkout(ghost);
    return true;
  });
  EXPECT_NE(e2, nullptr);

  EXPECT_EQ(must_read(*s_, [](ReadTx& tx) { return tx.checkout("chk_dup").value().seller; }),
            "sel_hype");
  EXPECT_FALSE(must_read(*s_, [](ReadTx& tx) { return tx.checkout("chk_ghost"); }));
  EXPECT_FALSE(must_read(*s_, [](ReadTx& tx) { return tx.event("evt_dup"); }));
  EXPECT_FALSE(must_read(*s_, [](ReadTx& tx) { return tx.event("evt_ghost"); }));
  EXPECT_FALSE(by_ref(*s_, store::ref_kind::payment, "sandbox-pay", "sbp_chk_ghost"));
}

TEST_F(StoreRecords, CheckoutsListNewestFirstWithFiltersAndPages) {
  must_write(*s_, [](WriteTx& tx) {
    for (int i = 1; i <= 5; ++i) {
      tx.insert_checkout(
          make_checkout("chk_" + std::to_string(i), i * 1000, i % 2 ? "sel_odd" : "sel_even"));
    }
  });
  auto list = [this](std::string seller, std::string after, int limit) {
    return must_read(*s_, [seller, after, limit](ReadTx& tx) {
      store::CheckoutFilter f;
      f.seller = seller;
      f.page.starting_after = after;
      f.page.limit = limit;
      return tx.checkouts(f);
    });
  };
  auto ids = [](const store::Page<core::Checkout>& p) {
    std::vector<std::string> out;
    for (const auto& c : p.data) out.push_back(c.id);
    return out;
  };
  auto p1 = list("", "", 2);
  EXPECT_EQ(ids(p1), (std::vector<std::string>{"chk_5", "chk_4"}));
  EXPECT_TRUE(p1.has_more);
  auto p2 = list("", "chk_4", 2);
  EXPECT_EQ(ids(p2), (std::vector<std::string>{"chk_3", "chk_2"}));
  EXPECT_TRUE(p2.has_more);
  auto p3 = list("", "chk_2", 2);
  EXPECT_EQ(ids(p3), (std::vector<std::string>{"chk_1"}));
  EXPECT_FALSE(p3.has_more);
  EXPECT_EQ(ids(list("sel_odd", "", 20)), (std::vector<std::string>{"chk_5", "chk_3", "chk_1"}));
}

TEST_F(StoreRecords, DueForReconcileIsOrderedByScheduleAndSkipsTheUnscheduled) {
  must_write(*s_, [](WriteTx& tx) {
    for (int i = 1; i <= 5; ++i) {
      auto c = make_checkout("chk_" + std::to_string(i), i * 1000);
      // chk_2 and chk_4 have nothing open (NULL); the others are due at 6000 - i * 1000.
      c.reconcile_at = i % 2 ? 6000 - i * 1000 : 0;
      tx.insert_checkout(c);
    }
  });
  auto due = [this](core::Timestamp now) {
    auto list = must_read(*s_, [now](ReadTx& tx) { return tx.due_for_reconcile(now, 10); });
    std::vector<std::string> ids;
    for (const auto& c : list) ids.push_back(c.id);
    return ids;
  };
  EXPECT_EQ(due(2000), (std::vector<std::string>{"chk_5"}));
  EXPECT_EQ(due(5000), (std::vector<std::string>{"chk_5", "chk_3", "chk_1"}));
  // Moving the schedule (what the reconciler does after asking) takes it out of the due list.
  must_write(*s_, [](WriteTx& tx) {
    auto c = tx.lock_checkout("chk_5").value();
    c.reconcile_at = 9000;
    tx.update_checkout(c);
  });
  EXPECT_EQ(due(5000), (std::vector<std::string>{"chk_3", "chk_1"}));
  EXPECT_EQ(must_read(*s_, [](ReadTx& tx) { return tx.checkout("chk_5")->reconcile_at; }), 9000);
}

class StoreEvents : public StoreRecords {
 protected:
  // 25 events: chk_a gets the even ones, chk_b the odd ones; every third is checkout.paid.
  void SetUp() override {
    must_write(*s_, [this](WriteTx& tx) {
      std::vector<core::Event> events;
      for (int i = 0; i < 25; ++i) {
        events.push_back(make_event(id(i), i % 3 == 0 ? "checkout.paid" : "checkout.created",
                                    i % 2 == 0 ? "chk_a" : "chk_b", 1000 + i));
      }
      sample_ = events[7];
      tx.append_events(events);
    });
  }
  static std::string id(int i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "evt_%02d", i);
    return buf;
  }
  store::Page<store::StoredEvent> list(store::EventFilter f) {
    return must_read(*s_, [f](ReadTx& tx) { return tx.events(f); });
  }
  static std::vector<std::string> ids(const store::Page<store::StoredEvent>& p) {
    std::vector<std::string> out;
    for (const auto& e : p.data) out.push_back(e.id);
    return out;
  }
  core::Event sample_;
};

TEST_F(StoreEvents, ListNewestFirstInPagesWithHasMore) {
  store::EventFilter f;
  f.page.limit = 10;
  auto p1 = list(f);
  ASSERT_EQ(p1.data.size(), 10u);
  EXPECT_EQ(p1.data.front().id, id(24));
  EXPECT_EQ(p1.data.back().id, id(15));
  EXPECT_TRUE(p1.has_more);
  f.page.starting_after = p1.data.back().id;
  auto p2 = list(f);
  ASSERT_EQ(p2.data.size(), 10u);
  EXPECT_EQ(p2.data.front().id, id(14));
  EXPECT_TRUE(p2.has_more);
  f.page.starting_after = p2.data.back().id;
  auto p3 = list(f);
  ASSERT_EQ(p3.data.size(), 5u);
  EXPECT_EQ(p3.data.back().id, id(0));
  EXPECT_FALSE(p3.has_more);

  // Exactly `limit` left: no further page.
  f.page.limit = 5;
  f.page.starting_after = id(5);
  auto last = list(f);
  EXPECT_EQ(ids(last), (std::vector<std::string>{id(4), id(3), id(2), id(1), id(0)}));
  EXPECT_FALSE(last.has_more);
}

TEST_F(StoreEvents, FilterByTypeAndCheckout) {
  store::EventFilter by_type;
  by_type.type = "checkout.paid";
  EXPECT_EQ(ids(list(by_type)), (std::vector<std::string>{id(24), id(21), id(18), id(15), id(12),
                                                          id(9), id(6), id(3), id(0)}));
  store::EventFilter by_checkout;
  by_checkout.checkout_id = "chk_b";
  auto b = list(by_checkout);
  EXPECT_EQ(b.data.size(), 12u);
  EXPECT_TRUE(std::all_of(b.data.begin(), b.data.end(),
                          [](const auto& e) { return e.checkout_id == "chk_b"; }));
  store::EventFilter both;
  both.type = "checkout.paid";
  both.checkout_id = "chk_a";
  both.page.limit = 2;
  auto p = list(both);
  EXPECT_EQ(ids(p), (std::vector<std::string>{id(24), id(18)}));
  EXPECT_TRUE(p.has_more);
  both.page.starting_after = id(18);
  EXPECT_EQ(ids(list(both)), (std::vector<std::string>{id(12), id(6)}));
  store::EventFilter none;
  none.type = "dispute.opened";
  auto empty = list(none);
  EXPECT_TRUE(empty.data.empty());
  EXPECT_FALSE(empty.has_more);
}

TEST_F(StoreEvents, StoresTheExactBodyAndClampsTheLimit) {
  auto e = must_read(*s_, [](ReadTx& tx) { return tx.event("evt_07"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->body, core::event_body(sample_));
  EXPECT_EQ(e->type, sample_.type);
  EXPECT_EQ(e->created_at, 1007);

  must_write(*s_, [](WriteTx& tx) {
    std::vector<core::Event> more;
    for (int i = 0; i < 100; ++i) {
      more.push_back(make_event("evt_more_" + std::to_string(i), "x", "chk_c", 5000 + i));
    }
    tx.append_events(more);
  });
  store::EventFilter zero;
  zero.page.limit = 0;
  EXPECT_EQ(list(zero).data.size(), 20u) << "out-of-range limits fall back to the default";
  store::EventFilter huge;
  huge.page.limit = 1000;
  auto p = list(huge);
  EXPECT_EQ(p.data.size(), 100u);
  EXPECT_TRUE(p.has_more);
}

TEST_F(StoreRecords, IdempotencyCompletesOnlyWhileInProgressAndPurgesOldCompletedKeys) {
  std::string hash("\x00\x01\xfe binary", 10);
  must_write(*s_, [hash](WriteTx& tx) {
    store::IdempotencyRecord r;
    r.scope = "key_app";
    r.key = "k1";
    r.request_hash = hash;
    r.checkout_id = "chk_1";
    r.created_at = 1000;
    tx.begin_idempotency(r);
  });
  auto running = must_read(*s_, [](ReadTx& tx) { return tx.idempotency("key_app", "k1"); });
  ASSERT_TRUE(running);
  EXPECT_EQ(running->status_code, 0);
  EXPECT_EQ(running->request_hash, hash);
  EXPECT_EQ(running->checkout_id, "chk_1");
  EXPECT_FALSE(must_read(*s_, [](ReadTx& tx) { return tx.idempotency("key_other", "k1"); }));

  // The same scope and key again is refused, and the unit is rolled back.
  auto again = write_sync(*s_, [](WriteTx& tx) {
    store::IdempotencyRecord r;
    r.scope = "key_app";
    r.key = "k1";
    r.request_hash = "other";
    r.created_at = 1001;
    tx.begin_idempotency(r);
    return true;
  });
  EXPECT_NE(again, nullptr);

  must_write(*s_, [](WriteTx& tx) {
    tx.complete_idempotency("key_app", "k1", 201, R"({"id":"chk_1"})", 1500);
  });
  must_write(*s_, [](WriteTx& tx) {
    tx.complete_idempotency("key_app", "k1", 500, R"({"error":{}})", 1600);
  });
  auto done = must_read(*s_, [](ReadTx& tx) { return tx.idempotency("key_app", "k1"); });
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status_code, 201) << "a completed key is never overwritten";
  EXPECT_EQ(done->response_body, R"({"id":"chk_1"})");
  EXPECT_EQ(done->request_hash, hash);

  must_write(*s_, [](WriteTx& tx) {
    for (auto [key, at] : {std::pair{"k2", 5000}, std::pair{"k3", 9000}}) {
      store::IdempotencyRecord r;
      r.scope = "key_app";
      r.key = key;
      r.request_hash = "h";
      r.created_at = at;
      tx.begin_idempotency(r);
      tx.complete_idempotency("key_app", key, 200, "{}", at);
    }
    // Still in progress but old: its request died long ago; it must not answer in_progress
    // forever.
    store::IdempotencyRecord stuck;
    stuck.scope = "key_app";
    stuck.key = "k4";
    stuck.request_hash = "h";
    stuck.created_at = 4000;
    tx.begin_idempotency(stuck);
  });
  auto purged = std::make_shared<int>(-1);
  must_write(*s_, [purged](WriteTx& tx) { *purged = tx.purge_idempotency(6000); });
  EXPECT_EQ(*purged, 3);
  EXPECT_FALSE(must_read(*s_, [](ReadTx& tx) { return tx.idempotency("key_app", "k4"); }));
  EXPECT_FALSE(must_read(*s_, [](ReadTx& tx) { return tx.idempotency("key_app", "k1"); }));
  EXPECT_FALSE(must_read(*s_, [](ReadTx& tx) { return tx.idempotency("key_app", "k2"); }));
  EXPECT_TRUE(must_read(*s_, [](ReadTx& tx) { return tx.idempotency("key_app", "k3"); }));
}

TEST_F(StoreRecords, InboundWebhooksDeduplicateOnAdapterAndPartnerEventId) {
  auto make = [](std::string adapter, std::string event_id, std::string body) {
    store::InboundWebhook w;
    w.adapter_id = std::move(adapter);
    w.partner_event_id = std::move(event_id);
    w.event_type = "payment.succeeded";
    w.checkout_id = "chk_in";
    w.body = std::move(body);
    w.received_at = 1000;
    return w;
  };
  struct Inserted {
    bool fresh = false;
    std::int64_t id = 0;
  };
  auto insert = [this](store::InboundWebhook w) {
    auto out = std::make_shared<Inserted>();
    must_write(*s_, [out, w](WriteTx& tx) mutable {
      out->fresh = tx.insert_inbound(w);
      out->id = w.id;
    });
    return *out;
  };
  auto first = insert(make("sandbox-pay", "evt_p1", R"({"v":1})"));
  EXPECT_TRUE(first.fresh);
  EXPECT_GT(first.id, 0);
  auto duplicate = insert(make("sandbox-pay", "evt_p1", R"({"v":2})"));
  EXPECT_FALSE(duplicate.fresh);
  auto other_adapter = insert(make("stripe-main", "evt_p1", R"({"v":3})"));
  EXPECT_TRUE(other_adapter.fresh);
  EXPECT_NE(other_adapter.id, first.id);

  {
    RawDb raw(dir_.file("x.db"));
    EXPECT_EQ(raw.count("SELECT COUNT(*) FROM inbound_webhooks"), 2);
    EXPECT_EQ(raw.text("SELECT body FROM inbound_webhooks WHERE adapter_id = 'sandbox-pay'"),
              R"({"v":1})");
  }

  must_write(*s_, [id = first.id](WriteTx& tx) {
    tx.set_inbound_status(id, store::InboundStatus::applied, "", "", 2000);
  });
  auto stored = must_read(*s_, [id = first.id](ReadTx& tx) { return tx.inbound(id); });
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->status, store::InboundStatus::applied);
  EXPECT_EQ(stored->checkout_id, "chk_in") << "an empty checkout id keeps the known one";
  EXPECT_EQ(stored->body, R"({"v":1})");
  auto listed = must_read(*s_, [](ReadTx& tx) { return tx.inbound_for_checkout("chk_in"); });
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].id, first.id);
  EXPECT_EQ(listed[1].adapter_id, "stripe-main");
}

TEST_F(StoreRecords, PartnerCallsAreRecordedInOrder) {
  must_write(*s_, [](WriteTx& tx) {
    tx.record_partner_call({"chk_pc", "sandbox-pay", "create_payment", "chk_pc:payment.create",
                            "ok", 200, 12, "", 1000});
    tx.record_partner_call({"chk_pc", "sandbox-pay", "refund", "chk_pc:refund:1", "error:rejected",
                            400, 7, "exceeds what is left", 2000});
    tx.record_partner_call({"chk_other", "sandbox-ful", "create_order", "", "ok", 0, 1, "", 3000});
  });
  auto calls = must_read(*s_, [](ReadTx& tx) { return tx.partner_calls("chk_pc"); });
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].operation, "create_payment");
  EXPECT_EQ(calls[0].idempotency_key, "chk_pc:payment.create");
  EXPECT_EQ(calls[0].http_status, 200);
  EXPECT_EQ(calls[0].duration_ms, 12);
  EXPECT_EQ(calls[1].outcome, "error:rejected");
  EXPECT_EQ(calls[1].error, "exceeds what is left");
  EXPECT_EQ(calls[1].at, 2000);
}

}  // namespace
}  // namespace mg::testing
