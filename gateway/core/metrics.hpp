#pragma once
// A small Prometheus registry: counters and histograms keyed by name and label values, rendered
// in the text exposition format for GET /metrics. Thread-safe; cheap enough for every request.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mg::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Declares a metric's help text and type once (optional; undeclared metrics get a generic help).
void describe(std::string_view name, std::string_view help, std::string_view type);

void counter_add(std::string_view name, const Labels& labels, double value = 1.0);
// A gauge set to an absolute value.
void gauge_set(std::string_view name, const Labels& labels, double value);
// Observes a value (seconds for latencies) in fixed buckets 1 ms .. 30 s.
void histogram_observe(std::string_view name, const Labels& labels, double value);

// Registers a callback that sets gauges right before rendering (queue depths and the like).
void on_render(std::string_view key, std::function<void()> refresh);

// The whole registry in the Prometheus text format (version 0.0.4).
std::string render();

// Current value of one counter or gauge series (0 when absent): for tests.
double value(std::string_view name, const Labels& labels);

}  // namespace mg::metrics
