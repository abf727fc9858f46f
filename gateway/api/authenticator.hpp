#pragma once
// Bearer keys. Only SHA-256 hashes are kept, compared in constant time; the key itself is never
// stored or logged. Bootstrap keys come from MERCHGATE_ADMIN_KEY and MERCHGATE_API_KEY; the keys
// made through /v1/admin/api-keys live in the database and are cached here, updated at once when
// one is created or revoked. Thread-safe.
#include "gateway/service/checkout_service.hpp"
#include "gateway/store/store.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mg::api {

class Authenticator {
 public:
  // `role` is "app", "admin" or "viewer".
  void add_key(std::string_view key, std::string id, std::string role, std::string seller = {});
  std::optional<service::Caller> authenticate(std::string_view key) const;
  bool empty() const;

  // Stored keys: `load_stored` replaces them all (start-up); revoked records are ignored.
  void load_stored(const std::vector<store::ApiKeyRecord>& keys);
  void add_stored(const store::ApiKeyRecord& key);
  void revoke_stored(std::string_view id);
  // True at most once a minute per live stored key: when its last-used time is worth writing.
  bool should_touch(const std::string& key_id, core::Timestamp now) const;

 private:
  struct Entry {
    std::string hash;  // hex SHA-256
    service::Caller caller;
  };
  std::vector<Entry> bootstrap_;
  std::unordered_map<std::string, Entry> stored_;            // by hash
  std::unordered_map<std::string, std::string> stored_ids_;  // id -> hash
  mutable std::map<std::string, core::Timestamp, std::less<>> touched_;
  mutable std::shared_mutex mutex_;
  mutable std::mutex touch_mutex_;
};

// A new key: "mgk_live_" and 40 random characters from OpenSSL's RNG (about 238 bits).
std::string generate_api_key();
// What is stored of a key: hex SHA-256 (the keys are random, so no salt or slow hash is needed).
std::string api_key_hash(std::string_view key);

// The key from "Authorization: Bearer <key>", or empty.
std::string_view bearer_token(std::string_view authorization);

}  // namespace mg::api
