#pragma once
// merchgate's configuration: a JSON file, overridden by MERCHGATE_* environment variables
// (twelve-factor). Loading collects every problem, one line each naming the key, so
// `merchgate check-config` can list them all.
#include "gateway/store/store.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mg::config {

struct Config {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::string public_url;  // how browsers reach the gateway; default from listen and TLS
  std::string tls_cert;
  std::string tls_key;
  store::StoreOptions storage;
  std::string data_dir;  // sandbox ledgers; default: the database file's directory
  std::string log_format = "json";
  std::string log_level = "info";
  int threads = 0;  // 0: one per core

  std::size_t header_limit = 16 * 1024;
  std::size_t body_limit = 1024 * 1024;
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds drain_timeout{15'000};

  int job_concurrency = 32;
  std::chrono::milliseconds job_poll{500};
  std::chrono::milliseconds job_lease{120'000};
  std::chrono::milliseconds reconcile_every{30'000};
  std::chrono::milliseconds stale_payment_after{10 * 60'000};
  std::chrono::milliseconds stale_order_after{60 * 60'000};

  // Outbound events (CONTRACT §6).
  std::vector<std::chrono::milliseconds> webhook_retry_schedule;  // empty: the default schedule
  std::chrono::milliseconds webhook_min_retry_window{24 * 3600'000};
  std::chrono::milliseconds webhook_timeout{15'000};
  int webhook_per_endpoint = 4;
  bool webhook_allow_private_networks = false;  // the admin allows RFC 1918 / ULA targets

  std::string outbound_ca_file;  // extra CA bundle for partner calls (simulators)
  std::chrono::milliseconds outbound_connect_timeout{5'000};
  std::chrono::milliseconds outbound_total_timeout{20'000};
  bool allow_loopback = false;

  // Per API key: a token bucket refilled at `rate_limit_per_second` up to `rate_limit_burst`
  // (0 per second: no limit).
  int rate_limit_per_second = 1000;
  int rate_limit_burst = 2000;

  // From the environment only: secrets never live in the config file.
  std::string admin_key;
  std::string api_key;
  std::string master_key;

  // Declarative seed: {"adapters": [...], "sellers": [...], "products": [...], "routing": {...}}.
  boost::json::object seed;
};

using Env = std::function<const char*(const char*)>;

// Loads `path` and applies the environment. On failure, the problems, one line each.
struct Loaded {
  Config config;
  std::vector<std::string> problems;
};
Loaded load(const std::string& path, const Env& env);

// "host:port" with an IP literal host; false when it is not.
bool parse_listen(std::string_view text, std::string& host, std::uint16_t& port);

}  // namespace mg::config
