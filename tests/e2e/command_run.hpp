#pragma once
// Runs the merchgate binary under test as a command line (CONTRACT §1) and keeps what it printed:
// shared by the e2e suites that check exit codes and messages.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace mg::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout + stderr
};

// `env` is prepended as VAR=value assignments.
inline CommandResult run_merchgate(const std::string& args, const std::string& env = "") {
  std::string cmd = env + " " MERCHGATE_TEST_BINARY " " + args + " 2>&1";
  CommandResult r;
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 512> buf{};
  while (p && fgets(buf.data(), buf.size(), p)) r.output += buf.data();
  int status = p ? pclose(p) : -1;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace mg::testing
