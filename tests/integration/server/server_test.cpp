// The listener on real loopback sockets: bytes on the wire, limits, timeouts, drain and TLS.
#include "gateway/server/server.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using mg::http::Request;
using mg::http::Response;
using mg::http::Server;
using mg::http::ServerOptions;
using namespace std::chrono_literals;

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Takes one complete response off the front of `buffer`, if there is one.
std::optional<RawResponse> take_response(std::string& buffer) {
  auto end = buffer.find("\r\n\r\n");
  if (end == std::string::npos) return std::nullopt;
  RawResponse r;
  std::string head = buffer.substr(0, end);
  auto line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) return std::nullopt;
  r.status = std::stoi(status_line.substr(9, 3));
  std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    auto next = head.find("\r\n", pos);
    if (next == std::string::npos) next = head.size();
    std::string line = head.substr(pos, next - pos);
    auto colon = line.find(':');
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    r.headers[lower(line.substr(0, colon))] = value;
    pos = next + 2;
  }
  std::size_t length = 0;
  if (auto cl = r.headers.find("content-length"); cl != r.headers.end())
    length = std::stoul(cl->second);
  if (buffer.size() < end + 4 + length) return std::nullopt;
  r.body = buffer.substr(end + 4, length);
  buffer.erase(0, end + 4 + length);
  return r;
}

// A client on its own io_context; every operation is bounded by a timeout so a broken server
// fails the test instead of hanging it.
template <class Stream>
class BasicClient {
 public:
  template <class... Args>
  explicit BasicClient(Args&&... args) : stream_(io_, std::forward<Args>(args)...) {}

  error_code connect(std::uint16_t port) {
    error_code ec;
    stream_.lowest_layer().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    return ec;
  }

  error_code handshake() {
    return run([&](auto done) { stream_.async_handshake(ssl::stream_base::client, done); }, 3s);
  }

  error_code write(const std::string& data, std::chrono::milliseconds timeout = 3s) {
    return run(
        [&](auto done) {
          asio::async_write(stream_, asio::buffer(data),
                            [done](error_code ec, std::size_t) { done(ec); });
        },
        timeout);
  }

  // One read; appends to buffer(). asio::error::timed_out when nothing arrived in time.
  error_code read_some(std::chrono::milliseconds timeout) {
    std::size_t n = 0;
    auto ec = run(
        [&](auto done) {
          stream_.async_read_some(asio::buffer(chunk_), [&n, done](error_code ec, std::size_t k) {
            n = k;
            done(ec);
          });
        },
        timeout);
    buffer_.append(chunk_.data(), n);
    return ec;
  }

  std::optional<RawResponse> read_response(std::chrono::milliseconds timeout = 3s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto r = take_response(buffer_)) return r;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms || read_some(left)) return std::nullopt;
    }
  }

  // True when the server closed (or reset) the connection within `timeout`; then closes our end.
  bool wait_closed(std::chrono::milliseconds timeout = 3s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      auto ec = read_some(left);
      if (ec == asio::error::timed_out) return false;
      if (ec) {
        stream_.lowest_layer().close(ec);
        return true;
      }
    }
  }

  std::string& buffer() { return buffer_; }

 private:
  template <class Start>
  error_code run(Start start, std::chrono::milliseconds timeout) {
    std::optional<error_code> result;
    start([&result](error_code ec) { result = ec; });
    io_.restart();
    io_.run_for(timeout);
    if (!result) {
      error_code ignored;
      stream_.lowest_layer().cancel(ignored);
      io_.restart();
      io_.run();
      return asio::error::timed_out;
    }
    return *result;
  }

  asio::io_context io_;
  Stream stream_;
  std::array<char, 64 * 1024> chunk_{};
  std::string buffer_;
};

using Client = BasicClient<tcp::socket>;
using TlsClient = BasicClient<ssl::stream<tcp::socket>>;

std::string get(const std::string& target, const std::string& extra_headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers + "\r\n";
}

boost::json::object error_of(const RawResponse& r) {
  return boost::json::parse(r.body).as_object().at("error").as_object();
}

