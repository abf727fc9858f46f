#pragma once
// Printify API v1 on loopback (merchgate-sim --printify ip:port): shops, orders (created
// "on-hold", send_to_production, cancel of on-hold orders), the order list with paging,
// shipping.json and products, with Printify's error bodies. Like Printify, creating twice with
// one external_id makes two orders. Webhooks carry X-Pfy-Signature when
// --printify-webhook-secret is given.
#include "tools/sim/sim.hpp"

#include <memory>

namespace mg::sim {

std::unique_ptr<Simulator> make_printify_sim(Context& ctx);

}  // namespace mg::sim
