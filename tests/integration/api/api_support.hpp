#pragma once
// Helpers shared by the API contract tests: the CONTRACT §2 error shape, a byte-level dump of the
// database ("nothing changed" means this dump is equal), waiting until the gateway and its
// sandbox partners have nothing left to do, and signing sandbox webhooks like the partners do.
#include "gateway/core/crypto.hpp"
#include "tests/support/gateway_fixture.hpp"
#include "webhooks/signature/standard_webhooks.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <boost/json.hpp>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace mg::testing::api {
namespace bj = boost::json;

inline std::string str(const bj::value& v) { return std::string(v.as_string()); }

// The "data" of a list reply, by value (safe in a range-for).
inline bj::array data_of(const Reply& r) { return r.json().at("data").as_array(); }

inline bj::object parse_object(std::string_view text) { return bj::parse(text).as_object(); }

// `param` "" means: no param may be present.
inline ::testing::AssertionResult is_error(const Reply& r, int status, std::string_view type,
                                           std::string_view code, std::string_view param = "") {
  auto fail = [&](const std::string& why) {
    return ::testing::AssertionFailure()
           << why << "\n  status " << r.status << ", body: " << r.body.substr(0, 600);
  };
  if (r.status != status) return fail("status is not " + std::to_string(status));
  if (!r.header("content-type").starts_with("application/json")) {
    return fail("content-type is '" + r.header("content-type") + "'");
  }
  if (r.header("request-id").empty()) return fail("no request-id header");
  boost::system::error_code ec;
  bj::value doc = bj::parse(r.body, ec);
  if (ec || !doc.is_object()) return fail("body is not a JSON object");
  const auto& outer = doc.as_object();
  if (outer.size() != 1 || !outer.contains("error") || !outer.at("error").is_object()) {
    return fail("body is not {\"error\": {...}}");
  }
  const auto& e = outer.at("error").as_object();
  for (const auto& kv : e) {
    if (kv.key() != "type" && kv.key() != "code" && kv.key() != "message" && kv.key() != "param") {
      return fail("unexpected key error." + std::string(kv.key()));
    }
    if (!kv.value().is_string()) return fail("error." + std::string(kv.key()) + " is no string");
  }
  if (!e.contains("type") || e.at("type").as_string() != type) {
    return fail("type is not '" + std::string(type) + "'");
  }
  if (!e.contains("code") || e.at("code").as_string() != code) {
    return fail("code is not '" + std::string(code) + "'");
  }
  if (!e.contains("message") || e.at("message").as_string().empty()) return fail("no message");
  if (param.empty()) {
    if (e.contains("param")) return fail("unexpected param");
  } else if (!e.contains("param") || e.at("param").as_string() != param) {
    return fail("param is not '" + std::string(param) + "'");
  }
  return ::testing::AssertionSuccess();
}

// Every row of every table of an SQLite file, as text, sorted: equal dumps, equal databases.
inline std::string dump_db(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "<cannot open " + path + ">";
  }
  sqlite3_busy_timeout(db, 5000);
  std::vector<std::string> tables;
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                     "'sqlite_%' ORDER BY name",
                     -1, &stmt, nullptr);
  while (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
    tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  std::string out;
  for (const auto& t : tables) {
    std::vector<std::string> rows;
    stmt = nullptr;
    sqlite3_prepare_v2(db, ("SELECT * FROM \"" + t + "\"").c_str(), -1, &stmt, nullptr);
    while (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        if (i) row += " | ";
        switch (sqlite3_column_type(stmt, i)) {
          case SQLITE_NULL:
            row += "NULL";
            break;
          case SQLITE_BLOB:
            row += core::hex_encode(
                std::string(static_cast<const char*>(sqlite3_column_blob(stmt, i)),
                            static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))));
            break;
          default:
            row += reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        }
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    std::sort(rows.begin(), rows.end());
    out += "== " + t + " (" + std::to_string(rows.size()) + ")\n";
    for (const auto& r : rows) out += r + "\n";
  }
  sqlite3_close(db);
  return out;
}

