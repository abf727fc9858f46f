#include "config/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>

namespace mg::config {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

// 32 bytes, as `openssl rand -base64 32` prints them.
constexpr const char* kMasterKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "mg-config-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }

  Loaded load_text(const std::string& json) { return load(write("merchgate.json", json), env()); }

  Env env() const {
    return [this](const char* name) -> const char* {
      auto it = env_.find(name);
      return it == env_.end() ? nullptr : it->second.c_str();
    };
  }

  fs::path dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(ConfigTest, EmptyObjectGivesTheDefaults) {
  auto l = load_text("{}");
  EXPECT_THAT(l.problems, IsEmpty());
  const Config& c = l.config;
  EXPECT_EQ(c.listen_host, "127.0.0.1");
  EXPECT_EQ(c.listen_port, 8080);
  EXPECT_EQ(c.public_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c.storage.url, "sqlite:var/merchgate.db");
  EXPECT_EQ(c.data_dir, "var");
  EXPECT_EQ(c.log_format, "json");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_FALSE(c.allow_loopback);
  EXPECT_EQ(c.admin_key, "");
  EXPECT_EQ(c.body_limit, 1024u * 1024u);
}

TEST_F(ConfigTest, ReadsEveryBlock) {
  std::string cert = write("cert.pem", "-----BEGIN CERTIFICATE-----\n");
  std::string key = write("key.pem", "-----BEGIN PRIVATE KEY-----\n");
  auto l = load_text(R"({
    "$comment": "test",
    "listen": "0.0.0.0:8443",
    "tls": {"cert": ")" +
                     cert + R"(", "key": ")" + key + R"("},
    "storage": {"url": "sqlite:/srv/mg/db.sqlite", "sync": "full", "readers": 4},
    "log": {"format": "text", "level": "warn"},
    "threads": 3,
    "limits": {"header_bytes": 8192, "body_bytes": 65536, "read_timeout_ms": 500,
               "idle_timeout_ms": 1000, "drain_timeout_ms": 0},
    "jobs": {"concurrency": 4, "poll_ms": 50, "lease_ms": 5000},
    "reconciler": {"interval_ms": 1000, "stale_payment_after_ms": 2000,
                   "stale_order_after_ms": 3000},
    "outbound": {"connect_timeout_ms": 700, "total_timeout_ms": 9000},
    "seed": {"sellers": [{"id": "sel_hype", "name": "Hype"}]}
  })");
  EXPECT_THAT(l.problems, IsEmpty());
  const Config& c = l.config;
  EXPECT_EQ(c.listen_host, "0.0.0.0");
  EXPECT_EQ(c.listen_port, 8443);
  EXPECT_EQ(c.tls_cert, cert);
  EXPECT_EQ(c.tls_key, key);
  EXPECT_EQ(c.public_url, "https://localhost:8443");
  EXPECT_EQ(c.storage.url, "sqlite:/srv/mg/db.sqlite");
  EXPECT_EQ(c.storage.sync, "full");
  EXPECT_EQ(c.storage.readers, 4);
  EXPECT_EQ(c.data_dir, "/srv/mg");
  EXPECT_EQ(c.log_format, "text");
  EXPECT_EQ(c.log_level, "warn");
  EXPECT_EQ(c.threads, 3);
  EXPECT_EQ(c.header_limit, 8192u);
  EXPECT_EQ(c.body_limit, 65536u);
  EXPECT_EQ(c.read_timeout.count(), 500);
  EXPECT_EQ(c.idle_timeout.count(), 1000);
  EXPECT_EQ(c.drain_timeout.count(), 0);
  EXPECT_EQ(c.job_concurrency, 4);
  EXPECT_EQ(c.job_poll.count(), 50);
  EXPECT_EQ(c.job_lease.count(), 5000);
  EXPECT_EQ(c.reconcile_every.count(), 1000);
  EXPECT_EQ(c.stale_payment_after.count(), 2000);
  EXPECT_EQ(c.stale_order_after.count(), 3000);
  EXPECT_EQ(c.outbound_connect_timeout.count(), 700);
  EXPECT_EQ(c.outbound_total_timeout.count(), 9000);
  ASSERT_TRUE(c.seed.contains("sellers"));
}

