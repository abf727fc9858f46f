#pragma once
// Bearer keys. Only SHA-256 hashes are kept, compared in constant time; the key itself is never
// stored or logged. Bootstrap keys come from MERCHGATE_ADMIN_KEY and MERCHGATE_API_KEY.
#include "gateway/service/checkout_service.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mg::api {

class Authenticator {
 public:
  // `role` is "app" or "admin".
  void add_key(std::string_view key, std::string id, std::string role, std::string seller = {});
  std::optional<service::Caller> authenticate(std::string_view key) const;
  bool empty() const { return keys_.empty(); }

 private:
  struct Entry {
    std::string hash;
    service::Caller caller;
  };
  std::vector<Entry> keys_;
};

// The key from "Authorization: Bearer <key>", or empty.
std::string_view bearer_token(std::string_view authorization);

}  // namespace mg::api
