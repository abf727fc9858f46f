#include "webhooks/outbound/endpoints.hpp"

#include "gateway/core/checkout_machine.hpp"
#include "gateway/core/crypto.hpp"
#include "gateway/core/json.hpp"
#include "gateway/core/model_json.hpp"
#include "gateway/log/log.hpp"
#include "gateway/store/async.hpp"
#include "webhooks/signature/standard_webhooks.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>

namespace mg::webhooks {
namespace bj = boost::json;
namespace json = core::json;

namespace {

Result<std::vector<std::string>> parse_events(const bj::object& body) {
  auto arr = json::required_array({body, "events", ""});
  if (!arr) return arr.error();
  if ((*arr)->empty()) {
    return make_error(errc::invalid_field, "'events' names at least one event type, or \"*\"",
                      "events");
  }
  std::vector<std::string> out;
  auto known = core::event_types();
  for (std::size_t i = 0; i < (*arr)->size(); ++i) {
    const auto& v = (**arr)[i];
    std::string path = json::index("events", i);
    bool ok = v.is_string() &&
              (v.as_string() == "*" || std::find(known.begin(), known.end(),
                                                 std::string_view(v.as_string())) != known.end());
    if (!ok) {
      return make_error(errc::invalid_field,
                        "'" + path + "' must be \"*\" or an event type such as checkout.paid",
                        path);
    }
    out.emplace_back(v.as_string());
  }
  return out;
}

Result<std::string> parse_url(const bj::object& body, bool allow_http) {
  auto url = json::required_string({body, "url", ""}, 2048);
  if (!url) return url.error();
  bool https = url->starts_with("https://");
  bool http = url->starts_with("http://");
  if (!https && !(http && allow_http)) {
    return make_error(errc::invalid_field,
                      allow_http ? "'url' must be an http(s) URL" : "'url' must be an https URL",
                      "url");
  }
  std::string_view rest = std::string_view(*url).substr(https ? 8 : 7);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty() || authority.find('@') != std::string_view::npos ||
      url->find_first_of(" \t\r\n") != std::string::npos) {
    return make_error(errc::invalid_field, "'url' needs a host and no credentials", "url");
  }
  return std::move(*url);
}

}  // namespace

Result<std::vector<SigningSecret>> open_secrets(const service::SecretBox& box,
                                                const store::EndpointRecord& e,
                                                core::Timestamp now) {
  auto v = box.open_json(e.sealed_secrets, service::SecretBox::endpoint_context(e.id),
                         "the signing secret of webhook endpoint '" + e.id + "'");
  if (!v) return v.error();
  std::vector<SigningSecret> out;
  if (!v->is_array()) return out;
  for (const auto& item : v->as_array()) {
    if (!item.is_object()) continue;
    const auto* s = item.as_object().if_contains("secret");
    const auto* x = item.as_object().if_contains("expires_at");
    SigningSecret secret{s && s->is_string() ? std::string(s->as_string()) : std::string(),
                         x && x->is_int64() ? x->as_int64() : 0};
    if (!secret.secret.empty() && (secret.expires_at == 0 || secret.expires_at > now)) {
      out.push_back(std::move(secret));
    }
  }
  return out;
}

bj::object to_json(const store::DeliveryAttempt& a) {
  return bj::object{{"id", std::to_string(a.id)},
                    {"object", "delivery_attempt"},
                    {"event", a.event_id},
                    {"at", core::format_time(a.at)},
                    {"status_code", a.status_code ? bj::value(a.status_code) : bj::value(nullptr)},
                    {"latency_ms", a.latency_ms},
                    {"response", a.response.empty() ? bj::value(nullptr) : bj::value(a.response)},
                    {"error", a.error.empty() ? bj::value(nullptr) : bj::value(a.error)}};
}

EndpointService::EndpointService(store::Store& store, const service::SecretBox& secrets,
                                 const core::Clock& clock, EndpointOptions options,
                                 std::function<void()> changed)
    : store_(store),
      secrets_(secrets),
      clock_(clock),
      options_(options),
      changed_(std::move(changed)) {}

bj::object EndpointService::view(const store::EndpointRecord& e) const {
  bj::array events;
  for (const auto& t : e.events) events.push_back(bj::value(t));
  return bj::object{
      {"id", e.id},
      {"object", "webhook_endpoint"},
      {"url", e.url},
      {"events", std::move(events)},
      {"enabled", e.enabled},
      {"description", e.description.empty() ? bj::value(nullptr) : bj::value(e.description)},
      {"status", e.status},
      {"failing_since", core::time_value(e.failing_since, core::Form::api)},
      {"created_at", core::time_value(e.created_at, core::Form::api)},
      {"updated_at", core::time_value(e.updated_at, core::Form::api)}};
}

