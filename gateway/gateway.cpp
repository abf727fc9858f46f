#include "gateway/gateway.hpp"

#include "adapters/adapter.hpp"
#include "adapters/http/client.hpp"
#include "gateway/api/app.hpp"
#include "gateway/core/crypto.hpp"
#include "gateway/jobs/job_runner.hpp"
#include "gateway/log/log.hpp"
#include "gateway/server/server.hpp"
#include "gateway/service/adapter_manager.hpp"
#include "gateway/service/admin_service.hpp"
#include "gateway/service/checkout_service.hpp"
#include "gateway/store/async.hpp"
#include "gateway/store/store.hpp"
#include "webhooks/inbound/receiver.hpp"
#include "webhooks/outbound/deliverer.hpp"
#include "webhooks/outbound/endpoints.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>

#include <pthread.h>
#include <unistd.h>
#include <future>
#include <mutex>
#include <thread>

namespace mg {
namespace asio = boost::asio;
namespace bj = boost::json;

struct Gateway::Impl {
  config::Config config;
  core::SystemClock system_clock;
  const core::Clock* clock = nullptr;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<http::HttpClient> http;
  adapters::Registry registry;
  std::unique_ptr<service::AdapterManager> adapters;
  std::unique_ptr<service::CheckoutService> checkouts;
  std::unique_ptr<service::AdminService> admin;
  std::unique_ptr<webhooks::Receiver> receiver;
  api::Authenticator auth;
  std::unique_ptr<api::App> app;
  std::unique_ptr<jobs::JobRunner> runner;
  std::unique_ptr<http::HttpClient> webhook_http;
  std::unique_ptr<webhooks::EndpointService> endpoints;
  std::unique_ptr<webhooks::Deliverer> deliverer;
  std::unique_ptr<http::Server> server;
  std::string worker_id;
  std::once_flag stopped;

