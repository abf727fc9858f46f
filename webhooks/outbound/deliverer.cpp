#include "webhooks/outbound/deliverer.hpp"

#include "gateway/service/crash_point.hpp"

#include "adapters/http/client.hpp"
#include "gateway/core/metrics.hpp"
#include "gateway/log/log.hpp"
#include "gateway/store/async.hpp"
#include "webhooks/outbound/endpoints.hpp"
#include "webhooks/signature/standard_webhooks.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <map>
#include <random>

namespace mg::webhooks {
namespace asio = boost::asio;

namespace {

struct Target {
  std::string url;
  std::vector<std::string> keys;  // HMAC keys of the live secrets
};

// The first bytes of a reply, made printable: for the attempt log, never for parsing.
std::string snippet(std::string_view body, std::size_t n) {
  std::string out;
  for (unsigned char c : body.substr(0, n)) out.push_back(c >= 0x20 && c < 0x7F ? char(c) : ' ');
  return out;
}

}  // namespace

struct Deliverer::Impl : std::enable_shared_from_this<Deliverer::Impl> {
  Impl(asio::io_context& io, store::Store& s, http::HttpClient& c, const service::SecretBox& b,
       const core::Clock& k, DelivererOptions o)
      : io(io),
        strand(asio::make_strand(io)),
        store(s),
        client(c),
        secrets(b),
        clock(k),
        options(std::move(o)),
        timer(strand),
        drain_timer(strand) {}

  asio::io_context& io;
  asio::strand<asio::io_context::executor_type> strand;
  store::Store& store;
  http::HttpClient& client;
  const service::SecretBox& secrets;
  const core::Clock& clock;
  DelivererOptions options;
  asio::steady_timer timer;
  asio::steady_timer drain_timer;
  std::atomic<bool> running{false};
  std::atomic<bool> woken{false};
  std::atomic<bool> endpoints_dirty{true};
  // Strand-only state.
  std::map<std::string, int> in_flight;
  int total_in_flight = 0;
  std::map<std::string, Target> targets;
  std::vector<std::string> active;
  core::Timestamp targets_loaded_at = 0;
  std::mt19937_64 rng{std::random_device{}()};

  asio::awaitable<void> reload_targets() {
    auto records = co_await store::async_read(
        store, [](store::ReadTx& tx) -> Result<std::vector<store::EndpointRecord>> {
          return tx.endpoints();
        });
    if (!records) {
      log::error("webhooks.endpoints_unreadable", {{"error", records.error().message}});
      co_return;
    }
    core::Timestamp now = clock.now();
    targets.clear();
    active.clear();
    for (const auto& e : *records) {
      metrics::gauge_set("merchgate_webhook_endpoint_failing", {{"endpoint", e.id}},
                         e.status == "failing" ? 1.0 : 0.0);
      if (!e.enabled || e.status != "active") continue;
      auto opened = open_secrets(secrets, e, now);
      if (!opened) {
        log::error("webhooks.endpoint_secret_unreadable",
                   {{"endpoint", e.id}, {"error", opened.error().message}});
        continue;
      }
      Target t{e.url, {}};
      for (const auto& s : *opened) {
        if (auto key = webhooks::secret_key(s.secret)) t.keys.push_back(std::move(*key));
      }
      targets.emplace(e.id, std::move(t));
      active.push_back(e.id);
    }
    targets_loaded_at = now;
    endpoints_dirty = false;
  }

