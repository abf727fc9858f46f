// The simulators built into merchgate-sim, one line each (no self-registration).
#include "tools/sim/sim.hpp"

namespace mg::sim {

void register_simulators() {
  auto& all = simulators();
  (void)all;
}

}  // namespace mg::sim
