#pragma once
// What the merch-partner simulators (printful, printify, gelato, partner-protocol) share: an order
// book whose orders walk submitted -> in production -> shipped (one package, or two with the
// split_shipments knob: the first half of the units, then the rest) -> delivered on a clock, or
// fail after their first package (fail_after_first_package), announcing each change so the
// simulator can send its partner's webhook, plus small request helpers.
//
// The step between stages is MERCHGATE_SIM_ORDER_STEP_MS (default 2000 ms): tests make it short,
// or very long to hold orders where they are.
#include "tools/sim/sim.hpp"

#include <boost/json/object.hpp>

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mg::sim::merch {

enum class Stage { draft, submitted, in_production, shipped, delivered, canceled, failed };
std::string_view to_string(Stage s);

// Units of one item of the create request: its index there, and how many.
struct ItemUnits {
  std::size_t item = 0;
  std::int64_t quantity = 0;
};

struct Package {
  std::string id;
  std::string carrier;
  std::string tracking_number;
  std::string tracking_url;
  std::int64_t shipped_at_ms = 0;
  std::vector<ItemUnits> items;  // what it holds
};

struct Order {
  std::string id;
  std::string external_id;
  std::string scope;            // the shop or store it belongs to
  boost::json::object request;  // the create body as received
  std::int64_t created_ms = 0;
  std::int64_t confirmed_ms = 0;  // 0: a draft
  std::int64_t canceled_ms = 0;
  bool failed = false;
  std::string failure;
  std::vector<std::int64_t> item_quantities;  // of the create request's items, in order
  // Set from the knobs when the order is added.
  bool split = false;                     // ships in two packages
  bool fails_after_first_package = false;  // fails once its first package left
  std::string tracking_prefix;
  std::string carrier = "SIM Post";

  // Derived from the clock.
  Stage stage = Stage::draft;
  std::vector<Package> packages;
  bool partial = false;  // shipped, with the second package still to come
};

class OrderBook {
 public:
  // `on_change` is called (outside the lock) for every order whose stage or package count moved
  // since it was last announced, with the order as it is now and the stage announced before.
  using OnChange =
      std::function<void(const Order& order, Stage before, std::size_t packages_before)>;

  // `id_prefix` "#": ids are numbers (Printful); otherwise prefix + random characters.
  OrderBook(Context& ctx, std::string id_prefix, OnChange on_change);

  std::int64_t step_ms() const { return step_ms_; }

  // Adds an order (its id is made here, its shipping from the knobs) and returns it as stored.
  Order add(Order order);
  std::optional<Order> find(std::string_view id) const;
  std::optional<Order> find_external(std::string_view scope, std::string_view external_id) const;
  // Newest first.
  std::vector<Order> list(std::string_view scope) const;
  // Applies `change` to the stored order (confirm, cancel, fail); nullopt when unknown.
  std::optional<Order> update(std::string_view id, const std::function<void(Order&)>& change);
  boost::json::object state() const;

 private:
  Task<void> ticker();
  void refresh(Order& o, std::int64_t now) const;

  Context& ctx_;
  std::string prefix_;
  OnChange on_change_;
  std::int64_t step_ms_ = 2000;
  mutable std::mutex mutex_;
  std::vector<Order> orders_;
  std::vector<std::pair<Stage, std::size_t>> announced_;
  std::int64_t next_number_ = 0;
};

// A merch partner's simulator: serves the partner's API (`route`) over an order book and sends
// the partner's webhook for every change of an order (`announce`). The book's ticker reports only
// orders that `route` added, so `announce` is never called before the simulator is complete.
class OrderBookSim : public Simulator {
 public:
  OrderBookSim(Context& ctx, std::string id_prefix)
      : Simulator(ctx),
        book_(ctx, std::move(id_prefix),
              [this](const Order& o, Stage before, std::size_t packages_before) {
                announce(o, before, packages_before);
              }) {}

  Task<http::Response> handle(http::Request& req) override { co_return route(req); }
  boost::json::object state() const override { return book_.state(); }

 protected:
  virtual http::Response route(const http::Request& req) = 0;
  virtual void announce(const Order& o, Stage before, std::size_t packages_before) = 0;

  OrderBook book_;
};

// How many units of an item all the order's packages so far held.
std::int64_t units_shipped(const Order& o, std::size_t item);

// ---- request helpers --------------------------------------------------------------------------

// The `quantity` of each object in a request's items array (1 when absent).
std::vector<std::int64_t> quantities(const boost::json::value* items);

// "Bearer <token>" with a non-empty token other than "invalid".
bool bearer_ok(const http::Request& req);
std::optional<boost::json::object> body_object(const http::Request& req);
// "/a/b/c" -> {"a", "b", "c"}
std::vector<std::string> segments(std::string_view path);
std::string str(const boost::json::object& o, std::string_view key);
std::int64_t num(const boost::json::object& o, std::string_view key, std::int64_t fallback = 0);
// 1360 EUR -> "13.60"
std::string decimal(std::int64_t minor, std::string_view currency);
// The simulated shipping price: 399 minor units plus 100 for every further item (x100 for
// zero-decimal currencies).
std::int64_t shipping_price(std::int64_t items, std::string_view currency);
// ISO time of a Unix-ms instant, "2026-11-26T16:32:00Z" (seconds).
std::string iso_time(std::int64_t ms);
// The address the simulators cannot ship to (the documented test value).
inline constexpr std::string_view kUnshippableCountry = "AQ";

}  // namespace mg::sim::merch