ServerOptions test_options() {
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  return o;
}

template <class Predicate>
bool eventually(Predicate p, std::chrono::milliseconds timeout = 3s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (p()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return p();
}

// Run twice: connections on strands of the caller's io_context, and on the server's own
// single-threaded contexts (io_threads = 2, as the gateway runs it).
class ServerTest : public ::testing::TestWithParam<unsigned> {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/mg-server-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
        "-subj /CN=localhost -keyout " +
        key_file() + " -out " + cert_file() +
        " >/dev/null 2>&1 && openssl genpkey -algorithm EC -pkeyopt "
        "ec_paramgen_curve:P-256 -out " +
        other_key_file() + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  static std::string cert_file() { return dir_ + "/cert.pem"; }
  static std::string key_file() { return dir_ + "/key.pem"; }
  static std::string other_key_file() { return dir_ + "/other-key.pem"; }

  void TearDown() override {
    server_.reset();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  // A handler that records what it saw and answers 200 with the decoded path.
  mg::http::Handler recording_handler() {
    return [this](Request& r) -> asio::awaitable<Response> {
      {
        std::lock_guard lock(mutex_);
        seen_.push_back(r);
      }
      Response res;
      res.set_header("content-type", "text/plain");
      res.body = "hello " + r.path;
      co_return res;
    };
  }

  std::vector<Request> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

  Server& start(ServerOptions options, mg::http::Handler handler) {
    options.io_threads = GetParam();
    server_ = std::make_unique<Server>(io_, std::move(options), std::move(handler));
    auto listening = server_->listen();
    EXPECT_TRUE(listening) << (listening ? "" : listening.error().message);
    server_->start();
    // Two I/O threads, as in production, so the per-connection strands matter.
    while (threads_.size() < 2) threads_.emplace_back([this] { io_.run(); });
    return *server_;
  }

  Server& start(ServerOptions options = test_options()) {
    return start(std::move(options), recording_handler());
  }

  static inline std::string dir_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::unique_ptr<Server> server_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::vector<Request> seen_;
};

TEST_P(ServerTest, RoundTripsSimpleGet) {
  auto& server = start();
  Client c;
  ASSERT_FALSE(c.connect(server.port()));
  ASSERT_FALSE(c.write(get("/a%20b/c?x=1&y=two%21", "X-Custom-Thing: Hi\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello /a b/c");
  EXPECT_EQ(r->header("content-length"), "12");
  EXPECT_EQ(r->header("content-type"), "text/plain");
  EXPECT_EQ(r->header("server"), "merchgate");
  auto seen = this->seen();
  ASSERT_EQ(seen.size(), 1u);
  const auto& req = seen[0];
  EXPECT_EQ(r->header("request-id"), req.request_id);
  EXPECT_EQ(req.request_id.rfind("req_", 0), 0u) << req.request_id;
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/a%20b/c?x=1&y=two%21");
  EXPECT_EQ(req.path, "/a b/c");
  ASSERT_EQ(req.query.size(), 2u);
  EXPECT_EQ(req.query[0], (std::pair<std::string, std::string>{"x", "1"}));
  EXPECT_EQ(req.query[1], (std::pair<std::string, std::string>{"y", "two!"}));
  EXPECT_EQ(req.header("x-custom-thing"), "Hi");
  EXPECT_EQ(req.header("host"), "localhost");
  for (const auto& h : req.headers) EXPECT_EQ(h.name, lower(h.name));
  EXPECT_EQ(req.remote_address.rfind("127.0.0.1:", 0), 0u) << req.remote_address;
  EXPECT_FALSE(req.tls);
}

TEST_P(ServerTest, KeepsValidIncomingRequestIdAndReplacesInvalidOne) {
  auto& server = start();
  Client c;
  ASSERT_FALSE(c.connect(server.port()));
  ASSERT_FALSE(c.write(get("/", "X-Request-Id: abc.DEF_1-2\r\n")));
  auto good = c.read_response();
  ASSERT_TRUE(good);
  EXPECT_EQ(good->header("request-id"), "abc.DEF_1-2");
  ASSERT_FALSE(c.write(get("/", "X-Request-Id: bad id!\r\n")));
  auto bad = c.read_response();
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->header("request-id").rfind("req_", 0), 0u) << bad->header("request-id");
  ASSERT_FALSE(c.write(get("/", "X-Request-Id: " + std::string(65, 'a') + "\r\n")));
  auto too_long = c.read_response();
  ASSERT_TRUE(too_long);
  EXPECT_EQ(too_long->header("request-id").rfind("req_", 0), 0u);
}

TEST_P(ServerTest, ServesTwoRequestsOnOneKeepAliveConnection) {
  auto& server = start();
  Client c;
  ASSERT_FALSE(c.connect(server.port()));
  ASSERT_FALSE(c.write(get("/one")));
  auto first = c.read_response();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body, "hello /one");
  EXPECT_NE(lower(first->header("connection")), "close");
  ASSERT_FALSE(c.write(get("/two")));
  auto second = c.read_response();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body, "hello /two");
  EXPECT_EQ(server.connection_count(), 1u);
  EXPECT_NE(first->header("request-id"), second->header("request-id"));
}

TEST_P(ServerTest, AnswersPipelinedRequestsInOrderAndHonoursConnectionClose) {
  auto& server = start();
  Client c;
  ASSERT_FALSE(c.connect(server.port()));
  ASSERT_FALSE(c.write(get("/one") + get("/two", "Connection: close\r\n")));
  auto first = c.read_response();
  auto second = c.read_response();
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  EXPECT_EQ(first->body, "hello /one");
  EXPECT_EQ(second->body, "hello /two");
  EXPECT_EQ(lower(second->header("connection")), "close");
  EXPECT_TRUE(c.wait_closed());
}

TEST_P(ServerTest, HandlerExceptionBecomes500WithJsonError) {
  auto& server = start(test_options(), [](Request&) -> asio::awaitable<Response> {
    throw std::runtime_error("boom");
    co_return Response{};
  });
  Client c;
  ASSERT_FALSE(c.connect(server.port()));
  ASSERT_FALSE(c.write(get("/")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->header("content-type"), "application/json");
  EXPECT_FALSE(r->header("request-id").empty());
  auto error = error_of(*r);
  EXPECT_EQ(error.at("type").as_string(), "internal");
  EXPECT_EQ(error.at("code").as_string(), "internal");
  EXPECT_EQ(error.at("message").as_string(), "internal error");
}

TEST_P(ServerTest, HandlerMayChooseItsOwnRequestIdHeader) {
  auto& server = start(test_options(), [](Request&) -> asio::awaitable<Response> {
    Response res;
    res.status = 201;
    res.set_header("request-id", "chosen");
    res.body = "{}";
    co_return res;
  });
  Client c;
  ASSERT_FALSE(c.connect(server.port()));
  ASSERT_FALSE(c.write(get("/")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->header("request-id"), "chosen");
}

TEST_P(ServerTest, RejectsBodyOverLimitWith413AndNeverCallsHandler) {
  auto& server = start();
  Client c;
  ASSERT_FALSE(c.connect(server.port()));
  std::size_t size = 1024 * 1024 + 1;
  c.write(
      "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
      "Content-Length: " +
      std::to_string(size) + "\r\n\r\n" + std::string(size, 'a'));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(lower(r->header("connection")), "close");
  auto error = error_of(*r);
  EXPECT_EQ(error.at("type").as_string(), "invalid_request");
  EXPECT_EQ(error.at("code").as_string(), "body_too_large");
  EXPECT_EQ(error.at("message").as_string(), "request body exceeds 1048576 bytes");
  EXPECT_TRUE(c.wait_closed());
  EXPECT_TRUE(seen().empty());
}

TEST_P(ServerTest, RejectsChunkedBodyOverLimitWith413) {
  auto options = test_options();
  options.body_limit = 1000;
  auto& server = start(options);
  Client c;
  ASSERT_FALSE(c.connect(server.port()));
  c.write("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n" +
          std::string(1001, 'a') + "\r\n0\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(error_of(*r).at("code").as_string(), "body_too_large");
  EXPECT_TRUE(seen().empty());
}

TEST_P(ServerTest, RefusesOversizedContentLengthBeforeReadingBody) {
  auto& server = start();
  Client c;
  ASSERT_FALSE(c.connect(server.port()));
  ASSERT_FALSE(c.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n"));
  auto r = c.read_response(2s);
  ASSERT_TRUE(r) << "no answer until the body is sent";
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(error_of(*r).at("code").as_string(), "body_too_large");
  EXPECT_TRUE(c.wait_closed());
  EXPECT_TRUE(seen().empty());
}

TEST_P(ServerTest, SendsContinueWhenClientExpectsIt) {
  auto& server = start();
  Client c;
  ASSERT_FALSE(c.connect(server.port()));
  ASSERT_FALSE(
      c.write("POST /in HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
              "Content-Length: 5\r\n\r\n"));
  auto proceed = c.read_response();
  ASSERT_TRUE(proceed);
  EXPECT_EQ(proceed->status, 100);
  ASSERT_FALSE(c.write("hello"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_EQ(seen().size(), 1u);
  EXPECT_EQ(seen()[0].body, "hello");
}

TEST_P(ServerTest, RejectsOversizedHeaderWith431) {
  auto& server = start();
  Client c;
  ASSERT_FALSE(c.connect(server.port()));
  c.write(get("/", "X-Big: " + std::string(20 * 1024, 'h') + "\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(r->header("content-type"), "application/json");
  EXPECT_EQ(error_of(*r).at("message").as_string(), "request header fields too large");
  EXPECT_TRUE(c.wait_closed());
  EXPECT_TRUE(seen().empty());
}

TEST_P(ServerTest, RejectsMalformedRequestWith400) {
  auto& server = start();
  Client c;
  ASSERT_FALSE(c.connect(server.port()));
  ASSERT_FALSE(c.write("THIS IS NOT HTTP\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  auto error = error_of(*r);
  EXPECT_EQ(error.at("type").as_string(), "invalid_request");
  EXPECT_EQ(error.at("message").as_string(), "malformed HTTP request");
  EXPECT_TRUE(c.wait_closed());
  EXPECT_TRUE(seen().empty());
}

TEST_P(ServerTest, RejectsTargetThatIsNotAPathWith400) {
  auto& server = start();
  Client c;
  ASSERT_FALSE(c.connect(server.port()));
  ASSERT_FALSE(c.write(get("/bad%zzescape")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_of(*r).at("code").as_string(), "invalid_field");
  EXPECT_TRUE(seen().empty());
}

TEST_P(ServerTest, DisconnectsSlowClientAfterReadTimeout) {
  auto options = test_options();
  options.read_timeout = 200ms;
  auto& server = start(options);
  Client c;
  ASSERT_FALSE(c.connect(server.port()));
  // One byte every 50 ms: each arrives well within any per-read timeout, but the request as a
  // whole never completes.
  std::string request = get("/slow", "X-Padding: " + std::string(200, 'p') + "\r\n");
  auto started = std::chrono::steady_clock::now();
  bool closed = false;
  for (std::size_t i = 0; i < request.size() && !closed; ++i) {
    c.write(request.substr(i, 1));
    auto ec = c.read_some(50ms);
    closed = ec && ec != asio::error::timed_out;
    if (std::chrono::steady_clock::now() - started > 3s) break;
  }
  EXPECT_TRUE(closed);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 150ms);
  EXPECT_TRUE(seen().empty());
}

TEST_P(ServerTest, ClosesIdleKeepAliveConnectionAfterIdleTimeout) {
  auto options = test_options();
  options.idle_timeout = 200ms;
  auto& server = start(options);
  Client c;
  ASSERT_FALSE(c.connect(server.port()));
  ASSERT_FALSE(c.write(get("/")));
  ASSERT_TRUE(c.read_response());
  EXPECT_TRUE(c.wait_closed(3s));
  EXPECT_TRUE(eventually([&] { return server.connection_count() == 0; }));
}

TEST_P(ServerTest, ClosesConnectionsBeyondMaxConnections) {
  auto options = test_options();
  options.max_connections = 1;
  auto& server = start(options);
  Client first;
  ASSERT_FALSE(first.connect(server.port()));
  ASSERT_FALSE(first.write(get("/")));
  ASSERT_TRUE(first.read_response());
  Client second;
  ASSERT_FALSE(second.connect(server.port()));
  second.write(get("/"));
  EXPECT_TRUE(second.wait_closed());
  EXPECT_TRUE(second.buffer().empty());
  ASSERT_FALSE(first.write(get("/")));
  EXPECT_TRUE(first.read_response());
}

TEST_P(ServerTest, DrainFinishesInFlightRequestWithConnectionClose) {
  std::atomic<bool> handler_started{false};
  auto& server = start(test_options(), [&](Request& r) -> asio::awaitable<Response> {
    Response res;
    if (r.path == "/slow") {
      handler_started = true;
      asio::steady_timer timer(co_await asio::this_coro::executor, 300ms);
      co_await timer.async_wait(asio::use_awaitable);
      res.body = "finished";
    }
    co_return res;
  });
  Client idle;
  ASSERT_FALSE(idle.connect(server.port()));
  ASSERT_FALSE(idle.write(get("/quick")));
  ASSERT_TRUE(idle.read_response());

  Client busy;
  ASSERT_FALSE(busy.connect(server.port()));
  ASSERT_FALSE(busy.write(get("/slow")));
  ASSERT_TRUE(eventually([&] { return handler_started.load(); }));
  EXPECT_EQ(server.connection_count(), 2u);

  std::atomic<int> done_calls{0};
  server.drain(5s, [&] { ++done_calls; });

  EXPECT_TRUE(idle.wait_closed(2s)) << "idle keep-alive connections close at once";
  Client late;
  if (!late.connect(server.port())) {
    late.write(get("/"));
    EXPECT_TRUE(late.wait_closed());
    EXPECT_EQ(late.buffer().find("HTTP/"), std::string::npos) << late.buffer();
  }

  auto r = busy.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "finished");
  EXPECT_EQ(lower(r->header("connection")), "close");
  EXPECT_TRUE(busy.wait_closed());

  EXPECT_TRUE(eventually([&] { return done_calls.load() == 1; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(done_calls.load(), 1);
  EXPECT_EQ(server.connection_count(), 0u);
}

TEST_P(ServerTest, DrainClosesStragglersAtDeadline) {
  std::atomic<bool> handler_started{false};
  auto& server = start(test_options(), [&](Request&) -> asio::awaitable<Response> {
    handler_started = true;
    asio::steady_timer timer(co_await asio::this_coro::executor, 2s);
    co_await timer.async_wait(asio::use_awaitable);
    co_return Response{};
  });
  Client busy;
  ASSERT_FALSE(busy.connect(server.port()));
  ASSERT_FALSE(busy.write(get("/")));
  ASSERT_TRUE(eventually([&] { return handler_started.load(); }));

  std::atomic<int> done_calls{0};
  server.drain(100ms, [&] { ++done_calls; });
  EXPECT_TRUE(eventually([&] { return done_calls.load() == 1; }, 1500ms));
  EXPECT_TRUE(busy.wait_closed(1500ms));
  EXPECT_TRUE(busy.buffer().empty());
}

TEST_P(ServerTest, DrainWithoutConnectionsCallsDoneAndRefusesConnections) {
  auto& server = start();
  auto port = server.port();
  std::atomic<int> done_calls{0};
  server.drain(5s, [&] { ++done_calls; });
  EXPECT_TRUE(eventually([&] { return done_calls.load() == 1; }));
  EXPECT_TRUE(eventually([&] {
    Client c;
    return c.connect(port) == asio::error::connection_refused;
  }));
  server.drain(5s, [&] { ++done_calls; });  // idempotent; a late caller is still told
  EXPECT_TRUE(eventually([&] { return done_calls.load() == 2; }));
}

TEST_P(ServerTest, ServesGetOverTls) {
  auto options = test_options();
  options.tls_cert_file = cert_file();
  options.tls_key_file = key_file();
  auto& server = start(options);
  ssl::context ctx(ssl::context::tls_client);
  TlsClient c(ctx);
  ASSERT_FALSE(c.connect(server.port()));
  ASSERT_FALSE(c.handshake());
  ASSERT_FALSE(c.write(get("/secure?a=b")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello /secure");
  ASSERT_FALSE(c.write(get("/again", "Connection: close\r\n")));
  ASSERT_TRUE(c.read_response());
  EXPECT_TRUE(c.wait_closed());
  auto seen = this->seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen[0].tls);
}

TEST_P(ServerTest, RefusesTls11Client) {
  auto options = test_options();
  options.tls_cert_file = cert_file();
  options.tls_key_file = key_file();
  auto& server = start(options);
  ssl::context ctx(ssl::context::tls_client);
  // Security level 0 so the client really offers TLS 1.1 and it is the server that refuses.
  SSL_CTX_set_security_level(ctx.native_handle(), 0);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_1_VERSION);
  SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_1_VERSION);
  SSL_CTX_set_cipher_list(ctx.native_handle(), "DEFAULT:@SECLEVEL=0");
  TlsClient c(ctx);
  ASSERT_FALSE(c.connect(server.port()));
  auto ec = c.handshake();
  ASSERT_TRUE(ec);
  EXPECT_NE(ec.message().find("protocol version"), std::string::npos) << ec.message();
}

TEST_P(ServerTest, PlainHttpToTlsPortFails) {
  auto options = test_options();
  options.tls_cert_file = cert_file();
  options.tls_key_file = key_file();
  auto& server = start(options);
  Client c;
  ASSERT_FALSE(c.connect(server.port()));
  c.write(get("/"));
  EXPECT_TRUE(c.wait_closed());
  EXPECT_EQ(c.buffer().find("HTTP/"), std::string::npos);
  EXPECT_TRUE(seen().empty());
}

TEST_P(ServerTest, ListenNamesMissingCertificateFile) {
  auto options = test_options();
  options.tls_cert_file = dir_ + "/missing-cert.pem";
  options.tls_key_file = key_file();
  Server server(io_, options, recording_handler());
  auto result = server.listen();
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find(options.tls_cert_file), std::string::npos)
      << result.error().message;
  EXPECT_EQ(result.error().message.find('\n'), std::string::npos);
}

TEST_P(ServerTest, ListenNamesMissingKeyFile) {
  auto options = test_options();
  options.tls_cert_file = cert_file();
  options.tls_key_file = dir_ + "/missing-key.pem";
  Server server(io_, options, recording_handler());
  auto result = server.listen();
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find(options.tls_key_file), std::string::npos)
      << result.error().message;
}

TEST_P(ServerTest, ListenRejectsKeyNotMatchingCertificate) {
  auto options = test_options();
  options.tls_cert_file = cert_file();
  options.tls_key_file = other_key_file();
  Server server(io_, options, recording_handler());
  auto result = server.listen();
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("does not match"), std::string::npos)
      << result.error().message;
}

TEST_P(ServerTest, ListenRejectsBadHostAddress) {
  auto options = test_options();
  options.host = "not-an-address";
  Server server(io_, options, recording_handler());
  auto result = server.listen();
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("not-an-address"), std::string::npos)
      << result.error().message;
}

TEST_P(ServerTest, ListenReportsPortInUse) {
  auto& first = start();
  auto options = test_options();
  options.port = first.port();
  Server second(io_, options, recording_handler());
  auto result = second.listen();
  ASSERT_FALSE(result);
  const auto& message = result.error().message;
  EXPECT_NE(message.find("127.0.0.1:" + std::to_string(first.port())), std::string::npos)
      << message;
  EXPECT_NE(message.find("in use"), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(Connections, ServerTest, ::testing::Values(0u, 2u),
                         [](const auto& info) {
                           return info.param == 0 ? std::string("OnStrands")
                                                  : std::string("OnOwnThreads");
                         });

}  // namespace
