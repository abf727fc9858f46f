#include "gateway/core/metrics.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace mg::metrics {
namespace {

// The registry is process-global: each test uses metric names of its own.

std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(Metrics, CounterAccumulatesAndRenders) {
  describe("t_requests_total", "Requests served.", "counter");
  counter_add("t_requests_total", {{"route", "/v1/checkouts"}, {"status", "201"}});
  counter_add("t_requests_total", {{"route", "/v1/checkouts"}, {"status", "201"}}, 2);
  counter_add("t_requests_total", {{"route", "/v1/checkouts"}, {"status", "400"}});
  const std::string out = render();
  EXPECT_TRUE(contains(out,
                       "# HELP t_requests_total Requests served.\n"
                       "# TYPE t_requests_total counter\n"))
      << out;
  EXPECT_TRUE(contains(out, "t_requests_total{route=\"/v1/checkouts\",status=\"201\"} 3\n")) << out;
  EXPECT_TRUE(contains(out, "t_requests_total{route=\"/v1/checkouts\",status=\"400\"} 1\n")) << out;
}

TEST(Metrics, RendersHelpAndTypeOncePerName) {
  counter_add("t_once_total", {{"k", "a"}});
  counter_add("t_once_total", {{"k", "b"}});
  counter_add("t_once_total", {{"k", "c"}});
  counter_add("t_once_total_extra", {});
  const std::string out = render();
  EXPECT_EQ(count_of(out, "# HELP t_once_total "), 1u) << out;
  EXPECT_EQ(count_of(out, "# TYPE t_once_total counter\n"), 1u) << out;
  EXPECT_EQ(count_of(out, "# TYPE t_once_total_extra counter\n"), 1u) << out;
}

TEST(Metrics, UndescribedMetricGetsGenericHelpAndItsKind) {
  gauge_set("t_undescribed", {}, 1);
  const std::string out = render();
  EXPECT_TRUE(contains(out, "# HELP t_undescribed ")) << out;
  EXPECT_TRUE(contains(out, "# TYPE t_undescribed gauge\n")) << out;
  EXPECT_TRUE(contains(out, "\nt_undescribed 1\n")) << out;
}

TEST(Metrics, ValueReturnsCounterAndGaugeValues) {
  EXPECT_EQ(value("t_value_total", {{"a", "1"}}), 0);
  counter_add("t_value_total", {{"a", "1"}}, 2.5);
  counter_add("t_value_total", {{"a", "1"}});
  EXPECT_EQ(value("t_value_total", {{"a", "1"}}), 3.5);
  EXPECT_EQ(value("t_value_total", {{"a", "2"}}), 0);
  gauge_set("t_value_gauge", {}, 7);
  gauge_set("t_value_gauge", {}, 4);
  EXPECT_EQ(value("t_value_gauge", {}), 4);
}

TEST(Metrics, CounterIgnoresNegativeIncrements) {
  counter_add("t_negative_total", {}, 5);
  counter_add("t_negative_total", {}, -3);
  EXPECT_EQ(value("t_negative_total", {}), 5);
}

TEST(Metrics, LabelOrderDoesNotSplitSeries) {
  counter_add("t_order_total", {{"a", "1"}, {"b", "2"}});
  counter_add("t_order_total", {{"b", "2"}, {"a", "1"}});
  EXPECT_EQ(value("t_order_total", {{"a", "1"}, {"b", "2"}}), 2);
  EXPECT_EQ(count_of(render(), "t_order_total{"), 1u);
}

TEST(Metrics, EscapesLabelValues) {
  counter_add("t_escape_total", {{"path", "a\\b\"c\nd"}});
  const std::string out = render();
  EXPECT_TRUE(contains(out, "t_escape_total{path=\"a\\\\b\\\"c\\nd\"} 1\n")) << out;
}

TEST(Metrics, EscapesHelpText) {
  describe("t_help_escape", "line one\nback\\slash", "gauge");
  gauge_set("t_help_escape", {}, 0);
  EXPECT_TRUE(contains(render(), "# HELP t_help_escape line one\\nback\\\\slash\n"));
}

TEST(Metrics, HistogramRendersCumulativeBucketsSumAndCount) {
  describe("t_latency_seconds", "Latency.", "histogram");
  const Labels labels = {{"route", "x"}};
  histogram_observe("t_latency_seconds", labels, 0.0005);  // <= 0.001
  histogram_observe("t_latency_seconds", labels, 0.001);   // bounds are inclusive
  histogram_observe("t_latency_seconds", labels, 0.2);     // <= 0.25
  histogram_observe("t_latency_seconds", labels, 45);      // only +Inf
  const std::string out = render();
  EXPECT_TRUE(contains(out, "# TYPE t_latency_seconds histogram\n")) << out;
  const std::string p = "t_latency_seconds_bucket{route=\"x\",le=\"";
  EXPECT_TRUE(contains(out, p + "0.001\"} 2\n")) << out;
  EXPECT_TRUE(contains(out, p + "0.0025\"} 2\n")) << out;
  EXPECT_TRUE(contains(out, p + "0.1\"} 2\n")) << out;
  EXPECT_TRUE(contains(out, p + "0.25\"} 3\n")) << out;
  EXPECT_TRUE(contains(out, p + "10\"} 3\n")) << out;
  EXPECT_TRUE(contains(out, p + "30\"} 3\n")) << out;
  EXPECT_TRUE(contains(out, p + "+Inf\"} 4\n")) << out;
  EXPECT_EQ(count_of(out, "t_latency_seconds_bucket{"), 15u) << out;
  EXPECT_TRUE(contains(out, "t_latency_seconds_sum{route=\"x\"} 45.")) << out;
  EXPECT_TRUE(contains(out, "t_latency_seconds_count{route=\"x\"} 4\n")) << out;
}

TEST(Metrics, HistogramWithoutLabelsHasOnlyLeLabel) {
  histogram_observe("t_plain_seconds", {}, 3);
  histogram_observe("t_plain_seconds", {}, 0.5);
  const std::string out = render();
  EXPECT_TRUE(contains(out, "t_plain_seconds_bucket{le=\"0.25\"} 0\n")) << out;
  EXPECT_TRUE(contains(out, "t_plain_seconds_bucket{le=\"0.5\"} 1\n")) << out;
  EXPECT_TRUE(contains(out, "t_plain_seconds_bucket{le=\"2.5\"} 1\n")) << out;
  EXPECT_TRUE(contains(out, "t_plain_seconds_bucket{le=\"5\"} 2\n")) << out;
  EXPECT_TRUE(contains(out, "t_plain_seconds_sum 3.5\n")) << out;
  EXPECT_TRUE(contains(out, "t_plain_seconds_count 2\n")) << out;
}

TEST(Metrics, OnRenderCallbacksRunBeforeRendering) {
  int calls = 0;
  on_render("t_queue", [&calls] {
    ++calls;
    gauge_set("t_queue_depth", {}, 42);  // would deadlock if called under the registry lock
  });
  const std::string out = render();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(contains(out, "t_queue_depth 42\n")) << out;
  on_render("t_queue", [] {});  // same key replaces; `calls` goes out of scope after this test
  render();
  EXPECT_EQ(calls, 1);
}

TEST(Metrics, CountsEveryIncrementFromConcurrentThreads) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([] {
      for (int i = 0; i < 10'000; ++i) counter_add("t_concurrent_total", {{"k", "v"}});
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(value("t_concurrent_total", {{"k", "v"}}), 40'000);
}

}  // namespace
}  // namespace mg::metrics
