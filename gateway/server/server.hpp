#pragma once
// The HTTP/1.1 and HTTPS listener on Asio with coroutines and Beast's parser. It owns sockets,
// TLS, parsing, limits, timeouts, keep-alive and graceful drain; it hands every complete request
// to one Handler.
#include "gateway/core/error.hpp"
#include "gateway/server/http_types.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace mg::http {

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 = any free port; see Server::port()
  std::string tls_cert_file;  // PEM; with tls_key_file: HTTPS only, TLS 1.2+
  std::string tls_key_file;
  std::size_t header_limit = 16 * 1024;            // request line + headers; beyond: 431
  std::size_t body_limit = 1024 * 1024;            // beyond: 413
  std::chrono::milliseconds read_timeout{10'000};  // to read one whole request once it started
  std::chrono::milliseconds idle_timeout{60'000};  // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{10'000};
  std::chrono::milliseconds handshake_timeout{10'000};
  std::size_t max_connections = 10'000;  // beyond: accepted and closed at once
  // 0: connections run on the io_context given to the constructor, each on its own strand.
  // N: the server runs connections on N io_contexts of its own, one thread each, so that a
  // connection's work (and its handler, until the handler hops elsewhere) needs no strand and
  // no lock. Accepting stays on the given io_context.
  unsigned io_threads = 0;
};

class Server {
 public:
  Server(boost::asio::io_context& io, ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the certificate (when configured), binds and listens. Errors are start-up errors with
  // a one-line message: unreadable certificate or key, bad address, port in use.
  Result<void> listen();
  // The bound port (useful with port 0). Valid after listen().
  std::uint16_t port() const noexcept;
  // Starts accepting on the io_context.
  void start();
  // Stops accepting, closes idle keep-alive connections, lets requests in flight finish (their
  // responses carry `Connection: close`), and calls `done` once no connection is left or
  // `deadline` passed (remaining connections are then closed). Thread-safe, idempotent.
  void drain(std::chrono::milliseconds deadline, std::function<void()> done);
  // Connections open right now (for /metrics and tests).
  std::size_t connection_count() const noexcept;

 private:
  struct Impl;
  struct IoPool;
  std::shared_ptr<Impl> impl_;
  std::shared_ptr<IoPool> pool_;  // with io_threads > 0; the accept loop holds it too
};

}  // namespace mg::http
