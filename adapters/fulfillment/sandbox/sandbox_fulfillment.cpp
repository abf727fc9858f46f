#include "adapters/fulfillment/sandbox/sandbox_fulfillment.hpp"

#include "adapters/sandbox/ledger.hpp"
#include "adapters/sandbox/outbox.hpp"
#include "adapters/schema.hpp"
#include "gateway/core/crypto.hpp"
#include "gateway/core/json.hpp"
#include "gateway/core/model_json.hpp"
#include "gateway/core/money.hpp"
#include "webhooks/signature/standard_webhooks.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace mg::adapters::sandbox {
namespace bj = boost::json;
using store::sqlite::Db;
using store::sqlite::Use;

namespace {

const char* schema_sql() {
  static const std::string sql = std::string(R"sql(
CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY,
  external_id TEXT NOT NULL UNIQUE,
  checkout_id TEXT NOT NULL,
  lines TEXT NOT NULL,
  country TEXT NOT NULL,
  tracking_number TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  canceled_at INTEGER
);
)sql") + kOutboxSchema;
  return sql.c_str();
}

struct OrderRow {
  bool found = false;
  std::string id;
  std::string external_id;
  std::string checkout_id;
  std::string tracking_number;
  core::Timestamp created_at = 0;
  core::Timestamp canceled_at = 0;
};

OrderRow read_order(Db& db, bool by_external, std::string_view value) {
  Use s(db.prepare(by_external
                       ? "SELECT id, external_id, checkout_id, tracking_number, created_at, "
                         "canceled_at FROM orders WHERE external_id = ?"
                       : "SELECT id, external_id, checkout_id, tracking_number, created_at, "
                         "canceled_at FROM orders WHERE id = ?"));
  s->bind(1, value);
  OrderRow o;
  if (!s->step()) return o;
  o.found = true;
  o.id = s->text(0);
  o.external_id = s->text(1);
  o.checkout_id = s->text(2);
  o.tracking_number = s->text(3);
  o.created_at = s->int64(4);
  o.canceled_at = s->int64(5);
  return o;
}

class SandboxFulfillment final : public FulfillmentAdapter {
 public:
  SandboxFulfillment(const AdapterConfig& config, FulfillmentSettings settings, std::string key,
                     AdapterServices services)
      : FulfillmentAdapter(config.id),
        settings_(std::move(settings)),
        key_(std::move(key)),
        services_(std::move(services)),
        ledger_(std::make_shared<Ledger>(services_.data_dir + "/sandbox/" + config.id + ".db",
                                         schema_sql())),
        outbox_(config.id, ledger_, key_, services_) {}

  ~SandboxFulfillment() override { outbox_.stop(); }

  std::string_view type() const noexcept override { return SandboxFulfillmentFactory::kType; }
  void start() override { outbox_.start(); }
  void stop() override { outbox_.stop(); }

  Result<void> validate_product(const bj::object& spec) const override {
    if (auto r = core::json::only_keys(spec, {"adapter", "product", "variant", "files", "fail"},
                                       "fulfillment");
        !r) {
      return r.error();
    }
    if (auto r = core::json::optional_bool({spec, "fail", "fulfillment"}); !r) return r.error();
    for (std::string_view key : {"product", "variant"}) {
      if (auto r = core::json::optional_string({spec, key, "fulfillment"}, 100); !r) {
        return r.error();
      }
    }
    return {};
  }

  Task<AResult<Quote>> quote_shipping(const QuoteRequest& request) override {
    if (settings_.unsupported_countries.count(request.address.country)) {
      co_return adapter_error(adapter_errc::refused,
                              "the sandbox print shop does not ship to " + request.address.country,
                              422);
    }
    // No table: shipping is free. A table without this currency: no rate, so no shipping.
    auto it = settings_.shipping.find(request.currency);
    if (!settings_.shipping.empty() && it == settings_.shipping.end()) {
      co_return adapter_error(adapter_errc::refused,
                              "the sandbox print shop has no shipping rate in " + request.currency,
                              422, "no_rate");
    }
    co_return Quote{it == settings_.shipping.end() ? 0 : it->second, request.currency, "standard"};
  }

