// PayPal on loopback: OAuth2 client credentials (/v1/oauth2/token, Basic auth), Orders v2
// (create, approve at /checkoutnow?token=…, capture, get), captures and refunds
// (/v2/payments/…), PayPal-Request-Id replays, PayPal's error bodies, and webhooks signed like
// PayPal's: RSA-SHA256 over "transmission_id|time|webhook_id|crc32(body)" with the simulator's
// own key, its certificate served at /v1/notifications/certs/…, plus
// /v1/notifications/verify-webhook-signature. --paypal-webhook-secret is the webhook_id.
// PayPal-Mock-Response {"mock_application_codes": "INSTRUMENT_DECLINED"} is honoured on capture,
// as in PayPal's sandbox negative testing. MERCHGATE_SIM_PAYPAL_TOKEN_TTL_S sets expires_in.
// Approving with /checkoutnow?token=…&outcome=reversed reverses the capture (a chargeback).
#include "adapters/payments/paypal/paypal_wire.hpp"
#include "tools/sim/payments_sim.hpp"

#include "gateway/core/clock.hpp"
#include "gateway/core/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdlib>
#include <mutex>
#include <stdexcept>

namespace mg::sim {
namespace {

namespace bj = boost::json;
namespace pp = adapters::paypal;

std::string str(const bj::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The simulator's signing identity: an RSA key and a self-signed certificate, made at start.
class Signer {
 public:
  Signer() {
    key_ = EVP_RSA_gen(2048);
    X509* cert = X509_new();
    if (!key_ || !cert) throw std::runtime_error("paypal sim: cannot make a signing key");
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 30L * 24 * 3600);
    X509_set_pubkey(cert, key_);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(
        name, "CN", MBSTRING_ASC,
        reinterpret_cast<const unsigned char*>("messageverificationcerts.sim.paypal.com"), -1, -1,
        0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key_, EVP_sha256());
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    pem_.assign(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    X509_free(cert);
  }
  ~Signer() { EVP_PKEY_free(key_); }
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;

  const std::string& certificate_pem() const { return pem_; }

  std::string sign(std::string_view data) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t len = 0;
    std::string sig;
    if (ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_) == 1 &&
        EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) == 1) {
      sig.resize(len);
      if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                         reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
        sig.clear();
      }
      sig.resize(len);
    }
    EVP_MD_CTX_free(ctx);
    return sig;
  }

 private:
  EVP_PKEY* key_ = nullptr;
  std::string pem_;
};

struct Capture {
  std::string id;
  std::string order_id;
  std::int64_t amount = 0;
  std::string currency;
  std::string custom_id;
  std::string status = "COMPLETED";
  std::int64_t refunded = 0;
  std::string create_time;
};

struct RefundRow {
  std::string id;
  std::string capture_id;
  std::int64_t amount = 0;
  std::string currency;
  std::string custom_id;
  std::string status = "COMPLETED";
  std::string create_time;
};

struct Order {
  std::string id;
  std::string status;  // CREATED, PAYER_ACTION_REQUIRED, APPROVED, COMPLETED
  bj::object request;
  std::string currency;
  std::int64_t amount = 0;
  std::string custom_id;
  std::string return_url;
  std::string capture_id;
  std::string create_time;
  bool reverse_after_capture = false;  // approved with outcome=reversed
};

std::string error_json_text(std::string_view name, std::string_view message, std::string_view issue,
                            std::string_view description, const std::string& debug_id) {
  bj::object o{{"name", name}, {"message", message}, {"debug_id", debug_id}};
  if (!issue.empty()) {
    o["details"] = bj::array{bj::object{{"issue", issue}, {"description", description}}};
    o["links"] = bj::array{bj::object{
        {"href", "https://developer.paypal.com/docs/api/orders/v2/#error-" + std::string(issue)},
        {"rel", "information_link"},
        {"method", "GET"}}};
  }
  return bj::serialize(o);
}

