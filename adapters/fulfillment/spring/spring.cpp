#include "adapters/fulfillment/spring/spring.hpp"

namespace mg::adapters::spring {

AdapterType SpringFactory::type() {
  return protocol::protocol_type(
      kSpringDialect,
      "Spring (formerly Teespring) merch over the Merch Partner Protocol v1: settings.store is "
      "the Spring store slug; products name a Spring listing and variant.",
      "");
}

}  // namespace mg::adapters::spring
