// Adyen Checkout on loopback (any /v{N}/ prefix): X-API-Key, /paymentMethods, /sessions (hosted
// checkout page at /checkoutshopper/checkout/session/{id}), /payments (Authorised for a stored
// card, RedirectShopper for redirect methods, Refused with the decline knob), and the
// asynchronous modifications /payments/{pspReference}/captures|refunds|cancels answered
// "received". Idempotency-Key replays. Outcomes go out as standard notifications, each item
// signed with the HMAC key given as --adyen-webhook-secret (hex). A shopper page opened with
// ?holderName=CHARGEBACK (Adyen's test holder name) pays, then sends a CHARGEBACK.
#include "adapters/payments/adyen/adyen_wire.hpp"
#include "tools/sim/payments_sim.hpp"

#include "gateway/core/clock.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <mutex>

namespace mg::sim {
namespace {

namespace bj = boost::json;

std::string str(const bj::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

http::Response adyen_error(int status, std::string_view code, std::string_view message,
                           std::string_view type, const std::string& psp = {}) {
  bj::object o{{"status", status}, {"errorCode", code}, {"message", message}, {"errorType", type}};
  if (!psp.empty()) o["pspReference"] = psp;
  return json_reply(status, o);
}

struct Payment {
  std::string psp;  // empty until authorised (redirect and session payments)
  std::string merchant_account;
  std::string reference;
  std::int64_t amount = 0;
  std::string currency;
  std::string method;
  std::string return_url;
  bool manual_capture = false;
  std::string status = "pending";  // pending, authorised, refused, captured, cancelled
  std::int64_t refunded = 0;
};

class AdyenSim final : public payments::ProcessorSim<bj::object> {
 public:
  explicit AdyenSim(Context& ctx) : ProcessorSim(ctx) {}

  bj::object state() const override {
    std::lock_guard lock(mutex_);
    bj::array payments;
    for (const auto& [id, p] : payments_) {
      payments.push_back(bj::object{{"id", id},
                                    {"pspReference", p.psp},
                                    {"merchantReference", p.reference},
                                    {"amount", p.amount},
                                    {"currency", p.currency},
                                    {"method", p.method},
                                    {"status", p.status},
                                    {"refunded", p.refunded}});
    }
    return bj::object{{"payments", std::move(payments)},
                      {"modifications", modifications_},
                      {"idempotency_keys", replays_.size()}};
  }

  http::Response unavailable() const override {
    return adyen_error(503, "000", "Service unavailable (simulated outage)", "internal");
  }

 private:
  std::string psp() {
    static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::string raw = ctx_.random_id("", 16), out;
    for (unsigned char c : raw) out.push_back(kChars[c % 36]);
    return out;
  }

  std::string now_iso() const {
    std::string t = core::format_time(ctx_.now_ms());
    return t.substr(0, 19) + "+00:00";
  }

  http::Response dispatch(const http::Request& req, std::vector<bj::object>& items) override {
    auto seg = payments::split_path(req.path);
    // The shopper's pages: hosted checkout and redirect methods (a browser, no key).
    if (req.method == "GET" && seg.size() == 4 && seg[0] == "checkoutshopper" &&
        (seg[2] == "session" || seg[2] == "redirect")) {
      return shopper_page(seg[3], req.query_param("holderName").value_or(""), items);
    }
    if (req.header("x-api-key").empty()) {
      return adyen_error(401, "000", "HTTP Status Response - Unauthorized", "security");
    }
    if (seg.empty() || seg[0].size() < 2 || seg[0][0] != 'v') {
      return adyen_error(404, "000", "Not found", "validation");
    }
    seg.erase(seg.begin());  // the API version
    if (req.method != "POST") return adyen_error(405, "000", "Method not allowed", "validation");
    std::string key(req.header("idempotency-key"));
    if (!key.empty()) {
      if (key.size() > 64) {
        return adyen_error(422, "000", "Idempotency key exceeds 64 characters", "validation");
      }
      if (const auto* prior = replays_.find(key)) {
        if (prior->fingerprint != payments::fingerprint(req)) {
          return adyen_error(422, "704", "request already processed or in progress", "validation");
        }
        http::Response replay = prior->response;
        replay.set_header("idempotency-key", key);
        return replay;
      }
    }
    boost::system::error_code ec;
    bj::value v = bj::parse(req.body, ec);
    http::Response r;
    if (ec || !v.is_object()) {
      r = adyen_error(400, "702", "Structure of the request body is invalid", "validation");
    } else {
      r = route(seg, v.as_object(), items);
    }
    if (!key.empty()) {
      r.set_header("idempotency-key", key);
      if (r.status < 500) replays_.store(key, payments::fingerprint(req), r);
    }
    return r;
  }

  http::Response route(const std::vector<std::string>& seg, const bj::object& body,
                       std::vector<bj::object>& items) {
    if (seg.size() == 1 && seg[0] == "paymentMethods") {
      return json_reply(
          200, bj::object{{"paymentMethods",
                           bj::array{bj::object{{"name", "Cards"}, {"type", "scheme"}},
                                     bj::object{{"name", "iDEAL"}, {"type", "ideal"}},
                                     bj::object{{"name", "PayPal"}, {"type", "paypal"}},
                                     bj::object{{"name", "Klarna"}, {"type", "klarna"}}}}});
    }
    if (seg.size() == 1 && (seg[0] == "payments" || seg[0] == "sessions")) {
      return create(seg[0] == "sessions", body, items);
    }
    if (seg.size() == 3 && seg[0] == "payments" &&
        (seg[2] == "captures" || seg[2] == "refunds" || seg[2] == "cancels")) {
      return modify(seg[1], seg[2], body, items);
    }
    return adyen_error(404, "000", "Not found", "validation");
  }

  http::Response create(bool session, const bj::object& body, std::vector<bj::object>& items) {
    if (str(body, "merchantAccount").empty()) {
      return adyen_error(422, "901", "Invalid Merchant Account", "validation");
    }
    const auto* amount = body.if_contains("amount");
    if (!amount || !amount->is_object() || !amount->as_object().if_contains("value") ||
        !amount->as_object().at("value").is_int64() ||
        str(amount->as_object(), "currency").size() != 3) {
      return adyen_error(422, "100", "Required field 'amount' is not provided.", "validation");
    }
    if (str(body, "reference").empty()) {
      return adyen_error(422, "130", "Required field 'reference' is not provided.", "validation");
    }
    if (str(body, "returnUrl").empty()) {
      return adyen_error(422, "14_030", "Return URL is missing.", "validation");
    }
    Payment p;
    p.merchant_account = str(body, "merchantAccount");
    p.reference = str(body, "reference");
    p.amount = amount->as_object().at("value").as_int64();
    p.currency = str(amount->as_object(), "currency");
    p.return_url = str(body, "returnUrl");
    if (const auto* ad = body.if_contains("additionalData"); ad && ad->is_object()) {
      p.manual_capture = str(ad->as_object(), "manualCapture") == "true";
    }
    bj::object amount_json{{"currency", p.currency}, {"value", p.amount}};
    if (session) {
      std::string id = "CS" + psp();
      p.method = "session";
      std::string url = self_ + "/checkoutshopper/checkout/session/" + id;
      payments_[id] = p;
      return json_reply(
          201, bj::object{{"amount", amount_json},
                          {"expiresAt", now_iso()},
                          {"id", id},
                          {"merchantAccount", p.merchant_account},
                          {"mode", str(body, "mode").empty() ? "embedded" : str(body, "mode")},
                          {"reference", p.reference},
                          {"returnUrl", p.return_url},
                          {"sessionData", "Ab02b4c0!" + ctx_.random_id("", 40)},
                          {"url", url}});
    }
    const auto* pm = body.if_contains("paymentMethod");
    if (!pm || !pm->is_object() || str(pm->as_object(), "type").empty()) {
      return adyen_error(422, "14_007", "Invalid payment method data", "validation");
    }
    p.method = str(pm->as_object(), "type");
    if (p.method == "scheme") {
      if (str(pm->as_object(), "storedPaymentMethodId").empty()) {
        return adyen_error(422, "14_012", "Missing payment method details: encryptedCardNumber",
                           "validation");
      }
      p.psp = psp();
      bool refused = ctx_.knobs().decline_all;
      p.status = refused ? "refused" : "authorised";
      payments_[p.psp] = p;
      items.push_back(
          item("AUTHORISATION", p.psp, {}, p, p.amount, !refused, refused ? "Refused" : ""));
      bj::object answer{{"pspReference", p.psp},
                        {"resultCode", refused ? "Refused" : "Authorised"},
                        {"amount", amount_json},
                        {"merchantReference", p.reference}};
      if (refused) {
        answer["refusalReason"] = "Refused";
        answer["refusalReasonCode"] = "2";
      }
      return json_reply(200, answer);
    }
    // Redirect methods: the shopper finishes at the method's page.
    std::string id = "RD" + psp();
    payments_[id] = p;
    return json_reply(
        200, bj::object{{"resultCode", "RedirectShopper"},
                        {"action", bj::object{{"paymentMethodType", p.method},
                                              {"url", self_ + "/checkoutshopper/redirect/" + id},
                                              {"method", "GET"},
                                              {"type", "redirect"}}}});
  }

  // A hosted checkout or redirect page: the shopper pays (or is refused with the decline knob).
  // The card holder name CHARGEBACK is Adyen's test value for a payment that is then disputed.
  http::Response shopper_page(const std::string& id, std::string_view holder,
                              std::vector<bj::object>& items) {
    auto it = payments_.find(id);
    if (it == payments_.end()) {
      return text_reply(404, "<!doctype html><p>Unknown payment session.</p>",
                        "text/html; charset=utf-8");
    }
    Payment& p = it->second;
    if (p.status == "pending") {
      bool refused = ctx_.knobs().decline_all;
      p.psp = psp();
      p.status = refused ? "refused" : "authorised";
      payments_[p.psp] = p;
      items.push_back(
          item("AUTHORISATION", p.psp, {}, p, p.amount, !refused, refused ? "Refused" : ""));
      if (!refused && holder == "CHARGEBACK") {
        items.push_back(item("CHARGEBACK", psp(), p.psp, p, p.amount, true, "Fraud"));
      }
    }
    http::Response r = text_reply(
        200, "<!doctype html><title>Adyen</title><p>Payment " + it->second.status + ".</p>",
        "text/html; charset=utf-8");
    r.status = 302;
    r.set_header("location", p.return_url);
    return r;
  }

  http::Response modify(const std::string& psp_ref, const std::string& what, const bj::object& body,
                        std::vector<bj::object>& items) {
    auto it = payments_.find(psp_ref);
    if (it == payments_.end() || it->second.psp != psp_ref) {
      return adyen_error(422, "167", "Original pspReference required for this operation",
                         "validation");
    }
    if (str(body, "merchantAccount").empty()) {
      return adyen_error(422, "901", "Invalid Merchant Account", "validation");
    }
    Payment& p = it->second;
    std::int64_t value = 0;
    std::string currency = p.currency;
    if (const auto* a = body.if_contains("amount"); a && a->is_object()) {
      const auto* v = a->as_object().if_contains("value");
      if (!v || !v->is_int64() || str(a->as_object(), "currency") != p.currency) {
        return adyen_error(422, "100", "Required field 'amount' is not valid.", "validation");
      }
      value = v->as_int64();
    } else if (what != "cancels") {
      return adyen_error(422, "100", "Required field 'amount' is not provided.", "validation");
    }
    std::string mod = psp();
    std::string reference = str(body, "reference");
    bool ok = false;
    std::string code, reason;
    if (what == "captures") {
      code = "CAPTURE";
      ok = p.status == "authorised" && value <= p.amount;
      if (ok) p.status = "captured";
      reason = ok ? "" : "Insufficient balance on payment";
    } else if (what == "refunds") {
      code = "REFUND";
      bool captured = p.status == "captured" || (p.status == "authorised" && !p.manual_capture);
      ok = captured && value > 0 && p.refunded + value <= p.amount;
      if (ok) p.refunded += value;
      reason = ok ? "" : "Insufficient in-process funds on paymentPspReference";
    } else {
      code = "CANCELLATION";
      ok = p.status == "authorised" && p.manual_capture;
      if (ok) p.status = "cancelled";
      reason = ok ? "" : "Payment already captured";
      value = p.amount;
    }
    Payment shown = p;
    shown.reference = reference.empty() ? p.reference : reference;
    items.push_back(item(code, mod, psp_ref, shown, value, ok, reason));
    modifications_.push_back(bj::object{{"pspReference", mod},
                                        {"paymentPspReference", psp_ref},
                                        {"type", what},
                                        {"amount", value},
                                        {"reference", reference},
                                        {"success", ok}});
    bj::object answer{{"merchantAccount", str(body, "merchantAccount")},
                      {"paymentPspReference", psp_ref},
                      {"pspReference", mod},
                      {"reference", reference},
                      {"status", "received"}};
    if (what != "cancels") answer["amount"] = bj::object{{"currency", currency}, {"value", value}};
    return json_reply(201, answer);
  }

  bj::object item(std::string_view event_code, const std::string& psp_ref,
                  const std::string& original, const Payment& p, std::int64_t value, bool success,
                  const std::string& reason) {
    bj::object o{{"additionalData", bj::object{}},
                 {"amount", bj::object{{"currency", p.currency}, {"value", value}}},
                 {"eventCode", event_code},
                 {"eventDate", now_iso()},
                 {"merchantAccountCode", p.merchant_account},
                 {"merchantReference", p.reference},
                 {"paymentMethod", p.method == "session" ? "visa" : p.method},
                 {"pspReference", psp_ref},
                 {"reason", reason},
                 {"success", success ? "true" : "false"}};
    if (!original.empty()) o["originalReference"] = original;
    return o;
  }

  void send(bj::object item) override {
    if (auto sig = adapters::adyen::item_signature(ctx_.secret(), item)) {
      item["additionalData"].as_object()["hmacSignature"] = *sig;
    }
    std::string object = str(item, "originalReference");
    if (object.empty()) object = str(item, "pspReference");
    bj::object batch{
        {"live", "false"},
        {"notificationItems", bj::array{bj::object{{"NotificationRequestItem", std::move(item)}}}}};
    ctx_.send_webhook(
        {object,
         {{"content-type", "application/json"}, {"user-agent", "Adyen HttpClient 1.0"}},
         bj::serialize(batch)});
  }

  payments::Replays replays_;
  std::map<std::string, Payment> payments_;  // by pspReference (and by session/redirect id)
  bj::array modifications_;
};

}  // namespace

std::unique_ptr<Simulator> make_adyen_sim(Context& ctx) { return std::make_unique<AdyenSim>(ctx); }

}  // namespace mg::sim
