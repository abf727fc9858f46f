#include "adapters/http/client.hpp"

#include <openssl/ssl.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <deque>
#include <exception>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "gateway/core/metrics.hpp"

namespace mg::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr int kMaxInterimResponses = 8;
constexpr std::chrono::milliseconds kRetryBackoff{50};

std::string_view errc_name(client_errc e) noexcept {
  switch (e) {
    case client_errc::invalid_url:
      return "invalid_url";
    case client_errc::blocked_address:
      return "blocked_address";
    case client_errc::resolve_failed:
      return "resolve_failed";
    case client_errc::connect_failed:
      return "connect_failed";
    case client_errc::connect_timeout:
      return "connect_timeout";
    case client_errc::tls_failed:
      return "tls_failed";
    case client_errc::write_failed:
      return "write_failed";
    case client_errc::read_timeout:
      return "read_timeout";
    case client_errc::total_timeout:
      return "total_timeout";
    case client_errc::connection_closed:
      return "connection_closed";
    case client_errc::response_too_large:
      return "response_too_large";
    case client_errc::protocol_error:
      return "protocol_error";
  }
  return "unknown";
}

class ClientCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "merchgate.http_client"; }

  std::string message(int ev) const override {
    switch (static_cast<client_errc>(ev)) {
      case client_errc::invalid_url:
        return "invalid or unsupported URL or request";
      case client_errc::blocked_address:
        return "destination address is not allowed";
      case client_errc::resolve_failed:
        return "host name could not be resolved";
      case client_errc::connect_failed:
        return "connection refused or unreachable";
      case client_errc::connect_timeout:
        return "connect timed out";
      case client_errc::tls_failed:
        return "TLS handshake or certificate verification failed";
      case client_errc::write_failed:
        return "connection failed while sending the request";
      case client_errc::read_timeout:
        return "timed out waiting for the response";
      case client_errc::total_timeout:
        return "request exceeded its total time budget";
      case client_errc::connection_closed:
        return "connection closed before a complete response";
      case client_errc::response_too_large:
        return "response exceeds the configured size limit";
      case client_errc::protocol_error:
        return "malformed HTTP response";
    }
    return "unknown http client error";
  }
};

// What the SSRF guard thinks of one resolved address.
enum class AddressClass { global, loopback, private_network, forbidden };

AddressClass classify_v4(std::uint32_t a) noexcept {
  const auto in = [a](std::uint32_t net, int bits) {
    return (a >> (32 - bits)) == (net >> (32 - bits));
  };
  if (in(0x7F000000, 8)) return AddressClass::loopback;  // 127/8
  if (in(0x00000000, 8) ||                               // "this network", unspecified
      in(0xA9FE0000, 16) ||                              // 169.254/16 link-local, metadata
      in(0xE0000000, 4) ||                               // 224/4 multicast
      in(0xF0000000, 4)) {                               // 240/4 reserved, broadcast
    return AddressClass::forbidden;
  }
  if (in(0x0A000000, 8) || in(0xAC100000, 12) || in(0xC0A80000, 16) || in(0x64400000, 10)) {
    return AddressClass::private_network;
  }
  return AddressClass::global;
}

AddressClass classify(const asio::ip::address& address) noexcept {
  if (address.is_v4()) return classify_v4(address.to_v4().to_uint());
  const auto b = address.to_v6().to_bytes();
  const auto embedded_v4 = [&b] {
    return (std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) |
           (std::uint32_t{b[14]} << 8) | std::uint32_t{b[15]};
  };
  const auto zero_until = [&b](std::size_t n) {
    return std::all_of(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n),
                       [](unsigned char c) { return c == 0; });
  };
  if (zero_until(16)) return AddressClass::forbidden;  // ::
  if (zero_until(15) && b[15] == 1) return AddressClass::loopback;
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d)
  // reach the embedded IPv4 address, so it decides.
  if (zero_until(10) && b[10] == 0xff && b[11] == 0xff) return classify_v4(embedded_v4());
  if (zero_until(12)) return classify_v4(embedded_v4());
  constexpr std::array<unsigned char, 12> kNat64{0x00, 0x64, 0xff, 0x9b};
  if (std::equal(kNat64.begin(), kNat64.end(), b.begin())) return classify_v4(embedded_v4());
  if (b[0] == 0xff) return AddressClass::forbidden;                           // ff00::/8 multicast
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::forbidden;  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressClass::private_network;  // fec0::/10
  if ((b[0] & 0xfe) == 0xfc) return AddressClass::private_network;                  // fc00::/7 ULA
  return AddressClass::global;
}