  template <class F>
  auto block_on(F make) {
    return asio::co_spawn(io, make(), asio::use_future).get();
  }
};

namespace {

// Applies the config seed: each object is created when the database does not have it yet, so
// what the admin API changed later wins; the log says which source won.
asio::awaitable<std::vector<std::string>> apply_seed(service::AdminService& admin,
                                                     webhooks::EndpointService& endpoints,
                                                     const bj::object& seed) {
  std::vector<std::string> problems;
  struct Kind {
    std::string_view list;
    std::string_view kind;
    std::string_view id_key;
  };
  for (Kind k : {Kind{"adapters", "adapter", "id"}, Kind{"sellers", "seller", "id"},
                 Kind{"products", "product", "sku"}}) {
    const auto* items = seed.if_contains(k.list);
    if (!items || !items->is_array()) continue;
    for (const auto& item : items->as_array()) {
      if (!item.is_object()) continue;
      bj::object body = item.as_object();
      const auto* idv = body.if_contains(k.id_key);
      if (!idv || !idv->is_string()) continue;
      std::string id(idv->as_string());
      body.erase(k.id_key);
      auto exists = co_await admin.exists(k.kind, id);
      if (exists && *exists) {
        log::info("seed.kept_database", {{"kind", k.kind}, {"id", id}, {"won", "database"}});
        continue;
      }
      Result<service::Put> put = make_error(errc::internal, "unknown seed kind");
      if (k.kind == "adapter") put = co_await admin.put_adapter(id, body);
      if (k.kind == "seller") put = co_await admin.put_seller(id, body);
      if (k.kind == "product") put = co_await admin.put_product(id, body);
      if (!put) {
        problems.push_back("seed." + std::string(k.list) + " '" + id + "': " + put.error().message +
                           (put.error().param.empty() ? "" : " (" + put.error().param + ")"));
      } else {
        log::info("seed.created_from_config", {{"kind", k.kind}, {"id", id}, {"won", "config"}});
      }
    }
  }
  if (const auto* routing = seed.if_contains("routing"); routing && routing->is_object()) {
    auto exists = co_await admin.exists("routing", "");
    if (exists && *exists) {
      log::info("seed.kept_database",
                {{"kind", "routing"}, {"id", "routing"}, {"won", "database"}});
    } else if (exists) {
      auto put = co_await admin.put_routing(routing->as_object());
      if (!put) {
        problems.push_back("seed.routing: " + put.error().message);
      } else {
        log::info("seed.created_from_config",
                  {{"kind", "routing"}, {"id", "routing"}, {"won", "config"}});
      }
    }
  }
  if (const auto* items = seed.if_contains("webhook_endpoints"); items && items->is_array()) {
    for (const auto& item : items->as_array()) {
      if (!item.is_object() || !item.as_object().if_contains("id") ||
          !item.as_object().at("id").is_string()) {
        continue;
      }
      bj::object body = item.as_object();
      std::string id(body.at("id").as_string());
      body.erase("id");
      auto created = co_await endpoints.seed(id, body);
      if (!created) {
        problems.push_back(
            "seed.webhook_endpoints '" + id + "': " + created.error().message +
            (created.error().param.empty() ? "" : " (" + created.error().param + ")"));
      } else {
        log::info(
            *created ? "seed.created_from_config" : "seed.kept_database",
            {{"kind", "webhook_endpoint"}, {"id", id}, {"won", *created ? "config" : "database"}});
      }
    }
  }
  co_return problems;
}

}  // namespace

Gateway::Gateway() : impl_(std::make_unique<Impl>()) {}

Gateway::~Gateway() { stop(); }

Result<std::unique_ptr<Gateway>> Gateway::create(const config::Config& config,
                                                 const core::Clock* clock) {
  std::unique_ptr<Gateway> g(new Gateway());
  Impl& d = *g->impl_;
  d.config = config;
  d.clock = clock ? clock : &d.system_clock;
  char host[128] = "host";
  gethostname(host, sizeof host - 1);
  d.worker_id = std::string(host) + ":" + std::to_string(getpid()) + ":" + core::random_alnum(6);

  store::StoreOptions so = config.storage;
  auto opened = store::open_store(so);
  if (!opened) return opened.error();
  d.store = std::move(*opened);
  auto migrated = d.store->migrate();
  if (!migrated) return migrated.error();

  service::SecretBox secrets;
  if (!config.master_key.empty()) {
    auto box = service::SecretBox::from_base64(config.master_key);
    if (!box) return box.error();
    secrets = std::move(*box);
  }

  http::ClientOptions client;
  client.ca_file = config.outbound_ca_file;
  client.allow_loopback = config.allow_loopback;
  client.connect_timeout = config.outbound_connect_timeout;
  client.total_timeout = config.outbound_total_timeout;
  d.http = std::make_unique<http::HttpClient>(d.io, client);

  adapters::register_builtin_adapters(d.registry);
  adapters::AdapterServices services;
  services.io = &d.io;
  services.http = d.http.get();
  services.clock = d.clock;
  services.public_url = config.public_url;
  services.data_dir = config.data_dir;
  Impl* raw = &d;
  services.loopback = [raw](http::Request req) -> asio::awaitable<http::Response> {
    if (req.request_id.empty()) req.request_id = core::new_id("req");
    co_return co_await raw->app->handle(req);
  };
  d.adapters = std::make_unique<service::AdapterManager>(d.registry, services, std::move(secrets));

  service::ServiceOptions options;
  options.worker_id = d.worker_id;
  options.lease = config.job_lease;
  options.stale_payment_after = config.stale_payment_after;
  options.stale_order_after = config.stale_order_after;
  d.checkouts =
      std::make_unique<service::CheckoutService>(*d.store, *d.adapters, *d.clock, options);
  d.admin = std::make_unique<service::AdminService>(*d.store, *d.adapters, *d.clock);
  d.receiver = std::make_unique<webhooks::Receiver>(*d.adapters, *d.checkouts, *d.clock);

  // Outbound events: their own client (no retries of its own, short timeouts, the SSRF guard
  // on, private networks only when the admin allows them).
  http::ClientOptions hook_client;
  hook_client.user_agent = "merchgate-webhooks/0.1";
  hook_client.allow_loopback = config.allow_loopback;
  hook_client.allow_private_networks = config.webhook_allow_private_networks;
  hook_client.total_timeout = config.webhook_timeout;
  hook_client.read_timeout = config.webhook_timeout;
  hook_client.max_retries = 0;
  hook_client.max_response_bytes = 64 * 1024;
  d.webhook_http = std::make_unique<http::HttpClient>(d.io, hook_client);
  webhooks::DelivererOptions wo;
  wo.owner = d.worker_id;
  if (!config.webhook_retry_schedule.empty()) wo.schedule = config.webhook_retry_schedule;
  wo.min_retry_window = config.webhook_min_retry_window;
  wo.timeout = config.webhook_timeout;
  wo.per_endpoint = config.webhook_per_endpoint;
  // A lease outlives the slowest send so that a live delivery is never claimed twice.
  wo.lease = std::max(config.job_lease, 2 * config.webhook_timeout);
  d.deliverer = std::make_unique<webhooks::Deliverer>(d.io, *d.store, *d.webhook_http,
                                                      d.adapters->secrets(), *d.clock, wo);
  webhooks::Deliverer* deliverer = d.deliverer.get();
  webhooks::EndpointOptions eo;
  eo.allow_http = config.allow_loopback;
  d.endpoints =
      std::make_unique<webhooks::EndpointService>(*d.store, d.adapters->secrets(), *d.clock, eo,
                                                  [deliverer] { deliverer->endpoints_changed(); });
  d.checkouts->on_events_appended([deliverer] { deliverer->notify(); });
  if (!config.admin_key.empty()) d.auth.add_key(config.admin_key, "key_bootstrap_admin", "admin");
  if (!config.api_key.empty()) d.auth.add_key(config.api_key, "key_bootstrap_app", "app");
  api::AppDeps app_deps{*d.store,    *d.checkouts, *d.admin, *d.adapters,
                        *d.receiver, *d.endpoints, d.auth};
  app_deps.rate_limit = {static_cast<double>(config.rate_limit_per_second),
                         static_cast<double>(config.rate_limit_burst)};
  d.app = std::make_unique<api::App>(std::move(app_deps));

  jobs::RunnerOptions ro;
  ro.owner = d.worker_id;
  ro.concurrency = config.job_concurrency;
  ro.lease = config.job_lease;
  ro.poll = config.job_poll;
  ro.reconcile_every = config.reconcile_every;
  d.runner = std::make_unique<jobs::JobRunner>(d.io, *d.store, *d.checkouts, ro);
  jobs::JobRunner* runner = d.runner.get();
  d.checkouts->on_jobs_queued([runner] { runner->notify(); });

  d.work.emplace(asio::make_work_guard(d.io));
  unsigned n = config.threads > 0 ? static_cast<unsigned>(config.threads)
                                  : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) {
    d.threads.emplace_back([raw] {
      pthread_setname_np(pthread_self(), "mg-io");
      raw->io.run();
    });
  }

