#pragma once
// The real `merchgate` binary as a child process, for end-to-end tests: a config file in a
// temporary directory, plain HTTP on 127.0.0.1 (port 0, read back from --ready-file), the test
// keys in its environment, and SIGKILL/SIGTERM on demand.
#include "tests/support/gateway_fixture.hpp"

#include <sys/types.h>

#include <map>
#include <string>

namespace mg::testing {

class GatewayProcess {
 public:
  // Writes <dir>/merchgate.json from test_config(dir) with `edit` applied to its JSON.
  explicit GatewayProcess(std::string dir, std::function<void(boost::json::object&)> edit = {});
  ~GatewayProcess();

  // Starts the binary with `extra_env` and waits until it listens (or fails the test).
  void start(const std::map<std::string, std::string>& extra_env = {});
  void kill9();     // SIGKILL and reap, like a power cut
  int terminate();  // SIGTERM, wait, return the exit status
  bool running();   // still alive (reaps it if it died)
  std::uint16_t port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string log_tail(std::size_t lines = 40) const;

  // One request; nullopt when the connection failed (process down or killed mid-request).
  std::optional<Reply> request(const std::string& method, const std::string& target,
                               const std::string& body = "",
                               std::vector<http::Header> headers = {});
  std::optional<Reply> app(const std::string& method, const std::string& target,
                           const std::string& body = "", const std::string& idempotency_key = "");

 private:
  std::string dir_;
  std::string config_path_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  int starts_ = 0;
};

// Rows of a sandbox ledger: SELECT COUNT(*) ... against <dir>/sandbox/<adapter>.db.
long ledger_count(const std::string& dir, const std::string& adapter, const std::string& sql);

}  // namespace mg::testing
