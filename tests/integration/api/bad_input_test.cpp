// CONTRACT §2-§4 on bad input: every malformed request gets the right status and error
// {type, code, param}, and the database is byte-for-byte what it was before the request.
#include "tests/integration/api/api_support.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <ostream>

namespace mg::testing::api {
namespace {

struct Call {
  std::string method;
  std::string target;
  std::string body;
  std::vector<http::Header> headers;
};

struct Case {
  std::string name;
  std::function<Call()> call;
  int status;
  std::string type;
  std::string code;
  std::string param;  // "" = no param
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// ---- the shared gateway: one paid checkout, one canceled checkout, then nothing moving ----

class BadInput : public ::testing::TestWithParam<Case> {
 public:
  static void SetUpTestSuite() {
    fixture_ = new GatewayFixture();
    auto paid = fixture_->create_checkout({{"ebook", 1}}, "pm_sandbox_ok");
    paid_id_ = str(paid.at("id"));
    paid_reference_ = str(paid.at("payment").at("reference"));
    eventually([] {
      return str(fixture_->get_checkout(paid_id_).at("payment").at("status")) == "succeeded";
    });
    auto pending = fixture_->create_checkout({{"ebook", 1}}, "pm_sandbox_action");
    canceled_id_ = str(pending.at("id"));
    fixture_->app("POST", "/v1/checkouts/" + canceled_id_ + "/cancel");
    fixture_->wait_for_status(canceled_id_, "canceled");
    quiesce(*fixture_);
  }
  static void TearDownTestSuite() {
    delete fixture_;
    fixture_ = nullptr;
  }

  static GatewayFixture& f() { return *fixture_; }
  static const std::string& paid_id() { return paid_id_; }
  static const std::string& paid_reference() { return paid_reference_; }
  static const std::string& canceled_id() { return canceled_id_; }

 protected:
  void SetUp() override {
    ASSERT_EQ(str(f().get_checkout(paid_id_).at("payment").at("status")), "succeeded");
    ASSERT_EQ(str(f().get_checkout(canceled_id_).at("status")), "canceled");
  }

  static GatewayFixture* fixture_;
  static std::string paid_id_;
  static std::string paid_reference_;
  static std::string canceled_id_;
};

GatewayFixture* BadInput::fixture_ = nullptr;
std::string BadInput::paid_id_;
std::string BadInput::paid_reference_;
std::string BadInput::canceled_id_;

TEST_P(BadInput, IsRefusedWithTheRightErrorAndChangesNothing) {
  const Case& c = GetParam();
  Call call = c.call();
  std::string before = dump(f());
  auto counts = f().table_counts();
  Reply r = f().request(call.method, call.target, call.body, call.headers);
  EXPECT_TRUE(is_error(r, c.status, c.type, c.code, c.param));
  EXPECT_EQ(f().table_counts(), counts);
  EXPECT_EQ(dump(f()), before) << "the database changed";
}

// ---- builders ----

bj::object base_checkout() { return parse_object(GatewayFixture::checkout_body({{"tee", 1}})); }

Call post_checkout(std::string body) {
  return {"POST", "/v1/checkouts", std::move(body), app_headers(core::new_id("idem"))};
}

Call checkout_with(const std::function<void(bj::object&)>& change) {
  bj::object body = base_checkout();
  change(body);
  return post_checkout(bj::serialize(body));
}

bj::object& obj(bj::value& v) { return v.as_object(); }
bj::object& buyer(bj::object& b) { return obj(b["buyer"]); }
bj::object& address(bj::object& b) { return obj(buyer(b)["shipping_address"]); }
bj::object& payment(bj::object& b) { return obj(b["payment"]); }
bj::object& metadata(bj::object& b) { return obj(b["metadata"]); }
bj::object& line0(bj::object& b) { return obj(b["lines"].as_array()[0]); }

// A checkout body with `text` spliced in raw (for bytes JSON serializers never produce).
Call checkout_raw_name(std::string_view raw_name) {
  std::string body = GatewayFixture::checkout_body({{"tee", 1}});
  auto at = body.find("\"Ada L\"");
  body.replace(at, 7, "\"" + std::string(raw_name) + "\"");
  return post_checkout(body);
}

Call checkout_headers(std::vector<http::Header> headers) {
  return {"POST", "/v1/checkouts", GatewayFixture::checkout_body({{"tee", 1}}), std::move(headers)};
}

std::string nested(int depth) {
  return std::string(static_cast<std::size_t>(depth), '[') +
         std::string(static_cast<std::size_t>(depth), ']');
}

// A body of exactly `size` bytes: a JSON object with one unknown padding field.
std::string body_of_size(std::size_t size) {
  std::string head = R"({"pad":")";
  std::string tail = R"("})";
  return head + std::string(size - head.size() - tail.size(), 'x') + tail;
}

Call refund(const std::string& checkout_id, std::string body) {
  return {"POST", "/v1/checkouts/" + checkout_id + "/refunds", std::move(body),
          app_headers(core::new_id("idem"))};
}

Call cancel(const std::string& checkout_id, std::string body) {
  return {"POST", "/v1/checkouts/" + checkout_id + "/cancel", std::move(body),
          app_headers(core::new_id("idem"))};
}

Call webhook(const std::string& adapter, std::string body, std::vector<http::Header> headers) {
  return {"POST", "/v1/webhooks/" + adapter, std::move(body), std::move(headers)};
}

std::string ok_payment_event(const std::string& event_id) {
  return payment_event_body(event_id, "payment.succeeded", BadInput::paid_reference(),
                            BadInput::paid_id(), "succeeded", 900, "EUR");
}

Call signed_webhook(const std::string& body, std::int64_t timestamp,
                    const std::string& secret = seed_secret("sandbox-pay")) {
  std::string id = core::new_id("evt_sbx");
  return webhook("sandbox-pay", body, webhook_headers(secret, id, timestamp, body));
}

constexpr const char* kInvalid = "invalid_request";
const std::string kVisa = "4242424242424242";

