#include "gateway/service/adapter_manager.hpp"

#include "gateway/core/crypto.hpp"
#include "gateway/log/log.hpp"

#include <boost/json/serialize.hpp>

namespace mg::service {
namespace bj = boost::json;

std::shared_ptr<adapters::Adapter> AdapterSet::find(std::string_view id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second.adapter;
}

std::shared_ptr<adapters::PaymentAdapter> AdapterSet::payment(std::string_view id) const {
  auto it = entries_.find(id);
  if (it == entries_.end() || !it->second.enabled ||
      it->second.adapter->kind() != adapters::Kind::payment) {
    return nullptr;
  }
  return std::static_pointer_cast<adapters::PaymentAdapter>(it->second.adapter);
}

std::shared_ptr<adapters::FulfillmentAdapter> AdapterSet::fulfillment(std::string_view id) const {
  auto it = entries_.find(id);
  if (it == entries_.end() || !it->second.enabled ||
      it->second.adapter->kind() != adapters::Kind::fulfillment) {
    return nullptr;
  }
  return std::static_pointer_cast<adapters::FulfillmentAdapter>(it->second.adapter);
}

AdapterManager::AdapterManager(const adapters::Registry& registry,
                               adapters::AdapterServices services, SecretBox secrets)
    : registry_(registry),
      services_(std::move(services)),
      secrets_(std::move(secrets)),
      current_(std::make_shared<AdapterSet>()) {}

AdapterManager::~AdapterManager() { stop_all(); }

std::shared_ptr<const AdapterSet> AdapterManager::current() const {
  std::lock_guard lock(current_mutex_);
  return current_;
}

Result<void> AdapterManager::check(const adapters::AdapterConfig& config) {
  auto built = registry_.create(config, services_);
  if (!built) return built.error();
  return {};
}

std::vector<std::string> AdapterManager::reload(const std::vector<store::AdapterRecord>& records) {
  std::lock_guard reload_lock(reload_mutex_);
  auto previous = current();
  auto next = std::make_shared<AdapterSet>();
  std::vector<std::string> problems;
  for (const auto& record : records) {
    auto credentials = secrets_.open(record.sealed_credentials, record.id);
    if (!credentials) {
      problems.push_back("adapter '" + record.id + "': " + credentials.error().message);
      continue;
    }
    adapters::AdapterConfig config{
        record.id,      record.type, record.enabled, record.base_url, std::move(*credentials),
        record.settings};
    // The fingerprint covers the credentials too (hashed), so a rotated key rebuilds the instance.
    std::string fingerprint = core::hex_encode(core::sha256(
        record.type + "\n" + (record.enabled ? "1" : "0") + "\n" + record.base_url + "\n" +
        bj::serialize(config.credentials) + "\n" + bj::serialize(config.settings)));
    auto old = previous->entries_.find(record.id);
    if (old != previous->entries_.end() && old->second.fingerprint == fingerprint) {
      next->entries_.emplace(record.id, old->second);
      continue;
    }
    auto built = registry_.create(config, services_);
    if (!built) {
      problems.push_back("adapter '" + record.id + "': " + built.error().message +
                         (built.error().param.empty() ? "" : " (" + built.error().param + ")"));
      continue;
    }
    next->entries_.emplace(record.id,
                           AdapterSet::Entry{*built, record.enabled, record.type, fingerprint});
  }
  {
    std::lock_guard lock(current_mutex_);
    current_ = next;
  }
  // Start what is new and stop what is gone; in-flight calls still hold their instances.
  for (auto& [id, entry] : next->entries_) {
    auto old = previous->entries_.find(id);
    if (old == previous->entries_.end() || old->second.adapter != entry.adapter) {
      if (entry.enabled) entry.adapter->start();
    }
  }
  for (auto& [id, entry] : previous->entries_) {
    auto now = next->entries_.find(id);
    if (now == next->entries_.end() || now->second.adapter != entry.adapter) entry.adapter->stop();
  }
  for (const auto& p : problems) log::error("adapter.unavailable", {{"problem", p}});
  return problems;
}

void AdapterManager::stop_all() {
  auto set = current();
  for (auto& [id, entry] : set->entries_) entry.adapter->stop();
}

}  // namespace mg::service