  asio::awaitable<void> loop() {
    auto self = shared_from_this();
    while (running) {
      woken = false;
      core::Timestamp now = clock.now();
      // Secrets expire on their own clock: look again every few seconds.
      if (endpoints_dirty || now - targets_loaded_at > 2000) co_await reload_targets();
      std::vector<std::pair<std::string, int>> capacity;
      int room = options.max_in_flight - total_in_flight;
      for (const auto& id : active) {
        int slots = std::min(options.per_endpoint - in_flight[id], room);
        if (slots > 0) capacity.emplace_back(id, slots);
      }
      std::size_t claimed = 0;
      if (!capacity.empty()) {
        auto deliveries = co_await store::async_write(
            store, [&](store::WriteTx& tx) -> Result<std::vector<store::Delivery>> {
              return tx.claim_deliveries(options.owner, now, now + options.lease.count(), capacity);
            });
        if (!deliveries) {
          log::error("webhooks.claim_failed", {{"error", deliveries.error().message}});
        } else {
          claimed = deliveries->size();
          for (auto& d : *deliveries) launch(std::move(d));
        }
      }
      if (!running) break;
      if (claimed > 0 || woken) continue;
      timer.expires_after(options.poll);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  void launch(store::Delivery d) {
    auto it = targets.find(d.endpoint_id);
    if (it == targets.end()) return;  // endpoint changed meanwhile: its lease will lapse
    ++in_flight[d.endpoint_id];
    ++total_in_flight;
    auto self = shared_from_this();
    Target target = it->second;
    std::uniform_real_distribution<double> jitter(0.0, 1.0);
    double draw = jitter(rng);
    asio::co_spawn(io, send(std::move(d), std::move(target), draw), [self](std::exception_ptr) {});
  }

  asio::awaitable<void> send(store::Delivery d, Target target, double jitter_draw) {
    auto self = shared_from_this();
    std::int64_t ts = clock.now() / 1000;
    http::ClientRequest req;
    req.method = "POST";
    req.url = target.url;
    req.headers = {{"content-type", "application/json"},
                   {"webhook-id", d.event_id},
                   {"webhook-timestamp", std::to_string(ts)},
                   {"webhook-signature",
                    webhooks::signature_header(target.keys, d.event_id, ts, d.event_body)}};
    req.body = d.event_body;
    req.total_timeout = options.timeout;
    auto started = std::chrono::steady_clock::now();
    auto reply = co_await client.async_send(std::move(req));
    // Sent, not yet recorded: a crash here must lead to a redelivery, never to a loss.
    service::crash_point("webhook_after_send");
    auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - started)
                       .count();
    core::Timestamp now = clock.now();
    store::DeliveryAttempt attempt;
    attempt.delivery_id = d.id;
    attempt.endpoint_id = d.endpoint_id;
    attempt.event_id = d.event_id;
    attempt.at = now;
    attempt.latency_ms = latency;
    bool delivered = false;
    bool gone = false;
    std::chrono::milliseconds retry_after{0};
    if (reply) {
      attempt.status_code = reply->status;
      attempt.response = snippet(reply->body, options.response_bytes);
      delivered = reply->status >= 200 && reply->status < 300;
      gone = reply->status == 410;  // Standard Webhooks: the endpoint is gone
      if (reply->status == 429 || reply->status == 503) {
        std::string ra(reply->header("retry-after"));
        if (!ra.empty() && ra.find_first_not_of("0123456789") == std::string::npos) {
          retry_after = std::chrono::seconds(std::min<long long>(std::stoll(ra), 86400));
        }
      }
      if (!delivered) attempt.error = "HTTP " + std::to_string(reply->status);
    } else {
      attempt.error = reply.error().message();
    }
    int attempts = d.attempts + 1;
    auto delay = retry_delay(options.schedule, attempts, jitter_draw, retry_after);
    bool exhausted = retries_exhausted(options.schedule.size(), attempts, now - d.created_at,
                                       options.min_retry_window);
    bool pause = !delivered && (gone || exhausted);
    auto written = co_await store::async_write(store, [&](store::WriteTx& tx) -> Result<bool> {
      tx.finish_delivery(d.id, attempt, delivered, now + delay.count());
      if (pause) tx.set_endpoint_status(d.endpoint_id, "failing", now);
      return true;
    });
    if (!written) {
      log::error("webhooks.attempt_not_recorded",
                 {{"delivery", d.id}, {"error", written.error().message}});
    }
    metrics::counter_add(
        "merchgate_webhook_deliveries_total",
        {{"endpoint", d.endpoint_id}, {"outcome", delivered ? "delivered" : "failed"}});
    metrics::histogram_observe("merchgate_webhook_attempt_seconds", {{"endpoint", d.endpoint_id}},
                               static_cast<double>(latency) / 1000.0);
    if (delivered) {
      metrics::histogram_observe("merchgate_webhook_delivery_lag_seconds", {},
                                 static_cast<double>(now - d.created_at) / 1000.0);
    } else {
      log::warn("webhook.delivery_failed",
                {{"endpoint", d.endpoint_id},
                 {"event_id", d.event_id},
                 {"checkout", d.checkout_id},
                 {"attempt", attempts},
                 {"error", attempt.error},
                 {"retry_in_ms", static_cast<std::int64_t>(delay.count())}});
    }
    if (pause) {
      log::error("webhook.endpoint_failing",
                 {{"endpoint", d.endpoint_id},
                  {"reason", gone ? "the endpoint answered 410 Gone"
                                  : "retries exhausted; deliveries paused until re-enabled"}});
      metrics::gauge_set("merchgate_webhook_endpoint_failing", {{"endpoint", d.endpoint_id}}, 1.0);
      endpoints_dirty = true;
    }
    asio::post(strand, [self, endpoint = d.endpoint_id] {
      --self->in_flight[endpoint];
      --self->total_in_flight;
      if (self->running) {
        self->woken = true;
        self->timer.cancel();
      } else if (self->total_in_flight == 0) {
        self->drain_timer.cancel();
      }
    });
  }

  asio::awaitable<void> drain(std::chrono::milliseconds deadline, std::function<void()> done) {
    auto self = shared_from_this();
    auto until = std::chrono::steady_clock::now() + deadline;
    while (total_in_flight > 0 && std::chrono::steady_clock::now() < until) {
      drain_timer.expires_at(until);
      co_await drain_timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_await store::async_write(store, [&](store::WriteTx& tx) -> Result<bool> {
      tx.release_delivery_leases(options.owner);
      return true;
    });
    if (done) done();
  }
};

std::chrono::milliseconds retry_delay(const std::vector<std::chrono::milliseconds>& schedule,
                                      int attempts, double draw,
                                      std::chrono::milliseconds retry_after) {
  auto base = schedule.empty()
                  ? std::chrono::milliseconds(5000)
                  : schedule[std::min<std::size_t>(
                        static_cast<std::size_t>(std::max(attempts, 1) - 1), schedule.size() - 1)];
  // Full jitter: anywhere between now and the step, so retries of many deliveries spread out.
  auto jittered = std::chrono::milliseconds(
      static_cast<std::int64_t>(static_cast<double>(base.count()) * std::clamp(draw, 0.0, 1.0)));
  return std::max(jittered, retry_after);
}

bool retries_exhausted(std::size_t schedule_steps, int attempts, std::int64_t age_ms,
                       std::chrono::milliseconds min_window) {
  return attempts >= static_cast<int>(schedule_steps) && age_ms >= min_window.count();
}

Deliverer::Deliverer(asio::io_context& io, store::Store& store, http::HttpClient& client,
                     const service::SecretBox& secrets, const core::Clock& clock,
                     DelivererOptions options)
    : impl_(std::make_shared<Impl>(io, store, client, secrets, clock, std::move(options))) {}

Deliverer::~Deliverer() { impl_->running = false; }

void Deliverer::start() {
  impl_->running = true;
  asio::co_spawn(impl_->strand, impl_->loop(), asio::detached);
}

void Deliverer::notify() {
  auto impl = impl_;
  impl->woken = true;
  asio::post(impl->strand, [impl] { impl->timer.cancel(); });
}

void Deliverer::endpoints_changed() {
  impl_->endpoints_dirty = true;
  notify();
}

void Deliverer::stop(std::chrono::milliseconds deadline, std::function<void()> done) {
  auto impl = impl_;
  asio::post(impl->strand, [impl, deadline, done = std::move(done)]() mutable {
    impl->running = false;
    impl->timer.cancel();
    asio::co_spawn(impl->strand, impl->drain(deadline, std::move(done)), asio::detached);
  });
}

}  // namespace mg::webhooks
