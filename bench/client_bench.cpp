// merchgate-client-bench: the outbound client's cost per call against merchgate-sim, the way the
// adapters use it (one shared HttpClient, coroutines on one io_context thread). Each run sends
// --calls GETs with --concurrency in flight and prints calls/s and latency percentiles; with
// --fresh the pool keeps no idle connection, so every call pays TCP connect (and with https the
// full TLS handshake): the difference to a pooled run is what pooling and TLS reuse save.
//   merchgate-client-bench --url https://127.0.0.1:12111/v1/payment_intents/pi_x \
//     --header "authorization: Bearer sk_test_x" --ca-file sim.pem --calls 20000
#include "adapters/http/client.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <vector>

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

struct Run {
  std::vector<double> latencies_ms;
  std::map<int, long> statuses;
  long errors = 0;
  std::string last_error;
};

asio::awaitable<void> worker(mg::http::HttpClient& client, const mg::http::ClientRequest& proto,
                             std::atomic<long>& remaining, Run& run) {
  while (remaining.fetch_sub(1) > 0) {
    mg::http::ClientRequest req = proto;
    auto t0 = Clock::now();
    auto r = co_await client.async_send(std::move(req));
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    // One io_context thread: no lock needed.
    run.latencies_ms.push_back(ms);
    if (r) {
      ++run.statuses[r->status];
    } else {
      ++run.errors;
      run.last_error = r.error().message();
    }
  }
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::size_t i =
      std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"merchgate-client-bench: outbound client cost per call"};
  std::string url, ca_file;
  std::vector<std::string> headers;
  long calls = 10000;
  int concurrency = 1;
  bool fresh = false;
  cli.add_option("--url", url, "http(s) URL to GET")->required();
  cli.add_option("--header", headers, "'name: value', repeatable");
  cli.add_option("--ca-file", ca_file, "PEM CA that signed the simulator's certificate");
  cli.add_option("--calls", calls);
  cli.add_option("--concurrency,-c", concurrency);
  cli.add_flag("--fresh", fresh, "no keep-alive pool: a new connection (and handshake) per call");
  CLI11_PARSE(cli, argc, argv);

  mg::http::ClientOptions options;
  options.allow_loopback = true;
  options.ca_file = ca_file;
  if (fresh) options.max_idle_per_host = 0;
  mg::http::ClientRequest proto;
  proto.url = url;
  proto.idempotent = true;
  proto.adapter = "bench";
  proto.operation = "get";
  for (const auto& h : headers) {
    auto colon = h.find(':');
    if (colon == std::string::npos) continue;
    std::string value = h.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    std::string name = h.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    proto.headers.push_back({name, value});
  }

  asio::io_context io;
  mg::http::HttpClient client(io, options);
  Run run;
  run.latencies_ms.reserve(static_cast<std::size_t>(calls));
  std::atomic<long> remaining{calls};
  auto t0 = Clock::now();
  for (int i = 0; i < concurrency; ++i) {
    asio::co_spawn(io, worker(client, proto, remaining, run), asio::detached);
  }
  io.run();
  double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::string statuses;
  for (const auto& [s, n] : run.statuses)
    statuses += std::to_string(s) + ":" + std::to_string(n) + " ";
  double mean = 0;
  for (double v : run.latencies_ms) mean += v;
  mean /= std::max<std::size_t>(1, run.latencies_ms.size());
  std::printf(
      "pool=%s concurrency=%d calls=%zu errors=%ld statuses=%s calls/s=%.0f mean_ms=%.3f "
      "p50_ms=%.3f p99_ms=%.3f%s%s\n",
      fresh ? "off" : "on", concurrency, run.latencies_ms.size(), run.errors, statuses.c_str(),
      static_cast<double>(run.latencies_ms.size()) / seconds, mean,
      percentile(run.latencies_ms, 0.50), percentile(run.latencies_ms, 0.99),
      run.errors ? " last_error=" : "", run.last_error.c_str());
  return run.errors == 0 ? 0 : 1;
}
