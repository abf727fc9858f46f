#include "adapters/http/circuit_breaker.hpp"

#include <algorithm>

namespace mg::http {

CircuitBreaker::CircuitBreaker(int failure_threshold, std::chrono::milliseconds open_for)
    : failure_threshold_(std::max(failure_threshold, 1)),
      open_for_(std::max(open_for, std::chrono::milliseconds::zero())) {}

bool CircuitBreaker::allow(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  switch (state_) {
    case State::closed:
      return true;
    case State::open:
      if (now - opened_at_ < open_for_) return false;
      state_ = State::half_open;
      probe_in_flight_ = true;
      return true;
    case State::half_open:
      if (probe_in_flight_) return false;
      probe_in_flight_ = true;
      return true;
  }
  return false;
}

void CircuitBreaker::record_success() {
  std::lock_guard lock(mutex_);
  // A success reported while open came from a call that started before the breaker opened: it
  // says nothing about recovery, so only the half-open probe (or a closed-state call) counts.
  if (state_ == State::open) return;
  state_ = State::closed;
  consecutive_failures_ = 0;
  probe_in_flight_ = false;
}

void CircuitBreaker::record_failure(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  switch (state_) {
    case State::closed:
      if (++consecutive_failures_ >= failure_threshold_) {
        state_ = State::open;
        opened_at_ = now;
      }
      return;
    case State::open:
      // Late failures of calls started before opening do not extend the open period.
      return;
    case State::half_open:
      state_ = State::open;
      opened_at_ = now;
      probe_in_flight_ = false;
      return;
  }
}

CircuitBreaker::State CircuitBreaker::state(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  if (state_ == State::open && now - opened_at_ >= open_for_) return State::half_open;
  return state_;
}

bool CircuitBreaker::available(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  switch (state_) {
    case State::closed:
      return true;
    case State::open:
      return now - opened_at_ >= open_for_;
    case State::half_open:
      return !probe_in_flight_;
  }
  return false;
}

std::string_view to_string(CircuitBreaker::State s) noexcept {
  switch (s) {
    case CircuitBreaker::State::closed:
      return "closed";
    case CircuitBreaker::State::open:
      return "open";
    case CircuitBreaker::State::half_open:
      return "half_open";
  }
  return "unknown";
}

}  // namespace mg::http
