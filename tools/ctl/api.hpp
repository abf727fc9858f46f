#pragma once
// merchgatectl's connection to the admin API: one blocking request per call, the admin key as a
// bearer token, and every failure turned into an exit code scripts can trust.
#include <boost/json/value.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mg::ctl {

// The documented exit codes (README "merchgatectl").
enum Exit : int {
  kOk = 0,
  kRefused = 1,      // the API refused the request (4xx), or a check failed (adapters test)
  kUsage = 2,        // bad command line, unreadable file, invalid JSON given
  kUnavailable = 3,  // gateway unreachable, TLS failure, timeout, or a 5xx
};

// Ends the command with `code`; main prints `message` on stderr (and `body`, the API's error
// JSON, on stdout under --json).
struct Failure : std::runtime_error {
  Failure(int code, std::string message, std::string body = {})
      : std::runtime_error(std::move(message)), code(code), body(std::move(body)) {}
  int code;
  std::string body;
};

struct Connection {
  std::string url;  // http(s)://host:port, no path
  std::string admin_key;
  std::string ca_file;
  bool insecure = false;
  int timeout_s = 30;
};

using Query = std::vector<std::pair<std::string, std::string>>;

class Api {
 public:
  explicit Api(Connection connection);

  // Sends one request and returns the parsed JSON body of a 2xx; throws Failure otherwise.
  boost::json::value call(std::string_view method, const std::string& path, const Query& query = {},
                          const boost::json::value* body = nullptr);
  // GET of a list endpoint; with `all`, follows has_more and returns every item in one list.
  boost::json::value list(const std::string& path, Query query, bool all);
  // The HTTP status of the last reply (201 tells a PUT that created from one that replaced).
  int last_status() const { return last_status_; }

 private:
  Connection c_;
  int last_status_ = 0;
};

// One path segment, percent-encoded (ids come from the command line).
std::string seg(std::string_view id);

}  // namespace mg::ctl
