#pragma once
// The payment-processor simulators (merchgate-sim --stripe / --paypal / --adyen) and what they
// share: replay of idempotent requests, the simulator's own URL as its clients reach it (for
// links it hands out: approval pages, redirects, certificates), and path splitting.
#include "tools/sim/sim.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mg::sim {

// Stripe v1 PaymentIntents, refunds, disputes and Stripe-Signature webhooks; Stripe's test
// payment methods (pm_card_visa, pm_card_chargeDeclined, pm_card_authenticationRequired, …).
std::unique_ptr<Simulator> make_stripe_sim(Context& ctx);
// PayPal OAuth2, Orders v2, captures and refunds; webhooks signed with the simulator's own
// certificate (served at /v1/notifications/certs/…); --paypal-webhook-secret is the webhook_id.
std::unique_ptr<Simulator> make_paypal_sim(Context& ctx);
// Adyen Checkout /sessions, /payments and modifications; notifications signed with the HMAC
// key given as --adyen-webhook-secret (hex).
std::unique_ptr<Simulator> make_adyen_sim(Context& ctx);

namespace payments {

// Stored answers by idempotency key. Callers hold their simulator's lock.
class Replays {
 public:
  struct Entry {
    std::string fingerprint;  // method, path and body of the first request
    http::Response response;
  };
  const Entry* find(const std::string& key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second;
  }
  void store(const std::string& key, std::string fingerprint, const http::Response& response) {
    if (entries_.size() > 200'000) entries_.clear();  // bounded for long runs
    entries_[key] = Entry{std::move(fingerprint), response};
  }
  std::size_t size() const { return entries_.size(); }

 private:
  std::map<std::string, Entry> entries_;
};

inline std::string fingerprint(const http::Request& req) {
  return req.method + " " + req.path + "\n" + req.body;
}

// "http://127.0.0.1:12111": how this request reached the simulator.
inline std::string self_url(const http::Request& req) {
  std::string host(req.header("host"));
  if (host.empty()) host = "127.0.0.1";
  return (req.tls ? "https://" : "http://") + host;
}

inline std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    std::size_t slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
  }
  return out;
}

// A processor's simulator: each request is dispatched under `mutex_` (one at a time, with `self_`
// set to how it reached the simulator); what it causes to be sent (webhooks, notification items)
// is sent after the lock is released.
template <class Outbound>
class ProcessorSim : public Simulator {
 public:
  using Simulator::Simulator;

  Task<http::Response> handle(http::Request& req) final {
    std::vector<Outbound> out;
    http::Response r;
    {
      std::lock_guard lock(mutex_);
      self_ = self_url(req);
      r = dispatch(req, out);
    }
    for (auto& o : out) send(std::move(o));
    co_return r;
  }

 protected:
  // Serves one API request under mutex_; adds what it causes to be sent to `out`.
  virtual http::Response dispatch(const http::Request& req, std::vector<Outbound>& out) = 0;
  // Signs and queues one outbound message (outside the lock).
  virtual void send(Outbound outbound) = 0;

  mutable std::mutex mutex_;
  std::string self_;  // "http://127.0.0.1:12111": links the simulator hands out point here
};

}  // namespace payments
}  // namespace mg::sim
