#include "gateway/core/model_json.hpp"

#include <boost/json/serialize.hpp>

namespace mg::core {
namespace bj = boost::json;
namespace {

// Readers for documents merchgate wrote itself: tolerant of missing keys (older rows), strict
// about nothing else.
std::string str(const bj::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
std::optional<std::string> opt_str(const bj::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}
std::int64_t num(const bj::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  if (!v) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  return 0;
}
bool flag(const bj::object& o, std::string_view k, bool fallback = false) {
  const auto* v = o.if_contains(k);
  return v && v->is_bool() ? v->as_bool() : fallback;
}
const bj::array& arr(const bj::object& o, std::string_view k) {
  static const bj::array empty;
  const auto* v = o.if_contains(k);
  return v && v->is_array() ? v->as_array() : empty;
}
const bj::object& obj(const bj::object& o, std::string_view k) {
  static const bj::object empty;
  const auto* v = o.if_contains(k);
  return v && v->is_object() ? v->as_object() : empty;
}
bj::value opt(const std::string& s) { return s.empty() ? bj::value(nullptr) : bj::value(s); }
bj::value opt(const std::optional<std::string>& s) {
  return s ? bj::value(*s) : bj::value(nullptr);
}
std::map<std::string, std::string> string_map(const bj::object& o) {
  std::map<std::string, std::string> m;
  for (const auto& kv : o)
    if (kv.value().is_string()) m[std::string(kv.key())] = std::string(kv.value().as_string());
  return m;
}
bj::object map_json(const std::map<std::string, std::string>& m) {
  bj::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

Address address_from(const bj::object& o) {
  Address a;
  a.name = str(o, "name");
  a.line1 = str(o, "line1");
  a.line2 = opt_str(o, "line2");
  a.city = str(o, "city");
  a.state = opt_str(o, "state");
  a.postal_code = str(o, "postal_code");
  a.country = str(o, "country");
  return a;
}

bj::object client_action_json(const ClientAction& a) {
  bj::object o;
  o["type"] = a.type;
  if (a.type == "redirect") {
    o["url"] = a.value;
  } else {
    o[a.type] = a.value;
  }
  return o;
}

}  // namespace

bj::value time_value(Timestamp t, Form form) {
  if (t == 0) return nullptr;
  if (form == Form::storage) return t;
  return bj::value(format_time(t));
}

bj::object to_json(const Address& a) {
  bj::object o;
  o["name"] = a.name;
  o["line1"] = a.line1;
  o["line2"] = opt(a.line2);
  o["city"] = a.city;
  o["state"] = opt(a.state);
  o["postal_code"] = a.postal_code;
  o["country"] = a.country;
  return o;
}

bj::object to_json(const Shipment& s, Form form) {
  bj::object o;
  o["carrier"] = s.carrier;
  o["tracking_number"] = s.tracking_number;
  o["tracking_url"] = opt(s.tracking_url);
  o["shipped_at"] = time_value(s.shipped_at, form);
  return o;
}

bj::object to_json(const Refund& r, const Checkout& c, Form form) {
  bj::object o;
  o["id"] = r.id;
  o["object"] = "refund";
  o["checkout"] = c.id;
  o["amount"] = r.amount;
  o["currency"] = c.currency;
  o["reason"] = opt(r.reason);
  o["status"] = to_string(r.status);
  o["reference"] = opt(r.reference);
  o["failure_message"] = opt(r.failure_message);
  o["automatic"] = r.automatic;
  o["fulfillment"] = opt(r.fulfillment_id);
  bj::array lines;
  for (const auto& l : r.lines) lines.push_back(bj::object{{"sku", l.sku}, {"quantity", l.quantity}});
  o["lines"] = std::move(lines);
  o["created_at"] = time_value(r.created_at, form);
  o["updated_at"] = time_value(r.updated_at, form);
  return o;
}

bj::object to_json(const Fulfillment& f, const Checkout& c, Form form) {
  bj::object o;
  o["id"] = f.id;
  o["object"] = "fulfillment";
  o["checkout"] = c.id;
  o["adapter"] = f.adapter;
  o["reference"] = opt(f.reference);
  o["status"] = to_string(f.status);
  const bool storage = form == Form::storage;
  bj::array lines;
  for (const auto& l : f.lines) {
    bj::object lo{{"sku", l.sku}, {"quantity", l.quantity}};
    lo["quantity_shipped"] = storage || f.shipped_lines_known() ? bj::value(l.quantity_shipped)
                                                                : bj::value(nullptr);
    lines.push_back(std::move(lo));
  }
  o["lines"] = std::move(lines);
  o["amount"] = f.amount;
  o["amount_shipping"] = f.amount_shipping;
  o["currency"] = c.currency;
  bj::array shipments;
  for (const auto& s : f.shipments) shipments.push_back(to_json(s, form));
  o["shipments"] = std::move(shipments);
  if (storage) o["packages_accounted"] = f.packages_accounted;
  o["failure_code"] = opt(f.failure_code);
  o["failure_message"] = opt(f.failure_message);
  o["created_at"] = time_value(f.created_at, form);
  o["updated_at"] = time_value(f.updated_at, form);
  return o;
}

bj::object to_json(const Dispute& d, const Checkout& c) {
  bj::object o;
  o["object"] = "dispute";
  o["checkout"] = c.id;
  o["reference"] = d.reference;
  o["amount"] = d.amount;
  o["currency"] = c.currency;
  o["reason"] = opt(d.reason);
  o["status"] = d.status;
  o["created_at"] = time_value(d.created_at, Form::api);
  o["updated_at"] = time_value(d.updated_at, Form::api);
  return o;
}

bj::object to_json(const Checkout& c, Form form) {
  const bool storage = form == Form::storage;
  // Sized up front: growing an object rehashes it, which showed in the writer's profile.
  bj::object o(32);
  o["id"] = c.id;
  o["object"] = "checkout";
  o["status"] = to_string(c.status);
  o["seller"] = c.seller;
  o["currency"] = c.currency;
  bj::array lines;
  lines.reserve(c.lines.size());
  for (const auto& l : c.lines) {
    bj::object lo(8);
    lo["sku"] = l.sku;
    lo["title"] = l.title;
    lo["quantity"] = l.quantity;
    lo["unit_amount"] = l.unit_amount;
    lo["amount"] = l.amount;
    lo["fulfillment_adapter"] = opt(l.fulfillment_adapter);
    if (storage) lo["fulfillment_spec"] = l.fulfillment_spec;
    lines.push_back(std::move(lo));
  }
  o["lines"] = std::move(lines);
  o["amount_subtotal"] = c.amount_subtotal;
  o["amount_shipping"] = c.amount_shipping;
  o["amount_total"] = c.amount_total;
  o["amount_refunded"] = c.amount_refunded();
  o["platform_fee"] = c.platform_fee;

  bj::object p(16);
  p["processor"] = opt(c.payment.processor);
  p["reference"] = opt(c.payment.reference);
  p["status"] = to_string(c.payment.status);
  p["method"] = opt(c.payment.method);
  p["return_url"] = opt(c.payment.return_url);
  p["client_action"] =
      c.payment.client_action ? bj::value(client_action_json(*c.payment.client_action)) : nullptr;
  p["failure_code"] = opt(c.payment.failure_code);
  p["failure_message"] = opt(c.payment.failure_message);
  bj::array attempts;
  for (const auto& a : c.payment.attempts) {
    attempts.push_back(bj::object{{"processor", a.processor},
                                  {"outcome", a.outcome},
                                  {"error", opt(a.error)},
                                  {"at", time_value(a.at, form)}});
  }
  p["attempts"] = std::move(attempts);
  if (storage) {
    bj::array candidates;
    for (const auto& s : c.payment.candidates) candidates.push_back(bj::value(s));
    p["candidates"] = std::move(candidates);
    p["partner_data"] = map_json(c.payment.partner_data);
    if (c.payment.client_action) {
      p["client_action"] = bj::object{{"type", c.payment.client_action->type},
                                      {"value", c.payment.client_action->value}};
    }
  }
  o["payment"] = std::move(p);

  bj::array refunds;
  for (const auto& r : c.refunds) refunds.push_back(to_json(r, c, form));
  o["refunds"] = std::move(refunds);
  bj::array fulfillments;
  for (const auto& f : c.fulfillments) fulfillments.push_back(to_json(f, c, form));
  o["fulfillments"] = std::move(fulfillments);
  bj::array disputes;
  for (const auto& d : c.disputes) {
    bj::object dj = to_json(d, c);
    if (storage) {
      dj["created_at"] = d.created_at;
      dj["updated_at"] = d.updated_at;
    }
    disputes.push_back(std::move(dj));
  }
  o["disputes"] = std::move(disputes);

  bj::object buyer;
  buyer["id"] = c.buyer.id;
  buyer["email"] = opt(c.buyer.email);
  buyer["shipping_address"] =
      c.buyer.shipping_address ? bj::value(to_json(*c.buyer.shipping_address)) : nullptr;
  o["buyer"] = std::move(buyer);
  o["metadata"] = c.metadata;
  o["created_at"] = time_value(c.created_at, form);
  o["updated_at"] = time_value(c.updated_at, form);
  o["canceled_at"] = time_value(c.canceled_at, form);
  if (storage) {
    o["api_key_id"] = c.api_key_id;
    o["reconcile_at"] = c.reconcile_at;
  }
  return o;
}

Result<Checkout> checkout_from_storage(const bj::object& o) {
  Checkout c;
  c.id = str(o, "id");
  if (c.id.empty()) return make_error(errc::internal, "stored checkout has no id");
  auto status = checkout_status_from(str(o, "status"));
  if (!status) return make_error(errc::internal, "stored checkout " + c.id + " has a bad status");
  c.status = *status;
  c.seller = str(o, "seller");
  c.currency = str(o, "currency");
  for (const auto& lv : arr(o, "lines")) {
    const auto& lo = lv.as_object();
    Line l;
    l.sku = str(lo, "sku");
    l.title = str(lo, "title");
    l.quantity = num(lo, "quantity");
    l.unit_amount = num(lo, "unit_amount");
    l.amount = num(lo, "amount");
    l.fulfillment_adapter = str(lo, "fulfillment_adapter");
    l.fulfillment_spec = obj(lo, "fulfillment_spec");
    c.lines.push_back(std::move(l));
  }
  c.amount_subtotal = num(o, "amount_subtotal");
  c.amount_shipping = num(o, "amount_shipping");
  c.amount_total = num(o, "amount_total");
  c.platform_fee = num(o, "platform_fee");

  const auto& p = obj(o, "payment");
  c.payment.processor = str(p, "processor");
  c.payment.reference = str(p, "reference");
  c.payment.status = payment_status_from(str(p, "status")).value_or(PaymentStatus::pending);
  c.payment.method = str(p, "method");
  c.payment.return_url = str(p, "return_url");
  if (const auto* ca = p.if_contains("client_action"); ca && ca->is_object()) {
    c.payment.client_action =
        ClientAction{str(ca->as_object(), "type"), str(ca->as_object(), "value")};
  }
  c.payment.failure_code = str(p, "failure_code");
  c.payment.failure_message = str(p, "failure_message");
  for (const auto& v : arr(p, "candidates"))
    if (v.is_string()) c.payment.candidates.emplace_back(v.as_string());
  for (const auto& v : arr(p, "attempts")) {
    const auto& a = v.as_object();
    c.payment.attempts.push_back(
        {str(a, "processor"), str(a, "outcome"), str(a, "error"), num(a, "at")});
  }
  c.payment.partner_data = string_map(obj(p, "partner_data"));

  for (const auto& v : arr(o, "refunds")) {
    const auto& r = v.as_object();
    Refund x;
    x.id = str(r, "id");
    x.amount = num(r, "amount");
    x.reason = str(r, "reason");
    x.status = refund_status_from(str(r, "status")).value_or(RefundStatus::pending);
    x.reference = str(r, "reference");
    x.failure_message = str(r, "failure_message");
    x.automatic = flag(r, "automatic");
    x.fulfillment_id = str(r, "fulfillment");
    for (const auto& lv : arr(r, "lines")) {
      x.lines.push_back({str(lv.as_object(), "sku"), num(lv.as_object(), "quantity")});
    }
    x.created_at = num(r, "created_at");
    x.updated_at = num(r, "updated_at");
    c.refunds.push_back(std::move(x));
  }
  for (const auto& v : arr(o, "fulfillments")) {
    const auto& f = v.as_object();
    Fulfillment x;
    x.id = str(f, "id");
    x.adapter = str(f, "adapter");
    x.reference = str(f, "reference");
    x.status = fulfillment_status_from(str(f, "status")).value_or(FulfillmentStatus::pending);
    for (const auto& lv : arr(f, "lines")) {
      const auto& lo = lv.as_object();
      x.lines.push_back({str(lo, "sku"), num(lo, "quantity"), num(lo, "quantity_shipped")});
    }
    x.amount = num(f, "amount");
    x.amount_shipping = num(f, "amount_shipping");
    for (const auto& sv : arr(f, "shipments")) {
      const auto& s = sv.as_object();
      x.shipments.push_back({str(s, "carrier"), str(s, "tracking_number"), str(s, "tracking_url"),
                             num(s, "shipped_at")});
    }
    x.packages_accounted = num(f, "packages_accounted");
    x.failure_code = str(f, "failure_code");
    x.failure_message = str(f, "failure_message");
    x.created_at = num(f, "created_at");
    x.updated_at = num(f, "updated_at");
    c.fulfillments.push_back(std::move(x));
  }
  for (const auto& v : arr(o, "disputes")) {
    const auto& d = v.as_object();
    c.disputes.push_back({str(d, "reference"), num(d, "amount"), str(d, "reason"), str(d, "status"),
                          num(d, "created_at"), num(d, "updated_at")});
  }
  const auto& b = obj(o, "buyer");
  c.buyer.id = str(b, "id");
  c.buyer.email = str(b, "email");
  if (const auto* a = b.if_contains("shipping_address"); a && a->is_object()) {
    c.buyer.shipping_address = address_from(a->as_object());
  }
  c.metadata = obj(o, "metadata");
  c.api_key_id = str(o, "api_key_id");
  c.created_at = num(o, "created_at");
  c.updated_at = num(o, "updated_at");
  c.canceled_at = num(o, "canceled_at");
  c.reconcile_at = num(o, "reconcile_at");
  return c;
}

bj::object to_json(const Seller& s, Form form) {
  bj::object o;
  o["id"] = s.id;
  o["object"] = "seller";
  o["name"] = s.name;
  o["platform_fee_bps"] = s.platform_fee_bps;
  o["payouts"] = map_json(s.payouts);
  o["created_at"] = time_value(s.created_at, form);
  o["updated_at"] = time_value(s.updated_at, form);
  return o;
}

Result<Seller> seller_from_storage(const bj::object& o) {
  Seller s;
  s.id = str(o, "id");
  s.name = str(o, "name");
  s.platform_fee_bps = num(o, "platform_fee_bps");
  s.payouts = string_map(obj(o, "payouts"));
  s.created_at = num(o, "created_at");
  s.updated_at = num(o, "updated_at");
  if (s.id.empty()) return make_error(errc::internal, "stored seller has no id");
  return s;
}

bj::object to_json(const Product& p, Form form) {
  bj::object o;
  o["sku"] = p.sku;
  o["object"] = "product";
  o["seller"] = p.seller;
  o["title"] = p.title;
  o["description"] = opt(p.description);
  o["unit_amount"] = p.unit_amount;
  o["currency"] = p.currency;
  bj::array images;
  for (const auto& i : p.images) images.push_back(bj::value(i));
  o["images"] = std::move(images);
  o["group"] = opt(p.group);
  o["options"] = map_json(p.options);
  o["active"] = p.active;
  o["in_stock"] = p.in_stock;
  o["fulfillment"] = p.fulfillment ? bj::value(*p.fulfillment) : bj::value(nullptr);
  o["created_at"] = time_value(p.created_at, form);
  o["updated_at"] = time_value(p.updated_at, form);
  return o;
}

Result<Product> product_from_storage(const bj::object& o) {
  Product p;
  p.sku = str(o, "sku");
  p.seller = str(o, "seller");
  p.title = str(o, "title");
  p.description = str(o, "description");
  p.unit_amount = num(o, "unit_amount");
  p.currency = str(o, "currency");
  for (const auto& v : arr(o, "images"))
    if (v.is_string()) p.images.emplace_back(v.as_string());
  p.group = str(o, "group");
  p.options = string_map(obj(o, "options"));
  p.active = flag(o, "active", true);
  p.in_stock = flag(o, "in_stock", true);
  if (const auto* f = o.if_contains("fulfillment"); f && f->is_object()) {
    p.fulfillment = f->as_object();
  }
  p.created_at = num(o, "created_at");
  p.updated_at = num(o, "updated_at");
  if (p.sku.empty()) return make_error(errc::internal, "stored product has no sku");
  return p;
}

std::string event_body(const Event& e) {
  bj::object o(8);
  o["id"] = e.id;
  o["object"] = "event";
  o["type"] = e.type;
  o["created_at"] = format_time(e.created_at);
  o["checkout"] = opt(e.checkout_id);
  // `data` goes last and is spliced in as text: wrapping the snapshot in a new object would copy
  // the whole tree first, which showed in the writer's profile.
  std::string body = bj::serialize(o);
  body.pop_back();  // the closing brace
  body += ",\"data\":{\"object\":";
  body += bj::serialize(e.object);
  body += "}}";
  return body;
}

}  // namespace mg::core
