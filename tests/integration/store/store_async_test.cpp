// The awaitable wrappers: a coroutine's unit runs on a store thread, its Result comes back on the
// coroutine's executor, and an error Result (or an exception) rolls the unit back.
#include "gateway/store/async.hpp"
#include "tests/integration/store/store_harness.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <thread>

namespace mg::testing {
namespace {

namespace asio = boost::asio;
using store::ReadTx;
using store::WriteTx;

class StoreAsync : public ::testing::Test {
 protected:
  StoreAsync() : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~StoreAsync() override {
    work_.reset();
    io_.stop();
    thread_.join();
  }

  // Runs a coroutine on the io_context thread and waits (bounded) for its value.
  template <class T>
  T run(asio::awaitable<T> task) {
    auto future = asio::co_spawn(io_, std::move(task), asio::use_future);
    return get_bounded(future, "a coroutine");
  }

  bool has_event(const std::string& id) {
    return must_read(*s_, [id](ReadTx& tx) { return tx.event(id).has_value(); });
  }

  TempDir dir_;
  std::unique_ptr<store::Store> s_ = open_migrated(dir_.file("x.db"));
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

// The thread a coroutine resumes on after the store answered.
asio::awaitable<std::thread::id> write_then_report_thread(store::Store& s) {
  auto unit = [](WriteTx& tx) -> Result<int> {
    tx.append_events({make_event("evt_async_thread", "test", "chk_1", 1)});
    return 1;
  };
  auto pending = store::async_write(s, std::move(unit));
  auto r = co_await std::move(pending);
  if (!r) co_return std::thread::id{};
  co_return std::this_thread::get_id();
}

TEST_F(StoreAsync, AWriteCommitsAndReturnsItsValueOnTheCallersExecutor) {
  auto r = run(store::async_write(*s_, [](WriteTx& tx) -> Result<std::string> {
    tx.append_events({make_event("evt_async_ok", "test", "chk_1", 1)});
    return std::string("written");
  }));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "written");
  EXPECT_TRUE(has_event("evt_async_ok"));

  EXPECT_EQ(run(write_then_report_thread(*s_)), thread_.get_id());
}

TEST_F(StoreAsync, AnErrorResultRollsTheUnitBackAndComesBackAsTheValue) {
  auto r = run(store::async_write(*s_, [](WriteTx& tx) -> Result<int> {
    tx.append_events({make_event("evt_async_err", "test", "chk_1", 1)});
    return make_error(errc::invalid_state, "checkout already paid", "status");
  }));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid_state);
  EXPECT_EQ(r.error().message, "checkout already paid");
  EXPECT_EQ(r.error().param, "status");
  EXPECT_FALSE(has_event("evt_async_err"));
}

TEST_F(StoreAsync, AThrowingUnitRollsBackAndBecomesAnInternalError) {
  auto r = run(store::async_write(*s_, [](WriteTx& tx) -> Result<void> {
    tx.append_events({make_event("evt_async_throw", "test", "chk_1", 1)});
    throw std::logic_error("bug in a unit");
  }));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::internal);
  EXPECT_NE(r.error().message.find("bug in a unit"), std::string::npos);
  EXPECT_FALSE(has_event("evt_async_throw"));
}

TEST_F(StoreAsync, AReadReturnsItsResult) {
  must_write(*s_, [](WriteTx& tx) {
    tx.append_events({make_event("evt_async_read", "test", "chk_r", 77)});
  });
  auto r = run(store::async_read(*s_, [](ReadTx& tx) -> Result<store::StoredEvent> {
    auto e = tx.event("evt_async_read");
    if (!e) return make_error(errc::not_found, "no event");
    return *e;
  }));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->checkout_id, "chk_r");
  EXPECT_EQ(r->created_at, 77);

  auto missing = run(store::async_read(*s_, [](ReadTx& tx) -> Result<store::StoredEvent> {
    auto e = tx.event("evt_nope");
    if (!e) return make_error(errc::not_found, "no event");
    return *e;
  }));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);
}

TEST_F(StoreAsync, AClosedStoreIsUnavailableNotABug) {
  s_->close();
  auto w = run(store::async_write(*s_, [](WriteTx&) -> Result<int> { return 1; }));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, errc::unavailable) << w.error().message;
  auto r = run(store::async_read(*s_, [](ReadTx&) -> Result<int> { return 1; }));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unavailable) << r.error().message;
}

}  // namespace
}  // namespace mg::testing
