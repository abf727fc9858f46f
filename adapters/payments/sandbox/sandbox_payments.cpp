#include "adapters/payments/sandbox/sandbox_payments.hpp"

#include "adapters/sandbox/ledger.hpp"
#include "adapters/sandbox/outbox.hpp"
#include "adapters/schema.hpp"
#include "gateway/core/crypto.hpp"
#include "webhooks/signature/standard_webhooks.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace mg::adapters::sandbox {
namespace bj = boost::json;
using store::sqlite::Db;
using store::sqlite::Use;

namespace {

constexpr std::string_view kOk = "pm_sandbox_ok";
constexpr std::string_view kDecline = "pm_sandbox_decline";
constexpr std::string_view kAction = "pm_sandbox_action";

const char* schema_sql() {
  static const std::string sql = std::string(R"sql(
CREATE TABLE IF NOT EXISTS payments (
  id TEXT PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  checkout_id TEXT NOT NULL,
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  method TEXT NOT NULL,
  return_url TEXT,
  created_at INTEGER NOT NULL,
  settles_at INTEGER,
  completed_at INTEGER,
  canceled_at INTEGER
);
CREATE TABLE IF NOT EXISTS refunds (
  id TEXT PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  payment_id TEXT NOT NULL,
  refund_id TEXT,
  amount INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  settles_at INTEGER NOT NULL
);
)sql") + kOutboxSchema;
  return sql.c_str();
}

struct PaymentRow {
  std::string id;
  std::string checkout_id;
  std::int64_t amount = 0;
  std::string currency;
  std::string method;
  std::string return_url;
  core::Timestamp created_at = 0;
  core::Timestamp settles_at = 0;  // when ok/decline settles; 0 for action payments
  core::Timestamp completed_at = 0;
  core::Timestamp canceled_at = 0;
  bool found = false;
};

// A sandbox payment's status is a function of its facts and the time: like a real processor,
// it settles on its own clock whether or not anybody watches.
core::PaymentStatus status_at(const PaymentRow& p, core::Timestamp now) {
  if (p.canceled_at) return core::PaymentStatus::canceled;
  if (p.completed_at) return core::PaymentStatus::succeeded;
  if (p.method == kOk) {
    return now >= p.settles_at ? core::PaymentStatus::succeeded : core::PaymentStatus::processing;
  }
  if (p.method == kDecline) {
    return now >= p.settles_at ? core::PaymentStatus::failed : core::PaymentStatus::processing;
  }
  return core::PaymentStatus::requires_action;
}

PaymentRow read_payment(Db& db, std::string_view column, std::string_view value) {
  Use s(db.prepare(
      column == "id" ? "SELECT id, checkout_id, amount, currency, method, return_url, created_at, "
                       "settles_at, completed_at, canceled_at FROM payments WHERE id = ?"
                     : "SELECT id, checkout_id, amount, currency, method, return_url, created_at, "
                       "settles_at, completed_at, canceled_at FROM payments WHERE "
                       "idempotency_key = ?"));
  s->bind(1, value);
  PaymentRow p;
  if (!s->step()) return p;
  p.found = true;
  p.id = s->text(0);
  p.checkout_id = s->text(1);
  p.amount = s->int64(2);
  p.currency = s->text(3);
  p.method = s->text(4);
  p.return_url = s->text(5);
  p.created_at = s->int64(6);
  p.settles_at = s->int64(7);
  p.completed_at = s->int64(8);
  p.canceled_at = s->int64(9);
  return p;
}

std::string payment_event(const std::string& event_id, std::string_view type, const PaymentRow& p,
                          std::string_view status, core::Timestamp at,
                          std::string_view failure_code = {}) {
  bj::object payment{{"id", p.id},
                     {"checkout", p.checkout_id},
                     {"status", status},
                     {"amount", p.amount},
                     {"currency", p.currency}};
  if (!failure_code.empty()) {
    payment["failure_code"] = failure_code;
    payment["failure_message"] = "The sandbox declined this payment (pm_sandbox_decline).";
  }
  return bj::serialize(bj::object{{"id", event_id},
                                  {"type", type},
                                  {"created_at", at},
                                  {"data", bj::object{{"payment", std::move(payment)}}}});
}

class SandboxPayments final : public PaymentAdapter {
 public:
  SandboxPayments(const AdapterConfig& config, PaymentSettings settings, std::string key,
                  AdapterServices services)
      : PaymentAdapter(config.id),
        settings_(settings),
        key_(std::move(key)),
        services_(std::move(services)),
        ledger_(std::make_shared<Ledger>(services_.data_dir + "/sandbox/" + config.id + ".db",
                                         schema_sql())),
        outbox_(config.id, ledger_, key_, services_) {}

