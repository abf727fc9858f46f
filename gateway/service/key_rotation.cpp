#include "gateway/service/key_rotation.hpp"

#include <future>

namespace mg::service {

Result<RotationReport> rotate_master_key(store::Store& store, const SecretBox& from,
                                         const SecretBox& to) {
  if (!from.has_key()) {
    return make_error(errc::invalid_field,
                      "set MERCHGATE_MASTER_KEY to the key the secrets are stored with",
                      "MERCHGATE_MASTER_KEY");
  }
  if (!to.has_key()) {
    return make_error(errc::invalid_field, "no new master key given", "MERCHGATE_NEW_MASTER_KEY");
  }
  std::optional<Error> failed;
  RotationReport report;
  std::promise<std::exception_ptr> done;
  store.write(
      [&](store::WriteTx& tx) {
        failed.reset();
        report = {};
        for (auto a : tx.adapters()) {
          if (a.sealed_credentials.empty()) continue;
          auto sealed = from.reseal(a.sealed_credentials, SecretBox::adapter_context(a.id), to);
          if (!sealed) {
            failed = make_error(sealed.error().code,
                                "adapter '" + a.id + "': " + sealed.error().message);
            return false;
          }
          a.sealed_credentials = std::move(*sealed);
          tx.put_adapter(a);
          ++report.adapters;
        }
        for (auto e : tx.endpoints()) {
          if (e.sealed_secrets.empty()) continue;
          auto sealed = from.reseal(e.sealed_secrets, SecretBox::endpoint_context(e.id), to);
          if (!sealed) {
            failed = make_error(sealed.error().code,
                                "webhook endpoint '" + e.id + "': " + sealed.error().message);
            return false;
          }
          e.sealed_secrets = std::move(*sealed);
          tx.put_endpoint(e);
          ++report.endpoints;
        }
        return true;
      },
      [&](std::exception_ptr e) { done.set_value(e); });
  std::exception_ptr error = done.get_future().get();
  if (failed) return *failed;
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      return make_error(errc::unavailable, std::string("the rotation did not commit: ") + e.what());
    }
  }
  return report;
}

}  // namespace mg::service
