#include "gateway/api/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace mg::api {

std::optional<int> RateLimiter::take(std::string_view key, Clock::time_point now) {
  if (limit_.rate <= 0) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto [it, fresh] = buckets_.try_emplace(std::string(key), Bucket{limit_.burst, now});
  Bucket& b = it->second;
  if (!fresh && now > b.at) {
    double elapsed = std::chrono::duration<double>(now - b.at).count();
    b.tokens = std::min(limit_.burst, b.tokens + elapsed * limit_.rate);
  }
  b.at = std::max(b.at, now);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return std::nullopt;
  }
  return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / limit_.rate)));
}

}  // namespace mg::api
