#pragma once
// Delivers events to webhook endpoints, at least once: leases due deliveries (per-checkout order
// per endpoint, a bounded number in flight per endpoint), signs each per Standard Webhooks with
// every live secret, POSTs it, records the attempt, and retries anything but a 2xx within the
// timeout with exponential backoff and full jitter. Once the schedule is spent and at least
// `min_retry_window` has passed, the endpoint is marked failing and paused until re-enabled.
#include "gateway/core/clock.hpp"
#include "gateway/service/secret_box.hpp"
#include "gateway/store/store.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}
namespace mg::http {
class HttpClient;
}

namespace mg::webhooks {

struct DelivererOptions {
  std::string owner;  // lease owner, unique per process
  int per_endpoint = 4;
  int max_in_flight = 64;
  // Waits after the 1st, 2nd, ... failed attempt (Svix-like); the last repeats.
  std::vector<std::chrono::milliseconds> schedule{std::chrono::seconds(5),  std::chrono::minutes(5),
                                                  std::chrono::minutes(30), std::chrono::hours(2),
                                                  std::chrono::hours(5),    std::chrono::hours(10),
                                                  std::chrono::hours(10)};
  // An endpoint is marked failing only after this long of failures (CONTRACT §6: ≥ 24 h).
  std::chrono::milliseconds min_retry_window = std::chrono::hours(24);
  std::chrono::milliseconds timeout{15'000};
  std::chrono::milliseconds poll{250};
  std::chrono::milliseconds lease{60'000};
  std::size_t response_bytes = 256;  // first bytes of the reply kept per attempt
};

// The wait before the next attempt after `attempts` failed ones: full jitter (`draw` in [0, 1))
// below the schedule's step for that attempt (the last step repeats), at least `retry_after`.
std::chrono::milliseconds retry_delay(const std::vector<std::chrono::milliseconds>& schedule,
                                      int attempts, double draw,
                                      std::chrono::milliseconds retry_after);
// True once the schedule is spent and the delivery is older than `min_window`: give up, pause.
bool retries_exhausted(std::size_t schedule_steps, int attempts, std::int64_t age_ms,
                       std::chrono::milliseconds min_window);

class Deliverer {
 public:
  Deliverer(boost::asio::io_context& io, store::Store& store, http::HttpClient& client,
            const service::SecretBox& secrets, const core::Clock& clock, DelivererOptions options);
  ~Deliverer();

  void start();
  // New deliveries were committed, or endpoints changed: look now (thread-safe).
  void notify();
  void endpoints_changed();
  // Stops claiming, waits for sends in flight until `deadline`, releases leases, calls `done`.
  void stop(std::chrono::milliseconds deadline, std::function<void()> done);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace mg::webhooks
