// merchgate-loadgen: an HTTP/1.1 keep-alive load generator for merchgate's hot endpoints.
// Closed loop (as fast as the server answers) or open loop at a fixed total rate, where latency
// is measured from each request's scheduled start (no coordinated omission).
//   --mode get       GET --path (nginx or /healthz: the raw HTTP baseline)
//   --mode webhook   POST /v1/webhooks/{adapter}: a fresh Standard-Webhooks-signed event each time
//   --mode checkout  POST /v1/checkouts with a fresh Idempotency-Key each time
#include "gateway/core/crypto.hpp"
#include "webhooks/signature/standard_webhooks.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string mode = "get";
  std::string path = "/healthz";
  int connections = 32;
  int threads = 1;
  double duration = 10;
  double rate = 0;  // total requests per second; 0 = closed loop
  std::string key;
  std::string secret;
  std::string adapter = "sandbox-pay";
  std::string seller = "sel_hype";
  std::string sku = "hype-tee-black-m";
  std::string method = "pm_sandbox_action";
};

struct Stats {
  std::mutex mutex;
  std::vector<double> latencies_ms;
  std::map<int, long> statuses;
  long errors = 0;
};

std::string nonce = mg::core::random_alnum(8);

http::request<http::string_body> make_request(const Options& o, const std::string& hmac_key,
                                              int conn, long n) {
  http::request<http::string_body> req;
  req.version(11);
  req.set(http::field::host, o.host);
  req.keep_alive(true);
  if (o.mode == "get") {
    req.method(http::verb::get);
    req.target(o.path);
  } else if (o.mode == "webhook") {
    std::string id = "evt_bench_" + nonce + "_" + std::to_string(conn) + "_" + std::to_string(n);
    std::int64_t ts = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    req.method(http::verb::post);
    req.target("/v1/webhooks/" + o.adapter);
    req.body() = R"({"id":")" + id + R"(","type":"bench.ping","created_at":)" + std::to_string(ts) +
                 R"(,"data":{}})";
    req.set(http::field::content_type, "application/json");
    req.set("webhook-id", id);
    req.set("webhook-timestamp", std::to_string(ts));
    req.set("webhook-signature", mg::webhooks::sign(hmac_key, id, ts, req.body()));
  } else {
    req.method(http::verb::post);
    req.target("/v1/checkouts");
    req.set(http::field::authorization, "Bearer " + o.key);
    req.set(http::field::content_type, "application/json");
    req.set("idempotency-key",
            "bench_" + nonce + "_" + std::to_string(conn) + "_" + std::to_string(n));
    req.body() = R"({"seller":")" + o.seller + R"(","currency":"EUR","lines":[{"sku":")" + o.sku +
                 R"(","quantity":1}],"buyer":{"id":"u_bench","email":"b@example.com",)"
                 R"("shipping_address":{"name":"Bench","line1":"1 Main St","city":"Milan",)"
                 R"("postal_code":"20121","country":"IT"}},"payment":{)" +
                 (o.method.empty() ? std::string() : R"("method":")" + o.method + R"(")") +
                 "}}";
  }
  req.prepare_payload();
  return req;
}

