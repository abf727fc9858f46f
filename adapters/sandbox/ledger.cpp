#include "adapters/sandbox/ledger.hpp"

#include <boost/asio/post.hpp>

#include <pthread.h>

#include <filesystem>

namespace mg::adapters::sandbox {

Ledger::Ledger(const std::string& path, const char* schema) : path_(path) {
  std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  db_ = std::make_unique<store::sqlite::Db>(path, false);
  db_->exec("PRAGMA journal_mode = WAL");
  db_->exec("PRAGMA synchronous = NORMAL");
  db_->exec(schema);
  boost::asio::post(pool_, [] { pthread_setname_np(pthread_self(), "mg-sandbox"); });
}

Ledger::~Ledger() {
  pool_.join();
  std::lock_guard lock(mutex_);
  db_.reset();
}

}  // namespace mg::adapters::sandbox
