#include "gateway/store/async.hpp"

#include "gateway/store/sqlite_db.hpp"

namespace mg::store::detail {

Error store_failure(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const sqlite::Error& x) {
    return make_error(errc::unavailable, std::string("storage error: ") + x.what());
  } catch (const std::exception& x) {
    return make_error(errc::internal, x.what());
  } catch (...) {
    return make_error(errc::internal, "unknown failure in a storage unit");
  }
}

}  // namespace mg::store::detail
