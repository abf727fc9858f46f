#pragma once
#include <string_view>

namespace mg::core {

// True for an officially assigned ISO 3166-1 alpha-2 code in upper case ("IT", "US").
bool is_country_code(std::string_view code) noexcept;

}  // namespace mg::core