inline std::string dump(GatewayFixture& f) { return dump_db(f.db_path()); }

// Unsent webhooks in the sandbox partners' outboxes (they will change the database later).
inline long sandbox_pending(GatewayFixture& f) {
  long n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(f.dir() + "/sandbox", ec)) {
    if (entry.path().extension() != ".db") continue;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(entry.path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_busy_timeout(db, 5000);
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL", -1, &stmt,
                             nullptr) == SQLITE_OK &&
          sqlite3_step(stmt) == SQLITE_ROW) {
        n += sqlite3_column_int64(stmt, 0);
      }
      sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
  }
  return n;
}

// Waits until no job is queued, no sandbox webhook is waiting and the database stays the same
// between two looks: what a "nothing changed" comparison needs as its starting point.
inline bool quiesce(GatewayFixture& f,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  std::string last;
  return eventually(
      [&] {
        if (f.count("SELECT COUNT(*) FROM jobs WHERE state = 'queued'") != 0) return false;
        if (sandbox_pending(f) != 0) return false;
        std::string now = dump(f);
        bool same = now == last;
        last = std::move(now);
        return same;
      },
      timeout);
}

// The whole file as bytes (for "the secret is not in the database file").
inline std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The webhook secret of a seeded adapter, as test_config holds it ("whsec_…").
inline std::string seed_secret(const std::string& adapter_id) {
  config::Config c = test_config("/nonexistent");
  for (const auto& a : c.seed.at("adapters").as_array()) {
    if (a.at("id").as_string() == adapter_id) {
      return str(a.at("credentials").at("webhook_secret"));
    }
  }
  return {};
}

inline std::int64_t now_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

// Standard Webhooks headers for `body`, signed with `whsec` (the partner's secret).
inline std::vector<http::Header> webhook_headers(const std::string& whsec, const std::string& id,
                                                 std::int64_t timestamp, const std::string& body) {
  auto key = webhooks::secret_key(whsec);
  EXPECT_TRUE(key.has_value()) << whsec;
  std::string k = key ? *key : std::string();
  return {{"content-type", "application/json"},
          {"webhook-id", id},
          {"webhook-timestamp", std::to_string(timestamp)},
          {"webhook-signature", webhooks::sign(k, id, timestamp, body)}};
}

// A sandbox_payments event body, shaped like the sandbox's own (payment_event).
inline std::string payment_event_body(const std::string& event_id, const std::string& type,
                                      const std::string& payment_id, const std::string& checkout_id,
                                      const std::string& status, std::int64_t amount,
                                      const std::string& currency) {
  bj::object payment{{"id", payment_id},
                     {"checkout", checkout_id},
                     {"status", status},
                     {"amount", amount},
                     {"currency", currency}};
  return bj::serialize(bj::object{{"id", event_id},
                                  {"type", type},
                                  {"created_at", now_seconds() * 1000},
                                  {"data", bj::object{{"payment", std::move(payment)}}}});
}

inline std::vector<http::Header> app_headers(std::string idempotency_key = "") {
  std::vector<http::Header> h{{"authorization", std::string("Bearer ") + kAppKey},
                              {"content-type", "application/json"}};
  if (!idempotency_key.empty()) h.push_back({"idempotency-key", std::move(idempotency_key)});
  return h;
}

// One gateway for a whole test suite (started before its first test, stopped after its last):
// the API suites derive their fixtures from this. Suites run one after another, so they share
// the slot.
class SuiteGateway : public ::testing::Test {
 public:
  static void SetUpTestSuite() { fixture_ = new GatewayFixture(); }
  static void TearDownTestSuite() {
    delete fixture_;
    fixture_ = nullptr;
  }
  static GatewayFixture& f() { return *fixture_; }

 private:
  static inline GatewayFixture* fixture_ = nullptr;
};

}  // namespace mg::testing::api