class PayPalSim final : public payments::ProcessorSim<OutboundWebhook> {
 public:
  explicit PayPalSim(Context& ctx) : ProcessorSim(ctx) {
    if (const char* ttl = std::getenv("MERCHGATE_SIM_PAYPAL_TOKEN_TTL_S"); ttl && *ttl)
      token_ttl_s_ = std::max(1, std::atoi(ttl));
    cert_id_ = "CERT-360caa42-sim-" + ctx_.random_id("", 8);
  }

  bj::object state() const override {
    std::lock_guard lock(mutex_);
    bj::array orders, captures, refunds;
    for (const auto& [id, o] : orders_) orders.push_back(order_json(o));
    for (const auto& [id, c] : captures_) captures.push_back(capture_json(c));
    for (const auto& [id, r] : refunds_) refunds.push_back(refund_json(r));
    return bj::object{{"orders", std::move(orders)},
                      {"captures", std::move(captures)},
                      {"refunds", std::move(refunds)},
                      {"tokens_issued", tokens_issued_},
                      {"request_ids", replays_.size()}};
  }

  http::Response unavailable() const override {
    return error(503, "SERVICE_UNAVAILABLE", "Service Unavailable.", {}, {});
  }

 private:
  http::Response error(int status, std::string_view name, std::string_view message,
                       std::string_view issue, std::string_view description) const {
    http::Response r;
    r.status = status;
    r.set_header("content-type", "application/json");
    std::string debug = ctx_.random_id("", 13);
    r.set_header("paypal-debug-id", debug);
    r.body = error_json_text(name, message, issue, description, debug);
    return r;
  }

  http::Response unprocessable(std::string_view issue, std::string_view description) const {
    return error(422, "UNPROCESSABLE_ENTITY",
                 "The requested action could not be performed, semantically incorrect, or "
                 "failed business validation.",
                 issue, description);
  }

  http::Response not_found(std::string_view what) const {
    return error(404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.",
                 "INVALID_RESOURCE_ID",
                 "Specified resource ID does not exist. Please check the resource ID and try "
                 "again. (" +
                     std::string(what) + ")");
  }

  http::Response invalid_request(std::string_view issue, std::string_view description) const {
    return error(400, "INVALID_REQUEST",
                 "Request is not well-formed, syntactically incorrect, or violates schema.", issue,
                 description);
  }

  // PayPal's times: "2015-05-12T18:14:14Z" (seconds, UTC).
  std::string now_iso() const {
    std::string t = core::format_time(ctx_.now_ms());
    return t.substr(0, 19) + "Z";
  }

  http::Response dispatch(const http::Request& req, std::vector<OutboundWebhook>& out) override {
    auto seg = payments::split_path(req.path);
    const std::string& m = req.method;
    // The buyer's approval page (a browser, no token).
    if (m == "GET" && seg.size() == 1 && seg[0] == "checkoutnow") {
      return approve(std::string(req.query_param("token").value_or("")),
                     req.query_param("outcome").value_or("") == "reversed", out);
    }
    if (m == "GET" && seg.size() == 4 && seg[0] == "v1" && seg[1] == "notifications" &&
        seg[2] == "certs") {
      if (seg[3] != cert_id_) return not_found("certificate");
      http::Response r = text_reply(200, signer_.certificate_pem(), "application/x-pem-file");
      r.set_header("cache-control", "public,max-age=86400");
      return r;
    }
    if (m == "POST" && seg == std::vector<std::string>{"v1", "oauth2", "token"}) {
      return token(req);
    }
    if (!bearer_ok(req)) {
      http::Response r;
      r.status = 401;
      r.set_header("content-type", "application/json");
      r.body =
          R"({"error":"invalid_token","error_description":"Token signature verification failed"})";
      return r;
    }
    std::string request_id(req.header("paypal-request-id"));
    if (m == "POST" && !request_id.empty()) {
      if (const auto* prior = replays_.find(request_id)) {
        // A repeated PayPal-Request-Id returns the earlier request's object as it is now.
        return refreshed(*prior);
      }
    }
    http::Response r = route(req, seg, out);
    if (m == "POST" && !request_id.empty() && r.status < 500 && r.status != 401 &&
        r.status != 400) {
      replays_.store(request_id, payments::fingerprint(req), r);
    }
    return r;
  }