asio::awaitable<void> connection(const Options& o, const std::string& hmac_key, int id,
                                 Clock::time_point start, Clock::time_point end, Stats& stats) {
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream stream(ex);
  asio::ip::tcp::endpoint ep(asio::ip::make_address(o.host), static_cast<unsigned short>(o.port));
  auto [cec] = co_await stream.async_connect(ep, asio::as_tuple(asio::use_awaitable));
  if (cec) {
    std::lock_guard lock(stats.mutex);
    ++stats.errors;
    co_return;
  }
  stream.socket().set_option(asio::ip::tcp::no_delay(true));
  beast::flat_buffer buffer;
  std::vector<double> local;
  std::map<int, long> statuses;
  long errors = 0;
  double per_conn_rate = o.rate > 0 ? o.rate / o.connections : 0;
  // Open loop: connection `id` owns every `connections`-th slot of the global schedule.
  auto interval = per_conn_rate > 0 ? std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(1.0 / per_conn_rate))
                                    : Clock::duration::zero();
  auto next = start + (per_conn_rate > 0 ? interval * id / o.connections : Clock::duration::zero());
  asio::steady_timer timer(ex);
  for (long n = 0;; ++n) {
    auto scheduled = per_conn_rate > 0 ? next : Clock::now();
    if (scheduled >= end) break;
    if (per_conn_rate > 0) {
      timer.expires_at(scheduled);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      next += interval;
    }
    auto req = make_request(o, hmac_key, id, n);
    stream.expires_after(std::chrono::seconds(30));
    auto [wec, wn] = co_await http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
    http::response<http::string_body> res;
    beast::error_code rec;
    if (!wec) {
      std::tie(rec, std::ignore) =
          co_await http::async_read(stream, buffer, res, asio::as_tuple(asio::use_awaitable));
    }
    if (wec || rec) {
      ++errors;
      break;
    }
    local.push_back(std::chrono::duration<double, std::milli>(Clock::now() - scheduled).count());
    ++statuses[res.result_int()];
    if (!res.keep_alive()) break;
  }
  std::lock_guard lock(stats.mutex);
  stats.latencies_ms.insert(stats.latencies_ms.end(), local.begin(), local.end());
  for (auto& [s, c] : statuses) stats.statuses[s] += c;
  stats.errors += errors;
}

int main(int argc, char** argv) {
  Options o;
  CLI::App cli{"merchgate-loadgen: keep-alive HTTP load for merchgate benchmarks"};
  cli.add_option("--host", o.host);
  cli.add_option("--port", o.port)->required();
  cli.add_option("--mode", o.mode)->check(CLI::IsMember({"get", "webhook", "checkout"}));
  cli.add_option("--path", o.path);
  cli.add_option("--connections,-c", o.connections);
  cli.add_option("--threads,-t", o.threads);
  cli.add_option("--duration,-d", o.duration, "seconds");
  cli.add_option("--rate,-r", o.rate, "total requests/s (open loop); 0 = closed loop");
  cli.add_option("--key", o.key, "app API key (checkout mode)");
  cli.add_option("--secret", o.secret, "whsec_ secret of the adapter (webhook mode)");
  cli.add_option("--adapter", o.adapter);
  cli.add_option("--seller", o.seller);
  cli.add_option("--sku", o.sku);
  cli.add_option("--method", o.method,
                 "payment method token (checkout mode); empty: none, the buyer's client confirms");
  CLI11_PARSE(cli, argc, argv);

  std::string hmac_key;
  if (o.mode == "webhook") {
    auto k = mg::webhooks::secret_key(o.secret);
    if (!k) {
      std::fprintf(stderr, "loadgen: --secret: %s\n", k.error().message.c_str());
      return 2;
    }
    hmac_key = *k;
  }
  Stats stats;
  asio::io_context io;
  auto start = Clock::now() + std::chrono::milliseconds(50);
  auto end = start +
             std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
  for (int i = 0; i < o.connections; ++i) {
    asio::co_spawn(io, connection(o, hmac_key, i, start, end, stats), asio::detached);
  }
  std::vector<std::thread> threads;
  for (int i = 1; i < o.threads; ++i) threads.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();

  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  auto& l = stats.latencies_ms;
  std::sort(l.begin(), l.end());
  auto pct = [&](double p) {
    return l.empty() ? 0.0 : l[std::min(l.size() - 1, static_cast<std::size_t>(p * l.size()))];
  };
  long ok = 0, total = 0;
  std::string codes;
  for (auto& [s, c] : stats.statuses) {
    total += c;
    if (s >= 200 && s < 300) ok += c;
    codes += " " + std::to_string(s) + ":" + std::to_string(c);
  }
  std::printf(
      "mode=%s connections=%d rate=%s duration=%.1fs requests=%ld ok=%ld errors=%ld rps=%.0f "
      "p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms statuses:%s\n",
      o.mode.c_str(), o.connections,
      o.rate > 0 ? std::to_string(static_cast<long>(o.rate)).c_str() : "max", elapsed, total, ok,
      stats.errors, total / elapsed, pct(0.50), pct(0.90), pct(0.99), l.empty() ? 0.0 : l.back(),
      codes.c_str());
  return ok == total && total > 0 ? 0 : 1;
}
