#pragma once
// A webhook receiver for tests on 127.0.0.1 (port 0) that answers each delivery as told: a
// status code, a hang (never answers), or closing the connection without a reply. It records
// every request it read: Standard Webhooks headers, body, arrival time.
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mg::testing {

struct Received {
  std::string webhook_id;
  std::string webhook_timestamp;
  std::string webhook_signature;
  std::string content_type;
  std::string body;
  std::chrono::steady_clock::time_point at;
};

class WebhookReceiver {
 public:
  enum class Mode { answer, hang, close };
  struct Reply {
    Mode mode = Mode::answer;
    int status = 200;
  };

  WebhookReceiver();
  ~WebhookReceiver();

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/hooks") const;

  // How to answer from now on (after any queued one-off replies).
  void set_default(Reply r);
  // Answers the next requests like this, in order, then falls back to the default.
  void queue(std::vector<Reply> replies);

  std::vector<Received> received() const;
  std::size_t count() const;
  // Waits until at least `n` requests arrived (bounded); false on timeout.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  void serve();
  void handle(int fd);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> workers_;
  mutable std::mutex mutex_;
  std::deque<Reply> queued_;
  Reply default_;
  std::vector<Received> received_;
};

}  // namespace mg::testing
