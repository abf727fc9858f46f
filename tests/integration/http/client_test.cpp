#include "adapters/http/client.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <unistd.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gateway/core/metrics.hpp"

namespace mg::http {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::size_t content_length(const std::string& head) {
  const std::string l = lower(head);
  const auto at = l.find("\r\ncontent-length:");
  if (at == std::string::npos) return 0;
  return std::stoul(l.substr(at + 17));
}

// What the test server does once it has read a request.
struct Reply {
  std::string bytes;   // written as is
  bool close = true;   // close the connection after writing
  bool stall = false;  // never answer, keep the connection open
};

std::string response(int status, std::string_view reason, std::string_view body,
                     std::string_view extra_headers = "", bool keep_alive = false) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  out += extra_headers;
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  out += "\r\n";
  out += body;
  return out;
}

Reply ok(std::string_view body = "ok") { return {response(200, "OK", body)}; }
Reply ok_keep_alive(std::string_view body = "ok") {
  return {response(200, "OK", body, "", true), false};
}

// A small HTTP/1.1 server on 127.0.0.1:0 with its own thread. It reads whole requests (headers
// and a Content-Length body), records their exact bytes and answers as the handler says. The
// handler also gets the request's index on its connection (0 for the first).
class TestServer {
 public:
  using Handler = std::function<Reply(const std::string& request, int index_on_connection)>;

  explicit TestServer(Handler handler, ssl::context* tls = nullptr,
                      asio::ip::address address = asio::ip::make_address("127.0.0.1"))
      : handler_(std::move(handler)), tls_(tls), acceptor_(io_, {address, 0}) {
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestServer() {
    io_.stop();
    thread_.join();
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url(std::string_view target = "/") const {
    const auto address = acceptor_.local_endpoint().address();
    const std::string host =
        address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    return "http://" + host + ":" + std::to_string(port()) + std::string(target);
  }
  int accepts() const { return accepts_.load(); }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<bool> sessions_reused() const {
    std::lock_guard lock(mutex_);
    return sessions_reused_;
  }
  std::vector<std::string> server_names() const {
    std::lock_guard lock(mutex_);
    return server_names_;
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
      if (ec) co_return;
      ++accepts_;
      if (tls_) {
        asio::co_spawn(io_, serve_tls(std::move(socket)), asio::detached);
      } else {
        asio::co_spawn(io_, serve_plain(std::move(socket)), asio::detached);
      }
    }
  }

  asio::awaitable<void> serve_plain(tcp::socket socket) { co_await serve(socket, socket); }

  asio::awaitable<void> serve_tls(tcp::socket socket) {
    ssl::stream<tcp::socket> stream(std::move(socket), *tls_);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, kNoThrow);
    if (ec) co_return;
    {
      std::lock_guard lock(mutex_);
      sessions_reused_.push_back(SSL_session_reused(stream.native_handle()) == 1);
      const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
      server_names_.push_back(sni ? sni : "");
    }
    co_await serve(stream, stream.next_layer());
  }

  template <class Stream>
  asio::awaitable<void> serve(Stream& stream, tcp::socket& socket) {
    std::string buffer;
    for (int index = 0;; ++index) {
      auto [ec, head] = co_await asio::async_read_until(stream, asio::dynamic_buffer(buffer),
                                                        "\r\n\r\n", kNoThrow);
      if (ec) co_return;
      const std::size_t total = head + content_length(buffer.substr(0, head));
      if (buffer.size() < total) {
        auto [bec, n] =
            co_await asio::async_read(stream, asio::dynamic_buffer(buffer),
                                      asio::transfer_exactly(total - buffer.size()), kNoThrow);
        if (bec) co_return;
      }
      const std::string request = buffer.substr(0, total);
      buffer.erase(0, total);
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
      }
      const Reply reply = handler_(request, index);
      if (reply.stall) {
        asio::steady_timer forever(io_, std::chrono::hours(1));
        co_await forever.async_wait(kNoThrow);
        co_return;
      }
      if (!reply.bytes.empty()) {
        auto [wec, n] = co_await asio::async_write(stream, asio::buffer(reply.bytes), kNoThrow);
        if (wec) co_return;
      }
      if (reply.close) {
        boost::system::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        co_return;
      }
    }
  }

  Handler handler_;
  ssl::context* tls_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<int> accepts_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::vector<bool> sessions_reused_;
  std::vector<std::string> server_names_;
};