  Task<AResult<core::FulfillmentFact>> create_order(const OrderRequest& request) override {
    for (const auto& line : request.lines) {
      const auto* fail = line.spec.if_contains("fail");
      if (fail && fail->is_bool() && fail->as_bool()) {
        co_return adapter_error(adapter_errc::refused,
                                "the sandbox print shop refuses product '" + line.sku +
                                    "' (its fulfillment block says \"fail\": true)",
                                422, "product_refused");
      }
    }
    if (settings_.unsupported_countries.count(request.address.country)) {
      co_return adapter_error(adapter_errc::refused,
                              "the sandbox print shop does not ship to " + request.address.country,
                              422, "unshippable");
    }
    core::Timestamp now = services_.clock->now();
    bj::array lines;
    for (const auto& l : request.lines) {
      lines.push_back(bj::object{{"sku", l.sku}, {"quantity", l.quantity}});
    }
    std::string lines_json = bj::serialize(lines);
    FulfillmentSettings settings = settings_;
    std::string public_url = services_.public_url;
    std::string adapter = id();
    OrderRow row = co_await ledger_->run([&](Db& db) {
      OrderRow existing = read_order(db, true, request.fulfillment_id);
      if (existing.found) return existing;  // a retry finds the order made before
      OrderRow o;
      o.found = true;
      o.id = core::new_id("sbo");
      o.external_id = request.fulfillment_id;
      o.checkout_id = request.ctx.checkout_id;
      o.tracking_number = "SBX" + core::random_alnum(12);
      o.created_at = now;
      Use s(db.prepare(
          "INSERT INTO orders (id, external_id, checkout_id, lines, country, tracking_number, "
          "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"));
      s->bind(1, o.id).bind(2, o.external_id).bind(3, o.checkout_id).bind(4, lines_json);
      s->bind(5, request.address.country).bind(6, o.tracking_number).bind(7, now);
      s->run();
      struct Step {
        core::FulfillmentStatus status;
        std::int64_t after;
      };
      for (Step step :
           {Step{core::FulfillmentStatus::in_production, settings.in_production_after_ms},
            Step{core::FulfillmentStatus::shipped, settings.shipped_after_ms},
            Step{core::FulfillmentStatus::delivered, settings.delivered_after_ms}}) {
        std::string eid = core::new_id("evt_sbx");
        std::string type = "order." + std::string(core::to_string(step.status));
        schedule(
            db, eid, o.id, type,
            order_event(eid, type, o, step.status, now + step.after, settings, public_url, adapter),
            now + step.after);
      }
      return o;
    });
    co_return fact_for(row, now);
  }

  Task<AResult<core::FulfillmentFact>> get_order(const OrderRef& ref) override {
    OrderRow row = co_await ledger_->run([&](Db& db) {
      return ref.reference.empty() ? read_order(db, true, ref.fulfillment_id)
                                   : read_order(db, false, ref.reference);
    });
    if (!row.found) {
      co_return adapter_error(adapter_errc::not_found, "no sandbox order for " + ref.fulfillment_id,
                              404);
    }
    co_return fact_for(row, services_.clock->now());
  }

