// CONTRACT §5 /v1/admin/api-keys and /v1/admin/audit-log, and the audit entry every successful
// admin change leaves behind.
#include "gateway/api/app.hpp"
#include "gateway/core/crypto.hpp"
#include "gateway/core/json.hpp"
#include "gateway/core/model_json.hpp"
#include "gateway/log/log.hpp"
#include "gateway/service/admin_service.hpp"
#include "gateway/service/secret_box.hpp"
#include "gateway/store/async.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace mg::api {
namespace bj = boost::json;
namespace json = core::json;

namespace {

constexpr std::string_view kKeyPrefix = "mgk_live_";

bj::value optional_text(const std::string& s) {
  return s.empty() ? bj::value(nullptr) : bj::value(s);
}

bj::value optional_time(core::Timestamp t) {
  return t ? core::time_value(t, core::Form::api) : bj::value(nullptr);
}

// A key as reads show it: never the key or its hash, only what recognises it.
bj::object key_view(const store::ApiKeyRecord& k) {
  return bj::object{{"id", k.id},
                    {"object", "api_key"},
                    {"role", k.role},
                    {"seller", optional_text(k.seller)},
                    {"name", optional_text(k.name)},
                    {"prefix", k.prefix},
                    {"last4", k.last4},
                    {"redacted", k.prefix + "…" + k.last4},
                    {"created_by", optional_text(k.created_by)},
                    {"created_at", core::time_value(k.created_at, core::Form::api)},
                    {"last_used_at", optional_time(k.last_used_at)},
                    {"revoked", k.revoked_at != 0},
                    {"revoked_at", optional_time(k.revoked_at)}};
}

bj::object audit_view(const store::AuditEntry& e) {
  bj::value change = nullptr;
  if (!e.change.empty()) {
    boost::system::error_code ec;
    change = bj::parse(e.change, ec);
    if (ec) change = nullptr;
  }
  return bj::object{{"id", e.id},
                    {"object", "audit_entry"},
                    {"key", e.key_id},
                    {"method", e.method},
                    {"path", e.path},
                    {"change", std::move(change)},
                    {"status", e.status},
                    {"remote_address", optional_text(e.remote)},
                    {"request_id", optional_text(e.request_id)},
                    {"at", core::time_value(e.at, core::Form::api)}};
}

struct NewKey {
  std::string role;
  std::string seller;
  std::string name;
};

Result<NewKey> parse_new_key(const bj::object& body) {
  if (auto r = json::only_keys(body, {"role", "seller", "name"}, ""); !r) return r.error();
  NewKey k;
  // CONTRACT §5: POST creates an app key, unless another role is asked for.
  auto role = json::optional_string({body, "role", ""}, 16);
  if (!role) return role.error();
  k.role = role->value_or("app");
  if (k.role != "app" && k.role != "admin" && k.role != "viewer") {
    return make_error(errc::invalid_field, "'role' is one of app, admin, viewer", "role");
  }
  auto seller = json::optional_string({body, "seller", ""}, 100);
  if (!seller) return seller.error();
  if (*seller) {
    if (k.role != "app") {
      return make_error(errc::invalid_field, "only app keys can be restricted to one seller",
                        "seller");
    }
    if (!service::valid_catalog_id(**seller)) {
      return make_error(errc::invalid_field, "'seller' is a seller id", "seller");
    }
    k.seller = **seller;
  }
  auto name = json::optional_string({body, "name", ""}, 200);
  if (!name) return name.error();
  k.name = name->value_or("");
  return k;
}

}  // namespace

std::optional<store::AuditEntry> App::prepare_audit(const http::Request& req,
                                                    const service::Caller& caller) const {
  if (!is_write(req.method) || !req.path.starts_with("/v1/admin/")) return std::nullopt;
  store::AuditEntry entry;
  entry.id = core::new_id("aud");
  entry.key_id = caller.key_id;
  entry.method = req.method;
  entry.path = req.path;
  if (!req.body.empty()) {
    boost::system::error_code ec;
    bj::value body = bj::parse(req.body, ec);
    // What cannot be parsed cannot be cleaned: it is left out rather than stored as is.
    entry.change = ec ? std::string(R"({"unparsed_body":true})")
                      : bj::serialize(service::without_secrets(body));
  }
  entry.remote = req.remote_address;
  entry.request_id = req.request_id;
  entry.at = deps_.checkouts.clock().now();
  return entry;
}

Task<void> App::finish_audit(const http::Request& req, Ctx& ctx, int status) {
  core::Timestamp now = deps_.checkouts.clock().now();
  bool touch = deps_.auth.should_touch(ctx.caller.key_id, now);
  if (!touch && !ctx.audit) co_return;
  if (ctx.audit) ctx.audit->status = status;
  std::string key_id = ctx.caller.key_id;
  auto written = co_await store::async_write(deps_.store, [&](store::WriteTx& tx) -> Result<bool> {
    if (ctx.audit) tx.append_audit(*ctx.audit);
    if (touch) tx.touch_api_key(key_id, now);
    return true;
  });
  if (!written) {
    log::error(
        "audit.write_failed",
        {{"request_id", req.request_id}, {"path", req.path}, {"error", written.error().message}});
  }
}

