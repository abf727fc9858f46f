#include "gateway/log/log.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <cmath>
#include <limits>
#include <string>

namespace mg::log {
namespace {

namespace bj = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kTs = "2026-11-26T16:32:00.123Z";

bj::object parsed(const std::string& line) {
  boost::system::error_code ec;
  bj::value v = bj::parse(line, ec);
  EXPECT_FALSE(ec) << "not JSON: " << line;
  return !ec && v.is_object() ? v.as_object() : bj::object{};
}

TEST(JsonLine, HasTimestampLevelEventAndFieldsInOrder) {
  std::string line = format_line(true, Level::info, kTs, "checkout.created",
                                 {{"checkout", "chk_1"}, {"amount", 2599}, {"ok", true}});
  EXPECT_EQ(line, R"({"ts":"2026-11-26T16:32:00.123Z","level":"info","event":"checkout.created",)"
                  R"("checkout":"chk_1","amount":2599,"ok":true})");
}

TEST(JsonLine, EscapesQuotesBackslashesAndControlCharacters) {
  std::string nasty = "say \"hi\"\\ \n\r\t\x01\x1f end";
  std::string line = format_line(true, Level::error, kTs, "boom", {{"detail", nasty}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_THAT(line, HasSubstr(R"(say \"hi\"\\ \n\r\t\u0001\u001f end)"));
  bj::object o = parsed(line);
  EXPECT_EQ(o.at("detail").as_string(), nasty);
  EXPECT_EQ(o.at("level").as_string(), "error");
}

TEST(JsonLine, EscapesKeysAndEventToo) {
  std::string line = format_line(true, Level::warn, kTs, "ev\"ent", {{"k\"ey", "v"}});
  bj::object o = parsed(line);
  EXPECT_EQ(o.at("event").as_string(), "ev\"ent");
  EXPECT_EQ(o.at("k\"ey").as_string(), "v");
}

TEST(JsonLine, KeepsUtf8AsIs) {
  std::string line = format_line(true, Level::info, kTs, "e", {{"city", "Zürich €"}});
  EXPECT_THAT(line, HasSubstr("Zürich €"));
  EXPECT_EQ(parsed(line).at("city").as_string(), "Zürich €");
}

TEST(JsonLine, NumbersAreJsonNumbers) {
  std::int64_t big = std::numeric_limits<std::int64_t>::min();
  std::size_t count = 7;
  std::string line =
      format_line(true, Level::debug, kTs, "e", {{"big", big}, {"n", count}, {"ratio", 0.25}});
  bj::object o = parsed(line);
  EXPECT_EQ(o.at("big").as_int64(), big);
  EXPECT_EQ(o.at("n").as_int64(), 7);
  EXPECT_DOUBLE_EQ(o.at("ratio").as_double(), 0.25);
  EXPECT_EQ(o.at("level").as_string(), "debug");
}

TEST(JsonLine, NonFiniteNumbersStillMakeValidJson) {
  std::string line =
      format_line(true, Level::info, kTs, "e",
                  {{"nan", std::nan("")}, {"inf", std::numeric_limits<double>::infinity()}});
  bj::object o = parsed(line);
  EXPECT_TRUE(o.contains("nan"));
  EXPECT_TRUE(o.contains("inf"));
}

TEST(TextLine, IsReadableKeyValuePairs) {
  std::string line = format_line(false, Level::warn, kTs, "job.retry",
                                 {{"job", "j_1"}, {"attempt", 3}, {"final", false}});
  EXPECT_EQ(line, "2026-11-26T16:32:00.123Z WARN job.retry job=j_1 attempt=3 final=false");
}

TEST(TextLine, QuotesValuesThatWouldBeAmbiguous) {
  std::string line =
      format_line(false, Level::info, kTs, "e",
                  {{"msg", "two words"}, {"eq", "a=b"}, {"q", "say \"x\""}, {"empty", ""}});
  EXPECT_EQ(line,
            R"(2026-11-26T16:32:00.123Z INFO e msg="two words" eq="a=b" q="say \"x\"" empty="")");
}

TEST(TextLine, ControlCharactersCannotForgeALine) {
  std::string line = format_line(false, Level::info, kTs, "e",
                                 {{"path", "/x\n2026-01-01T00:00:00.000Z ERROR forged"},
                                  {"nl", "a\nb"},
                                  {"cr", "a\rb"},
                                  {"esc", "\x1b[31mred"}});
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_EQ(line.find('\r'), std::string::npos) << line;
  EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
  EXPECT_THAT(line, HasSubstr(R"(path="/x\n2026)"));
  EXPECT_THAT(line, HasSubstr(R"(nl="a\nb" cr="a\rb" esc="\u001b[31mred")"));
}

TEST(TextLine, LevelNamesAreUpperCase) {
  EXPECT_THAT(format_line(false, Level::debug, kTs, "e", {}), HasSubstr(" DEBUG e"));
  EXPECT_THAT(format_line(false, Level::error, kTs, "e", {}), HasSubstr(" ERROR e"));
  EXPECT_EQ(format_line(false, Level::info, kTs, "e", {}), "2026-11-26T16:32:00.123Z INFO e");
}

TEST(ParseLevel, AcceptsTheFourLevelsAndWarning) {
  Level l = Level::error;
  ASSERT_TRUE(parse_level("debug", l));
  EXPECT_EQ(l, Level::debug);
  ASSERT_TRUE(parse_level("warning", l));
  EXPECT_EQ(l, Level::warn);
  ASSERT_TRUE(parse_level("error", l));
  EXPECT_EQ(l, Level::error);
  ASSERT_TRUE(parse_level("info", l));
  EXPECT_EQ(l, Level::info);
  for (std::string_view bad : {"", "INFO", "trace", "verbose"}) {
    EXPECT_FALSE(parse_level(bad, l)) << bad;
    EXPECT_EQ(l, Level::info);
  }
}

TEST(Configure, SetsTheThresholdAndRefusesUnknownValues) {
  ASSERT_TRUE(configure("json", "error"));
  EXPECT_FALSE(enabled(Level::warn));
  EXPECT_TRUE(enabled(Level::error));
  EXPECT_FALSE(configure("xml", "debug"));
  EXPECT_FALSE(configure("text", "loud"));
  EXPECT_FALSE(enabled(Level::debug));  // unchanged by the refused calls
  ASSERT_TRUE(configure("text", "debug"));
  EXPECT_TRUE(enabled(Level::debug));
  ASSERT_TRUE(configure("json", "info"));  // the default, for the other tests
  EXPECT_FALSE(enabled(Level::debug));
  EXPECT_TRUE(enabled(Level::info));
}

}  // namespace
}  // namespace mg::log
