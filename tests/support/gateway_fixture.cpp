#include "tests/support/gateway_fixture.hpp"

#include "gateway/core/crypto.hpp"
#include "gateway/log/log.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <stdexcept>
#include <thread>

namespace mg::testing {
namespace bj = boost::json;

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "merchgate-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

bj::value Reply::json() const {
  boost::system::error_code ec;
  bj::value v = bj::parse(body, ec);
  if (ec) throw std::runtime_error("not JSON (" + std::to_string(status) + "): " + body);
  return v;
}

std::string Reply::header(std::string_view lower_name) const {
  for (const auto& h : headers)
    if (h.name == lower_name) return h.value;
  return {};
}

config::Config test_config(const std::string& dir) {
  config::Config c;
  c.listen_host = "127.0.0.1";
  c.listen_port = 0;
  c.public_url = "http://127.0.0.1";
  c.storage.url = "sqlite:" + dir + "/merchgate.db";
  c.data_dir = dir;
  c.log_format = "text";
  c.log_level = "warn";
  c.threads = 2;
  c.job_poll = std::chrono::milliseconds(50);
  c.reconcile_every = std::chrono::milliseconds(200);
  c.drain_timeout = std::chrono::milliseconds(3000);
  c.allow_loopback = true;
  c.admin_key = kAdminKey;
  c.api_key = kAppKey;
  c.master_key = core::base64_encode(std::string(32, 'k'));
  auto seed = bj::parse(R"json({
    "adapters": [
      {"id": "sandbox-pay", "type": "sandbox_payments",
       "credentials": {"webhook_secret": "whsec_dGVzdC1zYW5kYm94LXBheW1lbnRzLXNlY3JldA=="},
       "settings": {"succeed_after_ms": 50, "decline_after_ms": 20, "refund_after_ms": 30}},
      {"id": "sandbox-merch", "type": "sandbox_fulfillment",
       "credentials": {"webhook_secret": "whsec_dGVzdC1zYW5kYm94LWZ1bGZpbGxtZW50LXNlY3JldA=="},
       "settings": {"in_production_after_ms": 300, "shipped_after_ms": 400,
                    "delivered_after_ms": 500, "shipping": {"EUR": 495, "USD": 500, "JPY": 800}}},
      {"id": "sandbox-merch-2", "type": "sandbox_fulfillment",
       "credentials": {"webhook_secret": "whsec_dGVzdC1zYW5kYm94LWZ1bGZpbGxtZW50LTItc2VjcmV0"},
       "settings": {"in_production_after_ms": 300, "shipped_after_ms": 400,
                    "delivered_after_ms": 500, "shipping": {"EUR": 300}}}
    ],
    "sellers": [{"id": "sel_hype", "name": "Hype", "platform_fee_bps": 500,
                 "payouts": {"sandbox-pay": "acct_hype"}},
                {"id": "sel_other", "name": "Other"}],
    "products": [
      {"sku": "tee", "seller": "sel_hype", "title": "Tee", "unit_amount": 2500, "currency": "EUR",
       "group": "tee", "options": {"size": "M"}, "fulfillment": {"adapter": "sandbox-merch"}},
      {"sku": "hoodie", "seller": "sel_hype", "title": "Hoodie", "unit_amount": 5500,
       "currency": "EUR", "fulfillment": {"adapter": "sandbox-merch"}},
      {"sku": "poster", "seller": "sel_hype", "title": "Poster", "unit_amount": 1500,
       "currency": "EUR", "fulfillment": {"adapter": "sandbox-merch-2"}},
      {"sku": "ebook", "seller": "sel_hype", "title": "E-book", "unit_amount": 900,
       "currency": "EUR"},
      {"sku": "cursed-tee", "seller": "sel_hype", "title": "Cursed tee", "unit_amount": 2500,
       "currency": "EUR", "fulfillment": {"adapter": "sandbox-merch", "fail": true}},
      {"sku": "cap-usd", "seller": "sel_hype", "title": "Cap", "unit_amount": 2000,
       "currency": "USD", "fulfillment": {"adapter": "sandbox-merch"}},
      {"sku": "tee-jpy", "seller": "sel_hype", "title": "Tee JP", "unit_amount": 3000,
       "currency": "JPY", "fulfillment": {"adapter": "sandbox-merch"}},
      {"sku": "other-tee", "seller": "sel_other", "title": "Other tee", "unit_amount": 2500,
       "currency": "EUR", "fulfillment": {"adapter": "sandbox-merch"}}
    ]
  })json");
  c.seed = seed.as_object();
  return c;
}

GatewayFixture::GatewayFixture(std::function<void(config::Config&)> tweak) {
  config::Config c = test_config(dir_.path());
  if (tweak) tweak(c);
  log::configure(c.log_format, c.log_level);
  auto g = Gateway::create(c);
  if (!g) throw std::runtime_error("gateway: " + g.error().message);
  gateway_ = std::move(*g);
  if (auto r = gateway_->listen(); !r) throw std::runtime_error("listen: " + r.error().message);
  port_ = gateway_->port();
  gateway_->start();
}

