// merchgate-sim --stripe 127.0.0.1:12111 --paypal ... : one listener per partner, each at the
// root of its own port. Control endpoints on every port: GET/POST /__sim/knobs,
// GET /__sim/requests?after=N, DELETE /__sim/requests, GET /__sim/state, GET /__sim/health.
#include "config/config.hpp"
#include "gateway/server/server.hpp"
#include "tools/sim/sim.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>

namespace asio = boost::asio;
namespace bj = boost::json;
using namespace mg;

namespace {

struct Partner {
  std::string name;
  std::string listen;
  std::string webhook_url;
  std::string webhook_secret;
  std::unique_ptr<sim::Context> ctx;
  std::unique_ptr<sim::Simulator> sim;
  std::unique_ptr<http::Server> server;
};

http::Response control(sim::Context& ctx, sim::Simulator& s, const http::Request& req) {
  std::string_view what = std::string_view(req.path).substr(7);  // after "/__sim/"
  if (what == "health") return sim::json_reply(200, bj::object{{"partner", ctx.partner()}});
  if (what == "knobs" && req.method == "GET") return sim::json_reply(200, ctx.knobs().to_json());
  if (what == "knobs" && req.method == "POST") {
    boost::system::error_code ec;
    bj::value v = bj::parse(req.body, ec);
    if (ec || !v.is_object()) return sim::json_reply(400, {{"error", "body must be a JSON object"}});
    sim::Knobs k = ctx.knobs();
    if (auto problem = k.apply(v.as_object()); !problem.empty()) {
      return sim::json_reply(400, {{"error", problem}});
    }
    ctx.set_knobs(k);
    return sim::json_reply(200, k.to_json());
  }
  if (what == "requests" && req.method == "DELETE") {
    ctx.clear_recorded();
    return sim::json_reply(200, {{"cleared", true}});
  }
  if (what == "requests") {
    std::int64_t after = 0;
    if (auto a = req.query_param("after")) after = std::atoll(std::string(*a).c_str());
    bj::array out;
    for (const auto& r : ctx.recorded(after)) {
      bj::object headers;
      for (const auto& h : r.headers) headers[h.name] = h.value;
      out.push_back(bj::object{{"seq", r.seq}, {"method", r.method}, {"target", r.target},
                               {"headers", std::move(headers)}, {"body", r.body},
                               {"at_ms", r.at_ms}});
    }
    return sim::json_reply(200, {{"requests", std::move(out)},
                                 {"webhooks_sent", ctx.webhooks_sent()}});
  }
  if (what == "state") return sim::json_reply(200, s.state());
  return sim::json_reply(404, {{"error", "unknown control endpoint"}});
}

}  // namespace

