#pragma once
// Numbered schema migrations, applied in order at start (and by `merchgate migrate`).
#include <span>
#include <string_view>

namespace mg::store::sqlite {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

std::span<const Migration> migrations();

}  // namespace mg::store::sqlite
