#include "gateway/core/cart.hpp"

#include "gateway/core/money.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <map>
#include <string>

namespace mg::core {
namespace {

namespace bj = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr Timestamp kNow = 1'700'000'000'000;

bj::object parse(std::string_view text) { return bj::parse(text).as_object(); }

// The CONTRACT §3 example body.
bj::object contract_body() {
  return parse(R"({
    "seller": "sel_hype",
    "buyer": {"id": "u_123", "email": "a@example.com",
              "shipping_address": {"name": "Ada L", "line1": "1 Main St", "line2": null,
                                   "city": "Milan", "state": null, "postal_code": "20121",
                                   "country": "IT"}},
    "currency": "EUR",
    "lines": [{"sku": "hype-tee-black-m", "quantity": 2}],
    "payment": {"processor": null, "method": null},
    "metadata": {"video_id": "v_987"}
  })");
}

bj::object& address_of(bj::object& body) {
  return body["buyer"].as_object()["shipping_address"].as_object();
}

Error parse_error(const bj::object& body) {
  auto r = parse_checkout_request(body);
  EXPECT_FALSE(r.has_value());
  return r ? Error{} : r.error();
}

// ---- parse_checkout_request ---------------------------------------------------------------

TEST(ParseCheckoutRequest, ReadsTheContractExample) {
  auto r = parse_checkout_request(contract_body());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->seller, "sel_hype");
  EXPECT_EQ(r->currency, "EUR");
  EXPECT_EQ(r->buyer.id, "u_123");
  EXPECT_EQ(r->buyer.email, "a@example.com");
  ASSERT_TRUE(r->buyer.shipping_address.has_value());
  const Address& a = *r->buyer.shipping_address;
  EXPECT_EQ(a.name, "Ada L");
  EXPECT_EQ(a.line1, "1 Main St");
  EXPECT_FALSE(a.line2.has_value());
  EXPECT_EQ(a.city, "Milan");
  EXPECT_FALSE(a.state.has_value());
  EXPECT_EQ(a.postal_code, "20121");
  EXPECT_EQ(a.country, "IT");
  ASSERT_EQ(r->lines.size(), 1u);
  EXPECT_EQ(r->lines[0].sku, "hype-tee-black-m");
  EXPECT_EQ(r->lines[0].quantity, 2);
  EXPECT_EQ(r->processor, "");
  EXPECT_EQ(r->method, "");
  EXPECT_EQ(r->metadata, (bj::object{{"video_id", "v_987"}}));
}

TEST(ParseCheckoutRequest, ReadsPaymentChoices) {
  auto body = contract_body();
  body["payment"] = bj::object{{"processor", "stripe-main"},
                               {"method", "pm_card_visa"},
                               {"return_url", "https://app.example/done"}};
  auto r = parse_checkout_request(body);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->processor, "stripe-main");
  EXPECT_EQ(r->method, "pm_card_visa");
  EXPECT_EQ(r->return_url, "https://app.example/done");
}

TEST(ParseCheckoutRequest, OptionalBlocksMayBeLeftOut) {
  auto body = parse(R"({"seller": "s", "buyer": {"id": "u"}, "currency": "JPY",
                        "lines": [{"sku": "ebook", "quantity": 1}]})");
  auto r = parse_checkout_request(body);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(r->buyer.shipping_address.has_value());
  EXPECT_EQ(r->buyer.email, "");
  EXPECT_TRUE(r->metadata.empty());
}

