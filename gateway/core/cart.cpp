#include "gateway/core/cart.hpp"

#include "gateway/core/card_scan.hpp"
#include "gateway/core/country.hpp"
#include "gateway/core/crypto.hpp"
#include "gateway/core/json.hpp"
#include "gateway/core/money.hpp"

#include <set>

namespace mg::core {
namespace bj = boost::json;
using json::Field;

namespace {

bool plausible_email(std::string_view e) {
  auto at = e.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < e.size() &&
         e.find('@', at + 1) == std::string_view::npos &&
         e.find('.', at + 1) != std::string_view::npos && e.find(' ') == std::string_view::npos;
}

bool plausible_url(std::string_view u) {
  return (u.starts_with("https://") || u.starts_with("http://")) && u.size() > 8 &&
         u.find_first_of(" \t\r\n<>\"") == std::string_view::npos;
}

Result<void> parse_metadata(const bj::object& o, bj::object& out) {
  if (o.size() > 50) {
    return make_error(errc::invalid_field, "'metadata' holds at most 50 keys", "metadata");
  }
  for (const auto& kv : o) {
    std::string path = json::join("metadata", kv.key());
    if (kv.key().empty() || kv.key().size() > 40) {
      return make_error(errc::invalid_field, "metadata keys are 1 to 40 characters", path);
    }
    if (!kv.value().is_string()) {
      return make_error(errc::invalid_field, "metadata values must be strings", path);
    }
    if (kv.value().as_string().size() > 500 || !json::is_clean_text(kv.value().as_string())) {
      return make_error(errc::invalid_field, "metadata values are text of at most 500 characters",
                        path);
    }
    out[kv.key()] = kv.value();
  }
  return {};
}

}  // namespace

Result<Address> parse_address(const bj::object& o, std::string_view prefix) {
  if (auto r = json::only_keys(
          o, {"name", "line1", "line2", "city", "state", "postal_code", "country"}, prefix);
      !r) {
    return r.error();
  }
  Address a;
  auto name = json::required_string({o, "name", prefix}, 200);
  if (!name) return name.error();
  a.name = *name;
  auto line1 = json::required_string({o, "line1", prefix}, 200);
  if (!line1) return line1.error();
  a.line1 = *line1;
  auto line2 = json::optional_string({o, "line2", prefix}, 200);
  if (!line2) return line2.error();
  a.line2 = *line2;
  auto city = json::required_string({o, "city", prefix}, 100);
  if (!city) return city.error();
  a.city = *city;
  auto state = json::optional_string({o, "state", prefix}, 100);
  if (!state) return state.error();
  a.state = *state;
  auto postal = json::optional_string({o, "postal_code", prefix}, 20);
  if (!postal) return postal.error();
  a.postal_code = postal->value_or("");
  auto country = json::required_string({o, "country", prefix}, 2, 2);
  if (!country && country.error().code == errc::missing_field) return country.error();
  if (!country || !is_country_code(*country)) {
    std::string path = json::join(prefix, "country");
    return make_error(errc::invalid_field,
                      "'" + path + "' must be an upper-case ISO 3166-1 alpha-2 country code", path);
  }
  a.country = *country;
  return a;
}

Result<CheckoutRequest> parse_checkout_request(const bj::object& body) {
  if (auto card = find_card_data(body)) {
    return make_error(errc::card_data_forbidden,
                      "card numbers and security codes must never be sent to merchgate; collect "
                      "them with the payment processor's client SDK",
                      *card);
  }
  if (auto r = json::only_keys(body,
                               {"seller", "buyer", "currency", "lines", "payment", "metadata"}, "");
      !r) {
    return r.error();
  }
  CheckoutRequest req;
  auto seller = json::required_string({body, "seller", ""}, 100);
  if (!seller) return seller.error();
  req.seller = *seller;

  auto currency = json::required_string({body, "currency", ""}, 3, 3);
  if (!currency && currency.error().code == errc::missing_field) return currency.error();
  if (!currency || !find_currency(*currency)) {
    return make_error(errc::unknown_currency,
                      "'currency' must be an upper-case ISO 4217 currency code such as EUR",
                      "currency");
  }
  req.currency = *currency;

  auto buyer = json::required_object({body, "buyer", ""});
  if (!buyer) return buyer.error();
  if (auto r = json::only_keys(**buyer, {"id", "email", "shipping_address"}, "buyer"); !r) {
    return r.error();
  }
  auto buyer_id = json::required_string({**buyer, "id", "buyer"}, 255);
  if (!buyer_id) return buyer_id.error();
  req.buyer.id = *buyer_id;
  auto email = json::optional_string({**buyer, "email", "buyer"}, 254);
  if (!email) return email.error();
  if (*email && !plausible_email(**email)) {
    return make_error(errc::invalid_field, "'buyer.email' is not an email address", "buyer.email");
  }
  req.buyer.email = email->value_or("");
  auto address = json::optional_object({**buyer, "shipping_address", "buyer"});
  if (!address) return address.error();
  if (*address) {
    auto a = parse_address(**address, "buyer.shipping_address");
    if (!a) return a.error();
    req.buyer.shipping_address = std::move(*a);
  }

  auto lines = json::required_array({body, "lines", ""});
  if (!lines) return lines.error();
  if ((*lines)->empty() || (*lines)->size() > kMaxCheckoutLines) {
    return make_error(errc::invalid_field, "'lines' must hold 1 to 100 lines", "lines");
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < (*lines)->size(); ++i) {
    std::string path = json::index("lines", i);
    const auto& lv = (**lines)[i];
    if (!lv.is_object()) return make_error(errc::invalid_field, "each line is an object", path);
    const auto& lo = lv.as_object();
    if (auto r = json::only_keys(lo, {"sku", "quantity"}, path); !r) return r.error();
    auto sku = json::required_string({lo, "sku", path}, 100);
    if (!sku) return sku.error();
    auto qty = json::required_int({lo, "quantity", path}, 1, kMaxLineQuantity);
    if (!qty) return qty.error();
    if (!seen.insert(*sku).second) {
      return make_error(errc::invalid_field,
                        "sku '" + *sku + "' appears in two lines; use one line with a quantity",
                        json::join(path, "sku"));
    }
    req.lines.push_back({*sku, *qty});
  }

  auto payment = json::optional_object({body, "payment", ""});
  if (!payment) return payment.error();
  if (*payment) {
    if (auto r = json::only_keys(**payment, {"processor", "method", "return_url"}, "payment"); !r) {
      return r.error();
    }
    auto processor = json::optional_string({**payment, "processor", "payment"}, 100);
    if (!processor) return processor.error();
    req.processor = processor->value_or("");
    auto method = json::optional_string({**payment, "method", "payment"}, 255);
    if (!method) return method.error();
    req.method = method->value_or("");
    auto ret = json::optional_string({**payment, "return_url", "payment"}, 2048);
    if (!ret) return ret.error();
    if (*ret && !plausible_url(**ret)) {
      return make_error(errc::invalid_field, "'payment.return_url' must be an http(s) URL",
                        "payment.return_url");
    }
    req.return_url = ret->value_or("");
  }

  auto metadata = json::optional_object({body, "metadata", ""});
  if (!metadata) return metadata.error();
  if (*metadata) {
    if (auto r = parse_metadata(**metadata, req.metadata); !r) return r.error();
  }
  return req;
}

Result<CartPlan> plan_cart(const CheckoutRequest& request, const Seller& seller,
                           const std::function<const Product*(const std::string&)>& find_product) {
  CartPlan plan;
  for (std::size_t i = 0; i < request.lines.size(); ++i) {
    const auto& lr = request.lines[i];
    std::string param = json::join(json::index("lines", i), "sku");
    const Product* p = find_product(lr.sku);
    if (!p)
      return make_error(errc::resource_missing, "no product with sku '" + lr.sku + "'", param);
    if (p->seller != seller.id) {
      return make_error(errc::unprocessable,
                        "product '" + lr.sku + "' is not sold by seller '" + seller.id + "'",
                        param);
    }
    if (!p->active) {
      return make_error(errc::unprocessable, "product '" + lr.sku + "' is not for sale", param);
    }
    if (!p->in_stock) {
      return make_error(errc::unprocessable, "product '" + lr.sku + "' is out of stock", param);
    }
    if (p->currency != request.currency) {
      return make_error(errc::currency_mismatch,
                        "product '" + lr.sku + "' is priced in " + p->currency +
                            ", the checkout is in " + request.currency,
                        param);
    }
    auto amount = checked_mul(p->unit_amount, lr.quantity);
    std::optional<std::int64_t> subtotal =
        amount ? checked_add(plan.amount_subtotal, *amount) : std::nullopt;
    if (!subtotal || *subtotal > kMaxCheckoutAmount) {
      return make_error(errc::amount_too_large,
                        "the checkout total may be at most " + std::to_string(kMaxCheckoutAmount) +
                            " minor units",
                        "lines");
    }
    plan.amount_subtotal = *subtotal;
    Line line;
    line.sku = p->sku;
    line.title = p->title;
    line.quantity = lr.quantity;
    line.unit_amount = p->unit_amount;
    line.amount = *amount;
    line.fulfillment_adapter = p->fulfillment_adapter();
    if (p->fulfillment) line.fulfillment_spec = *p->fulfillment;
    if (!line.fulfillment_adapter.empty()) {
      plan.lines_by_adapter[line.fulfillment_adapter].push_back(plan.lines.size());
    }
    plan.lines.push_back(std::move(line));
  }
  if (!plan.lines_by_adapter.empty() && !request.buyer.shipping_address) {
    return make_error(errc::missing_field,
                      "'buyer.shipping_address' is required: the cart holds products that ship",
                      "buyer.shipping_address");
  }
  return plan;
}

Result<Checkout> build_checkout(CheckoutRequest request, CartPlan plan, const Seller& seller,
                                const std::map<std::string, std::int64_t>& shipping,
                                std::string api_key_id, Timestamp now) {
  Checkout c;
  c.id = new_id("chk");
  c.seller = seller.id;
  c.currency = request.currency;
  c.amount_subtotal = plan.amount_subtotal;
  std::int64_t ship_total = 0;
  for (const auto& [adapter, indexes] : plan.lines_by_adapter) {
    Fulfillment f;
    f.id = new_id("ful");
    f.adapter = adapter;
    for (auto i : indexes) {
      f.lines.push_back({plan.lines[i].sku, plan.lines[i].quantity});
      f.amount += plan.lines[i].amount;
    }
    auto it = shipping.find(adapter);
    f.amount_shipping = it == shipping.end() ? 0 : it->second;
    auto sum = checked_add(ship_total, f.amount_shipping);
    if (!sum) return make_error(errc::amount_too_large, "shipping overflows", "lines");
    ship_total = *sum;
    f.created_at = f.updated_at = now;
    c.fulfillments.push_back(std::move(f));
  }
  c.amount_shipping = ship_total;
  auto total = checked_add(c.amount_subtotal, ship_total);
  if (!total || *total > kMaxCheckoutAmount) {
    return make_error(
        errc::amount_too_large,
        "the checkout total may be at most " + std::to_string(kMaxCheckoutAmount) + " minor units",
        "lines");
  }
  c.amount_total = *total;
  c.platform_fee = basis_points_of(c.amount_subtotal, seller.platform_fee_bps).value_or(0);
  c.lines = std::move(plan.lines);
  c.payment.processor = request.processor;
  c.payment.method = request.method;
  c.payment.return_url = request.return_url;
  c.buyer = std::move(request.buyer);
  c.metadata = std::move(request.metadata);
  c.api_key_id = std::move(api_key_id);
  c.created_at = c.updated_at = now;
  return c;
}

}  // namespace mg::core