// ---- POST /v1/checkouts: the body ----

std::vector<Case> checkout_body_cases() {
  std::vector<Case> v;
  auto add = [&](std::string name, std::function<Call()> call, int status, std::string code,
                 std::string param, std::string type = kInvalid) {
    v.push_back({std::move(name), std::move(call), status, std::move(type), std::move(code),
                 std::move(param)});
  };
  // JSON itself.
  add(
      "TruncatedJson", [] { return post_checkout(R"({"seller": "sel_hype", )"); }, 400,
      "invalid_json", "");
  add(
      "TrailingGarbage",
      [] {
        return post_checkout(GatewayFixture::checkout_body({{"tee", 1}}) + "x");
      },
      400, "invalid_json", "");
  add(
      "SingleQuotes", [] { return post_checkout("{'seller': 'sel_hype'}"); }, 400, "invalid_json",
      "");
  add(
      "EmptyBody", [] { return post_checkout(""); }, 400, "invalid_json", "");
  add(
      "BodyIsArray",
      [] {
        return post_checkout("[" + GatewayFixture::checkout_body({{"tee", 1}}) + "]");
      },
      400, "invalid_json", "");
  add(
      "BodyIsString", [] { return post_checkout(R"("sel_hype")"); }, 400, "invalid_json", "");
  add(
      "BodyIsNull", [] { return post_checkout("null"); }, 400, "invalid_json", "");
  add(
      "NestedTooDeep",
      [] {
        std::string body = GatewayFixture::checkout_body({{"tee", 1}});
        body.replace(body.find(R"("v_987")"), 7, nested(40));
        return post_checkout(body);
      },
      400, "invalid_json", "");
  add(
      "NestedAtTheLimitIsParsed",
      [] {
        std::string body = GatewayFixture::checkout_body({{"tee", 1}});
        body.replace(body.find(R"("v_987")"), 7, nested(30));
        return post_checkout(body);
      },
      400, "invalid_field", "metadata.video_id");
  add(
      "InvalidUtf8", [] { return checkout_raw_name("Ada \xC3\x28"); }, 400, "invalid_json", "");
  add(
      "OverlongUtf8", [] { return checkout_raw_name("Ada \xC0\xAF"); }, 400, "invalid_json", "");
  add(
      "RawControlCharacterInString", [] { return checkout_raw_name("Ada\x01L"); }, 400,
      "invalid_json", "");
  add(
      "EscapedControlCharacter", [] { return checkout_raw_name("Ada\\u0001L"); }, 400,
      "invalid_field", "buyer.shipping_address.name");
  add(
      "DuplicateKeysStillUnknownField",
      [] { return post_checkout(R"({"seller":"sel_hype","seller":"sel_hype","nope":1})"); }, 400,
      "unknown_field", "nope");
  // Top level.
  add(
      "UnknownTopLevelField",
      [] { return checkout_with([](bj::object& b) { b["amount_total"] = 1; }); }, 400,
      "unknown_field", "amount_total");
  add(
      "SellerMissing", [] { return checkout_with([](bj::object& b) { b.erase("seller"); }); }, 400,
      "missing_field", "seller");
  add(
      "SellerNull", [] { return checkout_with([](bj::object& b) { b["seller"] = nullptr; }); }, 400,
      "missing_field", "seller");
  add(
      "SellerWrongType", [] { return checkout_with([](bj::object& b) { b["seller"] = 7; }); }, 400,
      "invalid_field", "seller");
  add(
      "SellerEmpty", [] { return checkout_with([](bj::object& b) { b["seller"] = ""; }); }, 400,
      "invalid_field", "seller");
  add(
      "SellerUnknown",
      [] { return checkout_with([](bj::object& b) { b["seller"] = "sel_nope"; }); }, 400,
      "resource_missing", "seller");
  add(
      "SkuOfAnotherSeller",
      [] { return checkout_with([](bj::object& b) { line0(b)["sku"] = "other-tee"; }); }, 422,
      "unprocessable", "lines[0].sku");
  // Currency.
  add(
      "CurrencyMissing", [] { return checkout_with([](bj::object& b) { b.erase("currency"); }); },
      400, "missing_field", "currency");
  add(
      "CurrencyUnknown", [] { return checkout_with([](bj::object& b) { b["currency"] = "ABC"; }); },
      400, "unknown_currency", "currency");
  add(
      "CurrencyLowerCase",
      [] { return checkout_with([](bj::object& b) { b["currency"] = "eur"; }); }, 400,
      "unknown_currency", "currency");
  add(
      "CurrencyTooLong",
      [] { return checkout_with([](bj::object& b) { b["currency"] = "EURO"; }); }, 400,
      "unknown_currency", "currency");
  add(
      "CurrencyNumeric", [] { return checkout_with([](bj::object& b) { b["currency"] = 978; }); },
      400, "unknown_currency", "currency");
  add(
      "CurrencyNotTheCatalogs",
      [] { return checkout_with([](bj::object& b) { b["currency"] = "USD"; }); }, 422,
      "currency_mismatch", "lines[0].sku");
  add(
      "CurrencyMatchesOneLineButNotTheOther",
      [] {
        return checkout_with([](bj::object& b) {
          b["currency"] = "USD";
          b["lines"] = bj::array{bj::object{{"sku", "cap-usd"}, {"quantity", 1}},
                                 bj::object{{"sku", "tee"}, {"quantity", 1}}};
        });
      },
      422, "currency_mismatch", "lines[1].sku");
  // Buyer.
  add(
      "BuyerMissing", [] { return checkout_with([](bj::object& b) { b.erase("buyer"); }); }, 400,
      "missing_field", "buyer");
  add(
      "BuyerNotObject", [] { return checkout_with([](bj::object& b) { b["buyer"] = "u_1"; }); },
      400, "invalid_field", "buyer");
  add(
      "BuyerIdMissing", [] { return checkout_with([](bj::object& b) { buyer(b).erase("id"); }); },
      400, "missing_field", "buyer.id");
  add(
      "BuyerIdWrongType", [] { return checkout_with([](bj::object& b) { buyer(b)["id"] = 12; }); },
      400, "invalid_field", "buyer.id");
  add(
      "BuyerIdTooLong",
      [] { return checkout_with([](bj::object& b) { buyer(b)["id"] = std::string(256, 'u'); }); },
      400, "invalid_field", "buyer.id");
  add(
      "BuyerEmailInvalid",
      [] { return checkout_with([](bj::object& b) { buyer(b)["email"] = "ada.example.com"; }); },
      400, "invalid_field", "buyer.email");
  add(
      "BuyerEmailTwoAts",
      [] { return checkout_with([](bj::object& b) { buyer(b)["email"] = "a@b@example.com"; }); },
      400, "invalid_field", "buyer.email");
  add(
      "BuyerUnknownField",
      [] { return checkout_with([](bj::object& b) { buyer(b)["phone"] = "+39 02 1234"; }); }, 400,
      "unknown_field", "buyer.phone");
  // Shipping address.
  add(
      "AddressMissingForPhysicalProduct",
      [] { return checkout_with([](bj::object& b) { buyer(b).erase("shipping_address"); }); }, 400,
      "missing_field", "buyer.shipping_address");
  add(
      "AddressNullForPhysicalProduct",
      [] { return checkout_with([](bj::object& b) { buyer(b)["shipping_address"] = nullptr; }); },
      400, "missing_field", "buyer.shipping_address");
  add(
      "AddressMissingForMixedCart",
      [] {
        return checkout_with([](bj::object& b) {
          buyer(b).erase("shipping_address");
          b["lines"] = bj::array{bj::object{{"sku", "ebook"}, {"quantity", 1}},
                                 bj::object{{"sku", "poster"}, {"quantity", 1}}};
        });
      },
      400, "missing_field", "buyer.shipping_address");
  add(
      "AddressNotObject",
      [] { return checkout_with([](bj::object& b) { buyer(b)["shipping_address"] = "Milan"; }); },
      400, "invalid_field", "buyer.shipping_address");
  add(
      "AddressNameMissing",
      [] { return checkout_with([](bj::object& b) { address(b).erase("name"); }); }, 400,
      "missing_field", "buyer.shipping_address.name");
  add(
      "AddressLine1Missing",
      [] { return checkout_with([](bj::object& b) { address(b).erase("line1"); }); }, 400,
      "missing_field", "buyer.shipping_address.line1");
  add(
      "AddressLine1WrongType",
      [] { return checkout_with([](bj::object& b) { address(b)["line1"] = 1; }); }, 400,
      "invalid_field", "buyer.shipping_address.line1");
  add(
      "AddressLine2WrongType",
      [] { return checkout_with([](bj::object& b) { address(b)["line2"] = bj::array{}; }); }, 400,
      "invalid_field", "buyer.shipping_address.line2");
  add(
      "AddressCityMissing",
      [] { return checkout_with([](bj::object& b) { address(b).erase("city"); }); }, 400,
      "missing_field", "buyer.shipping_address.city");
  add(
      "AddressCityTooLong",
      [] {
        return checkout_with([](bj::object& b) { address(b)["city"] = std::string(101, 'c'); });
      },
      400, "invalid_field", "buyer.shipping_address.city");
  add(
      "AddressPostalCodeTooLong",
      [] {
        return checkout_with(
            [](bj::object& b) { address(b)["postal_code"] = std::string(21, '1'); });
      },
      400, "invalid_field", "buyer.shipping_address.postal_code");
  add(
      "AddressUnknownField",
      [] { return checkout_with([](bj::object& b) { address(b)["zip"] = "20121"; }); }, 400,
      "unknown_field", "buyer.shipping_address.zip");
  add(
      "CountryMissing",
      [] { return checkout_with([](bj::object& b) { address(b).erase("country"); }); }, 400,
      "missing_field", "buyer.shipping_address.country");
  add(
      "CountryNotAssigned",
      [] { return checkout_with([](bj::object& b) { address(b)["country"] = "ZZ"; }); }, 400,
      "invalid_field", "buyer.shipping_address.country");
  add(
      "CountryLowerCase",
      [] { return checkout_with([](bj::object& b) { address(b)["country"] = "it"; }); }, 400,
      "invalid_field", "buyer.shipping_address.country");
  add(
      "CountryAlpha3",
      [] { return checkout_with([](bj::object& b) { address(b)["country"] = "ITA"; }); }, 400,
      "invalid_field", "buyer.shipping_address.country");
  add(
      "CountryName",
      [] { return checkout_with([](bj::object& b) { address(b)["country"] = "Italy"; }); }, 400,
      "invalid_field", "buyer.shipping_address.country");
  add(
      "CountryNumeric",
      [] { return checkout_with([](bj::object& b) { address(b)["country"] = 380; }); }, 400,
      "invalid_field", "buyer.shipping_address.country");
  add(
      "CountryTheSandboxDoesNotShipTo",
      [] { return checkout_with([](bj::object& b) { address(b)["country"] = "AQ"; }); }, 422,
      "unshippable_address", "buyer.shipping_address.country");
  // Lines.
  add(
      "LinesMissing", [] { return checkout_with([](bj::object& b) { b.erase("lines"); }); }, 400,
      "missing_field", "lines");
  add(
      "LinesEmpty", [] { return checkout_with([](bj::object& b) { b["lines"] = bj::array{}; }); },
      400, "invalid_field", "lines");
  add(
      "LinesNotArray",
      [] {
        return checkout_with([](bj::object& b) {
          b["lines"] = bj::object{{"sku", "tee"}, {"quantity", 1}};
        });
      },
      400, "invalid_field", "lines");
  add(
      "TooManyLines",
      [] {
        return checkout_with([](bj::object& b) {
          bj::array lines;
          for (int i = 0; i < 101; ++i) {
            lines.push_back(bj::object{{"sku", "sku-" + std::to_string(i)}, {"quantity", 1}});
          }
          b["lines"] = std::move(lines);
        });
      },
      400, "invalid_field", "lines");
  add(
      "LineNotObject",
      [] { return checkout_with([](bj::object& b) { b["lines"] = bj::array{"tee"}; }); }, 400,
      "invalid_field", "lines[0]");
  add(
      "SecondLineNotObject",
      [] { return checkout_with([](bj::object& b) { b["lines"].as_array().push_back(nullptr); }); },
      400, "invalid_field", "lines[1]");
  add(
      "DuplicateSku",
      [] {
        return checkout_with([](bj::object& b) {
          b["lines"].as_array().push_back(bj::object{{"sku", "tee"}, {"quantity", 2}});
        });
      },
      400, "invalid_field", "lines[1].sku");
  add(
      "LineWithPrice",
      [] { return checkout_with([](bj::object& b) { line0(b)["unit_amount"] = 1; }); }, 400,
      "unknown_field", "lines[0].unit_amount");
  add(
      "SkuMissing", [] { return checkout_with([](bj::object& b) { line0(b).erase("sku"); }); }, 400,
      "missing_field", "lines[0].sku");
  add(
      "SkuWrongType", [] { return checkout_with([](bj::object& b) { line0(b)["sku"] = 5; }); }, 400,
      "invalid_field", "lines[0].sku");
  add(
      "SkuUnknown",
      [] { return checkout_with([](bj::object& b) { line0(b)["sku"] = "no-such-sku"; }); }, 400,
      "resource_missing", "lines[0].sku");
  add(
      "QuantityMissing",
      [] { return checkout_with([](bj::object& b) { line0(b).erase("quantity"); }); }, 400,
      "missing_field", "lines[0].quantity");
  add(
      "QuantityZero", [] { return checkout_with([](bj::object& b) { line0(b)["quantity"] = 0; }); },
      400, "amount_out_of_range", "lines[0].quantity");
  add(
      "QuantityNegative",
      [] { return checkout_with([](bj::object& b) { line0(b)["quantity"] = -1; }); }, 400,
      "amount_out_of_range", "lines[0].quantity");
  add(
      "QuantityOverTenThousand",
      [] { return checkout_with([](bj::object& b) { line0(b)["quantity"] = 10'001; }); }, 400,
      "amount_out_of_range", "lines[0].quantity");
  add(
      "QuantityTenToTheTwelfth",
      [] {
        return checkout_with([](bj::object& b) { line0(b)["quantity"] = 1'000'000'000'000LL; });
      },
      400, "amount_out_of_range", "lines[0].quantity");
  add(
      "QuantityAboveInt64",
      [] {
        return checkout_with([](bj::object& b) {
          line0(b)["quantity"] = static_cast<std::uint64_t>(18'446'744'073'709'551'615ULL);
        });
      },
      400, "amount_out_of_range", "lines[0].quantity");
  add(
      "QuantityAboveUint64",
      [] {
        std::string body = GatewayFixture::checkout_body({{"tee", 1}});
        auto at = body.find(R"("quantity":1)");
        body.replace(at, 12, R"("quantity":100000000000000000000000)");
        return post_checkout(body);
      },
      400, "invalid_field", "lines[0].quantity");
  add(
      "QuantityFraction",
      [] { return checkout_with([](bj::object& b) { line0(b)["quantity"] = 1.5; }); }, 400,
      "invalid_field", "lines[0].quantity");
  add(
      "QuantityString",
      [] { return checkout_with([](bj::object& b) { line0(b)["quantity"] = "2"; }); }, 400,
      "invalid_field", "lines[0].quantity");
  add(
      "QuantityBool",
      [] { return checkout_with([](bj::object& b) { line0(b)["quantity"] = true; }); }, 400,
      "invalid_field", "lines[0].quantity");
  add(
      "TotalOverTheLimit",
      [] {
        return checkout_with([](bj::object& b) {
          b["lines"] = bj::array{bj::object{{"sku", "tee"}, {"quantity", 10'000}},
                                 bj::object{{"sku", "hoodie"}, {"quantity", 10'000}},
                                 bj::object{{"sku", "cursed-tee"}, {"quantity", 10'000}}};
        });
      },
      422, "amount_too_large", "lines");
  // Payment.
  add(
      "PaymentNotObject",
      [] { return checkout_with([](bj::object& b) { b["payment"] = "pm_sandbox_ok"; }); }, 400,
      "invalid_field", "payment");
  add(
      "PaymentUnknownField",
      [] { return checkout_with([](bj::object& b) { payment(b)["token"] = "tok_1"; }); }, 400,
      "unknown_field", "payment.token");
  add(
      "ProcessorUnknown",
      [] { return checkout_with([](bj::object& b) { payment(b)["processor"] = "stripe-x"; }); },
      400, "resource_missing", "payment.processor");
  add(
      "ProcessorIsAFulfillmentAdapter",
      [] {
        return checkout_with([](bj::object& b) { payment(b)["processor"] = "sandbox-merch"; });
      },
      400, "resource_missing", "payment.processor");
  add(
      "ProcessorWrongType",
      [] { return checkout_with([](bj::object& b) { payment(b)["processor"] = 1; }); }, 400,
      "invalid_field", "payment.processor");
  add(
      "MethodUnknownSandboxToken",
      [] { return checkout_with([](bj::object& b) { payment(b)["method"] = "pm_card_visa"; }); },
      400, "invalid_field", "payment.method");
  add(
      "MethodWrongType",
      [] { return checkout_with([](bj::object& b) { payment(b)["method"] = bj::object{}; }); }, 400,
      "invalid_field", "payment.method");
  add(
      "ReturnUrlNotHttp",
      [] {
        return checkout_with(
            [](bj::object& b) { payment(b)["return_url"] = "javascript:alert(1)"; });
      },
      400, "invalid_field", "payment.return_url");
  add(
      "ReturnUrlWithSpace",
      [] {
        return checkout_with(
            [](bj::object& b) { payment(b)["return_url"] = "https://shop.example/a b"; });
      },
      400, "invalid_field", "payment.return_url");
  add(
      "ReturnUrlWrongType",
      [] { return checkout_with([](bj::object& b) { payment(b)["return_url"] = 1; }); }, 400,
      "invalid_field", "payment.return_url");
  // Metadata.
  add(
      "MetadataNotObject",
      [] { return checkout_with([](bj::object& b) { b["metadata"] = bj::array{"a"}; }); }, 400,
      "invalid_field", "metadata");
  add(
      "MetadataTooManyKeys",
      [] {
        return checkout_with([](bj::object& b) {
          for (int i = 0; i < 51; ++i) metadata(b)["k" + std::to_string(i)] = "v";
        });
      },
      400, "invalid_field", "metadata");
  add(
      "MetadataKeyTooLong",
      [] { return checkout_with([](bj::object& b) { metadata(b)[std::string(41, 'k')] = "v"; }); },
      400, "invalid_field", "metadata." + std::string(41, 'k'));
  add(
      "MetadataEmptyKey",
      [] { return checkout_with([](bj::object& b) { metadata(b)[""] = "v"; }); }, 400,
      "invalid_field", "metadata.");
  add(
      "MetadataValueNotString",
      [] { return checkout_with([](bj::object& b) { metadata(b)["n"] = 5; }); }, 400,
      "invalid_field", "metadata.n");
  add(
      "MetadataValueObject",
      [] { return checkout_with([](bj::object& b) { metadata(b)["o"] = bj::object{}; }); }, 400,
      "invalid_field", "metadata.o");
  add(
      "MetadataValueTooLong",
      [] {
        return checkout_with([](bj::object& b) { metadata(b)["note"] = std::string(501, 'n'); });
      },
      400, "invalid_field", "metadata.note");
  // Card data, anywhere.
  add(
      "CardNumberInMetadata",
      [] { return checkout_with([](bj::object& b) { metadata(b)["note"] = kVisa; }); }, 400,
      "card_data_forbidden", "metadata.note");
  add(
      "CardNumberWithSpaces",
      [] {
        return checkout_with(
            [](bj::object& b) { metadata(b)["note"] = "pay 4242 4242 4242 4242"; });
      },
      400, "card_data_forbidden", "metadata.note");
  add(
      "CardNumberWithDashes",
      [] { return checkout_with([](bj::object& b) { buyer(b)["id"] = "5555-5555-5555-4444"; }); },
      400, "card_data_forbidden", "buyer.id");
  add(
      "CardNumberAsBareInteger",
      [] {
        return checkout_with([](bj::object& b) { metadata(b)["n"] = 4'111'111'111'111'111LL; });
      },
      400, "card_data_forbidden", "metadata.n");
  add(
      "CardNumberAsUnknownTopLevelInteger",
      [] { return checkout_with([](bj::object& b) { b["pan_like"] = 4'000'056'655'665'556LL; }); },
      400, "card_data_forbidden", "pan_like");
  add(
      "CardNumberInSku",
      [] { return checkout_with([](bj::object& b) { line0(b)["sku"] = "4111 1111 1111 1111"; }); },
      400, "card_data_forbidden", "lines[0].sku");
  add(
      "CardNumberInAddress",
      [] { return checkout_with([](bj::object& b) { address(b)["line2"] = "378282246310005"; }); },
      400, "card_data_forbidden", "buyer.shipping_address.line2");
  add(
      "CardNumberAsKeyIsMasked",
      [] { return checkout_with([](bj::object& b) { metadata(b)[kVisa] = "x"; }); }, 400,
      "card_data_forbidden", "metadata.************4242");
  add(
      "KeyNamedCvc", [] { return checkout_with([](bj::object& b) { payment(b)["cvc"] = "123"; }); },
      400, "card_data_forbidden", "payment.cvc");
  add(
      "KeyNamedCvvUpperCase",
      [] { return checkout_with([](bj::object& b) { metadata(b)["CVV"] = "123"; }); }, 400,
      "card_data_forbidden", "metadata.CVV");
  add(
      "KeyNamedCardNumber",
      [] {
        return checkout_with([](bj::object& b) {
          payment(b)["card_number"] = bj::object{{"last4", "4242"}};
        });
      },
      400, "card_data_forbidden", "payment.card_number");
  add(
      "KeyNamedExpMonth",
      [] { return checkout_with([](bj::object& b) { payment(b)["exp_month"] = 12; }); }, 400,
      "card_data_forbidden", "payment.exp_month");
  return v;
}

// ---- POST /v1/checkouts: headers ----

std::vector<Case> checkout_header_cases() {
  std::vector<Case> v;
  auto add = [&](std::string name, std::function<Call()> call, int status, std::string type,
                 std::string code, std::string param) {
    v.push_back({std::move(name), std::move(call), status, std::move(type), std::move(code),
                 std::move(param)});
  };
  const std::string bearer = std::string("Bearer ") + kAppKey;
  add(
      "NoApiKey",
      [] {
        return checkout_headers({{"content-type", "application/json"}, {"idempotency-key", "k1"}});
      },
      401, "authentication", "authentication_required", "");
  add(
      "WrongApiKey",
      [] {
        return checkout_headers({{"authorization", "Bearer mgk_test_app_wrong"},
                                 {"content-type", "application/json"},
                                 {"idempotency-key", "k1"}});
      },
      401, "authentication", "invalid_api_key", "");
  add(
      "ApiKeyOffByOneCharacter",
      [] {
        std::string key = kAppKey;
        key.back() = key.back() == '9' ? '8' : '9';
        return checkout_headers({{"authorization", "Bearer " + key},
                                 {"content-type", "application/json"},
                                 {"idempotency-key", "k1"}});
      },
      401, "authentication", "invalid_api_key", "");
  add(
      "BasicAuthInsteadOfBearer",
      [] {
        return checkout_headers({{"authorization", std::string("Basic ") + kAppKey},
                                 {"content-type", "application/json"},
                                 {"idempotency-key", "k1"}});
      },
      401, "authentication", "authentication_required", "");
  add(
      "BearerWithoutKey",
      [] {
        return checkout_headers({{"authorization", "Bearer    "},
                                 {"content-type", "application/json"},
                                 {"idempotency-key", "k1"}});
      },
      401, "authentication", "authentication_required", "");
  add(
      "ContentTypeTextPlain",
      [bearer] {
        return checkout_headers({{"authorization", bearer},
                                 {"content-type", "text/plain"},
                                 {"idempotency-key", core::new_id("idem")}});
      },
      415, kInvalid, "unsupported_media_type", "");
  add(
      "ContentTypeForm",
      [bearer] {
        return checkout_headers({{"authorization", bearer},
                                 {"content-type", "application/x-www-form-urlencoded"},
                                 {"idempotency-key", core::new_id("idem")}});
      },
      415, kInvalid, "unsupported_media_type", "");
  add(
      "ContentTypeJsonLookalike",
      [bearer] {
        return checkout_headers({{"authorization", bearer},
                                 {"content-type", "application/jsonx"},
                                 {"idempotency-key", core::new_id("idem")}});
      },
      415, kInvalid, "unsupported_media_type", "");
  add(
      "ContentTypeMissing",
      [bearer] {
        return checkout_headers(
            {{"authorization", bearer}, {"idempotency-key", core::new_id("idem")}});
      },
      415, kInvalid, "unsupported_media_type", "");
  add(
      "IdempotencyKeyMissing", [] { return checkout_headers(app_headers()); }, 400, kInvalid,
      "missing_idempotency_key", "Idempotency-Key");
  add(
      "IdempotencyKeyTooLong", [] { return checkout_headers(app_headers(std::string(256, 'k'))); },
      400, kInvalid, "invalid_idempotency_key", "Idempotency-Key");
  add(
      "IdempotencyKeyWithSpaces", [] { return checkout_headers(app_headers("my key 1")); }, 400,
      kInvalid, "invalid_idempotency_key", "Idempotency-Key");
  add(
      "IdempotencyKeyNotAscii", [] { return checkout_headers(app_headers("cl\xC3\xA9-1")); }, 400,
      kInvalid, "invalid_idempotency_key", "Idempotency-Key");
  add(
      "BodyOverOneMebibyte",
      [] {
        return Call{"POST", "/v1/checkouts", body_of_size(1024 * 1024 + 1),
                    app_headers(core::new_id("idem"))};
      },
      413, kInvalid, "body_too_large", "");
  add(
      "BodyOfTwoMebibytes",
      [] {
        return Call{"POST", "/v1/checkouts", body_of_size(2 * 1024 * 1024),
                    app_headers(core::new_id("idem"))};
      },
      413, kInvalid, "body_too_large", "");
  // Exactly 1 MiB is read (and refused for what it says, not for its size).
  add(
      "BodyOfExactlyOneMebibyteIsRead",
      [] {
        return Call{"POST", "/v1/checkouts", body_of_size(1024 * 1024),
                    app_headers(core::new_id("idem"))};
      },
      400, kInvalid, "unknown_field", "pad");
  return v;
}

// ---- refunds and cancel ----

std::vector<Case> refund_cancel_cases() {
  std::vector<Case> v;
  auto add = [&](std::string name, std::function<Call()> call, int status, std::string type,
                 std::string code, std::string param) {
    v.push_back({std::move(name), std::move(call), status, std::move(type), std::move(code),
                 std::move(param)});
  };
  add(
      "RefundAmountZero", [] { return refund(BadInput::paid_id(), R"({"amount":0})"); }, 400,
      kInvalid, "amount_out_of_range", "amount");
  add(
      "RefundAmountNegative", [] { return refund(BadInput::paid_id(), R"({"amount":-500})"); }, 400,
      kInvalid, "amount_out_of_range", "amount");
  add(
      "RefundOverRefundable", [] { return refund(BadInput::paid_id(), R"({"amount":901})"); }, 422,
      kInvalid, "unprocessable", "amount");
  add(
      "RefundAmountOverflowing",
      [] { return refund(BadInput::paid_id(), R"({"amount":1000000000000})"); }, 400, kInvalid,
      "amount_out_of_range", "amount");
  add(
      "RefundAmountHuge", [] { return refund(BadInput::paid_id(), R"({"amount":1e300})"); }, 400,
      kInvalid, "invalid_field", "amount");
  add(
      "RefundAmountString", [] { return refund(BadInput::paid_id(), R"({"amount":"500"})"); }, 400,
      kInvalid, "invalid_field", "amount");
  add(
      "RefundAmountFraction", [] { return refund(BadInput::paid_id(), R"({"amount":5.5})"); }, 400,
      kInvalid, "invalid_field", "amount");
  add(
      "RefundUnknownField",
      [] { return refund(BadInput::paid_id(), R"({"amount":100,"currency":"EUR"})"); }, 400,
      kInvalid, "unknown_field", "currency");
  add(
      "RefundReasonWrongType",
      [] { return refund(BadInput::paid_id(), R"({"amount":100,"reason":7})"); }, 400, kInvalid,
      "invalid_field", "reason");
  add(
      "RefundMalformedJson", [] { return refund(BadInput::paid_id(), R"({"amount":)"); }, 400,
      kInvalid, "invalid_json", "");
  add(
      "RefundBodyNotObject", [] { return refund(BadInput::paid_id(), "[100]"); }, 400, kInvalid,
      "invalid_json", "");
  add(
      "RefundCardNumberInReason",
      [] {
        return refund(BadInput::paid_id(), R"({"amount":100,"reason":"card 4242 4242 4242 4242"})");
      },
      400, kInvalid, "card_data_forbidden", "reason");
  add(
      "RefundUnknownCheckout", [] { return refund("chk_nope", R"({"amount":100})"); }, 404,
      "not_found", "not_found", "id");
  add(
      "RefundOfCanceledUnpaidCheckout",
      [] { return refund(BadInput::canceled_id(), R"({"amount":100})"); }, 409, "conflict",
      "invalid_state", "");
  add(
      "RefundWithoutIdempotencyKey",
      [] {
        return Call{"POST", "/v1/checkouts/" + BadInput::paid_id() + "/refunds",
                    R"({"amount":100})", app_headers()};
      },
      400, kInvalid, "missing_idempotency_key", "Idempotency-Key");
  add(
      "RefundWithoutApiKey",
      [] {
        return Call{"POST",
                    "/v1/checkouts/" + BadInput::paid_id() + "/refunds",
                    R"({"amount":100})",
                    {{"content-type", "application/json"}, {"idempotency-key", "k"}}};
      },
      401, "authentication", "authentication_required", "");
  add(
      "RefundContentTypeNotJson",
      [] {
        Call c = refund(BadInput::paid_id(), R"({"amount":100})");
        c.headers[1].value = "text/plain";
        return c;
      },
      415, kInvalid, "unsupported_media_type", "");
  add(
      "CancelUnknownCheckout", [] { return cancel("chk_nope", ""); }, 404, "not_found", "not_found",
      "id");
  add(
      "CancelAlreadyCanceled", [] { return cancel(BadInput::canceled_id(), ""); }, 409, "conflict",
      "invalid_state", "");
  add(
      "CancelUnknownField", [] { return cancel(BadInput::paid_id(), R"({"refund":true})"); }, 400,
      kInvalid, "unknown_field", "refund");
  add(
      "CancelMalformedJson", [] { return cancel(BadInput::paid_id(), "{"); }, 400, kInvalid,
      "invalid_json", "");
  add(
      "CancelReasonTooLong",
      [] { return cancel(BadInput::paid_id(), R"({"reason":")" + std::string(501, 'r') + "\"}"); },
      400, kInvalid, "invalid_field", "reason");
  add(
      "CancelCardNumberInReason",
      [] { return cancel(BadInput::paid_id(), R"({"reason":"4242424242424242"})"); }, 400, kInvalid,
      "card_data_forbidden", "reason");
  add(
      "CancelWithoutIdempotencyKey",
      [] {
        return Call{"POST", "/v1/checkouts/" + BadInput::paid_id() + "/cancel", "", app_headers()};
      },
      400, kInvalid, "missing_idempotency_key", "Idempotency-Key");
  return v;
}

// ---- POST /v1/webhooks/{adapter} ----

std::vector<Case> webhook_cases() {
  std::vector<Case> v;
  auto add = [&](std::string name, std::function<Call()> call, int status, std::string code) {
    v.push_back({std::move(name), std::move(call), status, status == 404 ? "not_found" : kInvalid,
                 std::move(code), ""});
  };
  auto with_param = [&](std::string name, std::function<Call()> call, int status, std::string code,
                        std::string param) {
    v.push_back({std::move(name), std::move(call), status, status == 404 ? "not_found" : kInvalid,
                 std::move(code), std::move(param)});
  };
  with_param(
      "WebhookUnknownAdapter",
      [] {
        std::string body = ok_payment_event("evt_1");
        return webhook("no-such-adapter", body,
                       webhook_headers(seed_secret("sandbox-pay"), "evt_1", now_seconds(), body));
      },
      404, "not_found", "adapter_id");
  add(
      "WebhookNoSignatureHeaders",
      [] {
        return webhook("sandbox-pay", ok_payment_event("evt_2"),
                       {{"content-type", "application/json"}});
      },
      400, "invalid_signature");
  add(
      "WebhookSignatureMissing",
      [] {
        std::string body = ok_payment_event("evt_3");
        auto h = webhook_headers(seed_secret("sandbox-pay"), "evt_3", now_seconds(), body);
        h.pop_back();
        return webhook("sandbox-pay", body, h);
      },
      400, "invalid_signature");
  add(
      "WebhookIdMissing",
      [] {
        std::string body = ok_payment_event("evt_4");
        auto h = webhook_headers(seed_secret("sandbox-pay"), "evt_4", now_seconds(), body);
        h.erase(h.begin() + 1);
        return webhook("sandbox-pay", body, h);
      },
      400, "invalid_signature");
  add(
      "WebhookSignedWithAnotherSecret",
      [] {
        return signed_webhook(ok_payment_event("evt_5"), now_seconds(),
                              seed_secret("sandbox-merch"));
      },
      400, "invalid_signature");
  add(
      "WebhookSignedWithARandomSecret",
      [] {
        return signed_webhook(ok_payment_event("evt_6"), now_seconds(),
                              webhooks::generate_secret());
      },
      400, "invalid_signature");
  add(
      "WebhookBodyTamperedAfterSigning",
      [] {
        std::string body = ok_payment_event("evt_7");
        Call c = signed_webhook(body, now_seconds());
        c.body.replace(c.body.find("900"), 3, "100");
        return c;
      },
      400, "invalid_signature");
  add(
      "WebhookSignatureOfAnotherId",
      [] {
        std::string body = ok_payment_event("evt_8");
        Call c = signed_webhook(body, now_seconds());
        c.headers[1].value = "evt_other";
        return c;
      },
      400, "invalid_signature");
  add(
      "WebhookSignatureVersionV2",
      [] {
        Call c = signed_webhook(ok_payment_event("evt_9"), now_seconds());
        c.headers[3].value.replace(0, 2, "v2");
        return c;
      },
      400, "invalid_signature");
  add(
      "WebhookTimestampNotInteger",
      [] {
        Call c = signed_webhook(ok_payment_event("evt_10"), now_seconds());
        c.headers[2].value += ".5";
        return c;
      },
      400, "invalid_signature");
  add(
      "WebhookStaleTimestamp",
      [] { return signed_webhook(ok_payment_event("evt_11"), now_seconds() - 3600); }, 400,
      "stale_timestamp");
  add(
      "WebhookTimestampFromTheFuture",
      [] { return signed_webhook(ok_payment_event("evt_12"), now_seconds() + 3600); }, 400,
      "stale_timestamp");
  add(
      "WebhookTimestampNearInt64Min",
      [] {
        return signed_webhook(ok_payment_event("evt_13"), std::numeric_limits<std::int64_t>::min());
      },
      400, "stale_timestamp");
  // Correctly signed, but the body is not what the partner sends.
  add(
      "WebhookSignedBodyNotJson", [] { return signed_webhook("not json", now_seconds()); }, 400,
      "invalid_json");
  add(
      "WebhookSignedBodyArray", [] { return signed_webhook("[1,2]", now_seconds()); }, 400,
      "invalid_json");
  add(
      "WebhookSignedBodyWithoutType",
      [] { return signed_webhook(R"({"id":"e","data":{}})", now_seconds()); }, 400, "invalid_json");
  add(
      "WebhookSignedPaymentEventWithoutPayment",
      [] {
        return signed_webhook(R"({"id":"e","type":"payment.succeeded","data":{}})", now_seconds());
      },
      400, "invalid_json");
  add(
      "WebhookSignedPaymentEventWithUnknownStatus",
      [] {
        return signed_webhook(
            payment_event_body("e", "payment.succeeded", BadInput::paid_reference(),
                               BadInput::paid_id(), "exploded", 900, "EUR"),
            now_seconds());
      },
      400, "invalid_json");
  add(
      "WebhookFulfillmentAdapterBadSignature",
      [] {
        std::string body = R"({"id":"e","type":"order.shipped","data":{}})";
        return webhook("sandbox-merch", body,
                       webhook_headers(seed_secret("sandbox-pay"), "evt_14", now_seconds(), body));
      },
      400, "invalid_signature");
  return v;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(CheckoutBody, BadInput, ::testing::ValuesIn(checkout_body_cases()),
                         case_name);
INSTANTIATE_TEST_SUITE_P(CheckoutHeaders, BadInput, ::testing::ValuesIn(checkout_header_cases()),
                         case_name);
INSTANTIATE_TEST_SUITE_P(RefundAndCancel, BadInput, ::testing::ValuesIn(refund_cancel_cases()),
                         case_name);
INSTANTIATE_TEST_SUITE_P(Webhooks, BadInput, ::testing::ValuesIn(webhook_cases()), case_name);

// ---- what the table cannot say ----

using BadInputDetails = BadInput;

TEST_F(BadInputDetails, ErrorsNeverEchoACardNumber) {
  for (const std::string& pan : {std::string(kVisa), std::string("4242 4242 4242 4242")}) {
    Call c = checkout_with([&](bj::object& b) { metadata(b)["note"] = pan; });
    Reply r = f().request(c.method, c.target, c.body, c.headers);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body.find(pan), std::string::npos) << r.body;
    c = checkout_with([&](bj::object& b) { metadata(b)[pan] = "x"; });
    r = f().request(c.method, c.target, c.body, c.headers);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body.find(pan), std::string::npos) << r.body;
  }
}

TEST_F(BadInputDetails, SixteenDigitsThatFailLuhnAreNotACard) {
  // Control for the card cases: the scan refuses card numbers, not every long number.
  Call c = checkout_with([](bj::object& b) {
    metadata(b)["order_ref"] = "4242424242424241";
    payment(b)["method"] = "pm_card_visa";  // still refused, for the method, after the scan
  });
  Reply r = f().request(c.method, c.target, c.body, c.headers);
  EXPECT_TRUE(is_error(r, 400, kInvalid, "invalid_field", "payment.method"));
}

TEST_F(BadInputDetails, DuplicateWebhookIsAcknowledgedAndChangesNothing) {
  const std::string secret = seed_secret("sandbox-pay");
  const std::string event_id = core::new_id("evt_sbx");
  std::string body = ok_payment_event(event_id);

  auto inbound = f().count("SELECT COUNT(*) FROM inbound_webhooks");
  Reply first = f().request("POST", "/v1/webhooks/sandbox-pay", body,
                            webhook_headers(secret, event_id, now_seconds(), body));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(f().count("SELECT COUNT(*) FROM inbound_webhooks"), inbound + 1);
  EXPECT_EQ(f().count("SELECT COUNT(*) FROM inbound_webhooks WHERE partner_event_id = '" +
                      event_id + "'"),
            1);
  ASSERT_TRUE(quiesce(f()));

  std::string before = dump(f());
  // The same delivery again, and the same event id re-signed later with another body: both are
  // acknowledged with 2xx and neither changes anything.
  Reply again = f().request("POST", "/v1/webhooks/sandbox-pay", body,
                            webhook_headers(secret, event_id, now_seconds(), body));
  EXPECT_EQ(again.status, 200) << again.body;
  std::string other = payment_event_body(event_id, "payment.refunded", paid_reference(), paid_id(),
                                         "canceled", 900, "EUR");
  Reply changed = f().request("POST", "/v1/webhooks/sandbox-pay", other,
                              webhook_headers(secret, event_id, now_seconds() - 10, other));
  EXPECT_EQ(changed.status, 200) << changed.body;
  EXPECT_TRUE(quiesce(f()));
  EXPECT_EQ(dump(f()), before);
  EXPECT_EQ(str(f().get_checkout(paid_id()).at("payment").at("status")), "succeeded");
}

TEST_F(BadInputDetails, UnsignedWebhookCannotMoveACheckout) {
  // A forged "payment.succeeded" for the canceled checkout, signed with the wrong secret.
  auto c = f().get_checkout(canceled_id());
  std::string reference = str(c.at("payment").at("reference"));
  std::string body = payment_event_body("evt_forged", "payment.succeeded", reference, canceled_id(),
                                        "succeeded", 900, "EUR");
  std::string before = dump(f());
  Reply r =
      f().request("POST", "/v1/webhooks/sandbox-pay", body,
                  webhook_headers(webhooks::generate_secret(), "evt_forged", now_seconds(), body));
  EXPECT_TRUE(is_error(r, 400, kInvalid, "invalid_signature"));
  EXPECT_EQ(dump(f()), before);
  EXPECT_EQ(str(f().get_checkout(canceled_id()).at("status")), "canceled");
}

}  // namespace
}  // namespace mg::testing::api
