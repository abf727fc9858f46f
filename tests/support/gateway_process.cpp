#include "tests/support/gateway_process.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#ifndef MERCHGATE_BINARY
#error "MERCHGATE_BINARY must name the merchgate executable"
#endif

namespace mg::testing {
namespace bj = boost::json;

namespace {

bj::object config_json(const config::Config& c) {
  return bj::object{{"listen", "127.0.0.1:0"},
                    {"storage", bj::object{{"url", c.storage.url}}},
                    {"data_dir", c.data_dir},
                    {"log", bj::object{{"format", "text"}, {"level", "info"}}},
                    {"jobs", bj::object{{"poll_ms", 50}, {"lease_ms", 1500}}},
                    {"reconciler", bj::object{{"interval_ms", 500},
                                              {"stale_payment_after_ms", 3000},
                                              {"stale_order_after_ms", 3000}}},
                    {"limits", bj::object{{"drain_timeout_ms", 3000}}},
                    {"seed", c.seed}};
}

}  // namespace

GatewayProcess::GatewayProcess(std::string dir, std::function<void(bj::object&)> edit)
    : dir_(std::move(dir)) {
  bj::object json = config_json(test_config(dir_));
  if (edit) edit(json);
  config_path_ = dir_ + "/merchgate.json";
  std::ofstream(config_path_) << bj::serialize(json);
}

GatewayProcess::~GatewayProcess() {
  if (pid_ > 0) kill9();
}

void GatewayProcess::start(const std::map<std::string, std::string>& extra_env) {
  ASSERT_LE(pid_, 0) << "already running";
  std::string ready = dir_ + "/ready-" + std::to_string(++starts_);
  std::string log = dir_ + "/merchgate.log";
  config::Config keys = test_config(dir_);
  std::map<std::string, std::string> env{{"MERCHGATE_ADMIN_KEY", kAdminKey},
                                         {"MERCHGATE_API_KEY", kAppKey},
                                         {"MERCHGATE_MASTER_KEY", keys.master_key},
                                         {"MERCHGATE_ALLOW_LOOPBACK", "1"},
                                         {"PATH", "/usr/bin:/bin"}};
  for (const auto& [k, v] : extra_env) env[k] = v;
  pid_ = fork();
  ASSERT_GE(pid_, 0);
  if (pid_ == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<std::string> storage;
    for (const auto& [k, v] : env) storage.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : storage) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string bin = MERCHGATE_BINARY;
    std::string serve = "serve", config_flag = "--config", ready_flag = "--ready-file";
    char* argv[] = {
        bin.data(),   serve.data(), config_flag.data(), config_path_.data(), ready_flag.data(),
        ready.data(), nullptr};
    execve(bin.c_str(), argv, envp.data());
    _exit(127);
  }
  bool up = eventually(
      [&] {
        std::ifstream in(ready);
        std::string line;
        if (!std::getline(in, line)) return !running();
        port_ = static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
        return true;
      },
      std::chrono::seconds(20));
  ASSERT_TRUE(up && running()) << "merchgate did not start:\n" << log_tail();
}

void GatewayProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

int GatewayProcess::terminate() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

bool GatewayProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

std::string GatewayProcess::log_tail(std::size_t lines) const {
  std::ifstream in(dir_ + "/merchgate.log");
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += l + "\n";
  return out;
}

std::optional<Reply> GatewayProcess::request(const std::string& method, const std::string& target,
                                             const std::string& body,
                                             std::vector<http::Header> headers) {
  http::ClientOptions options;
  options.allow_loopback = true;
  options.total_timeout = std::chrono::seconds(15);
  options.read_timeout = std::chrono::seconds(15);
  options.max_retries = 0;
  http::ClientRequest req;
  req.method = method;
  req.url = "http://127.0.0.1:" + std::to_string(port_) + target;
  req.headers = std::move(headers);
  req.body = body;
  auto r = http::fetch_blocking(options, req);
  if (!r) return std::nullopt;
  return Reply{r->status, r->body, r->headers};
}

std::optional<Reply> GatewayProcess::app(const std::string& method, const std::string& target,
                                         const std::string& body,
                                         const std::string& idempotency_key) {
  std::vector<http::Header> headers{{"authorization", std::string("Bearer ") + kAppKey}};
  if (!body.empty()) headers.push_back({"content-type", "application/json"});
  if (!idempotency_key.empty()) headers.push_back({"idempotency-key", idempotency_key});
  return request(method, target, body, std::move(headers));
}

long ledger_count(const std::string& dir, const std::string& adapter, const std::string& sql) {
  std::string path = dir + "/sandbox/" + adapter + ".db";
  if (!std::filesystem::exists(path)) return 0;
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
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

}  // namespace mg::testing
