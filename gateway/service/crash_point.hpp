#pragma once
// Deterministic crash points for the crash-safety tests: when MERCHGATE_TEST_CRASH_POINT names a
// point (optionally "name:N" for the N-th time it is reached), the process dies there with
// SIGKILL, as a power cut would, leaving exactly what was durable. Off unless the variable is set.
#include <string_view>

namespace mg::service {

void crash_point(std::string_view name);

}  // namespace mg::service
