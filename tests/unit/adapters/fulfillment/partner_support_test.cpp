#include "adapters/fulfillment/support/partner_support.hpp"

#include <gtest/gtest.h>

namespace mg::adapters::merch {
namespace {

namespace bj = boost::json;

TEST(PartnerMoney, ReadsDecimalStringsInTheCurrencysMinorUnit) {
  EXPECT_EQ(decimal_to_minor("13.60", "EUR"), 1360);
  EXPECT_EQ(decimal_to_minor("13.6", "EUR"), 1360);
  EXPECT_EQ(decimal_to_minor("13", "EUR"), 1300);
  EXPECT_EQ(decimal_to_minor("0.05", "USD"), 5);
  EXPECT_EQ(decimal_to_minor("13.600", "EUR"), 1360);
  EXPECT_EQ(decimal_to_minor("3000", "JPY"), 3000);
  EXPECT_EQ(decimal_to_minor("3000.00", "JPY"), 3000);
  EXPECT_EQ(decimal_to_minor("1.234", "KWD"), 1234);
}

TEST(PartnerMoney, RefusesWhatIsNotAnAmount) {
  EXPECT_FALSE(decimal_to_minor("13.605", "EUR"));
  EXPECT_FALSE(decimal_to_minor("-1.00", "EUR"));
  EXPECT_FALSE(decimal_to_minor("1,00", "EUR"));
  EXPECT_FALSE(decimal_to_minor("13.", "EUR"));
  EXPECT_FALSE(decimal_to_minor("", "EUR"));
  EXPECT_FALSE(decimal_to_minor("1.5", "JPY"));
  EXPECT_FALSE(decimal_to_minor("1.00", "XXQ"));
  EXPECT_FALSE(decimal_to_minor("99999999999999999", "EUR"));
}

TEST(PartnerMoney, ReadsJsonNumbersToo) {
  EXPECT_EQ(number_to_minor(bj::value(5.11), "EUR"), 511);
  EXPECT_EQ(number_to_minor(bj::value(25), "EUR"), 2500);
  EXPECT_EQ(number_to_minor(bj::value("4.79"), "USD"), 479);
  EXPECT_FALSE(number_to_minor(bj::value(-1.5), "USD"));
  EXPECT_FALSE(number_to_minor(bj::value(nullptr), "USD"));
}

TEST(PartnerMoney, WritesMinorUnitsAsDecimals) {
  EXPECT_EQ(minor_to_decimal(1360, "EUR"), "13.60");
  EXPECT_EQ(minor_to_decimal(5, "USD"), "0.05");
  EXPECT_EQ(minor_to_decimal(0, "EUR"), "0.00");
  EXPECT_EQ(minor_to_decimal(3000, "JPY"), "3000");
  EXPECT_EQ(minor_to_decimal(1234, "KWD"), "1.234");
}

TEST(PartnerText, SplitsNamesIntoTheTwoFieldsPartnersRequire) {
  EXPECT_EQ(split_name("Ada Lovelace"),
            std::make_pair(std::string("Ada"), std::string("Lovelace")));
  EXPECT_EQ(split_name("  Ada Byron King "),
            std::make_pair(std::string("Ada"), std::string("Byron King")));
  EXPECT_EQ(split_name("Cher"), std::make_pair(std::string("Cher"), std::string("Cher")));
}

TEST(PartnerText, EncodesOnePathSegment) {
  EXPECT_EQ(path_segment("@ful_abc"), "%40ful_abc");
  EXPECT_EQ(path_segment("a/b?c"), "a%2Fb%3Fc");
  EXPECT_EQ(path_segment("37365096-6628"), "37365096-6628");
  EXPECT_EQ(join_url("https://api.printful.com/", "/orders"), "https://api.printful.com/orders");
}

TEST(PartnerCalls, ReadsRetryAfterInSecondsAndAsAnHttpDate) {
  core::Timestamp now = 1'445'412'480'000;  // 2015-10-21T07:28:00Z
  EXPECT_EQ(retry_after("30", now, std::chrono::seconds(5)), std::chrono::seconds(30));
  EXPECT_EQ(retry_after("Wed, 21 Oct 2015 07:29:00 GMT", now, std::chrono::seconds(5)),
            std::chrono::seconds(60));
  EXPECT_EQ(retry_after("", now, std::chrono::seconds(5)), std::chrono::seconds(5));
  EXPECT_EQ(retry_after("soon", now, std::chrono::seconds(5)), std::chrono::seconds(5));
  EXPECT_EQ(retry_after("999999999", now, std::chrono::seconds(5)), std::chrono::hours(1));
}

TEST(PartnerCalls, MapsStatusesOntoAdapterErrors) {
  auto code_of = [](int status, std::vector<http::Header> headers = {}) {
    Reply r;
    r.status = status;
    r.headers = std::move(headers);
    return status_error(r, "P", "m", "", 0);
  };
  EXPECT_TRUE(code_of(401).is(adapter_errc::authentication));
  EXPECT_TRUE(code_of(403).is(adapter_errc::authentication));
  EXPECT_TRUE(code_of(404).is(adapter_errc::not_found));
  EXPECT_TRUE(code_of(409).is(adapter_errc::invalid_state));
  EXPECT_TRUE(code_of(400).is(adapter_errc::rejected));
  EXPECT_TRUE(code_of(422).is(adapter_errc::rejected));
  EXPECT_TRUE(code_of(500).is(adapter_errc::partner_error));
  AdapterError limited = code_of(429, {{"retry-after", "12"}});
  EXPECT_TRUE(limited.is(adapter_errc::rate_limited));
  EXPECT_EQ(limited.retry_after, std::chrono::seconds(12));
  EXPECT_TRUE(is_retryable(limited));
  EXPECT_EQ(code_of(429).retry_after, std::chrono::seconds(30));
}

TEST(PartnerCalls, TransportFailuresSayWhetherAnythingWasSent) {
  EXPECT_TRUE(
      transport_error(http::client_errc::connect_failed, "P").is(adapter_errc::unavailable));
  EXPECT_TRUE(transport_error(http::client_errc::read_timeout, "P").is(adapter_errc::timeout));
  EXPECT_TRUE(
      transport_error(http::client_errc::connection_closed, "P").is(adapter_errc::partner_error));
}

TEST(ShippingTable, ChargesTheLargestFirstItemRateAndEachFurtherItem) {
  bj::object tee{{"shipping", bj::object{{"EUR", 495}}},
                 {"shipping_additional", bj::object{{"EUR", 150}}}};
  bj::object poster{{"shipping", bj::object{{"EUR", 300}, {"USD", 350}}}};
  std::vector<OrderLine> lines{{"tee", "Tee", 2, 2500, tee}, {"poster", "Poster", 1, 1500, poster}};
  EXPECT_EQ(table_quote(lines, "EUR"), 495 + 2 * 150);
  EXPECT_FALSE(table_quote(lines, "USD"));  // the tee has no USD rate
  EXPECT_FALSE(table_quote({}, "EUR"));
}

TEST(ShippingTable, ValidatesCurrenciesAndAmounts) {
  EXPECT_TRUE(validate_shipping_table(bj::object{{"shipping", bj::object{{"EUR", 495}}}}));
  auto bad_currency = validate_shipping_table(bj::object{{"shipping", bj::object{{"eur", 1}}}});
  ASSERT_FALSE(bad_currency);
  EXPECT_EQ(bad_currency.error().param, "fulfillment.shipping.eur");
  auto negative =
      validate_shipping_table(bj::object{{"shipping_additional", bj::object{{"EUR", -1}}}});
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().param, "fulfillment.shipping_additional.EUR");
}

TEST(ShippingTable, QuotesFromTheTableOrSaysWhyNothingCanQuote) {
  QuoteRequest q;
  q.currency = "EUR";
  q.lines = {{"tee", "Tee", 1, 2500, bj::object{{"shipping", bj::object{{"EUR", 495}}}}}};
  auto quoted = table_quote_or_error(q, "the shop offers no quotes");
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted->amount, 495);
  EXPECT_EQ(quoted->method, "table");
  q.currency = "USD";
  auto none = table_quote_or_error(q, "the shop offers no quotes");
  ASSERT_FALSE(none);
  EXPECT_TRUE(none.error().is(adapter_errc::unsupported));
  EXPECT_NE(none.error().message.find("USD"), std::string::npos) << none.error().message;
  EXPECT_NE(none.error().message.find("the shop offers no quotes"), std::string::npos);
}

