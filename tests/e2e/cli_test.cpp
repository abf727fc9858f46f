// The `merchgate` command line: clear start-up errors (one line each, exit 2), check-config,
// migrate, backup, and a clean SIGTERM.
#include "tests/e2e/command_run.hpp"
#include "tests/support/gateway_process.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>

namespace mg::testing {
namespace {

std::string write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST(CommandLine, MissingConfigFileIsOneLineAndExit2) {
  CommandResult r = run_merchgate("serve --config /nonexistent/merchgate.json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.output), 1) << r.output;
  EXPECT_NE(r.output.find("/nonexistent/merchgate.json"), std::string::npos) << r.output;
}

TEST(CommandLine, BadJsonIsOneLineAndExit2) {
  TempDir dir;
  CommandResult r =
      run_merchgate("serve --config " + write(dir.path() + "/c.json", "{\"listen\": "));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.output), 1) << r.output;
  EXPECT_NE(r.output.find("not valid JSON"), std::string::npos) << r.output;
}

TEST(CommandLine, CheckConfigNamesEveryBadKeyOnItsOwnLine) {
  TempDir dir;
  std::string cfg = write(dir.path() + "/c.json", R"({
    "listen": "localhost:99999", "colour": "blue", "storage": {"sync": "sometimes"},
    "tls": {"cert": "/nonexistent/cert.pem", "key": "/nonexistent/key.pem"},
    "log": {"level": "loud"}})");
  CommandResult r = run_merchgate("check-config --config " + cfg);
  EXPECT_EQ(r.exit_code, 2);
  for (const char* key :
       {"listen:", "colour:", "storage.sync:", "tls.cert:", "tls.key:", "log.level:"}) {
    EXPECT_NE(r.output.find(key), std::string::npos) << key << " missing in:\n" << r.output;
  }
  EXPECT_EQ(lines(r.output), 6) << r.output;
}

TEST(CommandLine, CheckConfigNamesTheBadKeyOfASeedAdapter) {
  TempDir dir;
  std::string cfg = write(dir.path() + "/c.json", R"({"seed": {"adapters": [
    {"id": "pay", "type": "sandbox_payments", "credentials": {"webhook_secret": "whsec_x"},
     "settings": {"succeed_after_ms": "soon"}}]}})");
  CommandResult r = run_merchgate("check-config --config " + cfg);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("seed.adapters[0].settings.succeed_after_ms"), std::string::npos)
      << r.output;
}

TEST(CommandLine, CheckConfigAcceptsTheExampleConfig) {
  TempDir dir;
  // The example's TLS files are made by `make run`; point them at readable files.
  std::ifstream in(MERCHGATE_SOURCE_DIR "/config/merchgate.example.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string cert = write(dir.path() + "/cert.pem", "x"),
              key = write(dir.path() + "/key.pem", "x");
  CommandResult r =
      run_merchgate("check-config --config " MERCHGATE_SOURCE_DIR "/config/merchgate.example.json",
                    "MERCHGATE_TLS_CERT=" + cert + " MERCHGATE_TLS_KEY=" + key);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(CommandLine, UnreadableCertificateStopsServeWithOneLine) {
  TempDir dir;
  std::string cfg = write(dir.path() + "/c.json",
                          R"({"listen": "127.0.0.1:0", "storage": {"url": "sqlite:)" + dir.path() +
                              R"(/m.db"}, "tls": {"cert": ")" + dir.path() +
                              R"(/missing.pem", "key": ")" + dir.path() + R"(/missing-key.pem"}})");
  CommandResult r = run_merchgate("serve --config " + cfg);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("missing.pem"), std::string::npos) << r.output;
}

TEST(CommandLine, ShortBootstrapKeyIsRefused) {
  TempDir dir;
  std::string cfg = write(dir.path() + "/c.json", R"({"listen": "127.0.0.1:0"})");
  CommandResult r = run_merchgate("check-config --config " + cfg, "MERCHGATE_API_KEY=short");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("MERCHGATE_API_KEY"), std::string::npos) << r.output;
}

TEST(CommandLine, BadMasterKeyStopsServe) {
  TempDir dir;
  std::string cfg = write(dir.path() + "/c.json", R"({"listen": "127.0.0.1:0", "storage":
    {"url": "sqlite:)" + dir.path() + R"(/m.db"}})");
  CommandResult r = run_merchgate("serve --config " + cfg, "MERCHGATE_MASTER_KEY=dG9vc2hvcnQ=");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("MERCHGATE_MASTER_KEY"), std::string::npos) << r.output;
}

TEST(CommandLine, MigrateThenBackupMakesAReadableCopy) {
  TempDir dir;
  std::string cfg =
      write(dir.path() + "/c.json", R"({"storage": {"url": "sqlite:)" + dir.path() + R"(/m.db"}})");
  CommandResult m = run_merchgate("migrate --config " + cfg);
  EXPECT_EQ(m.exit_code, 0) << m.output;
  EXPECT_NE(m.output.find("schema version"), std::string::npos);
  CommandResult b = run_merchgate("backup --config " + cfg + " --to " + dir.path() + "/copy.db");
  EXPECT_EQ(b.exit_code, 0) << b.output;
  CommandResult again =
      run_merchgate("backup --config " + cfg + " --to " + dir.path() + "/copy.db");
  EXPECT_EQ(again.exit_code, 2) << "a backup never overwrites";
}

TEST(CommandLine, SigtermDrainsAndExitsZero) {
  TempDir dir;
  GatewayProcess gw(dir.path());
  gw.start();
  auto health = gw.request("GET", "/healthz");
  ASSERT_TRUE(health && health->status == 200);
  EXPECT_FALSE(health->header("request-id").empty());
  int status = gw.terminate();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << gw.log_tail();
  EXPECT_NE(gw.log_tail().find("gateway.stopped"), std::string::npos);
}

}  // namespace
}  // namespace mg::testing
