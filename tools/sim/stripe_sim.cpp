// Stripe on loopback: the v1 subset merchgate uses, with Stripe's paths, Bearer (or Basic) secret
// keys, form-encoded requests with bracket keys, JSON objects and error objects as Stripe sends
// them, Idempotency-Key replays (Idempotent-Replayed: true; the same key with other parameters
// is an idempotency_error), Stripe's test payment methods, and events signed with
// Stripe-Signature (--stripe-webhook-secret) sent to --stripe-webhook-url.
#include "adapters/payments/stripe/stripe_wire.hpp"
#include "tools/sim/payments_sim.hpp"

#include "gateway/core/crypto.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <mutex>

namespace mg::sim {
namespace {

namespace bj = boost::json;
using adapters::stripe::FormFields;

constexpr std::string_view kApiVersion = "2024-06-20";

struct Decline {
  std::string code;
  std::string decline_code;
  std::string message;
};

// Stripe's documented test PaymentMethods (https://docs.stripe.com/testing).
enum class Behaviour { succeed, decline, authenticate, dispute, unknown };

Behaviour behaviour_of(std::string_view pm, Decline& d) {
  static constexpr std::string_view kOk[] = {"pm_card_visa",
                                             "pm_card_visa_debit",
                                             "pm_card_mastercard",
                                             "pm_card_mastercard_debit",
                                             "pm_card_mastercard_prepaid",
                                             "pm_card_amex",
                                             "pm_card_discover",
                                             "pm_card_diners",
                                             "pm_card_jcb",
                                             "pm_card_unionpay",
                                             "pm_card_bypassPending",
                                             "pm_card_us",
                                             "pm_card_it",
                                             "pm_card_fr",
                                             "pm_card_de"};
  if (std::find(std::begin(kOk), std::end(kOk), pm) != std::end(kOk)) return Behaviour::succeed;
  if (pm == "pm_card_createDispute") return Behaviour::dispute;
  if (pm == "pm_card_authenticationRequired" || pm == "pm_card_threeDSecure2Required" ||
      pm == "pm_card_threeDSecureRequired") {
    return Behaviour::authenticate;
  }
  struct Row {
    std::string_view pm, code, decline_code, message;
  };
  static constexpr Row kDeclines[] = {
      {"pm_card_chargeDeclined", "card_declined", "generic_decline", "Your card was declined."},
      {"pm_card_visa_chargeDeclined", "card_declined", "generic_decline",
       "Your card was declined."},
      {"pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds",
       "Your card has insufficient funds."},
      {"pm_card_chargeDeclinedLostCard", "card_declined", "lost_card", "Your card was declined."},
      {"pm_card_chargeDeclinedStolenCard", "card_declined", "stolen_card",
       "Your card was declined."},
      {"pm_card_chargeDeclinedFraudulent", "card_declined", "fraudulent",
       "Your card was declined."},
      {"pm_card_chargeDeclinedExpiredCard", "expired_card", "", "Your card has expired."},
      {"pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "",
       "Your card's security code is incorrect."},
      {"pm_card_chargeDeclinedProcessingError", "processing_error", "",
       "An error occurred while processing your card. Try again in a little bit."},
  };
  for (const auto& r : kDeclines) {
    if (r.pm == pm) {
      d = {std::string(r.code), std::string(r.decline_code), std::string(r.message)};
      return Behaviour::decline;
    }
  }
  return Behaviour::unknown;
}

struct Intent {
  std::string id;
  std::string client_secret;
  std::string status = "requires_payment_method";
  std::int64_t amount = 0;
  std::int64_t amount_capturable = 0;
  std::int64_t amount_received = 0;
  std::string currency;
  std::string capture_method = "automatic";
  std::string payment_method;
  std::string description;
  std::string return_url;
  std::string destination;
  std::int64_t application_fee = 0;
  bool automatic_payment_methods = false;
  std::map<std::string, std::string> metadata;
  std::map<std::string, std::string> shipping;  // flattened shipping[...] keys
  std::string latest_charge;
  std::optional<bj::object> last_payment_error;
  std::optional<bj::object> next_action;
  std::int64_t refunded = 0;
  std::string cancellation_reason;
  std::int64_t created = 0;
  std::int64_t canceled_at = 0;
};

struct Refund {
  std::string id;
  std::string intent;
  std::string charge;
  std::int64_t amount = 0;
  std::string currency;
  std::string reason;
  std::string status = "succeeded";
  std::map<std::string, std::string> metadata;
  bool reverse_transfer = false;
  std::int64_t created = 0;
};

struct Dispute {
  std::string id;
  std::string intent;
  std::string charge;
  std::int64_t amount = 0;
  std::string currency;
  std::string status = "needs_response";
  std::string reason = "fraudulent";
  std::int64_t created = 0;
};

bj::value opt(const std::string& s) { return s.empty() ? bj::value(nullptr) : bj::value(s); }

bj::object string_map(const std::map<std::string, std::string>& m) {
  bj::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

http::Response stripe_error(int status, std::string_view type, std::string message,
                            std::string_view code = {}, std::string_view param = {}) {
  bj::object e{{"message", std::move(message)}, {"type", type}};
  if (!code.empty()) {
    e["code"] = code;
    std::string doc(code);
    std::replace(doc.begin(), doc.end(), '_', '-');
    e["doc_url"] = "https://stripe.com/docs/error-codes/" + doc;
  }
  if (!param.empty()) e["param"] = param;
  return json_reply(status, bj::object{{"error", std::move(e)}});
}

class StripeSim final : public payments::ProcessorSim<OutboundWebhook> {
 public:
  explicit StripeSim(Context& ctx) : ProcessorSim(ctx) {}

  bj::object state() const override {
    std::lock_guard lock(mutex_);
    bj::array intents, refunds, disputes;
    for (const auto& [id, pi] : intents_) intents.push_back(intent_json(pi));
    for (const auto& [id, re] : refunds_) refunds.push_back(refund_json(re));
    for (const auto& [id, dp] : disputes_) disputes.push_back(dispute_json(dp));
    return bj::object{{"payment_intents", std::move(intents)},
                      {"refunds", std::move(refunds)},
                      {"disputes", std::move(disputes)},
                      {"idempotency_keys", replays_.size()}};
  }

  http::Response unavailable() const override {
    return stripe_error(500, "api_error",
                        "An unknown error occurred while processing your request (simulated "
                        "outage).");
  }

 private:
  // ---- plumbing ---------------------------------------------------------------------------

  http::Response dispatch(const http::Request& req, std::vector<OutboundWebhook>& out) override {
    auto seg = payments::split_path(req.path);
    // The 3-D Secure page a redirect_to_url action points at (a browser, no key).
    if (seg.size() == 3 && seg[0] == "3d_secure_2" && seg[1] == "authenticate") {
      return authenticate(seg[2], req.query_param("outcome").value_or("") != "fail", out);
    }
    bool publishable = false;
    if (req.header("authorization").empty()) {
      return stripe_error(401, "invalid_request_error",
                          "You did not provide an API key. You need to provide your API key in "
                          "the Authorization header, using Bearer auth (e.g. 'Authorization: "
                          "Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#"
                          "authentication for details, or we can help at "
                          "https://support.stripe.com/.");
    }
    if (!authorized(req, publishable)) {
      return stripe_error(401, "invalid_request_error",
                          "Invalid API Key provided: " + masked_key(req));
    }
    if (publishable) {
      // Stripe.js confirms with a publishable key and the client_secret, and may do no more.
      bool confirm = req.method == "POST" && seg.size() == 4 && seg[0] == "v1" &&
                     seg[1] == "payment_intents" && seg[3] == "confirm";
      if (!confirm) {
        return stripe_error(401, "invalid_request_error",
                            "This API call cannot be made with a publishable API key.");
      }
    }
    std::string key(req.header("idempotency-key"));
    if (req.method == "POST" && !key.empty()) {
      if (key.size() > 255) {
        return stripe_error(400, "invalid_request_error",
                            "Idempotency-Key must be at most 255 characters.");
      }
      if (const auto* prior = replays_.find(key)) {
        if (prior->fingerprint != payments::fingerprint(req)) {
          return stripe_error(400, "idempotency_error",
                              "Keys for idempotent requests can only be used with the same "
                              "parameters they were first used with. Try using a key other than '" +
                                  key + "' if you meant to execute a different request.");
        }
        http::Response replay = prior->response;
        replay.set_header("idempotent-replayed", "true");
        replay.set_header("original-request", std::string(prior->response.header("request-id")));
        return replay;
      }
    }
    http::Response r;
    auto form = req.method == "POST" ? adapters::stripe::form_decode(req.body) : FormFields{};
    if (!form) {
      r = stripe_error(400, "invalid_request_error", "Invalid request body encoding.");
    } else {
      r = route(req, seg, *form, key, out);
    }
    r.set_header("request-id", ctx_.random_id("req_", 14));
    r.set_header("stripe-version", std::string(kApiVersion));
    // Stripe keeps the answer once the endpoint ran (declines and 5xx included), not when the
    // parameters were refused.
    bool validation =
        r.status == 400 && r.body.find("\"invalid_request_error\"") != std::string::npos;
    if (req.method == "POST" && !key.empty() && !validation && r.status != 401) {
      replays_.store(key, payments::fingerprint(req), r);
    }
    return r;
  }

  static std::string_view bearer_key(const http::Request& req) {
    std::string_view auth = req.header("authorization");
    if (auth.starts_with("Bearer ")) return auth.substr(7);
    return {};
  }

  std::string masked_key(const http::Request& req) const {
    std::string key(bearer_key(req));
    if (key.size() <= 8) return key.empty() ? "(none)" : key;
    return key.substr(0, 8) + std::string(std::min<std::size_t>(key.size() - 12, 24), '*') +
           key.substr(key.size() - 4);
  }

  static bool authorized(const http::Request& req, bool& publishable) {
    std::string key(bearer_key(req));
    std::string_view auth = req.header("authorization");
    if (key.empty() && auth.starts_with("Basic ")) {
      // Basic auth: the key is the user name, the password empty.
      auto decoded = core::base64_decode(auth.substr(6));
      if (decoded) key = decoded->substr(0, decoded->find(':'));
    }
    publishable = key.starts_with("pk_test_");
    return key.starts_with("sk_test_") || key.starts_with("rk_test_") || publishable;
  }

  std::int64_t now_s() const { return ctx_.now_ms() / 1000; }

  http::Response route(const http::Request& req, const std::vector<std::string>& seg,
                       const FormFields& form, const std::string& key,
                       std::vector<OutboundWebhook>& out) {
    const std::string& m = req.method;
    if (seg.size() >= 2 && seg[0] == "v1") {
      const std::string& res = seg[1];
      if (res == "payment_intents") {
        if (seg.size() == 2 && m == "POST") return create_intent(form, key, out);
        if (seg.size() == 3 && m == "GET") return get_intent(seg[2]);
        if (seg.size() == 4 && m == "POST") {
          if (seg[3] == "confirm") return confirm_intent(seg[2], form, bearer_key(req), key, out);
          if (seg[3] == "capture") return capture_intent(seg[2], form, key, out);
          if (seg[3] == "cancel") return cancel_intent(seg[2], form, key, out);
        }
      } else if (res == "refunds") {
        if (seg.size() == 2 && m == "POST") return create_refund(form, key, out);
        if (seg.size() == 3 && m == "GET") return get_refund(seg[2]);
      } else if (res == "disputes") {
        if (seg.size() == 3 && m == "GET") return get_dispute(seg[2]);
        if (seg.size() == 3 && m == "POST") return update_dispute(seg[2], form, out);
        if (seg.size() == 4 && m == "POST" && seg[3] == "close") return close_dispute(seg[2], out);
      } else if (res == "account" && seg.size() == 2 && m == "GET") {
        return json_reply(200,
                          bj::object{{"id", "acct_1MerchgateSim0001"},
                                     {"object", "account"},
                                     {"business_profile", bj::object{{"name", "merchgate-sim"}}},
                                     {"charges_enabled", true},
                                     {"country", "US"},
                                     {"default_currency", "usd"},
                                     {"type", "standard"}});
      }
    }
    return stripe_error(404, "invalid_request_error",
                        "Unrecognized request URL (" + m + ": " + req.path +
                            "). Please see https://stripe.com/docs or we can help at "
                            "https://support.stripe.com/.");
  }

  static std::string field(const FormFields& f, std::string_view k) {
    for (const auto& [key, value] : f)
      if (key == k) return value;
    return {};
  }

  static bool has(const FormFields& f, std::string_view k) {
    return std::any_of(f.begin(), f.end(), [&](const auto& kv) { return kv.first == k; });
  }

  // The first parameter Stripe would not know, if any.
  static std::string unknown_param(const FormFields& f,
                                   std::initializer_list<std::string_view> exact,
                                   std::initializer_list<std::string_view> prefixes) {
    for (const auto& [k, v] : f) {
      bool ok = std::find(exact.begin(), exact.end(), k) != exact.end() ||
                std::any_of(prefixes.begin(), prefixes.end(),
                            [&](std::string_view p) { return k.starts_with(p); });
      if (!ok) return k;
    }
    return {};
  }

  static std::optional<std::int64_t> integer(const std::string& s) {
    if (s.empty() || s.size() > 18 ||
        !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    return std::stoll(s);
  }

  static std::map<std::string, std::string> prefixed(const FormFields& f, std::string_view p) {
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : f) {
      if (k.starts_with(p) && k.back() == ']') out[k.substr(p.size(), k.size() - p.size() - 1)] = v;
    }
    return out;
  }

  // ---- objects ----------------------------------------------------------------------------

  bj::object intent_json(const Intent& pi) const {
    bj::object shipping;
    if (!pi.shipping.empty()) {
      bj::object address;
      for (const auto& [k, v] : pi.shipping)
        if (k.starts_with("address][")) address[k.substr(9)] = v;
      shipping = bj::object{{"name", pi.shipping.count("name") ? pi.shipping.at("name") : ""},
                            {"address", std::move(address)}};
    }
    return bj::object{
        {"id", pi.id},
        {"object", "payment_intent"},
        {"amount", pi.amount},
        {"amount_capturable", pi.amount_capturable},
        {"amount_received", pi.amount_received},
        {"application_fee_amount",
         pi.application_fee ? bj::value(pi.application_fee) : bj::value(nullptr)},
        {"automatic_payment_methods", pi.automatic_payment_methods
                                          ? bj::value(bj::object{{"enabled", true}})
                                          : bj::value(nullptr)},
        {"canceled_at", pi.canceled_at ? bj::value(pi.canceled_at) : bj::value(nullptr)},
        {"cancellation_reason", opt(pi.cancellation_reason)},
        {"capture_method", pi.capture_method},
        {"client_secret", pi.client_secret},
        {"confirmation_method", "automatic"},
        {"created", pi.created},
        {"currency", pi.currency},
        {"description", opt(pi.description)},
        {"last_payment_error",
         pi.last_payment_error ? bj::value(*pi.last_payment_error) : bj::value(nullptr)},
        {"latest_charge", opt(pi.latest_charge)},
        {"livemode", false},
        {"metadata", string_map(pi.metadata)},
        {"next_action", pi.next_action ? bj::value(*pi.next_action) : bj::value(nullptr)},
        {"payment_method", opt(pi.payment_method)},
        {"payment_method_types", bj::array{"card"}},
        {"shipping", shipping.empty() ? bj::value(nullptr) : bj::value(std::move(shipping))},
        {"status", pi.status},
        {"transfer_data", pi.destination.empty()
                              ? bj::value(nullptr)
                              : bj::value(bj::object{{"destination", pi.destination}})}};
  }

  bj::object refund_json(const Refund& re) const {
    return bj::object{
        {"id", re.id},
        {"object", "refund"},
        {"amount", re.amount},
        {"charge", re.charge},
        {"created", re.created},
        {"currency", re.currency},
        {"metadata", string_map(re.metadata)},
        {"payment_intent", re.intent},
        {"reason", opt(re.reason)},
        {"status", re.status},
        {"transfer_reversal",
         re.reverse_transfer ? bj::value("trr_" + re.id.substr(3)) : bj::value(nullptr)}};
  }

  bj::object dispute_json(const Dispute& d) const {
    return bj::object{{"id", d.id},
                      {"object", "dispute"},
                      {"amount", d.amount},
                      {"charge", d.charge},
                      {"created", d.created},
                      {"currency", d.currency},
                      {"is_charge_refundable", false},
                      {"livemode", false},
                      {"metadata", bj::object{}},
                      {"payment_intent", d.intent},
                      {"reason", d.reason},
                      {"status", d.status}};
  }

  bj::object charge_json(const Intent& pi) const {
    bj::array refunds;
    for (const auto& [id, re] : refunds_)
      if (re.intent == pi.id) refunds.push_back(refund_json(re));
    return bj::object{
        {"id", pi.latest_charge},
        {"object", "charge"},
        {"amount", pi.amount},
        {"amount_captured", pi.amount_received},
        {"amount_refunded", pi.refunded},
        {"captured", pi.amount_received > 0},
        {"currency", pi.currency},
        {"metadata", string_map(pi.metadata)},
        {"paid", pi.status == "succeeded"},
        {"payment_intent", pi.id},
        {"refunded", pi.refunded >= pi.amount_received && pi.amount_received > 0},
        {"refunds", bj::object{{"object", "list"},
                               {"data", std::move(refunds)},
                               {"has_more", false},
                               {"url", "/v1/charges/" + pi.latest_charge + "/refunds"}}},
        {"status", pi.status == "succeeded" ? "succeeded" : "failed"}};
  }

  // ---- events -----------------------------------------------------------------------------

  void event(std::vector<OutboundWebhook>& out, std::string_view type, bj::object object,
             const std::string& object_id, const std::string& idempotency_key) {
    bj::object evt{{"id", ctx_.random_id("evt_", 24)},
                   {"object", "event"},
                   {"api_version", kApiVersion},
                   {"created", now_s()},
                   {"data", bj::object{{"object", std::move(object)}}},
                   {"livemode", false},
                   {"pending_webhooks", 1},
                   {"request", bj::object{{"id", ctx_.random_id("req_", 14)},
                                          {"idempotency_key", opt(idempotency_key)}}},
                   {"type", type}};
    out.push_back({object_id,
                   {{"content-type", "application/json; charset=utf-8"},
                    {"user-agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}},
                   bj::serialize(evt)});
  }

  void send(OutboundWebhook w) override {
    std::string secret = ctx_.secret();
    Context* ctx = &ctx_;
    ctx_.send_webhook(std::move(w), [secret, ctx](OutboundWebhook& signed_copy) {
      signed_copy.headers.push_back(
          {"stripe-signature",
           adapters::stripe::signature_header(secret, ctx->now_ms() / 1000, signed_copy.body)});
    });
  }

  // ---- payment intents --------------------------------------------------------------------

  Intent* find_intent(const std::string& id) {
    auto it = intents_.find(id);
    return it == intents_.end() ? nullptr : &it->second;
  }

  static http::Response no_such(std::string_view what, const std::string& id,
                                std::string_view param) {
    return stripe_error(404, "invalid_request_error",
                        "No such " + std::string(what) + ": '" + id + "'", "resource_missing",
                        param);
  }

  http::Response create_intent(const FormFields& f, const std::string& key,
                               std::vector<OutboundWebhook>& out) {
    if (auto bad = unknown_param(
            f,
            {"amount", "currency", "payment_method", "confirm", "capture_method", "description",
             "return_url", "application_fee_amount", "receipt_email", "customer",
             "statement_descriptor", "statement_descriptor_suffix", "setup_future_usage",
             "on_behalf_of", "transfer_group", "confirmation_method"},
            {"metadata[", "shipping[", "automatic_payment_methods[", "transfer_data[",
             "payment_method_types[", "expand["});
        !bad.empty()) {
      return stripe_error(400, "invalid_request_error", "Received unknown parameter: " + bad,
                          "parameter_unknown", bad);
    }
    for (std::string_view required : {"amount", "currency"}) {
      if (!has(f, required)) {
        return stripe_error(400, "invalid_request_error",
                            "Missing required param: " + std::string(required) + ".",
                            "parameter_missing", required);
      }
    }
    auto amount = integer(field(f, "amount"));
    if (!amount || *amount < 1 || *amount > 99'999'999) {
      return stripe_error(400, "invalid_request_error",
                          "This value must be greater than or equal to 1.",
                          "parameter_invalid_integer", "amount");
    }
    std::string currency = field(f, "currency");
    std::transform(currency.begin(), currency.end(), currency.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (currency.size() != 3) {
      return stripe_error(400, "invalid_request_error",
                          "Invalid currency: " + field(f, "currency") + ".",
                          "parameter_invalid_string", "currency");
    }
    Intent pi;
    pi.id = ctx_.random_id("pi_", 24);
    pi.client_secret = pi.id + "_secret_" + ctx_.random_id("", 25);
    pi.amount = *amount;
    pi.currency = currency;
    pi.created = now_s();
    pi.capture_method = has(f, "capture_method") ? field(f, "capture_method") : "automatic";
    if (pi.capture_method != "automatic" && pi.capture_method != "automatic_async" &&
        pi.capture_method != "manual") {
      return stripe_error(400, "invalid_request_error",
                          "Invalid capture_method: must be one of automatic, automatic_async, or "
                          "manual",
                          "parameter_invalid_string", "capture_method");
    }
    pi.description = field(f, "description");
    pi.return_url = field(f, "return_url");
    pi.metadata = prefixed(f, "metadata[");
    pi.shipping = prefixed(f, "shipping[");
    pi.automatic_payment_methods = field(f, "automatic_payment_methods[enabled]") == "true";
    pi.destination = field(f, "transfer_data[destination]");
    if (!pi.destination.empty() && !pi.destination.starts_with("acct_")) {
      return stripe_error(400, "invalid_request_error",
                          "No such destination: '" + pi.destination + "'", "resource_missing",
                          "transfer_data[destination]");
    }
    if (has(f, "application_fee_amount")) {
      auto fee = integer(field(f, "application_fee_amount"));
      if (!fee || *fee > pi.amount) {
        return stripe_error(400, "invalid_request_error",
                            "The application fee must not exceed the amount.",
                            "parameter_invalid_integer", "application_fee_amount");
      }
      pi.application_fee = *fee;
    }
    std::string pm = field(f, "payment_method");
    bool confirm = field(f, "confirm") == "true";
    if (confirm && pm.empty()) {
      return stripe_error(400, "invalid_request_error",
                          "You cannot confirm this PaymentIntent because it's missing a payment "
                          "method. To confirm the PaymentIntent with " +
                              pi.id + ", specify a payment method attached to this PaymentIntent.",
                          "payment_intent_unexpected_state");
    }
    if (!pm.empty()) {
      Decline d;
      if (behaviour_of(pm, d) == Behaviour::unknown) {
        return no_such("PaymentMethod", pm, "payment_method");
      }
      pi.payment_method = pm;
      pi.status = "requires_confirmation";
    }
    auto [it, inserted] = intents_.emplace(pi.id, std::move(pi));
    (void)inserted;
    if (confirm) return confirm_now(it->second, key, out);
    return json_reply(200, intent_json(it->second));
  }

  // Runs the payment method against the intent: Stripe's answer to a confirmation.
  http::Response confirm_now(Intent& pi, const std::string& key,
                             std::vector<OutboundWebhook>& out) {
    Decline d;
    Behaviour b = behaviour_of(pi.payment_method, d);
    if (ctx_.knobs().decline_all && b != Behaviour::unknown) {
      b = Behaviour::decline;
      d = {"card_declined", "generic_decline", "Your card was declined."};
    }
    pi.latest_charge = ctx_.random_id("ch_", 24);
    pi.next_action.reset();
    pi.last_payment_error.reset();
    switch (b) {
      case Behaviour::decline: {
        bj::object error{
            {"charge", pi.latest_charge},
            {"code", d.code},
            {"message", d.message},
            {"payment_method",
             bj::object{{"id", pi.payment_method}, {"object", "payment_method"}, {"type", "card"}}},
            {"type", "card_error"}};
        std::string doc = d.code;
        std::replace(doc.begin(), doc.end(), '_', '-');
        error["doc_url"] = "https://stripe.com/docs/error-codes/" + doc;
        if (!d.decline_code.empty()) error["decline_code"] = d.decline_code;
        pi.status = "requires_payment_method";
        pi.last_payment_error = error;
        event(out, "payment_intent.payment_failed", intent_json(pi), pi.id, key);
        bj::object body = error;
        body["payment_intent"] = intent_json(pi);
        body["request_log_url"] =
            "https://dashboard.stripe.com/test/logs/" + ctx_.random_id("req_", 14);
        return json_reply(402, bj::object{{"error", std::move(body)}});
      }
      case Behaviour::authenticate: {
        pi.status = "requires_action";
        std::string url = self_ + "/3d_secure_2/authenticate/" + pi.id;
        if (!pi.return_url.empty()) {
          pi.next_action = bj::object{
              {"type", "redirect_to_url"},
              {"redirect_to_url", bj::object{{"url", url}, {"return_url", pi.return_url}}}};
        } else {
          pi.next_action =
              bj::object{{"type", "use_stripe_sdk"},
                         {"use_stripe_sdk",
                          bj::object{{"type", "three_d_secure_redirect"}, {"stripe_js", url}}}};
        }
        event(out, "payment_intent.requires_action", intent_json(pi), pi.id, key);
        return json_reply(200, intent_json(pi));
      }
      case Behaviour::succeed:
      case Behaviour::dispute:
        authorize(pi, b == Behaviour::dispute, key, out);
        return json_reply(200, intent_json(pi));
      case Behaviour::unknown:
        break;
    }
    return no_such("PaymentMethod", pi.payment_method, "payment_method");
  }

  void authorize(Intent& pi, bool disputed, const std::string& key,
                 std::vector<OutboundWebhook>& out) {
    if (pi.capture_method == "manual") {
      pi.status = "requires_capture";
      pi.amount_capturable = pi.amount;
      event(out, "payment_intent.amount_capturable_updated", intent_json(pi), pi.id, key);
      return;
    }
    pi.status = "succeeded";
    pi.amount_received = pi.amount;
    event(out, "payment_intent.succeeded", intent_json(pi), pi.id, key);
    if (disputed) {
      Dispute d;
      d.id = ctx_.random_id("dp_", 24);
      d.intent = pi.id;
      d.charge = pi.latest_charge;
      d.amount = pi.amount;
      d.currency = pi.currency;
      d.created = now_s();
      event(out, "charge.dispute.created", dispute_json(d), pi.id, {});
      disputes_.emplace(d.id, d);
    }
  }

  http::Response get_intent(const std::string& id) {
    const Intent* pi = find_intent(id);
    if (!pi) return no_such("payment_intent", id, "intent");
    return json_reply(200, intent_json(*pi));
  }

  static http::Response unexpected_state(const Intent& pi, std::string_view action,
                                         std::string_view done, std::string_view allowed) {
    return stripe_error(400, "invalid_request_error",
                        "You cannot " + std::string(action) +
                            " this PaymentIntent because it has a status of " + pi.status +
                            ". Only a PaymentIntent with one of the following statuses may be " +
                            std::string(done) + ": " + std::string(allowed) + ".",
                        "payment_intent_unexpected_state");
  }

  http::Response confirm_intent(const std::string& id, const FormFields& f,
                                std::string_view api_key, const std::string& key,
                                std::vector<OutboundWebhook>& out) {
    Intent* pi = find_intent(id);
    if (!pi) return no_such("payment_intent", id, "intent");
    if (api_key.starts_with("pk_") && field(f, "client_secret") != pi->client_secret) {
      return no_such("payment_intent", id, "intent");
    }
    if (pi->status != "requires_payment_method" && pi->status != "requires_confirmation" &&
        pi->status != "requires_action") {
      return unexpected_state(*pi, "confirm", "confirmed",
                              "requires_payment_method, requires_confirmation, requires_action");
    }
    if (std::string pm = field(f, "payment_method"); !pm.empty()) {
      Decline d;
      if (behaviour_of(pm, d) == Behaviour::unknown)
        return no_such("PaymentMethod", pm, "payment_method");
      pi->payment_method = pm;
    }
    if (std::string url = field(f, "return_url"); !url.empty()) pi->return_url = url;
    if (pi->payment_method.empty()) {
      return stripe_error(400, "invalid_request_error",
                          "You cannot confirm this PaymentIntent because it's missing a payment "
                          "method.",
                          "payment_intent_unexpected_state");
    }
    return confirm_now(*pi, key, out);
  }

  // The buyer's 3-D Secure page: completes (or fails) the authentication.
  http::Response authenticate(const std::string& id, bool pass, std::vector<OutboundWebhook>& out) {
    Intent* pi = find_intent(id);
    if (!pi || pi->status != "requires_action") {
      return text_reply(404, "<!doctype html><p>No authentication pending.</p>",
                        "text/html; charset=utf-8");
    }
    pi->next_action.reset();
    if (pass && !ctx_.knobs().decline_all) {
      authorize(*pi, false, {}, out);
    } else {
      pi->status = "requires_payment_method";
      pi->last_payment_error = bj::object{
          {"code", "payment_intent_authentication_failure"},
          {"message",
           "The provided PaymentMethod has failed authentication. You can provide "
           "payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent "
           "again."},
          {"type", "invalid_request_error"}};
      event(out, "payment_intent.payment_failed", intent_json(*pi), pi->id, {});
    }
    http::Response r = text_reply(200,
                                  "<!doctype html><title>3D Secure</title><p>Authentication " +
                                      std::string(pass ? "completed" : "failed") + ".</p>",
                                  "text/html; charset=utf-8");
    if (!pi->return_url.empty()) {
      r.status = 302;
      r.set_header("location", pi->return_url +
                                   (pi->return_url.find('?') == std::string::npos ? "?" : "&") +
                                   "payment_intent=" + pi->id +
                                   "&payment_intent_client_secret=" + pi->client_secret);
    }
    return r;
  }

  http::Response capture_intent(const std::string& id, const FormFields& f, const std::string& key,
                                std::vector<OutboundWebhook>& out) {
    Intent* pi = find_intent(id);
    if (!pi) return no_such("payment_intent", id, "intent");
    if (pi->status != "requires_capture")
      return unexpected_state(*pi, "capture", "captured", "requires_capture");
    std::int64_t amount = pi->amount_capturable;
    if (has(f, "amount_to_capture")) {
      auto a = integer(field(f, "amount_to_capture"));
      if (!a || *a < 1 || *a > pi->amount_capturable) {
        return stripe_error(400, "invalid_request_error",
                            "The amount to capture must be at most the amount capturable.",
                            "parameter_invalid_integer", "amount_to_capture");
      }
      amount = *a;
    }
    pi->status = "succeeded";
    pi->amount_received = amount;
    pi->amount_capturable = 0;
    event(out, "payment_intent.succeeded", intent_json(*pi), pi->id, key);
    return json_reply(200, intent_json(*pi));
  }

  http::Response cancel_intent(const std::string& id, const FormFields& f, const std::string& key,
                               std::vector<OutboundWebhook>& out) {
    Intent* pi = find_intent(id);
    if (!pi) return no_such("payment_intent", id, "intent");
    static constexpr std::string_view kCancelable[] = {"requires_payment_method",
                                                       "requires_capture", "requires_confirmation",
                                                       "requires_action", "processing"};
    if (std::find(std::begin(kCancelable), std::end(kCancelable), pi->status) ==
        std::end(kCancelable)) {
      return unexpected_state(*pi, "cancel", "canceled",
                              "requires_payment_method, requires_capture, "
                              "requires_confirmation, requires_action, processing");
    }
    pi->status = "canceled";
    pi->canceled_at = now_s();
    pi->cancellation_reason = field(f, "cancellation_reason");
    pi->next_action.reset();
    pi->amount_capturable = 0;
    event(out, "payment_intent.canceled", intent_json(*pi), pi->id, key);
    return json_reply(200, intent_json(*pi));
  }

  // ---- refunds ----------------------------------------------------------------------------

  http::Response create_refund(const FormFields& f, const std::string& key,
                               std::vector<OutboundWebhook>& out) {
    if (auto bad =
            unknown_param(f,
                          {"payment_intent", "charge", "amount", "reason", "reverse_transfer",
                           "refund_application_fee", "instructions_email"},
                          {"metadata[", "expand["});
        !bad.empty()) {
      return stripe_error(400, "invalid_request_error", "Received unknown parameter: " + bad,
                          "parameter_unknown", bad);
    }
    Intent* pi = nullptr;
    if (std::string id = field(f, "payment_intent"); !id.empty()) {
      pi = find_intent(id);
      if (!pi) return no_such("payment_intent", id, "payment_intent");
    } else if (std::string charge = field(f, "charge"); !charge.empty()) {
      for (auto& [id, x] : intents_)
        if (x.latest_charge == charge) pi = &x;
      if (!pi) return no_such("charge", charge, "charge");
    } else {
      return stripe_error(400, "invalid_request_error",
                          "One of the following params should be provided for this request: "
                          "payment_intent or charge.",
                          "parameter_missing");
    }
    if (pi->status != "succeeded") {
      return stripe_error(
          400, "invalid_request_error",
          "This PaymentIntent (" + pi->id + ") does not have a successful charge to refund.",
          "charge_not_refundable");
    }
    std::int64_t left = pi->amount_received - pi->refunded;
    if (left <= 0) {
      return stripe_error(400, "invalid_request_error",
                          "Charge " + pi->latest_charge + " has already been refunded.",
                          "charge_already_refunded");
    }
    std::int64_t amount = left;
    if (has(f, "amount")) {
      auto a = integer(field(f, "amount"));
      if (!a || *a < 1) {
        return stripe_error(400, "invalid_request_error", "Invalid positive integer",
                            "parameter_invalid_integer", "amount");
      }
      if (*a > left) {
        return stripe_error(400, "invalid_request_error",
                            "Refund amount (" + std::to_string(*a) +
                                ") is greater than unrefunded amount on charge (" +
                                std::to_string(left) + ")",
                            "amount_too_large", "amount");
      }
      amount = *a;
    }
    std::string reason = field(f, "reason");
    if (!reason.empty() && reason != "duplicate" && reason != "fraudulent" &&
        reason != "requested_by_customer") {
      return stripe_error(400, "invalid_request_error",
                          "Invalid reason: must be one of duplicate, fraudulent, or "
                          "requested_by_customer",
                          "parameter_invalid_string", "reason");
    }
    Refund re;
    re.id = ctx_.random_id("re_", 24);
    re.intent = pi->id;
    re.charge = pi->latest_charge;
    re.amount = amount;
    re.currency = pi->currency;
    re.reason = reason;
    re.metadata = prefixed(f, "metadata[");
    re.reverse_transfer = field(f, "reverse_transfer") == "true" && !pi->destination.empty();
    re.created = now_s();
    pi->refunded += amount;
    refunds_.emplace(re.id, re);
    event(out, "charge.refunded", charge_json(*pi), pi->id, key);
    return json_reply(200, refund_json(re));
  }

  http::Response get_refund(const std::string& id) {
    auto it = refunds_.find(id);
    if (it == refunds_.end()) return no_such("refund", id, "id");
    return json_reply(200, refund_json(it->second));
  }

  // ---- disputes ---------------------------------------------------------------------------

  http::Response get_dispute(const std::string& id) {
    auto it = disputes_.find(id);
    if (it == disputes_.end()) return no_such("dispute", id, "dispute");
    return json_reply(200, dispute_json(it->second));
  }

  // Submitting evidence: Stripe's test values decide the outcome (winning_evidence wins,
  // losing_evidence loses).
  http::Response update_dispute(const std::string& id, const FormFields& f,
                                std::vector<OutboundWebhook>& out) {
    auto it = disputes_.find(id);
    if (it == disputes_.end()) return no_such("dispute", id, "dispute");
    Dispute& d = it->second;
    std::string evidence = field(f, "evidence[uncategorized_text]");
    if (evidence == "winning_evidence" || evidence == "losing_evidence") {
      d.status = evidence == "winning_evidence" ? "won" : "lost";
      event(out, "charge.dispute.closed", dispute_json(d), d.intent, {});
    } else if (field(f, "submit") == "true" && d.status == "needs_response") {
      d.status = "under_review";
      event(out, "charge.dispute.updated", dispute_json(d), d.intent, {});
    }
    return json_reply(200, dispute_json(d));
  }

  http::Response close_dispute(const std::string& id, std::vector<OutboundWebhook>& out) {
    auto it = disputes_.find(id);
    if (it == disputes_.end()) return no_such("dispute", id, "dispute");
    Dispute& d = it->second;
    if (d.status != "won" && d.status != "lost") {
      d.status = "lost";
      event(out, "charge.dispute.closed", dispute_json(d), d.intent, {});
    }
    return json_reply(200, dispute_json(d));
  }

  payments::Replays replays_;
  std::map<std::string, Intent> intents_;
  std::map<std::string, Refund> refunds_;
  std::map<std::string, Dispute> disputes_;
};

}  // namespace

std::unique_ptr<Simulator> make_stripe_sim(Context& ctx) {
  return std::make_unique<StripeSim>(ctx);
}

}  // namespace mg::sim
