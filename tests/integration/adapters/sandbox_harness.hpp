#pragma once
// Runs sandbox adapters as the gateway would: built through the registry, an io_context on its
// own thread, a clock the test controls, a temporary data_dir, and a loopback that records the
// webhooks the sandbox sends and answers them with a status the test chooses.
#include "adapters/adapter.hpp"
#include "gateway/core/clock.hpp"
#include "tests/integration/store/store_harness.hpp"
#include "webhooks/signature/standard_webhooks.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mg::testing {

inline constexpr std::string_view kPublicUrl = "http://127.0.0.1:8080";

// What the gateway's POST /v1/webhooks/{adapter_id} would have received.
class LoopbackRecorder {
 public:
  void record(const http::Request& r) {
    std::lock_guard lock(mutex_);
    requests_.push_back(r);
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }
  std::vector<http::Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  // Requests whose JSON body has this "type".
  std::vector<http::Request> of_type(std::string_view type) const {
    std::vector<http::Request> out;
    for (auto& r : requests()) {
      boost::system::error_code ec;
      auto v = boost::json::parse(r.body, ec);
      if (ec || !v.is_object()) continue;
      const auto* t = v.as_object().if_contains("type");
      if (t && t->is_string() && t->as_string() == type) out.push_back(r);
    }
    return out;
  }

  std::atomic<int> status{200};

 private:
  mutable std::mutex mutex_;
  std::vector<http::Request> requests_;
};

inline adapters::Task<http::Response> answer(std::shared_ptr<LoopbackRecorder> recorder,
                                             http::Request request) {
  recorder->record(request);
  http::Response response;
  response.status = recorder->status.load();
  response.set_header("content-type", "application/json");
  response.body = response.status < 300 ? R"({"received":true})" : R"({"error":{}})";
  co_return response;
}

inline adapters::WebhookRequest to_webhook(const http::Request& r, core::Timestamp now) {
  adapters::WebhookRequest w;
  w.headers = r.headers;
  w.body = r.body;
  w.query = r.query;
  w.now = now;
  return w;
}

inline boost::json::object body_of(const http::Request& r) {
  return boost::json::parse(r.body).as_object();
}

class SandboxHarness {
 public:
  enum class ClockKind { manual, system };

  explicit SandboxHarness(ClockKind clock = ClockKind::manual)
      : work_(boost::asio::make_work_guard(io_)) {
    adapters::register_builtin_adapters(registry_);
    services_.io = &io_;
    services_.http = nullptr;
    services_.clock = clock == ClockKind::manual ? static_cast<const core::Clock*>(&manual_)
                                                 : static_cast<const core::Clock*>(&system_);
    services_.public_url = std::string(kPublicUrl);
    services_.data_dir = dir_.path();
    services_.loopback = [recorder = loopback_](http::Request request) {
      return answer(recorder, std::move(request));
    };
    thread_ = std::thread([this] { io_.run(); });
  }

  ~SandboxHarness() {
    for (auto& a : adapters_) a->stop();
    work_.reset();
    thread_.join();  // the outbox loops end once stopped
    adapters_.clear();
  }

  SandboxHarness(const SandboxHarness&) = delete;
  SandboxHarness& operator=(const SandboxHarness&) = delete;

  // Builds (and starts) an instance through the registry.
  Result<std::shared_ptr<adapters::Adapter>> create(const adapters::AdapterConfig& config) {
    auto made = registry_.create(config, services_);
    if (made) {
      (*made)->start();
      adapters_.push_back(*made);
    }
    return made;
  }

  template <class T>
  std::shared_ptr<T> must_create(const adapters::AdapterConfig& config) {
    auto made = create(config);
    if (!made) throw std::runtime_error("create " + config.id + ": " + made.error().message);
    auto typed = std::dynamic_pointer_cast<T>(*made);
    if (!typed) throw std::runtime_error(config.id + " is not of the expected kind");
    return typed;
  }

  // Stops an instance and forgets it (a process going down).
  void remove(const std::shared_ptr<adapters::Adapter>& adapter) {
    adapter->stop();
    adapters_.erase(std::remove(adapters_.begin(), adapters_.end(), adapter), adapters_.end());
  }

  // Runs an adapter coroutine on the io_context thread and waits (bounded) for its value.
  template <class T>
  T run(adapters::Task<T> task) {
    auto future = boost::asio::co_spawn(io_, std::move(task), boost::asio::use_future);
    return get_bounded(future, "an adapter call");
  }

  // Polls `pred` until it holds or the bound passes.
  static bool eventually(const std::function<bool()>& pred,
                         std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
  }

  std::string ledger_path(std::string_view adapter_id) const {
    return dir_.path() + "/sandbox/" + std::string(adapter_id) + ".db";
  }

  core::ManualClock& clock() { return manual_; }
  LoopbackRecorder& loopback() { return *loopback_; }
  boost::asio::io_context& io() { return io_; }
  adapters::Registry& registry() { return registry_; }
  const std::string& data_dir() const { return dir_.path(); }

 private:
  core::ManualClock manual_;
  core::SystemClock system_;
  TempDir dir_;
  std::shared_ptr<LoopbackRecorder> loopback_ = std::make_shared<LoopbackRecorder>();
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  adapters::Registry registry_;
  adapters::AdapterServices services_;
  std::vector<std::shared_ptr<adapters::Adapter>> adapters_;
  std::thread thread_;
};

inline adapters::AdapterConfig sandbox_config(std::string id, std::string type, std::string secret,
                                              boost::json::object settings = {}) {
  adapters::AdapterConfig c;
  c.id = std::move(id);
  c.type = std::move(type);
  c.credentials = boost::json::object{{"webhook_secret", secret}};
  c.settings = std::move(settings);
  return c;
}

}  // namespace mg::testing
