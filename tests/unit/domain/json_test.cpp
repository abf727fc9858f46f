#include "gateway/core/json.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <string>

namespace mg::core::json {
namespace {

namespace bj = boost::json;

bj::object parse(std::string_view text) { return bj::parse(text).as_object(); }

TEST(ParseObject, AcceptsAnObject) {
  auto o = parse_object(R"({"a": 1, "b": [true, null]})");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->at("a").as_int64(), 1);
}

TEST(ParseObject, RefusesMalformedJsonAndOtherTopLevels) {
  for (std::string_view bad : {"", "{", "{\"a\":}", "[1]", "\"s\"", "42", "null", "{} {}"}) {
    auto o = parse_object(bad);
    ASSERT_FALSE(o.has_value()) << bad;
    EXPECT_EQ(o.error().code, errc::invalid_json) << bad;
    EXPECT_EQ(o.error().status(), 400);
  }
}

TEST(ParseObject, LimitsNestingDepth) {
  auto nested = [](int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += "{\"a\":";
    s += "1";
    for (int i = 0; i < depth; ++i) s += "}";
    return s;
  };
  EXPECT_TRUE(parse_object(nested(32)).has_value());
  auto deep = parse_object(nested(33));
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error().code, errc::invalid_json);
}

TEST(Paths, JoinAndIndex) {
  EXPECT_EQ(join("", "seller"), "seller");
  EXPECT_EQ(join("buyer", "email"), "buyer.email");
  EXPECT_EQ(index("lines", 3), "lines[3]");
  EXPECT_EQ(join(index("lines", 0), "sku"), "lines[0].sku");
}

TEST(OnlyKeys, NamesTheFirstUnknownKeyWithItsPath) {
  auto o = parse(R"({"a": 1, "zz": 2})");
  EXPECT_TRUE(only_keys(o, {"a", "zz"}, "").has_value());
  auto r = only_keys(o, {"a"}, "payment");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::unknown_field);
  EXPECT_EQ(r.error().param, "payment.zz");
}

TEST(RequiredString, MissingAndNullAreMissing) {
  auto o = parse(R"({"n": null})");
  for (std::string_view key : {"n", "absent"}) {
    auto r = required_string({o, key, "x"});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::missing_field);
    EXPECT_EQ(r.error().param, "x." + std::string(key));
  }
}

TEST(RequiredString, ChecksTypeLengthAndText) {
  auto o = parse(R"({"num": 1, "empty": "", "long": "abcdef", "ctl": "a\u0000b", "ok": "héllo"})");
  EXPECT_EQ(required_string({o, "num", ""}).error().code, errc::invalid_field);
  EXPECT_EQ(required_string({o, "empty", ""}).error().code, errc::invalid_field);
  EXPECT_EQ(required_string({o, "long", ""}, 5).error().code, errc::invalid_field);
  EXPECT_EQ(required_string({o, "ctl", ""}).error().param, "ctl");
  auto ok = required_string({o, "ok", ""}, 6);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, "héllo");
}

TEST(OptionalString, AbsentOrNullIsNulloptAndEmptyIsAllowed) {
  auto o = parse(R"({"n": null, "e": "", "bad": false})");
  EXPECT_FALSE(optional_string({o, "n", ""})->has_value());
  EXPECT_FALSE(optional_string({o, "absent", ""})->has_value());
  EXPECT_EQ(optional_string({o, "e", ""})->value(), "");
  EXPECT_EQ(optional_string({o, "bad", ""}).error().code, errc::invalid_field);
}

TEST(AsInt, OnlyIntegersInRange) {
  EXPECT_EQ(as_int(bj::value(5), "q", 1, 10).value(), 5);
  EXPECT_EQ(as_int(bj::value(1), "q", 1, 10).value(), 1);
  EXPECT_EQ(as_int(bj::value(10), "q", 1, 10).value(), 10);
  EXPECT_EQ(as_int(bj::value(11), "q", 1, 10).error().code, errc::amount_out_of_range);
  EXPECT_EQ(as_int(bj::value(0), "q", 1, 10).error().code, errc::amount_out_of_range);
  EXPECT_EQ(as_int(bj::value(std::uint64_t{1} << 63), "q", 0, INT64_MAX).error().code,
            errc::amount_out_of_range);
  EXPECT_EQ(as_int(bj::value(5.0), "q", 1, 10).error().code, errc::invalid_field);
  EXPECT_EQ(as_int(bj::value("5"), "q", 1, 10).error().code, errc::invalid_field);
  EXPECT_EQ(as_int(bj::value(nullptr), "q", 1, 10).error().param, "q");
}

