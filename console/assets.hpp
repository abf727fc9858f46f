#pragma once
// The web console's files, compiled into the binary (console/web/, embedded by embed.cmake).
#include <string_view>

namespace mg::console {

struct Asset {
  std::string_view name;          // file name under /admin/, e.g. "console.js"
  std::string_view content_type;  // with charset for text
  std::string_view etag;          // quoted content hash
  std::string_view body;
};

// The asset with this file name, or nullptr.
const Asset* find_asset(std::string_view name);

}  // namespace mg::console
