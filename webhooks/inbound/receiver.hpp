#pragma once
// POST /v1/webhooks/{adapter_id}: the adapter verifies the partner's own signature scheme
// (replay window included) and normalizes the body; the events are then stored durably and
// applied before any 2xx goes back. Bad signature, stale timestamp or malformed body: 400 (or
// what the scheme prescribes) and nothing changes. Unknown adapter: 404.
#include "gateway/core/clock.hpp"
#include "gateway/server/http_types.hpp"
#include "gateway/service/adapter_manager.hpp"
#include "gateway/service/checkout_service.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>

namespace mg::webhooks {

class Receiver {
 public:
  Receiver(service::AdapterManager& adapters, service::CheckoutService& service,
           const core::Clock& clock);

  boost::asio::awaitable<http::Response> receive(std::string adapter_id, const http::Request& req);

 private:
  service::AdapterManager& adapters_;
  service::CheckoutService& service_;
  const core::Clock& clock_;
};

}  // namespace mg::webhooks
