#include "gateway/api/authenticator.hpp"

#include "gateway/core/crypto.hpp"

namespace mg::api {

void Authenticator::add_key(std::string_view key, std::string id, std::string role,
                            std::string seller) {
  keys_.push_back({core::sha256(key), {std::move(id), std::move(role), std::move(seller)}});
}

std::optional<service::Caller> Authenticator::authenticate(std::string_view key) const {
  if (key.empty()) return std::nullopt;
  std::string hash = core::sha256(key);
  std::optional<service::Caller> found;
  // Every entry is compared, so the time taken does not tell which one matched.
  for (const auto& e : keys_) {
    if (core::constant_time_equal(hash, e.hash) && !found) found = e.caller;
  }
  return found;
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
