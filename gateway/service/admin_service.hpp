#pragma once
// Configuration changes: adapters, sellers, products, routing. Used by the admin API and by
// config seeding alike, so both validate the same way. Changes apply without a restart: adapter
// changes swap in a new adapter snapshot after they commit.
#include "gateway/core/clock.hpp"
#include "gateway/core/error.hpp"
#include "gateway/service/adapter_manager.hpp"
#include "gateway/store/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <string>

namespace mg::service {

template <class T>
using Task = boost::asio::awaitable<T>;

struct Put {
  boost::json::object object;
  bool created = false;
};

class AdminService {
 public:
  AdminService(store::Store& store, AdapterManager& adapters, const core::Clock& clock);

  boost::json::array adapter_types() const;

  // Every change takes an optional audit entry (status filled in here: 201 created, else 200),
  // appended in the change's own transaction.
  // PUT: create or replace. For adapters, omitted `credentials` keep the stored ones (they are
  // write-only and reads never show them).
  Task<Result<Put>> put_adapter(std::string id, boost::json::object body,
                                const store::AuditEntry* audit = nullptr);
  Task<Result<boost::json::object>> get_adapter(std::string id);
  Task<Result<boost::json::array>> list_adapters();
  Task<Result<void>> delete_adapter(std::string id, const store::AuditEntry* audit = nullptr);

  Task<Result<Put>> put_seller(std::string id, boost::json::object body,
                               const store::AuditEntry* audit = nullptr);
  Task<Result<boost::json::object>> get_seller(std::string id);
  Task<Result<store::Page<core::Seller>>> list_sellers(store::ListQuery q);

  Task<Result<Put>> put_product(std::string sku, boost::json::object body,
                                const store::AuditEntry* audit = nullptr);
  Task<Result<boost::json::object>> get_product(std::string sku);
  Task<Result<store::Page<core::Product>>> list_products(std::string seller, store::ListQuery q);
  Task<Result<void>> delete_product(std::string sku, const store::AuditEntry* audit = nullptr);
  // Refused (409) while products, checkouts or live API keys name the seller.
  Task<Result<void>> delete_seller(std::string id, const store::AuditEntry* audit = nullptr);

  // POST /v1/admin/adapters/{id}/import-products: the partner's products and variants become
  // catalog products (created, or replaced with "overwrite": true) through put_product, with the
  // partner's ids in their fulfillment block. Body: {"seller", "currency"?, "sku_prefix"?,
  // "overwrite"?, "limit"?}.
  Task<Result<boost::json::object>> import_products(std::string adapter_id,
                                                    boost::json::object body);

  Task<Result<boost::json::object>> put_routing(boost::json::object body,
                                                const store::AuditEntry* audit = nullptr);
  Task<Result<boost::json::object>> get_routing();

  // Rebuilds the live adapters from the store (start-up, and after each adapter change).
  Task<Result<std::vector<std::string>>> reload_adapters();

  // True when the object exists (config seeding creates only what is absent).
  Task<Result<bool>> exists(std::string_view kind, std::string id);

 private:
  boost::json::object adapter_view(const store::AdapterRecord& r,
                                   const boost::json::object* credentials) const;

  store::Store& store_;
  AdapterManager& adapters_;
  const core::Clock& clock_;
};

// Ids chosen by admins: 1-64 of [a-z0-9_-] (adapters), 1-100 of [A-Za-z0-9_.-] (sellers, skus).
bool valid_adapter_id(std::string_view id);
bool valid_catalog_id(std::string_view id);

}  // namespace mg::service
