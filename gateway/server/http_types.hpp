#pragma once
// Plain request/response types: everything past the listener sees these, never Beast.
#include "gateway/core/error.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mg::http {

struct Header {
  std::string name;  // lower case
  std::string value;
};

struct Request {
  std::string method;                                      // upper case: "GET", "POST"
  std::string target;                                      // as received: path and query
  std::string path;                                        // percent-decoded path, no query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<Header> headers;                             // names lower case, in order
  std::string body;
  std::string remote_address;  // "ip:port" of the peer, or "in-process"
  bool tls = false;
  std::string request_id;  // set by the gateway middleware

  // The first header with this (lower-case) name, or empty.
  std::string_view header(std::string_view lower_name) const noexcept;
  bool has_header(std::string_view lower_name) const noexcept;
  std::optional<std::string_view> query_param(std::string_view name) const noexcept;
};

struct Response {
  int status = 200;
  std::vector<Header> headers;  // Content-Type goes here like any other header
  std::string body;

  Response& set_header(std::string_view lower_name, std::string value);
  std::string_view header(std::string_view lower_name) const noexcept;
};

// The CONTRACT §2 error body: {"error": {"type", "code", "message", "param"?}}.
std::string error_body(const Error& error);
// A JSON response carrying `error` with its status.
Response error_response(const Error& error);

// Splits a request target into the decoded path and query pairs; false when it is not a valid
// origin-form target (must start with '/', valid percent escapes).
bool parse_target(std::string_view target, std::string& path,
                  std::vector<std::pair<std::string, std::string>>& query);

}  // namespace mg::http
