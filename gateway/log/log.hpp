#pragma once
// Structured logs: one line per event, JSON (default) or text, through spdlog. Fields carry ids
// (request_id, checkout, adapter) so an operator can grep one checkout's story. Never pass a
// secret, a credential or a request body as a field.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace mg::log {

enum class Level { debug, info, warn, error };

struct Field {
  std::string_view key;
  std::variant<std::string_view, std::int64_t, double, bool> value;

  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, std::int64_t v) : key(k), value(v) {}
  Field(std::string_view k, int v) : key(k), value(static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, std::size_t v) : key(k), value(static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
};

// `format` is "json" or "text"; `level` is "debug", "info", "warn" or "error".
// Returns false (and changes nothing) on an unknown value.
bool configure(std::string_view format, std::string_view level);
bool parse_level(std::string_view name, Level& out);

void write(Level level, std::string_view event, std::initializer_list<Field> fields);
bool enabled(Level level);

inline void debug(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(Level::debug)) write(Level::debug, event, fields);
}
inline void info(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::info, event, fields);
}
inline void warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::warn, event, fields);
}
inline void error(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::error, event, fields);
}

// The line `write` would produce (for tests).
std::string format_line(bool json, Level level, std::string_view timestamp, std::string_view event,
                        std::initializer_list<Field> fields);

}  // namespace mg::log
