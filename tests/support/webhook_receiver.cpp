#include "tests/support/webhook_receiver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace mg::testing {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Reads one HTTP/1.1 request (headers + Content-Length body) from `fd`; false when it closed.
bool read_request(int fd, std::map<std::string, std::string>& headers, std::string& body) {
  std::string data;
  char buf[4096];
  std::size_t header_end = std::string::npos;
  while (header_end == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return false;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    data.append(buf, static_cast<std::size_t>(n));
    header_end = data.find("\r\n\r\n");
  }
  std::size_t pos = data.find("\r\n") + 2;
  while (pos < header_end) {
    std::size_t eol = data.find("\r\n", pos);
    std::string line = data.substr(pos, eol - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      headers[lower(line.substr(0, colon))] = value;
    }
    pos = eol + 2;
  }
  std::size_t length = headers.count("content-length") ? std::stoul(headers["content-length"]) : 0;
  body = data.substr(header_end + 4);
  while (body.size() < length) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return false;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    body.append(buf, static_cast<std::size_t>(n));
  }
  body.resize(length);
  return true;
}

}  // namespace

WebhookReceiver::WebhookReceiver() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listen_fd_, 64);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

WebhookReceiver::~WebhookReceiver() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  if (thread_.joinable()) thread_.join();
  for (auto& w : workers_)
    if (w.joinable()) w.join();
}

std::string WebhookReceiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void WebhookReceiver::set_default(Reply r) {
  std::lock_guard lock(mutex_);
  default_ = r;
}

void WebhookReceiver::queue(std::vector<Reply> replies) {
  std::lock_guard lock(mutex_);
  for (auto& r : replies) queued_.push_back(r);
}

std::vector<Received> WebhookReceiver::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

std::size_t WebhookReceiver::count() const {
  std::lock_guard lock(mutex_);
  return received_.size();
}

bool WebhookReceiver::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (count() >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return count() >= n;
}

void WebhookReceiver::serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    workers_.emplace_back([this, fd] { handle(fd); });
  }
}

void WebhookReceiver::handle(int fd) {
  for (;;) {
    std::map<std::string, std::string> headers;
    std::string body;
    if (!read_request(fd, headers, body)) break;
    Reply reply;
    {
      std::lock_guard lock(mutex_);
      received_.push_back({headers["webhook-id"], headers["webhook-timestamp"],
                           headers["webhook-signature"], headers["content-type"], body,
                           std::chrono::steady_clock::now()});
      if (!queued_.empty()) {
        reply = queued_.front();
        queued_.pop_front();
      } else {
        reply = default_;
      }
    }
    if (reply.mode == Mode::close) break;
    if (reply.mode == Mode::hang) {
      // Never answers; the sender's timeout ends it (bounded here so the test ends too).
      for (int i = 0; i < 300 && !stop_; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      break;
    }
    std::string text = "ok";
    std::string response = "HTTP/1.1 " + std::to_string(reply.status) +
                           " X\r\nContent-Length: " + std::to_string(text.size()) +
                           "\r\nContent-Type: text/plain\r\n\r\n" + text;
    if (::write(fd, response.data(), response.size()) < 0) break;
  }
  ::close(fd);
}

}  // namespace mg::testing