  // The stored answer with its object re-read: PayPal answers a repeated request id with the
  // latest status of what the first request made.
  http::Response refreshed(const payments::Replays::Entry& prior) const {
    http::Response r = prior.response;
    if (r.status >= 300) return r;
    boost::system::error_code ec;
    bj::value v = bj::parse(r.body, ec);
    if (ec || !v.is_object()) return r;
    std::string id = str(v.as_object(), "id");
    if (auto it = orders_.find(id); it != orders_.end()) {
      r.body = bj::serialize(order_json(it->second));
    } else if (auto rt = refunds_.find(id); rt != refunds_.end()) {
      r.body = bj::serialize(refund_json(rt->second));
    }
    return r;
  }

  bool bearer_ok(const http::Request& req) const {
    std::string_view auth = req.header("authorization");
    if (!auth.starts_with("Bearer ")) return false;
    auto it = tokens_.find(std::string(auth.substr(7)));
    return it != tokens_.end() && ctx_.now_ms() < it->second;
  }

  http::Response token(const http::Request& req) {
    std::string_view auth = req.header("authorization");
    std::optional<std::string> decoded;
    if (auth.starts_with("Basic ")) decoded = core::base64_decode(auth.substr(6));
    std::size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (!decoded || colon == 0 || colon == std::string::npos || colon + 1 == decoded->size()) {
      http::Response r;
      r.status = 401;
      r.set_header("content-type", "application/json");
      r.body = R"({"error":"invalid_client","error_description":"Client Authentication failed"})";
      return r;
    }
    if (req.body.find("grant_type=client_credentials") == std::string::npos) {
      http::Response r;
      r.status = 400;
      r.set_header("content-type", "application/json");
      r.body = R"({"error":"unsupported_grant_type","error_description":"Grant Type is NULL"})";
      return r;
    }
    std::string token = "A21AA" + ctx_.random_id("", 60);
    tokens_[token] = ctx_.now_ms() + token_ttl_s_ * 1000LL;
    ++tokens_issued_;
    return json_reply(200, bj::object{{"scope", "https://uri.paypal.com/services/payments/payment"},
                                      {"access_token", token},
                                      {"token_type", "Bearer"},
                                      {"app_id", "APP-80W284485P519543T"},
                                      {"expires_in", token_ttl_s_},
                                      {"nonce", now_iso() + ctx_.random_id("", 20)}});
  }

  http::Response route(const http::Request& req, const std::vector<std::string>& seg,
                       std::vector<OutboundWebhook>& out) {
    const std::string& m = req.method;
    if (seg.size() >= 3 && seg[0] == "v2" && seg[1] == "checkout" && seg[2] == "orders") {
      if (seg.size() == 3 && m == "POST") return create_order(req);
      if (seg.size() == 4 && m == "GET") return get_order(seg[3]);
      if (seg.size() == 5 && m == "POST" && seg[4] == "capture") return capture(req, seg[3], out);
    }
    if (seg.size() == 4 && seg[0] == "v2" && seg[1] == "payments") {
      if (seg[2] == "captures" && m == "GET") {
        auto it = captures_.find(seg[3]);
        return it == captures_.end() ? not_found("capture")
                                     : json_reply(200, capture_json(it->second));
      }
      if (seg[2] == "refunds" && m == "GET") {
        auto it = refunds_.find(seg[3]);
        return it == refunds_.end() ? not_found("refund")
                                    : json_reply(200, refund_json(it->second));
      }
    }
    if (seg.size() == 5 && seg[0] == "v2" && seg[1] == "payments" && seg[2] == "captures" &&
        seg[4] == "refund" && m == "POST") {
      return refund(req, seg[3], out);
    }
    if (m == "POST" &&
        seg == std::vector<std::string>{"v1", "notifications", "verify-webhook-signature"}) {
      return verify(req);
    }
    return not_found(req.path);
  }

  // ---- objects ----------------------------------------------------------------------------

