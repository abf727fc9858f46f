// merchgatectl against the real merchgate binary: tables, --json, exit codes (0 ok, 1 refused,
// 2 usage, 3 unreachable), error messages with the API's param, HTTPS with a CA file.
#include "tests/support/gateway_process.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

#ifndef MERCHGATE_CTL_BINARY
#error "MERCHGATE_CTL_BINARY must name the merchgatectl executable"
#endif

namespace mg::testing {
namespace {
namespace bj = boost::json;

struct CtlResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Shell-quotes one argument.
std::string q(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class Ctl : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    gw_ = new GatewayProcess(dir_->path());
    gw_->start();
  }
  static void TearDownTestSuite() {
    delete gw_;
    delete dir_;
    gw_ = nullptr;
    dir_ = nullptr;
  }

  static std::string url() { return "http://127.0.0.1:" + std::to_string(gw_->port()); }

  // Runs merchgatectl with MERCHGATE_URL and MERCHGATE_ADMIN_KEY set (unless `env` overrides
  // them), `input` on stdin.
  static CtlResult ctl(const std::string& args, const std::string& env = "",
                       const std::string& input = "") {
    std::string in = dir_->path() + "/ctl-stdin", err = dir_->path() + "/ctl-stderr";
    std::ofstream(in) << input;
    std::string cmd = "env -i PATH=/usr/bin:/bin MERCHGATE_URL=" + q(url()) +
                      " MERCHGATE_ADMIN_KEY=" + q(kAdminKey) + " " + env +
                      " " MERCHGATE_CTL_BINARY " " + args + " <" + in + " 2>" + err;
    CtlResult r;
    FILE* p = popen(cmd.c_str(), "r");
    std::array<char, 4096> buf{};
    while (p && fgets(buf.data(), buf.size(), p)) r.out += buf.data();
    int status = p ? pclose(p) : -1;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = slurp(err);
    return r;
  }

  static bj::value json_of(const CtlResult& r) {
    boost::system::error_code ec;
    bj::value v = bj::parse(r.out, ec);
    EXPECT_FALSE(ec) << "not JSON:\n" << r.out << r.err;
    return v;
  }

  static TempDir* dir_;
  static GatewayProcess* gw_;
};

TempDir* Ctl::dir_ = nullptr;
GatewayProcess* Ctl::gw_ = nullptr;

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST_F(Ctl, AdaptersListIsATableWithHealth) {
  CtlResult r = ctl("adapters list");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "ID")) << r.out;
  EXPECT_TRUE(has(r.out, "BREAKER")) << r.out;
  EXPECT_TRUE(has(r.out, "sandbox-pay")) << r.out;
  EXPECT_TRUE(has(r.out, "sandbox_fulfillment")) << r.out;
  EXPECT_TRUE(has(r.out, "closed")) << r.out;
}

TEST_F(Ctl, JsonFlagPrintsTheApiList) {
  CtlResult r = ctl("--json adapters list --limit 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  bj::value doc = json_of(r);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc.at("data").as_array().size(), 2u);
  EXPECT_TRUE(doc.at("has_more").as_bool());
  // --all follows has_more; the flag also works after the command.
  CtlResult all = ctl("adapters list --limit 1 --all --json");
  ASSERT_EQ(all.exit_code, 0) << all.err;
  bj::value every = json_of(all);
  EXPECT_EQ(every.at("data").as_array().size(), 3u);
  EXPECT_FALSE(every.at("has_more").as_bool());
}

TEST_F(Ctl, AdaptersPutWithFlagsCreatesThenChangesOneField) {
  CtlResult made =
      ctl("adapters put stripe-ctl --type stripe --credential secret_key=sk_test_ctl_4242424242 "
          "--credential webhook_secret=whsec_Y3RsLXRlc3Qtc2VjcmV0 --setting capture_method=manual "
          "--setting webhook_tolerance_s=60 --enabled");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_TRUE(has(made.err, "adapter stripe-ctl created")) << made.err;

  CtlResult disabled = ctl("adapters put stripe-ctl --disabled");
  ASSERT_EQ(disabled.exit_code, 0) << disabled.err;
  EXPECT_TRUE(has(disabled.err, "updated")) << disabled.err;

  CtlResult got = ctl("--json adapters get stripe-ctl");
  ASSERT_EQ(got.exit_code, 0) << got.err;
  bj::value doc = json_of(got);
  EXPECT_EQ(doc.at("type").as_string(), "stripe");
  EXPECT_FALSE(doc.at("enabled").as_bool());
  EXPECT_EQ(doc.at("settings").at("capture_method").as_string(), "manual");
  EXPECT_EQ(doc.at("settings").at("webhook_tolerance_s").as_int64(), 60);  // typed, not "60"
  // Kept from the first put (omitted credentials stay), and shown redacted.
  EXPECT_FALSE(doc.at("credentials").as_object().empty());
  EXPECT_FALSE(has(got.out, "sk_test_ctl_4242424242")) << got.out;

  CtlResult deleted = ctl("adapters delete stripe-ctl");
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_TRUE(has(deleted.out, "deleted"));
}

TEST_F(Ctl, AdaptersPutTakesAJsonBodyOnStdin) {
  CtlResult r = ctl("adapters put pay-2 --file -", "",
                    R"({"type": "sandbox_payments", "credentials": {"webhook_secret":
                        "whsec_cGF5LTItc2FuZGJveC13ZWJob29rLXNlY3JldC0xMjM="}, "settings": {}})");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "sandbox_payments")) << r.out;
  EXPECT_EQ(ctl("adapters delete pay-2").exit_code, 0);
}

