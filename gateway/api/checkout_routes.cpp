// CONTRACT §3: the checkout API for app backends.
#include "gateway/api/app.hpp"
#include "gateway/core/model_json.hpp"
#include "gateway/store/async.hpp"

#include <boost/json/serialize.hpp>

#include <map>

namespace mg::api {
namespace bj = boost::json;

namespace {

// Idempotency-Key: required on app POSTs, 1-255 printable ASCII characters.
Result<std::string> idempotency_key(const http::Request& req) {
  std::string_view key = req.header("idempotency-key");
  if (key.empty()) {
    return make_error(errc::missing_idempotency_key,
                      "send an Idempotency-Key header (for example a UUID) with every POST, so a "
                      "retry can never charge twice",
                      "Idempotency-Key");
  }
  if (key.size() > 255) {
    return make_error(errc::invalid_idempotency_key, "Idempotency-Key is at most 255 characters",
                      "Idempotency-Key");
  }
  for (unsigned char c : key) {
    if (c < 0x21 || c > 0x7E) {
      return make_error(errc::invalid_idempotency_key,
                        "Idempotency-Key must be printable ASCII without spaces",
                        "Idempotency-Key");
    }
  }
  return std::string(key);
}

http::Response reply(const service::Reply& r) { return json_response(r.status, r.body); }

template <class T, class F>
std::string list_body(const store::Page<T>& page, F&& render) {
  std::string out = R"({"object":"list","data":[)";
  bool first = true;
  for (const auto& item : page.data) {
    if (!first) out.push_back(',');
    first = false;
    out += render(item);
  }
  out += "],\"has_more\":";
  out += page.has_more ? "true" : "false";
  out += "}";
  return out;
}

std::string traceparent_of(const http::Request& req) {
  std::string_view tp = req.header("traceparent");
  // version-traceid-parentid-flags: 2+1+32+1+16+1+2 = 55 characters.
  if (tp.size() != 55) return {};
  return std::string(tp);
}

}  // namespace

void App::add_checkout_routes() {
  router_.add("POST", "/v1/checkouts", Access::app, [this](Ctx& ctx) -> Task<http::Response> {
    auto key = idempotency_key(ctx.req);
    if (!key) co_return http::error_response(key.error());
    co_return reply(co_await deps_.checkouts.create_checkout(
        ctx.caller, std::move(*key), ctx.req.body, traceparent_of(ctx.req)));
  });

  router_.add("GET", "/v1/checkouts", Access::app, [this](Ctx& ctx) -> Task<http::Response> {
    auto q = list_query(ctx.req);
    if (!q) co_return http::error_response(q.error());
    store::CheckoutFilter f;
    f.page = *q;
    f.status = std::string(ctx.req.query_param("status").value_or(""));
    if (!f.status.empty() && !core::checkout_status_from(f.status)) {
      co_return http::error_response(
          make_error(errc::invalid_field, "unknown checkout status '" + f.status + "'", "status"));
    }
    f.seller = ctx.caller.seller.empty() ? std::string(ctx.req.query_param("seller").value_or(""))
                                         : ctx.caller.seller;
    auto page = co_await store::async_read(
        deps_.store, [&](store::ReadTx& tx) -> Result<store::Page<core::Checkout>> {
          if (!f.page.starting_after.empty() && !tx.checkout(f.page.starting_after)) {
            return make_error(errc::resource_missing,
                              "no checkout '" + f.page.starting_after + "' to start after",
                              "starting_after");
          }
          return tx.checkouts(f);
        });
    if (!page) co_return http::error_response(page.error());
    co_return json_response(200, list_body(*page, [](const core::Checkout& c) {
                              return bj::serialize(core::to_json(c, core::Form::api));
                            }));
  });

  router_.add("GET", "/v1/checkouts/{id}", Access::app, [this](Ctx& ctx) -> Task<http::Response> {
    std::string id = ctx.params[0];
    auto c = co_await store::async_read(
        deps_.store, [&](store::ReadTx& tx) -> Result<std::optional<core::Checkout>> {
          return tx.checkout(id);
        });
    if (!c) co_return http::error_response(c.error());
    if (!*c || !(ctx.caller.seller.empty() || ctx.caller.seller == (*c)->seller)) {
      co_return http::error_response(make_error(errc::not_found, "no checkout '" + id + "'", "id"));
    }
    co_return json_response(200, core::to_json(**c, core::Form::api));
  });

  router_.add("POST", "/v1/checkouts/{id}/cancel", Access::app,
              [this](Ctx& ctx) -> Task<http::Response> {
                auto key = idempotency_key(ctx.req);
                if (!key) co_return http::error_response(key.error());
                co_return reply(co_await deps_.checkouts.cancel_checkout(
                    ctx.caller, std::move(*key), ctx.params[0], ctx.req.body));
              });

  router_.add(
      "POST", "/v1/checkouts/{id}/refunds", Access::app, [this](Ctx& ctx) -> Task<http::Response> {
        auto key = idempotency_key(ctx.req);
        if (!key) co_return http::error_response(key.error());
        co_return reply(co_await deps_.checkouts.refund_checkout(
            ctx.caller, std::move(*key), ctx.params[0], ctx.req.body, traceparent_of(ctx.req)));
      });

  router_.add("GET", "/v1/events", Access::app, [this](Ctx& ctx) -> Task<http::Response> {
    auto q = list_query(ctx.req);
    if (!q) co_return http::error_response(q.error());
    store::EventFilter f;
    f.page = *q;
    f.type = std::string(ctx.req.query_param("type").value_or(""));
    f.checkout_id = std::string(ctx.req.query_param("checkout").value_or(""));
    std::string seller = ctx.caller.seller;
    auto page = co_await store::async_read(
        deps_.store, [&](store::ReadTx& tx) -> Result<store::Page<store::StoredEvent>> {
          if (!f.page.starting_after.empty() && !tx.event(f.page.starting_after)) {
            return make_error(errc::resource_missing,
                              "no event '" + f.page.starting_after + "' to start after",
                              "starting_after");
          }
          auto events = tx.events(f);
          if (!seller.empty()) {
            // A seller-scoped key sees only its seller's checkouts' events.
            std::erase_if(events.data, [&](const store::StoredEvent& e) {
              auto c = tx.checkout(e.checkout_id);
              return !c || c->seller != seller;
            });
          }
          return events;
        });
    if (!page) co_return http::error_response(page.error());
    co_return json_response(
        200,
        list_body(*page, [](const store::StoredEvent& e) -> const std::string& { return e.body; }));
  });

  router_.add("GET", "/v1/events/{id}", Access::app, [this](Ctx& ctx) -> Task<http::Response> {
    std::string id = ctx.params[0];
    std::string seller = ctx.caller.seller;
    auto e = co_await store::async_read(
        deps_.store, [&](store::ReadTx& tx) -> Result<std::optional<store::StoredEvent>> {
          auto event = tx.event(id);
          if (event && !seller.empty()) {
            auto c = tx.checkout(event->checkout_id);
            if (!c || c->seller != seller) return std::optional<store::StoredEvent>{};
          }
          return event;
        });
    if (!e) co_return http::error_response(e.error());
    if (!*e)
      co_return http::error_response(make_error(errc::not_found, "no event '" + id + "'", "id"));
    co_return json_response(200, (*e)->body);
  });

  router_.add("GET", "/v1/products", Access::app, [this](Ctx& ctx) -> Task<http::Response> {
    auto q = list_query(ctx.req);
    if (!q) co_return http::error_response(q.error());
    std::string seller(ctx.req.query_param("seller").value_or(""));
    if (seller.empty()) {
      co_return http::error_response(make_error(
          errc::missing_field, "'seller' is required: /v1/products?seller=<id>", "seller"));
    }
    if (!ctx.caller.seller.empty() && ctx.caller.seller != seller) {
      co_return http::error_response(
          make_error(errc::permission_denied,
                     "this API key is limited to seller '" + ctx.caller.seller + "'", "seller"));
    }
    struct Shop {
      store::Page<core::Product> page;
      std::map<std::string, std::vector<core::Product>> groups;
      bool seller_known = false;
    };
    auto shop = co_await store::async_read(deps_.store, [&](store::ReadTx& tx) -> Result<Shop> {
      Shop s;
      s.seller_known = tx.seller(seller).has_value();
      s.page = tx.products(seller, true, *q);
      for (const auto& p : s.page.data) {
        if (!p.group.empty() && !s.groups.count(p.group)) {
          s.groups[p.group] = tx.products_in_group(seller, p.group);
        }
      }
      return s;
    });
    if (!shop) co_return http::error_response(shop.error());
    if (!shop->seller_known) {
      co_return http::error_response(
          make_error(errc::not_found, "no seller '" + seller + "'", "seller"));
    }
    auto availability = [](const core::Product& p) {
      return p.in_stock ? "in_stock" : "out_of_stock";
    };
    auto options_json = [](const core::Product& p) {
      bj::object o;
      for (const auto& [k, v] : p.options) o[k] = v;
      return o;
    };
    co_return json_response(
        200, list_body(shop->page, [&](const core::Product& p) {
          bj::array images;
          for (const auto& i : p.images) images.push_back(bj::value(i));
          bj::array variants;
          if (!p.group.empty()) {
            for (const auto& v : shop->groups[p.group]) {
              if (!v.active) continue;
              variants.push_back(bj::object{{"sku", v.sku},
                                            {"title", v.title},
                                            {"options", options_json(v)},
                                            {"unit_amount", v.unit_amount},
                                            {"availability", availability(v)}});
            }
          }
          bj::object o{{"sku", p.sku},
                       {"object", "product"},
                       {"seller", p.seller},
                       {"title", p.title},
                       {"description",
                        p.description.empty() ? bj::value(nullptr) : bj::value(p.description)},
                       {"unit_amount", p.unit_amount},
                       {"currency", p.currency},
                       {"images", std::move(images)},
                       {"options", options_json(p)},
                       {"group", p.group.empty() ? bj::value(nullptr) : bj::value(p.group)},
                       {"variants", std::move(variants)},
                       {"availability", availability(p)},
                       {"shippable", p.fulfillment.has_value()}};
          return bj::serialize(o);
        }));
  });
}

}  // namespace mg::api
