// sandbox_payments built through the registry, on a manual clock: its ledger, the three method
// tokens, the hosted payment page, cancel and refund rules, and the signed webhooks its outbox
// sends through the loopback.
#include "tests/integration/adapters/sandbox_harness.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <set>

namespace mg::testing {
namespace {

using adapters::adapter_errc;
using adapters::PaymentAdapter;
using core::PaymentStatus;

constexpr std::int64_t kSucceedAfter = 1000;
constexpr std::int64_t kDeclineAfter = 300;
constexpr std::int64_t kRefundAfter = 500;

class SandboxPayments : public ::testing::Test {
 protected:
  SandboxPayments() { pay_ = h_.must_create<PaymentAdapter>(config("sandbox-pay", secret_)); }

  static adapters::AdapterConfig config(std::string id, std::string secret) {
    return sandbox_config(std::move(id), "sandbox_payments", std::move(secret),
                          boost::json::object{{"succeed_after_ms", kSucceedAfter},
                                              {"decline_after_ms", kDeclineAfter},
                                              {"refund_after_ms", kRefundAfter}});
  }

  static adapters::PaymentRequest request(const std::string& key, std::string method,
                                          std::int64_t amount = 2599) {
    adapters::PaymentRequest r;
    r.ctx.checkout_id = "chk_" + key;
    r.ctx.idempotency_key = key;
    r.amount = amount;
    r.currency = "EUR";
    r.method = std::move(method);
    r.return_url = std::string(kPublicUrl) + "/shop/return";
    r.buyer_email = "a@example.com";
    return r;
  }

  adapters::AResult<core::PaymentFact> create(const adapters::PaymentRequest& r) {
    return h_.run(pay_->create_payment(r));
  }
  core::PaymentFact must_create(const std::string& key, std::string method,
                                std::int64_t amount = 2599) {
    auto r = request(key, std::move(method), amount);
    auto fact = create(r);
    if (!fact) throw std::runtime_error("create_payment: " + fact.error().message);
    return *fact;
  }
  adapters::AResult<core::PaymentFact> get(const std::string& reference) {
    adapters::PaymentRef ref;
    ref.reference = reference;
    return h_.run(pay_->get_payment(ref));
  }
  adapters::AResult<core::PaymentFact> cancel(const std::string& reference) {
    adapters::PaymentRef ref;
    ref.reference = reference;
    return h_.run(pay_->cancel_payment(ref));
  }
  adapters::AResult<adapters::RefundCreated> refund(const std::string& payment,
                                                    const std::string& key, std::int64_t amount) {
    adapters::RefundRequest r;
    r.ctx.checkout_id = "chk_refund";
    r.ctx.idempotency_key = key;
    r.refund_id = "rfd_" + key;
    r.payment_reference = payment;
    r.amount = amount;
    r.currency = "EUR";
    return h_.run(pay_->refund(r));
  }
  adapters::AResult<adapters::WebhookResult> verify(const adapters::WebhookRequest& w) {
    return h_.run(pay_->verify_webhook(w));
  }
  std::int64_t ledger_count(const std::string& sql) {
    RawDb raw(h_.ledger_path("sandbox-pay"));
    return raw.count(sql);
  }
  // Delivery attempts of the unsent webhook about `subject` (-1: none unsent).
  std::int64_t unsent_attempts(const std::string& subject) {
    return ledger_count("SELECT COALESCE(MAX(attempts), -1) FROM outbox WHERE subject = '" +
                        subject + "' AND sent_at IS NULL");
  }
  // The first webhook of this type, once the loopback has it.
  http::Request wait_for_webhook(std::string_view type) {
    EXPECT_TRUE(SandboxHarness::eventually([&] { return !h_.loopback().of_type(type).empty(); }))
        << "no " << type << " webhook reached the loopback";
    auto found = h_.loopback().of_type(type);
    if (found.empty()) throw std::runtime_error("no webhook " + std::string(type));
    return found.front();
  }
  void expect_signed_by_configured_secret(const http::Request& r) {
    auto key = webhooks::secret_key(secret_);
    ASSERT_TRUE(key);
    auto ok = webhooks::verify({*key}, r.header("webhook-id"), r.header("webhook-timestamp"),
                               r.header("webhook-signature"), r.body, h_.clock().now() / 1000);
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().message);
  }