  bj::object money(std::int64_t minor, const std::string& currency) const {
    return bj::object{{"currency_code", currency},
                      {"value", pp::format_value(minor, currency).value_or("0")}};
  }

  bj::array order_links(const Order& o) const {
    std::string base = self_ + "/v2/checkout/orders/" + o.id;
    bj::array links{bj::object{{"href", base}, {"rel", "self"}, {"method", "GET"}}};
    if (o.status == "CREATED" || o.status == "PAYER_ACTION_REQUIRED") {
      links.push_back(bj::object{{"href", self_ + "/checkoutnow?token=" + o.id},
                                 {"rel", o.status == "CREATED" ? "approve" : "payer-action"},
                                 {"method", "GET"}});
    }
    if (o.status != "COMPLETED") {
      links.push_back(bj::object{{"href", base}, {"rel", "update"}, {"method", "PATCH"}});
      links.push_back(
          bj::object{{"href", base + "/capture"}, {"rel", "capture"}, {"method", "POST"}});
    }
    return links;
  }

  bj::object order_json(const Order& o) const {
    bj::object unit;
    if (const auto* units = o.request.if_contains("purchase_units");
        units && units->is_array() && !units->as_array().empty() &&
        units->as_array()[0].is_object()) {
      unit = units->as_array()[0].as_object();
    }
    if (!o.capture_id.empty()) {
      auto it = captures_.find(o.capture_id);
      if (it != captures_.end()) {
        unit["payments"] = bj::object{{"captures", bj::array{capture_json(it->second)}}};
      }
    }
    return bj::object{{"id", o.id},
                      {"intent", str(o.request, "intent")},
                      {"status", o.status},
                      {"purchase_units", bj::array{std::move(unit)}},
                      {"create_time", o.create_time},
                      {"links", order_links(o)}};
  }

  bj::object capture_json(const Capture& c) const {
    return bj::object{
        {"id", c.id},
        {"status", c.status},
        {"amount", money(c.amount, c.currency)},
        {"final_capture", true},
        {"custom_id", c.custom_id},
        {"seller_protection", bj::object{{"status", "ELIGIBLE"}}},
        {"supplementary_data", bj::object{{"related_ids", bj::object{{"order_id", c.order_id}}}}},
        {"create_time", c.create_time},
        {"update_time", c.create_time},
        {"links",
         bj::array{bj::object{{"href", self_ + "/v2/payments/captures/" + c.id},
                              {"rel", "self"},
                              {"method", "GET"}},
                   bj::object{{"href", self_ + "/v2/payments/captures/" + c.id + "/refund"},
                              {"rel", "refund"},
                              {"method", "POST"}},
                   bj::object{{"href", self_ + "/v2/checkout/orders/" + c.order_id},
                              {"rel", "up"},
                              {"method", "GET"}}}}};
  }

  bj::object refund_json(const RefundRow& r) const {
    return bj::object{
        {"id", r.id},
        {"status", r.status},
        {"amount", money(r.amount, r.currency)},
        {"custom_id", r.custom_id},
        {"create_time", r.create_time},
        {"update_time", r.create_time},
        {"links", bj::array{bj::object{{"href", self_ + "/v2/payments/refunds/" + r.id},
                                       {"rel", "self"},
                                       {"method", "GET"}},
                            bj::object{{"href", self_ + "/v2/payments/captures/" + r.capture_id},
                                       {"rel", "up"},
                                       {"method", "GET"}}}}};
  }

  // ---- orders -----------------------------------------------------------------------------