ClientOptions loopback_options() {
  ClientOptions options;
  options.allow_loopback = true;
  options.connect_timeout = 2s;
  options.read_timeout = 2s;
  options.total_timeout = 5s;
  return options;
}

ClientRequest get(std::string url) {
  ClientRequest request;
  request.url = std::move(url);
  return request;
}

// One client kept across calls (for pooling and TLS session tests), driven on its own
// io_context from the test thread.
class ClientHarness {
 public:
  explicit ClientHarness(ClientOptions options) : client_(io_, std::move(options)) {}

  ClientResult send(ClientRequest request) {
    std::optional<ClientResult> out;
    asio::co_spawn(io_, client_.async_send(std::move(request)),
                   [&](std::exception_ptr e, ClientResult r) {
                     if (e) std::rethrow_exception(e);
                     out.emplace(std::move(r));
                   });
    io_.restart();
    io_.run();
    return std::move(*out);
  }

  HttpClient& client() { return client_; }

 private:
  asio::io_context io_;
  HttpClient client_;
};

std::uint16_t closed_port() {
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

TEST(HttpClient, ReturnsStatusLowerCasedHeadersAndBody) {
  TestServer server([](const std::string&, int) {
    return Reply{response(201, "Created", R"({"ok":true})",
                          "Content-Type: application/json\r\nX-Request-ID: abc\r\n")};
  });
  auto result = fetch_blocking(loopback_options(), get(server.url("/v1/thing")));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->status, 201);
  EXPECT_EQ(result->body, R"({"ok":true})");
  EXPECT_EQ(result->header("content-type"), "application/json");
  EXPECT_EQ(result->header("x-request-id"), "abc");
  EXPECT_EQ(result->header("missing"), "");
}

TEST(HttpClient, SendsUserAgentHostTraceparentAndContentLengthOnTheWire) {
  TestServer server([](const std::string&, int) { return ok(); });
  ClientRequest request;
  request.method = "POST";
  request.url = server.url("/v1/charges?expand=card&x=1");
  request.body = R"({"amount":1250})";
  request.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  request.headers = {{"Idempotency-Key", "chk_1:charge"}, {"Content-Type", "application/json"}};
  ASSERT_TRUE(fetch_blocking(loopback_options(), request));

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const std::string wire = requests[0];
  const std::string l = lower(wire);
  EXPECT_EQ(wire.rfind("POST /v1/charges?expand=card&x=1 HTTP/1.1\r\n", 0), 0u) << wire;
  EXPECT_NE(l.find("\r\nuser-agent: merchgate/0.1\r\n"), std::string::npos) << wire;
  EXPECT_NE(l.find("\r\nhost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
            std::string::npos)
      << wire;
  EXPECT_NE(l.find("\r\ntraceparent: " + request.traceparent + "\r\n"), std::string::npos) << wire;
  EXPECT_NE(l.find("\r\ncontent-length: 15\r\n"), std::string::npos) << wire;
  EXPECT_NE(l.find("\r\nidempotency-key: chk_1:charge\r\n"), std::string::npos) << wire;
  EXPECT_EQ(wire.substr(wire.size() - 15), R"({"amount":1250})");
}

TEST(HttpClient, KeepsCallerUserAgentAndOmitsTraceparentWhenUnset) {
  TestServer server([](const std::string&, int) { return ok(); });
  ClientRequest request = get(server.url());
  request.headers = {{"User-Agent", "custom/2"}};
  ASSERT_TRUE(fetch_blocking(loopback_options(), request));
  const std::string l = lower(server.requests().at(0));
  EXPECT_NE(l.find("\r\nuser-agent: custom/2\r\n"), std::string::npos) << l;
  EXPECT_EQ(l.find("merchgate/0.1"), std::string::npos) << l;
  EXPECT_EQ(l.find("traceparent"), std::string::npos) << l;
  EXPECT_EQ(l.find("content-length"), std::string::npos) << l;
}

TEST(HttpClient, IgnoresCallerHostAndContentLengthHeaders) {
  TestServer server([](const std::string&, int) { return ok(); });
  ClientRequest request = get(server.url());
  request.method = "PUT";
  request.body = "abc";
  request.headers = {{"Host", "internal.example"}, {"Content-Length", "99"}};
  ASSERT_TRUE(fetch_blocking(loopback_options(), request));
  const std::string l = lower(server.requests().at(0));
  EXPECT_EQ(l.find("internal.example"), std::string::npos) << l;
  EXPECT_EQ(l.find("99"), std::string::npos) << l;
  EXPECT_NE(l.find("\r\ncontent-length: 3\r\n"), std::string::npos) << l;
}

TEST(HttpClient, RejectsHeaderValuesThatCouldSplitTheRequest) {
  TestServer server([](const std::string&, int) { return ok(); });
  ClientRequest request = get(server.url());
  request.headers = {{"X-Note", "a\r\nX-Injected: 1"}};
  auto result = fetch_blocking(loopback_options(), request);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), client_errc::invalid_url);
  EXPECT_EQ(server.accepts(), 0);
}

