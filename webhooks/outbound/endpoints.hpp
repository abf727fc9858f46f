#pragma once
// Webhook endpoints (CONTRACT §5 /v1/admin/webhook-endpoints, §6): where normalized events go.
// A signing secret ("whsec_" + base64 of 32 random bytes) is shown once at creation and at each
// rotation; during a rotation window the old and the new secret both sign. Secrets are sealed
// with the master key at rest.
#include "gateway/core/clock.hpp"
#include "gateway/core/error.hpp"
#include "gateway/service/secret_box.hpp"
#include "gateway/store/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <string>
#include <vector>

namespace mg::webhooks {

template <class T>
using Task = boost::asio::awaitable<T>;

struct EndpointOptions {
  bool allow_http = false;  // plain http:// URLs (development, tests: MERCHGATE_ALLOW_LOOPBACK)
  int max_endpoints = 50;
  int max_replay = 10'000;  // events one replay may queue
  std::int64_t default_rotation_overlap_ms = 24 * 3600'000;
};

// A live signing secret: "whsec_..." and when it stops signing (0: never).
struct SigningSecret {
  std::string secret;
  core::Timestamp expires_at = 0;
};

// The secrets of an endpoint, opened; expired ones are dropped.
Result<std::vector<SigningSecret>> open_secrets(const service::SecretBox& box,
                                                const store::EndpointRecord& e,
                                                core::Timestamp now);

class EndpointService {
 public:
  EndpointService(store::Store& store, const service::SecretBox& secrets, const core::Clock& clock,
                  EndpointOptions options, std::function<void()> changed);

  // 201 body with "secret"; errors name the field.
  Task<Result<boost::json::object>> create(boost::json::object body);
  // Config seeding (seed.webhook_endpoints): creates endpoint `id` with the secret the config
  // gives (`secret`, a whsec_ value) unless `id` exists already — then the database wins and
  // this answers false. Never returns or logs the secret.
  Task<Result<bool>> seed(std::string id, boost::json::object body);
  Task<Result<boost::json::object>> get(std::string id);
  Task<Result<boost::json::array>> list();
  // url, events, enabled, description. Enabling a failing endpoint resumes its deliveries.
  Task<Result<boost::json::object>> patch(std::string id, boost::json::object body);
  Task<Result<void>> remove(std::string id);
  // {"expire_previous_in_seconds": n} (default a day; 0: at once) → the new secret, once.
  Task<Result<boost::json::object>> rotate(std::string id, boost::json::object body);
  // Queues every matching event since `since` (RFC 3339) again.
  Task<Result<boost::json::object>> replay(std::string id, std::string since);
  Task<Result<store::Page<store::DeliveryAttempt>>> attempts(std::string id, store::ListQuery q);
  // Queues one event again for every matching endpoint (or just `endpoint_id`).
  Task<Result<int>> redeliver(std::string event_id, std::string endpoint_id);

 private:
  boost::json::object view(const store::EndpointRecord& e) const;
  // url, events, enabled, description from a create body → a record without id or secret.
  Result<store::EndpointRecord> parse_new(const boost::json::object& body) const;
  // Seals `secret` into `e` and stores it (at most max_endpoints); false if `only_if_absent`
  // and the id exists.
  Task<Result<bool>> insert(store::EndpointRecord& e, const std::string& secret,
                            bool only_if_absent);

  store::Store& store_;
  const service::SecretBox& secrets_;
  const core::Clock& clock_;
  EndpointOptions options_;
  std::function<void()> changed_;
};

// JSON view of one attempt.
boost::json::object to_json(const store::DeliveryAttempt& a);

}  // namespace mg::webhooks
