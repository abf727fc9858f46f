#include "tools/sim/merch_sim.hpp"

#include "gateway/core/clock.hpp"
#include "gateway/core/money.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <cstdlib>

namespace mg::sim::merch {
namespace asio = boost::asio;
namespace bj = boost::json;

std::string_view to_string(Stage s) {
  switch (s) {
    case Stage::draft:
      return "draft";
    case Stage::submitted:
      return "submitted";
    case Stage::in_production:
      return "in_production";
    case Stage::shipped:
      return "shipped";
    case Stage::delivered:
      return "delivered";
    case Stage::canceled:
      return "canceled";
    case Stage::failed:
      return "failed";
  }
  return "draft";
}

OrderBook::OrderBook(Context& ctx, std::string id_prefix, OnChange on_change)
    : ctx_(ctx), prefix_(std::move(id_prefix)), on_change_(std::move(on_change)) {
  if (const char* step = std::getenv("MERCHGATE_SIM_ORDER_STEP_MS")) {
    std::int64_t v = std::atoll(step);
    if (v > 0) step_ms_ = v;
  }
  asio::co_spawn(ctx_.io(), ticker(), asio::detached);
}

namespace {

// What each package holds: everything in one; split, the first half of the units (rounded up,
// in item order) and then the rest.
std::vector<std::vector<ItemUnits>> package_contents(const Order& o) {
  std::vector<std::vector<ItemUnits>> out(1);
  bool split = o.split || o.fails_after_first_package;
  if (split) out.emplace_back();
  std::int64_t units = 0;
  for (auto q : o.item_quantities) units += q;
  std::int64_t first = split ? (units + 1) / 2 : units;
  for (std::size_t i = 0; i < o.item_quantities.size(); ++i) {
    std::int64_t q = o.item_quantities[i];
    std::int64_t in_first = std::min(q, first);
    first -= in_first;
    if (in_first > 0) out[0].push_back({i, in_first});
    if (q > in_first) out[1].push_back({i, q - in_first});
  }
  return out;
}

}  // namespace

void OrderBook::refresh(Order& o, std::int64_t now) const {
  o.packages.clear();
  o.partial = false;
  if (o.canceled_ms) {
    o.stage = Stage::canceled;
    return;
  }
  if (o.failed) {
    o.stage = Stage::failed;
    return;
  }
  if (!o.confirmed_ms) {
    o.stage = Stage::draft;
    return;
  }
  std::int64_t age = now - o.confirmed_ms;
  std::int64_t s = step_ms_;
  auto contents = package_contents(o);
  auto package = [&](std::size_t n, std::int64_t at) {
    std::string number = o.tracking_prefix + std::to_string(n + 1);
    o.packages.push_back({o.id + "-p" + std::to_string(n + 1), o.carrier, number,
                          "https://tracking.example/sim/" + number, o.confirmed_ms + at,
                          contents[n]});
  };
  if (age >= 2 * s) package(0, 2 * s);
  bool second_due = contents.size() > 1 && age >= 2 * s + s / 2;
  if (second_due && o.fails_after_first_package) {
    o.stage = Stage::failed;
    o.failure = "The rest of the order could not be produced";
    return;
  }
  if (second_due) package(1, 2 * s + s / 2);
  o.partial = contents.size() > 1 && o.packages.size() == 1;
  if (age >= 4 * s) {
    o.stage = Stage::delivered;
  } else if (age >= 2 * s) {
    o.stage = Stage::shipped;
  } else if (age >= s) {
    o.stage = Stage::in_production;
  } else {
    o.stage = Stage::submitted;
  }
}

Order OrderBook::add(Order order) {
  Knobs knobs = ctx_.knobs();
  order.split = knobs.split_shipments;
  order.fails_after_first_package = knobs.fail_after_first_package;
  std::lock_guard lock(mutex_);
  if (prefix_ == "#") {
    if (next_number_ == 0)
      next_number_ = 10'000 + std::stoll(ctx_.random_id("", 1), nullptr, 36) * 1000;
    order.id = std::to_string(next_number_++);
  } else {
    order.id = ctx_.random_id(prefix_, 12);
  }
  order.tracking_prefix = "SIM" + ctx_.random_id("", 10);
  order.created_ms = ctx_.now_ms();
  refresh(order, order.created_ms);
  orders_.push_back(order);
  announced_.push_back({order.stage, order.packages.size()});
  return order;
}

std::optional<Order> OrderBook::find(std::string_view id) const {
  std::lock_guard lock(mutex_);
  for (auto o : orders_) {
    if (o.id == id) {
      refresh(o, ctx_.now_ms());
      return o;
    }
  }
  return std::nullopt;
}

std::optional<Order> OrderBook::find_external(std::string_view scope,
                                              std::string_view external_id) const {
  std::lock_guard lock(mutex_);
  for (auto o : orders_) {
    if (o.scope == scope && o.external_id == external_id && !external_id.empty()) {
      refresh(o, ctx_.now_ms());
      return o;
    }
  }
  return std::nullopt;
}

std::vector<Order> OrderBook::list(std::string_view scope) const {
  std::lock_guard lock(mutex_);
  std::vector<Order> out;
  for (auto it = orders_.rbegin(); it != orders_.rend(); ++it) {
    if (it->scope != scope) continue;
    Order o = *it;
    refresh(o, ctx_.now_ms());
    out.push_back(std::move(o));
  }
  return out;
}

std::optional<Order> OrderBook::update(std::string_view id,
                                       const std::function<void(Order&)>& change) {
  std::lock_guard lock(mutex_);
  for (auto& o : orders_) {
    if (o.id != id) continue;
    change(o);
    Order copy = o;
    refresh(copy, ctx_.now_ms());
    return copy;
  }
  return std::nullopt;
}

bj::object OrderBook::state() const {
  std::lock_guard lock(mutex_);
  bj::array orders;
  for (auto o : orders_) {
    refresh(o, ctx_.now_ms());
    bj::array packages;
    for (const auto& p : o.packages) {
      packages.push_back(bj::object{{"carrier", p.carrier},
                                    {"tracking_number", p.tracking_number},
                                    {"tracking_url", p.tracking_url}});
    }
    orders.push_back(bj::object{{"id", o.id},
                                {"external_id", o.external_id},
                                {"scope", o.scope},
                                {"stage", to_string(o.stage)},
                                {"packages", std::move(packages)},
                                {"request", o.request}});
  }
  return bj::object{{"orders", std::move(orders)}, {"step_ms", step_ms_}};
}

Task<void> OrderBook::ticker() {
  asio::steady_timer timer(ctx_.io());
  for (;;) {
    timer.expires_after(std::chrono::milliseconds(50));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    struct Change {
      Order order;
      Stage before;
      std::size_t packages_before;
    };
    std::vector<Change> changes;
    {
      std::lock_guard lock(mutex_);
      std::int64_t now = ctx_.now_ms();
      for (std::size_t i = 0; i < orders_.size(); ++i) {
        Order o = orders_[i];
        refresh(o, now);
        auto& [stage, packages] = announced_[i];
        if (o.stage != stage || o.packages.size() != packages) {
          changes.push_back({o, stage, packages});
          stage = o.stage;
          packages = o.packages.size();
        }
      }
    }
    for (const auto& c : changes) on_change_(c.order, c.before, c.packages_before);
  }
}

std::int64_t units_shipped(const Order& o, std::size_t item) {
  std::int64_t n = 0;
  for (const auto& p : o.packages) {
    for (const auto& u : p.items) {
      if (u.item == item) n += u.quantity;
    }
  }
  return n;
}

std::vector<std::int64_t> quantities(const bj::value* items) {
  std::vector<std::int64_t> out;
  if (!items || !items->is_array()) return out;
  for (const auto& it : items->as_array()) {
    if (it.is_object()) out.push_back(num(it.as_object(), "quantity", 1));
  }
  return out;
}

bool bearer_ok(const http::Request& req) {
  std::string_view auth = req.header("authorization");
  if (!auth.starts_with("Bearer ")) return false;
  std::string_view token = auth.substr(7);
  return !token.empty() && token != "invalid";
}

std::optional<bj::object> body_object(const http::Request& req) {
  boost::system::error_code ec;
  bj::value v = bj::parse(req.body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::vector<std::string> segments(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string str(const bj::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return {};
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  return {};
}

std::int64_t num(const bj::object& o, std::string_view key, std::int64_t fallback) {
  const auto* v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : fallback;
}

std::string decimal(std::int64_t minor, std::string_view currency) {
  auto c = core::find_currency(currency);
  int e = c ? c->exponent : 2;
  std::string digits = std::to_string(minor);
  if (e == 0) return digits;
  if (digits.size() <= static_cast<std::size_t>(e)) {
    digits.insert(0, static_cast<std::size_t>(e) + 1 - digits.size(), '0');
  }
  digits.insert(digits.size() - static_cast<std::size_t>(e), ".");
  return digits;
}

std::int64_t shipping_price(std::int64_t items, std::string_view currency) {
  auto c = core::find_currency(currency);
  std::int64_t price = 399 + 100 * std::max<std::int64_t>(items - 1, 0);
  return c && c->exponent == 0 ? price * 2 : price;  // 798 JPY rather than 3.99
}

std::string iso_time(std::int64_t ms) {
  std::string t = core::format_time(ms);  // "2026-11-26T16:32:00.123Z"
  return t.size() > 20 ? t.substr(0, 19) + "Z" : t;
}

}  // namespace mg::sim::merch
