#include "gateway/core/model_json.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace mg::core {
namespace {

namespace bj = boost::json;

constexpr Timestamp kT = 1'700'000'000'123;

// Every field set, every optional present, several of each repeated thing.
Checkout full_checkout() {
  Checkout c;
  c.id = "chk_full";
  c.seller = "sel_hype";
  c.status = CheckoutStatus::partially_refunded;
  c.currency = "EUR";
  Line tee;
  tee.sku = "hype-tee-black-m";
  tee.title = "Hype tee, black, M";
  tee.quantity = 2;
  tee.unit_amount = 2500;
  tee.amount = 5000;
  tee.fulfillment_adapter = "printful-main";
  tee.fulfillment_spec = {{"adapter", "printful-main"},
                          {"product", "71"},
                          {"variant", "4012"},
                          {"files", bj::array{bj::object{{"url", "https://x/front.png"}}}}};
  Line ebook;
  ebook.sku = "ebook";
  ebook.title = "E-book";
  ebook.quantity = 1;
  ebook.unit_amount = 999;
  ebook.amount = 999;
  c.lines = {tee, ebook};
  c.amount_subtotal = 5999;
  c.amount_shipping = 499;
  c.amount_total = 6498;
  c.platform_fee = 300;
  c.payment.processor = "stripe-main";
  c.payment.reference = "pi_123";
  c.payment.method = "pm_card_visa";
  c.payment.return_url = "https://app.example/done";
  c.payment.status = PaymentStatus::succeeded;
  c.payment.client_action = ClientAction{"client_secret", "pi_123_secret_abc"};
  c.payment.failure_code = "card_declined";
  c.payment.failure_message = "first try was declined";
  c.payment.candidates = {"adyen-eu", "stripe-main"};
  c.payment.attempts = {{"adyen-eu", "unavailable", "connect: refused", kT},
                        {"stripe-main", "created", "", kT + 1}};
  c.payment.partner_data = {{"capture_id", "CAP-1"}, {"order_id", "O-9"}};
  c.refunds.push_back(
      {"rfd_1", 1000, "damaged", RefundStatus::succeeded, "re_1", "", false, "", kT + 2, kT + 3});
  c.refunds.push_back({"rfd_2", 499, "fulfillment_failed", RefundStatus::failed, "re_2",
                       "insufficient funds", true, "ful_1", kT + 4, kT + 5});
  Fulfillment f;
  f.id = "ful_1";
  f.adapter = "printful-main";
  f.reference = "PF-77";
  f.status = FulfillmentStatus::shipped;
  f.lines = {{"hype-tee-black-m", 2}};
  f.amount = 5000;
  f.amount_shipping = 499;
  f.shipments = {{"DHL", "JD0001", "https://dhl.example/JD0001", kT + 6},
                 {"UPS", "1Z999", "", kT + 7}};
  f.failure_code = "delayed";
  f.failure_message = "late print";
  f.created_at = kT;
  f.updated_at = kT + 7;
  c.fulfillments = {f};
  c.disputes = {{"dp_1", 6498, "fraudulent", "needs_response", kT + 8, kT + 9},
                {"dp_2", 100, "", "won", kT + 10, kT + 11}};
  c.buyer.id = "u_123";
  c.buyer.email = "a@example.com";
  c.buyer.shipping_address = Address{"Ada L", "1 Main St", "Apt 4", "Milan", "MI", "20121", "IT"};
  c.metadata = {{"video_id", "v_987"}, {"note", "gift \"wrap\" \u00e9"}};
  c.api_key_id = "key_abc";
  c.created_at = kT;
  c.updated_at = kT + 12;
  c.canceled_at = kT + 13;
  return c;
}

void expect_same(const Checkout& a, const Checkout& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.seller, b.seller);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.currency, b.currency);
  ASSERT_EQ(a.lines.size(), b.lines.size());
  for (std::size_t i = 0; i < a.lines.size(); ++i) {
    SCOPED_TRACE("line " + std::to_string(i));
    EXPECT_EQ(a.lines[i].sku, b.lines[i].sku);
    EXPECT_EQ(a.lines[i].title, b.lines[i].title);
    EXPECT_EQ(a.lines[i].quantity, b.lines[i].quantity);
    EXPECT_EQ(a.lines[i].unit_amount, b.lines[i].unit_amount);
    EXPECT_EQ(a.lines[i].amount, b.lines[i].amount);
    EXPECT_EQ(a.lines[i].fulfillment_adapter, b.lines[i].fulfillment_adapter);
    EXPECT_EQ(a.lines[i].fulfillment_spec, b.lines[i].fulfillment_spec);
  }
  EXPECT_EQ(a.amount_subtotal, b.amount_subtotal);
  EXPECT_EQ(a.amount_shipping, b.amount_shipping);
  EXPECT_EQ(a.amount_total, b.amount_total);
  EXPECT_EQ(a.platform_fee, b.platform_fee);

  const Payment& p = a.payment;
  const Payment& q = b.payment;
  EXPECT_EQ(p.processor, q.processor);
  EXPECT_EQ(p.reference, q.reference);
  EXPECT_EQ(p.method, q.method);
  EXPECT_EQ(p.return_url, q.return_url);
  EXPECT_EQ(p.status, q.status);
  ASSERT_EQ(p.client_action.has_value(), q.client_action.has_value());
  if (p.client_action) {
    EXPECT_EQ(p.client_action->type, q.client_action->type);
    EXPECT_EQ(p.client_action->value, q.client_action->value);
  }
  EXPECT_EQ(p.failure_code, q.failure_code);
  EXPECT_EQ(p.failure_message, q.failure_message);
  EXPECT_EQ(p.candidates, q.candidates);
  ASSERT_EQ(p.attempts.size(), q.attempts.size());
  for (std::size_t i = 0; i < p.attempts.size(); ++i) {
    EXPECT_EQ(p.attempts[i].processor, q.attempts[i].processor);
    EXPECT_EQ(p.attempts[i].outcome, q.attempts[i].outcome);
    EXPECT_EQ(p.attempts[i].error, q.attempts[i].error);
    EXPECT_EQ(p.attempts[i].at, q.attempts[i].at);
  }
  EXPECT_EQ(p.partner_data, q.partner_data);

  ASSERT_EQ(a.refunds.size(), b.refunds.size());
  for (std::size_t i = 0; i < a.refunds.size(); ++i) {
    SCOPED_TRACE("refund " + std::to_string(i));
    const Refund& r = a.refunds[i];
    const Refund& s = b.refunds[i];
    EXPECT_EQ(r.id, s.id);
    EXPECT_EQ(r.amount, s.amount);
    EXPECT_EQ(r.reason, s.reason);
    EXPECT_EQ(r.status, s.status);
    EXPECT_EQ(r.reference, s.reference);
    EXPECT_EQ(r.failure_message, s.failure_message);
    EXPECT_EQ(r.automatic, s.automatic);
    EXPECT_EQ(r.fulfillment_id, s.fulfillment_id);
    EXPECT_EQ(r.created_at, s.created_at);
    EXPECT_EQ(r.updated_at, s.updated_at);
  }
  ASSERT_EQ(a.fulfillments.size(), b.fulfillments.size());
  for (std::size_t i = 0; i < a.fulfillments.size(); ++i) {
    SCOPED_TRACE("fulfillment " + std::to_string(i));
    const Fulfillment& f = a.fulfillments[i];
    const Fulfillment& g = b.fulfillments[i];
    EXPECT_EQ(f.id, g.id);
    EXPECT_EQ(f.adapter, g.adapter);
    EXPECT_EQ(f.reference, g.reference);
    EXPECT_EQ(f.status, g.status);
    ASSERT_EQ(f.lines.size(), g.lines.size());
    for (std::size_t k = 0; k < f.lines.size(); ++k) {
      EXPECT_EQ(f.lines[k].sku, g.lines[k].sku);
      EXPECT_EQ(f.lines[k].quantity, g.lines[k].quantity);
    }
    EXPECT_EQ(f.amount, g.amount);
    EXPECT_EQ(f.amount_shipping, g.amount_shipping);
    ASSERT_EQ(f.shipments.size(), g.shipments.size());
    for (std::size_t k = 0; k < f.shipments.size(); ++k) {
      EXPECT_EQ(f.shipments[k].carrier, g.shipments[k].carrier);
      EXPECT_EQ(f.shipments[k].tracking_number, g.shipments[k].tracking_number);
      EXPECT_EQ(f.shipments[k].tracking_url, g.shipments[k].tracking_url);
      EXPECT_EQ(f.shipments[k].shipped_at, g.shipments[k].shipped_at);
    }
    EXPECT_EQ(f.failure_code, g.failure_code);
    EXPECT_EQ(f.failure_message, g.failure_message);
    EXPECT_EQ(f.created_at, g.created_at);
    EXPECT_EQ(f.updated_at, g.updated_at);
  }
  ASSERT_EQ(a.disputes.size(), b.disputes.size());
  for (std::size_t i = 0; i < a.disputes.size(); ++i) {
    SCOPED_TRACE("dispute " + std::to_string(i));
    EXPECT_EQ(a.disputes[i].reference, b.disputes[i].reference);
    EXPECT_EQ(a.disputes[i].amount, b.disputes[i].amount);
    EXPECT_EQ(a.disputes[i].reason, b.disputes[i].reason);
    EXPECT_EQ(a.disputes[i].status, b.disputes[i].status);
    EXPECT_EQ(a.disputes[i].created_at, b.disputes[i].created_at);
    EXPECT_EQ(a.disputes[i].updated_at, b.disputes[i].updated_at);
  }
  EXPECT_EQ(a.buyer.id, b.buyer.id);
  EXPECT_EQ(a.buyer.email, b.buyer.email);
  ASSERT_EQ(a.buyer.shipping_address.has_value(), b.buyer.shipping_address.has_value());
  if (a.buyer.shipping_address) {
    const Address& x = *a.buyer.shipping_address;
    const Address& y = *b.buyer.shipping_address;
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.line1, y.line1);
    EXPECT_EQ(x.line2, y.line2);
    EXPECT_EQ(x.city, y.city);
    EXPECT_EQ(x.state, y.state);
    EXPECT_EQ(x.postal_code, y.postal_code);
    EXPECT_EQ(x.country, y.country);
  }
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.api_key_id, b.api_key_id);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
  EXPECT_EQ(a.canceled_at, b.canceled_at);
}