TEST(ParseCheckoutRequest, UnknownFieldsAreRefusedWithTheirPath) {
  struct Case {
    std::string_view name;
    void (*mutate)(bj::object&);
    std::string_view param;
  };
  const Case cases[] = {
      {"top", [](bj::object& b) { b["amount_total"] = 1; }, "amount_total"},
      {"buyer", [](bj::object& b) { b["buyer"].as_object()["nick"] = "x"; }, "buyer.nick"},
      {"address", [](bj::object& b) { address_of(b)["zip"] = "1"; }, "buyer.shipping_address.zip"},
      {"line price", [](bj::object& b) { b["lines"].as_array()[0].as_object()["unit_amount"] = 1; },
       "lines[0].unit_amount"},
      {"payment", [](bj::object& b) { b["payment"].as_object()["amount"] = 1; }, "payment.amount"},
  };
  for (const auto& c : cases) {
    auto body = contract_body();
    c.mutate(body);
    Error e = parse_error(body);
    EXPECT_EQ(e.code, errc::unknown_field) << c.name;
    EXPECT_EQ(e.param, c.param) << c.name;
    EXPECT_EQ(e.status(), 400) << c.name;
  }
}

TEST(ParseCheckoutRequest, MissingRequiredFieldsNameTheField) {
  for (std::string_view key : {"seller", "buyer", "lines"}) {
    auto body = contract_body();
    body.erase(key);
    Error e = parse_error(body);
    EXPECT_EQ(e.code, errc::missing_field) << key;
    EXPECT_EQ(e.param, key);
  }
  auto body = contract_body();
  body["buyer"].as_object().erase("id");
  EXPECT_EQ(parse_error(body).param, "buyer.id");
  body = contract_body();
  address_of(body).erase("line1");
  Error e = parse_error(body);
  EXPECT_EQ(e.code, errc::missing_field);
  EXPECT_EQ(e.param, "buyer.shipping_address.line1");
}

TEST(ParseCheckoutRequest, WrongTypesAreInvalidFields) {
  auto body = contract_body();
  body["seller"] = 5;
  Error e = parse_error(body);
  EXPECT_EQ(e.code, errc::invalid_field);
  EXPECT_EQ(e.param, "seller");

  body = contract_body();
  body["buyer"] = "u_123";
  EXPECT_EQ(parse_error(body).param, "buyer");

  body = contract_body();
  body["lines"] = bj::object{};
  EXPECT_EQ(parse_error(body).param, "lines");

  body = contract_body();
  body["lines"].as_array()[0] = "hype-tee-black-m";
  e = parse_error(body);
  EXPECT_EQ(e.code, errc::invalid_field);
  EXPECT_EQ(e.param, "lines[0]");

  body = contract_body();
  body["metadata"] = bj::array{};
  EXPECT_EQ(parse_error(body).param, "metadata");
}

TEST(ParseCheckoutRequest, CurrencyMustBeAnUpperCaseIsoCode) {
  for (bj::value bad : {bj::value("eur"), bj::value("EURO"), bj::value("ABC"), bj::value(978)}) {
    auto body = contract_body();
    body["currency"] = bad;
    Error e = parse_error(body);
    EXPECT_EQ(e.code, errc::unknown_currency) << bad;
    EXPECT_EQ(e.param, "currency");
    EXPECT_EQ(e.status(), 400);
  }
  for (std::string_view good : {"JPY", "KWD", "USD"}) {
    auto body = contract_body();
    body["currency"] = good;
    EXPECT_TRUE(parse_checkout_request(body).has_value()) << good;
  }
}

