#include "gateway/api/app.hpp"

#include "gateway/core/json.hpp"
#include "gateway/core/metrics.hpp"
#include "gateway/log/log.hpp"
#include "gateway/store/async.hpp"

#include <boost/json/serialize.hpp>

#include <chrono>

namespace mg::api {
namespace bj = boost::json;

http::Response json_response(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.set_header("content-type", "application/json");
  r.body = std::move(body);
  return r;
}

http::Response json_response(int status, const bj::object& body) {
  return json_response(status, bj::serialize(body));
}

Result<store::ListQuery> list_query(const http::Request& req) {
  store::ListQuery q;
  if (auto limit = req.query_param("limit")) {
    char* end = nullptr;
    std::string s(*limit);
    long n = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || n < 1 || n > 100) {
      return make_error(errc::invalid_field, "'limit' must be an integer from 1 to 100", "limit");
    }
    q.limit = static_cast<int>(n);
  }
  if (auto after = req.query_param("starting_after")) {
    if (after->size() > 255) {
      return make_error(errc::invalid_field, "'starting_after' is too long", "starting_after");
    }
    q.starting_after = std::string(*after);
  }
  return q;
}

bj::object page_of(bj::array items, const store::ListQuery& q, std::string_view key) {
  bj::array page;
  bool has_more = false;
  for (auto& item : items) {
    if (!q.starting_after.empty() && item.as_object().at(key).as_string() <= q.starting_after) {
      continue;
    }
    if (static_cast<int>(page.size()) == q.limit) {
      has_more = true;
      break;
    }
    page.push_back(std::move(item));
  }
  return bj::object{{"object", "list"}, {"data", std::move(page)}, {"has_more", has_more}};
}

bool is_write(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

Result<bj::object> json_body(const http::Request& req) {
  return core::json::parse_object(req.body);
}

App::App(AppDeps deps) : deps_(std::move(deps)), rate_limiter_(deps_.rate_limit) {
  add_ops_routes();
  add_checkout_routes();
  add_admin_routes();
  add_webhook_endpoint_routes();
  add_key_and_audit_routes();
  add_console_routes();
}

namespace {

// Roles: app keys reach the checkout API, viewers read both APIs, admins reach everything.
std::optional<Error> refusal(Access access, std::string_view method, std::string_view role) {
  if (role == "admin") return std::nullopt;
  if (role == "viewer") {
    if (!is_write(method)) return std::nullopt;
    return make_error(errc::permission_denied,
                      "viewer keys can only read; this needs an " +
                          std::string(access == Access::admin ? "admin" : "app or admin") + " key");
  }
  if (role == "app" && access == Access::app) return std::nullopt;
  return make_error(errc::permission_denied, "this endpoint needs an admin key");
}

bool is_json_content_type(std::string_view ct) {
  auto semi = ct.find(';');
  std::string_view media = ct.substr(0, semi);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (media.size() != 16) return false;
  for (std::size_t i = 0; i < media.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(media[i])) != "application/json"[i]) return false;
  }
  return true;
}

}  // namespace

Task<http::Response> App::handle(http::Request& req) {
  auto start = std::chrono::steady_clock::now();
  auto m = router_.match(req.method, req.path);
  http::Response res;
  std::string route = m.route ? m.route->pattern : "unmatched";
  std::string key_id;  // who asked, for the access log: the key's id, never the key
  if (!m.route) {
    if (!m.allow.empty()) {
      res = http::error_response(
          make_error(errc::method_not_allowed,
                     req.method + " is not allowed on " + req.path + "; use " + m.allow));
      res.set_header("allow", m.allow);
    } else {
      res = http::error_response(make_error(errc::route_not_found, "no route " + req.path));
    }
  } else {
    Ctx ctx{req, std::move(m.params), std::move(m.tail), {}};
    std::optional<Error> refused;
    int retry_after = 0;
    if (m.route->access != Access::open) {
      std::string_view token = bearer_token(req.header("authorization"));
      auto caller = deps_.auth.authenticate(token);
      if (caller) key_id = caller->key_id;
      if (token.empty()) {
        refused = make_error(errc::authentication_required,
                             "send your API key as 'Authorization: Bearer <key>'");
      } else if (!caller) {
        refused = make_error(errc::invalid_api_key, "the API key is not valid");
      } else if (auto no = refusal(m.route->access, req.method, caller->role)) {
        refused = std::move(*no);
      } else if (auto wait = rate_limiter_.take(caller->key_id)) {
        refused = make_error(errc::rate_limited, "too many requests with this API key; retry in " +
                                                     std::to_string(*wait) + " s");
        retry_after = *wait;
      } else {
        ctx.caller = *caller;
        ctx.audit = prepare_audit(req, ctx.caller);
      }
    }
    if (!refused && (req.method == "POST" || req.method == "PUT" || req.method == "PATCH") &&
        !req.body.empty() && req.path.starts_with("/v1/") &&
        !req.path.starts_with("/v1/webhooks/") &&
        !is_json_content_type(req.header("content-type"))) {
      refused = make_error(errc::unsupported_media_type,
                           "send request bodies as 'Content-Type: application/json'");
    }
    if (refused) {
      res = http::error_response(*refused);
      if (retry_after) res.set_header("retry-after", std::to_string(retry_after));
    } else {
      std::optional<std::string> crashed;
      try {
        res = co_await m.route->handler(ctx);
      } catch (const std::exception& e) {
        crashed = e.what();
      }
      if (crashed) {
        log::error("request.crashed",
                   {{"request_id", req.request_id}, {"route", route}, {"error", *crashed}});
        res = http::error_response(make_error(errc::internal, "internal error"));
      }
      if (!ctx.caller.key_id.empty() && res.status < 300) {
        co_await finish_audit(req, ctx, res.status);
      }
    }
  }
  if (res.header("content-type").empty()) res.set_header("content-type", "application/json");
  if (req.path.starts_with("/v1/")) res.set_header("cache-control", "no-store");
  res.set_header("x-content-type-options", "nosniff");
  if (!req.request_id.empty()) res.set_header("request-id", req.request_id);

  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string status = std::to_string(res.status);
  metrics::counter_add("merchgate_http_requests_total",
                       {{"route", route}, {"method", req.method}, {"status", status}});
  metrics::histogram_observe("merchgate_http_request_seconds", {{"route", route}}, seconds);
  if (res.status >= 400 || log::enabled(log::Level::debug)) {
    log::write(res.status >= 500   ? log::Level::error
               : res.status >= 400 ? log::Level::info
                                   : log::Level::debug,
               "request",
               {{"request_id", req.request_id},
                {"method", req.method},
                {"route", route},
                {"key", key_id},
                {"status", res.status},
                {"ms", static_cast<std::int64_t>(seconds * 1000)},
                {"remote", req.remote_address}});
  }
  co_return res;
}

