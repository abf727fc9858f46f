#include "gateway/service/crash_point.hpp"

#include <unistd.h>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>

namespace mg::service {
namespace {

struct Config {
  std::string name;
  long nth = 1;
};

const Config& config() {
  static const Config c = [] {
    Config cfg;
    const char* v = std::getenv("MERCHGATE_TEST_CRASH_POINT");
    if (!v) return cfg;
    std::string s(v);
    auto colon = s.find(':');
    cfg.name = s.substr(0, colon);
    if (colon != std::string::npos) cfg.nth = std::strtol(s.c_str() + colon + 1, nullptr, 10);
    return cfg;
  }();
  return c;
}

std::atomic<long> g_hits{0};

}  // namespace

void crash_point(std::string_view name) {
  const Config& c = config();
  if (c.name.empty() || c.name != name) return;
  if (++g_hits < c.nth) return;
  ::kill(::getpid(), SIGKILL);
  std::_Exit(137);
}

}  // namespace mg::service
