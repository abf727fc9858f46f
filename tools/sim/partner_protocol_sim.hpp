#pragma once
// The Merch Partner Protocol v1 on loopback (merchgate-sim --partner-protocol ip:port): a print
// shop serving docs/partner-protocol.md for any store name (so it also stands in for Spring):
// orders idempotent by external_id, cancel before production, shipping quotes, a product list,
// and Standard Webhooks signed with --partner-protocol-webhook-secret (whsec_…).
#include "tools/sim/sim.hpp"

#include <memory>

namespace mg::sim {

std::unique_ptr<Simulator> make_partner_protocol_sim(Context& ctx);

}  // namespace mg::sim
