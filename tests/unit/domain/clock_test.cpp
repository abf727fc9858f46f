#include "gateway/core/clock.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mg::core {
namespace {

TEST(FormatTime, IsRfc3339UtcWithMilliseconds) {
  EXPECT_EQ(format_time(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_time(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(format_time(951'782'400'007), "2000-02-29T00:00:00.007Z");
  EXPECT_EQ(format_time(4'102'444'799'999), "2099-12-31T23:59:59.999Z");
}

TEST(FormatTime, NegativeTimesRoundTowardsThePast) {
  EXPECT_EQ(format_time(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_time(-1000), "1969-12-31T23:59:59.000Z");
}

TEST(ParseTime, ReadsWhatFormatTimeWrites) {
  for (Timestamp t : {Timestamp{0}, Timestamp{1'700'000'000'123}, Timestamp{951'782'400'007},
                      Timestamp{4'102'444'799'999}, Timestamp{-1}}) {
    Timestamp back = 42;
    ASSERT_TRUE(parse_time(format_time(t), back)) << format_time(t);
    EXPECT_EQ(back, t);
  }
}

TEST(ParseTime, FractionIsOptionalAndTruncatedToMilliseconds) {
  Timestamp t = 0;
  ASSERT_TRUE(parse_time("2023-11-14T22:13:20Z", t));
  EXPECT_EQ(t, 1'700'000'000'000);
  ASSERT_TRUE(parse_time("2023-11-14T22:13:20.1Z", t));
  EXPECT_EQ(t, 1'700'000'000'100);
  ASSERT_TRUE(parse_time("2023-11-14T22:13:20.123456789Z", t));
  EXPECT_EQ(t, 1'700'000'000'123);
  ASSERT_TRUE(parse_time("2023-11-14T22:13:20.5z", t));
  EXPECT_EQ(t, 1'700'000'000'500);
}

TEST(ParseTime, NumericOffsetsAreConvertedToUtc) {
  Timestamp t = 0;
  ASSERT_TRUE(parse_time("2023-11-15T00:13:20+02:00", t));
  EXPECT_EQ(t, 1'700'000'000'000);
  ASSERT_TRUE(parse_time("2023-11-14T16:43:20.250-05:30", t));
  EXPECT_EQ(t, 1'700'000'000'250);
  ASSERT_TRUE(parse_time("2023-11-14T22:13:20+00:00", t));
  EXPECT_EQ(t, 1'700'000'000'000);
}

TEST(ParseTime, RefusesWhatIsNotRfc3339) {
  for (std::string_view bad :
       {"", "2023-11-14", "2023-11-14T22:13:20", "2023-11-14 22:13:20Z", "2023-13-14T22:13:20Z",
        "2023-00-14T22:13:20Z", "2023-11-32T22:13:20Z", "2023-11-14T24:13:20Z",
        "2023-11-14T22:60:20Z", "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20Zjunk",
        "2023-11-14T22:13:20+0200", "2023-11-14T22:13:20+02:00:00", "yesterday at noon!!"}) {
    Timestamp t = 7;
    EXPECT_FALSE(parse_time(bad, t)) << bad;
    EXPECT_EQ(t, 7) << bad;
  }
}

TEST(ManualClock, IsSetAndAdvancedByHand) {
  ManualClock clock;
  EXPECT_EQ(clock.now(), 1'700'000'000'000);
  clock.advance(1500);
  EXPECT_EQ(clock.now(), 1'700'000'001'500);
  clock.set(5);
  EXPECT_EQ(clock.now(), 5);
  const Clock& base = clock;
  EXPECT_EQ(base.now(), 5);
}

TEST(SystemClock, IsCloseToNow) {
  SystemClock clock;
  Timestamp a = system_now();
  Timestamp b = clock.now();
  EXPECT_GE(b, a);
  EXPECT_LT(b - a, 60'000);
  EXPECT_GT(a, 1'700'000'000'000);
}

}  // namespace
}  // namespace mg::core
