#include "gateway/server/server.hpp"

#include "gateway/core/crypto.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <thread>
#include <tuple>
#include <unordered_set>
#include <utility>
#include <vector>

namespace mg::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadSize = 16 * 1024;
// After an error response the peer may still be sending the rejected request; reading it for a
// moment keeps the kernel from answering with a reset that would destroy our response.
constexpr std::chrono::milliseconds kLingerTime{1000};
constexpr std::size_t kLingerBytes = 4 * 1024 * 1024;
constexpr std::chrono::milliseconds kTlsShutdownTimeout{1000};
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};
// Mozilla "intermediate" TLS 1.2 suites with forward secrecy; TLS 1.3 keeps OpenSSL's defaults.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// How a connection ends once no more requests will be served on it.
enum class Ending {
  abort,   // peer gone, timed out or forcibly closed: just close the socket
  close,   // orderly: FIN (or TLS close_notify)
  linger,  // orderly after an error response while request bytes may still be arriving
};

std::string format_endpoint(const tcp::endpoint& ep) {
  auto address = ep.address().to_string();
  if (ep.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(ep.port());
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

std::string request_id_from(const bhttp::request<bhttp::string_body>& req) {
  auto incoming = req["x-request-id"];
  if (valid_request_id(incoming)) return std::string(incoming);
  return mg::core::new_id("req");
}

// RFC 9110 token characters, so a handler bug cannot inject header lines.
bool valid_header_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
  });
}

bool valid_header_value(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

// Headers the server owns: framing and connection management.
bool server_owned_header(std::string_view lower_name) {
  return lower_name == "content-length" || lower_name == "transfer-encoding" ||
         lower_name == "connection" || lower_name == "server";
}

bool expects_continue(const bhttp::request<bhttp::string_body>& req) {
  return req.version() >= 11 && to_lower(req[bhttp::field::expect]) == "100-continue";
}

Response header_too_large_response() {
  Response r;
  r.status = 431;
  r.set_header("content-type", "application/json");
  r.body = error_body(make_error(errc::invalid_field, "request header fields too large"));
  return r;
}

// The answer to a request that could not be read, or nullopt when the peer is just gone.
std::optional<Response> rejection_for(const error_code& ec, std::size_t body_limit) {
  if (ec == bhttp::error::header_limit) return header_too_large_response();
  if (ec == bhttp::error::body_limit) {
    return error_response(make_error(
        errc::body_too_large, "request body exceeds " + std::to_string(body_limit) + " bytes"));
  }
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return std::nullopt;
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category())
    return error_response(make_error(errc::invalid_field, "malformed HTTP request"));
  return std::nullopt;
}

// The status line and headers for `response`, ready for the wire; its body follows them as is.
// An invalid response (a handler bug) is replaced by a 500 so no bad header reaches the peer.
std::string serialize_head(Response& response, std::string_view request_id, unsigned version,
                           bool keep_alive) {
  bool valid = response.status >= 200 && response.status <= 599;
  for (const auto& h : response.headers)
    valid = valid && valid_header_name(h.name) && valid_header_value(h.value);
  if (!valid) {
    std::fprintf(stderr, "merchgate: handler produced an invalid response (status %d)\n",
                 response.status);
    response = error_response(make_error(errc::internal, "internal error"));
  }
  std::string out;
  out.reserve(160 + response.headers.size() * 48);
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(response.status));
  if (reason != "<unknown-status>") out += reason;
  out += "\r\n";
  bool has_request_id = false;
  for (auto& h : response.headers) {
    auto name = to_lower(h.name);
    if (server_owned_header(name)) continue;
    has_request_id = has_request_id || name == "request-id";
    out.append(name).append(": ").append(h.value).append("\r\n");
  }
  if (!has_request_id) out.append("request-id: ").append(request_id).append("\r\n");
  out += "server: merchgate\r\n";
  if (response.status == 204 || response.status == 304) {
    response.body.clear();  // these never carry a body nor Content-Length
  } else {
    out.append("content-length: ").append(std::to_string(response.body.size())).append("\r\n");
  }
  if (version >= 11 && !keep_alive) out += "connection: close\r\n";
  if (version < 11 && keep_alive) out += "connection: keep-alive\r\n";
  out += "\r\n";
  return out;
}

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

