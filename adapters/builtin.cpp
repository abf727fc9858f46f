// The one list of built-in adapter types. Each is guarded by its CMake option, so a build can
// leave an adapter out; nothing registers itself from a static initialiser.
#include "adapters/adapter.hpp"

#ifdef MERCHGATE_WITH_SANDBOX
#include "adapters/fulfillment/sandbox/sandbox_fulfillment.hpp"
#include "adapters/payments/sandbox/sandbox_payments.hpp"
#endif

namespace mg::adapters {

void register_builtin_adapters(Registry& registry) {
#ifdef MERCHGATE_WITH_SANDBOX
  registry.add(sandbox::SandboxPaymentsFactory::type());
  registry.add(sandbox::SandboxFulfillmentFactory::type());
#endif
  (void)registry;
}

}  // namespace mg::adapters
