#pragma once
// The gateway's HTTP application: routes, authentication, the CONTRACT §2 conventions (JSON
// errors, Idempotency-Key, pagination, Request-Id, traceparent), metrics and access logs. The
// listener calls `handle` for every request; sandbox adapters call it in-process too.
#include "gateway/api/authenticator.hpp"
#include "gateway/api/rate_limiter.hpp"
#include "gateway/api/router.hpp"
#include "gateway/server/http_types.hpp"
#include "gateway/service/admin_service.hpp"
#include "gateway/service/checkout_service.hpp"
#include "webhooks/inbound/receiver.hpp"
#include "webhooks/outbound/endpoints.hpp"

#include <atomic>
#include <memory>
#include <string>

namespace mg::api {

struct AppDeps {
  store::Store& store;
  service::CheckoutService& checkouts;
  service::AdminService& admin;
  service::AdapterManager& adapters;
  webhooks::Receiver& receiver;
  webhooks::EndpointService& endpoints;
  Authenticator& auth;
  std::string version = "0.1.0";
  RateLimit rate_limit;
};

class App {
 public:
  explicit App(AppDeps deps);

  Task<http::Response> handle(http::Request& req);
  // While draining, /readyz answers 503 so load balancers stop sending traffic.
  void set_draining(bool draining) { draining_ = draining; }

 private:
  void add_ops_routes();
  void add_checkout_routes();
  void add_admin_routes();
  void add_webhook_endpoint_routes();
  void add_key_and_audit_routes();
  // The audit entry of an admin write (POST, PUT, PATCH, DELETE under /v1/admin/), before it
  // runs; nullopt for anything else.
  std::optional<store::AuditEntry> prepare_audit(const http::Request& req,
                                                 const service::Caller& caller) const;
  // After a 2xx: the audit entry its handler did not commit itself, and the key's last use.
  Task<void> finish_audit(const http::Request& req, Ctx& ctx, int status);
  void add_console_routes();

  AppDeps deps_;
  Router router_;
  RateLimiter rate_limiter_;
  std::atomic<bool> draining_{false};
};

// Helpers shared by the route files.
http::Response json_response(int status, std::string body);
http::Response json_response(int status, const boost::json::object& body);
Result<store::ListQuery> list_query(const http::Request& req);
// A list reply paged in memory for the few-and-small collections (adapters, endpoints): `items`
// sorted by `key`, the page after `q.starting_after`.
boost::json::object page_of(boost::json::array items, const store::ListQuery& q,
                            std::string_view key = "id");
Result<boost::json::object> json_body(const http::Request& req);
// POST, PUT, PATCH, DELETE: what viewers may not do and what the audit log records.
bool is_write(std::string_view method);

}  // namespace mg::api
