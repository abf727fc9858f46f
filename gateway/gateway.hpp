#pragma once
// The whole gateway wired together: store, adapters, services, workers, HTTP app and listener.
// `main` runs one; integration tests run one in-process on a temporary directory.
#include "config/config.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/core/error.hpp"

#include <cstdint>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace mg {
namespace api {
class App;
}
namespace service {
class CheckoutService;
class AdminService;
class AdapterManager;
}  // namespace service
namespace store {
class Store;
}

class Gateway {
 public:
  // Opens and migrates the store, builds the adapters and services, starts the I/O threads and
  // applies the config seed. Does not listen yet. `clock` defaults to the system clock.
  static Result<std::unique_ptr<Gateway>> create(const config::Config& config,
                                                 const core::Clock* clock = nullptr);
  ~Gateway();

  // Binds the listener (start-up errors: address, port, certificate).
  Result<void> listen();
  std::uint16_t port() const;
  // Starts accepting requests and running jobs.
  void start();
  // Drains: stops accepting, finishes requests and jobs in flight (up to the drain timeout),
  // stops the workers and closes the store. Blocks until done. Idempotent.
  void stop();
  // Blocks until SIGTERM or SIGINT, then stops.
  void run_until_signal();

  boost::asio::io_context& io();
  api::App& app();
  service::CheckoutService& checkouts();
  service::AdminService& admin();
  service::AdapterManager& adapters();
  store::Store& store();
  const config::Config& config() const;
  // Wakes the job workers (tests that move a manual clock).
  void wake_jobs();

 private:
  Gateway();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mg
