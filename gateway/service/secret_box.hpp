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

 private:
  std::string key_;
};

// "sk_live_…4242": a credential as reads show it. Short values are fully hidden.
std::string redact(std::string_view secret);
// Every string in `credentials` redacted.
boost::json::object redact_all(const boost::json::object& credentials);

}  // namespace mg::service
