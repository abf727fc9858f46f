// sandbox_fulfillment built through the registry, on a manual clock: idempotent orders, refusals,
// shipping quotes, the walk to delivered with shipments and signed webhooks, and cancel rules.
#include "tests/integration/adapters/sandbox_harness.hpp"

#include <gtest/gtest.h>

#include <set>

namespace mg::testing {
namespace {

using adapters::adapter_errc;
using adapters::FulfillmentAdapter;
using core::FulfillmentStatus;

constexpr std::int64_t kInProduction = 1000;
constexpr std::int64_t kShipped = 2000;
constexpr std::int64_t kDelivered = 3000;

class SandboxFulfillment : public ::testing::Test {
 protected:
  SandboxFulfillment() {
    ful_ = h_.must_create<FulfillmentAdapter>(sandbox_config(
        "sandbox-ful", "sandbox_fulfillment", secret_,
        boost::json::object{{"in_production_after_ms", kInProduction},
                            {"shipped_after_ms", kShipped},
                            {"delivered_after_ms", kDelivered},
                            {"carrier", "Test Parcel"},
                            {"shipping", boost::json::object{{"EUR", 495}, {"USD", 599}}}}));
  }

  static core::Address address(std::string country) {
    core::Address a;
    a.name = "Ada L";
    a.line1 = "1 Main St";
    a.city = "Milan";
    a.postal_code = "20121";
    a.country = std::move(country);
    return a;
  }
  static adapters::OrderLine line(std::string sku, bool fail = false) {
    adapters::OrderLine l;
    l.sku = std::move(sku);
    l.title = "Hype tee";
    l.quantity = 2;
    l.unit_amount = 2500;
    l.spec = boost::json::object{{"adapter", "sandbox-ful"}, {"product", "71"}};
    if (fail) l.spec["fail"] = true;
    return l;
  }
  static adapters::OrderRequest order(const std::string& fulfillment_id,
                                      std::vector<adapters::OrderLine> lines,
                                      std::string country = "IT") {
    adapters::OrderRequest r;
    r.ctx.checkout_id = "chk_" + fulfillment_id;
    r.ctx.idempotency_key = fulfillment_id + ":create";
    r.fulfillment_id = fulfillment_id;
    r.lines = std::move(lines);
    r.address = address(std::move(country));
    r.buyer_email = "a@example.com";
    r.currency = "EUR";
    return r;
  }
  adapters::AResult<core::FulfillmentFact> create(const adapters::OrderRequest& r) {
    return h_.run(ful_->create_order(r));
  }
  core::FulfillmentFact must_create(const std::string& fulfillment_id) {
    auto r = order(fulfillment_id, {line("hype-tee-black-m")});
    auto fact = create(r);
    if (!fact) throw std::runtime_error("create_order: " + fact.error().message);
    return *fact;
  }
  adapters::AResult<core::FulfillmentFact> get(const std::string& fulfillment_id,
                                               const std::string& reference) {
    adapters::OrderRef ref;
    ref.fulfillment_id = fulfillment_id;
    ref.reference = reference;
    return h_.run(ful_->get_order(ref));
  }
  adapters::AResult<core::FulfillmentFact> cancel(const std::string& fulfillment_id,
                                                  const std::string& reference) {
    adapters::OrderRef ref;
    ref.fulfillment_id = fulfillment_id;
    ref.reference = reference;
    return h_.run(ful_->cancel_order(ref));
  }
  adapters::AResult<adapters::Quote> quote(std::string currency, std::string country) {
    adapters::QuoteRequest q;
    q.lines = {line("hype-tee-black-m")};
    q.address = address(std::move(country));
    q.currency = std::move(currency);
    return h_.run(ful_->quote_shipping(q));
  }
  std::int64_t ledger_count(const std::string& sql) {
    RawDb raw(h_.ledger_path("sandbox-ful"));
    return raw.count(sql);
  }
  std::string tracking_url(const std::string& tracking_number) {
    return std::string(kPublicUrl) + "/hosted/sandbox-ful/track/" + tracking_number;
  }

