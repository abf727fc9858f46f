#pragma once
// merchgate-sim: partner simulators on loopback. Each partner is served at the root of its own
// port with the partner's own paths, auth, encodings, status codes and error shapes, so the
// partner's SDK pointed at it works unchanged. Every simulator shares:
//   - knobs (latency, error rate, timeouts, declines, webhook delay, duplicate, out-of-order
//     and dropped webhooks), set by flags or POST /__sim/knobs;
//   - a recorder of every request received (GET /__sim/requests), so tests can assert that a
//     retry after a crash charged once;
//   - a webhook sender that signs nothing itself (each simulator signs per its partner's scheme)
//     but applies the knobs and delivers to the configured gateway URL, retrying like a partner.
#include "adapters/http/client.hpp"
#include "gateway/server/http_types.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace mg::sim {

template <class T>
using Task = boost::asio::awaitable<T>;

struct Knobs {
  std::int64_t latency_ms = 0;        // added to every API answer
  double error_rate = 0;              // share of API calls answered with the partner's 5xx
  std::int64_t error_status = 0;      // that 5xx's status (0: the partner's usual one)
  double timeout_rate = 0;            // share of API calls never answered (the client times out)
  bool decline_all = false;           // payments: every charge is declined
  bool refuse_all = false;            // merch: every order is refused
  std::int64_t webhook_delay_ms = 0;  // before each webhook is sent
  bool duplicate_webhooks = false;    // each webhook is sent twice
  bool out_of_order_webhooks = false; // webhooks of one object are sent newest first
  bool drop_webhooks = false;         // webhooks are not sent at all
  bool split_shipments = false;       // merch: an order ships in two packages
  bool fail_after_first_package = false;  // merch: an order fails after its first package

  boost::json::object to_json() const;
  // Applies the keys present in `o`; an error names a bad key.
  std::string apply(const boost::json::object& o);
};

struct Recorded {
  std::int64_t seq = 0;
  std::string method;
  std::string target;
  std::vector<http::Header> headers;
  std::string body;
  std::int64_t at_ms = 0;
};

struct OutboundWebhook {
  std::string object_id;  // groups webhooks for out-of-order delivery
  std::vector<http::Header> headers;
  std::string body;
};

// What a simulator shares with the framework.
class Context {
 public:
  Context(boost::asio::io_context& io, std::string partner, std::uint64_t seed);

  const std::string& partner() const { return partner_; }
  boost::asio::io_context& io() { return io_; }

  Knobs knobs() const;
  void set_knobs(const Knobs& k);

  // Where webhooks go (the gateway's POST /v1/webhooks/{adapter_id}); empty: not sent.
  void set_webhook_url(std::string url) { webhook_url_ = std::move(url); }
  const std::string& webhook_url() const { return webhook_url_; }
  // A partner-specific secret from the command line (--<partner>-webhook-secret).
  void set_secret(std::string secret) { secret_ = std::move(secret); }
  const std::string& secret() const { return secret_; }

  void record(const http::Request& req);
  std::vector<Recorded> recorded(std::int64_t after_seq) const;
  void clear_recorded();

  // Queues a webhook; the knobs decide delay, duplication, order and dropping. `signer` is
  // called right before each send to add the partner's signature headers for the send time.
  void send_webhook(OutboundWebhook webhook,
                    std::function<void(OutboundWebhook&)> signer = nullptr);
  std::int64_t webhooks_sent() const { return sent_.load(); }

  // Random draws for knobs: seeded (--seed) so a run can be repeated.
  bool chance(double p);
  std::string random_id(std::string_view prefix, std::size_t n = 24);
  std::int64_t now_ms() const;

 private:
  Task<void> deliver(OutboundWebhook webhook, std::function<void(OutboundWebhook&)> signer,
                     std::int64_t delay_ms);

  boost::asio::io_context& io_;
  std::string partner_;
  mutable std::mutex mutex_;
  Knobs knobs_;
  std::string webhook_url_;
  std::string secret_;
  std::vector<Recorded> recorded_;
  std::int64_t next_seq_ = 1;
  std::mt19937_64 rng_;
  std::unique_ptr<http::HttpClient> client_;
  std::atomic<std::int64_t> sent_{0};
  std::map<std::string, std::vector<OutboundWebhook>> held_;  // out-of-order: per object
};

// One partner's simulator.
class Simulator {
 public:
  explicit Simulator(Context& ctx) : ctx_(ctx) {}
  virtual ~Simulator() = default;
  // Serves one API request (everything outside /__sim/).
  virtual Task<http::Response> handle(http::Request& req) = 0;
  // Extra state for GET /__sim/state (objects it holds), for tests and humans.
  virtual boost::json::object state() const { return {}; }
  // The partner's own answer to an outage (the error_rate knob): its 5xx and error shape.
  virtual http::Response unavailable() const;

 protected:
  Context& ctx_;
};

using SimulatorFactory = std::function<std::unique_ptr<Simulator>(Context&)>;

// The partners built in, by the flag name that serves them ("stripe", "paypal", ...).
std::map<std::string, SimulatorFactory>& simulators();
// The explicit list (registry.cpp): each simulator adds one line.
void register_simulators();

// Helpers for simulators.
http::Response json_reply(int status, const boost::json::object& body);
http::Response text_reply(int status, std::string body, std::string content_type = "text/plain");

}  // namespace mg::sim
