#pragma once
// Gelato Order API v4 on loopback (merchgate-sim --gelato ip:port): create (draft or order),
// get, PATCH draft -> order, :cancel (409 once in production), :search by orderReferenceId and
// :quote, authenticated by X-API-KEY. Webhooks (order_status_updated with per-item tracking) are
// unsigned, like Gelato's.
#include "tools/sim/sim.hpp"

#include <memory>

namespace mg::sim {

std::unique_ptr<Simulator> make_gelato_sim(Context& ctx);

}  // namespace mg::sim