  auto reloaded = d.block_on([&] { return d.admin->reload_adapters(); });
  if (!reloaded) return reloaded.error();
  auto stored_keys = d.block_on([&] {
    return store::async_read(*d.store,
                             [](store::ReadTx& tx) -> Result<std::vector<store::ApiKeyRecord>> {
                               return tx.live_api_keys();
                             });
  });
  if (!stored_keys) return stored_keys.error();
  d.auth.load_stored(*stored_keys);
  auto problems = d.block_on([&] { return apply_seed(*d.admin, *d.endpoints, config.seed); });
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "\n") + p;
    return make_error(errc::invalid_field, all);
  }
  if (config.api_key.empty()) {
    log::warn("startup.no_app_key", {{"hint", "set MERCHGATE_API_KEY to use the checkout API"}});
  }
  return g;
}

Result<void> Gateway::listen() {
  Impl& d = *impl_;
  http::ServerOptions so;
  so.host = d.config.listen_host;
  so.port = d.config.listen_port;
  so.tls_cert_file = d.config.tls_cert;
  so.tls_key_file = d.config.tls_key;
  so.header_limit = d.config.header_limit;
  so.body_limit = d.config.body_limit;
  so.read_timeout = d.config.read_timeout;
  so.idle_timeout = d.config.idle_timeout;
  // Connections on their own single-threaded contexts: no strand or lock per I/O step.
  so.io_threads = d.config.threads > 0 ? static_cast<unsigned>(d.config.threads)
                                       : std::max(1u, std::thread::hardware_concurrency());
  api::App* app = d.app.get();
  d.server = std::make_unique<http::Server>(d.io, so,
                                            [app](http::Request& req) { return app->handle(req); });
  return d.server->listen();
}

std::uint16_t Gateway::port() const { return impl_->server ? impl_->server->port() : 0; }

void Gateway::start() {
  Impl& d = *impl_;
  if (d.server) d.server->start();
  d.runner->start();
  d.deliverer->start();
  log::info("gateway.started", {{"listen", d.config.listen_host + ":" + std::to_string(port())},
                                {"tls", !d.config.tls_cert.empty()},
                                {"public_url", d.config.public_url},
                                {"storage", d.config.storage.url},
                                {"worker", d.worker_id}});
}

void Gateway::stop() {
  Impl& d = *impl_;
  std::call_once(d.stopped, [&] {
    if (!d.work) return;  // create() failed before the I/O threads started
    log::info("gateway.draining", {});
    d.app->set_draining(true);
    if (d.server) {
      std::promise<void> drained;
      d.server->drain(d.config.drain_timeout, [&] { drained.set_value(); });
      drained.get_future().wait();
    }
    std::promise<void> jobs_done;
    d.runner->stop(d.config.drain_timeout, [&] { jobs_done.set_value(); });
    jobs_done.get_future().wait();
    std::promise<void> deliveries_done;
    d.deliverer->stop(d.config.drain_timeout, [&] { deliveries_done.set_value(); });
    deliveries_done.get_future().wait();
    d.adapters->stop_all();
    d.work.reset();
    d.io.stop();
    for (auto& t : d.threads) t.join();
    d.threads.clear();
    d.server.reset();
    d.store->close();
    log::info("gateway.stopped", {});
  });
}

void Gateway::run_until_signal() {
  std::promise<int> signalled;
  asio::signal_set signals(impl_->io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (!ec) signalled.set_value(sig);
  });
  int sig = signalled.get_future().get();
  log::info("gateway.signal", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  stop();
}

asio::io_context& Gateway::io() { return impl_->io; }
api::App& Gateway::app() { return *impl_->app; }
service::CheckoutService& Gateway::checkouts() { return *impl_->checkouts; }
service::AdminService& Gateway::admin() { return *impl_->admin; }
service::AdapterManager& Gateway::adapters() { return *impl_->adapters; }
store::Store& Gateway::store() { return *impl_->store; }
const config::Config& Gateway::config() const { return impl_->config; }
void Gateway::wake_jobs() { impl_->runner->notify(); }

}  // namespace mg