TEST(ParseCheckoutRequest, QuantityIsOneToTenThousand) {
  for (std::int64_t ok : {std::int64_t{1}, kMaxLineQuantity}) {
    auto body = contract_body();
    body["lines"].as_array()[0].as_object()["quantity"] = ok;
    auto r = parse_checkout_request(body);
    ASSERT_TRUE(r.has_value()) << ok;
    EXPECT_EQ(r->lines[0].quantity, ok);
  }
  for (bj::value bad : {bj::value(0), bj::value(-1), bj::value(10'001),
                        bj::value(std::uint64_t{18'000'000'000'000'000'000u})}) {
    auto body = contract_body();
    body["lines"].as_array()[0].as_object()["quantity"] = bad;
    Error e = parse_error(body);
    EXPECT_EQ(e.code, errc::amount_out_of_range) << bad;
    EXPECT_EQ(e.param, "lines[0].quantity");
  }
  for (bj::value bad : {bj::value(2.0), bj::value("2"), bj::value(true)}) {
    auto body = contract_body();
    body["lines"].as_array()[0].as_object()["quantity"] = bad;
    Error e = parse_error(body);
    EXPECT_EQ(e.code, errc::invalid_field) << bad;
    EXPECT_EQ(e.param, "lines[0].quantity");
  }
  auto body = contract_body();
  body["lines"].as_array()[0].as_object().erase("quantity");
  EXPECT_EQ(parse_error(body).code, errc::missing_field);
}

TEST(ParseCheckoutRequest, LinesHoldOneToAHundredDistinctSkus) {
  auto body = contract_body();
  body["lines"] = bj::array{};
  Error e = parse_error(body);
  EXPECT_EQ(e.code, errc::invalid_field);
  EXPECT_EQ(e.param, "lines");

  bj::array many;
  for (int i = 0; i < 101; ++i)
    many.push_back(bj::object{{"sku", "s" + std::to_string(i)}, {"quantity", 1}});
  body["lines"] = many;
  EXPECT_EQ(parse_error(body).param, "lines");

  many.pop_back();
  body["lines"] = many;
  EXPECT_TRUE(parse_checkout_request(body).has_value());

  body["lines"] = bj::array{bj::object{{"sku", "a"}, {"quantity", 1}},
                            bj::object{{"sku", "a"}, {"quantity", 2}}};
  e = parse_error(body);
  EXPECT_EQ(e.code, errc::invalid_field);
  EXPECT_EQ(e.param, "lines[1].sku");
}

TEST(ParseCheckoutRequest, AddressIsChecked) {
  auto body = contract_body();
  address_of(body)["country"] = "it";
  Error e = parse_error(body);
  EXPECT_EQ(e.code, errc::invalid_field);
  EXPECT_EQ(e.param, "buyer.shipping_address.country");

  address_of(body)["country"] = "XX";
  EXPECT_EQ(parse_error(body).param, "buyer.shipping_address.country");

  address_of(body)["country"] = "ITA";
  EXPECT_EQ(parse_error(body).param, "buyer.shipping_address.country");

  body = contract_body();
  address_of(body)["name"] = std::string(201, 'a');
  EXPECT_EQ(parse_error(body).param, "buyer.shipping_address.name");

  body = contract_body();
  address_of(body)["city"] = "Mil\x01n";
  EXPECT_EQ(parse_error(body).param, "buyer.shipping_address.city");

  body = contract_body();
  address_of(body)["line2"] = "Apt 4";
  address_of(body)["state"] = "MI";
  auto r = parse_checkout_request(body);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->buyer.shipping_address->line2, "Apt 4");
  EXPECT_EQ(r->buyer.shipping_address->state, "MI");
}

TEST(ParseCheckoutRequest, EmailMustLookLikeOne) {
  for (std::string_view bad :
       {"nope", "@example.com", "a@", "a@b", "a b@example.com", "a@@example.com"}) {
    auto body = contract_body();
    body["buyer"].as_object()["email"] = bad;
    Error e = parse_error(body);
    EXPECT_EQ(e.code, errc::invalid_field) << bad;
    EXPECT_EQ(e.param, "buyer.email") << bad;
  }
}

TEST(ParseCheckoutRequest, ReturnUrlMustBeHttp) {
  for (std::string_view bad :
       {"ftp://x.example", "javascript:alert(1)", "https://", "https://a b"}) {
    auto body = contract_body();
    body["payment"] = bj::object{{"return_url", bad}};
    Error e = parse_error(body);
    EXPECT_EQ(e.code, errc::invalid_field) << bad;
    EXPECT_EQ(e.param, "payment.return_url") << bad;
  }
}

