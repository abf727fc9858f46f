// Each merch adapter against its merchgate-sim simulator, in-process over loopback HTTP: the
// requests it builds are the ones the simulator (built from the partners' documentation)
// accepts, a retry finds the order an earlier try made, cancel follows the partner's rules,
// 429s become rate_limited with Retry-After, and the webhooks the simulator signs verify.
#include "tests/unit/adapters/fulfillment/merch_test_support.hpp"
#include "tools/sim/gelato_sim.hpp"
#include "tools/sim/partner_protocol_sim.hpp"
#include "tools/sim/printful_sim.hpp"
#include "tools/sim/printify_sim.hpp"

#include <gtest/gtest.h>

namespace mg::testing {
namespace {

namespace bj = boost::json;
using adapters::adapter_errc;
using core::FulfillmentStatus;

constexpr const char* kPrintfulSecret =
    "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
constexpr const char* kProtocolSecret = "whsec_bWVyY2gtcGFydG5lci1wcm90b2NvbC10ZXN0LWtleSE=";

adapters::OrderRequest order(std::string fid, std::vector<adapters::OrderLine> lines,
                             int attempt = 1, std::string country = "IT") {
  adapters::OrderRequest r;
  r.ctx.checkout_id = "chk_" + fid;
  r.ctx.attempt = attempt;
  r.fulfillment_id = std::move(fid);
  r.lines = std::move(lines);
  r.address = address(std::move(country));
  r.buyer_email = "ada@example.com";
  r.currency = "EUR";
  r.amount_shipping = 399;
  return r;
}

adapters::QuoteRequest quote(std::vector<adapters::OrderLine> lines, std::string currency = "EUR",
                             std::string country = "IT") {
  adapters::QuoteRequest q;
  q.lines = std::move(lines);
  q.currency = std::move(currency);
  q.address = address(std::move(country));
  return q;
}

adapters::OrderRef ref(const std::string& fid, const std::string& reference) {
  adapters::OrderRef r;
  r.fulfillment_id = fid;
  r.reference = reference;
  return r;
}

adapters::WebhookRequest as_webhook(const http::Request& r) {
  adapters::WebhookRequest w;
  w.headers = r.headers;
  w.body = r.body;
  w.now = core::system_now();
  return w;
}

std::size_t count(const std::vector<sim::Recorded>& rs, std::string_view method,
                  std::string_view target_prefix) {
  std::size_t n = 0;
  for (const auto& r : rs) {
    if (r.method == method && std::string_view(r.target).starts_with(target_prefix)) ++n;
  }
  return n;
}

http::Response too_many_requests(std::string body, std::string retry_after) {
  http::Response r;
  r.status = 429;
  r.set_header("content-type", "application/json");
  r.set_header("retry-after", std::move(retry_after));
  r.body = std::move(body);
  return r;
}

// ---- printful -------------------------------------------------------------------------------

adapters::OrderLine printful_tee(int quantity = 1) {
  return line("tee", quantity, 2500,
              bj::object{{"variant", "4017"},
                         {"files", bj::array{bj::object{{"url", "https://cdn.example/t.png"}}}}});
}

TEST(PrintfulAgainstSimulator, QuotesFromShippingRatesAndRefusesUnshippableAddresses) {
  SimHarness h("printful", sim::make_printful_sim);
  auto a = h.adapter("printful", {{"api_token", "pf-token"}}, {{"store_id", "1"}});
  auto q = h.run(a->quote_shipping(quote({printful_tee(2)})));
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->amount, 499);
  EXPECT_EQ(q->currency, "EUR");
  auto far = h.run(a->quote_shipping(quote({printful_tee()}, "EUR", "AQ")));
  ASSERT_FALSE(far);
  EXPECT_TRUE(far.error().is(adapter_errc::rejected)) << far.error().message;
  auto rec = h.recorded();
  ASSERT_FALSE(rec.empty());
  bool auth = false, store = false;
  for (const auto& hd : rec[0].headers) {
    auth = auth || (hd.name == "authorization" && hd.value == "Bearer pf-token");
    store = store || (hd.name == "x-pf-store-id" && hd.value == "1");
  }
  EXPECT_TRUE(auth && store);
}

TEST(PrintfulAgainstSimulator, MakesADraftConfirmsItAndARetryFindsIt) {
  SimHarness h("printful", sim::make_printful_sim, {}, 60'000);
  auto a = h.adapter("printful", {{"api_token", "t"}}, {});
  auto first = h.run(a->create_order(order("ful_pf1", {printful_tee()})));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->status, FulfillmentStatus::submitted);
  EXPECT_FALSE(first->reference.empty());
  auto rec = h.recorded();
  EXPECT_EQ(count(rec, "POST", "/orders?confirm=false&update_existing=true"), 1u);
  EXPECT_EQ(count(rec, "POST", "/orders/" + first->reference + "/confirm"), 1u);
  // A retry after a crash: the order is found by @external_id, nothing new is made.
  auto retry = h.run(a->create_order(order("ful_pf1", {printful_tee()}, 2)));
  ASSERT_TRUE(retry) << retry.error().message;
  EXPECT_EQ(retry->reference, first->reference);
  EXPECT_EQ(h.orders_for("ful_pf1"), 1u);
  EXPECT_EQ(count(h.recorded(), "GET", "/orders/%40ful_pf1"), 1u);
  // Canceled while pending.
  auto canceled = h.run(a->cancel_order(ref("ful_pf1", first->reference)));
  ASSERT_TRUE(canceled) << canceled.error().message;
  EXPECT_EQ(canceled->status, FulfillmentStatus::canceled);
}

// Polls the adapter's read of the order until `done` holds; returns the last read.
core::FulfillmentFact read_until(SimHarness& h, adapters::FulfillmentAdapter& a,
                                 const adapters::OrderRef& r,
                                 const std::function<bool(const core::FulfillmentFact&)>& done) {
  core::FulfillmentFact last;
  EXPECT_TRUE(SimHarness::eventually([&] {
    auto got = h.run(a.get_order(r));
    if (got) last = *got;
    return got && done(last);
  }));
  return last;
}

TEST(PrintfulAgainstSimulator, ShipsInTwoPackagesAndRefusesCancelInProduction) {
  SimHarness h("printful", sim::make_printful_sim, {}, 100);
  sim::Knobs k;
  k.split_shipments = true;
  h.ctx().set_knobs(k);
  auto a = h.adapter("printful", {{"api_token", "t"}}, {});
  auto made = h.run(a->create_order(order("ful_pf2", {printful_tee(2)})));
  ASSERT_TRUE(made) << made.error().message;
  auto last = read_until(h, *a, ref("ful_pf2", made->reference),
                         [](const auto& f) { return f.shipments.size() == 2; });
  ASSERT_EQ(last.shipments.size(), 2u);
  EXPECT_EQ(last.status, FulfillmentStatus::shipped);
  EXPECT_NE(last.shipments[0].tracking_number, last.shipments[1].tracking_number);
  EXPECT_FALSE(last.shipments[0].tracking_url.empty());
  // One tee in each package, named by the external_id the adapter gave the item.
  ASSERT_TRUE(last.shipped);
  EXPECT_EQ(*last.shipped, (std::map<std::string, std::int64_t>{{"tee", 2}}));
  auto cancel = h.run(a->cancel_order(ref("ful_pf2", made->reference)));
  ASSERT_FALSE(cancel);
  EXPECT_TRUE(cancel.error().is(adapter_errc::invalid_state)) << cancel.error().message;
}

TEST(PrintfulAgainstSimulator, AnOrderFailingAfterItsFirstPackageSaysWhatLeft) {
  SimHarness h("printful", sim::make_printful_sim, {}, 100);
  sim::Knobs k;
  k.fail_after_first_package = true;
  h.ctx().set_knobs(k);
  auto a = h.adapter("printful", {{"api_token", "t"}}, {});
  auto cap = line("cap", 1, 1500, bj::object{{"sync_variant", "10"}});
  auto made = h.run(a->create_order(order("ful_pf4", {printful_tee(), cap})));
  ASSERT_TRUE(made) << made.error().message;
  auto failed = read_until(h, *a, ref("ful_pf4", made->reference),
                           [](const auto& f) { return f.status == FulfillmentStatus::failed; });
  EXPECT_EQ(failed.failure_code, "printful_failed");
  ASSERT_EQ(failed.shipments.size(), 1u);
  ASSERT_TRUE(failed.shipped);
  EXPECT_EQ(*failed.shipped, (std::map<std::string, std::int64_t>{{"tee", 1}}));
}

TEST(PrintfulAgainstSimulator, RefusalAndRateLimitsAreTold) {
  SimHarness h("printful", sim::make_printful_sim);
  auto a = h.adapter("printful", {{"api_token", "t"}}, {});
  sim::Knobs k;
  k.refuse_all = true;
  h.ctx().set_knobs(k);
  auto refused = h.run(a->create_order(order("ful_pf3", {printful_tee()})));
  ASSERT_FALSE(refused);
  EXPECT_TRUE(refused.error().is(adapter_errc::refused)) << refused.error().message;
  h.answer_next(too_many_requests(
      R"({"code":429,"result":"Too Many Requests","error":{"reason":"TooManyRequests","message":"Too Many Requests"}})",
      "7"));
  auto limited = h.run(a->get_order(ref("ful_pf3", "123")));
  ASSERT_FALSE(limited);
  EXPECT_TRUE(limited.error().is(adapter_errc::rate_limited));
  EXPECT_EQ(limited.error().retry_after, std::chrono::seconds(7));
  auto bad_token = h.adapter("printful", {{"api_token", "invalid"}}, {});
  auto denied = h.run(bad_token->get_order(ref("x", "1")));
  ASSERT_FALSE(denied);
  EXPECT_TRUE(denied.error().is(adapter_errc::authentication));
}

TEST(PrintfulAgainstSimulator, SignedV2WebhooksFromTheSimulatorVerify) {
  SimHarness h("printful", sim::make_printful_sim, kPrintfulSecret, 100);
  auto a = h.adapter("printful", {{"api_token", "t"}, {"webhook_secret", kPrintfulSecret}}, {});
  auto made = h.run(a->create_order(order("ful_pf4", {printful_tee()})));
  ASSERT_TRUE(made);
  ASSERT_TRUE(SimHarness::eventually([&] {
    for (const auto& w : h.webhooks())
      if (w.body.find("shipment_sent") != std::string::npos) return true;
    return false;
  }));
  bool saw_shipment = false;
  for (const auto& w : h.webhooks()) {
    auto verified = h.run(a->verify_webhook(as_webhook(w)));
    ASSERT_TRUE(verified) << verified.error().message << "\n" << w.body;
    const auto& e = verified->events.at(0);
    EXPECT_EQ(e.fulfillment_id, "ful_pf4");
    if (e.type == "shipment_sent") {
      // A package says nothing about the rest of the order: merchgate reads the order.
      saw_shipment = true;
      EXPECT_EQ(e.action, "sync");
      EXPECT_FALSE(e.fulfillment);
    } else {
      ASSERT_TRUE(e.fulfillment);
    }
  }
  EXPECT_TRUE(saw_shipment);
}

TEST(PrintfulAgainstSimulator, ImportsTheSyncProducts) {
  SimHarness h("printful", sim::make_printful_sim);
  auto a = h.adapter("printful", {{"api_token", "t"}}, {});
  adapters::ImportRequest req;
  auto products = h.run(a->import_products(req));
  ASSERT_TRUE(products) << products.error().message;
  ASSERT_EQ(products->size(), 3u);
  EXPECT_EQ((*products)[0].sku, "sim-tee-black-m");
  EXPECT_EQ((*products)[0].unit_amount, 2500);
  EXPECT_EQ((*products)[0].fulfillment.at("sync_variant"), "3011");
}

TEST(PrintfulAgainstSimulator, ImportWaitsOutARateLimitInsteadOfFailing) {
  SimHarness h("printful", sim::make_printful_sim);
  auto a = h.adapter("printful", {{"api_token", "t"}}, {});
  h.answer_next(too_many_requests(
      R"({"code":429,"result":"Too Many Requests","error":{"reason":"TooManyRequests","message":"Too Many Requests"}})",
      "1"));
  adapters::ImportRequest req;
  auto products = h.run(a->import_products(req));
  ASSERT_TRUE(products) << products.error().message;
  EXPECT_EQ(products->size(), 3u);
  auto rec = h.recorded();
  ASSERT_GE(rec.size(), 2u);
  EXPECT_EQ(rec[0].target, rec[1].target) << "the limited call is made again";
  EXPECT_GE(rec[1].at_ms - rec[0].at_ms, 1000) << "after its Retry-After";
}

// ---- printify -------------------------------------------------------------------------------

adapters::OrderLine printify_mug() {
  return line("mug", 1, 1400,
              bj::object{{"product", "5bfd0b66a342bcc9b5563216"},
                         {"variant", 17887},
                         {"shipping", bj::object{{"EUR", 450}}}});
}

TEST(PrintifyAgainstSimulator, QuotesInTheShopCurrencyElseFromTheTable) {
  SimHarness h("printify", sim::make_printify_sim);
  auto a = h.adapter("printify", {{"api_token", "t"}}, {{"shop_id", "1234"}});
  auto usd = h.run(a->quote_shipping(quote({printify_mug()}, "USD")));
  ASSERT_TRUE(usd) << usd.error().message;
  EXPECT_EQ(usd->amount, 399);
  auto eur = h.run(a->quote_shipping(quote({printify_mug()}, "EUR")));
  ASSERT_TRUE(eur) << eur.error().message;
  EXPECT_EQ(eur->amount, 450);
  EXPECT_EQ(eur->method, "table");
  auto far = h.run(a->quote_shipping(quote({printify_mug()}, "USD", "AQ")));
  ASSERT_FALSE(far);
  auto creds = h.run(a->test_credentials());
  ASSERT_TRUE(creds) << creds.error().message;
}

TEST(PrintifyAgainstSimulator, SendsToProductionAndARetryFindsTheOrderInsteadOfASecond) {
  SimHarness h("printify", sim::make_printify_sim, {}, 60'000);
  auto a = h.adapter("printify", {{"api_token", "t"}}, {{"shop_id", "1234"}});
  auto first = h.run(a->create_order(order("ful_py1", {printify_mug()})));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->status, FulfillmentStatus::in_production);  // sending-to-production
  // Newer orders in the shop, so the retry has to page back to find it.
  for (int i = 0; i < 12; ++i) {
    auto other = h.run(a->create_order(order("ful_other" + std::to_string(i), {printify_mug()})));
    ASSERT_TRUE(other);
  }
  auto retry = h.run(a->create_order(order("ful_py1", {printify_mug()}, 3)));
  ASSERT_TRUE(retry) << retry.error().message;
  EXPECT_EQ(retry->reference, first->reference);
  EXPECT_EQ(h.orders_for("ful_py1"), 1u);
  auto cancel = h.run(a->cancel_order(ref("ful_py1", first->reference)));
  ASSERT_FALSE(cancel);
  EXPECT_TRUE(cancel.error().is(adapter_errc::invalid_state)) << cancel.error().message;
}

TEST(PrintifyAgainstSimulator, ARefusedOrderIsCanceledSoItCannotBeSentLater) {
  SimHarness h("printify", sim::make_printify_sim, {}, 60'000);
  auto a = h.adapter("printify", {{"api_token", "t"}}, {{"shop_id", "1234"}});
  sim::Knobs k;
  k.refuse_all = true;
  h.ctx().set_knobs(k);
  auto refused = h.run(a->create_order(order("ful_py9", {printify_mug()})));
  ASSERT_FALSE(refused);
  EXPECT_TRUE(refused.error().is(adapter_errc::refused)) << refused.error().message;
  EXPECT_NE(refused.error().message.find("out of stock"), std::string::npos)
      << refused.error().message;
  // The order Printify took on hold is canceled, not left for the shop's approval settings.
  boost::json::object now = h.state();
  ASSERT_EQ(now.at("orders").as_array().size(), 1u);
  EXPECT_EQ(now.at("orders").as_array()[0].at("stage"), "canceled");
  auto rec = h.recorded();
  EXPECT_EQ(count(rec, "POST", "/v1/shops/1234/orders.json"), 1u);
  EXPECT_EQ(count(rec, "POST", "/v1/shops/1234/orders/"), 2u);  // send_to_production, cancel
}

TEST(PrintifyAgainstSimulator, LineItemsTurnFulfilledAsTheirPackagesLeave) {
  SimHarness h("printify", sim::make_printify_sim, {}, 100);
  sim::Knobs k;
  k.split_shipments = true;
  h.ctx().set_knobs(k);
  auto a = h.adapter("printify", {{"api_token", "t"}}, {{"shop_id", "1234"}});
  auto tee = line("tee", 2, 2500, bj::object{{"sku", "MY-TEE"}});
  auto made = h.run(a->create_order(order("ful_py3", {printify_mug(), tee})));
  ASSERT_TRUE(made) << made.error().message;
  // Three units: the mug and one tee leave first; the tee line is fulfilled with the second.
  auto first = read_until(h, *a, ref("ful_py3", made->reference),
                          [](const auto& f) { return f.shipments.size() == 1; });
  EXPECT_EQ(first.status, FulfillmentStatus::in_production);  // partially-fulfilled
  ASSERT_TRUE(first.shipped);
  EXPECT_EQ(*first.shipped, (std::map<std::string, std::int64_t>{{"mug", 1}}));
  auto both = read_until(h, *a, ref("ful_py3", made->reference),
                         [](const auto& f) { return f.shipments.size() == 2; });
  EXPECT_EQ(both.status, FulfillmentStatus::shipped);
  ASSERT_TRUE(both.shipped);
  EXPECT_EQ(*both.shipped, (std::map<std::string, std::int64_t>{{"mug", 1}, {"tee", 2}}));
}

TEST(PrintifyAgainstSimulator, SignedWebhooksCarryTheShipment) {
  SimHarness h("printify", sim::make_printify_sim, "shh-printify", 100);
  auto a = h.adapter("printify", {{"api_token", "t"}, {"webhook_secret", "shh-printify"}},
                     {{"shop_id", "1234"}});
  auto made = h.run(a->create_order(order("ful_py2", {printify_mug()})));
  ASSERT_TRUE(made);
  ASSERT_TRUE(SimHarness::eventually([&] {
    for (const auto& w : h.webhooks())
      if (w.body.find("order:shipment:created") != std::string::npos) return true;
    return false;
  }));
  bool shipped = false;
  for (const auto& w : h.webhooks()) {
    auto verified = h.run(a->verify_webhook(as_webhook(w)));
    ASSERT_TRUE(verified) << verified.error().message;
    const auto& e = verified->events.at(0);
    EXPECT_EQ(e.order_reference, made->reference);
    if (e.type == "order:shipment:created") {
      shipped = true;
      EXPECT_EQ(e.action, "sync");  // the order, read back, says whether it all shipped
    }
  }
  EXPECT_TRUE(shipped);
}

TEST(PrintifyAgainstSimulator, ImportsTheShopsProducts) {
  SimHarness h("printify", sim::make_printify_sim);
  auto a = h.adapter("printify", {{"api_token", "t"}}, {{"shop_id", "1234"}});
  adapters::ImportRequest req;
  auto products = h.run(a->import_products(req));
  ASSERT_TRUE(products) << products.error().message;
  ASSERT_EQ(products->size(), 3u);
  EXPECT_EQ((*products)[2].sku, "printify-5bfd0b66a342bcc9b5563217-33001");
  EXPECT_EQ((*products)[2].currency, "USD");
}

// ---- gelato ---------------------------------------------------------------------------------

adapters::OrderLine gelato_poster() {
  return line("poster", 1, 1500,
              bj::object{{"product_uid", "flat_130x180-mm-5r_170-gsm-65lb-uncoated_4-0_ver"},
                         {"files", bj::array{bj::object{{"url", "https://cdn.example/p.pdf"}}}}});
}

TEST(GelatoAgainstSimulator, DraftThenOrderAndARetryFindsItBySearch) {
  SimHarness h("gelato", sim::make_gelato_sim, {}, 60'000);
  auto a = h.adapter("gelato", {{"api_key", "g-key"}}, {});
  auto q = h.run(a->quote_shipping(quote({gelato_poster()})));
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->amount, 399);
  auto far = h.run(a->quote_shipping(quote({gelato_poster()}, "EUR", "AQ")));
  ASSERT_FALSE(far);
  EXPECT_TRUE(far.error().is(adapter_errc::refused));
  auto first = h.run(a->create_order(order("ful_g1", {gelato_poster()})));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->status, FulfillmentStatus::submitted);
  auto rec = h.recorded();
  EXPECT_EQ(count(rec, "POST", "/v4/orders"), 3u);  // quote x2 + create
  EXPECT_EQ(count(rec, "PATCH", "/v4/orders/" + first->reference), 1u);
  auto retry = h.run(a->create_order(order("ful_g1", {gelato_poster()}, 2)));
  ASSERT_TRUE(retry) << retry.error().message;
  EXPECT_EQ(retry->reference, first->reference);
  EXPECT_EQ(h.orders_for("ful_g1"), 1u);
  auto canceled = h.run(a->cancel_order(ref("ful_g1", first->reference)));
  ASSERT_TRUE(canceled) << canceled.error().message;
  EXPECT_EQ(canceled->status, FulfillmentStatus::canceled);
}

TEST(GelatoAgainstSimulator, PrintedOrdersCannotBeCanceledAndWebhooksAreHints) {
  SimHarness h("gelato", sim::make_gelato_sim, {}, 100);
  auto a = h.adapter("gelato", {{"api_key", "g-key"}}, {});
  auto made = h.run(a->create_order(order("ful_g2", {gelato_poster()})));
  ASSERT_TRUE(made) << made.error().message;
  ASSERT_TRUE(SimHarness::eventually([&] {
    auto got = h.run(a->get_order(ref("ful_g2", made->reference)));
    return got && got->status == FulfillmentStatus::delivered && got->shipments.size() == 1;
  }));
  auto cancel = h.run(a->cancel_order(ref("ful_g2", made->reference)));
  ASSERT_FALSE(cancel);
  EXPECT_TRUE(cancel.error().is(adapter_errc::invalid_state));
  ASSERT_TRUE(SimHarness::eventually([&] { return !h.webhooks().empty(); }));
  for (const auto& w : h.webhooks()) {
    auto verified = h.run(a->verify_webhook(as_webhook(w)));
    ASSERT_TRUE(verified) << verified.error().message;
    EXPECT_EQ(verified->events.at(0).action, "sync");
    EXPECT_EQ(verified->events.at(0).fulfillment_id, "ful_g2");
  }
}

TEST(GelatoAgainstSimulator, ASplitOrderNamesWhatEachPackageHeldAndShipsWithTheLast) {
  SimHarness h("gelato", sim::make_gelato_sim, {}, 100);
  sim::Knobs k;
  k.split_shipments = true;
  h.ctx().set_knobs(k);
  auto a = h.adapter("gelato", {{"api_key", "g-key"}}, {});
  auto card = line("card", 1, 900, bj::object{{"product_uid", "cards_a5"}});
  auto made = h.run(a->create_order(order("ful_g3", {gelato_poster(), card})));
  ASSERT_TRUE(made) << made.error().message;
  auto first = read_until(h, *a, ref("ful_g3", made->reference),
                          [](const auto& f) { return f.shipments.size() == 1; });
  EXPECT_EQ(first.status, FulfillmentStatus::in_production);  // printed until the last item
  ASSERT_TRUE(first.shipped);
  EXPECT_EQ(*first.shipped, (std::map<std::string, std::int64_t>{{"poster", 1}}));
  auto both = read_until(h, *a, ref("ful_g3", made->reference),
                         [](const auto& f) { return f.shipments.size() == 2; });
  EXPECT_EQ(both.status, FulfillmentStatus::shipped);
  EXPECT_NE(both.shipments[0].tracking_number, both.shipments[1].tracking_number);
  ASSERT_TRUE(both.shipped);
  EXPECT_EQ(*both.shipped, (std::map<std::string, std::int64_t>{{"card", 1}, {"poster", 1}}));
  // Its webhooks carry each item's own tracking: the card's is only its own package.
  bj::array card_tracking;
  ASSERT_TRUE(SimHarness::eventually([&] {
    for (const auto& w : h.webhooks()) {
      bj::value event = bj::parse(w.body);
      const auto& items = event.at("items").as_array();
      if (items.size() == 2 && !items[1].at("fulfillments").as_array().empty()) {
        card_tracking = items[1].at("fulfillments").as_array();
        EXPECT_EQ(items[1].at("itemReferenceId"), "card");
        return true;
      }
    }
    return false;
  }));
  ASSERT_EQ(card_tracking.size(), 1u);
  EXPECT_EQ(card_tracking[0].at("trackingCode").as_string(), both.shipments[1].tracking_number);
}

// ---- the Merch Partner Protocol, and Spring over it -------------------------------------------

TEST(ProtocolAgainstSimulator, CreateIsIdempotentByExternalIdAndWebhooksVerify) {
  SimHarness h("partner-protocol", sim::make_partner_protocol_sim, kProtocolSecret, 100);
  auto a = h.adapter("partner_protocol", {{"api_key", "k"}, {"webhook_secret", kProtocolSecret}},
                     {{"store", "hype"}});
  auto tee = line("tee", 1, 2500, bj::object{{"product", "tee"}, {"variant", "m"}});
  auto q = h.run(a->quote_shipping(quote({tee})));
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->amount, 399);
  auto first = h.run(a->create_order(order("ful_p1", {tee})));
  ASSERT_TRUE(first) << first.error().message;
  auto again = h.run(a->create_order(order("ful_p1", {tee}, 2)));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->reference, first->reference);
  EXPECT_EQ(h.orders_for("ful_p1"), 1u);
  auto by_external = h.run(a->get_order(ref("ful_p1", "")));
  ASSERT_TRUE(by_external) << by_external.error().message;
  EXPECT_EQ(by_external->reference, first->reference);
  ASSERT_TRUE(SimHarness::eventually([&] {
    for (const auto& w : h.webhooks())
      if (w.body.find("order.delivered") != std::string::npos) return true;
    return false;
  }));
  for (const auto& w : h.webhooks()) {
    auto verified = h.run(a->verify_webhook(as_webhook(w)));
    ASSERT_TRUE(verified) << verified.error().message;
    ASSERT_TRUE(verified->events.at(0).fulfillment);
    EXPECT_EQ(verified->events.at(0).fulfillment_id, "ful_p1");
  }
  auto late_cancel = h.run(a->cancel_order(ref("ful_p1", first->reference)));
  ASSERT_FALSE(late_cancel);
  EXPECT_TRUE(late_cancel.error().is(adapter_errc::invalid_state));
}

