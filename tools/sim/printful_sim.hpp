#pragma once
// Printful API v1 on loopback (merchgate-sim --printful ip:port): store, orders (drafts,
// confirm, `@external_id` lookups, update_existing), cancel, shipping rates and sync products,
// with Printful's {"code", "result"} envelopes and errors. Webhooks: v2 signed with the
// --printful-webhook-secret (hex, as Printful shows it) when one is given, else v1 unsigned.
#include "tools/sim/sim.hpp"

#include <memory>

namespace mg::sim {

std::unique_ptr<Simulator> make_printful_sim(Context& ctx);

}  // namespace mg::sim
