#include "gateway/service/admin_service.hpp"

#include "gateway/core/json.hpp"
#include "gateway/core/model_json.hpp"
#include "gateway/core/money.hpp"
#include "gateway/core/routing.hpp"
#include "gateway/log/log.hpp"
#include "gateway/store/async.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>

namespace mg::service {
namespace bj = boost::json;
namespace json = core::json;

bool valid_adapter_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

bool valid_catalog_id(std::string_view id) {
  return !id.empty() && id.size() <= 100 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

namespace {

void append_audit(store::WriteTx& tx, const store::AuditEntry* audit, int status) {
  if (!audit) return;
  store::AuditEntry entry = *audit;
  entry.status = status;
  tx.append_audit(entry);
}

}  // namespace

AdminService::AdminService(store::Store& store, AdapterManager& adapters, const core::Clock& clock)
    : store_(store), adapters_(adapters), clock_(clock) {}

bj::array AdminService::adapter_types() const {
  bj::array out;
  for (const auto* t : adapters_.registry().all()) {
    bj::object o{{"type", t->name},
                 {"kind", adapters::to_string(t->kind)},
                 {"description", t->description},
                 {"default_base_url", t->default_base_url},
                 {"schema", t->schema}};
    out.push_back(std::move(o));
  }
  return out;
}

bj::object AdminService::adapter_view(const store::AdapterRecord& r,
                                      const bj::object* credentials) const {
  bj::object o{{"id", r.id},
               {"object", "adapter"},
               {"type", r.type},
               {"enabled", r.enabled},
               {"base_url", r.base_url.empty() ? bj::value(nullptr) : bj::value(r.base_url)},
               {"credentials", credentials ? redact_all(*credentials) : bj::object{}},
               {"settings", r.settings},
               {"created_at", core::time_value(r.created_at, core::Form::api)},
               {"updated_at", core::time_value(r.updated_at, core::Form::api)}};
  auto live = adapters_.current()->find(r.id);
  bj::object status;
  status["live"] = live != nullptr;
  if (live) {
    status["kind"] = adapters::to_string(live->kind());
    status["breaker"] = http::to_string(live->breaker().state());
  }
  o["status"] = std::move(status);
  return o;
}

Task<Result<Put>> AdminService::put_adapter(std::string id, bj::object body,
                                            const store::AuditEntry* audit) {
  if (!valid_adapter_id(id)) {
    co_return make_error(errc::invalid_field,
                         "adapter ids are 1 to 64 characters of a-z, 0-9, '-' and '_'", "id");
  }
  if (auto r =
          json::only_keys(body, {"type", "enabled", "base_url", "credentials", "settings"}, "");
      !r) {
    co_return r.error();
  }
  auto type = json::required_string({body, "type", ""}, 64);
  if (!type) co_return type.error();
  auto enabled = json::optional_bool({body, "enabled", ""});
  if (!enabled) co_return enabled.error();
  auto base_url = json::optional_string({body, "base_url", ""}, 2048);
  if (!base_url) co_return base_url.error();
  if (*base_url && !base_url->value().empty() &&
      !(base_url->value().starts_with("https://") || base_url->value().starts_with("http://"))) {
    co_return make_error(errc::invalid_field, "'base_url' must be an http(s) URL", "base_url");
  }
  auto credentials = json::optional_object({body, "credentials", ""});
  if (!credentials) co_return credentials.error();
  auto settings = json::optional_object({body, "settings", ""});
  if (!settings) co_return settings.error();
  const adapters::AdapterType* t = adapters_.registry().find(*type);
  if (!t) {
    co_return make_error(
        errc::invalid_field,
        "unknown adapter type '" + *type + "'; known types: " + adapters_.registry().names(),
        "type");
  }

  auto existing = co_await store::async_read(
      store_, [&](store::ReadTx& tx) -> Result<std::optional<store::AdapterRecord>> {
        return tx.adapter(id);
      });
  if (!existing) co_return existing.error();

  adapters::AdapterConfig config;
  config.id = id;
  config.type = *type;
  config.enabled = enabled->value_or(true);
  config.base_url = base_url->value_or(std::string(t->default_base_url));
  if (config.base_url.empty()) config.base_url = std::string(t->default_base_url);
  config.settings = *settings ? **settings : bj::object{};
  if (*credentials) {
    config.credentials = **credentials;
  } else if (*existing && (*existing)->type == *type) {
    auto opened = adapters_.secrets().open((*existing)->sealed_credentials, id);
    if (!opened) co_return opened.error();
    config.credentials = std::move(*opened);
  }
  if (auto checked = adapters_.check(config); !checked) co_return checked.error();
  auto sealed = adapters_.secrets().seal(config.credentials, id);
  if (!sealed) co_return sealed.error();

  core::Timestamp now = clock_.now();
  store::AdapterRecord record{id,
                              config.type,
                              config.enabled,
                              config.base_url,
                              *sealed,
                              config.settings,
                              *existing ? (*existing)->created_at : now,
                              now};
  bool created = !*existing;
  auto written = co_await store::async_write(store_, [&](store::WriteTx& tx) -> Result<bool> {
    tx.put_adapter(record);
    append_audit(tx, audit, created ? 201 : 200);
    return true;
  });
  if (!written) co_return written.error();
  auto reloaded = co_await reload_adapters();
  if (!reloaded) co_return reloaded.error();
  log::info("admin.adapter_put",
            {{"adapter", id}, {"type", config.type}, {"enabled", config.enabled}});
  co_return Put{adapter_view(record, &config.credentials), !*existing};
}

Task<Result<bj::object>> AdminService::get_adapter(std::string id) {
  auto r = co_await store::async_read(
      store_, [&](store::ReadTx& tx) -> Result<std::optional<store::AdapterRecord>> {
        return tx.adapter(id);
      });
  if (!r) co_return r.error();
  if (!*r) co_return make_error(errc::not_found, "no adapter '" + id + "'", "id");
  auto credentials = adapters_.secrets().open((*r)->sealed_credentials, id);
  co_return adapter_view(**r, credentials ? &*credentials : nullptr);
}

Task<Result<bj::array>> AdminService::list_adapters() {
  auto r = co_await store::async_read(
      store_, [&](store::ReadTx& tx) -> Result<std::vector<store::AdapterRecord>> {
        return tx.adapters();
      });
  if (!r) co_return r.error();
  bj::array out;
  for (const auto& rec : *r) {
    auto credentials = adapters_.secrets().open(rec.sealed_credentials, rec.id);
    out.push_back(adapter_view(rec, credentials ? &*credentials : nullptr));
  }
  co_return out;
}

Task<Result<void>> AdminService::delete_adapter(std::string id, const store::AuditEntry* audit) {
  auto r = co_await store::async_write(store_, [&](store::WriteTx& tx) -> Result<bool> {
    if (!tx.delete_adapter(id)) return make_error(errc::not_found, "no adapter '" + id + "'", "id");
    append_audit(tx, audit, 200);
    return true;
  });
  if (!r) co_return r.error();
  auto reloaded = co_await reload_adapters();
  if (!reloaded) co_return reloaded.error();
  log::info("admin.adapter_deleted", {{"adapter", id}});
  co_return Result<void>{};
}

Task<Result<std::vector<std::string>>> AdminService::reload_adapters() {
  auto records = co_await store::async_read(
      store_, [&](store::ReadTx& tx) -> Result<std::vector<store::AdapterRecord>> {
        return tx.adapters();
      });
  if (!records) co_return records.error();
  co_return adapters_.reload(*records);
}

Task<Result<Put>> AdminService::put_seller(std::string id, bj::object body,
                                           const store::AuditEntry* audit) {
  if (!valid_catalog_id(id)) {
    co_return make_error(errc::invalid_field,
                         "seller ids are 1 to 100 characters of A-Z, a-z, 0-9, '.', '-' and '_'",
                         "id");
  }
  if (auto r = json::only_keys(body, {"name", "platform_fee_bps", "payouts"}, ""); !r) {
    co_return r.error();
  }
  core::Seller s;
  s.id = id;
  auto name = json::required_string({body, "name", ""}, 200);
  if (!name) co_return name.error();
  s.name = *name;
  auto fee = json::optional_int({body, "platform_fee_bps", ""}, 0, 10'000);
  if (!fee) co_return fee.error();
  s.platform_fee_bps = fee->value_or(0);
  auto payouts = json::optional_object({body, "payouts", ""});
  if (!payouts) co_return payouts.error();
  if (*payouts) {
    for (const auto& kv : **payouts) {
      std::string param = json::join("payouts", kv.key());
      if (!valid_adapter_id(kv.key())) {
        co_return make_error(errc::invalid_field, "payout keys are adapter ids", param);
      }
      if (!kv.value().is_string() || kv.value().as_string().empty() ||
          kv.value().as_string().size() > 255) {
        co_return make_error(errc::invalid_field, "a payout account is a non-empty string", param);
      }
      s.payouts[std::string(kv.key())] = std::string(kv.value().as_string());
    }
  }
  core::Timestamp now = clock_.now();
  bool created = false;
  auto r = co_await store::async_write(store_, [&](store::WriteTx& tx) -> Result<bool> {
    auto old = tx.seller(id);
    created = !old;
    s.created_at = old ? old->created_at : now;
    s.updated_at = now;
    tx.put_seller(s);
    append_audit(tx, audit, created ? 201 : 200);
    return true;
  });
  if (!r) co_return r.error();
  co_return Put{core::to_json(s, core::Form::api), created};
}

Task<Result<bj::object>> AdminService::get_seller(std::string id) {
  auto r = co_await store::async_read(
      store_,
      [&](store::ReadTx& tx) -> Result<std::optional<core::Seller>> { return tx.seller(id); });
  if (!r) co_return r.error();
  if (!*r) co_return make_error(errc::not_found, "no seller '" + id + "'", "id");
  co_return core::to_json(**r, core::Form::api);
}

Task<Result<store::Page<core::Seller>>> AdminService::list_sellers(store::ListQuery q) {
  co_return co_await store::async_read(
      store_,
      [&](store::ReadTx& tx) -> Result<store::Page<core::Seller>> { return tx.sellers(q); });
}

Task<Result<Put>> AdminService::put_product(std::string sku, bj::object body,
                                            const store::AuditEntry* audit) {
  if (!valid_catalog_id(sku)) {
    co_return make_error(errc::invalid_field,
                         "skus are 1 to 100 characters of A-Z, a-z, 0-9, '.', '-' and '_'", "sku");
  }
  if (auto r = json::only_keys(body,
                               {"seller", "title", "description", "unit_amount", "currency",
                                "images", "group", "options", "active", "in_stock", "fulfillment"},
                               "");
      !r) {
    co_return r.error();
  }
  core::Product p;
  p.sku = sku;
  auto seller = json::required_string({body, "seller", ""}, 100);
  if (!seller) co_return seller.error();
  p.seller = *seller;
  auto title = json::required_string({body, "title", ""}, 200);
  if (!title) co_return title.error();
  p.title = *title;
  auto description = json::optional_string({body, "description", ""}, 5000);
  if (!description) co_return description.error();
  p.description = description->value_or("");
  auto amount = json::required_int({body, "unit_amount", ""}, 0, core::kMaxCheckoutAmount);
  if (!amount) co_return amount.error();
  p.unit_amount = *amount;
  auto currency = json::required_string({body, "currency", ""}, 3, 3);
  if (!currency || !core::find_currency(*currency)) {
    co_return make_error(errc::unknown_currency, "'currency' must be an upper-case ISO 4217 code",
                         "currency");
  }
  p.currency = *currency;
  auto images = json::optional_array({body, "images", ""});
  if (!images) co_return images.error();
  if (*images) {
    if ((*images)->size() > 20) {
      co_return make_error(errc::invalid_field, "at most 20 images", "images");
    }
    for (std::size_t i = 0; i < (*images)->size(); ++i) {
      const auto& v = (**images)[i];
      if (!v.is_string() || !v.as_string().starts_with("https://") || v.as_string().size() > 2048) {
        co_return make_error(errc::invalid_field, "images are https URLs",
                             json::index("images", i));
      }
      p.images.emplace_back(v.as_string());
    }
  }
  auto group = json::optional_string({body, "group", ""}, 100);
  if (!group) co_return group.error();
  p.group = group->value_or("");
  auto options = json::optional_object({body, "options", ""});
  if (!options) co_return options.error();
  if (*options) {
    for (const auto& kv : **options) {
      if (!kv.value().is_string() || kv.key().size() > 40 || kv.value().as_string().size() > 100) {
        co_return make_error(errc::invalid_field, "options map short names to short strings",
                             json::join("options", kv.key()));
      }
      p.options[std::string(kv.key())] = std::string(kv.value().as_string());
    }
  }
  auto active = json::optional_bool({body, "active", ""});
  if (!active) co_return active.error();
  p.active = active->value_or(true);
  auto in_stock = json::optional_bool({body, "in_stock", ""});
  if (!in_stock) co_return in_stock.error();
  p.in_stock = in_stock->value_or(true);
  auto fulfillment = json::optional_object({body, "fulfillment", ""});
  if (!fulfillment) co_return fulfillment.error();
  if (*fulfillment) {
    const auto& f = **fulfillment;
    auto adapter = json::required_string({f, "adapter", "fulfillment"}, 64);
    if (!adapter) co_return adapter.error();
    auto live = adapters_.current()->find(*adapter);
    if (!live || live->kind() != adapters::Kind::fulfillment) {
      co_return make_error(errc::resource_missing,
                           "no fulfillment adapter '" + *adapter + "' is configured",
                           "fulfillment.adapter");
    }
    auto* fa = static_cast<adapters::FulfillmentAdapter*>(live.get());
    if (auto ok = fa->validate_product(f); !ok) co_return ok.error();
    p.fulfillment = f;
  }
  core::Timestamp now = clock_.now();
  bool created = false;
  auto r = co_await store::async_write(store_, [&](store::WriteTx& tx) -> Result<bool> {
    if (!tx.seller(p.seller)) {
      return make_error(errc::resource_missing, "no seller '" + p.seller + "'", "seller");
    }
    auto old = tx.product(sku);
    created = !old;
    p.created_at = old ? old->created_at : now;
    p.updated_at = now;
    tx.put_product(p);
    append_audit(tx, audit, created ? 201 : 200);
    return true;
  });
  if (!r) co_return r.error();
  co_return Put{core::to_json(p, core::Form::api), created};
}

Task<Result<bj::object>> AdminService::get_product(std::string sku) {
  auto r = co_await store::async_read(
      store_,
      [&](store::ReadTx& tx) -> Result<std::optional<core::Product>> { return tx.product(sku); });
  if (!r) co_return r.error();
  if (!*r) co_return make_error(errc::not_found, "no product '" + sku + "'", "sku");
  co_return core::to_json(**r, core::Form::api);
}

Task<Result<store::Page<core::Product>>> AdminService::list_products(std::string seller,
                                                                     store::ListQuery q) {
  co_return co_await store::async_read(
      store_, [&](store::ReadTx& tx) -> Result<store::Page<core::Product>> {
        return tx.products(seller, false, q);
      });
}

Task<Result<void>> AdminService::delete_product(std::string sku, const store::AuditEntry* audit) {
  auto r = co_await store::async_write(store_, [&](store::WriteTx& tx) -> Result<bool> {
    if (!tx.delete_product(sku))
      return make_error(errc::not_found, "no product '" + sku + "'", "sku");
    append_audit(tx, audit, 200);
    return true;
  });
  if (!r) co_return r.error();
  co_return Result<void>{};
}

Task<Result<void>> AdminService::delete_seller(std::string id, const store::AuditEntry* audit) {
  auto r = co_await store::async_write(store_, [&](store::WriteTx& tx) -> Result<bool> {
    if (!tx.seller(id)) return make_error(errc::not_found, "no seller '" + id + "'", "id");
    auto use = tx.seller_use(id);
    if (use.any()) {
      return make_error(errc::invalid_state,
                        "seller '" + id + "' is still named by " + std::to_string(use.products) +
                            " products, " + std::to_string(use.checkouts) + " checkouts and " +
                            std::to_string(use.api_keys) +
                            " API keys; delete its products and revoke its keys first "
                            "(sellers with checkouts are kept for their history)");
    }
    tx.delete_seller(id);
    append_audit(tx, audit, 200);
    return true;
  });
  if (!r) co_return r.error();
  co_return Result<void>{};
}

Task<Result<bj::object>> AdminService::import_products(std::string adapter_id, bj::object body) {
  if (auto r =
          json::only_keys(body, {"seller", "currency", "sku_prefix", "overwrite", "limit"}, "");
      !r) {
    co_return r.error();
  }
  auto seller = json::required_string({body, "seller", ""}, 100);
  if (!seller) co_return seller.error();
  auto currency = json::optional_string({body, "currency", ""}, 3);
  if (!currency) co_return currency.error();
  if (*currency && !core::find_currency(**currency)) {
    co_return make_error(errc::unknown_currency, "'currency' must be an upper-case ISO 4217 code",
                         "currency");
  }
  auto prefix = json::optional_string({body, "sku_prefix", ""}, 40);
  if (!prefix) co_return prefix.error();
  if (*prefix && !(*prefix)->empty() && !valid_catalog_id(**prefix)) {
    co_return make_error(errc::invalid_field, "'sku_prefix' may hold A-Z, a-z, 0-9, '.', '-', '_'",
                         "sku_prefix");
  }
  auto overwrite = json::optional_bool({body, "overwrite", ""});
  if (!overwrite) co_return overwrite.error();
  auto limit = json::optional_int({body, "limit", ""}, 1, 5000);
  if (!limit) co_return limit.error();
  auto adapter = adapters_.current()->fulfillment(adapter_id);
  if (!adapter) {
    co_return make_error(errc::not_found, "no enabled fulfillment adapter '" + adapter_id + "'",
                         "id");
  }
  adapters::ImportRequest request;
  request.currency = currency->value_or("");
  request.limit = static_cast<std::size_t>(limit->value_or(1000));
  auto imported = co_await adapter->import_products(request);
  if (!imported) {
    const auto& e = imported.error();
    if (e.is(adapters::adapter_errc::unsupported)) {
      co_return make_error(errc::unprocessable,
                           "adapter '" + adapter_id + "' (" + std::string(adapter->type()) +
                               ") has no product catalog to import: " + e.message,
                           "id");
    }
    co_return make_error(errc::partner_error,
                         "the import from '" + adapter_id + "' failed: " + e.message);
  }
  std::string sku_prefix = prefix->value_or("");
  std::vector<std::string> skus;
  for (const auto& p : *imported) skus.push_back(sku_prefix + p.sku);
  auto existing =
      co_await store::async_read(store_, [&](store::ReadTx& tx) -> Result<std::vector<bool>> {
        std::vector<bool> found;
        for (const auto& sku : skus) found.push_back(tx.product(sku).has_value());
        return found;
      });
  if (!existing) co_return existing.error();
  bj::array created, updated, skipped;
  for (std::size_t i = 0; i < imported->size(); ++i) {
    const auto& p = (*imported)[i];
    std::string sku = skus[i];
    auto skip = [&](std::string reason) {
      skipped.push_back(bj::object{{"sku", sku}, {"reason", std::move(reason)}});
    };
    if (!valid_catalog_id(sku)) {
      skip("not a valid sku");
      continue;
    }
    if ((*existing)[i] && !overwrite->value_or(false)) {
      skip("a product with this sku exists (send \"overwrite\": true to replace it)");
      continue;
    }
    std::string product_currency = p.currency.empty() ? request.currency : p.currency;
    if (product_currency.empty()) {
      skip("the partner gives no currency; send 'currency'");
      continue;
    }
    bj::array images;
    for (const auto& url : p.images) images.push_back(bj::value(url));
    bj::object options;
    for (const auto& [k, v] : p.options) options[k] = v;
    bj::object fulfillment = p.fulfillment;
    fulfillment["adapter"] = adapter_id;
    std::string title = p.title.empty() ? sku : p.title.substr(0, 200);
    bj::object product{{"seller", *seller},
                       {"title", std::move(title)},
                       {"unit_amount", p.unit_amount.value_or(0)},
                       {"currency", product_currency},
                       {"images", std::move(images)},
                       {"options", std::move(options)},
                       // Without the partner's price it waits, inactive, for an admin's price.
                       {"active", p.unit_amount.has_value() && p.available},
                       {"in_stock", p.available},
                       {"fulfillment", std::move(fulfillment)}};
    if (!p.description.empty()) product["description"] = p.description.substr(0, 5000);
    if (!p.group.empty() && p.group.size() <= 100) product["group"] = p.group;
    auto put = co_await put_product(sku, std::move(product));
    if (!put) {
      skip(put.error().message);
      continue;
    }
    (put->created ? created : updated).push_back(bj::value(sku));
  }
  log::info("admin.products_imported", {{"adapter", adapter_id},
                                        {"created", static_cast<std::int64_t>(created.size())},
                                        {"updated", static_cast<std::int64_t>(updated.size())},
                                        {"skipped", static_cast<std::int64_t>(skipped.size())}});
  co_return bj::object{{"object", "product_import"},
                       {"adapter", adapter_id},
                       {"seller", *seller},
                       {"created", std::move(created)},
                       {"updated", std::move(updated)},
                       {"skipped", std::move(skipped)}};
}

Task<Result<bj::object>> AdminService::put_routing(bj::object body,
                                                   const store::AuditEntry* audit) {
  auto table = core::parse_routing(body);
  if (!table) co_return table.error();
  auto set = adapters_.current();
  for (std::size_t i = 0; i < table->rules.size(); ++i) {
    const auto& procs = table->rules[i].processors;
    for (std::size_t j = 0; j < procs.size(); ++j) {
      auto a = set->find(procs[j]);
      if (!a || a->kind() != adapters::Kind::payment) {
        co_return make_error(errc::resource_missing,
                             "no payment adapter '" + procs[j] + "' is configured",
                             json::index(json::join(json::index("rules", i), "processors"), j));
      }
    }
  }
  core::Timestamp now = clock_.now();
  auto r = co_await store::async_write(store_, [&](store::WriteTx& tx) -> Result<bool> {
    tx.put_routing(*table, now);
    append_audit(tx, audit, 200);
    return true;
  });
  if (!r) co_return r.error();
  co_return core::to_json(*table);
}

Task<Result<bj::object>> AdminService::get_routing() {
  auto r = co_await store::async_read(
      store_,
      [&](store::ReadTx& tx) -> Result<std::optional<core::RoutingTable>> { return tx.routing(); });
  if (!r) co_return r.error();
  co_return *r ? core::to_json(**r) : bj::object{{"rules", bj::array{}}};
}

Task<Result<bool>> AdminService::exists(std::string_view kind, std::string id) {
  std::string k(kind);
  co_return co_await store::async_read(store_, [&](store::ReadTx& tx) -> Result<bool> {
    if (k == "adapter") return tx.adapter(id).has_value();
    if (k == "seller") return tx.seller(id).has_value();
    if (k == "product") return tx.product(id).has_value();
    if (k == "routing") return tx.routing().has_value();
    return false;
  });
}

}  // namespace mg::service
