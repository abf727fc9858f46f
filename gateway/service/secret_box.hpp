#pragma once
// Partner credentials at rest: AES-256-GCM under MERCHGATE_MASTER_KEY with a fresh nonce per
// value and the adapter id bound as associated data (a sealed blob moved to another adapter does
// not open). Without a master key, credentials cannot be stored and the error says why.
#include "gateway/core/error.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace mg::service {

class SecretBox {
 public:
  SecretBox() = default;  // no key: seal() refuses
  // `base64_key` must decode to exactly 32 bytes.
  static Result<SecretBox> from_base64(std::string_view base64_key);

  bool has_key() const noexcept { return !key_.empty(); }
  Result<std::string> seal(const boost::json::object& credentials,
                           std::string_view adapter_id) const;
  Result<boost::json::object> open(std::string_view sealed, std::string_view adapter_id) const;
  // Any JSON secret bound to `context` (e.g. "merchgate/webhook-endpoint/we_..."); `what` names it
  // in errors.
  Result<std::string> seal_json(const boost::json::value& secret, std::string_view context,
                                std::string_view what) const;
  Result<boost::json::value> open_json(std::string_view sealed, std::string_view context,
                                       std::string_view what) const;
  // A value sealed under this key and `context`, sealed again under `to`'s key (master-key
  // rotation); the plaintext never leaves this call.
  Result<std::string> reseal(std::string_view sealed, std::string_view context,
                             const SecretBox& to) const;
  // The associated data each kind of secret is bound to: a sealed value moved to another row
  // does not open.
  static std::string adapter_context(std::string_view adapter_id);
  static std::string endpoint_context(std::string_view endpoint_id);

 private:
  std::string key_;
};

// "sk_live_…4242": a credential as reads show it. Short values are fully hidden.
std::string redact(std::string_view secret);
// Every string in `credentials` redacted.
boost::json::object redact_all(const boost::json::object& credentials);
// A request body as the audit log keeps it: the value of every key that names a secret
// (`credentials`, `*secret*`, `*password*`, `*token*`, `*key*`, ...) replaced by "[redacted]",
// at any depth; for objects, each of their keys is kept so the log shows what was changed.
boost::json::value without_secrets(const boost::json::value& body);

}  // namespace mg::service
