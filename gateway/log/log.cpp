#include "gateway/log/log.hpp"

#include "gateway/core/clock.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>

namespace mg::log {
namespace {

std::atomic<bool> g_json{true};
std::atomic<int> g_level{static_cast<int>(Level::info)};

std::string_view level_name(Level l) {
  switch (l) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "info";
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void append_value(std::string& out, const Field& f, bool json) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          if (json) {
            append_json_string(out, v);
          } else if (v.empty() || std::any_of(v.begin(), v.end(), [](char ch) {
                       return static_cast<unsigned char>(ch) <= 0x20 || ch == '"' || ch == '=';
                     })) {
            // Quoted and escaped: a space would split the pair, a control byte forge a line.
            append_json_string(out, v);
          } else {
            out += v;
          }
        } else if constexpr (std::is_same_v<T, bool>) {
          out += v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          // JSON has no NaN or infinity.
          out += std::isfinite(v) ? std::to_string(v) : "null";
        } else {
          out += std::to_string(v);
        }
      },
      f.value);
}

spdlog::logger& logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    auto l = std::make_shared<spdlog::logger>("merchgate", sink);
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *instance;
}

}  // namespace

bool parse_level(std::string_view name, Level& out) {
  if (name == "debug")
    out = Level::debug;
  else if (name == "info")
    out = Level::info;
  else if (name == "warn" || name == "warning")
    out = Level::warn;
  else if (name == "error")
    out = Level::error;
  else
    return false;
  return true;
}

bool configure(std::string_view format, std::string_view level) {
  Level l;
  if (!parse_level(level, l)) return false;
  if (format != "json" && format != "text") return false;
  g_json = format == "json";
  g_level = static_cast<int>(l);
  return true;
}

bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

std::string format_line(bool json, Level level, std::string_view timestamp, std::string_view event,
                        std::initializer_list<Field> fields) {
  std::string out;
  out.reserve(128);
  if (json) {
    out += "{\"ts\":";
    append_json_string(out, timestamp);
    out += ",\"level\":\"";
    out += level_name(level);
    out += "\",\"event\":";
    append_json_string(out, event);
    for (const auto& f : fields) {
      out.push_back(',');
      append_json_string(out, f.key);
      out.push_back(':');
      append_value(out, f, true);
    }
    out.push_back('}');
  } else {
    out += timestamp;
    out.push_back(' ');
    std::string_view name = level_name(level);
    for (char c : name)
      out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    out.push_back(' ');
    out += event;
    for (const auto& f : fields) {
      out.push_back(' ');
      out += f.key;
      out.push_back('=');
      append_value(out, f, false);
    }
  }
  return out;
}

void write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  std::string line =
      format_line(g_json.load(), level, core::format_time(core::system_now()), event, fields);
  logger().log(spdlog::level::info, "{}", line);
}

}  // namespace mg::log
