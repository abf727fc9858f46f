#include "webhooks/inbound/receiver.hpp"

#include "gateway/core/metrics.hpp"
#include "gateway/log/log.hpp"

namespace mg::webhooks {

Receiver::Receiver(service::AdapterManager& adapters, service::CheckoutService& service,
                   const core::Clock& clock)
    : adapters_(adapters), service_(service), clock_(clock) {}

boost::asio::awaitable<http::Response> Receiver::receive(std::string adapter_id,
                                                         const http::Request& req) {
  auto adapter = adapters_.current()->find(adapter_id);
  if (!adapter) {
    co_return http::error_response(
        make_error(errc::not_found, "no adapter '" + adapter_id + "'", "adapter_id"));
  }
  adapters::WebhookRequest wr;
  wr.headers = req.headers;
  wr.body = req.body;
  wr.query = req.query;
  wr.now = clock_.now();
  auto verified = co_await adapter->verify_webhook(wr);
  if (!verified) {
    const auto& e = verified.error();
    metrics::counter_add("merchgate_webhooks_rejected_total",
                         {{"adapter", adapter_id}, {"reason", e.code.message()}});
    log::warn("webhook.rejected", {{"adapter", adapter_id},
                                   {"reason", e.code.message()},
                                   {"message", e.message},
                                   {"request_id", req.request_id}});
    errc code = e.is(adapters::adapter_errc::stale_webhook)       ? errc::stale_timestamp
                : e.is(adapters::adapter_errc::malformed_webhook) ? errc::invalid_json
                                                                  : errc::invalid_signature;
    http::Response r = http::error_response(make_error(code, e.message));
    if (e.http_status == 401) r.status = 401;
    co_return r;
  }
  auto stored = co_await service_.accept_inbound(adapter_id, verified->events);
  if (!stored) {
    // Not stored: a non-2xx makes the partner retry, so nothing is lost.
    log::error("webhook.not_stored", {{"adapter", adapter_id},
                                      {"error", stored.error().message},
                                      {"request_id", req.request_id}});
    co_return http::error_response(
        make_error(errc::unavailable, "the webhook could not be stored; please retry"));
  }
  http::Response r;
  r.status = verified->status;
  r.set_header("content-type", verified->content_type);
  r.body = verified->body;
  co_return r;
}

}  // namespace mg::webhooks