TEST_F(Ctl, AdaptersTestReportsThatTheCredentialsWork) {
  CtlResult r = ctl("adapters test sandbox-pay");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "ok  sandbox-pay")) << r.out;
  CtlResult j = ctl("--json adapters test sandbox-merch");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_TRUE(json_of(j).at("ok").as_bool());
}

TEST_F(Ctl, UnknownAdapterExits1WithTheApiMessage) {
  CtlResult r = ctl("adapters get no-such-adapter");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(has(r.err, "no adapter 'no-such-adapter'")) << r.err;
  EXPECT_TRUE(has(r.err, "404")) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  // Under --json the API's error body goes to stdout for scripts.
  CtlResult j = ctl("--json adapters test no-such-adapter");
  EXPECT_EQ(j.exit_code, 1);
  EXPECT_EQ(json_of(j).at("error").at("type").as_string(), "not_found");
}

TEST_F(Ctl, ValidationErrorNamesTheParam) {
  CtlResult r =
      ctl("adapters put stripe-bad --type stripe --credential secret_key=not-a-key "
          "--credential webhook_secret=whsec_Y3RsLXRlc3Qtc2VjcmV0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(has(r.err, "param: credentials.secret_key")) << r.err;
}

TEST_F(Ctl, WrongKeyExits1) {
  CtlResult r = ctl("adapters list", "MERCHGATE_ADMIN_KEY=mgk_wrong_0123456789abcdef0123456789");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(has(r.err, "401")) << r.err;
  // An app key is a key, but not an admin key.
  CtlResult app = ctl("--admin-key " + q(kAppKey) + " adapters list");
  EXPECT_EQ(app.exit_code, 1);
  EXPECT_TRUE(has(app.err, "403")) << app.err;
}

TEST_F(Ctl, UnreachableGatewayExits3) {
  CtlResult r = ctl("--timeout 5 adapters list", "MERCHGATE_URL=http://127.0.0.1:1");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(has(r.err, "cannot reach http://127.0.0.1:1")) << r.err;
}

TEST_F(Ctl, UsageErrorsExit2) {
  EXPECT_EQ(ctl("adapters frobnicate").exit_code, 2);
  EXPECT_EQ(ctl("").exit_code, 2);
  EXPECT_EQ(ctl("adapters put x --setting novalue --type stripe").exit_code, 2);
  CtlResult no_key = ctl("adapters list", "MERCHGATE_ADMIN_KEY=");
  EXPECT_EQ(no_key.exit_code, 2);
  EXPECT_TRUE(has(no_key.err, "MERCHGATE_ADMIN_KEY")) << no_key.err;
  CtlResult missing = ctl("adapters put never-made --disabled");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(has(missing.err, "--type")) << missing.err;
  CtlResult bad_json = ctl("routing set --file -", "", "{not json");
  EXPECT_EQ(bad_json.exit_code, 2);
  EXPECT_EQ(ctl("--help").exit_code, 0);
}

TEST_F(Ctl, SellersAndProductsRoundTrip) {
  ASSERT_EQ(ctl("sellers put sel_ctl --name 'Ctl shop' --fee-bps 250 --payout sandbox-pay=acct_ctl")
                .exit_code,
            0);
  CtlResult sellers = ctl("sellers list");
  EXPECT_TRUE(has(sellers.out, "Ctl shop")) << sellers.out;
  ASSERT_EQ(ctl("products put ctl-tee --seller sel_ctl --title 'Ctl tee' --amount 1999 --currency "
                "EUR --fulfillment sandbox-merch")
                .exit_code,
            0);
  CtlResult list = ctl("products list --seller sel_ctl");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(has(list.out, "ctl-tee")) << list.out;
  EXPECT_TRUE(has(list.out, "19.99 EUR")) << list.out;

  // Flags alone change the stored product.
  ASSERT_EQ(ctl("products put ctl-tee --amount 2099").exit_code, 0);
  bj::value p = json_of(ctl("--json products get ctl-tee"));
  EXPECT_EQ(p.at("unit_amount").as_int64(), 2099);
  EXPECT_EQ(p.at("title").as_string(), "Ctl tee");
  EXPECT_EQ(p.at("fulfillment").at("adapter").as_string(), "sandbox-merch");

  CtlResult bad =
      ctl("products put ctl-bad --seller sel_ctl --title X --amount 100 --currency eur");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(has(bad.err, "param: currency")) << bad.err;

  EXPECT_EQ(ctl("products delete ctl-tee").exit_code, 0);
  EXPECT_EQ(ctl("products get ctl-tee").exit_code, 1);
}

TEST_F(Ctl, RoutingSetFromStdinThenGet) {
  CtlResult set = ctl("routing set --file -", "",
                      R"({"rules": [{"match": {"currency": ["EUR"]}, "processors": ["sandbox-pay"]},
                                    {"match": {}, "processors": ["sandbox-pay"]}]})");
  ASSERT_EQ(set.exit_code, 0) << set.err;
  CtlResult get = ctl("routing get");
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_TRUE(has(get.out, "currency=EUR")) << get.out;
  EXPECT_TRUE(has(get.out, "(everything)")) << get.out;
  CtlResult bad =
      ctl("routing set --file -", "", R"({"rules": [{"match": {}, "processors": ["nope"]}]})");
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
}