  std::string secret_ = webhooks::generate_secret();
  SandboxHarness h_;
  std::shared_ptr<PaymentAdapter> pay_;
};

TEST_F(SandboxPayments, CreatePaymentIsIdempotentOnTheKeyWithOneLedgerRow) {
  auto first = must_create("idem-1", "pm_sandbox_ok");
  EXPECT_TRUE(first.reference.starts_with("sbp_")) << first.reference;
  auto again = must_create("idem-1", "pm_sandbox_ok");
  EXPECT_EQ(again.reference, first.reference);

  // Concurrent retries with one key still make one payment.
  auto req = request("idem-2", "pm_sandbox_ok");
  std::vector<std::future<adapters::AResult<core::PaymentFact>>> futures;
  for (int i = 0; i < 8; ++i) {
    futures.push_back(
        boost::asio::co_spawn(h_.io(), pay_->create_payment(req), boost::asio::use_future));
  }
  std::set<std::string> refs;
  for (auto& f : futures) {
    auto fact = get_bounded(f, "a concurrent create_payment");
    ASSERT_TRUE(fact) << fact.error().message;
    refs.insert(fact->reference);
  }
  EXPECT_EQ(refs.size(), 1u);
  EXPECT_NE(*refs.begin(), first.reference);

  EXPECT_EQ(ledger_count("SELECT COUNT(*) FROM payments"), 2);
  EXPECT_EQ(ledger_count("SELECT COUNT(*) FROM payments WHERE idempotency_key = 'idem-1'"), 1);
  EXPECT_EQ(ledger_count("SELECT COUNT(*) FROM payments WHERE id = '" + first.reference +
                         "' AND checkout_id = 'chk_idem-1' AND amount = 2599"),
            1);
}

TEST_F(SandboxPayments, OkIsProcessingThenSucceedsAndASignedWebhookReachesTheGateway) {
  auto created = must_create("ok-1", "pm_sandbox_ok");
  EXPECT_EQ(created.status, PaymentStatus::processing);
  EXPECT_FALSE(created.client_action);

  h_.clock().advance(kSucceedAfter - 1);
  auto early = get(created.reference);
  ASSERT_TRUE(early) << early.error().message;
  EXPECT_EQ(early->status, PaymentStatus::processing);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // three outbox polls
  EXPECT_EQ(h_.loopback().count(), 0u) << "nothing is announced before it happens";

  h_.clock().advance(1);
  auto settled = get(created.reference);
  ASSERT_TRUE(settled) << settled.error().message;
  EXPECT_EQ(settled->status, PaymentStatus::succeeded);
  EXPECT_EQ(settled->reference, created.reference);

  auto hook = wait_for_webhook("payment.succeeded");
  EXPECT_EQ(hook.method, "POST");
  EXPECT_EQ(hook.path, "/v1/webhooks/sandbox-pay");
  EXPECT_EQ(hook.header("content-type"), "application/json");
  expect_signed_by_configured_secret(hook);
  auto body = body_of(hook);
  EXPECT_EQ(body.at("id").as_string(), hook.header("webhook-id"));
  const auto& payment = body.at("data").at("payment").as_object();
  EXPECT_EQ(payment.at("id").as_string(), created.reference);
  EXPECT_EQ(payment.at("checkout").as_string(), "chk_ok-1");
  EXPECT_EQ(payment.at("status").as_string(), "succeeded");
  EXPECT_EQ(payment.at("amount").as_int64(), 2599);

  auto normalized = verify(to_webhook(hook, h_.clock().now()));
  ASSERT_TRUE(normalized) << normalized.error().message;
  ASSERT_EQ(normalized->events.size(), 1u);
  const auto& e = normalized->events[0];
  EXPECT_EQ(e.kind, adapters::InboundEvent::Kind::payment);
  EXPECT_EQ(e.partner_event_id, hook.header("webhook-id"));
  EXPECT_EQ(e.checkout_id, "chk_ok-1");
  EXPECT_EQ(e.payment_reference, created.reference);
  ASSERT_TRUE(e.payment);
  EXPECT_EQ(e.payment->status, PaymentStatus::succeeded);
}

TEST_F(SandboxPayments, DeclineFailsAfterItsDelayWithAWebhook) {
  auto created = must_create("decline-1", "pm_sandbox_decline");
  EXPECT_EQ(created.status, PaymentStatus::processing);
  h_.clock().advance(kDeclineAfter);
  auto failed = get(created.reference);
  ASSERT_TRUE(failed) << failed.error().message;
  EXPECT_EQ(failed->status, PaymentStatus::failed);
  EXPECT_EQ(failed->failure_code, "card_declined");
  EXPECT_FALSE(failed->failure_message.empty());

  auto hook = wait_for_webhook("payment.failed");
  expect_signed_by_configured_secret(hook);
  auto normalized = verify(to_webhook(hook, h_.clock().now()));
  ASSERT_TRUE(normalized) << normalized.error().message;
  ASSERT_EQ(normalized->events.size(), 1u);
  ASSERT_TRUE(normalized->events[0].payment);
  EXPECT_EQ(normalized->events[0].payment->status, PaymentStatus::failed);
  EXPECT_EQ(normalized->events[0].payment->failure_code, "card_declined");
  EXPECT_EQ(normalized->events[0].payment_reference, created.reference);
  EXPECT_TRUE(h_.loopback().of_type("payment.succeeded").empty());
}

// The GET a browser makes when it opens `url` on the gateway: /hosted/{adapter_id}/{subpath}.
struct HostedGet {
  http::Request request;
  std::string subpath;
};

HostedGet hosted_get(const std::string& url) {
  HostedGet out;
  EXPECT_TRUE(url.starts_with(kPublicUrl)) << url;
  std::string target = url.substr(kPublicUrl.size());
  out.request.method = "GET";
  out.request.target = target;
  out.request.remote_address = "127.0.0.1:50000";
  EXPECT_TRUE(http::parse_target(target, out.request.path, out.request.query)) << target;
  std::string prefix = "/hosted/sandbox-pay/";
  EXPECT_TRUE(out.request.path.starts_with(prefix)) << out.request.path;
  out.subpath = out.request.path.substr(std::min(prefix.size(), out.request.path.size()));
  return out;
}

TEST_F(SandboxPayments, ActionAndNoMethodNeedARedirectWhoseHostedPageCompletesThePayment) {
  for (std::string method : {"pm_sandbox_action", ""}) {
    SCOPED_TRACE("method '" + method + "'");
    std::string key = "action-" + std::to_string(method.size());
    auto created = must_create(key, method);
    EXPECT_EQ(created.status, PaymentStatus::requires_action);
    ASSERT_TRUE(created.client_action);
    EXPECT_EQ(created.client_action->type, "redirect");
    std::string url = created.client_action->value;
    EXPECT_TRUE(url.starts_with(std::string(kPublicUrl) + "/hosted/sandbox-pay/pay/" +
                                created.reference + "?token="))
        << url;

    // Nothing settles on its own: it waits for the buyer.
    h_.clock().advance(60'000);
    EXPECT_EQ(get(created.reference).value().status, PaymentStatus::requires_action);

    auto page = hosted_get(url);
    auto opened = h_.run(pay_->hosted_page(page.request, page.subpath));
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->status, 200);
    EXPECT_NE(opened->body.find("Payment approved"), std::string::npos) << opened->body;
    auto done = get(created.reference);
    ASSERT_TRUE(done);
    EXPECT_EQ(done->status, PaymentStatus::succeeded);
    EXPECT_FALSE(done->client_action);

    auto second = h_.run(pay_->hosted_page(page.request, page.subpath));
    ASSERT_TRUE(second);
    EXPECT_EQ(second->status, 200);
    EXPECT_NE(second->body.find("Payment approved"), std::string::npos);
    EXPECT_EQ(ledger_count("SELECT COUNT(*) FROM outbox WHERE subject = '" + created.reference +
                           "' AND type = 'payment.succeeded'"),
              1)
        << "a second open announces nothing new";
  }
  auto hooks = [&] { return h_.loopback().of_type("payment.succeeded").size(); };
  EXPECT_TRUE(SandboxHarness::eventually([&] { return hooks() == 2; }));
  for (const auto& hook : h_.loopback().of_type("payment.succeeded")) {
    expect_signed_by_configured_secret(hook);
  }
}

TEST_F(SandboxPayments, TheHostedPageRefusesWrongTokensAndOtherRequests) {
  auto created = must_create("action-x", "pm_sandbox_action");
  auto other = must_create("action-y", "pm_sandbox_action");
  auto page = hosted_get(created.client_action->value);
  auto other_page = hosted_get(other.client_action->value);

  auto wrong = page;
  wrong.request.query = {{"token", "0123456789abcdef0123456789abcdef"}};
  auto r1 = h_.run(pay_->hosted_page(wrong.request, wrong.subpath));
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->status, 404);