bool address_allowed(const asio::ip::address& address, const ClientOptions& options) noexcept {
  switch (classify(address)) {
    case AddressClass::global:
      return true;
    case AddressClass::loopback:
      return options.allow_loopback;
    case AddressClass::private_network:
      return options.allow_private_networks;
    case AddressClass::forbidden:
      return false;
  }
  return false;
}

char to_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), to_lower);
  return out;
}

// RFC 9110 token (method and field names).
bool is_token(std::string_view s) noexcept {
  constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           kExtra.find(c) != std::string_view::npos;
  });
}

// No CR, LF or NUL: a value that could split the header block is a request-smuggling bug.
bool is_field_value(std::string_view s) noexcept {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool is_host_name(std::string_view s) noexcept {
  return !s.empty() && s.size() <= 253 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '.' || c == '_';
  });
}

struct Target {
  bool tls = false;
  bool ip_literal = false;
  std::string host;         // lower case, no brackets: for DNS, SNI and certificate checks
  std::string host_header;  // host[:port] as sent in `host`
  std::uint16_t port = 0;
  std::string target;  // origin-form path and query
  std::string key;     // pool key: scheme://host:port
};

std::optional<Target> parse_url(std::string_view text) {
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) return std::nullopt;
  const auto& url = *parsed;
  Target t;
  switch (url.scheme_id()) {
    case boost::urls::scheme::http:
      t.tls = false;
      break;
    case boost::urls::scheme::https:
      t.tls = true;
      break;
    default:
      return std::nullopt;
  }
  if (!url.has_authority() || url.has_userinfo()) return std::nullopt;
  switch (url.host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
      t.ip_literal = true;
      t.host = lower(url.host_address());
      break;
    case boost::urls::host_type::name:
      t.host = lower(url.host_address());
      if (!is_host_name(t.host)) return std::nullopt;
      break;
    default:
      return std::nullopt;
  }
  if (t.host.empty()) return std::nullopt;
  const std::uint16_t default_port = t.tls ? 443 : 80;
  t.port = default_port;
  if (url.has_port() && !url.port().empty()) {
    // Parsed here: port_number() does not reject values over 65535.
    const auto digits = url.port();
    if (digits.size() > 5) return std::nullopt;
    unsigned value = 0;
    for (char c : digits) value = value * 10 + static_cast<unsigned>(c - '0');
    if (value == 0 || value > 65535) return std::nullopt;
    t.port = static_cast<std::uint16_t>(value);
  }
  const bool ipv6 = url.host_type() == boost::urls::host_type::ipv6;
  t.host_header = ipv6 ? "[" + t.host + "]" : t.host;
  if (t.port != default_port) t.host_header += ":" + std::to_string(t.port);
  t.target = url.encoded_path();
  if (t.target.empty()) t.target = "/";
  if (url.has_query()) {
    t.target += '?';
    t.target += url.encoded_query();
  }
  t.key =
      std::string(t.tls ? "https://" : "http://") + t.host_header + ":" + std::to_string(t.port);
  return t;
}

// Headers the client owns: derived from the URL and body, never taken from the caller.
bool is_managed_header(std::string_view lower_name) noexcept {
  return lower_name == "host" || lower_name == "content-length" ||
         lower_name == "transfer-encoding" || lower_name == "connection";
}

using OutgoingRequest = bhttp::request<bhttp::string_body>;

