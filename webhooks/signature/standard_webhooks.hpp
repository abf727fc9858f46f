#pragma once
// The Standard Webhooks v1 symmetric scheme (standard-webhooks spec v1.0.0): merchgate signs its
// outgoing events with it, the sandbox adapters and the Merch Partner Protocol sign with it, and
// merchgate verifies it on inbound webhooks of those partners.
#include "gateway/core/error.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mg::webhooks {

inline constexpr std::string_view kSecretPrefix = "whsec_";
inline constexpr std::int64_t kDefaultToleranceSeconds = 300;

// A new secret: "whsec_" + base64 of 32 random bytes.
std::string generate_secret();

// The HMAC key of a "whsec_<base64>" secret (prefix stripped, rest base64-decoded); an error
// naming the secret when it is malformed or shorter than 24 bytes once decoded.
Result<std::string> secret_key(std::string_view whsec_secret);

// "v1," + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")) for one secret key.
std::string sign(std::string_view key, std::string_view id, std::int64_t timestamp,
                 std::string_view body);

// The `webhook-signature` header value signed by every key, space separated (rotation).
std::string signature_header(const std::vector<std::string>& keys, std::string_view id,
                             std::int64_t timestamp, std::string_view body);

// Verifies the three headers against `body` with any of `keys`: the timestamp must be an integer
// within `tolerance` seconds of `now` either way (errc::stale_timestamp), and one of the
// space-separated `v1,` signatures must match in constant time (errc::invalid_signature).
Result<void> verify(const std::vector<std::string>& keys, std::string_view webhook_id,
                    std::string_view webhook_timestamp, std::string_view webhook_signature,
                    std::string_view body, std::int64_t now_seconds,
                    std::int64_t tolerance_seconds = kDefaultToleranceSeconds);

}  // namespace mg::webhooks