GatewayFixture::~GatewayFixture() {
  if (gateway_) gateway_->stop();
}

std::string GatewayFixture::db_path() const { return dir_.path() + "/merchgate.db"; }

Reply GatewayFixture::request(const std::string& method, const std::string& target,
                              const std::string& body, std::vector<http::Header> headers) {
  http::ClientOptions options;
  options.allow_loopback = true;
  options.total_timeout = std::chrono::seconds(20);
  options.read_timeout = std::chrono::seconds(20);
  http::ClientRequest req;
  req.method = method;
  req.url = "http://127.0.0.1:" + std::to_string(port_) + target;
  req.headers = std::move(headers);
  req.body = body;
  auto r = http::fetch_blocking(options, req);
  if (!r) throw std::runtime_error("request " + method + " " + target + ": " + r.error().message());
  return {r->status, r->body, r->headers};
}

Reply GatewayFixture::app(const std::string& method, const std::string& target,
                          const std::string& body, std::string idempotency_key) {
  std::vector<http::Header> headers{{"authorization", std::string("Bearer ") + kAppKey}};
  if (!body.empty()) headers.push_back({"content-type", "application/json"});
  if (method == "POST") {
    if (idempotency_key.empty()) idempotency_key = core::new_id("idem");
    headers.push_back({"idempotency-key", idempotency_key});
  }
  return request(method, target, body, std::move(headers));
}

Reply GatewayFixture::admin(const std::string& method, const std::string& target,
                            const std::string& body) {
  std::vector<http::Header> headers{{"authorization", std::string("Bearer ") + kAdminKey}};
  if (!body.empty()) headers.push_back({"content-type", "application/json"});
  return request(method, target, body, std::move(headers));
}

std::string GatewayFixture::checkout_body(const std::vector<std::pair<std::string, int>>& lines,
                                          const std::string& method, const std::string& currency,
                                          const std::string& country) {
  bj::array ls;
  for (const auto& [sku, qty] : lines) ls.push_back(bj::object{{"sku", sku}, {"quantity", qty}});
  bj::object body{
      {"seller", "sel_hype"},
      {"buyer", bj::object{{"id", "u_1"},
                           {"email", "ada@example.com"},
                           {"shipping_address", bj::object{{"name", "Ada L"},
                                                           {"line1", "1 Main St"},
                                                           {"line2", nullptr},
                                                           {"city", "Milan"},
                                                           {"state", nullptr},
                                                           {"postal_code", "20121"},
                                                           {"country", country}}}}},
      {"currency", currency},
      {"lines", std::move(ls)},
      {"payment", bj::object{{"processor", nullptr},
                             {"method", method.empty() ? bj::value(nullptr) : bj::value(method)}}},
      {"metadata", bj::object{{"video_id", "v_987"}}}};
  return bj::serialize(body);
}

bj::object GatewayFixture::create_checkout(const std::vector<std::pair<std::string, int>>& lines,
                                           const std::string& method) {
  Reply r = app("POST", "/v1/checkouts", checkout_body(lines, method));
  EXPECT_EQ(r.status, 201) << r.body;
  return r.json().as_object();
}

bj::object GatewayFixture::get_checkout(const std::string& id) {
  Reply r = app("GET", "/v1/checkouts/" + id);
  EXPECT_EQ(r.status, 200) << r.body;
  return r.json().as_object();
}

bj::object GatewayFixture::wait_for_status(const std::string& id, const std::string& status,
                                           std::chrono::milliseconds timeout) {
  bj::object last;
  eventually(
      [&] {
        last = get_checkout(id);
        return last.at("status").as_string() == status;
      },
      timeout);
  return last;
}

std::vector<std::string> GatewayFixture::event_types(const std::string& checkout_id) {
  Reply r = app("GET", "/v1/events?limit=100&checkout=" + checkout_id);
  std::vector<std::string> types;
  bj::value doc = r.json();
  const auto& data = doc.as_object().at("data").as_array();
  for (auto it = data.rbegin(); it != data.rend(); ++it) {
    types.emplace_back(it->as_object().at("type").as_string());
  }
  return types;
}

long GatewayFixture::count(const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  long n = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    n = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

std::map<std::string, long> GatewayFixture::table_counts() {
  std::map<std::string, long> out;
  for (const char* t :
       {"sellers", "products", "adapters", "config", "checkouts", "partner_refs", "events", "jobs",
        "inbound_webhooks", "idempotency_keys", "partner_calls"}) {
    out[t] = count(std::string("SELECT COUNT(*) FROM ") + t);
  }
  return out;
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

}  // namespace mg::testing
