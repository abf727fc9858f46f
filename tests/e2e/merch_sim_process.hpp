#pragma once
// The real `merchgate-sim` binary as a child process for the merch end-to-end tests: one
// listener per partner on 127.0.0.1 port 0 (read back from --ready-file), webhooks aimed at the
// gateway under test, and its /__sim/ control endpoints (knobs, state, recorded requests).
#include "tests/support/gateway_process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#ifndef MERCHGATE_SIM_BINARY
#error "MERCHGATE_SIM_BINARY must name the merchgate-sim executable"
#endif

namespace mg::testing {

class SimProcess {
 public:
  struct Partner {
    std::string name;         // the flag: printful, printify, gelato, partner-protocol
    std::string webhook_url;  // where its webhooks go (empty: none)
    std::string secret;       // --<name>-webhook-secret
  };

  SimProcess(std::string dir, std::vector<Partner> partners, std::int64_t step_ms)
      : dir_(std::move(dir)) {
    std::string ready = dir_ + "/sim-ready";
    std::vector<std::string> args{MERCHGATE_SIM_BINARY, "--seed", "11", "--ready-file", ready};
    for (const auto& p : partners) {
      args.push_back("--" + p.name);
      args.push_back("127.0.0.1:0");
      if (!p.webhook_url.empty()) {
        args.push_back("--" + p.name + "-webhook-url");
        args.push_back(p.webhook_url);
      }
      if (!p.secret.empty()) {
        args.push_back("--" + p.name + "-webhook-secret");
        args.push_back(p.secret);
      }
    }
    std::vector<std::string> env{"PATH=/usr/bin:/bin",
                                 "MERCHGATE_SIM_ORDER_STEP_MS=" + std::to_string(step_ms)};
    std::string log = dir_ + "/sim.log";
    pid_ = fork();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> argv, envp;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      for (auto& e : env) envp.push_back(e.data());
      envp.push_back(nullptr);
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    bool up = eventually(
        [&] {
          std::ifstream in(ready);
          std::string line;
          std::map<std::string, std::string> found;
          while (std::getline(in, line)) {
            auto eq = line.find('=');
            if (eq != std::string::npos) found[line.substr(0, eq)] = line.substr(eq + 1);
          }
          if (found.size() < partners.size()) return false;
          listen_ = std::move(found);
          return true;
        },
        std::chrono::seconds(20));
    if (!up) {
      ADD_FAILURE() << "merchgate-sim did not start";
    }
  }

  ~SimProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    bool gone = eventually(
        [&] {
          int status = 0;
          return waitpid(pid_, &status, WNOHANG) == pid_;
        },
        std::chrono::seconds(5));
    if (!gone) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }

  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  std::string url(const std::string& partner) const {
    auto it = listen_.find(partner);
    return it == listen_.end() ? std::string() : "http://" + it->second;
  }

  // One request to a partner's listener (its /__sim/ control endpoints, or its API).
  Reply call(const std::string& partner, const std::string& method, const std::string& target,
             const std::string& body = "", std::vector<http::Header> headers = {}) const {
    http::ClientOptions options;
    options.allow_loopback = true;
    options.total_timeout = std::chrono::seconds(10);
    http::ClientRequest req;
    req.method = method;
    req.url = url(partner) + target;
    req.headers = std::move(headers);
    if (!body.empty()) req.headers.push_back({"content-type", "application/json"});
    req.body = body;
    auto r = http::fetch_blocking(options, req);
    if (!r) return Reply{0, r.error().message(), {}};
    return {r->status, r->body, r->headers};
  }

  void knobs(const std::string& partner, const std::string& json) const {
    Reply r = call(partner, "POST", "/__sim/knobs", json);
    EXPECT_EQ(r.status, 200) << r.body;
  }

  boost::json::array orders(const std::string& partner) const {
    Reply r = call(partner, "GET", "/__sim/state");
    if (r.status != 200) return {};
    return r.json().as_object().at("orders").as_array();
  }

  std::size_t orders_for(const std::string& partner, const std::string& external_id) const {
    std::size_t n = 0;
    for (const auto& o : orders(partner)) {
      if (o.as_object().at("external_id").as_string() == external_id) ++n;
    }
    return n;
  }

  // Requests the partner received: {seq, method, target, headers, body, at_ms}.
  boost::json::array requests(const std::string& partner) const {
    Reply r = call(partner, "GET", "/__sim/requests");
    if (r.status != 200) return {};
    return r.json().as_object().at("requests").as_array();
  }

  std::string log_tail() const {
    std::ifstream in(dir_ + "/sim.log");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return all.size() > 3000 ? all.substr(all.size() - 3000) : all;
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  std::map<std::string, std::string> listen_;
};

inline std::optional<Reply> admin(GatewayProcess& gw, const std::string& method,
                                  const std::string& target, const std::string& body = "") {
  std::vector<http::Header> headers{{"authorization", std::string("Bearer ") + kAdminKey}};
  if (!body.empty()) headers.push_back({"content-type", "application/json"});
  return gw.request(method, target, body, std::move(headers));
}

}  // namespace mg::testing
