// The one list of built-in adapter types. Each is guarded by its CMake option, so a build can
// leave an adapter out; nothing registers itself from a static initialiser.
#include "adapters/adapter.hpp"

#ifdef MERCHGATE_WITH_SANDBOX
#include "adapters/fulfillment/sandbox/sandbox_fulfillment.hpp"
#include "adapters/payments/sandbox/sandbox_payments.hpp"
#endif
#ifdef MERCHGATE_WITH_STRIPE
#include "adapters/payments/stripe/stripe_payments.hpp"
#endif
#ifdef MERCHGATE_WITH_PAYPAL
#include "adapters/payments/paypal/paypal_payments.hpp"
#endif
#ifdef MERCHGATE_WITH_ADYEN
#include "adapters/payments/adyen/adyen_payments.hpp"
#endif
#ifdef MERCHGATE_WITH_PRINTFUL
#include "adapters/fulfillment/printful/printful.hpp"
#endif
#ifdef MERCHGATE_WITH_PRINTIFY
#include "adapters/fulfillment/printify/printify.hpp"
#endif
#ifdef MERCHGATE_WITH_GELATO
#include "adapters/fulfillment/gelato/gelato.hpp"
#endif
#ifdef MERCHGATE_WITH_PARTNER_PROTOCOL
#include "adapters/fulfillment/partner_protocol/partner_protocol.hpp"
#endif
#ifdef MERCHGATE_WITH_SPRING
#include "adapters/fulfillment/spring/spring.hpp"
#endif

namespace mg::adapters {

void register_builtin_adapters(Registry& registry) {
#ifdef MERCHGATE_WITH_SANDBOX
  registry.add(sandbox::SandboxPaymentsFactory::type());
  registry.add(sandbox::SandboxFulfillmentFactory::type());
#endif
#ifdef MERCHGATE_WITH_STRIPE
  registry.add(stripe::StripeFactory::type());
#endif
#ifdef MERCHGATE_WITH_PAYPAL
  registry.add(paypal::PayPalFactory::type());
#endif
#ifdef MERCHGATE_WITH_ADYEN
  registry.add(adyen::AdyenFactory::type());
#endif
#ifdef MERCHGATE_WITH_PRINTFUL
  registry.add(printful::PrintfulFactory::type());
#endif
#ifdef MERCHGATE_WITH_PRINTIFY
  registry.add(printify::PrintifyFactory::type());
#endif
#ifdef MERCHGATE_WITH_GELATO
  registry.add(gelato::GelatoFactory::type());
#endif
#ifdef MERCHGATE_WITH_PARTNER_PROTOCOL
  registry.add(protocol::PartnerProtocolFactory::type());
#endif
#ifdef MERCHGATE_WITH_SPRING
  registry.add(spring::SpringFactory::type());
#endif
  (void)registry;
}

}  // namespace mg::adapters
