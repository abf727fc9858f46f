#pragma once
// A circuit breaker per adapter instance: after `failure_threshold` consecutive failures it opens
// for `open_for`; then one probe is let through (half-open); a success closes it, a failure opens
// it again. Its state feeds routing (an open breaker is skipped) and /readyz detail.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

namespace mg::http {

class CircuitBreaker {
 public:
  enum class State { closed, open, half_open };
  using Clock = std::chrono::steady_clock;

  explicit CircuitBreaker(int failure_threshold = 5,
                          std::chrono::milliseconds open_for = std::chrono::seconds(30));

  // May a call go out now? In half_open, true for exactly one caller until it reports.
  bool allow(Clock::time_point now = Clock::now());
  void record_success();
  void record_failure(Clock::time_point now = Clock::now());
  State state(Clock::time_point now = Clock::now()) const;
  // Would `allow` say yes, without taking the half-open probe (for routing decisions).
  bool available(Clock::time_point now = Clock::now()) const;

 private:
  mutable std::mutex mutex_;
  int failure_threshold_;
  std::chrono::milliseconds open_for_;
  int consecutive_failures_ = 0;
  State state_ = State::closed;
  Clock::time_point opened_at_{};
  bool probe_in_flight_ = false;
};

std::string_view to_string(CircuitBreaker::State s) noexcept;

}  // namespace mg::http
