#include "gateway/core/routing.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace mg::core {
namespace {

namespace bj = boost::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

bj::object parse(std::string_view text) { return bj::parse(text).as_object(); }

// The CONTRACT §5 example.
constexpr std::string_view kContractRouting = R"({"rules": [
  {"match": {"currency": ["EUR"], "country": ["IT", "FR"], "min_amount": 0, "max_amount": 100000},
   "processors": ["adyen-eu", "stripe-main"]},
  {"match": {}, "processors": ["stripe-main"]}]})";

RoutingTable contract_table() {
  auto t = parse_routing(parse(kContractRouting));
  EXPECT_TRUE(t.has_value());
  return t ? *t : RoutingTable{};
}

TEST(Route, FirstMatchingRuleWins) {
  RoutingTable t = contract_table();
  EXPECT_THAT(route(t, "EUR", "IT", 2599), ElementsAre("adyen-eu", "stripe-main"));
  EXPECT_THAT(route(t, "EUR", "FR", 100000), ElementsAre("adyen-eu", "stripe-main"));
}

TEST(Route, FallsThroughWhenAnyConditionFails) {
  RoutingTable t = contract_table();
  EXPECT_THAT(route(t, "USD", "IT", 2599), ElementsAre("stripe-main"));
  EXPECT_THAT(route(t, "EUR", "DE", 2599), ElementsAre("stripe-main"));
  EXPECT_THAT(route(t, "EUR", "IT", 100001), ElementsAre("stripe-main"));
  // No shipping address: a country rule cannot match.
  EXPECT_THAT(route(t, "EUR", "", 2599), ElementsAre("stripe-main"));
}

TEST(Route, MinAmountIsInclusive) {
  RoutingTable t;
  t.rules.push_back({{}, {}, 1000, std::nullopt, {"big"}});
  EXPECT_THAT(route(t, "EUR", "IT", 1000), ElementsAre("big"));
  EXPECT_THAT(route(t, "EUR", "IT", 999), IsEmpty());
}

TEST(Route, NoMatchingRuleIsEmpty) {
  RoutingTable t;
  t.rules.push_back({{"JPY"}, {}, std::nullopt, std::nullopt, {"jp"}});
  EXPECT_THAT(route(t, "EUR", "IT", 1), IsEmpty());
  EXPECT_THAT(route(RoutingTable{}, "EUR", "IT", 1), IsEmpty());
}

TEST(ParseRouting, ReadsTheContractExample) {
  RoutingTable t = contract_table();
  ASSERT_EQ(t.rules.size(), 2u);
  EXPECT_THAT(t.rules[0].currencies, ElementsAre("EUR"));
  EXPECT_THAT(t.rules[0].countries, ElementsAre("IT", "FR"));
  EXPECT_EQ(t.rules[0].min_amount, 0);
  EXPECT_EQ(t.rules[0].max_amount, 100000);
  EXPECT_THAT(t.rules[0].processors, ElementsAre("adyen-eu", "stripe-main"));
  EXPECT_THAT(t.rules[1].currencies, IsEmpty());
  EXPECT_FALSE(t.rules[1].min_amount.has_value());
  EXPECT_FALSE(t.rules[1].max_amount.has_value());
}

TEST(ParseRouting, RuleWithoutMatchMatchesEverything) {
  auto t = parse_routing(parse(R"({"rules": [{"processors": ["p1"]}]})"));
  ASSERT_TRUE(t.has_value());
  EXPECT_THAT(route(*t, "KWD", "", 0), ElementsAre("p1"));
}

TEST(ParseRouting, JsonRoundTripIsLossless) {
  RoutingTable t = contract_table();
  bj::object j = to_json(t);
  auto again = parse_routing(j);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(to_json(*again), j);
  EXPECT_EQ(j.at("rules").as_array()[1].at("match").as_object(), bj::object{});
}

struct BadRouting {
  std::string_view body;
  errc code;
  std::string_view param;
};

class ParseRoutingErrors : public ::testing::TestWithParam<BadRouting> {};

TEST_P(ParseRoutingErrors, NameTheField) {
  auto t = parse_routing(parse(GetParam().body));
  ASSERT_FALSE(t.has_value()) << GetParam().body;
  EXPECT_EQ(t.error().code, GetParam().code);
  EXPECT_EQ(t.error().param, GetParam().param);
  EXPECT_EQ(t.error().status(), 400);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseRoutingErrors,
    ::testing::Values(
        BadRouting{R"({})", errc::missing_field, "rules"},
        BadRouting{R"({"rules": [], "x": 1})", errc::unknown_field, "x"},
        BadRouting{R"({"rules": {}})", errc::invalid_field, "rules"},
        BadRouting{R"({"rules": [5]})", errc::invalid_field, "rules[0]"},
        BadRouting{R"({"rules": [{"processors": ["a"], "weight": 1}]})", errc::unknown_field,
                   "rules[0].weight"},
        BadRouting{R"({"rules": [{"match": {"amount": 1}, "processors": ["a"]}]})",
                   errc::unknown_field, "rules[0].match.amount"},
        BadRouting{R"({"rules": [{"match": {"currency": ["EUR", "eur"]}, "processors": ["a"]}]})",
                   errc::invalid_field, "rules[0].match.currency[1]"},
        BadRouting{R"({"rules": [{"match": {"country": ["it"]}, "processors": ["a"]}]})",
                   errc::invalid_field, "rules[0].match.country[0]"},
        BadRouting{R"({"rules": [{"match": {"min_amount": -1}, "processors": ["a"]}]})",
                   errc::amount_out_of_range, "rules[0].match.min_amount"},
        BadRouting{R"({"rules": [{"match": {"max_amount": 1.5}, "processors": ["a"]}]})",
                   errc::invalid_field, "rules[0].match.max_amount"},
        BadRouting{
            R"({"rules": [{"match": {"min_amount": 10, "max_amount": 5}, "processors": ["a"]}]})",
            errc::invalid_field, "rules[0].match.min_amount"},
        BadRouting{R"({"rules": [{"match": {}}]})", errc::missing_field, "rules[0].processors"},
        BadRouting{R"({"rules": [{"processors": []}]})", errc::missing_field,
                   "rules[0].processors"},
        BadRouting{R"({"rules": [{"processors": ["Stripe Main"]}]})", errc::invalid_field,
                   "rules[0].processors[0]"},
        BadRouting{R"({"rules": [{"processors": ["ok"]}, {"processors": [1]}]})",
                   errc::invalid_field, "rules[1].processors[0]"}));

TEST(ParseRouting, AtMostAHundredRules) {
  bj::array rules;
  for (int i = 0; i < 100; ++i) rules.push_back(bj::object{{"processors", bj::array{"p"}}});
  EXPECT_TRUE(parse_routing(bj::object{{"rules", rules}}).has_value());
  rules.push_back(bj::object{{"processors", bj::array{"p"}}});
  auto t = parse_routing(bj::object{{"rules", rules}});
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().param, "rules");
}

}  // namespace
}  // namespace mg::core