int main(int argc, char** argv) {
  sim::register_simulators();
  CLI::App cli{"merchgate-sim: partner simulators on loopback"};
  // Before the partners: their servers post to it while they are destroyed.
  asio::io_context io;
  std::map<std::string, Partner> partners;
  for (const auto& [name, factory] : sim::simulators()) {
    Partner& p = partners[name];
    p.name = name;
    cli.add_option("--" + name, p.listen, "serve " + name + " at ip:port");
    cli.add_option("--" + name + "-webhook-url", p.webhook_url,
                   "where " + name + " webhooks go (the gateway's /v1/webhooks/<adapter_id>)");
    cli.add_option("--" + name + "-webhook-secret", p.webhook_secret,
                   "the secret " + name + " signs webhooks with");
  }
  std::uint64_t seed = 20261126;
  std::string ready_file, tls_cert, tls_key;
  sim::Knobs knobs;
  cli.add_option("--seed", seed, "random seed for knobs and ids");
  cli.add_option("--ready-file", ready_file, "write name=ip:port lines once listening");
  cli.add_option("--tls-cert", tls_cert, "PEM certificate: serve HTTPS");
  cli.add_option("--tls-key", tls_key, "PEM private key");
  cli.add_option("--latency-ms", knobs.latency_ms);
  cli.add_option("--error-rate", knobs.error_rate)->check(CLI::Range(0.0, 1.0));
  cli.add_option("--error-status", knobs.error_status, "status of the error-rate answers")
      ->check(CLI::Range(500, 599));
  cli.add_option("--timeout-rate", knobs.timeout_rate)->check(CLI::Range(0.0, 1.0));
  cli.add_flag("--decline-all", knobs.decline_all);
  cli.add_flag("--refuse-all", knobs.refuse_all);
  cli.add_option("--webhook-delay-ms", knobs.webhook_delay_ms);
  cli.add_flag("--duplicate-webhooks", knobs.duplicate_webhooks);
  cli.add_flag("--out-of-order-webhooks", knobs.out_of_order_webhooks);
  cli.add_flag("--drop-webhooks", knobs.drop_webhooks);
  cli.add_flag("--split-shipments", knobs.split_shipments);
  cli.add_flag("--fail-after-first-package", knobs.fail_after_first_package);
  CLI11_PARSE(cli, argc, argv);

  std::ofstream ready;
  int serving = 0;
  for (auto& [name, p] : partners) {
    if (p.listen.empty()) continue;
    http::ServerOptions so;
    if (!config::parse_listen(p.listen, so.host, so.port)) {
      std::fprintf(stderr, "merchgate-sim: --%s: '%s' is not ip:port\n", name.c_str(),
                   p.listen.c_str());
      return 2;
    }
    so.tls_cert_file = tls_cert;
    so.tls_key_file = tls_key;
    so.io_threads = 2;  // the simulators lock their own state; connections need no strand
    p.ctx = std::make_unique<sim::Context>(io, name, seed);
    p.ctx->set_knobs(knobs);
    p.ctx->set_webhook_url(p.webhook_url);
    p.ctx->set_secret(p.webhook_secret);
    p.sim = sim::simulators()[name](*p.ctx);
    sim::Context* ctx = p.ctx.get();
    sim::Simulator* s = p.sim.get();
    p.server = std::make_unique<http::Server>(
        io, so, [ctx, s](http::Request& req) -> asio::awaitable<http::Response> {
          if (req.path.starts_with("/__sim/")) co_return control(*ctx, *s, req);
          ctx->record(req);
          sim::Knobs k = ctx->knobs();
          asio::steady_timer timer(co_await asio::this_coro::executor);
          if (k.latency_ms > 0) {
            timer.expires_after(std::chrono::milliseconds(k.latency_ms));
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
          }
          if (ctx->chance(k.timeout_rate)) {
            // Never answers in time: the caller's read timeout fires first.
            timer.expires_after(std::chrono::seconds(120));
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            co_return s->unavailable();
          }
          if (ctx->chance(k.error_rate)) {
            http::Response r = s->unavailable();
            if (k.error_status != 0) r.status = static_cast<int>(k.error_status);
            co_return r;
          }
          co_return co_await s->handle(req);
        });
    if (auto r = p.server->listen(); !r) {
      std::fprintf(stderr, "merchgate-sim: --%s: %s\n", name.c_str(), r.error().message.c_str());
      return 2;
    }
    p.server->start();
    ++serving;
    std::fprintf(stderr, "merchgate-sim: %s on %s:%u\n", name.c_str(), so.host.c_str(),
                 p.server->port());
    if (!ready_file.empty()) {
      if (!ready.is_open()) ready.open(ready_file + ".tmp", std::ios::trunc);
      ready << name << "=" << so.host << ":" << p.server->port() << "\n";
    }
  }
  if (serving == 0) {
    std::fprintf(stderr, "merchgate-sim: name at least one partner to serve, e.g. --stripe "
                         "127.0.0.1:12111 (see --help)\n");
    return 2;
  }
  if (ready.is_open()) {
    ready.close();
    std::rename((ready_file + ".tmp").c_str(), ready_file.c_str());
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { io.stop(); });
  std::thread second([&] { io.run(); });
  io.run();
  second.join();
  return 0;
}