  std::string secret_ = webhooks::generate_secret();
  SandboxHarness h_;
  std::shared_ptr<FulfillmentAdapter> ful_;
};

TEST_F(SandboxFulfillment, CreateOrderIsIdempotentOnTheFulfillmentId) {
  auto first = must_create("ful_1");
  EXPECT_TRUE(first.reference.starts_with("sbo_")) << first.reference;
  EXPECT_EQ(first.status, FulfillmentStatus::submitted);
  EXPECT_TRUE(first.shipments.empty());
  auto again = must_create("ful_1");
  EXPECT_EQ(again.reference, first.reference);

  auto req = order("ful_2", {line("hype-tee-black-m")});
  std::vector<std::future<adapters::AResult<core::FulfillmentFact>>> futures;
  for (int i = 0; i < 6; ++i) {
    futures.push_back(
        boost::asio::co_spawn(h_.io(), ful_->create_order(req), boost::asio::use_future));
  }
  std::set<std::string> refs;
  for (auto& f : futures) {
    auto fact = get_bounded(f, "a concurrent create_order");
    ASSERT_TRUE(fact) << fact.error().message;
    refs.insert(fact->reference);
  }
  EXPECT_EQ(refs.size(), 1u);
  EXPECT_NE(*refs.begin(), first.reference);

  EXPECT_EQ(ledger_count("SELECT COUNT(*) FROM orders"), 2);
  EXPECT_EQ(ledger_count("SELECT COUNT(*) FROM orders WHERE external_id = 'ful_1' AND "
                         "checkout_id = 'chk_ful_1' AND country = 'IT'"),
            1);
}

TEST_F(SandboxFulfillment, RefusesALineMarkedFailAndAnUnshippableAddress) {
  auto r = order("ful_fail", {line("ok-sku"), line("cursed-sku", true)});
  auto refused = create(r);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(refused.error().is(adapter_errc::refused)) << refused.error().message;
  EXPECT_EQ(refused.error().partner_code, "product_refused");
  EXPECT_NE(refused.error().message.find("cursed-sku"), std::string::npos);

  auto far = order("ful_far", {line("ok-sku")}, "AQ");
  auto unshippable = create(far);
  ASSERT_FALSE(unshippable);
  EXPECT_TRUE(unshippable.error().is(adapter_errc::refused));

  EXPECT_EQ(ledger_count("SELECT COUNT(*) FROM orders"), 0) << "a refused order leaves no trace";
  EXPECT_EQ(ledger_count("SELECT COUNT(*) FROM outbox"), 0);
}

TEST_F(SandboxFulfillment, QuotesTheFlatRatePerCurrencyAndRefusesAntarctica) {
  auto eur = quote("EUR", "IT");
  ASSERT_TRUE(eur) << eur.error().message;
  EXPECT_EQ(eur->amount, 495);
  EXPECT_EQ(eur->currency, "EUR");
  auto usd = quote("USD", "US");
  ASSERT_TRUE(usd) << usd.error().message;
  EXPECT_EQ(usd->amount, 599);
  EXPECT_EQ(usd->currency, "USD");
  auto aq = quote("EUR", "AQ");
  ASSERT_FALSE(aq);
  EXPECT_TRUE(aq.error().is(adapter_errc::refused));

  // The list of refused countries is a setting.
  auto picky = h_.must_create<FulfillmentAdapter>(
      sandbox_config("sandbox-picky", "sandbox_fulfillment", secret_,
                     boost::json::object{{"unsupported_countries", boost::json::array{"FR"}}}));
  adapters::QuoteRequest q;
  q.lines = {line("sku")};
  q.address = address("FR");
  q.currency = "EUR";
  auto fr = h_.run(picky->quote_shipping(q));
  ASSERT_FALSE(fr);
  EXPECT_TRUE(fr.error().is(adapter_errc::refused));
  q.address = address("AQ");
  EXPECT_TRUE(h_.run(picky->quote_shipping(q)));
}

TEST_F(SandboxFulfillment, WalksToDeliveredOnItsClockWithShipmentsAndSignedWebhooks) {
  auto created = must_create("ful_walk");
  const std::string& ref = created.reference;

  auto status_after = [&](std::int64_t step) {
    h_.clock().advance(step);
    auto fact = get("ful_walk", ref);
    if (!fact) throw std::runtime_error(fact.error().message);
    return *fact;
  };
  auto almost = status_after(kInProduction - 1);
  EXPECT_EQ(almost.status, FulfillmentStatus::submitted);
  auto producing = status_after(1);
  EXPECT_EQ(producing.status, FulfillmentStatus::in_production);
  EXPECT_TRUE(producing.shipments.empty());
  auto shipped = status_after(kShipped - kInProduction);
  EXPECT_EQ(shipped.status, FulfillmentStatus::shipped);
  ASSERT_EQ(shipped.shipments.size(), 1u);
  const auto& parcel = shipped.shipments[0];
  EXPECT_EQ(parcel.carrier, "Test Parcel");
  EXPECT_TRUE(parcel.tracking_number.starts_with("SBX")) << parcel.tracking_number;
  EXPECT_EQ(parcel.tracking_url, tracking_url(parcel.tracking_number));
  auto delivered = status_after(kDelivered - kShipped);
  EXPECT_EQ(delivered.status, FulfillmentStatus::delivered);
  ASSERT_EQ(delivered.shipments.size(), 1u);
  EXPECT_EQ(delivered.shipments[0].tracking_number, parcel.tracking_number);

  // Looked up by merchgate's id alone (the partner's reference never learned).
  auto by_external = get("ful_walk", "");
  ASSERT_TRUE(by_external) << by_external.error().message;
  EXPECT_EQ(by_external->reference, ref);

  // Each step was announced, signed, in order; the shipped and delivered ones carry the parcel.
  ASSERT_TRUE(SandboxHarness::eventually([&] { return h_.loopback().count() == 3; }));
  auto key = webhooks::secret_key(secret_);
  ASSERT_TRUE(key);
  std::vector<std::string> types;
  std::vector<FulfillmentStatus> statuses;
  for (const auto& hook : h_.loopback().requests()) {
    EXPECT_EQ(hook.path, "/v1/webhooks/sandbox-ful");
    EXPECT_TRUE(webhooks::verify({*key}, hook.header("webhook-id"),
                                 hook.header("webhook-timestamp"), hook.header("webhook-signature"),
                                 hook.body, h_.clock().now() / 1000));
    types.emplace_back(body_of(hook).at("type").as_string());
    auto normalized = h_.run(ful_->verify_webhook(to_webhook(hook, h_.clock().now())));
    ASSERT_TRUE(normalized) << normalized.error().message;
    ASSERT_EQ(normalized->events.size(), 1u);
    const auto& e = normalized->events[0];
    EXPECT_EQ(e.kind, adapters::InboundEvent::Kind::fulfillment);
    EXPECT_EQ(e.fulfillment_id, "ful_walk");
    EXPECT_EQ(e.checkout_id, "chk_ful_walk");
    EXPECT_EQ(e.order_reference, ref);
    ASSERT_TRUE(e.fulfillment);
    statuses.push_back(e.fulfillment->status);
    if (e.fulfillment->status == FulfillmentStatus::in_production) {
      EXPECT_TRUE(e.fulfillment->shipments.empty());
    } else {
      ASSERT_EQ(e.fulfillment->shipments.size(), 1u);
      EXPECT_EQ(e.fulfillment->shipments[0].carrier, "Test Parcel");
      EXPECT_EQ(e.fulfillment->shipments[0].tracking_number, parcel.tracking_number);
      EXPECT_EQ(e.fulfillment->shipments[0].tracking_url, parcel.tracking_url);
    }
  }
  EXPECT_EQ(types,
            (std::vector<std::string>{"order.in_production", "order.shipped", "order.delivered"}));
  EXPECT_EQ(statuses, (std::vector<FulfillmentStatus>{FulfillmentStatus::in_production,
                                                      FulfillmentStatus::shipped,
                                                      FulfillmentStatus::delivered}));

  // The tracking URL leads to a page that knows the parcel.
  http::Request track;
  track.method = "GET";
  track.path = "/hosted/sandbox-ful/track/" + parcel.tracking_number;
  track.target = track.path;
  auto page = h_.run(ful_->hosted_page(track, "track/" + parcel.tracking_number));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("delivered"), std::string::npos) << page->body;
  auto unknown = h_.run(ful_->hosted_page(track, "track/SBXNOPE"));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
}

TEST_F(SandboxFulfillment, CancelWorksBeforeProductionAndIsInvalidStateAfter) {
  auto early = must_create("ful_cancel");
  auto canceled = cancel("ful_cancel", early.reference);
  ASSERT_TRUE(canceled) << canceled.error().message;
  EXPECT_EQ(canceled->status, FulfillmentStatus::canceled);
  h_.clock().advance(kDelivered);
  EXPECT_EQ(get("ful_cancel", early.reference).value().status, FulfillmentStatus::canceled);
  ASSERT_TRUE(SandboxHarness::eventually([&] { return h_.loopback().count() >= 1; }));
  auto types = [&] {
    RawDb raw(h_.ledger_path("sandbox-ful"));
    return raw.column("SELECT type FROM outbox WHERE subject = '" + early.reference + "'");
  };
  EXPECT_EQ(types(), std::vector<std::string>{"order.canceled"})
      << "the steps it will never take are not announced";
  auto hook = h_.loopback().requests().front();
  auto normalized = h_.run(ful_->verify_webhook(to_webhook(hook, h_.clock().now())));
  ASSERT_TRUE(normalized) << normalized.error().message;
  ASSERT_TRUE(normalized->events.at(0).fulfillment);
  EXPECT_EQ(normalized->events[0].fulfillment->status, FulfillmentStatus::canceled);

  auto late = must_create("ful_late");
  h_.clock().advance(kInProduction);
  auto refused = cancel("ful_late", late.reference);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(refused.error().is(adapter_errc::invalid_state)) << refused.error().message;
  EXPECT_EQ(get("ful_late", late.reference).value().status, FulfillmentStatus::in_production);

  auto unknown = cancel("ful_nope", "");
  ASSERT_FALSE(unknown);
  EXPECT_TRUE(unknown.error().is(adapter_errc::not_found));
  auto unknown_get = get("ful_nope", "");
  ASSERT_FALSE(unknown_get);
  EXPECT_TRUE(unknown_get.error().is(adapter_errc::not_found));
}

TEST_F(SandboxFulfillment, VerifyWebhookRejectsForgeriesAndStaleDeliveries) {
  must_create("ful_verify");
  h_.clock().advance(kInProduction);
  ASSERT_TRUE(SandboxHarness::eventually([&] { return h_.loopback().count() >= 1; }));
  auto hook = h_.loopback().requests().front();
  core::Timestamp now = h_.clock().now();
  ASSERT_TRUE(h_.run(ful_->verify_webhook(to_webhook(hook, now))));

  auto tampered = to_webhook(hook, now);
  auto at = tampered.body.find("in_production");
  ASSERT_NE(at, std::string::npos);
  tampered.body.replace(at, 13, "delivered");
  auto r1 = h_.run(ful_->verify_webhook(tampered));
  ASSERT_FALSE(r1);
  EXPECT_TRUE(r1.error().is(adapter_errc::invalid_webhook));

  auto r2 = h_.run(ful_->verify_webhook(to_webhook(hook, now + 301'000)));
  ASSERT_FALSE(r2);
  EXPECT_TRUE(r2.error().is(adapter_errc::stale_webhook));

  auto unsigned_hook = to_webhook(hook, now);
  std::erase_if(unsigned_hook.headers,
                [](const http::Header& h) { return h.name == "webhook-signature"; });
  auto r3 = h_.run(ful_->verify_webhook(unsigned_hook));
  ASSERT_FALSE(r3);
  EXPECT_TRUE(r3.error().is(adapter_errc::invalid_webhook));
}

TEST_F(SandboxFulfillment, ValidateProductChecksTheFulfillmentBlock) {
  EXPECT_TRUE(ful_->validate_product(
      boost::json::object{{"adapter", "sandbox-ful"}, {"product", "71"}, {"fail", true}}));
  auto unknown =
      ful_->validate_product(boost::json::object{{"adapter", "sandbox-ful"}, {"colour", "black"}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().param, "fulfillment.colour");
  auto bad_fail =
      ful_->validate_product(boost::json::object{{"adapter", "sandbox-ful"}, {"fail", "yes"}});
  ASSERT_FALSE(bad_fail);
  EXPECT_EQ(bad_fail.error().param, "fulfillment.fail");
}

}  // namespace
}  // namespace mg::testing
