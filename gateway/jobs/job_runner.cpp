#include "gateway/jobs/job_runner.hpp"

#include "gateway/core/metrics.hpp"
#include "gateway/log/log.hpp"
#include "gateway/store/async.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>

namespace mg::jobs {
namespace asio = boost::asio;

struct JobRunner::Impl : std::enable_shared_from_this<JobRunner::Impl> {
  Impl(asio::io_context& io, store::Store& s, service::CheckoutService& svc, RunnerOptions o)
      : io(io),
        strand(asio::make_strand(io)),
        store(s),
        service(svc),
        options(std::move(o)),
        claim_timer(strand),
        reconcile_timer(strand),
        drain_timer(strand) {}

  asio::io_context& io;
  asio::strand<asio::io_context::executor_type> strand;
  store::Store& store;
  service::CheckoutService& service;
  RunnerOptions options;
  asio::steady_timer claim_timer;
  asio::steady_timer reconcile_timer;
  asio::steady_timer drain_timer;
  std::atomic<bool> running{false};
  std::atomic<bool> woken{false};
  std::atomic<int> in_flight{0};
  std::function<void()> on_drained;

  asio::awaitable<void> claim_loop() {
    auto self = shared_from_this();
    while (running) {
      woken = false;
      int room = options.concurrency - in_flight.load();
      std::size_t claimed = 0;
      if (room > 0) {
        core::Timestamp now = service.clock().now();
        auto jobs = co_await store::async_write(
            store, [&](store::WriteTx& tx) -> Result<std::vector<store::Job>> {
              return tx.claim_jobs(options.owner, now, now + options.lease.count(), room);
            });
        if (!jobs) {
          log::error("jobs.claim_failed", {{"error", jobs.error().message}});
        } else {
          claimed = jobs->size();
          for (auto& job : *jobs) launch(std::move(job));
        }
      }
      if (!running) break;
      if (claimed > 0 && static_cast<int>(claimed) == room) continue;  // more may be due
      if (woken) continue;
      claim_timer.expires_after(options.poll);
      co_await claim_timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  void launch(store::Job job) {
    ++in_flight;
    metrics::gauge_set("merchgate_jobs_in_flight", {}, in_flight.load());
    auto self = shared_from_this();
    asio::co_spawn(io, service.run_job(std::move(job)), [self](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          log::error("job.escaped", {{"error", x.what()}});
        } catch (...) {
        }
      }
      asio::post(self->strand, [self] {
        --self->in_flight;
        metrics::gauge_set("merchgate_jobs_in_flight", {}, self->in_flight.load());
        if (self->running) {
          self->woken = true;
          self->claim_timer.cancel();
        } else if (self->in_flight == 0) {
          self->drain_timer.cancel();
        }
      });
    });
  }

  asio::awaitable<void> periodic_loop() {
    auto self = shared_from_this();
    auto last_housekeeping = std::chrono::steady_clock::now();
    while (running) {
      reconcile_timer.expires_after(options.reconcile_every);
      co_await reconcile_timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (!running) break;
      co_await service.reconcile_once();
      if (std::chrono::steady_clock::now() - last_housekeeping > options.housekeeping_every) {
        last_housekeeping = std::chrono::steady_clock::now();
        co_await service.housekeeping();
      }
    }
  }

  asio::awaitable<void> drain(std::chrono::milliseconds deadline, std::function<void()> done) {
    auto self = shared_from_this();
    auto until = std::chrono::steady_clock::now() + deadline;
    while (in_flight > 0 && std::chrono::steady_clock::now() < until) {
      drain_timer.expires_at(until);
      co_await drain_timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    core::Timestamp now = service.clock().now();
    co_await store::async_write(store, [&](store::WriteTx& tx) -> Result<bool> {
      tx.release_leases(options.owner, now);
      return true;
    });
    if (in_flight > 0) {
      log::warn("jobs.stopped_with_work", {{"in_flight", in_flight.load()}});
    }
    if (done) done();
  }
};

JobRunner::JobRunner(asio::io_context& io, store::Store& store, service::CheckoutService& service,
                     RunnerOptions options)
    : impl_(std::make_shared<Impl>(io, store, service, std::move(options))) {}

JobRunner::~JobRunner() { impl_->running = false; }

void JobRunner::start() {
  impl_->running = true;
  asio::co_spawn(impl_->strand, impl_->claim_loop(), asio::detached);
  asio::co_spawn(impl_->strand, impl_->periodic_loop(), asio::detached);
}

void JobRunner::notify() {
  auto impl = impl_;
  impl->woken = true;
  asio::post(impl->strand, [impl] { impl->claim_timer.cancel(); });
}

void JobRunner::stop(std::chrono::milliseconds deadline, std::function<void()> done) {
  auto impl = impl_;
  asio::post(impl->strand, [impl, deadline, done = std::move(done)]() mutable {
    impl->running = false;
    impl->claim_timer.cancel();
    impl->reconcile_timer.cancel();
    asio::co_spawn(impl->strand, impl->drain(deadline, std::move(done)), asio::detached);
  });
}

int JobRunner::in_flight() const { return impl_->in_flight.load(); }

}  // namespace mg::jobs