// Through the bytes the store keeps, not just the in-memory object.
Result<Checkout> round_trip(const Checkout& c) {
  std::string text = bj::serialize(to_json(c, Form::storage));
  return checkout_from_storage(bj::parse(text).as_object());
}

TEST(CheckoutStorage, FullCheckoutRoundTripsLosslessly) {
  Checkout c = full_checkout();
  auto back = round_trip(c);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  expect_same(c, *back);
  EXPECT_EQ(to_json(*back, Form::storage), to_json(c, Form::storage));
}

TEST(CheckoutStorage, MinimalCheckoutRoundTripsLosslessly) {
  Checkout c;
  c.id = "chk_min";
  auto back = round_trip(c);
  ASSERT_TRUE(back.has_value());
  expect_same(c, *back);
}

TEST(CheckoutStorage, RedirectActionAndAbsentOptionalsRoundTrip) {
  Checkout c = full_checkout();
  c.payment.client_action = ClientAction{"redirect", "https://pay.example/r/1"};
  c.buyer.shipping_address->line2.reset();
  c.buyer.shipping_address->state.reset();
  c.refunds[0].reason.clear();
  c.canceled_at = 0;
  auto back = round_trip(c);
  ASSERT_TRUE(back.has_value());
  expect_same(c, *back);
}