TEST_F(ConfigTest, ExampleConfigIsValidGivenItsTlsFiles) {
  // The example names var/dev-cert.pem relative to the repository; run from a copy of it.
  std::string cert = write("dev-cert.pem", "x");
  std::string key = write("dev-key.pem", "x");
  env_["MERCHGATE_TLS_CERT"] = cert;
  env_["MERCHGATE_TLS_KEY"] = key;
  fs::path repo = fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
  auto l = load((repo / "config" / "merchgate.example.json").string(), env());
  EXPECT_THAT(l.problems, IsEmpty());
}

TEST_F(ConfigTest, MissingFileIsOneProblem) {
  auto l = load((dir_ / "absent.json").string(), env());
  ASSERT_EQ(l.problems.size(), 1u);
  EXPECT_THAT(l.problems[0], StartsWith("config: cannot read "));
}

TEST_F(ConfigTest, MalformedOrNonObjectJsonIsOneProblem) {
  auto bad = load_text("{\"listen\": ");
  ASSERT_EQ(bad.problems.size(), 1u);
  EXPECT_THAT(bad.problems[0], AllOf(StartsWith("config: "), HasSubstr("not valid JSON")));
  auto arr = load_text("[]");
  ASSERT_EQ(arr.problems.size(), 1u);
  EXPECT_THAT(arr.problems[0], HasSubstr("must hold a JSON object"));
}

TEST_F(ConfigTest, EveryProblemIsReportedNamingItsKey) {
  env_["MERCHGATE_ADMIN_KEY"] = "short";
  auto l = load_text(R"({
    "listen": "localhost:8080",
    "bogus": 1,
    "threads": 65,
    "limits": {"body_bytes": "big", "extra": true},
    "log": {"format": "xml", "level": "loud"},
    "storage": {"url": "postgresql://db/mg", "sync": "sometimes", "readers": 0},
    "tls": "on",
    "jobs": {"poll_ms": 1.5},
    "seed": {"products": [{"title": "no sku"}], "adapters": {}}
  })");
  const std::vector<std::string> keys = {
      "listen",     "bogus",        "threads",          "limits.body_bytes", "limits.extra",
      "log.format", "log.level",    "storage.url",      "storage.sync",      "storage.readers",
      "tls",        "jobs.poll_ms", "seed.products[0]", "seed.adapters",     "MERCHGATE_ADMIN_KEY"};
  for (const auto& k : keys) {
    EXPECT_THAT(l.problems, Contains(StartsWith(k + ": "))) << k;
  }
  const std::regex shape(R"(^[A-Za-z_$][A-Za-z0-9_.\[\]]*: .+$)");
  for (const auto& p : l.problems) EXPECT_TRUE(std::regex_match(p, shape)) << p;
  EXPECT_EQ(l.problems.size(), keys.size());
}

TEST_F(ConfigTest, UnknownKeysListTheKnownOnes) {
  auto l = load_text(R"({"limits": {"body": 1}})");
  ASSERT_EQ(l.problems.size(), 1u);
  EXPECT_THAT(l.problems[0],
              AllOf(StartsWith("limits.body: unknown key"), HasSubstr("body_bytes")));
}

TEST_F(ConfigTest, RangesAreEnforced) {
  auto l = load_text(R"({"limits": {"body_bytes": 2097152, "header_bytes": 100},
                         "jobs": {"concurrency": 0}})");
  EXPECT_THAT(l.problems, Contains("limits.body_bytes: must be an integer from 1024 to 1048576"));
  EXPECT_THAT(l.problems, Contains(StartsWith("limits.header_bytes: ")));
  EXPECT_THAT(l.problems, Contains(StartsWith("jobs.concurrency: ")));
  // A refused value leaves the default in place.
  EXPECT_EQ(l.config.body_limit, 1024u * 1024u);
}

