#include "gateway/service/secret_box.hpp"

#include "gateway/core/crypto.hpp"

#include <openssl/crypto.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace mg::service {
namespace bj = boost::json;

Result<SecretBox> SecretBox::from_base64(std::string_view base64_key) {
  auto key = core::base64_decode(base64_key);
  if (!key || key->size() != 32) {
    return make_error(errc::invalid_field,
                      "MERCHGATE_MASTER_KEY must be 32 random bytes in base64 (openssl rand "
                      "-base64 32)",
                      "MERCHGATE_MASTER_KEY");
  }
  SecretBox box;
  box.key_ = std::move(*key);
  return box;
}

Result<std::string> SecretBox::seal_json(const bj::value& secret, std::string_view context,
                                         std::string_view what) const {
  if (key_.empty()) {
    return make_error(errc::unprocessable,
                      std::string(what) +
                          " cannot be stored without MERCHGATE_MASTER_KEY: merchgate keeps "
                          "secrets encrypted at rest and has no key to encrypt them with",
                      "credentials");
  }
  return core::aes256gcm_seal(key_, bj::serialize(secret), context);
}

Result<bj::value> SecretBox::open_json(std::string_view sealed, std::string_view context,
                                       std::string_view what) const {
  if (key_.empty()) {
    return make_error(errc::unavailable, std::string(what) +
                                             " is stored encrypted but MERCHGATE_MASTER_KEY is "
                                             "not set");
  }
  auto plain = core::aes256gcm_open(key_, sealed, context);
  if (!plain) {
    return make_error(errc::unavailable,
                      std::string(what) + " does not decrypt: wrong MERCHGATE_MASTER_KEY?");
  }
  boost::system::error_code ec;
  bj::value v = bj::parse(*plain, ec);
  if (ec) return make_error(errc::internal, std::string(what) + ": stored secret is not JSON");
  return v;
}

Result<std::string> SecretBox::reseal(std::string_view sealed, std::string_view context,
                                      const SecretBox& to) const {
  if (key_.empty() || to.key_.empty()) {
    return make_error(errc::invalid_field, "both the current and the new master key are needed",
                      "MERCHGATE_MASTER_KEY");
  }
  auto plain = core::aes256gcm_open(key_, sealed, context);
  if (!plain) {
    return make_error(errc::unavailable, std::string(context) +
                                             " does not decrypt: is MERCHGATE_MASTER_KEY the key "
                                             "it was stored with?");
  }
  std::string out = core::aes256gcm_seal(to.key_, *plain, context);
  OPENSSL_cleanse(plain->data(), plain->size());
  return out;
}

std::string SecretBox::adapter_context(std::string_view adapter_id) {
  return "merchgate/adapter/" + std::string(adapter_id);
}

std::string SecretBox::endpoint_context(std::string_view endpoint_id) {
  return "merchgate/webhook-endpoint/" + std::string(endpoint_id);
}

Result<std::string> SecretBox::seal(const bj::object& credentials,
                                    std::string_view adapter_id) const {
  if (credentials.empty()) return std::string();
  std::string what = "credentials of adapter '" + std::string(adapter_id) + "'";
  return seal_json(credentials, adapter_context(adapter_id), what);
}

Result<bj::object> SecretBox::open(std::string_view sealed, std::string_view adapter_id) const {
  if (sealed.empty()) return bj::object{};
  std::string what = "credentials of adapter '" + std::string(adapter_id) + "'";
  auto v = open_json(sealed, adapter_context(adapter_id), what);
  if (!v) return v.error();
  if (!v->is_object()) return make_error(errc::internal, what + " are not a JSON object");
  return std::move(v->as_object());
}

std::string redact(std::string_view secret) {
  if (secret.size() < 12) return "…";
  // Keep a recognisable prefix (sk_live_, whsec_) and the last four characters.
  std::size_t prefix = 0;
  auto underscore = secret.find_last_of('_', 8);
  if (underscore != std::string_view::npos && underscore < 9) prefix = underscore + 1;
  // Unless at least 8 characters stay hidden, the prefix would give too much away.
  if (secret.size() < prefix + 4 + 8) prefix = 0;
  return std::string(secret.substr(0, prefix)) + "…" +
         std::string(secret.substr(secret.size() - 4));
}

bj::object redact_all(const bj::object& credentials) {
  bj::object out;
  for (const auto& kv : credentials) {
    if (kv.value().is_string()) {
      out[kv.key()] = redact(kv.value().as_string());
    } else {
      out[kv.key()] = "…";
    }
  }
  return out;
}

namespace {

bool names_a_secret(std::string_view key) {
  std::string k;
  for (char c : key) k.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (std::string_view word : {"credential", "secret", "password", "passwd", "token", "key",
                                "signature", "authorization", "cookie", "private"}) {
    if (k.find(word) != std::string::npos) return true;
  }
  return false;
}

bj::value redacted(const bj::value& v) {
  if (!v.is_object()) return "[redacted]";
  bj::object out;
  for (const auto& kv : v.as_object()) out[kv.key()] = redacted(kv.value());
  return out;
}

}  // namespace

bj::value without_secrets(const bj::value& body) {
  if (body.is_object()) {
    bj::object out;
    for (const auto& kv : body.as_object()) {
      out[kv.key()] = names_a_secret(kv.key()) ? redacted(kv.value()) : without_secrets(kv.value());
    }
    return out;
  }
  if (body.is_array()) {
    bj::array out;
    for (const auto& v : body.as_array()) out.push_back(without_secrets(v));
    return out;
  }
  return body;
}

}  // namespace mg::service
