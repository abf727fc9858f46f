// Catalog and configuration: sellers, products, adapters, routing.
#include "gateway/core/model_json.hpp"
#include "gateway/store/sqlite_tx.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace mg::store::sqlite {
namespace bj = boost::json;

int page_limit(const ListQuery& q) { return q.limit < 1 ? 20 : (q.limit > 100 ? 100 : q.limit); }

namespace {

bj::object parse_doc(std::string_view text) {
  bj::value v = bj::parse(text);
  return std::move(v.as_object());
}

core::Product product_row(Statement& s, int col) {
  auto p = core::product_from_storage(parse_doc(s.text_view(col)));
  if (!p) throw Error(SQLITE_CORRUPT, p.error().message);
  return std::move(*p);
}

}  // namespace

std::optional<std::int64_t> SqliteTx::seq_of(const char* sql, std::string_view id) {
  if (id.empty()) return std::nullopt;
  Use s(db_.prepare(sql));
  s->bind(1, id);
  if (!s->step()) return std::nullopt;
  return s->int64(0);
}

std::optional<core::Seller> SqliteTx::seller(std::string_view id) {
  Use s(db_.prepare("SELECT doc FROM sellers WHERE id = ?"));
  s->bind(1, id);
  if (!s->step()) return std::nullopt;
  auto r = core::seller_from_storage(parse_doc(s->text_view(0)));
  if (!r) throw Error(SQLITE_CORRUPT, r.error().message);
  return std::move(*r);
}

Page<core::Seller> SqliteTx::sellers(const ListQuery& q) {
  int limit = page_limit(q);
  Use s(db_.prepare("SELECT doc FROM sellers WHERE id > ? ORDER BY id LIMIT ?"));
  s->bind(1, q.starting_after).bind(2, limit + 1);
  Page<core::Seller> page;
  while (s->step()) {
    if (static_cast<int>(page.data.size()) == limit) {
      page.has_more = true;
      break;
    }
    auto r = core::seller_from_storage(parse_doc(s->text_view(0)));
    if (!r) throw Error(SQLITE_CORRUPT, r.error().message);
    page.data.push_back(std::move(*r));
  }
  return page;
}

void SqliteTx::put_seller(const core::Seller& seller) {
  std::string doc = bj::serialize(core::to_json(seller, core::Form::storage));
  Use s(db_.prepare(
      "INSERT INTO sellers (id, doc, created_at, updated_at) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at"));
  s->bind(1, seller.id).bind(2, doc).bind(3, seller.created_at).bind(4, seller.updated_at);
  s->run();
}

std::optional<core::Product> SqliteTx::product(std::string_view sku) {
  Use s(db_.prepare("SELECT doc FROM products WHERE sku = ?"));
  s->bind(1, sku);
  if (!s->step()) return std::nullopt;
  return product_row(*s, 0);
}

Page<core::Product> SqliteTx::products(std::string_view seller, bool active_only,
                                       const ListQuery& q) {
  int limit = page_limit(q);
  Use s(db_.prepare(
      "SELECT doc FROM products WHERE (?1 = '' OR seller = ?1) AND (?2 = 0 OR active = 1) "
      "AND sku > ?3 ORDER BY sku LIMIT ?4"));
  s->bind(1, seller).bind(2, active_only).bind(3, q.starting_after).bind(4, limit + 1);
  Page<core::Product> page;
  while (s->step()) {
    if (static_cast<int>(page.data.size()) == limit) {
      page.has_more = true;
      break;
    }
    page.data.push_back(product_row(*s, 0));
  }
  return page;
}

std::vector<core::Product> SqliteTx::products_in_group(std::string_view seller,
                                                       std::string_view group) {
  std::vector<core::Product> out;
  if (group.empty()) return out;
  Use s(
      db_.prepare("SELECT doc FROM products WHERE seller = ? AND grp = ? ORDER BY sku LIMIT 100"));
  s->bind(1, seller).bind(2, group);
  while (s->step()) out.push_back(product_row(*s, 0));
  return out;
}

void SqliteTx::put_product(const core::Product& p) {
  std::string doc = bj::serialize(core::to_json(p, core::Form::storage));
  Use s(db_.prepare(
      "INSERT INTO products (sku, seller, active, grp, doc, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sku) DO UPDATE SET seller = excluded.seller, "
      "active = excluded.active, grp = excluded.grp, doc = excluded.doc, "
      "updated_at = excluded.updated_at"));
  s->bind(1, p.sku).bind(2, p.seller).bind(3, p.active).bind_text_or_null(4, p.group);
  s->bind(5, doc).bind(6, p.created_at).bind(7, p.updated_at);
  s->run();
}