Result<store::EndpointRecord> EndpointService::parse_new(const bj::object& body) const {
  if (auto r = json::only_keys(body, {"url", "events", "enabled", "description"}, ""); !r) {
    return r.error();
  }
  store::EndpointRecord e;
  auto url = parse_url(body, options_.allow_http);
  if (!url) return url.error();
  e.url = std::move(*url);
  auto events = parse_events(body);
  if (!events) return events.error();
  e.events = std::move(*events);
  auto enabled = json::optional_bool({body, "enabled", ""});
  if (!enabled) return enabled.error();
  e.enabled = enabled->value_or(true);
  auto description = json::optional_string({body, "description", ""}, 500);
  if (!description) return description.error();
  e.description = description->value_or("");
  return e;
}

Task<Result<bool>> EndpointService::insert(store::EndpointRecord& e, const std::string& secret,
                                           bool only_if_absent) {
  bj::array secrets{bj::object{{"secret", secret}, {"expires_at", 0}}};
  auto sealed = secrets_.seal_json(secrets, service::SecretBox::endpoint_context(e.id),
                                   "a webhook signing secret");
  if (!sealed) co_return sealed.error();
  e.sealed_secrets = std::move(*sealed);
  e.created_at = e.updated_at = clock_.now();
  int max = options_.max_endpoints;
  auto r = co_await store::async_write(store_, [&](store::WriteTx& tx) -> Result<bool> {
    if (only_if_absent && tx.endpoint(e.id)) return false;
    if (static_cast<int>(tx.endpoints().size()) >= max) {
      return make_error(errc::unprocessable,
                        "at most " + std::to_string(max) + " webhook endpoints", "url");
    }
    tx.put_endpoint(e);
    return true;
  });
  if (!r) co_return r.error();
  if (*r) {
    if (changed_) changed_();
    log::info("webhook_endpoint.created", {{"endpoint", e.id}, {"url", e.url}});
  }
  co_return *r;
}

Task<Result<bj::object>> EndpointService::create(bj::object body) {
  auto e = parse_new(body);
  if (!e) co_return e.error();
  e->id = core::new_id("we");
  std::string secret = webhooks::generate_secret();
  auto r = co_await insert(*e, secret, false);
  if (!r) co_return r.error();
  bj::object out = view(*e);
  out["secret"] = secret;
  co_return out;
}

Task<Result<bool>> EndpointService::seed(std::string id, bj::object body) {
  if (id.empty() || id.size() > 64 ||
      id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
          std::string::npos) {
    co_return make_error(errc::invalid_field, "'id' must be 1-64 letters, digits, '_' or '-'",
                         "id");
  }
  const auto* given = body.if_contains("secret");
  if (!given || !given->is_string()) {
    co_return make_error(errc::missing_field,
                         "'secret' is required: the whsec_ secret the app verifies with", "secret");
  }
  std::string secret(given->as_string());
  body.erase("secret");
  auto key = webhooks::secret_key(secret);
  if (!key || key->size() < 24) {
    co_return make_error(errc::invalid_field,
                         "'secret' must be whsec_ and the base64 of at least 24 random bytes",
                         "secret");
  }
  auto e = parse_new(body);
  if (!e) co_return e.error();
  e->id = std::move(id);
  co_return co_await insert(*e, secret, true);
}

Task<Result<bj::object>> EndpointService::get(std::string id) {
  auto r = co_await store::async_read(
      store_, [&](store::ReadTx& tx) -> Result<std::optional<store::EndpointRecord>> {
        return tx.endpoint(id);
      });
  if (!r) co_return r.error();
  if (!*r) co_return make_error(errc::not_found, "no webhook endpoint '" + id + "'", "id");
  co_return view(**r);
}

Task<Result<bj::array>> EndpointService::list() {
  auto r = co_await store::async_read(
      store_, [&](store::ReadTx& tx) -> Result<std::vector<store::EndpointRecord>> {
        return tx.endpoints();
      });
  if (!r) co_return r.error();
  bj::array out;
  for (const auto& e : *r) out.push_back(view(e));
  co_return out;
}

Task<Result<bj::object>> EndpointService::patch(std::string id, bj::object body) {
  if (auto r = json::only_keys(body, {"url", "events", "enabled", "description"}, ""); !r) {
    co_return r.error();
  }
  std::optional<std::string> url;
  if (body.contains("url")) {
    auto u = parse_url(body, options_.allow_http);
    if (!u) co_return u.error();
    url = std::move(*u);
  }
  std::optional<std::vector<std::string>> events;
  if (body.contains("events")) {
    auto ev = parse_events(body);
    if (!ev) co_return ev.error();
    events = std::move(*ev);
  }
  auto enabled = json::optional_bool({body, "enabled", ""});
  if (!enabled) co_return enabled.error();
  auto description = json::optional_string({body, "description", ""}, 500);
  if (!description) co_return description.error();
  core::Timestamp now = clock_.now();
  bool resumed = false;
  auto r =
      co_await store::async_write(store_, [&](store::WriteTx& tx) -> Result<store::EndpointRecord> {
        resumed = false;
        auto e = tx.endpoint(id);
        if (!e) return make_error(errc::not_found, "no webhook endpoint '" + id + "'", "id");
        if (url) e->url = *url;
        if (events) e->events = *events;
        if (*description) e->description = **description;
        if (*enabled) {
          // Enabling a failing endpoint resumes where it stopped.
          if (**enabled && e->status == "failing") {
            e->status = "active";
            e->failing_since = 0;
            resumed = true;
          }
          e->enabled = **enabled;
        }
        e->updated_at = now;
        tx.put_endpoint(*e);
        return std::move(*e);
      });
  if (!r) co_return r.error();
  if (resumed) log::info("webhook_endpoint.resumed", {{"endpoint", id}});
  if (changed_) changed_();
  co_return view(*r);
}