TEST(HttpClient, ReusesKeepAliveConnectionForSequentialCalls) {
  TestServer server([](const std::string&, int) { return ok_keep_alive(); });
  ClientHarness harness(loopback_options());
  ASSERT_TRUE(harness.send(get(server.url("/a"))));
  ASSERT_TRUE(harness.send(get(server.url("/b"))));
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.accepts(), 1);
}

TEST(HttpClient, OpensNewConnectionWhenIdleOneIsOlderThanTtl) {
  TestServer server([](const std::string&, int) { return ok_keep_alive(); });
  auto options = loopback_options();
  options.idle_ttl = 1ms;
  ClientHarness harness(options);
  ASSERT_TRUE(harness.send(get(server.url())));
  std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(harness.send(get(server.url())));
  EXPECT_EQ(server.accepts(), 2);
}

TEST(HttpClient, CloseIdleDropsPooledConnections) {
  TestServer server([](const std::string&, int) { return ok_keep_alive(); });
  ClientHarness harness(loopback_options());
  ASSERT_TRUE(harness.send(get(server.url())));
  harness.client().close_idle();
  ASSERT_TRUE(harness.send(get(server.url())));
  EXPECT_EQ(server.accepts(), 2);
}

TEST(HttpClient, ReplacesPooledConnectionThePeerClosedWithoutRetryingTheRequest) {
  // The server promises keep-alive but closes: the pooled connection is dead before reuse.
  TestServer server([](const std::string&, int) {
    return Reply{response(200, "OK", "ok", "", true), true};
  });
  ClientHarness harness(loopback_options());
  ASSERT_TRUE(harness.send(get(server.url())));
  std::this_thread::sleep_for(50ms);
  ClientRequest post = get(server.url());
  post.method = "POST";
  post.body = "x";
  auto result = harness.send(post);
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(server.accepts(), 2);
  EXPECT_EQ(server.requests().size(), 2u);
}

// Answers the first request on each connection and drops the connection on the second.
Reply answer_once_then_drop(const std::string&, int index) {
  if (index == 0) return ok_keep_alive();
  return Reply{"", true};
}

TEST(HttpClient, RetriesIdempotentRequestOnFreshConnectionWhenPooledOneDies) {
  TestServer server(answer_once_then_drop);
  ClientHarness harness(loopback_options());
  ASSERT_TRUE(harness.send(get(server.url())));
  ClientRequest request = get(server.url());
  request.idempotent = true;
  auto result = harness.send(request);
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.accepts(), 2);
}

TEST(HttpClient, DoesNotRetryNonIdempotentRequestWhenPooledConnectionDies) {
  TestServer server(answer_once_then_drop);
  ClientHarness harness(loopback_options());
  ASSERT_TRUE(harness.send(get(server.url())));
  ClientRequest request = get(server.url());
  request.method = "POST";
  auto result = harness.send(request);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), client_errc::connection_closed);
  EXPECT_FALSE(failed_before_sending(result.error()));
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(HttpClient, RetriesIdempotentRequestWhenConnectionClosesBeforeResponse) {
  TestServer server([](const std::string&, int) { return Reply{"", true}; });
  auto options = loopback_options();
  options.max_retries = 2;
  ClientRequest request = get(server.url());
  request.idempotent = true;
  auto result = fetch_blocking(options, request);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), client_errc::connection_closed);
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.accepts(), 3);
}

