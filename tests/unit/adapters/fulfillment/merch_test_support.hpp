#pragma once
// Helpers for the merch-partner adapter tests: fixtures from the partners' documentation, and a
// partner simulator served in-process on 127.0.0.1 (port 0) with an adapter built through the
// registry pointing at it, plus a capture server standing in for the gateway's webhook URL.
#include "adapters/adapter.hpp"
#include "adapters/http/client.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/server/server.hpp"
#include "tools/sim/sim.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef MERCHGATE_FIXTURES_DIR
#error "MERCHGATE_FIXTURES_DIR must name tests/fixtures"
#endif

namespace mg::testing {

inline std::string fixture(const std::string& relative) {
  std::ifstream in(std::string(MERCHGATE_FIXTURES_DIR) + "/" + relative, std::ios::binary);
  if (!in) throw std::runtime_error("no fixture " + relative);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline boost::json::object fixture_json(const std::string& relative) {
  return boost::json::parse(fixture(relative)).as_object();
}

inline adapters::WebhookRequest webhook(std::string body, std::vector<http::Header> headers,
                                        core::Timestamp now = 0) {
  adapters::WebhookRequest w;
  w.body = std::move(body);
  w.headers = std::move(headers);
  w.now = now ? now : core::system_now();
  return w;
}

inline adapters::OrderLine line(std::string sku, std::int64_t quantity, std::int64_t unit_amount,
                                boost::json::object spec) {
  return adapters::OrderLine{std::move(sku), "Title of " + sku, quantity, unit_amount,
                             std::move(spec)};
}

inline core::Address address(std::string country = "IT") {
  core::Address a;
  a.name = "Ada Lovelace";
  a.line1 = "1 Main St";
  a.city = "Milan";
  a.postal_code = "20121";
  a.country = std::move(country);
  return a;
}

// A simulator on its own io_context thread, the shared HTTP client, and adapters built
// through the registry with `base_url` at the simulator.
class SimHarness {
 public:
  using Factory = std::function<std::unique_ptr<sim::Simulator>(sim::Context&)>;

  SimHarness(std::string partner, Factory make, std::string secret = {}, std::int64_t step_ms = 100)
      : work_(boost::asio::make_work_guard(io_)) {
    // The order book reads its step when the simulator is made.
    ::setenv("MERCHGATE_SIM_ORDER_STEP_MS", std::to_string(step_ms).c_str(), 1);
    ctx_ = std::make_unique<sim::Context>(io_, partner, 7);
    ctx_->set_secret(std::move(secret));
    sim_ = make(*ctx_);
    http::ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    sim::Context* ctx = ctx_.get();
    sim::Simulator* s = sim_.get();
    server_ = std::make_unique<http::Server>(
        io_, so, [ctx, s, this](http::Request& req) -> boost::asio::awaitable<http::Response> {
          ctx->record(req);
          if (auto canned = next_canned()) co_return *canned;
          co_return co_await s->handle(req);
        });
    if (auto r = server_->listen(); !r) throw std::runtime_error(r.error().message);
    server_->start();
    http::ServerOptions ho = so;
    hooks_ = std::make_unique<http::Server>(
        io_, ho, [this](http::Request& req) -> boost::asio::awaitable<http::Response> {
          {
            std::lock_guard lock(mutex_);
            hooks_received_.push_back(req);
          }
          http::Response r;
          r.body = R"({"received":true})";
          co_return r;
        });
    if (auto r = hooks_->listen(); !r) throw std::runtime_error(r.error().message);
    hooks_->start();
    ctx_->set_webhook_url("http://127.0.0.1:" + std::to_string(hooks_->port()) + "/hook");
    http::ClientOptions co;
    co.allow_loopback = true;
    co.total_timeout = std::chrono::seconds(10);
    client_ = std::make_unique<http::HttpClient>(io_, co);
    adapters::register_builtin_adapters(registry_);
    services_.io = &io_;
    services_.http = client_.get();
    services_.clock = &clock_;
    services_.public_url = "http://127.0.0.1:8080";
    thread_ = std::thread([this] { io_.run(); });
  }

  ~SimHarness() {
    work_.reset();
    io_.stop();
    thread_.join();
  }

  SimHarness(const SimHarness&) = delete;
  SimHarness& operator=(const SimHarness&) = delete;

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  std::shared_ptr<adapters::FulfillmentAdapter> adapter(const std::string& type,
                                                        boost::json::object credentials,
                                                        boost::json::object settings,
                                                        std::string base_url = {}) {
    adapters::AdapterConfig c;
    c.id = type + "-test";
    c.type = type;
    c.base_url = base_url.empty() ? this->base_url() : base_url;
    c.credentials = std::move(credentials);
    c.settings = std::move(settings);
    auto made = registry_.create(c, services_);
    if (!made) throw std::runtime_error("create " + type + ": " + made.error().message);
    return std::dynamic_pointer_cast<adapters::FulfillmentAdapter>(*made);
  }

  template <class T>
  T run(adapters::Task<T> task) {
    auto future = boost::asio::co_spawn(io_, std::move(task), boost::asio::use_future);
    if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
      throw std::runtime_error("an adapter call did not finish within 20 s");
    }
    return future.get();
  }

  sim::Context& ctx() { return *ctx_; }
  boost::json::object state() const { return sim_->state(); }
  std::vector<sim::Recorded> recorded() const { return ctx_->recorded(0); }
  std::vector<http::Request> webhooks() const {
    std::lock_guard lock(mutex_);
    return hooks_received_;
  }
  // The next API call gets this answer instead of the simulator's (429s, odd errors).
  void answer_next(http::Response r) {
    std::lock_guard lock(mutex_);
    canned_.push_back(std::move(r));
  }

  // Orders the simulator holds for this external id.
  std::size_t orders_for(const std::string& external_id) const {
    std::size_t n = 0;
    boost::json::object now = state();  // a named copy: the loop must not outlive it
    for (const auto& o : now.at("orders").as_array()) {
      if (o.as_object().at("external_id").as_string() == external_id) ++n;
    }
    return n;
  }

  static bool eventually(const std::function<bool()>& pred,
                         std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
  }

 private:
  std::optional<http::Response> next_canned() {
    std::lock_guard lock(mutex_);
    if (canned_.empty()) return std::nullopt;
    http::Response r = std::move(canned_.front());
    canned_.erase(canned_.begin());
    return r;
  }

  boost::asio::io_context io_{2};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  core::SystemClock clock_;
  std::unique_ptr<sim::Context> ctx_;
  std::unique_ptr<sim::Simulator> sim_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Server> hooks_;
  std::unique_ptr<http::HttpClient> client_;
  adapters::Registry registry_;
  adapters::AdapterServices services_;
  mutable std::mutex mutex_;
  std::vector<http::Request> hooks_received_;
  std::vector<http::Response> canned_;
  std::thread thread_;
};

}  // namespace mg::testing
