// CONTRACT §5: the admin API (admin keys), and the operator's timeline of one checkout.
#include "gateway/api/app.hpp"
#include "gateway/core/model_json.hpp"
#include "gateway/store/async.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>

namespace mg::api {
namespace bj = boost::json;

namespace {

// The change's audit entry, for the service to commit with the change itself.
const store::AuditEntry* audit_of(const Ctx& ctx) { return ctx.audit ? &*ctx.audit : nullptr; }

http::Response put_reply(Ctx& ctx, const Result<service::Put>& r) {
  if (!r) return http::error_response(r.error());
  ctx.audit.reset();  // committed with the change
  return json_response(r->created ? 201 : 200, r->object);
}

http::Response object_reply(const Result<bj::object>& r) {
  if (!r) return http::error_response(r.error());
  return json_response(200, r.value());
}

template <class T, class F>
http::Response page_reply(const Result<store::Page<T>>& r, F&& render) {
  if (!r) return http::error_response(r.error());
  bj::array data;
  for (const auto& item : r->data) data.push_back(render(item));
  return json_response(
      200, bj::object{{"object", "list"}, {"data", std::move(data)}, {"has_more", r->has_more}});
}

// adapter_errc as a stable snake_case code for the adapter test's reply.
std::string_view adapter_error_name(const adapters::AdapterError& e) {
  using adapters::adapter_errc;
  if (e.code.category() != adapters::adapter_category()) return "partner_error";
  switch (static_cast<adapter_errc>(e.code.value())) {
    case adapter_errc::unavailable:
      return "unavailable";
    case adapter_errc::timeout:
      return "timeout";
    case adapter_errc::authentication:
      return "authentication";
    case adapter_errc::rejected:
      return "rejected";
    case adapter_errc::rate_limited:
      return "rate_limited";
    case adapter_errc::not_found:
      return "not_found";
    case adapter_errc::unsupported:
      return "unsupported";
    default:
      return "partner_error";
  }
}

}  // namespace

void App::add_admin_routes() {
  router_.add("GET", "/v1/admin/adapter-types", Access::admin,
              [this](Ctx&) -> Task<http::Response> {
                co_return json_response(200, bj::object{{"object", "list"},
                                                        {"data", deps_.admin.adapter_types()},
                                                        {"has_more", false}});
              });

  router_.add("GET", "/v1/admin/adapters", Access::admin, [this](Ctx& ctx) -> Task<http::Response> {
    auto q = list_query(ctx.req);
    if (!q) co_return http::error_response(q.error());
    auto r = co_await deps_.admin.list_adapters();
    if (!r) co_return http::error_response(r.error());
    // Adapters are few: page the sorted list in memory, by id.
    co_return json_response(200, page_of(std::move(*r), *q));
  });
  router_.add(
      "PUT", "/v1/admin/adapters/{id}", Access::admin, [this](Ctx& ctx) -> Task<http::Response> {
        auto body = json_body(ctx.req);
        if (!body) co_return http::error_response(body.error());
        auto r = co_await deps_.admin.put_adapter(ctx.params[0], std::move(*body), audit_of(ctx));
        co_return put_reply(ctx, r);
      });
  router_.add("GET", "/v1/admin/adapters/{id}", Access::admin,
              [this](Ctx& ctx) -> Task<http::Response> {
                co_return object_reply(co_await deps_.admin.get_adapter(ctx.params[0]));
              });
  router_.add("DELETE", "/v1/admin/adapters/{id}", Access::admin,
              [this](Ctx& ctx) -> Task<http::Response> {
                auto r = co_await deps_.admin.delete_adapter(ctx.params[0], audit_of(ctx));
                if (!r) co_return http::error_response(r.error());
                ctx.audit.reset();
                co_return json_response(200, bj::object{{"id", ctx.params[0]}, {"deleted", true}});
              });
  // A harmless authenticated call to the partner: do these credentials work? The test ran, so
  // the reply is 200 either way; `ok` says what the partner answered.
  router_.add(
      "POST", "/v1/admin/adapters/{id}/test", Access::admin,
      [this](Ctx& ctx) -> Task<http::Response> {
        std::string id = ctx.params[0];
        auto adapter = deps_.adapters.current()->find(id);
        if (!adapter) {
          auto stored = co_await deps_.admin.get_adapter(id);
          if (!stored) co_return http::error_response(stored.error());
          co_return json_response(
              200, bj::object{{"id", id},
                              {"ok", false},
                              {"error", bj::object{{"code", "not_live"},
                                                   {"message",
                                                    "the adapter is stored but not running; the "
                                                    "gateway log says why it failed to start"}}}});
        }
        auto start = std::chrono::steady_clock::now();
        auto r = co_await adapter->test_credentials();
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
        bj::object out{{"id", id}, {"type", adapter->type()}, {"ok", r.has_value()}};
        if (r) {
          out["message"] = *r;
        } else {
          bj::object error{{"code", adapter_error_name(r.error())},
                           {"message", r.error().message.empty() ? r.error().code.message()
                                                                 : r.error().message}};
          if (r.error().http_status) error["http_status"] = r.error().http_status;
          out["error"] = std::move(error);
        }
        out["duration_ms"] = static_cast<std::int64_t>(ms);
        co_return json_response(200, out);
      });
  // Catalog import: the partner's products and variants become catalog products.
  router_.add("POST", "/v1/admin/adapters/{id}/import-products", Access::admin,
              [this](Ctx& ctx) -> Task<http::Response> {
                auto body = json_body(ctx.req);
                if (!body) co_return http::error_response(body.error());
                co_return object_reply(
                    co_await deps_.admin.import_products(ctx.params[0], std::move(*body)));
              });

  router_.add("GET", "/v1/admin/sellers", Access::admin, [this](Ctx& ctx) -> Task<http::Response> {
    auto q = list_query(ctx.req);
    if (!q) co_return http::error_response(q.error());
    co_return page_reply(co_await deps_.admin.list_sellers(*q),
                         [](const core::Seller& s) { return core::to_json(s, core::Form::api); });
  });
  router_.add(
      "PUT", "/v1/admin/sellers/{id}", Access::admin, [this](Ctx& ctx) -> Task<http::Response> {
        auto body = json_body(ctx.req);
        if (!body) co_return http::error_response(body.error());
        auto r = co_await deps_.admin.put_seller(ctx.params[0], std::move(*body), audit_of(ctx));
        co_return put_reply(ctx, r);
      });
  router_.add("GET", "/v1/admin/sellers/{id}", Access::admin,
              [this](Ctx& ctx) -> Task<http::Response> {
                co_return object_reply(co_await deps_.admin.get_seller(ctx.params[0]));
              });

  router_.add("GET", "/v1/admin/products", Access::admin, [this](Ctx& ctx) -> Task<http::Response> {
    auto q = list_query(ctx.req);
    if (!q) co_return http::error_response(q.error());
    std::string seller(ctx.req.query_param("seller").value_or(""));
    co_return page_reply(co_await deps_.admin.list_products(seller, *q),
                         [](const core::Product& p) { return core::to_json(p, core::Form::api); });
  });
  router_.add(
      "PUT", "/v1/admin/products/{sku}", Access::admin, [this](Ctx& ctx) -> Task<http::Response> {
        auto body = json_body(ctx.req);
        if (!body) co_return http::error_response(body.error());
        auto r = co_await deps_.admin.put_product(ctx.params[0], std::move(*body), audit_of(ctx));
        co_return put_reply(ctx, r);
      });
  router_.add("GET", "/v1/admin/products/{sku}", Access::admin,
              [this](Ctx& ctx) -> Task<http::Response> {
                co_return object_reply(co_await deps_.admin.get_product(ctx.params[0]));
              });
  router_.add("DELETE", "/v1/admin/sellers/{id}", Access::admin,
              [this](Ctx& ctx) -> Task<http::Response> {
                auto r = co_await deps_.admin.delete_seller(ctx.params[0], audit_of(ctx));
                if (!r) co_return http::error_response(r.error());
                ctx.audit.reset();
                co_return json_response(200, bj::object{{"id", ctx.params[0]}, {"deleted", true}});
              });
  router_.add("DELETE", "/v1/admin/products/{sku}", Access::admin,
              [this](Ctx& ctx) -> Task<http::Response> {
                auto r = co_await deps_.admin.delete_product(ctx.params[0], audit_of(ctx));
                if (!r) co_return http::error_response(r.error());
                ctx.audit.reset();
                co_return json_response(200, bj::object{{"sku", ctx.params[0]}, {"deleted", true}});
              });

  router_.add("PUT", "/v1/admin/routing", Access::admin, [this](Ctx& ctx) -> Task<http::Response> {
    auto body = json_body(ctx.req);
    if (!body) co_return http::error_response(body.error());
    auto r = co_await deps_.admin.put_routing(std::move(*body), audit_of(ctx));
    if (r) ctx.audit.reset();
    co_return object_reply(r);
  });
  router_.add("GET", "/v1/admin/routing", Access::admin, [this](Ctx&) -> Task<http::Response> {
    co_return object_reply(co_await deps_.admin.get_routing());
  });

  // What happened to checkout X: its state, events, partner calls, webhooks and jobs in one view.
  router_.add(
      "GET", "/v1/admin/checkouts/{id}/timeline", Access::admin,
      [this](Ctx& ctx) -> Task<http::Response> {
        std::string id = ctx.params[0];
        auto r =
            co_await store::async_read(deps_.store, [&](store::ReadTx& tx) -> Result<bj::object> {
              auto c = tx.checkout(id);
              if (!c) return make_error(errc::not_found, "no checkout '" + id + "'", "id");
              bj::array events;
              store::EventFilter f;
              f.checkout_id = id;
              f.page.limit = 100;
              auto page = tx.events(f);
              for (auto it = page.data.rbegin(); it != page.data.rend(); ++it) {
                events.push_back(bj::parse(it->body));
              }
              bj::array calls;
              for (const auto& pc : tx.partner_calls(id)) {
                calls.push_back(bj::object{{"adapter", pc.adapter_id},
                                           {"operation", pc.operation},
                                           {"idempotency_key", pc.idempotency_key},
                                           {"outcome", pc.outcome},
                                           {"http_status", pc.http_status},
                                           {"duration_ms", pc.duration_ms},
                                           {"error", pc.error},
                                           {"at", core::format_time(pc.at)}});
              }
              bj::array webhooks;
              for (const auto& w : tx.inbound_for_checkout(id)) {
                webhooks.push_back(
                    bj::object{{"adapter", w.adapter_id},
                               {"partner_event_id", w.partner_event_id},
                               {"type", w.event_type},
                               {"status", w.status == store::InboundStatus::applied   ? "applied"
                                          : w.status == store::InboundStatus::ignored ? "ignored"
                                                                                      : "pending"},
                               {"error", w.error},
                               {"received_at", core::format_time(w.received_at)}});
              }
              bj::array jobs;
              for (const auto& j : tx.jobs_for_checkout(id)) {
                jobs.push_back(bj::object{{"id", j.id},
                                          {"kind", j.kind},
                                          {"state", j.state == store::JobState::queued ? "queued"
                                                    : j.state == store::JobState::done ? "done"
                                                                                       : "dead"},
                                          {"attempts", j.attempts},
                                          {"last_error", j.last_error},
                                          {"run_at", core::format_time(j.run_at)},
                                          {"updated_at", core::format_time(j.updated_at)}});
              }
              return bj::object{{"checkout", core::to_json(*c, core::Form::api)},
                                {"events", std::move(events)},
                                {"partner_calls", std::move(calls)},
                                {"webhooks", std::move(webhooks)},
                                {"jobs", std::move(jobs)}};
            });
        co_return object_reply(r);
      });
}

}  // namespace mg::api