TEST(HttpClient, DoesNotRetryNonIdempotentRequest) {
  TestServer server([](const std::string&, int) { return Reply{"", true}; });
  ClientRequest request = get(server.url());
  request.method = "POST";
  request.body = "{}";
  auto result = fetch_blocking(loopback_options(), request);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), client_errc::connection_closed);
  EXPECT_FALSE(failed_before_sending(result.error()));
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(HttpClient, DoesNotRetryOnceResponseBytesArrived) {
  TestServer server([](const std::string&, int) {
    return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", true};
  });
  ClientRequest request = get(server.url());
  request.idempotent = true;
  auto result = fetch_blocking(loopback_options(), request);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), client_errc::connection_closed);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(HttpClient, ReportsReadTimeoutWhenServerStallsAndDoesNotRetryIt) {
  TestServer server([](const std::string&, int) { return Reply{"", false, true}; });
  auto options = loopback_options();
  options.read_timeout = 200ms;
  ClientRequest request = get(server.url());
  request.idempotent = true;
  const auto start = Clock::now();
  auto result = fetch_blocking(options, request);
  const auto elapsed = Clock::now() - start;
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), client_errc::read_timeout);
  EXPECT_GE(elapsed, 180ms);
  EXPECT_LT(elapsed, 1500ms);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(HttpClient, ReportsTotalTimeoutWhenTheBudgetRunsOutFirst) {
  TestServer server([](const std::string&, int) { return Reply{"", false, true}; });
  ClientRequest request = get(server.url());
  request.total_timeout = 200ms;
  const auto start = Clock::now();
  auto result = fetch_blocking(loopback_options(), request);
  const auto elapsed = Clock::now() - start;
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), client_errc::total_timeout);
  EXPECT_LT(elapsed, 1500ms);
}

TEST(HttpClient, ReturnsRedirectWithoutFollowingIt) {
  std::string location;
  TestServer server([&location](const std::string&, int) {
    return Reply{response(302, "Found", "", "Location: " + location + "\r\n")};
  });
  location = server.url("/elsewhere");
  auto result = fetch_blocking(loopback_options(), get(server.url("/start")));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->status, 302);
  EXPECT_EQ(result->header("location"), location);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(HttpClient, RejectsBodyOverMaxResponseBytes) {
  TestServer server([](const std::string&, int) { return ok(std::string(4096, 'x')); });
  auto options = loopback_options();
  options.max_response_bytes = 1024;
  auto result = fetch_blocking(options, get(server.url()));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), client_errc::response_too_large);
}

TEST(HttpClient, AcceptsBodyOfExactlyMaxResponseBytes) {
  TestServer server([](const std::string&, int) { return ok(std::string(1024, 'x')); });
  auto options = loopback_options();
  options.max_response_bytes = 1024;
  auto result = fetch_blocking(options, get(server.url()));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->body.size(), 1024u);
}

TEST(HttpClient, DoesNotWaitForBodyOfHeadResponse) {
  TestServer server([](const std::string&, int) {
    return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", false};
  });
  auto options = loopback_options();
  options.read_timeout = 300ms;
  ClientRequest request = get(server.url());
  request.method = "HEAD";
  auto result = fetch_blocking(options, request);
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "");
}

TEST(HttpClient, SkipsInterimResponses) {
  TestServer server([](const std::string&, int) {
    return Reply{"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" +
                 response(200, "OK", "done")};
  });
  auto result = fetch_blocking(loopback_options(), get(server.url()));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "done");
}

TEST(HttpClient, ReportsProtocolErrorForNonHttpResponse) {
  TestServer server([](const std::string&, int) { return Reply{"SSH-2.0-OpenSSH\r\n\r\n"}; });
  auto result = fetch_blocking(loopback_options(), get(server.url()));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), client_errc::protocol_error);
}

TEST(HttpClient, AlwaysBlocksLinkLocalMetadataAndSpecialAddresses) {
  auto options = loopback_options();
  options.allow_private_networks = true;
  ClientHarness harness(options);
  for (const char* url :
       {"http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/",
        "http://[fe80::1]/", "http://0.0.0.0/", "http://[::]/", "http://224.0.0.1/",
        "http://255.255.255.255/", "http://[ff02::1]/", "http://[64:ff9b::a9fe:a9fe]/"}) {
    auto result = harness.send(get(url));
    ASSERT_FALSE(result) << url;
    EXPECT_EQ(result.error(), client_errc::blocked_address) << url;
    EXPECT_TRUE(failed_before_sending(result.error())) << url;
  }
}