  http::Response create_order(const http::Request& req) {
    boost::system::error_code ec;
    bj::value v = bj::parse(req.body, ec);
    if (ec || !v.is_object()) {
      return invalid_request("MALFORMED_REQUEST_JSON", "The request JSON is not well formed.");
    }
    const auto& body = v.as_object();
    std::string intent = str(body, "intent");
    if (intent != "CAPTURE" && intent != "AUTHORIZE") {
      return invalid_request(
          intent.empty() ? "MISSING_REQUIRED_PARAMETER" : "INVALID_PARAMETER_VALUE",
          "/intent: CAPTURE or AUTHORIZE");
    }
    const auto* units = body.if_contains("purchase_units");
    const bj::object* unit =
        units && units->is_array() && !units->as_array().empty() && units->as_array()[0].is_object()
            ? &units->as_array()[0].as_object()
            : nullptr;
    const auto* amount = unit ? unit->if_contains("amount") : nullptr;
    if (!amount || !amount->is_object()) {
      return invalid_request("MISSING_REQUIRED_PARAMETER",
                             "/purchase_units/0/amount: a required field is missing.");
    }
    std::string currency = str(amount->as_object(), "currency_code");
    auto minor = pp::parse_value(str(amount->as_object(), "value"), currency);
    if (!minor || *minor <= 0) {
      return unprocessable("DECIMAL_PRECISION",
                           "If the currency supports decimals, only two decimal place precision "
                           "is supported.");
    }
    Order o;
    o.id = ctx_.random_id("", 17);
    std::transform(o.id.begin(), o.id.end(), o.id.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    o.request = body;
    o.currency = currency;
    o.amount = *minor;
    o.custom_id = str(*unit, "custom_id");
    o.create_time = now_iso();
    o.status = "CREATED";
    if (const auto* ps = body.if_contains("payment_source"); ps && ps->is_object()) {
      if (const auto* p = ps->as_object().if_contains("paypal"); p && p->is_object()) {
        o.status = "PAYER_ACTION_REQUIRED";
        if (const auto* ec2 = p->as_object().if_contains("experience_context");
            ec2 && ec2->is_object()) {
          o.return_url = str(ec2->as_object(), "return_url");
        }
      }
    }
    auto [it, inserted] = orders_.emplace(o.id, std::move(o));
    (void)inserted;
    return json_reply(201, order_json(it->second));
  }

  http::Response get_order(const std::string& id) {
    auto it = orders_.find(id);
    if (it == orders_.end()) return not_found("order");
    return json_reply(200, order_json(it->second));
  }

  // `reversed`: the buyer's bank takes the money back after the capture (a chargeback), which
  // PayPal reports as PAYMENT.CAPTURE.REVERSED; the sandbox has no API for it, so tests ask here.
  http::Response approve(const std::string& id, bool reversed, std::vector<OutboundWebhook>& out) {
    auto it = orders_.find(id);
    if (it == orders_.end()) {
      return text_reply(404, "<!doctype html><p>This PayPal link is not valid.</p>",
                        "text/html; charset=utf-8");
    }
    Order& o = it->second;
    if (o.status == "CREATED" || o.status == "PAYER_ACTION_REQUIRED") {
      o.status = "APPROVED";
      o.reverse_after_capture = reversed;
      event(out, "CHECKOUT.ORDER.APPROVED", "checkout-order", order_json(o), o.id,
            "An order has been approved by buyer");
    }
    http::Response r =
        text_reply(200, "<!doctype html><title>PayPal</title><p>You approved the payment.</p>",
                   "text/html; charset=utf-8");
    if (!o.return_url.empty()) {
      r.status = 302;
      r.set_header("location", o.return_url +
                                   (o.return_url.find('?') == std::string::npos ? "?" : "&") +
                                   "token=" + o.id + "&PayerID=SIMPAYER01");
    }
    return r;
  }

  http::Response capture(const http::Request& req, const std::string& id,
                         std::vector<OutboundWebhook>& out) {
    auto it = orders_.find(id);
    if (it == orders_.end()) return not_found("order");
    Order& o = it->second;
    if (o.status == "COMPLETED") {
      return unprocessable("ORDER_ALREADY_CAPTURED", "Order already captured.");
    }
    if (o.status != "APPROVED") {
      return unprocessable("ORDER_NOT_APPROVED",
                           "Payer has not yet approved the Order for payment. Please redirect the "
                           "payer to the 'rel':'approve' url returned as part of the HATEOAS "
                           "links within the Create Order call or provide a valid payment_source "
                           "in the request.");
    }
    bool mock_decline =
        req.header("paypal-mock-response").find("INSTRUMENT_DECLINED") != std::string_view::npos;
    if (mock_decline || ctx_.knobs().decline_all) {
      return unprocessable("INSTRUMENT_DECLINED",
                           "The instrument presented  was either declined by the processor or "
                           "bank, or it can't be used for this payment.");
    }
    Capture c;
    c.id = ctx_.random_id("", 17);
    std::transform(c.id.begin(), c.id.end(), c.id.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    c.order_id = o.id;
    c.amount = o.amount;
    c.currency = o.currency;
    c.custom_id = o.custom_id;
    c.create_time = now_iso();
    o.capture_id = c.id;
    o.status = "COMPLETED";
    captures_.emplace(c.id, c);
    event(out, "PAYMENT.CAPTURE.COMPLETED", "capture", capture_json(c), o.id,
          "Payment completed for " + pp::format_value(c.amount, c.currency).value_or("") + " " +
              c.currency);
    if (o.reverse_after_capture) {
      Capture& stored = captures_.at(c.id);
      stored.status = "REVERSED";
      event(out, "PAYMENT.CAPTURE.REVERSED", "capture", capture_json(stored), o.id,
            "A payment capture was reversed");
    }
    return json_reply(201, order_json(o));
  }

  http::Response refund(const http::Request& req, const std::string& capture_id,
                        std::vector<OutboundWebhook>& out) {
    auto it = captures_.find(capture_id);
    if (it == captures_.end()) return not_found("capture");
    Capture& c = it->second;
    std::int64_t left = c.amount - c.refunded;
    std::int64_t amount = left;
    std::string custom_id;
    if (!req.body.empty()) {
      boost::system::error_code ec;
      bj::value v = bj::parse(req.body, ec);
      if (ec || !v.is_object()) {
        return invalid_request("MALFORMED_REQUEST_JSON", "The request JSON is not well formed.");
      }
      custom_id = str(v.as_object(), "custom_id");
      if (const auto* a = v.as_object().if_contains("amount"); a && a->is_object()) {
        if (str(a->as_object(), "currency_code") != c.currency) {
          return unprocessable("CURRENCY_MISMATCH",
                               "The currency of the refund must match the currency of the "
                               "capture.");
        }
        auto minor = pp::parse_value(str(a->as_object(), "value"), c.currency);
        if (!minor || *minor <= 0) {
          return invalid_request("INVALID_PARAMETER_VALUE", "/amount/value");
        }
        amount = *minor;
      }
    }
    if (left <= 0)
      return unprocessable("CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded");
    if (amount > left) {
      return unprocessable("REFUND_AMOUNT_EXCEEDED",
                           "The refund amount must be less than or equal to the capture amount "
                           "that has not yet been refunded.");
    }
    RefundRow r;
    r.id = ctx_.random_id("", 17);
    std::transform(r.id.begin(), r.id.end(), r.id.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    r.capture_id = c.id;
    r.amount = amount;
    r.currency = c.currency;
    r.custom_id = custom_id;
    r.create_time = now_iso();
    c.refunded += amount;
    c.status = c.refunded >= c.amount ? "REFUNDED" : "PARTIALLY_REFUNDED";
    refunds_.emplace(r.id, r);
    event(out, "PAYMENT.CAPTURE.REFUNDED", "refund", refund_json(r), c.order_id,
          "A " + pp::format_value(r.amount, r.currency).value_or("") + " " + r.currency +
              " capture payment was refunded");
    return json_reply(201, refund_json(r));
  }

  // ---- webhooks ---------------------------------------------------------------------------

  void event(std::vector<OutboundWebhook>& out, std::string_view type,
             std::string_view resource_type, bj::object resource, const std::string& object_id,
             const std::string& summary) {
    std::string id = "WH-" + ctx_.random_id("", 17) + "-" + ctx_.random_id("", 17);
    bj::object evt{
        {"id", id},
        {"event_version", "1.0"},
        {"create_time", now_iso()},
        {"resource_type", resource_type},
        {"resource_version", "2.0"},
        {"event_type", type},
        {"summary", summary},
        {"resource", std::move(resource)},
        {"links", bj::array{bj::object{{"href", self_ + "/v1/notifications/webhooks-events/" + id},
                                       {"rel", "self"},
                                       {"method", "GET"}}}}};
    out.push_back(
        {object_id,
         {{"content-type", "application/json"}, {"user-agent", "PayPal/AUHD-214.0-58830004"}},
         bj::serialize(evt)});
  }

  void send(OutboundWebhook w) override {
    std::string cert_url = self_ + "/v1/notifications/certs/" + cert_id_;
    std::string webhook_id = ctx_.secret();
    ctx_.send_webhook(std::move(w), [this, cert_url, webhook_id](OutboundWebhook& copy) {
      std::string transmission_id = ctx_.random_id("", 8) + "-" + ctx_.random_id("", 4) + "-" +
                                    ctx_.random_id("", 4) + "-" + ctx_.random_id("", 12);
      std::string time = now_iso();
      std::string signature = core::base64_encode(
          signer_.sign(pp::signed_string(transmission_id, time, webhook_id, copy.body)));
      {
        std::lock_guard lock(mutex_);
        sent_[transmission_id] = copy.body;
        if (sent_.size() > 100'000) sent_.clear();
      }
      copy.headers.push_back({"paypal-auth-algo", "SHA256withRSA"});
      copy.headers.push_back({"paypal-cert-url", cert_url});
      copy.headers.push_back({"paypal-transmission-id", transmission_id});
      copy.headers.push_back({"paypal-transmission-sig", signature});
      copy.headers.push_back({"paypal-transmission-time", time});
    });
  }

  // verify-webhook-signature: SUCCESS only for a message this simulator sent and signed: the
  // transmission id it used, its algorithm and certificate, the webhook_id in the signed string,
  // and the event unchanged; FAILURE for anything else (PayPal checks its own records the same
  // way).
  http::Response verify(const http::Request& req) {
    boost::system::error_code ec;
    bj::value v = bj::parse(req.body, ec);
    if (ec || !v.is_object()) {
      return invalid_request("MALFORMED_REQUEST_JSON", "The request JSON is not well formed.");
    }
    const auto& o = v.as_object();
    for (std::string_view k : {"auth_algo", "cert_url", "transmission_id", "transmission_sig",
                               "transmission_time", "webhook_id"}) {
      if (str(o, k).empty()) {
        return invalid_request("MISSING_REQUIRED_PARAMETER", "/" + std::string(k));
      }
    }
    const auto* event = o.if_contains("webhook_event");
    bool ok = false;
    auto sent = sent_.find(str(o, "transmission_id"));
    auto sig = core::base64_decode(str(o, "transmission_sig"));
    bool ours = str(o, "auth_algo") == "SHA256withRSA" &&
                str(o, "cert_url").ends_with("/v1/notifications/certs/" + cert_id_);
    if (ours && event && sent != sent_.end() && sig) {
      bj::value original = bj::parse(sent->second, ec);
      ok = !ec && original == *event &&
           core::rsa_sha256_verify_with_certificate(
               signer_.certificate_pem(),
               pp::signed_string(str(o, "transmission_id"), str(o, "transmission_time"),
                                 str(o, "webhook_id"), sent->second),
               *sig);
    }
    return json_reply(200, bj::object{{"verification_status", ok ? "SUCCESS" : "FAILURE"}});
  }

  Signer signer_;
  std::string cert_id_;
  int token_ttl_s_ = 32400;
  std::int64_t tokens_issued_ = 0;
  std::map<std::string, std::int64_t> tokens_;  // token -> expiry (ms)
  payments::Replays replays_;
  std::map<std::string, Order> orders_;
  std::map<std::string, Capture> captures_;
  std::map<std::string, RefundRow> refunds_;
  std::map<std::string, std::string> sent_;  // transmission id -> body
};

}  // namespace

std::unique_ptr<Simulator> make_paypal_sim(Context& ctx) {
  return std::make_unique<PayPalSim>(ctx);
}

}  // namespace mg::sim