std::optional<OutgoingRequest> build_request(ClientRequest& in, const Target& target,
                                             const ClientOptions& options) {
  if (!is_token(in.method) || !is_field_value(in.traceparent)) return std::nullopt;
  OutgoingRequest req;
  req.version(11);
  req.method_string(in.method);
  req.target(target.target);
  req.set(bhttp::field::host, target.host_header);
  bool has_user_agent = false;
  for (const auto& h : in.headers) {
    if (!is_token(h.name) || !is_field_value(h.value)) return std::nullopt;
    const std::string name = lower(h.name);
    if (is_managed_header(name)) continue;
    if (name == "traceparent" && !in.traceparent.empty()) continue;
    if (name == "user-agent") has_user_agent = true;
    req.insert(name, h.value);
  }
  if (!has_user_agent && !options.user_agent.empty()) {
    if (!is_field_value(options.user_agent)) return std::nullopt;
    req.set(bhttp::field::user_agent, options.user_agent);
  }
  if (!in.traceparent.empty()) req.set("traceparent", in.traceparent);
  req.body() = std::move(in.body);
  req.prepare_payload();
  return req;
}

struct SessionFree {
  void operator()(SSL_SESSION* s) const noexcept { SSL_SESSION_free(s); }
};
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionFree>;

using Strand = asio::strand<asio::io_context::executor_type>;
using TlsStream = ssl::stream<beast::tcp_stream>;

// One connection. Every operation on it runs in a coroutine on its own strand, so Beast's
// timeout handlers never race the reads and writes, whichever thread the caller is on.
struct Connection {
  explicit Connection(Strand s) : strand(std::move(s)) {}

  beast::tcp_stream& tcp() { return tls ? tls->next_layer() : *plain; }

  Strand strand;
  std::optional<beast::tcp_stream> plain;
  std::optional<TlsStream> tls;
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};
};

// The result of one attempt on one connection.
struct Attempt {
  error_code ec;
  bool stale = false;             // pooled connection found closed before anything was sent
  bool response_started = false;  // at least one response byte arrived
  bool reusable = false;          // complete response with keep-alive: may go back to the pool
  ClientResponse response;
};

// Arms the stream's deadline for one phase, capped by the call's total deadline; true when the
// total deadline is the one that applies (a timeout then means total_timeout).
bool arm(beast::tcp_stream& stream, std::chrono::milliseconds phase, Clock::time_point total) {
  const auto phase_deadline = Clock::now() + phase;
  const bool total_bound = total <= phase_deadline;
  stream.expires_at(total_bound ? total : phase_deadline);
  return total_bound;
}

bool is_timeout(const error_code& ec) noexcept { return ec == beast::error::timeout; }

error_code timeout_code(bool total_bound, client_errc phase) noexcept {
  return make_error_code(total_bound ? client_errc::total_timeout : phase);
}

error_code classify_read_error(const error_code& ec, bool total_bound) noexcept {
  if (is_timeout(ec)) return timeout_code(total_bound, client_errc::read_timeout);
  if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
    return client_errc::response_too_large;
  }
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) {
    return client_errc::connection_closed;
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category()) {
    return client_errc::protocol_error;
  }
  if (ec == ssl::error::stream_truncated) return client_errc::connection_closed;
  if (ec.category() == asio::error::get_ssl_category()) return client_errc::protocol_error;
  return client_errc::connection_closed;  // eof, reset, aborted, broken pipe
}

// A pooled connection the peer has closed (FIN, RST or a TLS close_notify waiting to be read)
// is detected with a non-blocking peek, before any request byte is written to it.
bool still_open(beast::tcp_stream& stream) {
  auto& socket = stream.socket();
  if (!socket.is_open()) return false;
  error_code ec;
  socket.non_blocking(true, ec);
  if (ec) return false;
  char byte = 0;
  socket.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
  error_code ignored;
  socket.non_blocking(false, ignored);
  return ec == asio::error::would_block;
}

}  // namespace

const boost::system::error_category& client_category() noexcept {
  static const ClientCategory category;
  return category;
}

