#include "adapters/http/circuit_breaker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace mg::http {
namespace {

using namespace std::chrono_literals;
using State = CircuitBreaker::State;

const CircuitBreaker::Clock::time_point kT0{std::chrono::hours(1)};

TEST(CircuitBreaker, StartsClosedAndAllowsCalls) {
  CircuitBreaker breaker(3, 10s);
  EXPECT_EQ(breaker.state(kT0), State::closed);
  EXPECT_TRUE(breaker.available(kT0));
  EXPECT_TRUE(breaker.allow(kT0));
  EXPECT_TRUE(breaker.allow(kT0));
}

TEST(CircuitBreaker, OpensAfterThresholdConsecutiveFailures) {
  CircuitBreaker breaker(3, 10s);
  breaker.record_failure(kT0);
  breaker.record_failure(kT0);
  EXPECT_EQ(breaker.state(kT0), State::closed);
  EXPECT_TRUE(breaker.allow(kT0));
  breaker.record_failure(kT0);
  EXPECT_EQ(breaker.state(kT0), State::open);
  EXPECT_FALSE(breaker.allow(kT0 + 1s));
  EXPECT_FALSE(breaker.available(kT0 + 1s));
}

TEST(CircuitBreaker, SuccessResetsTheConsecutiveFailureCount) {
  CircuitBreaker breaker(3, 10s);
  breaker.record_failure(kT0);
  breaker.record_failure(kT0);
  breaker.record_success();
  breaker.record_failure(kT0);
  breaker.record_failure(kT0);
  EXPECT_EQ(breaker.state(kT0), State::closed);
  breaker.record_failure(kT0);
  EXPECT_EQ(breaker.state(kT0), State::open);
}

TEST(CircuitBreaker, BecomesHalfOpenOnceOpenPeriodElapsed) {
  CircuitBreaker breaker(1, 10s);
  breaker.record_failure(kT0);
  EXPECT_EQ(breaker.state(kT0 + 9999ms), State::open);
  EXPECT_FALSE(breaker.available(kT0 + 9999ms));
  EXPECT_EQ(breaker.state(kT0 + 10s), State::half_open);
  EXPECT_TRUE(breaker.available(kT0 + 10s));
}

TEST(CircuitBreaker, HalfOpenLetsExactlyOneProbeThrough) {
  CircuitBreaker breaker(1, 10s);
  breaker.record_failure(kT0);
  EXPECT_TRUE(breaker.allow(kT0 + 10s));
  EXPECT_EQ(breaker.state(kT0 + 10s), State::half_open);
  EXPECT_FALSE(breaker.allow(kT0 + 10s));
  EXPECT_FALSE(breaker.allow(kT0 + 60s));
  EXPECT_FALSE(breaker.available(kT0 + 60s));
}

TEST(CircuitBreaker, AvailableDoesNotTakeTheProbe) {
  CircuitBreaker breaker(1, 10s);
  breaker.record_failure(kT0);
  EXPECT_TRUE(breaker.available(kT0 + 10s));
  EXPECT_TRUE(breaker.available(kT0 + 10s));
  EXPECT_TRUE(breaker.allow(kT0 + 10s));
  EXPECT_FALSE(breaker.available(kT0 + 10s));
}

TEST(CircuitBreaker, ProbeSuccessClosesTheBreaker) {
  CircuitBreaker breaker(2, 10s);
  breaker.record_failure(kT0);
  breaker.record_failure(kT0);
  ASSERT_TRUE(breaker.allow(kT0 + 10s));
  breaker.record_success();
  EXPECT_EQ(breaker.state(kT0 + 10s), State::closed);
  EXPECT_TRUE(breaker.allow(kT0 + 10s));
  EXPECT_TRUE(breaker.allow(kT0 + 10s));
  // The failure count starts over after closing.
  breaker.record_failure(kT0 + 11s);
  EXPECT_EQ(breaker.state(kT0 + 11s), State::closed);
}

TEST(CircuitBreaker, ProbeFailureReopensForAnotherFullPeriod) {
  CircuitBreaker breaker(1, 10s);
  breaker.record_failure(kT0);
  ASSERT_TRUE(breaker.allow(kT0 + 15s));
  breaker.record_failure(kT0 + 15s);
  EXPECT_EQ(breaker.state(kT0 + 15s), State::open);
  EXPECT_FALSE(breaker.allow(kT0 + 24s));
  EXPECT_EQ(breaker.state(kT0 + 25s), State::half_open);
  EXPECT_TRUE(breaker.allow(kT0 + 25s));
}

TEST(CircuitBreaker, LateResultsWhileOpenDoNotChangeIt) {
  CircuitBreaker breaker(1, 10s);
  breaker.record_failure(kT0);
  breaker.record_success();
  EXPECT_EQ(breaker.state(kT0 + 1s), State::open);
  breaker.record_failure(kT0 + 5s);
  EXPECT_EQ(breaker.state(kT0 + 10s), State::half_open);
}

TEST(CircuitBreaker, NonPositiveThresholdOpensOnFirstFailure) {
  CircuitBreaker breaker(0, 10s);
  EXPECT_TRUE(breaker.allow(kT0));
  breaker.record_failure(kT0);
  EXPECT_EQ(breaker.state(kT0), State::open);
}

TEST(CircuitBreaker, NamesEachState) {
  EXPECT_EQ(to_string(State::closed), "closed");
  EXPECT_EQ(to_string(State::open), "open");
  EXPECT_EQ(to_string(State::half_open), "half_open");
}

TEST(CircuitBreaker, ConcurrentCallersGetOneHalfOpenProbe) {
  CircuitBreaker breaker(1, 10s);
  breaker.record_failure(kT0);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 1000; ++j) {
        if (breaker.allow(kT0 + 10s)) ++allowed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1);
}

}  // namespace
}  // namespace mg::http