TEST(ParseCheckoutRequest, MetadataLimits) {
  auto body = contract_body();
  bj::object meta;
  for (int i = 0; i < 51; ++i) meta["k" + std::to_string(i)] = "v";
  body["metadata"] = meta;
  Error e = parse_error(body);
  EXPECT_EQ(e.code, errc::invalid_field);
  EXPECT_EQ(e.param, "metadata");

  meta.erase("k50");
  body["metadata"] = meta;
  EXPECT_TRUE(parse_checkout_request(body).has_value());

  body["metadata"] = bj::object{{std::string(41, 'k'), "v"}};
  EXPECT_EQ(parse_error(body).param, "metadata." + std::string(41, 'k'));

  body["metadata"] = bj::object{{"", "v"}};
  EXPECT_EQ(parse_error(body).code, errc::invalid_field);

  body["metadata"] = bj::object{{"n", 5}};
  e = parse_error(body);
  EXPECT_EQ(e.code, errc::invalid_field);
  EXPECT_EQ(e.param, "metadata.n");

  body["metadata"] = bj::object{{"note", std::string(501, 'x')}};
  EXPECT_EQ(parse_error(body).param, "metadata.note");

  body["metadata"] = bj::object{{"note", std::string(500, 'x')}};
  EXPECT_TRUE(parse_checkout_request(body).has_value());

  body["metadata"] = bj::object{{"note", "bell\x07"}};
  EXPECT_EQ(parse_error(body).param, "metadata.note");
}

TEST(ParseCheckoutRequest, CardDataAnywhereIsForbidden) {
  struct Case {
    std::string_view name;
    void (*mutate)(bj::object&);
    std::string_view param;
  };
  const Case cases[] = {
      {"pan in metadata",
       [](bj::object& b) { b["metadata"].as_object()["note"] = "4242 4242 4242 4242"; },
       "metadata.note"},
      {"pan as number", [](bj::object& b) { b["metadata"].as_object()["n"] = 4242424242424242; },
       "metadata.n"},
      {"card block", [](bj::object& b) { b["payment"].as_object()["card"] = bj::object{}; },
       "payment.card"},
      {"cvc", [](bj::object& b) { b["payment"].as_object()["cvc"] = "123"; }, "payment.cvc"},
      {"pan in sku",
       [](bj::object& b) { b["lines"].as_array()[0].as_object()["sku"] = "4111111111111111"; },
       "lines[0].sku"},
  };
  for (const auto& c : cases) {
    auto body = contract_body();
    c.mutate(body);
    Error e = parse_error(body);
    // Card data wins over every other complaint (here: unknown fields).
    EXPECT_EQ(e.code, errc::card_data_forbidden) << c.name;
    EXPECT_EQ(e.param, c.param) << c.name;
    EXPECT_EQ(e.status(), 400) << c.name;
    EXPECT_THAT(e.message, ::testing::Not(HasSubstr("4242"))) << c.name;
  }
}

// ---- plan_cart ----------------------------------------------------------------------------

Seller hype() {
  Seller s;
  s.id = "sel_hype";
  s.name = "Hype";
  s.platform_fee_bps = 500;
  return s;
}

Product product(std::string sku, std::int64_t unit, std::string adapter,
                std::string currency = "EUR") {
  Product p;
  p.sku = std::move(sku);
  p.seller = "sel_hype";
  p.title = "Title of " + p.sku;
  p.unit_amount = unit;
  p.currency = std::move(currency);
  if (!adapter.empty()) {
    p.fulfillment = bj::object{{"adapter", adapter}, {"product", "71"}, {"variant", "4012"}};
  }
  return p;
}

struct Catalog {
  std::map<std::string, Product> products;
  std::function<const Product*(const std::string&)> finder() const {
    return [this](const std::string& sku) -> const Product* {
      auto it = products.find(sku);
      return it == products.end() ? nullptr : &it->second;
    };
  }
  void add(Product p) {
    std::string sku = p.sku;
    products[sku] = std::move(p);
  }
};