  ~SandboxPayments() override { outbox_.stop(); }

  std::string_view type() const noexcept override { return SandboxPaymentsFactory::kType; }
  void start() override { outbox_.start(); }
  void stop() override { outbox_.stop(); }

  Result<void> validate(const PaymentRequest& request) const override {
    if (request.method.empty() || request.method == kOk || request.method == kDecline ||
        request.method == kAction) {
      return {};
    }
    return make_error(errc::invalid_field,
                      "sandbox_payments knows the method tokens pm_sandbox_ok, pm_sandbox_decline "
                      "and pm_sandbox_action; got '" +
                          request.method + "'",
                      "payment.method");
  }

  Task<AResult<core::PaymentFact>> create_payment(const PaymentRequest& request) override {
    core::Timestamp now = services_.clock->now();
    std::string method = request.method.empty() ? std::string(kAction) : request.method;
    PaymentSettings settings = settings_;
    PaymentRow row = co_await ledger_->run([&](Db& db) {
      PaymentRow existing = read_payment(db, "idempotency_key", request.ctx.idempotency_key);
      if (existing.found) return existing;  // a retry: the payment made the first time
      PaymentRow p;
      p.found = true;
      p.id = core::new_id("sbp");
      p.checkout_id = request.ctx.checkout_id;
      p.amount = request.amount;
      p.currency = request.currency;
      p.method = method;
      p.return_url = request.return_url;
      p.created_at = now;
      if (method == kOk) p.settles_at = now + settings.succeed_after_ms;
      if (method == kDecline) p.settles_at = now + settings.decline_after_ms;
      Use s(db.prepare(
          "INSERT INTO payments (id, idempotency_key, checkout_id, amount, currency, method, "
          "return_url, created_at, settles_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      s->bind(1, p.id).bind(2, request.ctx.idempotency_key).bind(3, p.checkout_id);
      s->bind(4, p.amount).bind(5, p.currency).bind(6, p.method).bind(7, p.return_url);
      s->bind(8, p.created_at).bind(9, p.settles_at);
      s->run();
      if (method == kOk) {
        std::string eid = core::new_id("evt_sbx");
        schedule(db, eid, p.id, "payment.succeeded",
                 payment_event(eid, "payment.succeeded", p, "succeeded", p.settles_at),
                 p.settles_at);
      } else if (method == kDecline) {
        std::string eid = core::new_id("evt_sbx");
        schedule(db, eid, p.id, "payment.failed",
                 payment_event(eid, "payment.failed", p, "failed", p.settles_at, "card_declined"),
                 p.settles_at);
      }
      return p;
    });
    co_return fact_for(row, now);
  }

  Task<AResult<core::PaymentFact>> get_payment(const PaymentRef& ref) override {
    std::string reference = ref.reference;
    PaymentRow row =
        co_await ledger_->run([&](Db& db) { return read_payment(db, "id", reference); });
    if (!row.found)
      co_return adapter_error(adapter_errc::not_found, "no sandbox payment " + reference, 404);
    co_return fact_for(row, services_.clock->now());
  }

  Task<AResult<core::PaymentFact>> cancel_payment(const PaymentRef& ref) override {
    core::Timestamp now = services_.clock->now();
    std::string reference = ref.reference;
    auto outcome = co_await ledger_->run([&](Db& db) -> std::pair<PaymentRow, bool> {
      PaymentRow p = read_payment(db, "id", reference);
      if (!p.found) return {p, false};
      auto status = status_at(p, now);
      if (status == core::PaymentStatus::succeeded || status == core::PaymentStatus::failed) {
        return {p, false};
      }
      if (status != core::PaymentStatus::canceled) {
        p.canceled_at = now;
        Use s(db.prepare("UPDATE payments SET canceled_at = ? WHERE id = ?"));
        s->bind(1, now).bind(2, p.id);
        s->run();
        drop_pending(db, p.id);
        std::string eid = core::new_id("evt_sbx");
        schedule(db, eid, p.id, "payment.canceled",
                 payment_event(eid, "payment.canceled", p, "canceled", now), now);
      }
      return {p, true};
    });
    if (!outcome.first.found) {
      co_return adapter_error(adapter_errc::not_found, "no sandbox payment " + reference, 404);
    }
    if (!outcome.second) {
      co_return adapter_error(adapter_errc::invalid_state,
                              "sandbox payment " + reference + " is already " +
                                  std::string(core::to_string(status_at(outcome.first, now))),
                              409);
    }
    co_return fact_for(outcome.first, now);
  }

  Task<AResult<RefundCreated>> refund(const RefundRequest& request) override {
    core::Timestamp now = services_.clock->now();
    std::int64_t settle = now + settings_.refund_after_ms;
    struct Outcome {
      std::string error;
      std::string id;
    };
    Outcome out = co_await ledger_->run([&](Db& db) -> Outcome {
      {
        Use existing(db.prepare("SELECT id FROM refunds WHERE idempotency_key = ?"));
        existing->bind(1, request.ctx.idempotency_key);
        if (existing->step()) return {{}, existing->text(0)};
      }
      PaymentRow p = read_payment(db, "id", request.payment_reference);
      if (!p.found) return {"no sandbox payment " + request.payment_reference, {}};
      if (status_at(p, now) != core::PaymentStatus::succeeded) {
        return {"sandbox payment " + p.id + " has not succeeded", {}};
      }
      std::int64_t refunded = 0;
      {
        Use sum(db.prepare("SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE payment_id = ?"));
        sum->bind(1, p.id);
        if (sum->step()) refunded = sum->int64(0);
      }
      if (refunded + request.amount > p.amount) {
        return {"refund of " + std::to_string(request.amount) + " exceeds what is left on " + p.id,
                {}};
      }
      std::string id = core::new_id("sbr");
      Use s(db.prepare(
          "INSERT INTO refunds (id, idempotency_key, payment_id, refund_id, amount, created_at, "
          "settles_at) VALUES (?, ?, ?, ?, ?, ?, ?)"));
      s->bind(1, id).bind(2, request.ctx.idempotency_key).bind(3, p.id).bind(4, request.refund_id);
      s->bind(5, request.amount).bind(6, now).bind(7, settle);
      s->run();
      std::string eid = core::new_id("evt_sbx");
      bj::object refund{{"id", id},
                        {"payment", p.id},
                        {"checkout", p.checkout_id},
                        {"refund_id", request.refund_id},
                        {"status", "succeeded"},
                        {"amount", request.amount},
                        {"currency", p.currency}};
      schedule(db, eid, id, "refund.succeeded",
               bj::serialize(bj::object{{"id", eid},
                                        {"type", "refund.succeeded"},
                                        {"created_at", settle},
                                        {"data", bj::object{{"refund", std::move(refund)}}}}),
               settle);
      return {{}, id};
    });
    if (!out.error.empty()) co_return adapter_error(adapter_errc::rejected, out.error, 400);
    co_return RefundCreated{out.id, core::RefundStatus::pending, {}};
  }

  Task<AResult<RefundCreated>> get_refund(const RefundRequest& request) override {
    core::Timestamp now = services_.clock->now();
    std::optional<core::Timestamp> settles_at = co_await ledger_->run([&](Db& db) {
      Use s(db.prepare("SELECT settles_at FROM refunds WHERE id = ?"));
      s->bind(1, request.reference);
      return s->step() ? std::optional<core::Timestamp>(s->int64(0)) : std::nullopt;
    });
    if (!settles_at) {
      co_return adapter_error(adapter_errc::not_found, "no sandbox refund " + request.reference,
                              404);
    }
    co_return RefundCreated{
        request.reference,
        now >= *settles_at ? core::RefundStatus::succeeded : core::RefundStatus::pending,
        {}};
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
    if (ec || !v.is_object()) {
      co_return adapter_error(adapter_errc::malformed_webhook, "body is not a JSON object", 400);
    }
    const auto& o = v.as_object();
    const auto* type = o.if_contains("type");
    const auto* data = o.if_contains("data");
    if (!type || !type->is_string() || !data || !data->is_object()) {
      co_return adapter_error(adapter_errc::malformed_webhook, "body lacks type or data", 400);
    }
    InboundEvent e;
    e.partner_event_id = std::string(request.header("webhook-id"));
    e.type = std::string(type->as_string());
    auto field = [](const bj::object& x, std::string_view k) {
      const auto* f = x.if_contains(k);
      return f && f->is_string() ? std::string(f->as_string()) : std::string();
    };
    if (e.type.starts_with("payment.")) {
      const auto* p = data->as_object().if_contains("payment");
      if (!p || !p->is_object()) {
        co_return adapter_error(adapter_errc::malformed_webhook, "payment event without payment",
                                400);
      }
      const auto& po = p->as_object();
      auto status = core::payment_status_from(field(po, "status"));
      if (!status) {
        co_return adapter_error(adapter_errc::malformed_webhook, "unknown payment status", 400);
      }
      e.kind = InboundEvent::Kind::payment;
      e.checkout_id = field(po, "checkout");
      e.payment_reference = field(po, "id");
      core::PaymentFact fact;
      fact.status = *status;
      fact.reference = e.payment_reference;
      fact.failure_code = field(po, "failure_code");
      fact.failure_message = field(po, "failure_message");
      e.payment = fact;
    } else if (e.type.starts_with("refund.")) {
      const auto* r = data->as_object().if_contains("refund");
      if (!r || !r->is_object()) {
        co_return adapter_error(adapter_errc::malformed_webhook, "refund event without refund",
                                400);
      }
      const auto& ro = r->as_object();
      e.kind = InboundEvent::Kind::refund;
      e.checkout_id = field(ro, "checkout");
      e.payment_reference = field(ro, "payment");
      core::RefundFact fact;
      fact.refund_id = field(ro, "refund_id");
      fact.reference = field(ro, "id");
      fact.status = field(ro, "status") == "succeeded" ? core::RefundStatus::succeeded
                                                       : core::RefundStatus::failed;
      const auto* amount = ro.if_contains("amount");
      fact.amount = amount && amount->is_int64() ? amount->as_int64() : 0;
      e.refund = fact;
    }
    WebhookResult result;
    result.events.push_back(std::move(e));
    co_return result;
  }

  Task<AResult<std::string>> test_credentials() override {
    std::int64_t count = co_await ledger_->run([](Db& db) {
      Use s(db.prepare("SELECT COUNT(*) FROM payments"));
      return s->step() ? s->int64(0) : std::int64_t{0};
    });
    co_return "sandbox ledger " + ledger_->path() + " holds " + std::to_string(count) + " payments";
  }

  Task<std::optional<http::Response>> hosted_page(const http::Request& request,
                                                  std::string_view subpath) override;

 private:
  core::PaymentFact fact_for(const PaymentRow& row, core::Timestamp now) const {
    core::PaymentFact fact;
    fact.reference = row.id;
    fact.status = status_at(row, now);
    if (fact.status == core::PaymentStatus::requires_action) {
      fact.client_action = core::ClientAction{"redirect", pay_url(row.id)};
    }
    if (fact.status == core::PaymentStatus::failed) {
      fact.failure_code = "card_declined";
      fact.failure_message = "The sandbox declined this payment (pm_sandbox_decline).";
    }
    return fact;
  }

  // The hosted page URL carries a MAC of the payment id, so nobody completes a payment whose id
  // they guessed.
  std::string pay_token(const std::string& payment_id) const {
    return core::hex_encode(core::hmac_sha256(key_, "pay:" + payment_id)).substr(0, 32);
  }
  std::string pay_url(const std::string& payment_id) const {
    return services_.public_url + "/hosted/" + id() + "/pay/" + payment_id +
           "?token=" + pay_token(payment_id);
  }

  PaymentSettings settings_;
  std::string key_;
  AdapterServices services_;
  std::shared_ptr<Ledger> ledger_;
  Outbox outbox_;
};

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

http::Response page(int status, std::string_view title, std::string_view message,
                    std::string_view return_url) {
  http::Response r;
  r.status = status;
  r.set_header("content-type", "text/html; charset=utf-8");
  r.set_header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'");
  r.set_header("cache-control", "no-store");
  r.set_header("referrer-policy", "no-referrer");
  std::string link;
  if (!return_url.empty()) {
    link = "<p><a href=\"" + html_escape(return_url) + "\">Return to the shop</a></p>";
  }
  r.body = "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
           "</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem "
           "auto;padding:0 1rem}h1{font-size:1.4rem}</style></head><body><h1>" +
           html_escape(title) + "</h1><p>" + html_escape(message) + "</p>" + link +
           "<p><small>merchgate sandbox payments</small></p></body></html>";
  return r;
}

Task<std::optional<http::Response>> SandboxPayments::hosted_page(const http::Request& request,
                                                                 std::string_view subpath) {
  if (request.method != "GET" || !subpath.starts_with("pay/")) co_return std::nullopt;
  std::string payment_id(subpath.substr(4));
  auto token = request.query_param("token");
  if (!token || !core::constant_time_equal(*token, pay_token(payment_id))) {
    co_return page(404, "Payment not found", "This payment link is not valid.", {});
  }
  core::Timestamp now = services_.clock->now();
  struct Outcome {
    PaymentRow row;
    bool completed_now = false;
  };
  Outcome out = co_await ledger_->run([&payment_id, now](Db& db) {
    Outcome o;
    o.row = read_payment(db, "id", payment_id);
    if (!o.row.found || status_at(o.row, now) != core::PaymentStatus::requires_action) return o;
    Use s(db.prepare("UPDATE payments SET completed_at = ? WHERE id = ? AND completed_at IS NULL"));
    s->bind(1, now).bind(2, payment_id);
    s->run();
    o.row.completed_at = now;
    o.completed_now = true;
    std::string eid = core::new_id("evt_sbx");
    schedule(db, eid, o.row.id, "payment.succeeded",
             payment_event(eid, "payment.succeeded", o.row, "succeeded", now), now);
    return o;
  });
  if (!out.row.found)
    co_return page(404, "Payment not found", "This payment link is not valid.", {});
  auto status = status_at(out.row, now);
  if (out.completed_now || status == core::PaymentStatus::succeeded) {
    co_return page(200, "Payment approved",
                   "The sandbox approved " + std::to_string(out.row.amount) + " " +
                       out.row.currency + " (minor units) for checkout " + out.row.checkout_id +
                       ". You can close this window.",
                   out.row.return_url);
  }
  co_return page(409, "Payment not completed",
                 "This payment is " + std::string(core::to_string(status)) + ".",
                 out.row.return_url);
}

}  // namespace

Result<PaymentSettings> PaymentSettings::parse(const bj::object& o) {
  PaymentSettings s;
  auto get = [&](std::string_view key, std::int64_t& out) {
    if (const auto* v = o.if_contains(key); v && v->is_int64()) out = v->as_int64();
  };
  get("succeed_after_ms", s.succeed_after_ms);
  get("decline_after_ms", s.decline_after_ms);
  get("refund_after_ms", s.refund_after_ms);
  return s;
}

AdapterType SandboxPaymentsFactory::type() {
  AdapterType t;
  t.name = kType;
  t.kind = Kind::payment;
  t.description =
      "In-process payment processor for development and tests: pm_sandbox_ok, "
      "pm_sandbox_decline, pm_sandbox_action.";
  t.default_base_url = "";
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
        "succeed_after_ms": {"type": "integer", "minimum": 0, "maximum": 600000,
          "description": "delay before pm_sandbox_ok succeeds (default 1000)"},
        "decline_after_ms": {"type": "integer", "minimum": 0, "maximum": 600000,
          "description": "delay before pm_sandbox_decline is declined (default 300)"},
        "refund_after_ms": {"type": "integer", "minimum": 0, "maximum": 600000,
          "description": "delay before a refund succeeds (default 500)"}
      }
    }
  })json");
  t.create = [](const AdapterConfig& config,
                AdapterServices& services) -> Result<std::shared_ptr<Adapter>> {
    auto settings = PaymentSettings::parse(config.settings);
    if (!settings) return settings.error();
    const auto* secret = config.credentials.if_contains("webhook_secret");
    auto key = webhooks::secret_key(secret && secret->is_string() ? secret->as_string() : "");
    if (!key)
      return make_error(errc::invalid_field, key.error().message, "credentials.webhook_secret");
    try {
      return std::shared_ptr<Adapter>(
          std::make_shared<SandboxPayments>(config, *settings, *key, services));
    } catch (const std::exception& e) {
      return make_error(errc::invalid_field,
                        "cannot open the sandbox ledger: " + std::string(e.what()), "id");
    }
  };
  return t;
}

}  // namespace mg::adapters::sandbox
