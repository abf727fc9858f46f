// The simulators built into merchgate-sim, one line each (no self-registration).
#include "tools/sim/sim.hpp"

#include "tools/sim/gelato_sim.hpp"
#include "tools/sim/partner_protocol_sim.hpp"
#include "tools/sim/printful_sim.hpp"
#include "tools/sim/printify_sim.hpp"
#if defined(MERCHGATE_SIM_STRIPE) || defined(MERCHGATE_SIM_PAYPAL) || defined(MERCHGATE_SIM_ADYEN)
#include "tools/sim/payments_sim.hpp"
#endif

namespace mg::sim {

void register_simulators() {
  auto& all = simulators();
  all["printful"] = make_printful_sim;
  all["printify"] = make_printify_sim;
  all["gelato"] = make_gelato_sim;
  all["partner-protocol"] = make_partner_protocol_sim;
#ifdef MERCHGATE_SIM_STRIPE
  all["stripe"] = make_stripe_sim;
#endif
#ifdef MERCHGATE_SIM_PAYPAL
  all["paypal"] = make_paypal_sim;
#endif
#ifdef MERCHGATE_SIM_ADYEN
  all["adyen"] = make_adyen_sim;
#endif
  (void)all;
}

}  // namespace mg::sim