  auto swapped = page;
  swapped.request.query = other_page.request.query;  // a valid token, for another payment
  auto r2 = h_.run(pay_->hosted_page(swapped.request, swapped.subpath));
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 404);

  auto bare = page;
  bare.request.query.clear();
  auto r3 = h_.run(pay_->hosted_page(bare.request, bare.subpath));
  ASSERT_TRUE(r3);
  EXPECT_EQ(r3->status, 404);

  auto post = page;
  post.request.method = "POST";
  EXPECT_FALSE(h_.run(pay_->hosted_page(post.request, post.subpath)));
  EXPECT_FALSE(h_.run(pay_->hosted_page(page.request, "elsewhere")));

  EXPECT_EQ(get(created.reference).value().status, PaymentStatus::requires_action);

  // A canceled payment's page completes nothing.
  ASSERT_TRUE(cancel(created.reference));
  auto late = h_.run(pay_->hosted_page(page.request, page.subpath));
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 409);
  EXPECT_EQ(get(created.reference).value().status, PaymentStatus::canceled);
}

TEST_F(SandboxPayments, ValidateAcceptsOnlyTheSandboxTokens) {
  for (std::string method : {"pm_sandbox_ok", "pm_sandbox_decline", "pm_sandbox_action", ""}) {
    EXPECT_TRUE(pay_->validate(request("v", method))) << method;
  }
  for (std::string method : {"pm_card_visa", "pm_sandbox_OK", "tok_123"}) {
    auto r = pay_->validate(request("v", method));
    ASSERT_FALSE(r) << method;
    EXPECT_EQ(r.error().param, "payment.method");
    EXPECT_EQ(r.error().code, errc::invalid_field);
  }
}