  Task<AResult<core::FulfillmentFact>> cancel_order(const OrderRef& ref) override {
    core::Timestamp now = services_.clock->now();
    FulfillmentSettings settings = settings_;
    std::string public_url = services_.public_url;
    std::string adapter = id();
    struct Outcome {
      OrderRow row;
      std::string refusal;
    };
    Outcome out = co_await ledger_->run([&](Db& db) {
      Outcome o;
      o.row = ref.reference.empty() ? read_order(db, true, ref.fulfillment_id)
                                    : read_order(db, false, ref.reference);
      if (!o.row.found || o.row.canceled_at) return o;
      auto status = status_at(o.row, now, settings);
      if (status != core::FulfillmentStatus::submitted) {
        o.refusal =
            "sandbox order " + o.row.id + " is already " + std::string(core::to_string(status));
        return o;
      }
      Use s(db.prepare("UPDATE orders SET canceled_at = ? WHERE id = ?"));
      s->bind(1, now).bind(2, o.row.id);
      s->run();
      o.row.canceled_at = now;
      drop_pending(db, o.row.id);
      std::string eid = core::new_id("evt_sbx");
      schedule(db, eid, o.row.id, "order.canceled",
               order_event(eid, "order.canceled", o.row, core::FulfillmentStatus::canceled, now,
                           settings, public_url, adapter),
               now);
      return o;
    });
    if (!out.row.found) {
      co_return adapter_error(adapter_errc::not_found, "no sandbox order for " + ref.fulfillment_id,
                              404);
    }
    if (!out.refusal.empty()) {
      co_return adapter_error(adapter_errc::invalid_state, out.refusal, 409);
    }
    co_return fact_for(out.row, now);
  }

  Task<AResult<WebhookResult>> verify_webhook(const WebhookRequest& request) override {
    auto verified =
        webhooks::verify({key_}, request.header("webhook-id"), request.header("webhook-timestamp"),
                         request.header("webhook-signature"), request.body, request.now / 1000);
    if (!verified) {
      co_return adapter_error(verified.error().code == errc::stale_timestamp
                                  ? adapter_errc::stale_webhook
                                  : adapter_errc::invalid_webhook,
                              verified.error().message, 400);
    }
    boost::system::error_code ec;
    bj::value v = bj::parse(request.body, ec);
    const bj::object* order = nullptr;
    if (!ec && v.is_object()) {
      if (const auto* d = v.as_object().if_contains("data"); d && d->is_object()) {
        if (const auto* o = d->as_object().if_contains("order"); o && o->is_object()) {
          order = &o->as_object();
        }
      }
    }
    if (!order)
      co_return adapter_error(adapter_errc::malformed_webhook, "body lacks data.order", 400);
    auto field = [](const bj::object& x, std::string_view k) {
      const auto* f = x.if_contains(k);
      return f && f->is_string() ? std::string(f->as_string()) : std::string();
    };
    auto status = core::fulfillment_status_from(field(*order, "status"));
    if (!status)
      co_return adapter_error(adapter_errc::malformed_webhook, "unknown order status", 400);
    InboundEvent e;
    e.partner_event_id = std::string(request.header("webhook-id"));
    const auto* type = v.as_object().if_contains("type");
    e.type = type && type->is_string() ? std::string(type->as_string()) : "order";
    e.kind = InboundEvent::Kind::fulfillment;
    e.checkout_id = field(*order, "checkout");
    e.fulfillment_id = field(*order, "external_id");
    e.order_reference = field(*order, "id");
    core::FulfillmentFact fact;
    fact.status = *status;
    fact.reference = e.order_reference;
    if (const auto* ships = order->if_contains("shipments"); ships && ships->is_array()) {
      for (const auto& sv : ships->as_array()) {
        if (!sv.is_object()) continue;
        const auto& so = sv.as_object();
        fact.shipments.push_back(
            {field(so, "carrier"), field(so, "tracking_number"), field(so, "tracking_url"), 0});
      }
    }
    e.fulfillment = std::move(fact);
    WebhookResult result;
    result.events.push_back(std::move(e));
    co_return result;
  }

  Task<AResult<std::string>> test_credentials() override {
    std::int64_t count = co_await ledger_->run([](Db& db) {
      Use s(db.prepare("SELECT COUNT(*) FROM orders"));
      return s->step() ? s->int64(0) : std::int64_t{0};
    });
    co_return "sandbox ledger " + ledger_->path() + " holds " + std::to_string(count) + " orders";
  }