TEST(ProtocolAgainstSimulator, SpringSpeaksItWithListingsAndAStoreSlug) {
  SimHarness h("partner-protocol", sim::make_partner_protocol_sim, kProtocolSecret, 60'000);
  auto a = h.adapter("spring", {{"api_key", "k"}, {"webhook_secret", kProtocolSecret}},
                     {{"store", "my-creator-store"}});
  auto hoodie = line("hoodie", 1, 4500, bj::object{{"listing", "lst_9"}, {"variant", "l"}});
  auto made = h.run(a->create_order(order("ful_s1", {hoodie})));
  ASSERT_TRUE(made) << made.error().message;
  auto rec = h.recorded();
  EXPECT_EQ(count(rec, "POST", "/v1/stores/my-creator-store/orders"), 1u);
  EXPECT_NE(rec.back().body.find(R"("product_id":"lst_9")"), std::string::npos);
  auto canceled = h.run(a->cancel_order(ref("ful_s1", made->reference)));
  ASSERT_TRUE(canceled) << canceled.error().message;
  EXPECT_EQ(canceled->status, FulfillmentStatus::canceled);
  sim::Knobs k;
  k.refuse_all = true;
  h.ctx().set_knobs(k);
  auto refused = h.run(a->create_order(order("ful_s2", {hoodie})));
  ASSERT_FALSE(refused);
  EXPECT_TRUE(refused.error().is(adapter_errc::refused));
  adapters::ImportRequest req;
  auto products = h.run(a->import_products(req));
  ASSERT_TRUE(products) << products.error().message;
  ASSERT_EQ(products->size(), 3u);  // two pages
  EXPECT_EQ((*products)[0].fulfillment.at("listing"), "tee");
}

TEST(ProtocolAgainstSimulator, SpringNeedsABaseUrl) {
  adapters::Registry registry;
  adapters::register_builtin_adapters(registry);
  core::SystemClock clock;
  boost::asio::io_context io;
  http::HttpClient client(io, {});
  adapters::AdapterServices services;
  services.http = &client;
  services.clock = &clock;
  adapters::AdapterConfig c;
  c.id = "spring-main";
  c.type = "spring";
  c.credentials = {{"api_key", "k"}, {"webhook_secret", kProtocolSecret}};
  c.settings = {{"store", "s"}};
  auto made = registry.create(c, services);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().param, "base_url");
  c.settings = {};
  c.base_url = "https://spring.example/mpp";
  auto no_store = registry.create(c, services);
  ASSERT_FALSE(no_store);
  EXPECT_EQ(no_store.error().param, "settings.store");
}

}  // namespace
}  // namespace mg::testing