CheckoutRequest request(std::vector<CheckoutLineRequest> lines, bool with_address = true) {
  CheckoutRequest r;
  r.seller = "sel_hype";
  r.currency = "EUR";
  r.buyer.id = "u_1";
  if (with_address)
    r.buyer.shipping_address = Address{"Ada", "1 Main St", {}, "Milan", {}, "20121", "IT"};
  r.lines = std::move(lines);
  return r;
}

class PlanCart : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_.add(product("tee", 2500, "printful-main"));
    catalog_.add(product("hoodie", 5500, "printful-main"));
    catalog_.add(product("mug", 1500, "gelato-main"));
    catalog_.add(product("ebook", 999, ""));
  }
  Result<CartPlan> plan(const CheckoutRequest& r) {
    return plan_cart(r, hype(), catalog_.finder());
  }
  Catalog catalog_;
};

TEST_F(PlanCart, PricesComeFromTheCatalogAndGroupByPartner) {
  auto p = plan(request({{"tee", 2}, {"mug", 1}, {"hoodie", 3}, {"ebook", 1}}));
  ASSERT_TRUE(p.has_value()) << p.error().message;
  ASSERT_EQ(p->lines.size(), 4u);
  EXPECT_EQ(p->lines[0].sku, "tee");
  EXPECT_EQ(p->lines[0].title, "Title of tee");
  EXPECT_EQ(p->lines[0].unit_amount, 2500);
  EXPECT_EQ(p->lines[0].quantity, 2);
  EXPECT_EQ(p->lines[0].amount, 5000);
  EXPECT_EQ(p->lines[0].fulfillment_adapter, "printful-main");
  EXPECT_EQ(p->lines[0].fulfillment_spec.at("variant").as_string(), "4012");
  EXPECT_EQ(p->lines[2].amount, 16500);
  EXPECT_EQ(p->lines[3].fulfillment_adapter, "");
  EXPECT_TRUE(p->lines[3].fulfillment_spec.empty());
  EXPECT_EQ(p->amount_subtotal, 5000 + 1500 + 16500 + 999);
  EXPECT_EQ(p->lines_by_adapter.size(), 2u);
  EXPECT_THAT(p->lines_by_adapter.at("printful-main"), ElementsAre(0u, 2u));
  EXPECT_THAT(p->lines_by_adapter.at("gelato-main"), ElementsAre(1u));
}

TEST_F(PlanCart, UnknownSkuIsAMissingResource) {
  auto p = plan(request({{"tee", 1}, {"ghost", 1}}));
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code, errc::resource_missing);
  EXPECT_EQ(p.error().status(), 400);
  EXPECT_EQ(p.error().param, "lines[1].sku");
  EXPECT_THAT(p.error().message, HasSubstr("ghost"));
}