  Task<std::optional<http::Response>> hosted_page(const http::Request& request,
                                                  std::string_view subpath) override {
    // A tracking page, so the tracking URL in `fulfillment.shipped` leads somewhere real.
    if (request.method != "GET" || !subpath.starts_with("track/")) co_return std::nullopt;
    std::string tracking(subpath.substr(6));
    core::Timestamp now = services_.clock->now();
    FulfillmentSettings settings = settings_;
    OrderRow row = co_await ledger_->run([&](Db& db) {
      Use s(db.prepare("SELECT id FROM orders WHERE tracking_number = ?"));
      s->bind(1, tracking);
      std::string id = s->step() ? s->text(0) : std::string();
      return id.empty() ? OrderRow{} : read_order(db, false, id);
    });
    http::Response r;
    r.set_header("content-type", "text/plain; charset=utf-8");
    r.set_header("cache-control", "no-store");
    if (!row.found) {
      r.status = 404;
      r.body = "Unknown tracking number.\n";
    } else {
      r.body = "Sandbox Post parcel " + tracking + ": " +
               std::string(core::to_string(status_at(row, now, settings))) + "\n";
    }
    co_return r;
  }

 private:
  static core::FulfillmentStatus status_at(const OrderRow& o, core::Timestamp now,
                                           const FulfillmentSettings& s) {
    if (o.canceled_at) return core::FulfillmentStatus::canceled;
    std::int64_t age = now - o.created_at;
    if (age >= s.delivered_after_ms) return core::FulfillmentStatus::delivered;
    if (age >= s.shipped_after_ms) return core::FulfillmentStatus::shipped;
    if (age >= s.in_production_after_ms) return core::FulfillmentStatus::in_production;
    return core::FulfillmentStatus::submitted;
  }

  static core::Shipment shipment(const OrderRow& o, core::Timestamp at,
                                 const FulfillmentSettings& s, const std::string& public_url,
                                 const std::string& adapter) {
    return {s.carrier, o.tracking_number,
            public_url + "/hosted/" + adapter + "/track/" + o.tracking_number, at};
  }

  static std::string order_event(const std::string& event_id, const std::string& type,
                                 const OrderRow& o, core::FulfillmentStatus status,
                                 core::Timestamp at, const FulfillmentSettings& s,
                                 const std::string& public_url, const std::string& adapter) {
    bj::object order{{"id", o.id},
                     {"external_id", o.external_id},
                     {"checkout", o.checkout_id},
                     {"status", core::to_string(status)}};
    bj::array shipments;
    if (status == core::FulfillmentStatus::shipped ||
        status == core::FulfillmentStatus::delivered) {
      core::Shipment sh = shipment(o, o.created_at + s.shipped_after_ms, s, public_url, adapter);
      shipments.push_back(bj::object{{"carrier", sh.carrier},
                                     {"tracking_number", sh.tracking_number},
                                     {"tracking_url", sh.tracking_url}});
    }
    order["shipments"] = std::move(shipments);
    return bj::serialize(bj::object{{"id", event_id},
                                    {"type", type},
                                    {"created_at", at},
                                    {"data", bj::object{{"order", std::move(order)}}}});
  }

  core::FulfillmentFact fact_for(const OrderRow& o, core::Timestamp now) const {
    core::FulfillmentFact fact;
    fact.reference = o.id;
    fact.status = status_at(o, now, settings_);
    if (fact.status == core::FulfillmentStatus::shipped ||
        fact.status == core::FulfillmentStatus::delivered) {
      fact.shipments.push_back(shipment(o, o.created_at + settings_.shipped_after_ms, settings_,
                                        services_.public_url, id()));
    }
    return fact;
  }

  FulfillmentSettings settings_;
  std::string key_;
  AdapterServices services_;
  std::shared_ptr<Ledger> ledger_;
  Outbox outbox_;
};

}  // namespace