bool SqliteTx::delete_product(std::string_view sku) {
  Use s(db_.prepare("DELETE FROM products WHERE sku = ?"));
  s->bind(1, sku);
  s->run();
  return db_.changes() > 0;
}

WriteTx::SellerUse SqliteTx::seller_use(std::string_view id) {
  auto count = [&](const char* sql) {
    Use s(db_.prepare(sql));
    s->bind(1, id);
    return s->step() ? static_cast<long>(s->int64(0)) : 0L;
  };
  SellerUse u;
  u.products = count("SELECT COUNT(*) FROM products WHERE seller = ?");
  u.checkouts = count("SELECT COUNT(*) FROM checkouts WHERE seller = ?");
  u.api_keys = count("SELECT COUNT(*) FROM api_keys WHERE seller = ? AND revoked_at IS NULL");
  return u;
}

bool SqliteTx::delete_seller(std::string_view id) {
  Use s(db_.prepare("DELETE FROM sellers WHERE id = ?"));
  s->bind(1, id);
  s->run();
  return db_.changes() > 0;
}

namespace {

AdapterRecord adapter_row(Statement& s) {
  AdapterRecord a;
  a.id = s.text(0);
  a.type = s.text(1);
  a.enabled = s.int64(2) != 0;
  a.base_url = s.text(3);
  a.sealed_credentials = s.text(4);
  a.settings = parse_doc(s.text_view(5));
  a.created_at = s.int64(6);
  a.updated_at = s.int64(7);
  return a;
}

constexpr const char* kAdapterColumns =
    "id, type, enabled, base_url, credentials, settings, created_at, updated_at";

}  // namespace

std::optional<AdapterRecord> SqliteTx::adapter(std::string_view id) {
  static const std::string sql =
      std::string("SELECT ") + kAdapterColumns + " FROM adapters WHERE id = ?";
  Use s(db_.prepare(sql.c_str()));
  s->bind(1, id);
  if (!s->step()) return std::nullopt;
  return adapter_row(*s);
}

std::vector<AdapterRecord> SqliteTx::adapters() {
  static const std::string sql =
      std::string("SELECT ") + kAdapterColumns + " FROM adapters ORDER BY id";
  Use s(db_.prepare(sql.c_str()));
  std::vector<AdapterRecord> out;
  while (s->step()) out.push_back(adapter_row(*s));
  return out;
}

void SqliteTx::put_adapter(const AdapterRecord& a) {
  std::string settings = bj::serialize(a.settings);
  Use s(db_.prepare(
      "INSERT INTO adapters (id, type, enabled, base_url, credentials, settings, created_at, "
      "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
      "type = excluded.type, enabled = excluded.enabled, base_url = excluded.base_url, "
      "credentials = excluded.credentials, settings = excluded.settings, "
      "updated_at = excluded.updated_at"));
  s->bind(1, a.id).bind(2, a.type).bind(3, a.enabled).bind_text_or_null(4, a.base_url);
  if (a.sealed_credentials.empty()) {
    s->bind_null(5);
  } else {
    s->bind_blob(5, a.sealed_credentials);
  }
  s->bind(6, settings).bind(7, a.created_at).bind(8, a.updated_at);
  s->run();
}

bool SqliteTx::delete_adapter(std::string_view id) {
  Use s(db_.prepare("DELETE FROM adapters WHERE id = ?"));
  s->bind(1, id);
  s->run();
  return db_.changes() > 0;
}

std::optional<core::RoutingTable> SqliteTx::routing() {
  Use s(db_.prepare("SELECT value FROM config WHERE key = 'routing'"));
  if (!s->step()) return std::nullopt;
  auto table = core::parse_routing(parse_doc(s->text_view(0)));
  if (!table) throw Error(SQLITE_CORRUPT, "stored routing: " + table.error().message);
  return std::move(*table);
}

void SqliteTx::put_routing(const core::RoutingTable& t, Timestamp now) {
  std::string value = bj::serialize(core::to_json(t));
  Use s(db_.prepare(
      "INSERT INTO config (key, value, updated_at) VALUES ('routing', ?, ?) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"));
  s->bind(1, value).bind(2, now);
  s->run();
}

}  // namespace mg::store::sqlite
