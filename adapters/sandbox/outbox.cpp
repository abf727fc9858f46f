#include "adapters/sandbox/outbox.hpp"

#include "gateway/core/clock.hpp"
#include "webhooks/signature/standard_webhooks.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>

namespace mg::adapters::sandbox {
namespace asio = boost::asio;
using store::sqlite::Use;

namespace {

struct Row {
  std::int64_t id = 0;
  std::string event_id;
  std::string body;
  int attempts = 0;
};

constexpr std::chrono::milliseconds kPoll{100};

}  // namespace

void schedule(store::sqlite::Db& db, const std::string& event_id, const std::string& subject,
              const std::string& type, const std::string& body, core::Timestamp due_at) {
  Use s(
      db.prepare("INSERT OR IGNORE INTO outbox (event_id, subject, type, body, due_at) VALUES (?, "
                 "?, ?, ?, ?)"));
  s->bind(1, event_id).bind(2, subject).bind(3, type).bind(4, body).bind(5, due_at);
  s->run();
}

void drop_pending(store::sqlite::Db& db, const std::string& subject) {
  Use s(db.prepare("DELETE FROM outbox WHERE subject = ? AND sent_at IS NULL"));
  s->bind(1, subject);
  s->run();
}

struct Outbox::State : std::enable_shared_from_this<Outbox::State> {
  std::string adapter_id;
  std::shared_ptr<Ledger> ledger;
  std::string signing_key;
  AdapterServices services;
  std::atomic<bool> stopped{false};
  std::unique_ptr<asio::steady_timer> timer;

  asio::awaitable<void> loop() {
    auto self = shared_from_this();
    while (!stopped) {
      core::Timestamp now = services.clock->now();
      std::vector<Row> rows;
      try {
        rows = co_await ledger->run([&](store::sqlite::Db& db) {
          std::vector<Row> out;
          Use s(db.prepare(
              "SELECT id, event_id, body, attempts FROM outbox WHERE sent_at IS NULL AND "
              "due_at <= ? ORDER BY due_at, id LIMIT 50"));
          s->bind(1, now);
          while (s->step())
            out.push_back({s->int64(0), s->text(1), s->text(2), static_cast<int>(s->int64(3))});
          return out;
        });
      } catch (const std::exception&) {
        rows.clear();
      }
      for (const auto& row : rows) {
        if (stopped) break;
        bool delivered = co_await send(row);
        core::Timestamp at = services.clock->now();
        // Backoff doubles from 500 ms up to one minute, like a partner's retry schedule.
        std::int64_t backoff = std::min<std::int64_t>(60'000, 500LL << std::min(row.attempts, 7));
        try {
          co_await ledger->run([&row, delivered, at, backoff](store::sqlite::Db& db) {
            Use s(db.prepare(
                delivered ? "UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ?"
                          : "UPDATE outbox SET due_at = ?, attempts = attempts + 1 WHERE id = ?"));
            s->bind(1, delivered ? at : at + backoff).bind(2, row.id);
            s->run();
          });
        } catch (const std::exception&) {
        }
      }
      if (rows.empty() && !stopped) {
        timer->expires_after(kPoll);
        co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
      }
    }
  }

  asio::awaitable<bool> send(const Row& row) {
    http::Request req;
    req.method = "POST";
    req.path = "/v1/webhooks/" + adapter_id;
    req.target = req.path;
    req.remote_address = "in-process";
    std::int64_t ts = services.clock->now() / 1000;
    req.headers.push_back({"content-type", "application/json"});
    req.headers.push_back({"webhook-id", row.event_id});
    req.headers.push_back({"webhook-timestamp", std::to_string(ts)});
    req.headers.push_back(
        {"webhook-signature", webhooks::sign(signing_key, row.event_id, ts, row.body)});
    req.body = row.body;
    try {
      http::Response res = co_await services.loopback(std::move(req));
      co_return res.status >= 200 && res.status < 300;
    } catch (const std::exception&) {
      co_return false;
    }
  }
};

Outbox::Outbox(std::string adapter_id, std::shared_ptr<Ledger> ledger, std::string signing_key,
               AdapterServices services)
    : state_(std::make_shared<State>()) {
  state_->adapter_id = std::move(adapter_id);
  state_->ledger = std::move(ledger);
  state_->signing_key = std::move(signing_key);
  state_->services = std::move(services);
  state_->timer = std::make_unique<asio::steady_timer>(*state_->services.io);
}

Outbox::~Outbox() { stop(); }

void Outbox::start() {
  if (!state_->services.loopback || !state_->services.io) return;
  asio::co_spawn(*state_->services.io, state_->loop(), asio::detached);
}

void Outbox::stop() {
  if (state_->stopped.exchange(true)) return;
  // The timer belongs to the io_context's threads; cancel it there.
  auto state = state_;
  asio::post(*state_->services.io, [state] { state->timer->cancel(); });
}

}  // namespace mg::adapters::sandbox
