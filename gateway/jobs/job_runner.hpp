#pragma once
// The workers: claim due jobs with a lease, run them with bounded concurrency, and keep the
// reconciler and housekeeping going. A crash leaves leased jobs whose lease expires and that the
// next process (or another worker) takes again; a clean stop releases them at once.
#include "gateway/service/checkout_service.hpp"
#include "gateway/store/store.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace mg::jobs {

struct RunnerOptions {
  std::string owner;  // unique per process: the lease owner
  int concurrency = 32;
  std::chrono::milliseconds lease{120'000};
  std::chrono::milliseconds poll{500};
  std::chrono::milliseconds reconcile_every{30'000};
  std::chrono::milliseconds housekeeping_every{3'600'000};
};

class JobRunner {
 public:
  JobRunner(boost::asio::io_context& io, store::Store& store, service::CheckoutService& service,
            RunnerOptions options);
  ~JobRunner();

  void start();
  // Wakes the claim loop now (thread-safe); called after commits that queued jobs.
  void notify();
  // Stops claiming, waits for running jobs until `deadline`, releases this owner's leases, then
  // calls `done`.
  void stop(std::chrono::milliseconds deadline, std::function<void()> done);
  int in_flight() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace mg::jobs