TEST(HttpClient, BlocksPrivateNetworksByDefault) {
  ClientHarness harness(ClientOptions{});
  for (const char* url :
       {"http://10.0.0.1/", "http://172.16.5.4/", "http://172.31.255.255/", "http://192.168.1.1/",
        "http://100.64.0.1/", "http://[fd00::1]/", "http://[::ffff:10.0.0.1]/"}) {
    auto result = harness.send(get(url));
    ASSERT_FALSE(result) << url;
    EXPECT_EQ(result.error(), client_errc::blocked_address) << url;
  }
}

// An RFC 1918, CGNAT or ULA address of this machine, to run a server on a private network.
std::optional<asio::ip::address> local_private_address() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::optional<asio::ip::address> found;
  for (auto* it = list; it != nullptr && !found; it = it->ifa_next) {
    if (it->ifa_addr == nullptr) continue;
    if (it->ifa_addr->sa_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
      const asio::ip::address_v4 a(ntohl(in->sin_addr.s_addr));
      const auto v = a.to_uint();
      if ((v >> 24) == 10 || (v >> 20) == 0xAC1 || (v >> 16) == 0xC0A8 || (v >> 22) == 0x191) {
        found = a;
      }
    } else if (it->ifa_addr->sa_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(it->ifa_addr);
      asio::ip::address_v6::bytes_type bytes;
      std::copy_n(in6->sin6_addr.s6_addr, 16, bytes.begin());
      if ((bytes[0] & 0xfe) == 0xfc) found = asio::ip::address_v6(bytes);
    }
  }
  freeifaddrs(list);
  return found;
}

TEST(HttpClient, LetsPrivateNetworksThroughOnlyWhenAllowed) {
  const auto address = local_private_address();
  if (!address) GTEST_SKIP() << "this machine has no private-network address";
  TestServer server([](const std::string&, int) { return ok(); }, nullptr, *address);
  ClientOptions options;
  auto blocked = fetch_blocking(options, get(server.url()));
  ASSERT_FALSE(blocked) << server.url();
  EXPECT_EQ(blocked.error(), client_errc::blocked_address);
  EXPECT_EQ(server.accepts(), 0);
  options.allow_private_networks = true;
  auto allowed = fetch_blocking(options, get(server.url()));
  ASSERT_TRUE(allowed) << server.url() << ": " << allowed.error().message();
  EXPECT_EQ(server.accepts(), 1);
}

TEST(HttpClient, BlocksLoopbackUnlessAllowed) {
  TestServer server([](const std::string&, int) { return ok(); });
  const std::string port = std::to_string(server.port());
  ClientOptions options;  // allow_loopback = false
  ClientHarness harness(options);
  for (const std::string& url :
       {server.url(), "http://localhost:" + port + "/", "http://[::1]:" + port + "/",
        "http://[::ffff:127.0.0.1]:" + port + "/", "http://127.1.2.3:" + port + "/"}) {
    auto result = harness.send(get(url));
    ASSERT_FALSE(result) << url;
    EXPECT_EQ(result.error(), client_errc::blocked_address) << url;
  }
  EXPECT_EQ(server.accepts(), 0);
  options.allow_loopback = true;
  EXPECT_TRUE(fetch_blocking(options, get(server.url())));
}

TEST(HttpClient, RejectsInvalidUrls) {
  ClientHarness harness(loopback_options());
  for (const char* url :
       {"ftp://example.com/file", "http://user:secret@example.com/", "http://user@example.com/",
        "http:///path", "http://", "http:example.com", "example.com/path", "/relative", "",
        "http://exa%20mple.com/", "https://example.com:0/", "https://example.com:99999/",
        "http://[v1.fe]/"}) {
    auto result = harness.send(get(url));
    ASSERT_FALSE(result) << url;
    EXPECT_EQ(result.error(), client_errc::invalid_url) << url;
    EXPECT_TRUE(failed_before_sending(result.error())) << url;
  }
}

