#pragma once
// Per-key rate limits: a token bucket per API key id, refilled at `rate` tokens a second up to
// `burst`. One request takes one token; without one it is refused with 429 and Retry-After.
// In memory and per process (a restart refills every bucket). Thread-safe.
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mg::api {

struct RateLimit {
  double rate = 50;  // tokens per second; 0 turns limiting off
  double burst = 100;
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RateLimiter(RateLimit limit = {}) : limit_(limit) {}

  // Takes a token for `key`. Without one: the whole seconds until one is back (at least 1).
  std::optional<int> take(std::string_view key, Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point at;
  };
  RateLimit limit_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace mg::api