TEST_F(SandboxPayments, CancelWorksBeforeSuccessAndIsInvalidStateAfter) {
  auto early = must_create("cancel-1", "pm_sandbox_ok");
  auto canceled = cancel(early.reference);
  ASSERT_TRUE(canceled) << canceled.error().message;
  EXPECT_EQ(canceled->status, PaymentStatus::canceled);
  auto twice = cancel(early.reference);
  ASSERT_TRUE(twice) << "canceling again is harmless";
  EXPECT_EQ(twice->status, PaymentStatus::canceled);

  h_.clock().advance(kSucceedAfter * 2);
  EXPECT_EQ(get(early.reference).value().status, PaymentStatus::canceled)
      << "a canceled payment stays so";
  auto hook = wait_for_webhook("payment.canceled");
  EXPECT_EQ(body_of(hook).at("data").at("payment").at("id").as_string(), early.reference);
  EXPECT_EQ(ledger_count("SELECT COUNT(*) FROM outbox WHERE subject = '" + early.reference +
                         "' AND type = 'payment.succeeded'"),
            0)
      << "the pending success announcement was dropped";
  EXPECT_TRUE(h_.loopback().of_type("payment.succeeded").empty());

  auto late = must_create("cancel-2", "pm_sandbox_ok");
  h_.clock().advance(kSucceedAfter);
  auto refused = cancel(late.reference);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(refused.error().is(adapter_errc::invalid_state)) << refused.error().message;
  EXPECT_EQ(get(late.reference).value().status, PaymentStatus::succeeded);

  auto declined = must_create("cancel-3", "pm_sandbox_decline");
  h_.clock().advance(kDeclineAfter);
  auto refused_declined = cancel(declined.reference);
  ASSERT_FALSE(refused_declined);
  EXPECT_TRUE(refused_declined.error().is(adapter_errc::invalid_state));

  auto unknown = cancel("sbp_unknown");
  ASSERT_FALSE(unknown);
  EXPECT_TRUE(unknown.error().is(adapter_errc::not_found));
  auto unknown_get = get("sbp_unknown");
  ASSERT_FALSE(unknown_get);
  EXPECT_TRUE(unknown_get.error().is(adapter_errc::not_found));
}