// Empty when the file can be opened for reading, else the reason.
std::string unreadable_reason(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return std::strerror(errno);
  std::fclose(f);
  return {};
}

Result<void> configure_tls(ssl::context& ctx, const std::string& cert, const std::string& key) {
  SSL_CTX* native = ctx.native_handle();
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_ALL);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1)
    return make_error(errc::internal, "cannot set TLS cipher list: " + openssl_error());

  if (auto reason = unreadable_reason(cert); !reason.empty())
    return make_error(errc::internal, "cannot read TLS certificate '" + cert + "': " + reason);
  if (SSL_CTX_use_certificate_chain_file(native, cert.c_str()) != 1) {
    return make_error(errc::internal, "cannot load TLS certificate '" + cert +
                                          "' (PEM chain expected): " + openssl_error());
  }

  if (auto reason = unreadable_reason(key); !reason.empty())
    return make_error(errc::internal, "cannot read TLS private key '" + key + "': " + reason);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(key.c_str(), "r"), &BIO_free);
  if (!bio) {
    return make_error(errc::internal,
                      "cannot read TLS private key '" + key + "': " + openssl_error());
  }
  // A callback that refuses passphrases: OpenSSL's default would prompt on the terminal.
  auto no_passphrase = [](char*, int, int, void*) -> int { return 0; };
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr), &EVP_PKEY_free);
  if (!pkey) {
    return make_error(errc::internal, "cannot load TLS private key '" + key +
                                          "' (unencrypted PEM expected): " + openssl_error());
  }
  if (SSL_CTX_use_PrivateKey(native, pkey.get()) != 1 || SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return make_error(errc::internal,
                      "TLS private key '" + key + "' does not match certificate '" + cert + "'");
  }
  return {};
}

void log_exception(const char* what, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "merchgate: %s failed: %s\n", what, ex.what());
  } catch (...) {
    std::fprintf(stderr, "merchgate: %s failed: unknown exception\n", what);
  }
}

using Clock = std::chrono::steady_clock;

// One connection's state, shared between its coroutine, its timeout timer and drain(). All of it
// is only touched on the connection's executor (a strand, or a single-threaded io_context).
//
// Timeouts use one timer per connection that is rarely re-armed: each I/O step only moves
// `deadline`; the timer is re-armed only when the new deadline is earlier than the one it waits
// for, and when it fires early it re-arms itself for the current deadline. A keep-alive client
// sending request after request therefore costs no timer operation per request.
struct Connection : std::enable_shared_from_this<Connection> {
  explicit Connection(asio::any_io_executor ex) : executor(ex), timer(std::move(ex)) {}

  asio::any_io_executor executor;
  tcp::socket* socket = nullptr;  // while the connection's stream exists
  bool idle = true;               // waiting for a TLS handshake or a request's first byte
  bool timed_out = false;
  Clock::time_point deadline = Clock::time_point::max();  // max: no timeout
  Clock::time_point armed = Clock::time_point::max();     // when the timer fires; max: not armed
  std::uint64_t generation = 0;  // tells a stale timer completion from the current one
  asio::steady_timer timer;

  void expires_at(Clock::time_point t) {
    deadline = t;
    if (t < armed) arm(t);
  }
  void expires_after(std::chrono::milliseconds d) { expires_at(Clock::now() + d); }
  void no_timeout() { deadline = Clock::time_point::max(); }

  // Ends the timer: called when the stream goes away.
  void release() {
    socket = nullptr;
    deadline = Clock::time_point::max();
    armed = Clock::time_point::max();
    ++generation;
    timer.cancel();
  }

 private:
  void arm(Clock::time_point t) {
    armed = t;
    timer.expires_at(t);
    timer.async_wait([self = shared_from_this(), gen = ++generation](error_code ec) {
      if (!ec && gen == self->generation) self->on_timer();
    });
  }

  void on_timer() {
    armed = Clock::time_point::max();
    if (socket == nullptr || deadline == Clock::time_point::max()) return;
    if (Clock::now() < deadline) {
      arm(deadline);
      return;
    }
    timed_out = true;
    // Closed, not cancelled: a read that completed just before (its completion still queued)
    // would escape a cancel, and the next read would run with no timer left.
    error_code ignored;
    socket->close(ignored);
  }
};

}  // namespace