TEST_F(ConfigTest, EnvironmentOverridesTheFile) {
  env_["MERCHGATE_LISTEN"] = "127.0.0.1:9999";
  env_["MERCHGATE_DB"] = "sqlite:/data/x.db";
  env_["MERCHGATE_LOG"] = "text";
  env_["MERCHGATE_LOG_LEVEL"] = "debug";
  env_["MERCHGATE_PUBLIC_URL"] = "https://pay.example.com/";
  env_["MERCHGATE_ALLOW_LOOPBACK"] = "1";
  env_["MERCHGATE_ADMIN_KEY"] = "mgk_admin_000000000000000000";
  env_["MERCHGATE_API_KEY"] = "mgk_app_00000000000000000000";
  env_["MERCHGATE_MASTER_KEY"] = kMasterKey;
  auto l = load_text(R"({"listen": "127.0.0.1:8000", "storage": {"url": "sqlite:file.db"},
                         "log": {"format": "json", "level": "error"}})");
  EXPECT_THAT(l.problems, IsEmpty());
  const Config& c = l.config;
  EXPECT_EQ(c.listen_port, 9999);
  EXPECT_EQ(c.storage.url, "sqlite:/data/x.db");
  EXPECT_EQ(c.data_dir, "/data");
  EXPECT_EQ(c.log_format, "text");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.public_url, "https://pay.example.com");
  EXPECT_TRUE(c.allow_loopback);
  EXPECT_EQ(c.admin_key, "mgk_admin_000000000000000000");
  EXPECT_EQ(c.api_key, "mgk_app_00000000000000000000");
  EXPECT_EQ(c.master_key, kMasterKey);
}

TEST_F(ConfigTest, LoopbackNeedsExactlyOne) {
  env_["MERCHGATE_ALLOW_LOOPBACK"] = "true";
  EXPECT_FALSE(load_text("{}").config.allow_loopback);
  env_["MERCHGATE_ALLOW_LOOPBACK"] = "0";
  EXPECT_FALSE(load_text("{}").config.allow_loopback);
}

TEST_F(ConfigTest, BadListenFromTheEnvironmentNamesTheVariable) {
  env_["MERCHGATE_LISTEN"] = "example.com:80";
  auto l = load_text("{}");
  ASSERT_EQ(l.problems.size(), 1u);
  EXPECT_THAT(l.problems[0], StartsWith("MERCHGATE_LISTEN: "));
}

TEST_F(ConfigTest, KeysShorterThan24CharactersAreRefused) {
  env_["MERCHGATE_ADMIN_KEY"] = std::string(23, 'a');
  env_["MERCHGATE_API_KEY"] = std::string(23, 'b');
  auto l = load_text("{}");
  EXPECT_THAT(l.problems,
              ElementsAre(StartsWith("MERCHGATE_ADMIN_KEY: "), StartsWith("MERCHGATE_API_KEY: ")));
  env_["MERCHGATE_ADMIN_KEY"] = std::string(24, 'a');
  env_["MERCHGATE_API_KEY"] = std::string(24, 'b');
  EXPECT_THAT(load_text("{}").problems, IsEmpty());
}

TEST_F(ConfigTest, MasterKeyMustBeThirtyTwoBytesOfBase64) {
  for (std::string bad :
       {"a2V5", "not base64 at all!", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZQ=="}) {
    env_["MERCHGATE_MASTER_KEY"] = bad;
    auto l = load_text("{}");
    EXPECT_THAT(l.problems, ElementsAre(StartsWith("MERCHGATE_MASTER_KEY: "))) << bad;
    // The problem line never echoes the secret.
    EXPECT_THAT(l.problems, Each(Not(HasSubstr(bad)))) << bad;
  }
  env_["MERCHGATE_MASTER_KEY"] = kMasterKey;
  EXPECT_THAT(load_text("{}").problems, IsEmpty());
}

TEST_F(ConfigTest, TlsNeedsBothFiles) {
  std::string cert = write("cert.pem", "x");
  env_["MERCHGATE_TLS_CERT"] = cert;
  auto l = load_text("{}");
  EXPECT_THAT(l.problems, ElementsAre(StartsWith("tls.key: set both")));
}

TEST_F(ConfigTest, TlsFilesMustBeReadable) {
  auto l = load_text(R"({"tls": {"cert": ")" + (dir_ / "nope.pem").string() + R"(", "key": ")" +
                     (dir_ / "nokey.pem").string() + R"("}})");
  EXPECT_THAT(l.problems,
              ElementsAre(StartsWith("tls.cert: cannot read"), StartsWith("tls.key: cannot read")));
}

