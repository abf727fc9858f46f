// merchgate-webhook-sink: the receiving end of the delivery benchmark. Answers every POST with
// 200 on 127.0.0.1, and for each delivery records the lag from the event's `created_at` (set in
// the transaction that committed it) to its arrival. Prints a summary when `--expect` events
// have arrived, when nothing arrived for `--idle` seconds, or at `--max` seconds.
#include "gateway/core/clock.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

struct Sink {
  std::vector<double> lag_ms;
  std::set<std::string> ids;
  long duplicates = 0;
  std::chrono::steady_clock::time_point first, last;
};

asio::awaitable<void> serve(tcp::socket socket, Sink& sink) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    auto [ec, n] =
        co_await http::async_read(socket, buffer, req, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    auto now_wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    auto now = std::chrono::steady_clock::now();
    boost::system::error_code jec;
    auto doc = boost::json::parse(req.body(), jec);
    if (!jec && doc.is_object()) {
      const auto& o = doc.as_object();
      std::string id(o.at("id").as_string());
      mg::core::Timestamp created = 0;
      if (mg::core::parse_time(o.at("created_at").as_string(), created)) {
        if (sink.ids.empty()) sink.first = now;
        sink.last = now;
        if (sink.ids.insert(id).second) {
          sink.lag_ms.push_back(static_cast<double>(now_wall - created));
        } else {
          ++sink.duplicates;
        }
      }
    }
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.body() = "ok";
    res.prepare_payload();
    res.keep_alive(req.keep_alive());
    auto [wec, wn] = co_await http::async_write(socket, res, asio::as_tuple(asio::use_awaitable));
    if (wec || !req.keep_alive()) co_return;
  }
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"merchgate-webhook-sink: a 200-answering webhook receiver that measures lag"};
  int port = 0;
  std::string port_file;
  long expect = 0;
  double idle = 5, max = 120;
  cli.add_option("--port", port, "port on 127.0.0.1 (0: any; see --port-file)");
  cli.add_option("--port-file", port_file, "write the chosen port here");
  cli.add_option("--expect", expect, "stop after this many distinct events");
  cli.add_option("--idle", idle, "stop after this many seconds without a delivery");
  cli.add_option("--max", max, "stop after this many seconds in all");
  CLI11_PARSE(cli, argc, argv);

  asio::io_context io(1);
  tcp::acceptor acceptor(io,
                         {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  if (!port_file.empty()) {
    if (FILE* f = std::fopen(port_file.c_str(), "w")) {
      std::fprintf(f, "%u\n", acceptor.local_endpoint().port());
      std::fclose(f);
    }
  }
  Sink sink;
  auto started = std::chrono::steady_clock::now();
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (;;) {
          auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
          if (ec) co_return;
          asio::co_spawn(io, serve(std::move(socket), sink), asio::detached);
        }
      },
      asio::detached);
  asio::steady_timer tick(io);
  std::function<void()> check = [&] {
    auto now = std::chrono::steady_clock::now();
    bool done = (expect > 0 && static_cast<long>(sink.ids.size()) >= expect) ||
                now - started > std::chrono::duration<double>(max) ||
                (!sink.ids.empty() && now - sink.last > std::chrono::duration<double>(idle));
    if (done) {
      io.stop();
      return;
    }
    tick.expires_after(std::chrono::milliseconds(50));
    tick.async_wait([&](boost::system::error_code) { check(); });
  };
  check();
  io.run();

  double span = std::chrono::duration<double>(sink.last - sink.first).count();
  std::printf(
      "events=%zu duplicates=%ld span=%.2fs rate=%.0f/s lag_ms median=%.1f p90=%.1f p99=%.1f "
      "max=%.1f\n",
      sink.ids.size(), sink.duplicates, span,
      span > 0 ? static_cast<double>(sink.ids.size()) / span : 0.0, percentile(sink.lag_ms, 0.5),
      percentile(sink.lag_ms, 0.9), percentile(sink.lag_ms, 0.99), percentile(sink.lag_ms, 1.0));
  return 0;
}