boost::system::error_code make_error_code(client_errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

bool failed_before_sending(const boost::system::error_code& ec) noexcept {
  if (ec.category() != client_category()) return false;
  switch (static_cast<client_errc>(ec.value())) {
    case client_errc::invalid_url:
    case client_errc::blocked_address:
    case client_errc::resolve_failed:
    case client_errc::connect_failed:
    case client_errc::connect_timeout:
    case client_errc::tls_failed:
      return true;
    default:
      return false;
  }
}

std::string_view ClientResponse::header(std::string_view lower_name) const noexcept {
  for (const auto& h : headers) {
    if (h.name == lower_name) return h.value;
  }
  return {};
}

struct HttpClient::Impl {
  Impl(asio::io_context& io, ClientOptions options)
      : io_(io), options_(std::move(options)), ssl_ctx_(ssl::context::tls_client) {
    static std::once_flag described;
    std::call_once(described, [] {
      metrics::describe("merchgate_partner_calls_total",
                        "Outbound partner calls by adapter, operation and outcome.", "counter");
      metrics::describe("merchgate_partner_call_seconds",
                        "Outbound partner call duration, retries included.", "histogram");
    });
    SSL_CTX_set_min_proto_version(ssl_ctx_.native_handle(), TLS1_2_VERSION);
    if (options_.verify_tls) {
      ssl_ctx_.set_verify_mode(ssl::verify_peer);
      if (options_.ca_file.empty()) {
        ssl_ctx_.set_default_verify_paths();
      } else {
        ssl_ctx_.load_verify_file(options_.ca_file);  // throws: a bad CA file stops the start
      }
    } else {
      ssl_ctx_.set_verify_mode(ssl::verify_none);
    }
  }

  static asio::awaitable<ClientResult> async_send(std::shared_ptr<Impl> self,
                                                  ClientRequest request);
  asio::awaitable<ClientResult> async_perform(ClientRequest& request, Clock::time_point start);
  asio::awaitable<error_code> async_resolve(const Target& target, Clock::time_point deadline,
                                            std::vector<tcp::endpoint>& endpoints);
  asio::awaitable<Attempt> async_attempt(Connection& conn, bool fresh, const Target& target,
                                         const std::vector<tcp::endpoint>& endpoints,
                                         OutgoingRequest& req, Clock::time_point deadline);
  asio::awaitable<error_code> async_connect(Connection& conn, const Target& target,
                                            const std::vector<tcp::endpoint>& endpoints,
                                            Clock::time_point deadline);
  template <class Stream>
  asio::awaitable<Attempt> async_exchange(Stream& stream, Connection& conn, OutgoingRequest& req,
                                          Clock::time_point deadline);

  std::unique_ptr<Connection> take_idle(const std::string& key);
  void put_idle(const std::string& key, std::unique_ptr<Connection> conn);
  void close_idle(bool final);
  void apply_session(const std::string& key, SSL* ssl);
  void save_session(const std::string& key, SSL* ssl);

  struct Host {
    std::deque<std::unique_ptr<Connection>> idle;  // oldest first
    SessionPtr session;
  };

  asio::io_context& io_;
  const ClientOptions options_;
  ssl::context ssl_ctx_;
  std::mutex mutex_;  // guards hosts_ and closed_
  std::unordered_map<std::string, Host> hosts_;
  bool closed_ = false;
};

std::unique_ptr<Connection> HttpClient::Impl::take_idle(const std::string& key) {
  std::vector<std::unique_ptr<Connection>> expired;  // closed outside the lock
  std::unique_ptr<Connection> conn;
  {
    std::lock_guard lock(mutex_);
    auto it = hosts_.find(key);
    if (it == hosts_.end()) return nullptr;
    auto& idle = it->second.idle;
    const auto cutoff = Clock::now() - options_.idle_ttl;
    while (!idle.empty() && idle.front()->idle_since <= cutoff) {
      expired.push_back(std::move(idle.front()));
      idle.pop_front();
    }
    if (!idle.empty()) {
      conn = std::move(idle.back());  // most recently used: the most likely to be alive
      idle.pop_back();
    }
  }
  return conn;
}

void HttpClient::Impl::put_idle(const std::string& key, std::unique_ptr<Connection> conn) {
  std::unique_ptr<Connection> dropped;
  conn->idle_since = Clock::now();
  std::lock_guard lock(mutex_);
  if (closed_ || options_.max_idle_per_host == 0) {
    dropped = std::move(conn);
    return;
  }
  auto& idle = hosts_[key].idle;
  if (idle.size() >= options_.max_idle_per_host) {
    dropped = std::move(idle.front());
    idle.pop_front();
  }
  idle.push_back(std::move(conn));
}

void HttpClient::Impl::close_idle(bool final) {
  std::vector<std::unique_ptr<Connection>> doomed;
  {
    std::lock_guard lock(mutex_);
    if (final) closed_ = true;
    for (auto& [key, host] : hosts_) {
      for (auto& conn : host.idle) doomed.push_back(std::move(conn));
      host.idle.clear();
    }
  }
  // `doomed` closes the sockets as it goes out of scope, outside the lock.
}

void HttpClient::Impl::apply_session(const std::string& key, SSL* ssl) {
  std::lock_guard lock(mutex_);
  auto it = hosts_.find(key);
  if (it != hosts_.end() && it->second.session) SSL_set_session(ssl, it->second.session.get());
}

void HttpClient::Impl::save_session(const std::string& key, SSL* ssl) {
  const SSL_SESSION* current = SSL_get0_session(ssl);
  // Under TLS 1.3 the session is only resumable once the server's ticket has been read.
  if (current == nullptr || !SSL_SESSION_is_resumable(current)) return;
  // A copy: OpenSSL marks the connection's own session not resumable when that connection ends
  // without close_notify (the peer closing, or an idle connection dropped), which is routine.
  SessionPtr session(SSL_SESSION_dup(current));
  if (!session) return;
  std::lock_guard lock(mutex_);
  hosts_[key].session.swap(session);
}

asio::awaitable<ClientResult> HttpClient::Impl::async_send(std::shared_ptr<Impl> self,
                                                           ClientRequest request) {
  const auto start = Clock::now();
  ClientResult result = co_await self->async_perform(request, start);
  if (!request.adapter.empty()) {
    std::string outcome;
    if (result) {
      outcome = std::to_string(result->status / 100) + "xx";
    } else if (result.error().category() == client_category()) {
      outcome = errc_name(static_cast<client_errc>(result.error().value()));
    } else {
      outcome = "error";
    }
    metrics::counter_add("merchgate_partner_calls_total", {{"adapter", request.adapter},
                                                           {"operation", request.operation},
                                                           {"outcome", std::move(outcome)}});
    metrics::histogram_observe("merchgate_partner_call_seconds",
                               {{"adapter", request.adapter}, {"operation", request.operation}},
                               std::chrono::duration<double>(Clock::now() - start).count());
  }
  co_return result;
}

asio::awaitable<ClientResult> HttpClient::Impl::async_perform(ClientRequest& request,
                                                              Clock::time_point start) {
  const auto target = parse_url(request.url);
  if (!target) co_return client_errc::invalid_url;
  auto req = build_request(request, *target, options_);
  if (!req) co_return client_errc::invalid_url;
  const auto deadline = start + request.total_timeout.value_or(options_.total_timeout);

  std::vector<tcp::endpoint> endpoints;  // resolved and vetted once per call
  int retries_left = request.idempotent ? std::max(options_.max_retries, 0) : 0;
  int retries_done = 0;
  bool fresh_only = false;
  for (;;) {
    auto conn = fresh_only ? nullptr : take_idle(target->key);
    const bool pooled = conn != nullptr;
    if (!pooled) {
      if (endpoints.empty()) {
        if (auto ec = co_await async_resolve(*target, deadline, endpoints)) co_return ec;
      }
      conn = std::make_unique<Connection>(asio::make_strand(io_));
    }
    Attempt attempt = co_await asio::co_spawn(
        conn->strand, async_attempt(*conn, !pooled, *target, endpoints, *req, deadline),
        asio::use_awaitable);
    if (attempt.stale) continue;  // nothing was sent; the next idle or a fresh one
    if (!attempt.ec) {
      if (attempt.reusable) put_idle(target->key, std::move(conn));
      co_return std::move(attempt.response);
    }
    const auto e = static_cast<client_errc>(attempt.ec.value());
    const bool no_response_failure =
        e == client_errc::connect_failed || e == client_errc::connect_timeout ||
        e == client_errc::write_failed ||
        (e == client_errc::connection_closed && !attempt.response_started);
    if (retries_left == 0 || !no_response_failure) co_return attempt.ec;
    // A stale pooled connection is retried at once; a failing host gets a short pause.
    const auto backoff =
        pooled ? Clock::duration::zero() : kRetryBackoff * (1 << std::min(retries_done, 6));
    if (Clock::now() + backoff >= deadline) co_return attempt.ec;
    if (backoff > Clock::duration::zero()) {
      asio::steady_timer timer(io_, backoff);
      co_await timer.async_wait(kNoThrow);
    }
    --retries_left;
    ++retries_done;
    fresh_only = true;
  }
}

asio::awaitable<error_code> HttpClient::Impl::async_resolve(const Target& target,
                                                            Clock::time_point deadline,
                                                            std::vector<tcp::endpoint>& endpoints) {
  // getaddrinfo cannot be interrupted, so the resolve is bounded by the system resolver's own
  // timeouts; the total budget is checked once it returns.
  tcp::resolver resolver(io_);
  auto flags = tcp::resolver::numeric_service;
  if (target.ip_literal) flags |= tcp::resolver::numeric_host;
  auto [ec, results] =
      co_await resolver.async_resolve(target.host, std::to_string(target.port), flags, kNoThrow);
  if (Clock::now() >= deadline) co_return client_errc::total_timeout;
  if (ec || results.empty()) co_return client_errc::resolve_failed;
  // Every address must pass: a name resolving to one public and one internal address could
  // otherwise be steered to the internal one.
  for (const auto& entry : results) {
    if (!address_allowed(entry.endpoint().address(), options_)) {
      co_return client_errc::blocked_address;
    }
  }
  for (const auto& entry : results) {
    if (std::find(endpoints.begin(), endpoints.end(), entry.endpoint()) == endpoints.end()) {
      endpoints.push_back(entry.endpoint());
    }
  }
  co_return error_code{};
}

asio::awaitable<Attempt> HttpClient::Impl::async_attempt(
    Connection& conn, bool fresh, const Target& target, const std::vector<tcp::endpoint>& endpoints,
    OutgoingRequest& req, Clock::time_point deadline) {
  if (fresh) {
    if (auto ec = co_await async_connect(conn, target, endpoints, deadline)) {
      Attempt failed;
      failed.ec = ec;
      co_return failed;
    }
  } else if (!still_open(conn.tcp())) {
    Attempt stale;
    stale.stale = true;
    co_return stale;
  }
  // Not a conditional expression: GCC 12 miscompiles co_await inside ?: (frees the frame early).
  Attempt attempt;
  if (conn.tls) {
    attempt = co_await async_exchange(*conn.tls, conn, req, deadline);
  } else {
    attempt = co_await async_exchange(*conn.plain, conn, req, deadline);
  }
  // The TLS 1.3 ticket arrives after the handshake and is read along with the response.
  if (!attempt.ec && conn.tls && fresh) save_session(target.key, conn.tls->native_handle());
  co_return attempt;
}

asio::awaitable<error_code> HttpClient::Impl::async_connect(
    Connection& conn, const Target& target, const std::vector<tcp::endpoint>& endpoints,
    Clock::time_point deadline) {
  if (target.tls) {
    conn.tls.emplace(conn.strand, ssl_ctx_);
  } else {
    conn.plain.emplace(conn.strand);
  }
  auto& tcp = conn.tcp();
  // One connect budget covers the TCP connect and the TLS handshake.
  const bool total_bound = arm(tcp, options_.connect_timeout, deadline);
  auto [ec, endpoint] = co_await tcp.async_connect(endpoints, kNoThrow);
  if (ec) {
    co_return is_timeout(ec) ? timeout_code(total_bound, client_errc::connect_timeout)
                             : make_error_code(client_errc::connect_failed);
  }
  error_code ignored;
  tcp.socket().set_option(tcp::no_delay(true), ignored);
  if (target.tls) {
    SSL* ssl = conn.tls->native_handle();
    // SNI carries host names only (RFC 6066).
    if (!target.ip_literal && !SSL_set_tlsext_host_name(ssl, target.host.c_str())) {
      co_return client_errc::tls_failed;
    }
    if (options_.verify_tls)
      conn.tls->set_verify_callback(ssl::host_name_verification(target.host));
    apply_session(target.key, ssl);
    auto [hec] = co_await conn.tls->async_handshake(ssl::stream_base::client, kNoThrow);
    if (hec) {
      co_return is_timeout(hec) ? timeout_code(total_bound, client_errc::connect_timeout)
                                : make_error_code(client_errc::tls_failed);
    }
    save_session(target.key, ssl);
  }
  tcp.expires_never();
  co_return error_code{};
}

template <class Stream>
asio::awaitable<Attempt> HttpClient::Impl::async_exchange(Stream& stream, Connection& conn,
                                                          OutgoingRequest& req,
                                                          Clock::time_point deadline) {
  Attempt attempt;
  auto& tcp = conn.tcp();
  bool total_bound = arm(tcp, options_.read_timeout, deadline);
  auto [wec, written] = co_await bhttp::async_write(stream, req, kNoThrow);
  if (wec) {
    attempt.ec = is_timeout(wec) ? timeout_code(total_bound, client_errc::write_failed)
                                 : make_error_code(client_errc::write_failed);
    co_return attempt;
  }
  for (int interim = 0;; ++interim) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(std::uint64_t{options_.max_response_bytes});
    if (req.method() == bhttp::verb::head) parser.skip(true);
    while (!parser.is_done()) {
      total_bound = arm(tcp, options_.read_timeout, deadline);
      auto [rec, n] = co_await bhttp::async_read_some(stream, conn.buffer, parser, kNoThrow);
      if (parser.got_some() || conn.buffer.size() > 0) attempt.response_started = true;
      if (rec) {
        attempt.ec = classify_read_error(rec, total_bound);
        co_return attempt;
      }
    }
    auto& msg = parser.get();
    const int status = msg.result_int();
    // Interim 1xx responses (103 Early Hints) precede the real one; 101 is final.
    if (status >= 100 && status < 200 && status != 101) {
      if (interim + 1 >= kMaxInterimResponses) {
        attempt.ec = client_errc::protocol_error;
        co_return attempt;
      }
      continue;
    }
    tcp.expires_never();
    attempt.response.status = status;
    attempt.response.headers.reserve(
        static_cast<std::size_t>(std::distance(msg.begin(), msg.end())));
    for (const auto& field : msg) {
      attempt.response.headers.push_back(
          Header{lower(field.name_string()), std::string(field.value())});
    }
    attempt.response.body = std::move(msg.body());
    attempt.reusable =
        msg.keep_alive() && req.keep_alive() && status != 101 && conn.buffer.size() == 0;
    co_return attempt;
  }
}

HttpClient::HttpClient(boost::asio::io_context& io, ClientOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {}

HttpClient::~HttpClient() { impl_->close_idle(true); }

boost::asio::awaitable<ClientResult> HttpClient::async_send(ClientRequest request) {
  // The coroutine holds the Impl, so calls in flight survive the HttpClient.
  return Impl::async_send(impl_, std::move(request));
}

void HttpClient::close_idle() { impl_->close_idle(false); }

const ClientOptions& HttpClient::options() const noexcept { return impl_->options_; }

ClientResult fetch_blocking(const ClientOptions& options, ClientRequest request) {
  asio::io_context io;
  std::optional<ClientResult> result;
  std::exception_ptr error;
  {
    HttpClient client(io, options);
    asio::co_spawn(io, client.async_send(std::move(request)),
                   [&](std::exception_ptr e, ClientResult r) {
                     error = e;
                     if (!e) result.emplace(std::move(r));
                   });
    io.run();
  }
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

}  // namespace mg::http
