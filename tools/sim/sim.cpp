#include "tools/sim/sim.hpp"

#include "gateway/core/clock.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace mg::sim {
namespace asio = boost::asio;
namespace bj = boost::json;

bj::object Knobs::to_json() const {
  return bj::object{{"latency_ms", latency_ms},
                    {"error_rate", error_rate},
                    {"error_status", error_status},
                    {"timeout_rate", timeout_rate},
                    {"decline_all", decline_all},
                    {"refuse_all", refuse_all},
                    {"webhook_delay_ms", webhook_delay_ms},
                    {"duplicate_webhooks", duplicate_webhooks},
                    {"out_of_order_webhooks", out_of_order_webhooks},
                    {"drop_webhooks", drop_webhooks},
                    {"split_shipments", split_shipments},
                    {"fail_after_first_package", fail_after_first_package}};
}

std::string Knobs::apply(const bj::object& o) {
  for (const auto& kv : o) {
    std::string_view k = kv.key();
    const bj::value& v = kv.value();
    auto as_double = [&](double& out) {
      if (v.is_double()) out = v.as_double();
      else if (v.is_int64()) out = static_cast<double>(v.as_int64());
      else return false;
      return out >= 0 && out <= 1;
    };
    auto as_ms = [&](std::int64_t& out) {
      if (!v.is_int64() || v.as_int64() < 0) return false;
      out = v.as_int64();
      return true;
    };
    auto as_bool = [&](bool& out) {
      if (!v.is_bool()) return false;
      out = v.as_bool();
      return true;
    };
    bool ok = false;
    if (k == "latency_ms") ok = as_ms(latency_ms);
    else if (k == "error_rate") ok = as_double(error_rate);
    else if (k == "error_status") {
      ok = v.is_int64() && (v.as_int64() == 0 || (v.as_int64() >= 500 && v.as_int64() <= 599));
      if (ok) error_status = v.as_int64();
    } else if (k == "timeout_rate") ok = as_double(timeout_rate);
    else if (k == "decline_all") ok = as_bool(decline_all);
    else if (k == "refuse_all") ok = as_bool(refuse_all);
    else if (k == "webhook_delay_ms") ok = as_ms(webhook_delay_ms);
    else if (k == "duplicate_webhooks") ok = as_bool(duplicate_webhooks);
    else if (k == "out_of_order_webhooks") ok = as_bool(out_of_order_webhooks);
    else if (k == "drop_webhooks") ok = as_bool(drop_webhooks);
    else if (k == "split_shipments") ok = as_bool(split_shipments);
    else if (k == "fail_after_first_package") ok = as_bool(fail_after_first_package);
    else return "unknown knob '" + std::string(k) + "'";
    if (!ok) return "bad value for knob '" + std::string(k) + "'";
  }
  return {};
}

Context::Context(asio::io_context& io, std::string partner, std::uint64_t seed)
    : io_(io), partner_(std::move(partner)), rng_(seed) {
  http::ClientOptions options;
  options.allow_loopback = true;
  options.allow_private_networks = true;
  options.user_agent = "merchgate-sim/" + partner_;
  options.total_timeout = std::chrono::seconds(10);
  client_ = std::make_unique<http::HttpClient>(io_, options);
}

Knobs Context::knobs() const {
  std::lock_guard lock(mutex_);
  return knobs_;
}

void Context::set_knobs(const Knobs& k) {
  std::lock_guard lock(mutex_);
  knobs_ = k;
}

void Context::record(const http::Request& req) {
  std::lock_guard lock(mutex_);
  recorded_.push_back({next_seq_++, req.method, req.target, req.headers, req.body, now_ms()});
  // Bounded: a simulator left running for days keeps the last 100k requests.
  if (recorded_.size() > 100'000) recorded_.erase(recorded_.begin(), recorded_.begin() + 10'000);
}