Result<FulfillmentSettings> FulfillmentSettings::parse(const bj::object& o) {
  FulfillmentSettings s;
  auto get = [&](std::string_view key, std::int64_t& out) {
    if (const auto* v = o.if_contains(key); v && v->is_int64()) out = v->as_int64();
  };
  get("in_production_after_ms", s.in_production_after_ms);
  get("shipped_after_ms", s.shipped_after_ms);
  get("delivered_after_ms", s.delivered_after_ms);
  if (!(s.in_production_after_ms <= s.shipped_after_ms &&
        s.shipped_after_ms <= s.delivered_after_ms)) {
    return make_error(errc::invalid_field,
                      "'settings.shipped_after_ms' must lie between in_production_after_ms and "
                      "delivered_after_ms",
                      "settings.shipped_after_ms");
  }
  if (const auto* v = o.if_contains("carrier"); v && v->is_string()) {
    s.carrier = std::string(v->as_string());
  }
  if (const auto* v = o.if_contains("shipping"); v && v->is_object()) {
    for (const auto& kv : v->as_object()) {
      if (!core::find_currency(kv.key())) {
        std::string param = "settings.shipping." + std::string(kv.key());
        return make_error(errc::invalid_field, "'" + param + "' is not an ISO 4217 currency",
                          param);
      }
      if (!kv.value().is_int64()) continue;
      s.shipping[std::string(kv.key())] = kv.value().as_int64();
    }
  }
  if (const auto* v = o.if_contains("unsupported_countries"); v && v->is_array()) {
    s.unsupported_countries.clear();
    for (const auto& c : v->as_array())
      if (c.is_string()) s.unsupported_countries.insert(std::string(c.as_string()));
  }
  return s;
}

AdapterType SandboxFulfillmentFactory::type() {
  AdapterType t;
  t.name = kType;
  t.kind = Kind::fulfillment;
  t.description =
      "In-process print shop for development and tests: orders walk through production, "
      "shipping and delivery on a configurable clock.";
  t.schema = schema_from(R"json({
    "credentials": {
      "type": "object", "additionalProperties": false, "required": ["webhook_secret"],
      "properties": {
        "webhook_secret": {"type": "string", "x-prefix": "whsec_", "x-secret": true,
          "description": "Standard Webhooks secret the sandbox signs its webhooks with"}
      }
    },
    "settings": {
      "type": "object", "additionalProperties": false,
      "properties": {
        "in_production_after_ms": {"type": "integer", "minimum": 0, "maximum": 86400000},
        "shipped_after_ms": {"type": "integer", "minimum": 0, "maximum": 86400000},
        "delivered_after_ms": {"type": "integer", "minimum": 0, "maximum": 86400000},
        "carrier": {"type": "string", "minLength": 1, "maxLength": 100},
        "shipping": {"type": "object",
          "description": "flat shipping per order by currency, in minor units, e.g. {\"EUR\": 495}",
          "additionalProperties": {"type": "integer", "minimum": 0}},
        "unsupported_countries": {"type": "array", "items": {"type": "string", "minLength": 2,
          "maxLength": 2}, "description": "countries it refuses to ship to (default [\"AQ\"])"}
      }
    }
  })json");
  t.create = [](const AdapterConfig& config,
                AdapterServices& services) -> Result<std::shared_ptr<Adapter>> {
    auto settings = FulfillmentSettings::parse(config.settings);
    if (!settings) return settings.error();
    const auto* secret = config.credentials.if_contains("webhook_secret");
    auto key = webhooks::secret_key(secret && secret->is_string() ? secret->as_string() : "");
    if (!key)
      return make_error(errc::invalid_field, key.error().message, "credentials.webhook_secret");
    try {
      return std::shared_ptr<Adapter>(
          std::make_shared<SandboxFulfillment>(config, std::move(*settings), *key, services));
    } catch (const std::exception& e) {
      return make_error(errc::invalid_field,
                        "cannot open the sandbox ledger: " + std::string(e.what()), "id");
    }
  };
  return t;
}

}  // namespace mg::adapters::sandbox
