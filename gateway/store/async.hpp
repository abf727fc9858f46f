#pragma once
// Awaitable access to the store from coroutines: the unit runs on a store thread and the
// coroutine resumes on its own executor. Store failures become errc::unavailable values; an
// exception thrown by the unit itself is a bug and becomes errc::internal.
#include "gateway/store/store.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <optional>
#include <type_traits>

namespace mg::store {

namespace detail {

// Error text for a failed unit: the exception's message when it has one.
Error store_failure(std::exception_ptr e);

// Wrapped so that use_awaitable hands the exception over as a value instead of rethrowing it.
struct Outcome {
  std::exception_ptr error;
};

template <class Fn>
boost::asio::awaitable<Outcome> run(Store& store, bool writing, Fn fn) {
  auto init = [&store, writing, fn = std::move(fn)](auto handler) mutable {
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    auto done = [shared](std::exception_ptr e) {
      auto ex = boost::asio::get_associated_executor(*shared);
      boost::asio::dispatch(ex, [shared, e]() mutable { (*shared)(Outcome{e}); });
    };
    if constexpr (std::is_invocable_r_v<bool, Fn, WriteTx&>) {
      store.write(std::move(fn), std::move(done));
    } else {
      (void)writing;
      store.read(std::move(fn), std::move(done));
    }
  };
  return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(Outcome)>(
      std::move(init), boost::asio::use_awaitable);
}

}  // namespace detail

// Runs `fn(WriteTx&) -> Result<T>` as one write unit: an error result rolls the unit back.
template <class Fn, class R = std::invoke_result_t<Fn, WriteTx&>>
boost::asio::awaitable<R> async_write(Store& store, Fn fn) {
  // Named locals, not temporaries inside the co_await expression: GCC 12 mishandles the
  // latter's lifetimes in coroutines.
  auto out = std::make_shared<std::optional<R>>();
  auto unit = [out, fn = std::move(fn)](WriteTx& tx) mutable -> bool {
    out->emplace(fn(tx));
    return out->value().has_value();
  };
  auto pending = detail::run(store, true, std::move(unit));
  detail::Outcome outcome = co_await std::move(pending);
  if (outcome.error) co_return detail::store_failure(outcome.error);
  if (!out->has_value()) co_return make_error(errc::internal, "write unit produced no result");
  co_return std::move(**out);
}

// Runs `fn(ReadTx&) -> Result<T>` on a snapshot.
template <class Fn, class R = std::invoke_result_t<Fn, ReadTx&>>
boost::asio::awaitable<R> async_read(Store& store, Fn fn) {
  auto out = std::make_shared<std::optional<R>>();
  auto unit = [out, fn = std::move(fn)](ReadTx& tx) mutable { out->emplace(fn(tx)); };
  auto pending = detail::run(store, false, std::move(unit));
  detail::Outcome outcome = co_await std::move(pending);
  if (outcome.error) co_return detail::store_failure(outcome.error);
  if (!out->has_value()) co_return make_error(errc::internal, "read unit produced no result");
  co_return std::move(**out);
}

}  // namespace mg::store