std::vector<Recorded> Context::recorded(std::int64_t after_seq) const {
  std::lock_guard lock(mutex_);
  std::vector<Recorded> out;
  for (const auto& r : recorded_)
    if (r.seq > after_seq) out.push_back(r);
  return out;
}

void Context::clear_recorded() {
  std::lock_guard lock(mutex_);
  recorded_.clear();
}

bool Context::chance(double p) {
  if (p <= 0) return false;
  std::lock_guard lock(mutex_);
  return std::uniform_real_distribution<double>(0, 1)(rng_) < p;
}

std::string Context::random_id(std::string_view prefix, std::size_t n) {
  static constexpr char kAlnum[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out(prefix);
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < n; ++i) out.push_back(kAlnum[rng_() % 62]);
  return out;
}

std::int64_t Context::now_ms() const { return core::system_now(); }

void Context::send_webhook(OutboundWebhook webhook, std::function<void(OutboundWebhook&)> signer) {
  Knobs k = knobs();
  if (k.drop_webhooks || webhook_url_.empty()) return;
  if (k.out_of_order_webhooks) {
    // Hold this object's webhooks briefly and send them newest first.
    std::string webhook_object_id = webhook.object_id;
    bool first = false;
    {
      std::lock_guard lock(mutex_);
      auto& held = held_[webhook.object_id];
      first = held.empty();
      held.push_back(std::move(webhook));
    }
    if (!first) return;
    auto timer = std::make_shared<asio::steady_timer>(
        io_, std::chrono::milliseconds(k.webhook_delay_ms + 300));
    std::string id = webhook_object_id;
    timer->async_wait([this, timer, id, signer, duplicate = k.duplicate_webhooks](auto) {
      std::vector<OutboundWebhook> batch;
      {
        std::lock_guard lock(mutex_);
        batch = std::move(held_[id]);
        held_.erase(id);
      }
      std::reverse(batch.begin(), batch.end());
      std::int64_t stagger = 0;
      for (auto& w : batch) {
        for (int copies = duplicate ? 2 : 1; copies > 0; --copies) {
          asio::co_spawn(io_, deliver(w, signer, stagger), asio::detached);
        }
        stagger += 50;  // keep the reversed order on the wire
      }
    });
    return;
  }
  for (int copies = k.duplicate_webhooks ? 2 : 1; copies > 0; --copies) {
    asio::co_spawn(io_, deliver(webhook, signer, k.webhook_delay_ms), asio::detached);
  }
}

Task<void> Context::deliver(OutboundWebhook webhook, std::function<void(OutboundWebhook&)> signer,
                            std::int64_t delay_ms) {
  asio::steady_timer timer(io_);
  if (delay_ms > 0) {
    timer.expires_after(std::chrono::milliseconds(delay_ms));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  // Like a partner: retry a few times with backoff until a 2xx.
  for (int attempt = 0; attempt < 6; ++attempt) {
    OutboundWebhook signed_copy = webhook;
    if (signer) signer(signed_copy);
    http::ClientRequest req;
    req.method = "POST";
    req.url = webhook_url_;
    req.headers = signed_copy.headers;
    req.body = signed_copy.body;
    auto r = co_await client_->async_send(std::move(req));
    if (r && r->status >= 200 && r->status < 300) {
      ++sent_;
      co_return;
    }
    timer.expires_after(std::chrono::milliseconds(200LL << attempt));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

http::Response Simulator::unavailable() const {
  return json_reply(503, bj::object{{"error", bj::object{{"message", "simulated outage"}}}});
}

std::map<std::string, SimulatorFactory>& simulators() {
  static std::map<std::string, SimulatorFactory> all;
  return all;
}

http::Response json_reply(int status, const bj::object& body) {
  http::Response r;
  r.status = status;
  r.set_header("content-type", "application/json");
  r.body = bj::serialize(body);
  return r;
}

http::Response text_reply(int status, std::string body, std::string content_type) {
  http::Response r;
  r.status = status;
  r.set_header("content-type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

}  // namespace mg::sim
