// The walking skeleton's flow end to end through HTTP, the real store and the sandbox adapters.
#include "tests/support/gateway_fixture.hpp"

#include <gtest/gtest.h>

namespace mg::testing {
namespace {

std::string str(const boost::json::value& v) { return std::string(v.as_string()); }

TEST(CheckoutFlow, PaidPrintedShippedAndDeliveredWithEveryStepAnEvent) {
  GatewayFixture f;
  auto c = f.create_checkout({{"tee", 2}});
  std::string id = str(c.at("id"));
  EXPECT_EQ(str(c.at("status")), "requires_payment");
  EXPECT_EQ(c.at("amount_subtotal").as_int64(), 5000);
  EXPECT_EQ(c.at("amount_shipping").as_int64(), 495);
  EXPECT_EQ(c.at("amount_total").as_int64(), 5495);
  EXPECT_EQ(c.at("platform_fee").as_int64(), 250);
  EXPECT_EQ(str(c.at("payment").at("processor")), "sandbox-pay");
  EXPECT_TRUE(str(c.at("payment").at("reference")).starts_with("sbp_"));

  auto done = f.wait_for_status(id, "fulfilled");
  ASSERT_EQ(str(done.at("status")), "fulfilled");
  const auto& ful = done.at("fulfillments").as_array();
  ASSERT_EQ(ful.size(), 1u);
  EXPECT_TRUE(eventually([&] {
    return str(f.get_checkout(id).at("fulfillments").as_array()[0].at("status")) == "delivered";
  }));
  auto final = f.get_checkout(id);
  const auto& shipment = final.at("fulfillments").as_array()[0].at("shipments").as_array()[0];
  EXPECT_EQ(str(shipment.at("carrier")), "Sandbox Post");
  EXPECT_TRUE(str(shipment.at("tracking_number")).starts_with("SBX"));

  EXPECT_EQ(f.event_types(id),
            (std::vector<std::string>{"checkout.created", "checkout.paid", "fulfillment.submitted",
                                      "fulfillment.in_production", "fulfillment.shipped",
                                      "checkout.fulfilled", "fulfillment.delivered"}));
}

}  // namespace
}  // namespace mg::testing