TEST(CheckoutStorage, EmptyStringOptionalsStayDistinctFromAbsent) {
  Checkout c = full_checkout();
  c.buyer.shipping_address->line2 = "";
  auto back = round_trip(c);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->buyer.shipping_address->line2, std::optional<std::string>(""));
}

TEST(CheckoutStorage, EveryStatusRoundTrips) {
  for (auto s :
       {CheckoutStatus::requires_payment, CheckoutStatus::payment_failed, CheckoutStatus::paid,
        CheckoutStatus::fulfilling, CheckoutStatus::fulfilled, CheckoutStatus::partially_refunded,
        CheckoutStatus::refunded, CheckoutStatus::canceled}) {
    Checkout c = full_checkout();
    c.status = s;
    auto back = round_trip(c);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->status, s) << to_string(s);
  }
}

TEST(CheckoutStorage, RefusesDocumentsWithoutIdOrWithABadStatus) {
  bj::object o = to_json(full_checkout(), Form::storage);
  o["status"] = "exploded";
  auto bad = checkout_from_storage(o);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, errc::internal);
  o.erase("id");
  EXPECT_FALSE(checkout_from_storage(o).has_value());
}

TEST(CheckoutApiForm, HidesInternalFieldsAndUsesRfc3339Times) {
  bj::object o = to_json(full_checkout(), Form::api);
  EXPECT_EQ(o.at("object").as_string(), "checkout");
  EXPECT_EQ(o.at("status").as_string(), "partially_refunded");
  EXPECT_FALSE(o.contains("api_key_id"));
  const auto& line = o.at("lines").as_array()[0].as_object();
  EXPECT_FALSE(line.contains("fulfillment_spec"));
  EXPECT_EQ(line.at("fulfillment_adapter").as_string(), "printful-main");
  EXPECT_EQ(line.at("unit_amount").as_int64(), 2500);
  EXPECT_TRUE(o.at("lines").as_array()[1].at("fulfillment_adapter").is_null());
  const auto& p = o.at("payment").as_object();
  EXPECT_FALSE(p.contains("candidates"));
  EXPECT_FALSE(p.contains("partner_data"));
  EXPECT_EQ(p.at("processor").as_string(), "stripe-main");
  EXPECT_EQ(p.at("reference").as_string(), "pi_123");
  EXPECT_EQ(o.at("created_at").as_string(), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(o.at("amount_refunded").as_int64(), 1000);
  EXPECT_EQ(o.at("amount_total").as_int64(), 6498);
  EXPECT_EQ(o.at("platform_fee").as_int64(), 300);
  const auto& f = o.at("fulfillments").as_array()[0].as_object();
  EXPECT_EQ(f.at("reference").as_string(), "PF-77");
  EXPECT_EQ(f.at("shipments").as_array()[0].at("shipped_at").as_string(),
            "2023-11-14T22:13:20.129Z");
  EXPECT_TRUE(f.at("shipments").as_array()[1].at("tracking_url").is_null());
  EXPECT_EQ(o.at("refunds").as_array()[1].at("fulfillment").as_string(), "ful_1");
  EXPECT_EQ(o.at("disputes").as_array()[0].at("created_at").as_string(),
            "2023-11-14T22:13:20.131Z");
}

TEST(CheckoutApiForm, ClientActionHasTheContractShape) {
  Checkout c = full_checkout();
  bj::object o = to_json(c, Form::api);
  EXPECT_EQ(o.at("payment").at("client_action"),
            (bj::value{{"type", "client_secret"}, {"client_secret", "pi_123_secret_abc"}}));
  c.payment.client_action = ClientAction{"redirect", "https://pay.example/r/1"};
  o = to_json(c, Form::api);
  EXPECT_EQ(o.at("payment").at("client_action"),
            (bj::value{{"type", "redirect"}, {"url", "https://pay.example/r/1"}}));
  c.payment.client_action.reset();
  o = to_json(c, Form::api);
  EXPECT_TRUE(o.at("payment").at("client_action").is_null());
}

TEST(CheckoutApiForm, UnsetTimesAndEmptyStringsAreNull) {
  Checkout c;
  c.id = "chk_x";
  bj::object o = to_json(c, Form::api);
  EXPECT_TRUE(o.at("canceled_at").is_null());
  EXPECT_TRUE(o.at("created_at").is_null());
  EXPECT_TRUE(o.at("buyer").at("email").is_null());
  EXPECT_TRUE(o.at("buyer").at("shipping_address").is_null());
  EXPECT_TRUE(o.at("payment").at("processor").is_null());
}

TEST(EventBody, IsTheEnvelopeAroundTheObject) {
  Event e;
  e.id = "evt_1";
  e.type = "checkout.paid";
  e.checkout_id = "chk_1";
  e.created_at = kT;
  e.object = {{"id", "chk_1"}, {"status", "paid"}};
  bj::value v = bj::parse(event_body(e));
  EXPECT_EQ(v.at("id").as_string(), "evt_1");
  EXPECT_EQ(v.at("object").as_string(), "event");
  EXPECT_EQ(v.at("type").as_string(), "checkout.paid");
  EXPECT_EQ(v.at("created_at").as_string(), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(v.at("checkout").as_string(), "chk_1");
  EXPECT_EQ(v.at("data").at("object").at("status").as_string(), "paid");
}

// The body is assembled as text around the snapshot: byte for byte what serializing the whole
// envelope gives, including escapes and a checkout-less event's null.
TEST(EventBody, IsByteForByteTheSerializedEnvelope) {
  Event e;
  e.id = "evt_\"quoted\"";
  e.type = "refund.updated";
  e.created_at = kT;
  e.object = {{"id", "re_1"}, {"note", "caf\u00e9 \\ \n"}, {"lines", bj::array{1, 2}}};
  bj::object envelope{{"id", e.id},
                      {"object", "event"},
                      {"type", e.type},
                      {"created_at", "2023-11-14T22:13:20.123Z"},
                      {"checkout", nullptr},
                      {"data", bj::object{{"object", e.object}}}};
  EXPECT_EQ(event_body(e), bj::serialize(envelope));
}

TEST(SellerStorage, RoundTrips) {
  Seller s{"sel_hype", "Hype", 500, {{"stripe-main", "acct_1Hype"}}, kT, kT + 1};
  auto back = seller_from_storage(bj::parse(bj::serialize(to_json(s, Form::storage))).as_object());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->id, s.id);
  EXPECT_EQ(back->name, s.name);
  EXPECT_EQ(back->platform_fee_bps, 500);
  EXPECT_EQ(back->payouts, s.payouts);
  EXPECT_EQ(back->created_at, kT);
  EXPECT_EQ(back->updated_at, kT + 1);
  EXPECT_FALSE(seller_from_storage(bj::object{}).has_value());
}

TEST(ProductStorage, RoundTrips) {
  Product p;
  p.sku = "hype-tee-black-m";
  p.seller = "sel_hype";
  p.title = "Hype tee";
  p.description = "Soft";
  p.unit_amount = 2500;
  p.currency = "EUR";
  p.images = {"https://x/1.png", "https://x/2.png"};
  p.group = "hype-tee";
  p.options = {{"color", "black"}, {"size", "M"}};
  p.active = false;
  p.in_stock = false;
  p.fulfillment = bj::object{{"adapter", "printful-main"}, {"variant", "4012"}};
  p.created_at = kT;
  p.updated_at = kT + 1;
  auto back = product_from_storage(bj::parse(bj::serialize(to_json(p, Form::storage))).as_object());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->sku, p.sku);
  EXPECT_EQ(back->seller, p.seller);
  EXPECT_EQ(back->title, p.title);
  EXPECT_EQ(back->description, p.description);
  EXPECT_EQ(back->unit_amount, p.unit_amount);
  EXPECT_EQ(back->currency, p.currency);
  EXPECT_EQ(back->images, p.images);
  EXPECT_EQ(back->group, p.group);
  EXPECT_EQ(back->options, p.options);
  EXPECT_FALSE(back->active);
  EXPECT_FALSE(back->in_stock);
  ASSERT_TRUE(back->fulfillment.has_value());
  EXPECT_EQ(*back->fulfillment, *p.fulfillment);
  EXPECT_EQ(back->fulfillment_adapter(), "printful-main");
  EXPECT_EQ(back->created_at, kT);
  EXPECT_EQ(back->updated_at, kT + 1);
}

