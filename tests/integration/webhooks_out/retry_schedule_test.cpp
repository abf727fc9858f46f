// The retry schedule as pure functions: full jitter below each step, the last step repeating,
// Retry-After as a floor, and giving up only after the schedule and the minimum window.
#include "webhooks/outbound/deliverer.hpp"

#include <gtest/gtest.h>

namespace mg::webhooks {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

const std::vector<milliseconds> kDefault = DelivererOptions{}.schedule;

TEST(RetrySchedule, TheDefaultIsTheDocumentedOneAndSpansAtLeastADay) {
  std::vector<milliseconds> documented{seconds(5), minutes(5), minutes(30), hours(2),
                                       hours(5),   hours(10),  hours(10)};
  EXPECT_EQ(kDefault, documented);
  milliseconds total{0};
  for (auto step : kDefault) total += step;
  EXPECT_GE(total, hours(24) + minutes(30));  // docs/webhooks.md: "at least 24 h"
  EXPECT_EQ(DelivererOptions{}.min_retry_window, hours(24));
}

TEST(RetrySchedule, FullJitterStaysBelowEachStep) {
  for (int attempt = 1; attempt <= 7; ++attempt) {
    auto step = kDefault[attempt - 1];
    EXPECT_EQ(retry_delay(kDefault, attempt, 0.0, milliseconds(0)), milliseconds(0));
    EXPECT_EQ(retry_delay(kDefault, attempt, 0.5, milliseconds(0)), step / 2);
    EXPECT_LT(retry_delay(kDefault, attempt, 0.999999, milliseconds(0)), step);
  }
}

TEST(RetrySchedule, TheLastStepRepeatsAndOddDrawsAreClamped) {
  EXPECT_EQ(retry_delay(kDefault, 30, 0.5, milliseconds(0)), hours(5));
  EXPECT_EQ(retry_delay(kDefault, 1, 7.0, milliseconds(0)), seconds(5));
  EXPECT_EQ(retry_delay(kDefault, 1, -1.0, milliseconds(0)), milliseconds(0));
  EXPECT_EQ(retry_delay(kDefault, 0, 0.5, milliseconds(0)), milliseconds(2500));
}

TEST(RetrySchedule, RetryAfterIsAFloor) {
  EXPECT_EQ(retry_delay(kDefault, 1, 0.1, seconds(120)), seconds(120));
  EXPECT_EQ(retry_delay(kDefault, 3, 0.5, seconds(1)), minutes(15));
}

TEST(RetrySchedule, GivesUpOnlyAfterTheScheduleAndTheWindow) {
  auto day = hours(24);
  std::int64_t day_ms = std::chrono::duration_cast<milliseconds>(day).count();
  EXPECT_FALSE(retries_exhausted(7, 6, day_ms, day)) << "schedule not spent";
  EXPECT_FALSE(retries_exhausted(7, 7, day_ms - 1, day)) << "window not over";
  EXPECT_TRUE(retries_exhausted(7, 7, day_ms, day));
  EXPECT_TRUE(retries_exhausted(7, 12, day_ms * 2, day));
}

}  // namespace
}  // namespace mg::webhooks