TEST_F(PlanCart, ProductOfAnotherSellerIsUnprocessable) {
  Product p = product("rival-tee", 100, "printful-main");
  p.seller = "sel_rival";
  catalog_.add(p);
  auto r = plan(request({{"rival-tee", 1}}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::unprocessable);
  EXPECT_EQ(r.error().status(), 422);
  EXPECT_EQ(r.error().param, "lines[0].sku");
}

TEST_F(PlanCart, InactiveOrOutOfStockIsUnprocessable) {
  catalog_.products["tee"].active = false;
  auto r = plan(request({{"mug", 1}, {"tee", 1}}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::unprocessable);
  EXPECT_EQ(r.error().param, "lines[1].sku");
  EXPECT_THAT(r.error().message, HasSubstr("not for sale"));

  catalog_.products["tee"].active = true;
  catalog_.products["tee"].in_stock = false;
  r = plan(request({{"tee", 1}}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::unprocessable);
  EXPECT_THAT(r.error().message, HasSubstr("out of stock"));
}

TEST_F(PlanCart, CurrencyMismatchIs422) {
  catalog_.add(product("usd-tee", 2500, "printful-main", "USD"));
  auto r = plan(request({{"usd-tee", 1}}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::currency_mismatch);
  EXPECT_EQ(r.error().status(), 422);
  EXPECT_EQ(r.error().param, "lines[0].sku");
}

TEST_F(PlanCart, SubtotalMayReachButNotPassTheLimit) {
  catalog_.add(product("big", 9'999'999, ""));
  catalog_.add(product("cent", 9, ""));
  auto r = plan(request({{"big", 10}, {"cent", 1}}, false));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->amount_subtotal, kMaxCheckoutAmount);

  catalog_.products["cent"].unit_amount = 10;
  r = plan(request({{"big", 10}, {"cent", 1}}, false));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::amount_too_large);
  EXPECT_EQ(r.error().status(), 422);
  EXPECT_EQ(r.error().param, "lines");
}

TEST_F(PlanCart, OverflowingLineIsTooLarge) {
  catalog_.add(product("huge", INT64_MAX / 2, ""));
  auto r = plan(request({{"huge", 10'000}}, false));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::amount_too_large);
}

TEST_F(PlanCart, ShippableProductsNeedAnAddress) {
  auto r = plan(request({{"ebook", 1}, {"tee", 1}}, false));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::missing_field);
  EXPECT_EQ(r.error().param, "buyer.shipping_address");

  auto digital = plan(request({{"ebook", 3}}, false));
  ASSERT_TRUE(digital.has_value());
  EXPECT_TRUE(digital->lines_by_adapter.empty());
  EXPECT_EQ(digital->amount_subtotal, 2997);
}

// ---- build_checkout -----------------------------------------------------------------------

class BuildCheckout : public PlanCart {
 protected:
  Result<Checkout> build(CheckoutRequest r, const std::map<std::string, std::int64_t>& shipping,
                         const Seller& seller = hype()) {
    auto p = plan_cart(r, seller, catalog_.finder());
    EXPECT_TRUE(p.has_value());
    if (!p) return p.error();
    return build_checkout(std::move(r), std::move(*p), seller, shipping, "key_1", kNow);
  }
};

TEST_F(BuildCheckout, OneFulfillmentPerPartnerWithItsShipping) {
  auto r = request({{"tee", 2}, {"mug", 1}, {"hoodie", 1}, {"ebook", 1}});
  r.processor = "stripe-main";
  r.method = "pm_card_visa";
  r.return_url = "https://app.example/done";
  r.metadata = bj::object{{"video_id", "v_1"}};
  auto c = build(r, {{"printful-main", 499}, {"gelato-main", 300}});
  ASSERT_TRUE(c.has_value()) << c.error().message;

  EXPECT_THAT(c->id, StartsWith("chk_"));
  EXPECT_EQ(c->status, CheckoutStatus::requires_payment);
  EXPECT_EQ(c->seller, "sel_hype");
  EXPECT_EQ(c->currency, "EUR");
  EXPECT_EQ(c->amount_subtotal, 5000 + 1500 + 5500 + 999);
  EXPECT_EQ(c->amount_shipping, 799);
  EXPECT_EQ(c->amount_total, 12999 + 799);
  ASSERT_EQ(c->fulfillments.size(), 2u);
  // Grouped by adapter id, in the map's order.
  const Fulfillment& gelato = c->fulfillments[0];
  const Fulfillment& printful = c->fulfillments[1];
  EXPECT_EQ(gelato.adapter, "gelato-main");
  EXPECT_EQ(gelato.amount, 1500);
  EXPECT_EQ(gelato.amount_shipping, 300);
  ASSERT_EQ(gelato.lines.size(), 1u);
  EXPECT_EQ(gelato.lines[0].sku, "mug");
  EXPECT_EQ(printful.adapter, "printful-main");
  EXPECT_EQ(printful.amount, 10500);
  EXPECT_EQ(printful.amount_shipping, 499);
  ASSERT_EQ(printful.lines.size(), 2u);
  EXPECT_EQ(printful.lines[0].sku, "tee");
  EXPECT_EQ(printful.lines[0].quantity, 2);
  EXPECT_EQ(printful.lines[1].sku, "hoodie");
  for (const auto& f : c->fulfillments) {
    EXPECT_THAT(f.id, StartsWith("ful_"));
    EXPECT_EQ(f.status, FulfillmentStatus::pending);
    EXPECT_EQ(f.created_at, kNow);
  }
  EXPECT_NE(gelato.id, printful.id);
  EXPECT_EQ(c->lines.size(), 4u);
  EXPECT_EQ(c->payment.processor, "stripe-main");
  EXPECT_EQ(c->payment.method, "pm_card_visa");
  EXPECT_EQ(c->payment.return_url, "https://app.example/done");
  EXPECT_EQ(c->payment.status, PaymentStatus::pending);
  EXPECT_EQ(c->buyer.id, "u_1");
  EXPECT_EQ(c->metadata, (bj::object{{"video_id", "v_1"}}));
  EXPECT_EQ(c->api_key_id, "key_1");
  EXPECT_EQ(c->created_at, kNow);
  EXPECT_EQ(c->updated_at, kNow);
  EXPECT_EQ(c->canceled_at, 0);
}

TEST_F(BuildCheckout, PlatformFeeIsBasisPointsOfTheSubtotalRoundedHalfUp) {
  catalog_.add(product("odd", 1001, ""));
  Seller s = hype();
  s.platform_fee_bps = 5000;  // 50% of 1001 = 500.5
  auto c = build(request({{"odd", 1}}, false), {}, s);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->platform_fee, 501);

  s.platform_fee_bps = 250;  // 2.5% of 1001 = 25.025
  c = build(request({{"odd", 1}}, false), {}, s);
  EXPECT_EQ(c->platform_fee, 25);

  s.platform_fee_bps = 0;
  c = build(request({{"odd", 1}}, false), {}, s);
  EXPECT_EQ(c->platform_fee, 0);
}

TEST_F(BuildCheckout, PlatformFeeIgnoresShipping) {
  Seller s = hype();  // 500 bps
  auto c = build(request({{"tee", 1}}), {{"printful-main", 10'000}}, s);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->amount_total, 12'500);
  EXPECT_EQ(c->platform_fee, 125);
}

TEST_F(BuildCheckout, MissingQuoteShipsFree) {
  auto c = build(request({{"tee", 1}}), {});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->amount_shipping, 0);
  EXPECT_EQ(c->fulfillments[0].amount_shipping, 0);
  EXPECT_EQ(c->amount_total, 2500);
}

TEST_F(BuildCheckout, DigitalOnlyHasNoFulfillments) {
  auto c = build(request({{"ebook", 2}}, false), {});
  ASSERT_TRUE(c.has_value());
  EXPECT_THAT(c->fulfillments, IsEmpty());
  EXPECT_EQ(c->amount_total, 1998);
  EXPECT_FALSE(c->buyer.shipping_address.has_value());
}

TEST_F(BuildCheckout, ShippingThatPushesTheTotalOverTheLimitIsRefused) {
  catalog_.add(product("big", kMaxCheckoutAmount, "printful-main"));
  auto c = build(request({{"big", 1}}), {{"printful-main", 1}});
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, errc::amount_too_large);
  EXPECT_EQ(c.error().param, "lines");
}

TEST(ParseAddress, UsesThePrefixForParams) {
  auto a = parse_address(parse(R"({"name": "A", "line1": "B", "city": "C", "country": "DE"})"),
                         "seller.address");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->postal_code, "");
  auto bad = parse_address(parse(R"({"name": "A", "line1": "B", "city": "C", "country": "de"})"),
                           "seller.address");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().param, "seller.address.country");
}

}  // namespace
}  // namespace mg::core
