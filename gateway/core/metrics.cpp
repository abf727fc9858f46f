#include "gateway/core/metrics.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <mutex>

namespace mg::metrics {
namespace {

constexpr std::array<double, 14> kBucketBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                  0.25,  0.5,    1,     2.5,  5,     10,   30};
constexpr char kSeparator = '\x1f';

enum class Kind { counter, gauge, histogram };

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::counter:
      return "counter";
    case Kind::gauge:
      return "gauge";
    case Kind::histogram:
      return "histogram";
  }
  return "untyped";
}

struct Series {
  std::string name;
  Labels labels;
  Kind kind = Kind::counter;
  double value = 0;                                           // counter and gauge
  std::array<std::uint64_t, kBucketBounds.size()> buckets{};  // histogram, not cumulative
  std::uint64_t count = 0;
  double sum = 0;
};

struct Description {
  std::string help;
  std::string type;
};

struct Registry {
  std::mutex mutex;
  // Keyed by name, then label pairs sorted by label name, all joined by kSeparator: the series
  // of one metric are adjacent, and a lookup needs no allocation once the series exists.
  std::map<std::string, Series, std::less<>> series;
  std::map<std::string, Description, std::less<>> descriptions;
  std::mutex callbacks_mutex;
  std::map<std::string, std::function<void()>, std::less<>> callbacks;
};

Registry& registry() {
  // Never destroyed: threads may still record metrics while the process exits.
  static Registry* instance = new Registry;
  return *instance;
}

// Builds the series key in a per-thread buffer so the hot path reuses its capacity.
const std::string& series_key(std::string_view name, const Labels& labels) {
  thread_local std::string key;
  thread_local std::vector<std::size_t> order;
  order.clear();
  for (std::size_t i = 0; i < labels.size(); ++i) order.push_back(i);
  // Insertion sort: label sets are tiny, and callers rarely agree on an order by accident.
  for (std::size_t i = 1; i < order.size(); ++i) {
    for (std::size_t j = i; j > 0 && labels[order[j]].first < labels[order[j - 1]].first; --j) {
      std::swap(order[j], order[j - 1]);
    }
  }
  key.assign(name);
  for (std::size_t i : order) {
    key += kSeparator;
    key += labels[i].first;
    key += kSeparator;
    key += labels[i].second;
  }
  return key;
}

// The series for (name, labels), created with `kind` when absent; nullptr when it exists with
// another kind (a programming error that must not corrupt the exposition).
Series* find_or_create(Registry& r, std::string_view name, const Labels& labels, Kind kind) {
  const std::string& key = series_key(name, labels);
  auto it = r.series.find(key);
  if (it == r.series.end()) {
    Series s;
    s.name = std::string(name);
    s.labels = labels;
    s.kind = kind;
    it = r.series.emplace(key, std::move(s)).first;
  }
  return it->second.kind == kind ? &it->second : nullptr;
}

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    std::array<char, 32> buf{};
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    out.append(buf.data(), ec == std::errc{} ? end : buf.data());
  }
}

void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// `{a="1",b="2",le="0.5"}`, or nothing when there are no labels at all.
void append_labels(std::string& out, const Labels& labels, std::string_view le = {}) {
  if (labels.empty() && le.empty()) return;
  out += '{';
  bool first = true;
  for (const auto& [label, value] : labels) {
    if (!first) out += ',';
    first = false;
    out += label;
    out += "=\"";
    append_escaped(out, value, true);
    out += '"';
  }
  if (!le.empty()) {
    if (!first) out += ',';
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

void append_series(std::string& out, const Series& s) {
  if (s.kind != Kind::histogram) {
    out += s.name;
    append_labels(out, s.labels);
    out += ' ';
    append_number(out, s.value);
    out += '\n';
    return;
  }
  std::uint64_t cumulative = 0;
  std::string le;
  for (std::size_t i = 0; i <= s.buckets.size(); ++i) {
    le.clear();
    if (i < s.buckets.size()) {
      cumulative += s.buckets[i];
      append_number(le, kBucketBounds[i]);
    } else {
      cumulative = s.count;
      le = "+Inf";
    }
    out += s.name;
    out += "_bucket";
    append_labels(out, s.labels, le);
    out += ' ';
    out += std::to_string(cumulative);
    out += '\n';
  }
  out += s.name;
  out += "_sum";
  append_labels(out, s.labels);
  out += ' ';
  append_number(out, s.sum);
  out += '\n';
  out += s.name;
  out += "_count";
  append_labels(out, s.labels);
  out += ' ';
  out += std::to_string(s.count);
  out += '\n';
}

}  // namespace

void describe(std::string_view name, std::string_view help, std::string_view type) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.descriptions.insert_or_assign(std::string(name),
                                  Description{std::string(help), std::string(type)});
}

void counter_add(std::string_view name, const Labels& labels, double value) {
  if (!(value >= 0)) return;  // counters only go up; NaN is dropped too
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  if (Series* s = find_or_create(r, name, labels, Kind::counter)) s->value += value;
}

void gauge_set(std::string_view name, const Labels& labels, double value) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  if (Series* s = find_or_create(r, name, labels, Kind::gauge)) s->value = value;
}

void histogram_observe(std::string_view name, const Labels& labels, double value) {
  if (std::isnan(value)) return;
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  Series* s = find_or_create(r, name, labels, Kind::histogram);
  if (s == nullptr) return;
  // Values above the last bound only count towards +Inf, which is `count`.
  for (std::size_t i = 0; i < kBucketBounds.size(); ++i) {
    if (value <= kBucketBounds[i]) {
      ++s->buckets[i];
      break;
    }
  }
  ++s->count;
  s->sum += value;
}

void on_render(std::string_view key, std::function<void()> refresh) {
  Registry& r = registry();
  std::lock_guard lock(r.callbacks_mutex);
  r.callbacks.insert_or_assign(std::string(key), std::move(refresh));
}

std::string render() {
  Registry& r = registry();
  std::vector<std::function<void()>> refreshes;
  {
    std::lock_guard lock(r.callbacks_mutex);
    for (const auto& [key, refresh] : r.callbacks) refreshes.push_back(refresh);
  }
  // Outside every lock: the callbacks call gauge_set.
  for (const auto& refresh : refreshes) {
    if (refresh) refresh();
  }

  std::string out;
  std::lock_guard lock(r.mutex);
  std::string_view current;
  for (const auto& [key, s] : r.series) {
    if (s.name != current) {
      current = s.name;
      auto d = r.descriptions.find(s.name);
      out += "# HELP ";
      out += s.name;
      out += ' ';
      append_escaped(out, d != r.descriptions.end() ? d->second.help : "merchgate metric", false);
      out += "\n# TYPE ";
      out += s.name;
      out += ' ';
      out += d != r.descriptions.end() && !d->second.type.empty() ? std::string_view(d->second.type)
                                                                  : kind_name(s.kind);
      out += '\n';
    }
    append_series(out, s);
  }
  return out;
}

double value(std::string_view name, const Labels& labels) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.series.find(series_key(name, labels));
  if (it == r.series.end() || it->second.kind == Kind::histogram) return 0;
  return it->second.value;
}

}  // namespace mg::metrics
