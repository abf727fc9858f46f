#pragma once
// Reads a file under tests/fixtures/ byte for byte.
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#ifndef MERCHGATE_FIXTURES_DIR
#error "MERCHGATE_FIXTURES_DIR must name tests/fixtures"
#endif

namespace mg::testing {

inline std::string fixture(const std::string& name) {
  std::ifstream in(std::string(MERCHGATE_FIXTURES_DIR) + "/" + name, std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace mg::testing