// The io_contexts connections run on when ServerOptions::io_threads > 0, one thread each.
struct Server::IoPool {
  explicit IoPool(unsigned n) {
    for (unsigned i = 0; i < n; ++i) {
      contexts.push_back(std::make_unique<asio::io_context>(1));
      guards.emplace_back(asio::make_work_guard(*contexts.back()));
    }
  }
  void start() {
    if (!threads.empty()) return;
    for (auto& io : contexts) {
      threads.emplace_back([raw = io.get()] {
        pthread_setname_np(pthread_self(), "mg-http");
        raw->run();
      });
    }
  }
  // Stops the threads; connections still open are abandoned and their coroutines destroyed with
  // the contexts (their owners have drained or closed them by now).
  ~IoPool() { stop(); }
  void stop() {
    stopping = true;
    guards.clear();
    for (auto& io : contexts) io->stop();
    for (auto& t : threads) t.join();
    threads.clear();
  }
  asio::io_context& next() { return *contexts[next_index++ % contexts.size()]; }

  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  std::size_t next_index = 0;  // only the acceptor's strand touches it
  std::atomic<bool> stopping{false};  // a connection accepted after this is closed at once
};

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(asio::io_context& io, ServerOptions options, Handler handler)
      : io_(io),
        options_(std::move(options)),
        handler_(std::move(handler)),
        acceptor_(asio::make_strand(io)),
        drain_timer_(asio::make_strand(io)) {}

  // One counted, registered connection; released when the connection coroutine's frame goes,
  // even if it never ran.
  class Slot {
   public:
    Slot(std::shared_ptr<Impl> impl, asio::any_io_executor ex)
        : impl_(std::move(impl)), connection_(std::make_shared<Connection>(std::move(ex))) {
      impl_->add(connection_);
    }
    Slot(Slot&&) noexcept = default;
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (impl_) impl_->remove(connection_);
    }
    Connection& connection() { return *connection_; }

   private:
    std::shared_ptr<Impl> impl_;
    std::shared_ptr<Connection> connection_;
  };

  // Publishes the socket to the timer and to drain() while the stream exists.
  class SocketRef {
   public:
    SocketRef(Connection& c, tcp::socket& s) : c_(c) { c_.socket = &s; }
    SocketRef(const SocketRef&) = delete;
    SocketRef& operator=(const SocketRef&) = delete;
    ~SocketRef() { c_.release(); }

   private:
    Connection& c_;
  };

  Result<void> listen() {
    const auto& cert = options_.tls_cert_file;
    const auto& key = options_.tls_key_file;
    if (cert.empty() != key.empty()) {
      return make_error(errc::internal, "tls_cert_file and tls_key_file must be set together");
    }
    if (!cert.empty()) {
      ssl_.emplace(ssl::context::tls_server);
      auto configured = configure_tls(*ssl_, cert, key);
      if (!configured) {
        ssl_.reset();
        return configured;
      }
    }
    error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec) {
      return make_error(errc::internal, "invalid listen address '" + options_.host +
                                            "': an IPv4 or IPv6 address is expected");
    }
    tcp::endpoint endpoint(address, options_.port);
    auto fail = [&](const char* step) -> Result<void> {
      error_code ignored;
      acceptor_.close(ignored);
      return make_error(errc::internal, std::string("cannot listen on ") +
                                            format_endpoint(endpoint) + ": " + step + ": " +
                                            ec.message());
    };
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) return fail("open");
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) return fail("setsockopt");
    acceptor_.bind(endpoint, ec);
    if (ec) return fail("bind");
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail("listen");
    auto local = acceptor_.local_endpoint(ec);
    if (ec) return fail("getsockname");
    port_ = local.port();
    return {};
  }

  void start(std::shared_ptr<IoPool> pool) {
    if (started_ || !acceptor_.is_open()) return;
    started_ = true;
    asio::co_spawn(acceptor_.get_executor(),
                   async_accept_loop(shared_from_this(), std::move(pool)),
                   [](std::exception_ptr e) { log_exception("acceptor", std::move(e)); });
  }

  // Holds the pool: its contexts must outlive the pending accept whose socket belongs to one.
  asio::awaitable<void> async_accept_loop(std::shared_ptr<Impl> self,
                                          std::shared_ptr<IoPool> pool) {
    for (;;) {
      // A connection lives on one single-threaded context of the pool, or on a strand.
      tcp::socket socket = pool ? tcp::socket(pool->next()) : tcp::socket(asio::make_strand(io_));
      auto [ec] = co_await acceptor_.async_accept(socket, kUseTuple);
      if (!acceptor_.is_open() || ec == asio::error::operation_aborted) co_return;
      if (ec) {
        // E.g. out of file descriptors: back off instead of spinning.
        std::fprintf(stderr, "merchgate: accept failed: %s\n", ec.message().c_str());
        asio::steady_timer delay(acceptor_.get_executor(), kAcceptRetryDelay);
        co_await delay.async_wait(kUseTuple);
        continue;
      }
      if (pool && pool->stopping) {
        socket.close(ec);
        co_return;
      }
      if (count_.load() >= options_.max_connections) {
        socket.close(ec);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto executor = socket.get_executor();
      asio::co_spawn(executor, async_connection(std::move(socket), Slot(self, executor)),
                     [](std::exception_ptr e) { log_exception("connection", std::move(e)); });
    }
  }

  asio::awaitable<void> async_connection(tcp::socket socket, Slot slot) {
    Connection& conn = slot.connection();
    error_code ec;
    auto peer = socket.remote_endpoint(ec);
    std::string remote = ec ? std::string("unknown") : format_endpoint(peer);
    if (ssl_) {
      ssl::stream<tcp::socket> stream(std::move(socket), *ssl_);
      auto& lowest = stream.next_layer();
      SocketRef ref(conn, lowest);
      if (draining_) co_return;
      conn.expires_after(options_.handshake_timeout);
      std::tie(ec) = co_await stream.async_handshake(ssl::stream_base::server, kUseTuple);
      if (ec) co_return;
      auto ending = co_await async_serve(stream, conn, remote, true);
      if (ending != Ending::abort) {
        conn.expires_after(std::min(options_.write_timeout, kTlsShutdownTimeout));
        std::tie(ec) = co_await stream.async_shutdown(kUseTuple);
      }
      lowest.close(ec);
    } else {
      SocketRef ref(conn, socket);
      auto ending = co_await async_serve(socket, conn, remote, false);
      if (ending != Ending::abort) socket.shutdown(tcp::socket::shutdown_send, ec);
      if (ending == Ending::linger) co_await async_linger(socket, conn);
      socket.close(ec);
    }
  }

  static asio::awaitable<void> async_linger(tcp::socket& socket, Connection& conn) {
    std::vector<char> sink(16 * 1024);
    std::size_t total = 0;
    conn.expires_after(kLingerTime);
    while (total < kLingerBytes) {
      auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink), kUseTuple);
      if (ec) break;
      total += n;
    }
  }

  // Reads more of the request into `buffer`; false when the peer is gone or timed out.
  template <class Stream>
  static asio::awaitable<bool> async_read_more(Stream& stream, beast::flat_buffer& buffer) {
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kReadSize), kUseTuple);
    if (ec) co_return false;
    buffer.commit(n);
    co_return true;
  }

  // Serves requests until the connection should end; says how to end it.
  template <class Stream>
  asio::awaitable<Ending> async_serve(Stream& stream, Connection& conn, const std::string& remote,
                                      bool tls) {
    beast::flat_buffer buffer;
    error_code ec;
    for (;;) {
      conn.idle = true;
      if (draining_) co_return Ending::close;
      if (buffer.size() == 0) {
        conn.expires_after(options_.idle_timeout);
        if (!co_await async_read_more(stream, buffer)) {
          co_return draining_ && !conn.timed_out ? Ending::close : Ending::abort;
        }
      }
      conn.idle = false;

      // From its first byte, the whole request must arrive within read_timeout. Beast's parser
      // works on the bytes in hand; more are read only when it needs them.
      conn.expires_after(options_.read_timeout);
      bhttp::request_parser<bhttp::string_body> parser;
      parser.eager(true);
      parser.header_limit(static_cast<std::uint32_t>(
          std::min<std::size_t>(options_.header_limit, std::numeric_limits<std::uint32_t>::max())));
      parser.body_limit(options_.body_limit);
      bool continue_sent = false;
      for (;;) {
        if (buffer.size() > 0) {
          std::size_t used = parser.put(buffer.data(), ec);
          buffer.consume(used);
          if (ec == bhttp::error::need_more) {
            ec = {};
          } else if (ec) {
            break;
          }
          if (parser.is_done()) break;
          if (used > 0 && buffer.size() > 0) continue;
          if (parser.is_header_done() && !continue_sent && expects_continue(parser.get())) {
            continue_sent = true;
            auto deadline = conn.deadline;
            conn.expires_after(options_.write_timeout);
            static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
            auto [wec, wn] = co_await asio::async_write(
                stream, asio::buffer(kContinue.data(), kContinue.size()), kUseTuple);
            if (wec) co_return Ending::abort;
            conn.expires_at(deadline);
          }
        }
        if (!co_await async_read_more(stream, buffer)) co_return Ending::abort;
      }
      if (ec) {
        auto rejection = rejection_for(ec, options_.body_limit);
        if (!rejection) co_return Ending::abort;
        auto id = parser.is_header_done() ? request_id_from(parser.get()) : core::new_id("req");
        auto head = serialize_head(*rejection, id, 11, false);
        if (!co_await async_send(stream, conn, head, rejection->body)) co_return Ending::abort;
        co_return Ending::linger;
      }

      // A slow handler is not the client's fault: no timeout while it runs.
      conn.no_timeout();
      auto& req = parser.get();
      bool keep_alive = req.keep_alive();
      unsigned version = req.version();
      Request request;
      request.method = std::string(req.method_string());
      request.target = std::string(req.target());
      request.headers.reserve(16);
      for (const auto& field : req)
        request.headers.push_back({to_lower(field.name_string()), std::string(field.value())});
      request.body = std::move(req.body());
      request.remote_address = remote;
      request.tls = tls;
      request.request_id = request_id_from(req);

      Response response;
      if (!parse_target(request.target, request.path, request.query)) {
        response = error_response(make_error(errc::invalid_field, "invalid request target"));
      } else {
        response = co_await async_call_handler(request);
      }
      bool client_keeps_alive = keep_alive;
      keep_alive = keep_alive && !draining_;
      auto head = serialize_head(response, request.request_id, version, keep_alive);
      if (!co_await async_send(stream, conn, head, response.body)) co_return Ending::abort;
      // A client that expected to keep the connection may have pipelined more requests.
      if (!keep_alive) co_return client_keeps_alive ? Ending::linger : Ending::close;
    }
  }

  asio::awaitable<Response> async_call_handler(Request& request) {
    std::exception_ptr failure;
    try {
      if (handler_) co_return co_await handler_(request);
      std::fprintf(stderr, "merchgate: no request handler configured\n");
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure) log_exception("request handler", failure);
    co_return error_response(make_error(errc::internal, "internal error"));
  }

  template <class Stream>
  asio::awaitable<bool> async_send(Stream& stream, Connection& conn, const std::string& head,
                                   const std::string& body) {
    conn.expires_after(options_.write_timeout);
    std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(body)};
    auto [ec, n] = co_await asio::async_write(stream, buffers, kUseTuple);
    co_return !ec;
  }

  void add(const std::shared_ptr<Connection>& c) {
    std::lock_guard lock(mutex_);
    connections_.insert(c);
    count_.store(connections_.size());
  }

  void remove(const std::shared_ptr<Connection>& c) noexcept {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard lock(mutex_);
      connections_.erase(c);
      count_.store(connections_.size());
      if (draining_ && connections_.empty()) finish_locked(callbacks);
    }
    run_callbacks(callbacks);
  }

  void drain(std::chrono::milliseconds deadline, std::function<void()> done) {
    std::vector<std::shared_ptr<Connection>> snapshot;
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard lock(mutex_);
      if (done) done_.push_back(std::move(done));
      if (finished_) {
        callbacks = std::move(done_);
        done_.clear();
      } else if (!draining_.exchange(true)) {
        snapshot.assign(connections_.begin(), connections_.end());
        // Posted under the lock so that finish_locked()'s cancel is always queued after it.
        asio::post(drain_timer_.get_executor(), [self = shared_from_this(), deadline] {
          {
            std::lock_guard lock(self->mutex_);
            if (self->finished_) return;
          }
          self->drain_timer_.expires_after(deadline);
          self->drain_timer_.async_wait([self](error_code ec) {
            if (!ec) self->on_drain_deadline();
          });
        });
        if (connections_.empty()) finish_locked(callbacks);
      }
    }
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      error_code ignored;
      self->acceptor_.close(ignored);
    });
    for (auto& c : snapshot) {
      asio::post(c->executor, [c] {
        error_code ignored;
        if (c->socket && c->idle) c->socket->cancel(ignored);
      });
    }
    // Never on the caller's stack: it may hold locks the callback wants.
    if (!callbacks.empty()) {
      asio::post(io_, [callbacks = std::move(callbacks)]() mutable { run_callbacks(callbacks); });
    }
  }

  void on_drain_deadline() {
    std::vector<std::function<void()>> callbacks;
    std::vector<std::shared_ptr<Connection>> snapshot;
    {
      std::lock_guard lock(mutex_);
      if (finished_) return;
      snapshot.assign(connections_.begin(), connections_.end());
      finish_locked(callbacks);
    }
    close_all(snapshot);
    run_callbacks(callbacks);
  }

  // On destruction of the Server: nothing may keep serving with a handler whose owner is gone.
  void stop() {
    std::vector<std::shared_ptr<Connection>> snapshot;
    {
      std::lock_guard lock(mutex_);
      snapshot.assign(connections_.begin(), connections_.end());
    }
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      error_code ignored;
      self->acceptor_.close(ignored);
    });
    close_all(snapshot);
  }

  static void close_all(const std::vector<std::shared_ptr<Connection>>& connections) {
    for (const auto& c : connections) {
      asio::post(c->executor, [c] {
        error_code ignored;
        if (c->socket) c->socket->close(ignored);
      });
    }
  }

  void finish_locked(std::vector<std::function<void()>>& callbacks) {
    finished_ = true;
    callbacks = std::move(done_);
    done_.clear();
    asio::post(drain_timer_.get_executor(),
               [self = shared_from_this()] { self->drain_timer_.cancel(); });
  }

  static void run_callbacks(std::vector<std::function<void()>>& callbacks) noexcept {
    for (auto& f : callbacks) {
      try {
        f();
      } catch (...) {
        log_exception("drain callback", std::current_exception());
      }
    }
  }

  asio::io_context& io_;
  const ServerOptions options_;
  const Handler handler_;
  std::optional<ssl::context> ssl_;
  tcp::acceptor acceptor_;  // on its own strand
  std::uint16_t port_ = 0;
  bool started_ = false;
  std::atomic<bool> draining_{false};
  std::atomic<std::size_t> count_{0};

  std::mutex mutex_;  // guards the members below
  std::unordered_set<std::shared_ptr<Connection>> connections_;
  std::vector<std::function<void()>> done_;
  bool finished_ = false;
  asio::steady_timer drain_timer_;  // on its own strand
};

Server::Server(asio::io_context& io, ServerOptions options, Handler handler)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handler))) {
  if (impl_->options_.io_threads > 0) pool_ = std::make_shared<IoPool>(impl_->options_.io_threads);
}

Server::~Server() {
  impl_->stop();
  if (!pool_) return;
  // The closes posted above end idle and reading connections at once; give them a moment.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (impl_->count_.load() > 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  pool_->stop();
  if (impl_->count_.load() > 0) {
    // A handler cut short still awaits work elsewhere (the store, an adapter) that will complete
    // onto its context: destroying the context would be a use after free, so it is left behind.
    // This only happens when shutdown abandons requests in flight.
    static_cast<void>(new std::shared_ptr<IoPool>(pool_));
  }
}

Result<void> Server::listen() { return impl_->listen(); }

std::uint16_t Server::port() const noexcept { return impl_->port_; }

void Server::start() {
  if (pool_) pool_->start();
  impl_->start(pool_);
}

void Server::drain(std::chrono::milliseconds deadline, std::function<void()> done) {
  impl_->drain(deadline, std::move(done));
}

std::size_t Server::connection_count() const noexcept { return impl_->count_.load(); }

}  // namespace mg::http