TEST(HttpClient, ReportsConnectFailureOnClosedPortAsFailedBeforeSending) {
  ClientRequest request = get("http://127.0.0.1:" + std::to_string(closed_port()) + "/");
  request.method = "POST";
  auto result = fetch_blocking(loopback_options(), request);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), client_errc::connect_failed);
  EXPECT_TRUE(failed_before_sending(result.error()));
}

TEST(HttpClient, ReportsResolveFailureForUnknownHost) {
  auto result = fetch_blocking(ClientOptions{}, get("http://does-not-exist.invalid/"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), client_errc::resolve_failed);
  EXPECT_TRUE(failed_before_sending(result.error()));
}

TEST(HttpClient, CountsCallsPerAdapterOperationAndOutcome) {
  TestServer server([](const std::string&, int) { return ok(); });
  const metrics::Labels ok_labels{
      {"adapter", "stripe_test"}, {"operation", "charge"}, {"outcome", "2xx"}};
  const metrics::Labels failed_labels{
      {"adapter", "stripe_test"}, {"operation", "charge"}, {"outcome", "connect_failed"}};
  const double ok_before = metrics::value("merchgate_partner_calls_total", ok_labels);
  const double failed_before = metrics::value("merchgate_partner_calls_total", failed_labels);

  ClientRequest request = get(server.url());
  request.adapter = "stripe_test";
  request.operation = "charge";
  ASSERT_TRUE(fetch_blocking(loopback_options(), request));
  request.url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
  ASSERT_FALSE(fetch_blocking(loopback_options(), request));
  ClientRequest unlabelled = get(server.url());
  ASSERT_TRUE(fetch_blocking(loopback_options(), unlabelled));

  EXPECT_EQ(metrics::value("merchgate_partner_calls_total", ok_labels), ok_before + 1);
  EXPECT_EQ(metrics::value("merchgate_partner_calls_total", failed_labels), failed_before + 1);
  EXPECT_EQ(metrics::value("merchgate_partner_calls_total",
                           {{"adapter", ""}, {"operation", ""}, {"outcome", "2xx"}}),
            0);
}

TEST(HttpClient, ServesConcurrentCallersFromSeveralThreads) {
  TestServer server([](const std::string&, int) { return ok_keep_alive("pong"); });
  asio::io_context io;
  HttpClient client(io, loopback_options());
  std::atomic<int> succeeded{0};
  constexpr int kCalls = 24;
  for (int i = 0; i < kCalls; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          for (int round = 0; round < 3; ++round) {
            auto result = co_await client.async_send(get(server.url()));
            if (result && result->body == "pong") ++succeeded;
          }
        },
        asio::detached);
  }
  std::thread second([&io] { io.run(); });
  io.run();
  second.join();
  EXPECT_EQ(succeeded.load(), kCalls * 3);
  EXPECT_LE(server.accepts(), kCalls);
  EXPECT_EQ(server.requests().size(), static_cast<std::size_t>(kCalls * 3));
}

TEST(HttpClientErrors, CategoryNamesAndDescribesEveryValue) {
  EXPECT_STREQ(client_category().name(), "merchgate.http_client");
  std::vector<std::string> messages;
  for (int v = static_cast<int>(client_errc::invalid_url);
       v <= static_cast<int>(client_errc::protocol_error); ++v) {
    const auto ec = make_error_code(static_cast<client_errc>(v));
    EXPECT_EQ(&ec.category(), &client_category());
    EXPECT_FALSE(ec.message().empty()) << v;
    EXPECT_EQ(std::count(messages.begin(), messages.end(), ec.message()), 0) << ec.message();
    messages.push_back(ec.message());
  }
  EXPECT_EQ(messages.size(), 12u);
}

TEST(HttpClientErrors, FailedBeforeSendingOnlyForFailuresBeforeAnyRequestByte) {
  for (auto e :
       {client_errc::invalid_url, client_errc::blocked_address, client_errc::resolve_failed,
        client_errc::connect_failed, client_errc::connect_timeout, client_errc::tls_failed}) {
    EXPECT_TRUE(failed_before_sending(e)) << make_error_code(e).message();
  }
  for (auto e : {client_errc::write_failed, client_errc::read_timeout, client_errc::total_timeout,
                 client_errc::connection_closed, client_errc::response_too_large,
                 client_errc::protocol_error}) {
    EXPECT_FALSE(failed_before_sending(e)) << make_error_code(e).message();
  }
  EXPECT_FALSE(failed_before_sending(boost::system::error_code{}));
  EXPECT_FALSE(failed_before_sending(boost::system::error_code(
      static_cast<int>(client_errc::invalid_url), boost::system::generic_category())));
}