TEST(ProductStorage, DigitalProductHasNoFulfillment) {
  Product p;
  p.sku = "ebook";
  auto back = product_from_storage(to_json(p, Form::storage));
  ASSERT_TRUE(back.has_value());
  EXPECT_FALSE(back->fulfillment.has_value());
  EXPECT_EQ(back->fulfillment_adapter(), "");
  EXPECT_TRUE(back->active);
  EXPECT_FALSE(product_from_storage(bj::object{}).has_value());
}

TEST(StatusNames, RoundTripThroughStrings) {
  for (auto s : {PaymentStatus::pending, PaymentStatus::requires_action, PaymentStatus::processing,
                 PaymentStatus::failed, PaymentStatus::succeeded, PaymentStatus::canceled}) {
    EXPECT_EQ(payment_status_from(to_string(s)), s);
  }
  for (auto s :
       {FulfillmentStatus::pending, FulfillmentStatus::submitted, FulfillmentStatus::in_production,
        FulfillmentStatus::shipped, FulfillmentStatus::delivered, FulfillmentStatus::canceled,
        FulfillmentStatus::failed}) {
    EXPECT_EQ(fulfillment_status_from(to_string(s)), s);
  }
  for (auto s : {RefundStatus::pending, RefundStatus::succeeded, RefundStatus::failed}) {
    EXPECT_EQ(refund_status_from(to_string(s)), s);
  }
  EXPECT_FALSE(checkout_status_from("PAID").has_value());
  EXPECT_FALSE(payment_status_from("").has_value());
}

}  // namespace
}  // namespace mg::core