Task<Result<void>> EndpointService::remove(std::string id) {
  auto r = co_await store::async_write(store_, [&](store::WriteTx& tx) -> Result<bool> {
    if (!tx.delete_endpoint(id)) {
      return make_error(errc::not_found, "no webhook endpoint '" + id + "'", "id");
    }
    return true;
  });
  if (!r) co_return r.error();
  if (changed_) changed_();
  co_return Result<void>{};
}

Task<Result<bj::object>> EndpointService::rotate(std::string id, bj::object body) {
  if (auto r = json::only_keys(body, {"expire_previous_in_seconds"}, ""); !r) co_return r.error();
  auto overlap = json::optional_int({body, "expire_previous_in_seconds", ""}, 0, 7 * 24 * 3600);
  if (!overlap) co_return overlap.error();
  core::Timestamp now = clock_.now();
  std::int64_t overlap_ms =
      overlap->has_value() ? **overlap * 1000 : options_.default_rotation_overlap_ms;
  std::string secret = webhooks::generate_secret();
  auto r =
      co_await store::async_write(store_, [&](store::WriteTx& tx) -> Result<store::EndpointRecord> {
        auto e = tx.endpoint(id);
        if (!e) return make_error(errc::not_found, "no webhook endpoint '" + id + "'", "id");
        auto current = open_secrets(secrets_, *e, now);
        if (!current) return current.error();
        bj::array secrets{bj::object{{"secret", secret}, {"expires_at", 0}}};
        if (overlap_ms > 0) {
          for (const auto& s : *current) {
            core::Timestamp until =
                s.expires_at == 0 ? now + overlap_ms : std::min(s.expires_at, now + overlap_ms);
            secrets.push_back(bj::object{{"secret", s.secret}, {"expires_at", until}});
          }
        }
        auto sealed = secrets_.seal_json(secrets, service::SecretBox::endpoint_context(e->id),
                                         "a webhook signing secret");
        if (!sealed) return sealed.error();
        e->sealed_secrets = std::move(*sealed);
        e->updated_at = now;
        tx.put_endpoint(*e);
        return std::move(*e);
      });
  if (!r) co_return r.error();
  if (changed_) changed_();
  log::info("webhook_endpoint.secret_rotated", {{"endpoint", id}, {"overlap_ms", overlap_ms}});
  bj::object out = view(*r);
  out["secret"] = secret;
  out["previous_secret_expires_at"] =
      overlap_ms > 0 ? bj::value(core::format_time(now + overlap_ms)) : bj::value(nullptr);
  co_return out;
}

Task<Result<bj::object>> EndpointService::replay(std::string id, std::string since) {
  core::Timestamp from = 0;
  if (since.empty() || !core::parse_time(since, from)) {
    co_return make_error(errc::invalid_field,
                         "'since' must be an RFC 3339 time such as 2026-11-26T10:00:00Z", "since");
  }
  core::Timestamp now = clock_.now();
  int max = options_.max_replay;
  auto r = co_await store::async_write(store_, [&](store::WriteTx& tx) -> Result<int> {
    if (!tx.endpoint(id))
      return make_error(errc::not_found, "no webhook endpoint '" + id + "'", "id");
    return tx.replay_events(id, from, max, now);
  });
  if (!r) co_return r.error();
  if (changed_) changed_();
  co_return bj::object{
      {"endpoint", id}, {"since", since}, {"queued", *r}, {"limit_reached", *r >= max}};
}

Task<Result<store::Page<store::DeliveryAttempt>>> EndpointService::attempts(std::string id,
                                                                            store::ListQuery q) {
  co_return co_await store::async_read(
      store_, [&](store::ReadTx& tx) -> Result<store::Page<store::DeliveryAttempt>> {
        if (!tx.endpoint(id)) {
          return make_error(errc::not_found, "no webhook endpoint '" + id + "'", "id");
        }
        return tx.delivery_attempts(id, q);
      });
}

Task<Result<int>> EndpointService::redeliver(std::string event_id, std::string endpoint_id) {
  core::Timestamp now = clock_.now();
  auto r = co_await store::async_write(store_, [&](store::WriteTx& tx) -> Result<int> {
    if (!tx.event(event_id)) {
      return make_error(errc::not_found, "no event '" + event_id + "'", "id");
    }
    if (!endpoint_id.empty() && !tx.endpoint(endpoint_id)) {
      return make_error(errc::resource_missing, "no webhook endpoint '" + endpoint_id + "'",
                        "endpoint");
    }
    return tx.redeliver_event(event_id, endpoint_id, now);
  });
  if (r && changed_) changed_();
  co_return r;
}

}  // namespace mg::webhooks