TEST(PartnerCalls, OnlyA4xxAboutTheOrderIsARefusal) {
  for (auto code : {adapter_errc::rejected, adapter_errc::not_found, adapter_errc::invalid_state}) {
    AdapterError e = as_refusal(adapter_error(code, "no", 400), "shop_refused");
    EXPECT_TRUE(e.is(adapter_errc::refused)) << static_cast<int>(code);
    EXPECT_EQ(e.partner_code, "shop_refused");
    EXPECT_EQ(e.http_status, 400);
  }
  EXPECT_EQ(as_refusal(adapter_error(adapter_errc::rejected, "no", 400, "8251"), "x").partner_code,
            "8251");
  // Credentials, rate limits and outages are not the order's fault: they stay retryable or
  // waiting for an operator, and the buyer is not refunded for them.
  for (auto code : {adapter_errc::authentication, adapter_errc::rate_limited,
                    adapter_errc::partner_error, adapter_errc::timeout}) {
    EXPECT_TRUE(as_refusal(adapter_error(code, "later"), "x").is(code));
  }
  AdapterError garbled = unreadable("Printful", 200);
  EXPECT_TRUE(garbled.is(adapter_errc::partner_error));
  EXPECT_EQ(garbled.message, "Printful sent an unreadable answer");
}

TEST(WebhookHmac, ComparesHexSignaturesOfTheExactBody) {
  // RFC 4231 test case 2.
  EXPECT_TRUE(hmac_hex_matches("Jefe", "what do ya want for nothing?",
                               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
  EXPECT_TRUE(hmac_hex_matches("Jefe", "what do ya want for nothing?",
                               "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"));
  EXPECT_FALSE(
      hmac_hex_matches("Jefe", "what do ya want for nothing!",
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
  EXPECT_FALSE(hmac_hex_matches("Jefe", "what do ya want for nothing?", ""));
}

}  // namespace
}  // namespace mg::adapters::merch
