#pragma once
// A real gateway in-process for integration tests: a temporary directory with its own SQLite
// file and sandbox ledgers, plain HTTP on 127.0.0.1 (port 0), fast sandbox clocks, and a
// blocking client to talk to it over the wire.
#include "adapters/http/client.hpp"
#include "config/config.hpp"
#include "gateway/gateway.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mg::testing {

inline constexpr const char* kAppKey = "mgk_test_app_0123456789abcdef0123456789";
inline constexpr const char* kAdminKey = "mgk_test_admin_0123456789abcdef01234567";

// A fresh directory under /tmp, removed with everything in it at the end.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Reply {
  int status = 0;
  std::string body;
  std::vector<http::Header> headers;

  boost::json::value json() const;
  std::string header(std::string_view lower_name) const;
};

// The config the fixture starts from: sandbox adapters with millisecond clocks, seller
// "sel_hype" and these products:
//   tee (EUR 2500, sandbox-merch)   hoodie (EUR 5500, sandbox-merch)
//   poster (EUR 1500, sandbox-merch-2)   ebook (EUR 900, nothing ships)
//   cursed-tee (EUR 2500, sandbox-merch, "fail": true)   cap-usd (USD 2000, sandbox-merch)
//   tee-jpy (JPY 3000, sandbox-merch)
config::Config test_config(const std::string& dir);

class GatewayFixture {
 public:
  explicit GatewayFixture(std::function<void(config::Config&)> tweak = {});
  ~GatewayFixture();

  Gateway& gateway() { return *gateway_; }
  const std::string& dir() const { return dir_.path(); }
  std::string db_path() const;
  std::uint16_t port() const { return port_; }

  // One HTTP request on the wire.
  Reply request(const std::string& method, const std::string& target, const std::string& body = "",
                std::vector<http::Header> headers = {});
  // With the app key; POSTs get a fresh Idempotency-Key unless `idempotency_key` is given.
  Reply app(const std::string& method, const std::string& target, const std::string& body = "",
            std::string idempotency_key = "");
  Reply admin(const std::string& method, const std::string& target, const std::string& body = "");

  // A checkout body for the seeded seller: lines as {sku, quantity}.
  static std::string checkout_body(const std::vector<std::pair<std::string, int>>& lines,
                                   const std::string& method = "pm_sandbox_ok",
                                   const std::string& currency = "EUR",
                                   const std::string& country = "IT");
  // Creates a checkout and returns it (asserts 201).
  boost::json::object create_checkout(const std::vector<std::pair<std::string, int>>& lines,
                                      const std::string& method = "pm_sandbox_ok");
  boost::json::object get_checkout(const std::string& id);
  // Polls GET /v1/checkouts/{id} until `status` (or the timeout); returns the last checkout.
  boost::json::object wait_for_status(const std::string& id, const std::string& status,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The event types of a checkout, oldest first.
  std::vector<std::string> event_types(const std::string& checkout_id);

  // Row counts of every table: "nothing changed" is this map unchanged.
  std::map<std::string, long> table_counts();
  long count(const std::string& sql);

 private:
  TempDir dir_;
  std::unique_ptr<Gateway> gateway_;
  std::uint16_t port_ = 0;
};

// Polls `pred` every 20 ms until true or `timeout`.
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace mg::testing