// A CA and a certificate for DNS:localhost made with the openssl CLI, once per test run.
class HttpClientTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("mg-client-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    const std::string d = dir_.string();
    std::ofstream(dir_ / "server.ext") << "basicConstraints=CA:FALSE\n"
                                          "keyUsage=digitalSignature\n"
                                          "extendedKeyUsage=serverAuth\n"
                                          "subjectAltName=DNS:localhost\n";
    const std::string commands =
        "cd '" + d + "' && " +
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout ca.key -out ca.pem -days 2 -subj /CN=merchgate-test-ca "
        "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign "
        ">/dev/null 2>&1 && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout server.key -out server.csr -subj /CN=localhost >/dev/null 2>&1 && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out server.pem -days 2 -extfile server.ext >/dev/null 2>&1";
    ASSERT_EQ(std::system(commands.c_str()), 0) << "openssl CLI failed";
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(dir_ / "server.pem"));
    server_ctx_.use_certificate_chain_file((dir_ / "server.pem").string());
    server_ctx_.use_private_key_file((dir_ / "server.key").string(), ssl::context::pem);
    static const unsigned char kSessionContext[] = "mg-test";
    SSL_CTX_set_session_id_context(server_ctx_.native_handle(), kSessionContext,
                                   sizeof kSessionContext - 1);
  }

  ClientOptions trusting_options() const {
    auto options = loopback_options();
    options.ca_file = (dir_ / "ca.pem").string();
    return options;
  }

  static std::string https_url(const TestServer& server, std::string_view host = "localhost") {
    return "https://" + std::string(host) + ":" + std::to_string(server.port()) + "/";
  }

  static inline std::filesystem::path dir_;
  ssl::context server_ctx_{ssl::context::tls_server};
};

TEST_F(HttpClientTls, SucceedsWhenCaFileTrustsTheServerAndSendsSni) {
  TestServer server([](const std::string&, int) { return ok("secure"); }, &server_ctx_);
  auto result = fetch_blocking(trusting_options(), get(https_url(server)));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->body, "secure");
  EXPECT_EQ(server.server_names(), std::vector<std::string>{"localhost"});
}

TEST_F(HttpClientTls, FailsVerificationWithDefaultVerifyPaths) {
  TestServer server([](const std::string&, int) { return ok(); }, &server_ctx_);
  auto result = fetch_blocking(loopback_options(), get(https_url(server)));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), client_errc::tls_failed);
  EXPECT_TRUE(failed_before_sending(result.error()));
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(HttpClientTls, RejectsCertificateIssuedForAnotherHostName) {
  TestServer server([](const std::string&, int) { return ok(); }, &server_ctx_);
  // Trusted CA, but the certificate names localhost only, not the IP address.
  auto result = fetch_blocking(trusting_options(), get(https_url(server, "127.0.0.1")));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), client_errc::tls_failed);
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(HttpClientTls, ResumesTlsSessionOnTheNextConnection) {
  TestServer server([](const std::string&, int) { return ok(); }, &server_ctx_);
  ClientHarness harness(trusting_options());
  ASSERT_TRUE(harness.send(get(https_url(server))));
  ASSERT_TRUE(harness.send(get(https_url(server))));
  EXPECT_EQ(server.accepts(), 2);
  EXPECT_EQ(server.sessions_reused(), (std::vector<bool>{false, true}));
}

TEST_F(HttpClientTls, ReusesKeepAliveTlsConnection) {
  TestServer server([](const std::string&, int) { return ok_keep_alive(); }, &server_ctx_);
  ClientHarness harness(trusting_options());
  ASSERT_TRUE(harness.send(get(https_url(server))));
  ASSERT_TRUE(harness.send(get(https_url(server))));
  EXPECT_EQ(server.accepts(), 1);
  EXPECT_EQ(server.requests().size(), 2u);
}

}  // namespace
}  // namespace mg::http
