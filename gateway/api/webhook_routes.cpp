// CONTRACT §5 /v1/admin/webhook-endpoints and §6 POST /v1/events/{id}/redeliver.
#include "gateway/api/app.hpp"
#include "gateway/service/checkout_service.hpp"
#include "gateway/store/async.hpp"

#include <boost/json/serialize.hpp>

namespace mg::api {
namespace bj = boost::json;

namespace {

http::Response object_or_error(int status, const Result<bj::object>& r) {
  if (!r) return http::error_response(r.error());
  return json_response(status, r.value());
}

}  // namespace

void App::add_webhook_endpoint_routes() {
  auto& ep = deps_.endpoints;
  router_.add("POST", "/v1/admin/webhook-endpoints", Access::admin,
              [&ep](Ctx& ctx) -> Task<http::Response> {
                auto body = json_body(ctx.req);
                if (!body) co_return http::error_response(body.error());
                co_return object_or_error(201, co_await ep.create(std::move(*body)));
              });
  router_.add("GET", "/v1/admin/webhook-endpoints", Access::admin,
              [&ep](Ctx& ctx) -> Task<http::Response> {
                auto q = list_query(ctx.req);
                if (!q) co_return http::error_response(q.error());
                auto r = co_await ep.list();
                if (!r) co_return http::error_response(r.error());
                co_return json_response(200, page_of(std::move(*r), *q));
              });
  router_.add("GET", "/v1/admin/webhook-endpoints/{id}", Access::admin,
              [&ep](Ctx& ctx) -> Task<http::Response> {
                co_return object_or_error(200, co_await ep.get(ctx.params[0]));
              });
  router_.add("PATCH", "/v1/admin/webhook-endpoints/{id}", Access::admin,
              [&ep](Ctx& ctx) -> Task<http::Response> {
                auto body = json_body(ctx.req);
                if (!body) co_return http::error_response(body.error());
                co_return object_or_error(200, co_await ep.patch(ctx.params[0], std::move(*body)));
              });
  router_.add("DELETE", "/v1/admin/webhook-endpoints/{id}", Access::admin,
              [&ep](Ctx& ctx) -> Task<http::Response> {
                auto r = co_await ep.remove(ctx.params[0]);
                if (!r) co_return http::error_response(r.error());
                co_return json_response(200, bj::object{{"id", ctx.params[0]}, {"deleted", true}});
              });
  router_.add("POST", "/v1/admin/webhook-endpoints/{id}/rotate-secret", Access::admin,
              [&ep](Ctx& ctx) -> Task<http::Response> {
                auto body =
                    ctx.req.body.empty() ? Result<bj::object>(bj::object{}) : json_body(ctx.req);
                if (!body) co_return http::error_response(body.error());
                co_return object_or_error(200, co_await ep.rotate(ctx.params[0], std::move(*body)));
              });
  router_.add("POST", "/v1/admin/webhook-endpoints/{id}/replay", Access::admin,
              [&ep](Ctx& ctx) -> Task<http::Response> {
                std::string since(ctx.req.query_param("since").value_or(""));
                co_return object_or_error(200, co_await ep.replay(ctx.params[0], since));
              });
  router_.add("GET", "/v1/admin/webhook-endpoints/{id}/attempts", Access::admin,
              [&ep](Ctx& ctx) -> Task<http::Response> {
                auto q = list_query(ctx.req);
                if (!q) co_return http::error_response(q.error());
                auto r = co_await ep.attempts(ctx.params[0], *q);
                if (!r) co_return http::error_response(r.error());
                bj::array data;
                for (const auto& a : r->data) data.push_back(webhooks::to_json(a));
                co_return json_response(200, bj::object{{"object", "list"},
                                                        {"data", std::move(data)},
                                                        {"has_more", r->has_more}});
              });
  // An app backend asks for one event again (to every endpoint it matches, or ?endpoint=).
  router_.add(
      "POST", "/v1/events/{id}/redeliver", Access::app, [this](Ctx& ctx) -> Task<http::Response> {
        if (!ctx.caller.seller.empty()) {
          // Seller-scoped keys may only touch their own checkouts' events.
          std::string id = ctx.params[0];
          std::string seller = ctx.caller.seller;
          auto visible =
              co_await store::async_read(deps_.store, [&](store::ReadTx& tx) -> Result<bool> {
                auto e = tx.event(id);
                auto c = e ? tx.checkout(e->checkout_id) : std::nullopt;
                return c && c->seller == seller;
              });
          if (!visible) co_return http::error_response(visible.error());
          if (!*visible) {
            co_return http::error_response(
                make_error(errc::not_found, "no event '" + id + "'", "id"));
          }
        }
        std::string endpoint(ctx.req.query_param("endpoint").value_or(""));
        auto r = co_await deps_.endpoints.redeliver(ctx.params[0], endpoint);
        if (!r) co_return http::error_response(r.error());
        co_return json_response(202,
                                bj::object{{"event", ctx.params[0]}, {"deliveries_queued", *r}});
      });
}

}  // namespace mg::api
