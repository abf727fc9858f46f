#pragma once
// Wall-clock time as Unix milliseconds, behind an interface so tests can move time.
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace mg::core {

using Timestamp = std::int64_t;  // Unix time in milliseconds, UTC

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp now() const override;
};

// A clock tests set by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start = 1'700'000'000'000) : now_(start) {}
  Timestamp now() const override { return now_.load(); }
  void set(Timestamp t) { now_.store(t); }
  void advance(std::int64_t ms) { now_.fetch_add(ms); }

 private:
  std::atomic<Timestamp> now_;
};

Timestamp system_now();

// RFC 3339 in UTC with milliseconds: "2026-11-26T16:32:00.123Z".
std::string format_time(Timestamp t);
// Parses what format_time writes (and the same without fraction, or with a numeric offset).
bool parse_time(std::string_view text, Timestamp& out);

}  // namespace mg::core