void App::add_ops_routes() {
  router_.add("GET", "/healthz", Access::open, [](Ctx&) -> Task<http::Response> {
    co_return json_response(200, bj::object{{"status", "ok"}});
  });

  router_.add("GET", "/readyz", Access::open, [this](Ctx&) -> Task<http::Response> {
    int latest = deps_.store.latest_schema_version();
    auto version = co_await store::async_read(
        deps_.store, [](store::ReadTx& tx) -> Result<int> { return tx.schema_version(); });
    bj::object detail;
    bool ready = !draining_;
    detail["storage"] = version ? "ok" : version.error().message;
    if (!version) ready = false;
    detail["schema_version"] = version ? *version : 0;
    detail["schema_latest"] = latest;
    if (!version || *version != latest) ready = false;
    bj::object adapters;
    for (const auto& [id, entry] : deps_.adapters.current()->entries()) {
      adapters[id] = bj::object{{"enabled", entry.enabled},
                                {"breaker", http::to_string(entry.adapter->breaker().state())}};
    }
    detail["adapters"] = std::move(adapters);
    detail["draining"] = draining_.load();
    detail["status"] = ready ? "ready" : "not_ready";
    co_return json_response(ready ? 200 : 503, detail);
  });

  router_.add("GET", "/metrics", Access::open, [this](Ctx&) -> Task<http::Response> {
    core::Timestamp now = deps_.checkouts.clock().now();
    auto stats = co_await store::async_read(
        deps_.store,
        [now](store::ReadTx& tx) -> Result<store::JobStats> { return tx.job_stats(now); });
    if (stats) {
      metrics::gauge_set("merchgate_jobs_queued", {}, static_cast<double>(stats->queued));
      metrics::gauge_set("merchgate_jobs_leased", {}, static_cast<double>(stats->leased));
      metrics::gauge_set("merchgate_jobs_dead", {}, static_cast<double>(stats->dead));
      metrics::gauge_set("merchgate_jobs_oldest_due_seconds", {},
                         stats->oldest_due ? (now - stats->oldest_due) / 1000.0 : 0.0);
    }
    auto deliveries = co_await store::async_read(
        deps_.store,
        [](store::ReadTx& tx) -> Result<store::DeliveryStats> { return tx.delivery_stats(); });
    if (deliveries) {
      metrics::gauge_set("merchgate_webhook_queue_depth", {},
                         static_cast<double>(deliveries->pending));
      metrics::gauge_set("merchgate_webhook_oldest_undelivered_seconds", {},
                         deliveries->oldest_pending_created_at
                             ? (now - deliveries->oldest_pending_created_at) / 1000.0
                             : 0.0);
    }
    for (const auto& [id, entry] : deps_.adapters.current()->entries()) {
      auto state = entry.adapter->breaker().state();
      metrics::gauge_set("merchgate_adapter_breaker_open", {{"adapter", id}},
                         state == http::CircuitBreaker::State::closed ? 0.0 : 1.0);
    }
    http::Response r;
    r.set_header("content-type", "text/plain; version=0.0.4");
    r.body = metrics::render();
    co_return r;
  });

  router_.add("POST", "/v1/webhooks/{adapter_id}", Access::open,
              [this](Ctx& ctx) -> Task<http::Response> {
                co_return co_await deps_.receiver.receive(ctx.params[0], ctx.req);
              });

  // Pages adapters serve to browsers (the sandbox's payment page and tracking page).
  auto hosted = [this](Ctx& ctx) -> Task<http::Response> {
    auto adapter = deps_.adapters.current()->find(ctx.params[0]);
    if (adapter) {
      if (auto page = co_await adapter->hosted_page(ctx.req, ctx.tail)) co_return std::move(*page);
    }
    http::Response r;
    r.status = 404;
    r.set_header("content-type", "text/plain; charset=utf-8");
    r.body = "Not found.\n";
    co_return r;
  };
  router_.add("GET", "/hosted/{adapter_id}/*", Access::open, hosted);
  router_.add("POST", "/hosted/{adapter_id}/*", Access::open, hosted);
}

}  // namespace mg::api
