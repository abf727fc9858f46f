#pragma once
// The live adapter instances. Each admin change builds a new immutable snapshot from the stored
// records and swaps it in atomically: calls in flight keep the snapshot (and instances) they
// started with, and an unchanged instance is reused so its state (breaker, token cache) survives.
#include "adapters/adapter.hpp"
#include "gateway/service/secret_box.hpp"
#include "gateway/store/store.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mg::service {

class AdapterSet {
 public:
  struct Entry {
    std::shared_ptr<adapters::Adapter> adapter;
    bool enabled = true;
    std::string type;
    std::string fingerprint;  // of the config it was built from
  };

  std::shared_ptr<adapters::Adapter> find(std::string_view id) const;
  // Enabled adapters of a kind only; nullptr otherwise.
  std::shared_ptr<adapters::PaymentAdapter> payment(std::string_view id) const;
  std::shared_ptr<adapters::FulfillmentAdapter> fulfillment(std::string_view id) const;
  const std::map<std::string, Entry, std::less<>>& entries() const { return entries_; }

 private:
  friend class AdapterManager;
  std::map<std::string, Entry, std::less<>> entries_;
};

class AdapterManager {
 public:
  AdapterManager(const adapters::Registry& registry, adapters::AdapterServices services,
                 SecretBox secrets);
  ~AdapterManager();

  std::shared_ptr<const AdapterSet> current() const;

  // Rebuilds the snapshot from `records`. A record that fails to build is left out and reported
  // (one message per adapter, naming it); the others still go live.
  std::vector<std::string> reload(const std::vector<store::AdapterRecord>& records);

  // Validates a config the way a reload would (schema, construction) without keeping it.
  Result<void> check(const adapters::AdapterConfig& config);

  const adapters::Registry& registry() const { return registry_; }
  const SecretBox& secrets() const { return secrets_; }
  adapters::AdapterServices& services() { return services_; }
  // Stops every instance's background work (shutdown).
  void stop_all();

 private:
  const adapters::Registry& registry_;
  adapters::AdapterServices services_;
  SecretBox secrets_;
  std::mutex reload_mutex_;
  std::shared_ptr<const AdapterSet> current_;
  mutable std::mutex current_mutex_;
};

}  // namespace mg::service