void App::add_key_and_audit_routes() {
  router_.add(
      "POST", "/v1/admin/api-keys", Access::admin, [this](Ctx& ctx) -> Task<http::Response> {
        auto body = json_body(ctx.req);
        if (!body) co_return http::error_response(body.error());
        auto parsed = parse_new_key(*body);
        if (!parsed) co_return http::error_response(parsed.error());
        std::string key = generate_api_key();
        store::ApiKeyRecord record;
        record.id = core::new_id("key");
        record.hash = api_key_hash(key);
        record.prefix = std::string(kKeyPrefix);
        record.last4 = key.substr(key.size() - 4);
        record.role = parsed->role;
        record.seller = parsed->seller;
        record.name = parsed->name;
        record.created_by = ctx.caller.key_id;
        record.created_at = deps_.checkouts.clock().now();
        auto written =
            co_await store::async_write(deps_.store, [&](store::WriteTx& tx) -> Result<bool> {
              if (!record.seller.empty() && !tx.seller(record.seller)) {
                return make_error(errc::resource_missing, "no seller '" + record.seller + "'",
                                  "seller");
              }
              tx.insert_api_key(record);
              if (ctx.audit) {
                store::AuditEntry entry = *ctx.audit;
                entry.status = 201;
                tx.append_audit(entry);
              }
              return true;
            });
        if (!written) co_return http::error_response(written.error());
        ctx.audit.reset();  // committed with the key
        deps_.auth.add_stored(record);
        log::info("admin.api_key_created",
                  {{"key", record.id}, {"role", record.role}, {"by", ctx.caller.key_id}});
        bj::object out = key_view(record);
        // The only time the key is ever shown.
        out["key"] = key;
        co_return json_response(201, out);
      });

  router_.add("GET", "/v1/admin/api-keys", Access::admin, [this](Ctx& ctx) -> Task<http::Response> {
    auto q = list_query(ctx.req);
    if (!q) co_return http::error_response(q.error());
    auto page = co_await store::async_read(
        deps_.store, [&](store::ReadTx& tx) -> Result<store::Page<store::ApiKeyRecord>> {
          return tx.api_keys(*q);
        });
    if (!page) co_return http::error_response(page.error());
    bj::array data;
    for (const auto& k : page->data) data.push_back(key_view(k));
    co_return json_response(
        200,
        bj::object{{"object", "list"}, {"data", std::move(data)}, {"has_more", page->has_more}});
  });

  router_.add(
      "GET", "/v1/admin/api-keys/{id}", Access::admin, [this](Ctx& ctx) -> Task<http::Response> {
        std::string id = ctx.params[0];
        auto k = co_await store::async_read(
            deps_.store, [&](store::ReadTx& tx) -> Result<std::optional<store::ApiKeyRecord>> {
              return tx.api_key(id);
            });
        if (!k) co_return http::error_response(k.error());
        if (!*k) {
          co_return http::error_response(
              make_error(errc::not_found, "no API key '" + id + "'", "id"));
        }
        co_return json_response(200, key_view(**k));
      });

  // Revocation takes effect at once; revoking a revoked key again changes nothing.
  router_.add(
      "DELETE", "/v1/admin/api-keys/{id}", Access::admin, [this](Ctx& ctx) -> Task<http::Response> {
        std::string id = ctx.params[0];
        core::Timestamp now = deps_.checkouts.clock().now();
        auto k = co_await store::async_write(
            deps_.store, [&](store::WriteTx& tx) -> Result<store::ApiKeyRecord> {
              bool revoked = tx.revoke_api_key(id, now);
              auto found = tx.api_key(id);
              if (found && revoked && ctx.audit) {
                store::AuditEntry entry = *ctx.audit;
                entry.status = 200;
                tx.append_audit(entry);
              }
              if (!found) {
                return make_error(errc::not_found,
                                  "no API key '" + id +
                                      "' (keys from MERCHGATE_ADMIN_KEY and MERCHGATE_API_KEY "
                                      "are revoked by removing them from the environment)",
                                  "id");
              }
              return std::move(*found);
            });
        if (!k) co_return http::error_response(k.error());
        ctx.audit.reset();  // committed with the revocation, or nothing changed
        deps_.auth.revoke_stored(id);
        log::info("admin.api_key_revoked", {{"key", id}, {"by", ctx.caller.key_id}});
        co_return json_response(200, key_view(*k));
      });

  router_.add(
      "GET", "/v1/admin/audit-log", Access::admin, [this](Ctx& ctx) -> Task<http::Response> {
        auto q = list_query(ctx.req);
        if (!q) co_return http::error_response(q.error());
        store::AuditFilter f;
        f.page = *q;
        f.key_id = std::string(ctx.req.query_param("key").value_or(""));
        f.path_prefix = std::string(ctx.req.query_param("path").value_or(""));
        if (f.key_id.size() > 100) {
          co_return http::error_response(
              make_error(errc::invalid_field, "'key' is too long", "key"));
        }
        if (f.path_prefix.size() > 1000) {
          co_return http::error_response(
              make_error(errc::invalid_field, "'path' is too long", "path"));
        }
        auto page = co_await store::async_read(
            deps_.store, [&](store::ReadTx& tx) -> Result<store::Page<store::AuditEntry>> {
              return tx.audit_log(f);
            });
        if (!page) co_return http::error_response(page.error());
        bj::array data;
        for (const auto& e : page->data) data.push_back(audit_view(e));
        co_return json_response(
            200, bj::object{
                     {"object", "list"}, {"data", std::move(data)}, {"has_more", page->has_more}});
      });
}

}  // namespace mg::api
