#pragma once
// The outbound HTTP(S) client every adapter and the webhook deliverer share: keep-alive pools per
// host, connect/read/total timeouts, TLS verification (system CAs or a CA file), no redirects,
// an SSRF guard on resolved addresses, a bounded response size, retries only for idempotent
// requests, and a metric per call. Beast lives in client.cpp only.
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/server/http_types.hpp"

namespace boost::asio {
class io_context;
}

namespace mg::http {

enum class client_errc {
  invalid_url = 1,     // not http(s)://host[:port]/path, or credentials in the URL
  blocked_address,     // resolves to loopback/private/link-local/metadata and that is not allowed
  resolve_failed,      // DNS failure
  connect_failed,      // refused or unreachable
  connect_timeout,     // TCP connect did not finish in time
  tls_failed,          // handshake or certificate verification failed
  write_failed,        // the connection broke while sending the request
  read_timeout,        // no response (or a stalled response) after the request was sent
  total_timeout,       // the whole call exceeded its total budget
  connection_closed,   // the peer closed before a complete response arrived
  response_too_large,  // body over the configured bound
  protocol_error,      // not a valid HTTP/1.1 response
};

const boost::system::error_category& client_category() noexcept;
boost::system::error_code make_error_code(client_errc e) noexcept;

// True when the failure happened before any byte of the request could have reached the partner
// (invalid URL, blocked, DNS, connect, TLS): safe to send elsewhere with no side effect there.
bool failed_before_sending(const boost::system::error_code& ec) noexcept;

struct ClientOptions {
  std::string user_agent = "merchgate/0.1";
  std::string ca_file;  // empty: the system's default verify paths
  bool verify_tls = true;
  bool allow_loopback = false;          // MERCHGATE_ALLOW_LOOPBACK=1
  bool allow_private_networks = false;  // RFC 1918, ULA, CGNAT; link-local/metadata never
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds read_timeout{15'000};   // each read once the request is sent
  std::chrono::milliseconds total_timeout{30'000};  // whole call, retries included
  std::size_t max_response_bytes = 4 * 1024 * 1024;
  std::size_t max_idle_per_host = 32;
  std::chrono::milliseconds idle_ttl{50'000};  // idle pooled connections older than this close
  int max_retries = 2;  // only for idempotent requests, only on failures with no response
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // absolute http(s) URL
  std::vector<Header> headers;
  std::string body;
  // May be sent twice (GET, or a POST with a partner idempotency key): then a failure with no
  // response is retried on a fresh connection within the total timeout.
  bool idempotent = false;
  std::optional<std::chrono::milliseconds> total_timeout;  // overrides the client's
  std::string traceparent;  // passed on as the `traceparent` header when set
  // Metric labels: merchgate_partner_calls_total{adapter,operation,outcome}.
  std::string adapter;
  std::string operation;
};

struct ClientResponse {
  int status = 0;
  std::vector<Header> headers;  // names lower case
  std::string body;

  std::string_view header(std::string_view lower_name) const noexcept;
};

using ClientResult = boost::system::result<ClientResponse>;

class HttpClient {
 public:
  HttpClient(boost::asio::io_context& io, ClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request. Any HTTP status is a value (3xx too: redirects are never followed);
  // errors are client_errc codes. Safe to call from any thread and many coroutines at once.
  boost::asio::awaitable<ClientResult> async_send(ClientRequest request);

  // Closes pooled idle connections (shutdown, tests).
  void close_idle();
  const ClientOptions& options() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Sends one request on a private io_context and waits: for tools (merchgatectl) and tests.
ClientResult fetch_blocking(const ClientOptions& options, ClientRequest request);

}  // namespace mg::http

namespace boost::system {
template <>
struct is_error_code_enum<mg::http::client_errc> : std::true_type {};
}  // namespace boost::system
