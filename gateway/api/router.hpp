#pragma once
// Routes: method + path pattern ("/v1/checkouts/{id}/cancel", a trailing "*" takes the rest)
// with the access each needs. Unknown path: 404; known path, other method: 405 with Allow.
#include "gateway/server/http_types.hpp"
#include "gateway/service/checkout_service.hpp"
#include "gateway/store/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mg::api {

template <class T>
using Task = boost::asio::awaitable<T>;

enum class Access {
  open,   // no key (health, webhooks with their own signatures, hosted pages)
  app,    // app or admin keys (CONTRACT §3)
  admin,  // admin keys (CONTRACT §5)
};

struct Ctx {
  http::Request& req;
  std::vector<std::string> params;  // the {…} segments in order
  std::string tail;                 // what a trailing * matched
  service::Caller caller;
  // An admin write's audit entry, prepared before the handler runs. A handler that commits it
  // in the change's own transaction resets it; otherwise it is written once the reply is a 2xx.
  std::optional<store::AuditEntry> audit;
};

using RouteHandler = std::function<Task<http::Response>(Ctx&)>;

struct Route {
  std::string method;
  std::string pattern;  // also the metrics label
  std::vector<std::string> segments;
  bool tail = false;
  Access access = Access::open;
  RouteHandler handler;
};

class Router {
 public:
  void add(std::string method, std::string pattern, Access access, RouteHandler handler);

  struct Match {
    const Route* route = nullptr;
    std::vector<std::string> params;
    std::string tail;
    std::string allow;  // when the path matched but the method did not
  };
  Match match(std::string_view method, std::string_view path) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace mg::api