TEST_F(Ctl, CheckoutsAndTheirTimeline) {
  auto created =
      gw_->app("POST", "/v1/checkouts",
               GatewayFixture::checkout_body({{"tee", 1}}, "pm_sandbox_ok"), "ctl-chk-1");
  ASSERT_TRUE(created && created->status == 201) << (created ? created->body : "down");
  bj::value doc = created->json();
  std::string id(doc.at("id").as_string());
  ASSERT_TRUE(eventually(
      [&] {
        auto r = gw_->app("GET", "/v1/checkouts/" + id);
        return r && has(r->body, "\"status\":\"fulfilled\"");
      },
      std::chrono::seconds(20)));

  CtlResult list = ctl("checkouts list --limit 5");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(has(list.out, id)) << list.out;
  EXPECT_TRUE(has(list.out, "fulfilled")) << list.out;
  EXPECT_EQ(json_of(ctl("--json checkouts get " + id)).at("status").as_string(), "fulfilled");

  CtlResult timeline = ctl("checkouts events " + id);
  ASSERT_EQ(timeline.exit_code, 0) << timeline.err;
  for (const char* part :
       {"checkout.created", "checkout.paid", "PARTNER CALLS", "payment.create"}) {
    EXPECT_TRUE(has(timeline.out, part)) << part << " missing in\n" << timeline.out;
  }
  CtlResult events = ctl("--json events list --checkout " + id + " --type checkout.paid");
  ASSERT_EQ(events.exit_code, 0) << events.err;
  EXPECT_EQ(json_of(events).at("data").as_array().size(), 1u);
}