TEST(RequiredInt, MissingIsMissingField) {
  auto o = parse(R"({"a": null})");
  EXPECT_EQ(required_int({o, "a", "p"}, 0, 1).error().code, errc::missing_field);
  EXPECT_EQ(required_int({o, "a", "p"}, 0, 1).error().param, "p.a");
  EXPECT_FALSE(optional_int({o, "a", "p"}, 0, 1)->has_value());
}

TEST(OptionalBool, OnlyBooleans) {
  auto o = parse(R"({"t": true, "s": "true"})");
  EXPECT_EQ(optional_bool({o, "t", ""})->value(), true);
  EXPECT_FALSE(optional_bool({o, "absent", ""})->has_value());
  EXPECT_EQ(optional_bool({o, "s", ""}).error().code, errc::invalid_field);
}

TEST(ObjectsAndArrays, TypeChecked) {
  auto o = parse(R"({"o": {}, "a": [], "n": null, "s": "x"})");
  EXPECT_NE(*optional_object({o, "o", ""}), nullptr);
  EXPECT_EQ(*optional_object({o, "n", ""}), nullptr);
  EXPECT_EQ(optional_object({o, "s", ""}).error().code, errc::invalid_field);
  EXPECT_EQ(required_object({o, "n", ""}).error().code, errc::missing_field);
  EXPECT_NE(*required_array({o, "a", ""}), nullptr);
  EXPECT_EQ(required_array({o, "o", ""}).error().code, errc::invalid_field);
  EXPECT_EQ(required_array({o, "absent", "z"}).error().param, "z.absent");
  EXPECT_EQ(*optional_array({o, "absent", ""}), nullptr);
}

TEST(IsCleanText, AcceptsPrintableUtf8TabsAndNewlines) {
  EXPECT_TRUE(is_clean_text(""));
  EXPECT_TRUE(is_clean_text("plain ascii ~"));
  EXPECT_TRUE(is_clean_text("line\nnext\ttab"));
  EXPECT_TRUE(is_clean_text("caf\xC3\xA9"));       // é
  EXPECT_TRUE(is_clean_text("\xE2\x82\xAC 5"));    // €
  EXPECT_TRUE(is_clean_text("\xF0\x9F\x98\x80"));  // 😀
  EXPECT_TRUE(is_clean_text("\xED\x9F\xBF"));      // U+D7FF, last before surrogates
  EXPECT_TRUE(is_clean_text("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST(IsCleanText, RefusesControlCharacters) {
  EXPECT_FALSE(is_clean_text(std::string_view("a\0b", 3)));
  EXPECT_FALSE(is_clean_text("a\rb"));
  EXPECT_FALSE(is_clean_text("a\x1b[31m"));
  EXPECT_FALSE(is_clean_text("a\x7f"));
}

TEST(IsCleanText, RefusesMalformedUtf8) {
  EXPECT_FALSE(is_clean_text("\x80"));              // lone continuation byte
  EXPECT_FALSE(is_clean_text("\xC3"));              // truncated
  EXPECT_FALSE(is_clean_text("\xE2\x82"));          // truncated
  EXPECT_FALSE(is_clean_text("\xC3\x28"));          // bad continuation
  EXPECT_FALSE(is_clean_text("\xC0\x80"));          // overlong NUL
  EXPECT_FALSE(is_clean_text("\xF5\x80\x80\x80"));  // beyond U+10FFFF lead
  EXPECT_FALSE(is_clean_text("\xFF"));
}

TEST(IsCleanText, RefusesOverlongSurrogateAndOutOfRangeSequences) {
  EXPECT_FALSE(is_clean_text("\xE0\x80\xAF"));      // overlong '/'
  EXPECT_FALSE(is_clean_text("\xED\xA0\x80"));      // UTF-16 surrogate U+D800
  EXPECT_FALSE(is_clean_text("\xF0\x82\x82\xAC"));  // overlong €
  EXPECT_FALSE(is_clean_text("\xF4\x90\x80\x80"));  // U+110000
}

}  // namespace
}  // namespace mg::core::json