TEST_F(ConfigTest, ADirectoryIsNotAReadableTlsFile) {
  std::string key = write("key.pem", "x");
  auto l = load_text(R"({"tls": {"cert": ")" + dir_.string() + R"(", "key": ")" + key + R"("}})");
  EXPECT_THAT(l.problems, ElementsAre(StartsWith("tls.cert: ")));
}

TEST_F(ConfigTest, OutboundCaFileMustBeReadable) {
  auto l = load_text(R"({"outbound": {"ca_file": "/nonexistent/ca.pem"}})");
  EXPECT_THAT(l.problems, ElementsAre(StartsWith("outbound.ca_file: cannot read")));
}

TEST_F(ConfigTest, PublicUrlDefaultsFromListen) {
  env_["MERCHGATE_LISTEN"] = "[::1]:9000";
  EXPECT_EQ(load_text("{}").config.public_url, "http://[::1]:9000");
  env_["MERCHGATE_LISTEN"] = "[::]:9000";
  EXPECT_EQ(load_text("{}").config.public_url, "http://localhost:9000");
  env_.erase("MERCHGATE_LISTEN");
  EXPECT_EQ(load_text(R"({"public_url": "https://x.example//"})").config.public_url,
            "https://x.example");
}

TEST_F(ConfigTest, DataDirOfARelativeDatabaseIsTheCurrentDirectory) {
  env_["MERCHGATE_DB"] = "sqlite:merchgate.db";
  EXPECT_EQ(load_text("{}").config.data_dir, ".");
  EXPECT_EQ(load_text(R"({"data_dir": "/srv/ledgers"})").config.data_dir, "/srv/ledgers");
}

TEST_F(ConfigTest, EmptySqlitePathIsRefused) {
  env_["MERCHGATE_DB"] = "sqlite:";
  EXPECT_THAT(load_text("{}").problems, ElementsAre(StartsWith("storage.url: ")));
}

TEST(ParseListen, NeedsAnIpLiteralAndAPort) {
  std::string host;
  std::uint16_t port = 0;
  ASSERT_TRUE(parse_listen("127.0.0.1:8443", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 8443);
  ASSERT_TRUE(parse_listen("[::1]:0", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(parse_listen("0.0.0.0:65535", host, port));
  EXPECT_EQ(port, 65535);
  for (std::string_view bad :
       {"localhost:8080", "127.0.0.1", "127.0.0.1:", ":8080", "127.0.0.1:65536", "127.0.0.1:80a",
        "127.0.0.1:-1", "127.0.0.1:123456", "256.0.0.1:80", "[::1]", ""}) {
    host = "unchanged";
    port = 7;
    EXPECT_FALSE(parse_listen(bad, host, port)) << bad;
    EXPECT_EQ(host, "unchanged") << bad;
    EXPECT_EQ(port, 7) << bad;
  }
}

}  // namespace
}  // namespace mg::config

namespace mg::config {
namespace {

class RateLimitConfig : public ConfigTest {};

TEST_F(RateLimitConfig, DefaultsCanBeChangedOrTurnedOff) {
  auto defaults = load_text("{}");
  EXPECT_EQ(defaults.config.rate_limit_per_second, 1000);
  EXPECT_EQ(defaults.config.rate_limit_burst, 2000);
  auto set = load_text(R"({"rate_limit": {"per_second": 5, "burst": 10}})");
  EXPECT_THAT(set.problems, IsEmpty());
  EXPECT_EQ(set.config.rate_limit_per_second, 5);
  EXPECT_EQ(set.config.rate_limit_burst, 10);
  auto off = load_text(R"({"rate_limit": {"per_second": 0}})");
  EXPECT_THAT(off.problems, IsEmpty());
  EXPECT_EQ(off.config.rate_limit_per_second, 0);
}

TEST_F(RateLimitConfig, BadValuesNameTheKey) {
  auto l = load_text(R"({"rate_limit": {"per_second": -1, "burst": 0, "window": 3}})");
  EXPECT_THAT(l.problems, Contains(StartsWith("rate_limit.per_second:")));
  EXPECT_THAT(l.problems, Contains(StartsWith("rate_limit.burst:")));
  EXPECT_THAT(l.problems, Contains(StartsWith("rate_limit.window: unknown key")));
}

}  // namespace
}  // namespace mg::config