TEST_F(Ctl, EndpointsCreateAttemptsRedeliverDelete) {
  CtlResult made =
      ctl("--json endpoints create --url http://127.0.0.1:9/hook --events checkout.paid");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  bj::value ep = json_of(made);
  std::string id(ep.at("id").as_string());
  EXPECT_TRUE(ep.at("secret").as_string().starts_with("whsec_"));

  CtlResult list = ctl("endpoints list");
  EXPECT_TRUE(has(list.out, id)) << list.out;
  EXPECT_EQ(ctl("endpoints update " + id + " --disabled").exit_code, 0);
  EXPECT_FALSE(json_of(ctl("--json endpoints get " + id)).at("enabled").as_bool());
  EXPECT_EQ(ctl("endpoints attempts " + id).exit_code, 0);

  CtlResult events = ctl("--json events list --type checkout.created --limit 1");
  ASSERT_EQ(events.exit_code, 0) << events.err;
  bj::value page = json_of(events);
  if (!page.at("data").as_array().empty()) {
    std::string evt(page.at("data").at(0).at("id").as_string());
    CtlResult again = ctl("events redeliver " + evt);
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_TRUE(has(again.out, "deliveries queued")) << again.out;
  }
  EXPECT_EQ(ctl("events redeliver evt_nope").exit_code, 1);
  EXPECT_EQ(ctl("endpoints delete " + id).exit_code, 0);
  EXPECT_EQ(ctl("endpoints get " + id).exit_code, 1);
}

TEST_F(Ctl, KeysCreateListRevoke) {
  CtlResult made = ctl("--json keys create --name ctl-test --role app");
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  bj::value key = json_of(made);
  std::string id(key.at("id").as_string());
  std::string secret(key.at("key").as_string());
  EXPECT_FALSE(secret.empty());

  CtlResult list = ctl("keys list");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(has(list.out, id)) << list.out;
  EXPECT_FALSE(has(list.out, secret)) << "the key is shown once only";

  // The new app key works for the checkout API, not for the admin API.
  auto ok = gw_->request("GET", "/v1/checkouts", "", {{"authorization", "Bearer " + secret}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ctl("adapters list", "MERCHGATE_ADMIN_KEY=" + q(secret)).exit_code, 1);

  EXPECT_EQ(ctl("keys revoke " + id).exit_code, 0);
  auto refused = gw_->request("GET", "/v1/checkouts", "", {{"authorization", "Bearer " + secret}});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
}

// HTTPS: the CA file makes verification pass; without it the error says what to do.
TEST(CtlTls, VerifiesTheGatewayWithACaFile) {
  TempDir dir;
  std::string cert = dir.path() + "/cert.pem", key = dir.path() + "/key.pem";
  std::string gen = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key + " -out " + cert +
                    " -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
                    ">/dev/null 2>&1";
  ASSERT_EQ(std::system(gen.c_str()), 0);
  GatewayProcess gw(dir.path());
  gw.start({{"MERCHGATE_TLS_CERT", cert}, {"MERCHGATE_TLS_KEY", key}});
  std::string base =
      "env -i PATH=/usr/bin:/bin MERCHGATE_URL=https://127.0.0.1:" + std::to_string(gw.port()) +
      " MERCHGATE_ADMIN_KEY=" + kAdminKey + " ";
  auto run = [&](const std::string& args) {
    std::string cmd = base + args + " 2>&1";
    CtlResult r;
    FILE* p = popen(cmd.c_str(), "r");
    std::array<char, 4096> buf{};
    while (p && fgets(buf.data(), buf.size(), p)) r.out += buf.data();
    int status = p ? pclose(p) : -1;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  };
  CtlResult verified = run(MERCHGATE_CTL_BINARY " --cacert " + cert + " adapters list");
  EXPECT_EQ(verified.exit_code, 0) << verified.out;
  EXPECT_TRUE(has(verified.out, "sandbox-pay")) << verified.out;
  CtlResult by_env = run("MERCHGATE_CACERT=" + cert + " " MERCHGATE_CTL_BINARY " adapters list");
  EXPECT_EQ(by_env.exit_code, 0) << by_env.out;

  CtlResult unverified = run(MERCHGATE_CTL_BINARY " adapters list");
  EXPECT_EQ(unverified.exit_code, 3);
  EXPECT_TRUE(has(unverified.out, "--cacert")) << unverified.out;
  EXPECT_EQ(run(MERCHGATE_CTL_BINARY " --insecure adapters list").exit_code, 0);
}

}  // namespace
}  // namespace mg::testing
