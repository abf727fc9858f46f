#pragma once
// Helpers shared by the flow tests: reading the sandbox partners' own ledgers, sending signed
// partner webhooks, and picking pieces out of checkout objects.
#include "tests/support/gateway_fixture.hpp"
#include "webhooks/signature/standard_webhooks.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <boost/json.hpp>

#include <algorithm>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

namespace mg::testing::flow {

inline std::string str(const boost::json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : std::string();
}

// JSON as text, so a failed comparison prints the documents.
inline std::string text(const boost::json::value& v) { return boost::json::serialize(v); }

// The sandbox ledger file of adapter `adapter_id` (CONTRACT §7: the partner's own books).
inline std::string ledger_path(GatewayFixture& f, const std::string& adapter_id) {
  return f.dir() + "/sandbox/" + adapter_id + ".db";
}

// Runs `sql` on the SQLite file `path` and returns the rows, each column as text ("" for NULL).
inline std::vector<std::vector<std::string>> query(const std::string& path,
                                                   const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + path);
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    std::string error = sqlite3_errmsg(db);
    sqlite3_close(db);
    throw std::runtime_error("bad SQL '" + sql + "': " + error);
  }
  std::vector<std::vector<std::string>> rows;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      const unsigned char* text = sqlite3_column_text(stmt, i);
      row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (rc != SQLITE_DONE) throw std::runtime_error("SQL '" + sql + "' failed");
  return rows;
}

// The first column of the first row, or "" when there is none.
inline std::string scalar(const std::string& path, const std::string& sql) {
  auto rows = query(path, sql);
  return rows.empty() || rows.front().empty() ? std::string() : rows.front().front();
}

inline long count_in(const std::string& path, const std::string& sql) {
  return std::stol(scalar(path, sql));
}

// The webhook secret of a seeded adapter, straight from the fixture's config.
inline std::string webhook_secret(GatewayFixture& f, const std::string& adapter_id) {
  config::Config c = test_config(f.dir());
  for (const auto& a : c.seed.at("adapters").as_array()) {
    if (a.at("id").as_string() == adapter_id) {
      return std::string(a.at("credentials").at("webhook_secret").as_string());
    }
  }
  throw std::runtime_error("no adapter " + adapter_id + " in the test config");
}

// The headers a sandbox partner sends with webhook `event_id` (Standard Webhooks scheme).
inline std::vector<http::Header> webhook_headers(GatewayFixture& f, const std::string& adapter_id,
                                                 const std::string& event_id,
                                                 const std::string& body,
                                                 std::int64_t timestamp = std::time(nullptr)) {
  auto key = webhooks::secret_key(webhook_secret(f, adapter_id));
  if (!key) throw std::runtime_error("bad test secret");
  return {{"content-type", "application/json"},
          {"webhook-id", event_id},
          {"webhook-timestamp", std::to_string(timestamp)},
          {"webhook-signature", webhooks::sign(*key, event_id, timestamp, body)}};
}

inline Reply post_webhook(GatewayFixture& f, const std::string& adapter_id, const std::string& body,
                          std::vector<http::Header> headers) {
  return f.request("POST", "/v1/webhooks/" + adapter_id, body, std::move(headers));
}

// The body of a sandbox_fulfillment webhook about one order.
inline std::string order_event_body(const std::string& event_id, const std::string& status,
                                    const std::string& order_id, const std::string& external_id,
                                    const std::string& checkout_id,
                                    const std::string& tracking_number = "") {
  boost::json::array shipments;
  if (!tracking_number.empty()) {
    shipments.push_back(
        boost::json::object{{"carrier", "Sandbox Post"},
                            {"tracking_number", tracking_number},
                            {"tracking_url", "https://track.example/" + tracking_number}});
  }
  boost::json::object order{{"id", order_id},
                            {"external_id", external_id},
                            {"checkout", checkout_id},
                            {"status", status},
                            {"shipments", std::move(shipments)}};
  return boost::json::serialize(
      boost::json::object{{"id", event_id},
                          {"type", "order." + status},
                          {"created_at", 0},
                          {"data", boost::json::object{{"order", std::move(order)}}}});
}

// The body of a sandbox_payments webhook about one payment ("checkout" omitted when empty).
inline std::string payment_event_body(const std::string& event_id, const std::string& status,
                                      const std::string& payment_id, std::int64_t amount,
                                      const std::string& currency,
                                      const std::string& checkout_id = "") {
  boost::json::object payment{
      {"id", payment_id}, {"status", status}, {"amount", amount}, {"currency", currency}};
  if (!checkout_id.empty()) payment["checkout"] = checkout_id;
  return boost::json::serialize(
      boost::json::object{{"id", event_id},
                          {"type", "payment." + status},
                          {"created_at", 0},
                          {"data", boost::json::object{{"payment", std::move(payment)}}}});
}

inline const boost::json::object* fulfillment_at(const boost::json::object& checkout,
                                                 const std::string& adapter) {
  for (const auto& fv : checkout.at("fulfillments").as_array()) {
    if (fv.at("adapter").as_string() == adapter) return &fv.as_object();
  }
  return nullptr;
}

inline std::string fulfillment_status(GatewayFixture& f, const std::string& checkout_id,
                                      const std::string& adapter) {
  auto c = f.get_checkout(checkout_id);
  const auto* ful = fulfillment_at(c, adapter);
  return ful ? str(ful->at("status")) : std::string();
}

inline long count_of(const std::vector<std::string>& types, const std::string& type) {
  return static_cast<long>(std::count(types.begin(), types.end(), type));
}

// Whether every webhook the sandbox partners scheduled has been delivered.
inline bool outboxes_drained(GatewayFixture& f) {
  long unsent = 0;
  for (const char* id : {"sandbox-pay", "sandbox-merch", "sandbox-merch-2"}) {
    unsent += count_in(ledger_path(f, id), "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL");
  }
  return unsent == 0;
}

// Nothing left to happen: every partner webhook delivered and no job waiting.
inline bool quiet(GatewayFixture& f) {
  return outboxes_drained(f) && f.count("SELECT COUNT(*) FROM jobs WHERE state = 'queued'") == 0;
}

// SQL counting a checkout's jobs of one kind in one state ("queued", "done", "dead").
inline std::string jobs_sql(const std::string& checkout_id, const std::string& kind,
                            const std::string& state) {
  return "SELECT COUNT(*) FROM jobs WHERE checkout_id = '" + checkout_id + "' AND kind = '" + kind +
         "' AND state = '" + state + "'";
}

}  // namespace mg::testing::flow