TEST_F(SandboxPayments, RefundsAreIdempotentOnTheKeyAndNeverExceedThePayment) {
  auto processing = must_create("refund-early", "pm_sandbox_ok", 1000);
  auto too_early = refund(processing.reference, "r0", 100);
  ASSERT_FALSE(too_early);
  EXPECT_TRUE(too_early.error().is(adapter_errc::rejected));

  auto paid = must_create("refund-1", "pm_sandbox_ok", 1000);
  h_.clock().advance(kSucceedAfter);
  auto first = refund(paid.reference, "r1", 400);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(first->reference.starts_with("sbr_")) << first->reference;
  EXPECT_EQ(first->status, core::RefundStatus::pending);
  auto again = refund(paid.reference, "r1", 400);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->reference, first->reference);
  EXPECT_EQ(ledger_count("SELECT COUNT(*) FROM refunds"), 1);

  auto over = refund(paid.reference, "r2", 700);
  ASSERT_FALSE(over);
  EXPECT_TRUE(over.error().is(adapter_errc::rejected)) << over.error().message;
  auto rest = refund(paid.reference, "r3", 600);
  ASSERT_TRUE(rest) << rest.error().message;
  auto nothing_left = refund(paid.reference, "r4", 1);
  ASSERT_FALSE(nothing_left);
  EXPECT_TRUE(nothing_left.error().is(adapter_errc::rejected));
  EXPECT_EQ(ledger_count("SELECT COALESCE(SUM(amount), 0) FROM refunds"), 1000);

  auto unknown = refund("sbp_unknown", "r5", 1);
  ASSERT_FALSE(unknown);
  EXPECT_TRUE(unknown.error().is(adapter_errc::rejected));

  h_.clock().advance(kRefundAfter);
  EXPECT_TRUE(SandboxHarness::eventually(
      [&] { return h_.loopback().of_type("refund.succeeded").size() == 2; }));
  bool found = false;
  for (const auto& hook : h_.loopback().of_type("refund.succeeded")) {
    expect_signed_by_configured_secret(hook);
    auto normalized = verify(to_webhook(hook, h_.clock().now()));
    ASSERT_TRUE(normalized) << normalized.error().message;
    ASSERT_EQ(normalized->events.size(), 1u);
    const auto& e = normalized->events[0];
    EXPECT_EQ(e.kind, adapters::InboundEvent::Kind::refund);
    EXPECT_EQ(e.payment_reference, paid.reference);
    ASSERT_TRUE(e.refund);
    EXPECT_EQ(e.refund->status, core::RefundStatus::succeeded);
    if (e.refund->reference == first->reference) {
      found = true;
      EXPECT_EQ(e.refund->refund_id, "rfd_r1");
      EXPECT_EQ(e.refund->amount, 400);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(SandboxPayments, VerifyWebhookAcceptsTheSandboxsOwnAndRejectsForgeries) {
  auto created = must_create("verify-1", "pm_sandbox_ok");
  h_.clock().advance(kSucceedAfter);
  auto hook = wait_for_webhook("payment.succeeded");
  core::Timestamp now = h_.clock().now();
  ASSERT_TRUE(verify(to_webhook(hook, now)));

  auto expect_rejected = [&](adapters::WebhookRequest w, adapter_errc code, const char* what) {
    auto r = verify(w);
    ASSERT_FALSE(r) << what;
    EXPECT_TRUE(r.error().is(code)) << what << ": " << r.error().message;
  };

  auto tampered = to_webhook(hook, now);
  auto at = tampered.body.find("2599");
  ASSERT_NE(at, std::string::npos);
  tampered.body.replace(at, 4, "9999");
  expect_rejected(tampered, adapter_errc::invalid_webhook, "tampered body");

  auto other_key = webhooks::secret_key(webhooks::generate_secret());
  ASSERT_TRUE(other_key);
  auto wrong_secret = to_webhook(hook, now);
  for (auto& h : wrong_secret.headers) {
    if (h.name == "webhook-signature") {
      h.value =
          webhooks::sign(*other_key, hook.header("webhook-id"),
                         std::stoll(std::string(hook.header("webhook-timestamp"))), hook.body);
    }
  }
  expect_rejected(wrong_secret, adapter_errc::invalid_webhook, "signed with another secret");

  // Another instance, configured with another secret, refuses this one's webhooks.
  auto stranger =
      h_.must_create<PaymentAdapter>(config("sandbox-pay-2", webhooks::generate_secret()));
  auto by_stranger = h_.run(stranger->verify_webhook(to_webhook(hook, now)));
  ASSERT_FALSE(by_stranger);
  EXPECT_TRUE(by_stranger.error().is(adapter_errc::invalid_webhook));

  expect_rejected(to_webhook(hook, now + 301'000), adapter_errc::stale_webhook, "301 s later");
  expect_rejected(to_webhook(hook, now - 301'000), adapter_errc::stale_webhook, "from the future");
  EXPECT_TRUE(verify(to_webhook(hook, now + 299'000))) << "inside the 300 s window";

  for (const char* header : {"webhook-id", "webhook-timestamp", "webhook-signature"}) {
    auto missing = to_webhook(hook, now);
    std::erase_if(missing.headers, [&](const http::Header& h) { return h.name == header; });
    expect_rejected(missing, adapter_errc::invalid_webhook, header);
  }

  // Correctly signed, but not a sandbox event.
  auto key = webhooks::secret_key(secret_);
  ASSERT_TRUE(key);
  adapters::WebhookRequest junk;
  junk.body = "not json";
  junk.now = now;
  std::int64_t ts = now / 1000;
  junk.headers = {{"webhook-id", "evt_junk"},
                  {"webhook-timestamp", std::to_string(ts)},
                  {"webhook-signature", webhooks::sign(*key, "evt_junk", ts, junk.body)}};
  expect_rejected(junk, adapter_errc::malformed_webhook, "signed junk");
}

TEST_F(SandboxPayments, TheOutboxRetriesWhileTheGatewayAnswers500AndStopsAfterA200) {
  h_.loopback().status = 500;
  auto created = must_create("retry-1", "pm_sandbox_ok");
  h_.clock().advance(kSucceedAfter);
  auto deliveries = [&] { return h_.loopback().count(); };
  // The clock moves only once the failed attempt is on the books: backoff is counted from then.
  auto failed_attempts = [&](std::int64_t n) {
    return SandboxHarness::eventually([&] { return unsent_attempts(created.reference) == n; });
  };
  ASSERT_TRUE(failed_attempts(1));
  EXPECT_EQ(deliveries(), 1u);
  // Backoff runs on the sandbox's clock: 500 ms, then 1 s, then 2 s.
  h_.clock().advance(500);
  ASSERT_TRUE(failed_attempts(2));
  h_.clock().advance(1000);
  ASSERT_TRUE(failed_attempts(3));
  EXPECT_EQ(deliveries(), 3u);

  h_.loopback().status = 200;
  h_.clock().advance(2000);
  EXPECT_TRUE(SandboxHarness::eventually([&] {
    return ledger_count("SELECT COUNT(*) FROM outbox WHERE subject = '" + created.reference +
                        "' AND sent_at IS NOT NULL AND attempts = 4") == 1;
  }));
  EXPECT_EQ(deliveries(), 4u);

  h_.clock().advance(120'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // several outbox polls
  EXPECT_EQ(deliveries(), 4u) << "a delivered event is not sent again";

  auto all = h_.loopback().requests();
  std::set<std::string> ids;
  for (const auto& r : all) {
    ids.insert(std::string(r.header("webhook-id")));
    EXPECT_EQ(r.body, all.front().body) << "a retry sends the same bytes";
  }
  EXPECT_EQ(ids.size(), 1u) << "retries keep the event id (the receiver deduplicates on it)";
}

TEST_F(SandboxPayments, TheLedgerAndUnsentWebhooksSurviveARestart) {
  h_.loopback().status = 503;
  auto created = must_create("restart-1", "pm_sandbox_ok");
  h_.clock().advance(kSucceedAfter);
  ASSERT_TRUE(SandboxHarness::eventually([&] { return unsent_attempts(created.reference) == 1; }));
  std::string event_id(h_.loopback().requests().front().header("webhook-id"));

  h_.remove(pay_);
  pay_.reset();
  h_.loopback().status = 200;
  pay_ = h_.must_create<PaymentAdapter>(config("sandbox-pay", secret_));

  auto same = must_create("restart-1", "pm_sandbox_ok");
  EXPECT_EQ(same.reference, created.reference) << "a retry after a restart finds the payment";
  EXPECT_EQ(same.status, PaymentStatus::succeeded);
  EXPECT_EQ(ledger_count("SELECT COUNT(*) FROM payments"), 1);

  h_.clock().advance(60'000);
  EXPECT_TRUE(SandboxHarness::eventually([&] {
    return ledger_count("SELECT COUNT(*) FROM outbox WHERE event_id = '" + event_id +
                        "' AND sent_at IS NOT NULL") == 1;
  }));
  auto all = h_.loopback().requests();
  ASSERT_GE(all.size(), 2u);
  EXPECT_EQ(all.back().header("webhook-id"), event_id);
  expect_signed_by_configured_secret(all.back());
}

// The same on the wall clock: nothing but time passing settles the payment and sends the webhook.
TEST(SandboxPaymentsOnTheSystemClock, AnOkPaymentSettlesOnItsOwnAndIsAnnounced) {
  SandboxHarness h(SandboxHarness::ClockKind::system);
  std::string secret = webhooks::generate_secret();
  auto pay = h.must_create<PaymentAdapter>(sandbox_config(
      "sandbox-pay", "sandbox_payments", secret, boost::json::object{{"succeed_after_ms", 100}}));
  adapters::PaymentRequest r;
  r.ctx.checkout_id = "chk_wall";
  r.ctx.idempotency_key = "wall-1";
  r.amount = 500;
  r.currency = "USD";
  r.method = "pm_sandbox_ok";
  auto created = h.run(pay->create_payment(r));
  ASSERT_TRUE(created) << created.error().message;
  adapters::PaymentRef ref;
  ref.reference = created->reference;
  EXPECT_TRUE(SandboxHarness::eventually([&] {
    auto fact = h.run(pay->get_payment(ref));
    return fact && fact->status == PaymentStatus::succeeded;
  }));
  ASSERT_TRUE(SandboxHarness::eventually([&] { return h.loopback().count() == 1; }));
  auto hook = h.loopback().requests().front();
  auto key = webhooks::secret_key(secret);
  ASSERT_TRUE(key);
  EXPECT_TRUE(webhooks::verify({*key}, hook.header("webhook-id"), hook.header("webhook-timestamp"),
                               hook.header("webhook-signature"), hook.body,
                               core::system_now() / 1000));
  EXPECT_TRUE(h.run(pay->verify_webhook(to_webhook(hook, core::system_now()))));
}

}  // namespace
}  // namespace mg::testing
