#include "gateway/api/authenticator.hpp"

#include "gateway/core/crypto.hpp"

#include <mutex>

namespace mg::api {

std::string generate_api_key() { return "mgk_live_" + core::random_alnum(40); }

std::string api_key_hash(std::string_view key) { return core::hex_encode(core::sha256(key)); }

void Authenticator::add_key(std::string_view key, std::string id, std::string role,
                            std::string seller) {
  std::unique_lock lock(mutex_);
  bootstrap_.push_back({api_key_hash(key), {std::move(id), std::move(role), std::move(seller)}});
}

bool Authenticator::empty() const {
  std::shared_lock lock(mutex_);
  return bootstrap_.empty() && stored_.empty();
}

std::optional<service::Caller> Authenticator::authenticate(std::string_view key) const {
  if (key.empty()) return std::nullopt;
  std::string hash = api_key_hash(key);
  std::shared_lock lock(mutex_);
  std::optional<service::Caller> found;
  // Every bootstrap entry is compared, so the time taken does not tell which one matched.
  for (const auto& e : bootstrap_) {
    if (core::constant_time_equal(hash, e.hash) && !found) found = e.caller;
  }
  if (found) return found;
  // Stored keys are found by their hash: timing can only tell about the hash of the caller's own
  // guess, never about a stored key. The match itself is confirmed in constant time.
  auto it = stored_.find(hash);
  if (it != stored_.end() && core::constant_time_equal(hash, it->second.hash)) {
    return it->second.caller;
  }
  return std::nullopt;
}

void Authenticator::load_stored(const std::vector<store::ApiKeyRecord>& keys) {
  std::unique_lock lock(mutex_);
  stored_.clear();
  stored_ids_.clear();
  for (const auto& k : keys) {
    if (k.revoked_at) continue;
    stored_[k.hash] = Entry{k.hash, {k.id, k.role, k.seller}};
    stored_ids_[k.id] = k.hash;
  }
}

void Authenticator::add_stored(const store::ApiKeyRecord& k) {
  if (k.revoked_at) return;
  std::unique_lock lock(mutex_);
  stored_[k.hash] = Entry{k.hash, {k.id, k.role, k.seller}};
  stored_ids_[k.id] = k.hash;
}

void Authenticator::revoke_stored(std::string_view id) {
  std::unique_lock lock(mutex_);
  auto it = stored_ids_.find(std::string(id));
  if (it == stored_ids_.end()) return;
  stored_.erase(it->second);
  stored_ids_.erase(it);
}

bool Authenticator::should_touch(const std::string& key_id, core::Timestamp now) const {
  constexpr core::Timestamp kEvery = 60'000;
  {
    std::shared_lock lock(mutex_);
    if (!stored_ids_.count(key_id)) return false;
  }
  std::lock_guard lock(touch_mutex_);
  auto [it, fresh] = touched_.try_emplace(key_id, now);
  if (!fresh && now - it->second < kEvery) return false;
  it->second = now;
  return true;
}

std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size()) return {};
  for (std::size_t i = 0; i < kBearer.size(); ++i) {
    char a = authorization[i], b = kBearer[i];
    if (std::tolower(static_cast<unsigned char>(a)) !=
        std::tolower(static_cast<unsigned char>(b))) {
      return {};
    }
  }
  std::string_view token = authorization.substr(kBearer.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

}  // namespace mg::api
