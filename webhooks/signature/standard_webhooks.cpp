#include "webhooks/signature/standard_webhooks.hpp"

#include "gateway/core/crypto.hpp"

#include <charconv>

namespace mg::webhooks {
namespace {

constexpr std::size_t kMinKeyBytes = 24;  // spec: "at least 24 bytes"
constexpr std::string_view kVersion = "v1";

std::string signed_content(std::string_view id, std::int64_t timestamp, std::string_view body) {
  std::string content;
  content.reserve(id.size() + body.size() + 22);
  content += id;
  content += '.';
  content += std::to_string(timestamp);
  content += '.';
  content += body;
  return content;
}

// The base64 signature alone, without the "v1," prefix.
std::string signature_of(std::string_view key, std::string_view content) {
  return core::base64_encode(core::hmac_sha256(key, content));
}

}  // namespace

std::string generate_secret() {
  return std::string(kSecretPrefix) + core::base64_encode(core::random_bytes(32));
}

Result<std::string> secret_key(std::string_view whsec_secret) {
  if (!whsec_secret.starts_with(kSecretPrefix)) {
    return make_error(errc::invalid_field, "webhook secret must start with \"whsec_\"",
                      "webhook_secret");
  }
  auto key = core::base64_decode(whsec_secret.substr(kSecretPrefix.size()));
  if (!key) {
    return make_error(errc::invalid_field, "webhook secret is not valid base64 after \"whsec_\"",
                      "webhook_secret");
  }
  if (key->size() < kMinKeyBytes) {
    return make_error(errc::invalid_field, "webhook secret must decode to at least 24 bytes",
                      "webhook_secret");
  }
  return std::move(*key);
}

std::string sign(std::string_view key, std::string_view id, std::int64_t timestamp,
                 std::string_view body) {
  std::string out(kVersion);
  out += ',';
  out += signature_of(key, signed_content(id, timestamp, body));
  return out;
}

std::string signature_header(const std::vector<std::string>& keys, std::string_view id,
                             std::int64_t timestamp, std::string_view body) {
  const std::string content = signed_content(id, timestamp, body);
  std::string header;
  for (const std::string& key : keys) {
    if (!header.empty()) header += ' ';
    header += kVersion;
    header += ',';
    header += signature_of(key, content);
  }
  return header;
}

Result<void> verify(const std::vector<std::string>& keys, std::string_view webhook_id,
                    std::string_view webhook_timestamp, std::string_view webhook_signature,
                    std::string_view body, std::int64_t now_seconds,
                    std::int64_t tolerance_seconds) {
  if (webhook_id.empty()) {
    return make_error(errc::invalid_signature, "webhook-id is missing", "webhook-id");
  }
  std::int64_t timestamp = 0;
  const char* first = webhook_timestamp.data();
  const char* last = first + webhook_timestamp.size();
  auto [end, ec] = std::from_chars(first, last, timestamp);
  if (webhook_timestamp.empty() || ec != std::errc{} || end != last) {
    return make_error(errc::invalid_signature, "webhook-timestamp is not an integer",
                      "webhook-timestamp");
  }
  // 128-bit difference: an adversarial timestamp near INT64_MIN must not overflow.
  const __int128 age = static_cast<__int128>(now_seconds) - timestamp;
  if (age > tolerance_seconds || age < -static_cast<__int128>(tolerance_seconds)) {
    return make_error(errc::stale_timestamp, "webhook-timestamp is outside the tolerance",
                      "webhook-timestamp");
  }

  const std::string content = signed_content(webhook_id, timestamp, body);
  std::vector<std::string> expected;
  expected.reserve(keys.size());
  for (const std::string& key : keys) expected.push_back(signature_of(key, content));

  // Every entry is compared with every key (no early exit) so timing reveals nothing but counts.
  bool matched = false;
  std::string_view rest = webhook_signature;
  while (!rest.empty()) {
    const std::size_t space = rest.find(' ');
    const std::string_view entry = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
    const std::size_t comma = entry.find(',');
    if (comma == std::string_view::npos || entry.substr(0, comma) != kVersion) continue;
    const std::string_view signature = entry.substr(comma + 1);
    for (const std::string& e : expected) matched |= core::constant_time_equal(signature, e);
  }
  if (!matched) {
    return make_error(errc::invalid_signature, "no webhook-signature entry matches",
                      "webhook-signature");
  }
  return {};
}

}  // namespace mg::webhooks
