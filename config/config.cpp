#include "config/config.hpp"

#include "gateway/core/crypto.hpp"
#include "gateway/log/log.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/json/parse.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mg::config {
namespace bj = boost::json;
namespace {

class Reader {
 public:
  explicit Reader(std::vector<std::string>& problems) : problems_(problems) {}

  void problem(const std::string& key, const std::string& message) {
    problems_.push_back(key + ": " + message);
  }

  void only(const bj::object& o, std::initializer_list<std::string_view> allowed,
            const std::string& prefix) {
    for (const auto& kv : o) {
      bool ok = false;
      for (auto a : allowed) ok = ok || a == kv.key();
      if (!ok) {
        std::string known;
        for (auto a : allowed) {
          if (!known.empty()) known += ", ";
          known += a;
        }
        problem(prefix + std::string(kv.key()), "unknown key (known: " + known + ")");
      }
    }
  }

  const bj::object* object(const bj::object& o, std::string_view key, const std::string& prefix) {
    const auto* v = o.if_contains(key);
    if (!v) return nullptr;
    if (!v->is_object()) {
      problem(prefix + std::string(key), "must be an object");
      return nullptr;
    }
    return &v->as_object();
  }

  void string(const bj::object& o, std::string_view key, const std::string& prefix,
              std::string& out) {
    const auto* v = o.if_contains(key);
    if (!v) return;
    if (!v->is_string()) {
      problem(prefix + std::string(key), "must be a string");
      return;
    }
    out = std::string(v->as_string());
  }

  template <class T>
  void integer(const bj::object& o, std::string_view key, const std::string& prefix, T& out,
               std::int64_t min, std::int64_t max) {
    const auto* v = o.if_contains(key);
    if (!v) return;
    if (!v->is_int64() || v->as_int64() < min || v->as_int64() > max) {
      problem(prefix + std::string(key),
              "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
      return;
    }
    out = static_cast<T>(v->as_int64());
  }

  void millis(const bj::object& o, std::string_view key, const std::string& prefix,
              std::chrono::milliseconds& out, std::int64_t min, std::int64_t max) {
    std::int64_t ms = out.count();
    integer(o, key, prefix, ms, min, max);
    out = std::chrono::milliseconds(ms);
  }

 private:
  std::vector<std::string>& problems_;
};

std::string read_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path + ": " + std::strerror(errno);
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool readable(const std::string& path) {
  // A directory opens like a file but cannot be read as one.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    errno = EISDIR;
    return false;
  }
  std::ifstream in(path);
  return static_cast<bool>(in);
}

}  // namespace

bool parse_listen(std::string_view text, std::string& host, std::uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string h(text.substr(0, colon));
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  boost::system::error_code ec;
  boost::asio::ip::make_address(h, ec);
  if (ec) return false;
  std::string p(text.substr(colon + 1));
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  long n = std::stol(p);
  if (n > 65535) return false;
  host = h;
  port = static_cast<std::uint16_t>(n);
  return true;
}

Loaded load(const std::string& path, const Env& env) {
  Loaded out;
  Config& c = out.config;
  Reader r(out.problems);

  std::string error;
  std::string text = read_file(path, error);
  if (!error.empty()) {
    out.problems.push_back("config: " + error);
    return out;
  }
  boost::system::error_code ec;
  bj::parse_options options;
  options.max_depth = 64;
  bj::value v = bj::parse(text, ec, {}, options);
  if (ec) {
    out.problems.push_back("config: " + path + " is not valid JSON: " + ec.message());
    return out;
  }
  if (!v.is_object()) {
    out.problems.push_back("config: " + path + " must hold a JSON object");
    return out;
  }
  const bj::object& root = v.as_object();
  r.only(root,
         {"listen", "public_url", "tls", "storage", "data_dir", "log", "threads", "limits", "jobs",
          "reconciler", "outbound", "webhooks", "rate_limit", "seed", "$comment"},
         "");

  std::string listen;
  r.string(root, "listen", "", listen);
  if (!listen.empty() && !parse_listen(listen, c.listen_host, c.listen_port)) {
    r.problem("listen",
              "'" + listen + "' is not host:port with an IP address (e.g. 127.0.0.1:8443)");
  }
  r.string(root, "public_url", "", c.public_url);
  if (const auto* tls = r.object(root, "tls", "")) {
    r.only(*tls, {"cert", "key"}, "tls.");
    r.string(*tls, "cert", "tls.", c.tls_cert);
    r.string(*tls, "key", "tls.", c.tls_key);
  }
  if (const auto* s = r.object(root, "storage", "")) {
    r.only(*s, {"url", "sync", "readers"}, "storage.");
    r.string(*s, "url", "storage.", c.storage.url);
    r.string(*s, "sync", "storage.", c.storage.sync);
    r.integer(*s, "readers", "storage.", c.storage.readers, 1, 16);
  }
  r.string(root, "data_dir", "", c.data_dir);
  if (const auto* l = r.object(root, "log", "")) {
    r.only(*l, {"format", "level"}, "log.");
    r.string(*l, "format", "log.", c.log_format);
    r.string(*l, "level", "log.", c.log_level);
  }
  r.integer(root, "threads", "", c.threads, 0, 64);
  if (const auto* l = r.object(root, "limits", "")) {
    r.only(*l,
           {"header_bytes", "body_bytes", "read_timeout_ms", "idle_timeout_ms", "drain_timeout_ms"},
           "limits.");
    r.integer(*l, "header_bytes", "limits.", c.header_limit, 1024, 64 * 1024);
    r.integer(*l, "body_bytes", "limits.", c.body_limit, 1024, 1024 * 1024);
    r.millis(*l, "read_timeout_ms", "limits.", c.read_timeout, 100, 300'000);
    r.millis(*l, "idle_timeout_ms", "limits.", c.idle_timeout, 100, 3'600'000);
    r.millis(*l, "drain_timeout_ms", "limits.", c.drain_timeout, 0, 300'000);
  }
  if (const auto* j = r.object(root, "jobs", "")) {
    r.only(*j, {"concurrency", "poll_ms", "lease_ms"}, "jobs.");
    r.integer(*j, "concurrency", "jobs.", c.job_concurrency, 1, 1024);
    r.millis(*j, "poll_ms", "jobs.", c.job_poll, 10, 60'000);
    r.millis(*j, "lease_ms", "jobs.", c.job_lease, 1'000, 3'600'000);
  }
  if (const auto* rc = r.object(root, "reconciler", "")) {
    r.only(*rc, {"interval_ms", "stale_payment_after_ms", "stale_order_after_ms"}, "reconciler.");
    r.millis(*rc, "interval_ms", "reconciler.", c.reconcile_every, 100, 3'600'000);
    r.millis(*rc, "stale_payment_after_ms", "reconciler.", c.stale_payment_after, 100,
             7LL * 24 * 3600'000);
    r.millis(*rc, "stale_order_after_ms", "reconciler.", c.stale_order_after, 100,
             30LL * 24 * 3600'000);
  }
  if (const auto* o = r.object(root, "outbound", "")) {
    r.only(*o, {"ca_file", "connect_timeout_ms", "total_timeout_ms"}, "outbound.");
    r.string(*o, "ca_file", "outbound.", c.outbound_ca_file);
    r.millis(*o, "connect_timeout_ms", "outbound.", c.outbound_connect_timeout, 100, 60'000);
    r.millis(*o, "total_timeout_ms", "outbound.", c.outbound_total_timeout, 100, 300'000);
  }
  if (const auto* w = r.object(root, "webhooks", "")) {
    r.only(*w,
           {"retry_schedule_ms", "min_retry_window_ms", "timeout_ms", "per_endpoint",
            "allow_private_networks"},
           "webhooks.");
    if (const auto* s = w->if_contains("retry_schedule_ms")) {
      bool ok = s->is_array() && !s->as_array().empty() && s->as_array().size() <= 30;
      if (ok) {
        for (const auto& v : s->as_array()) {
          ok = ok && v.is_int64() && v.as_int64() >= 1 && v.as_int64() <= 7LL * 24 * 3600'000;
          if (ok) c.webhook_retry_schedule.emplace_back(v.as_int64());
        }
      }
      if (!ok) {
        c.webhook_retry_schedule.clear();
        r.problem("webhooks.retry_schedule_ms",
                  "must be a list of 1 to 30 waits in milliseconds (1 ms to 7 days each)");
      }
    }
    r.millis(*w, "min_retry_window_ms", "webhooks.", c.webhook_min_retry_window, 0,
             30LL * 24 * 3600'000);
    r.millis(*w, "timeout_ms", "webhooks.", c.webhook_timeout, 100, 60'000);
    r.integer(*w, "per_endpoint", "webhooks.", c.webhook_per_endpoint, 1, 64);
    if (const auto* v = w->if_contains("allow_private_networks")) {
      if (v->is_bool()) {
        c.webhook_allow_private_networks = v->as_bool();
      } else {
        r.problem("webhooks.allow_private_networks", "must be true or false");
      }
    }
  }
  if (const auto* rl = r.object(root, "rate_limit", "")) {
    r.only(*rl, {"per_second", "burst"}, "rate_limit.");
    r.integer(*rl, "per_second", "rate_limit.", c.rate_limit_per_second, 0, 1'000'000);
    r.integer(*rl, "burst", "rate_limit.", c.rate_limit_burst, 1, 1'000'000);
  }
  if (const auto* seed = r.object(root, "seed", "")) {
    r.only(*seed, {"adapters", "sellers", "products", "routing", "webhook_endpoints"}, "seed.");
    c.seed = *seed;
    for (std::string_view list : {"adapters", "sellers", "products", "webhook_endpoints"}) {
      const auto* items = seed->if_contains(list);
      if (!items) continue;
      if (!items->is_array()) {
        r.problem("seed." + std::string(list), "must be an array");
        continue;
      }
      std::string id_key = list == "products" ? "sku" : "id";
      for (std::size_t i = 0; i < items->as_array().size(); ++i) {
        const auto& item = items->as_array()[i];
        std::string key = "seed." + std::string(list) + "[" + std::to_string(i) + "]";
        if (!item.is_object() || !item.as_object().if_contains(id_key) ||
            !item.as_object().at(id_key).is_string()) {
          r.problem(key, "must be an object with a string '" + id_key + "'");
        }
      }
    }
  }

  // The environment wins over the file.
  if (const char* e = env("MERCHGATE_LISTEN"); e && *e) {
    if (!parse_listen(e, c.listen_host, c.listen_port)) {
      r.problem("MERCHGATE_LISTEN", std::string("'") + e + "' is not host:port with an IP address");
    }
  }
  if (const char* e = env("MERCHGATE_TLS_CERT"); e && *e) c.tls_cert = e;
  if (const char* e = env("MERCHGATE_TLS_KEY"); e && *e) c.tls_key = e;
  if (const char* e = env("MERCHGATE_DB"); e && *e) c.storage.url = e;
  if (const char* e = env("MERCHGATE_PUBLIC_URL"); e && *e) c.public_url = e;
  if (const char* e = env("MERCHGATE_LOG"); e && *e) c.log_format = e;
  if (const char* e = env("MERCHGATE_LOG_LEVEL"); e && *e) c.log_level = e;
  if (const char* e = env("MERCHGATE_ALLOW_LOOPBACK"); e) c.allow_loopback = std::string(e) == "1";
  if (const char* e = env("MERCHGATE_ADMIN_KEY"); e) c.admin_key = e;
  if (const char* e = env("MERCHGATE_API_KEY"); e) c.api_key = e;
  if (const char* e = env("MERCHGATE_MASTER_KEY"); e) c.master_key = e;

  if (c.log_format != "json" && c.log_format != "text") {
    r.problem("log.format", "must be 'json' or 'text' (MERCHGATE_LOG)");
  }
  log::Level level;
  if (!log::parse_level(c.log_level, level)) {
    r.problem("log.level", "must be debug, info, warn or error (MERCHGATE_LOG_LEVEL)");
  }
  if (!c.storage.url.starts_with("sqlite:") || c.storage.url.size() <= 7) {
    r.problem("storage.url",
              "'" + c.storage.url + "' is not supported: use sqlite:PATH (MERCHGATE_DB)");
  }
  if (c.storage.sync != "normal" && c.storage.sync != "full") {
    r.problem("storage.sync", "must be 'normal' or 'full'");
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    r.problem(c.tls_cert.empty() ? "tls.cert" : "tls.key",
              "set both tls.cert and tls.key (MERCHGATE_TLS_CERT, MERCHGATE_TLS_KEY), or neither");
  }
  if (!c.tls_cert.empty() && !readable(c.tls_cert)) {
    r.problem("tls.cert", "cannot read " + c.tls_cert + ": " + std::strerror(errno));
  }
  if (!c.tls_key.empty() && !readable(c.tls_key)) {
    r.problem("tls.key", "cannot read " + c.tls_key + ": " + std::strerror(errno));
  }
  if (!c.outbound_ca_file.empty() && !readable(c.outbound_ca_file)) {
    r.problem("outbound.ca_file", "cannot read " + c.outbound_ca_file);
  }
  for (auto [name, value] :
       {std::pair<const char*, std::string*>{"MERCHGATE_ADMIN_KEY", &c.admin_key},
        {"MERCHGATE_API_KEY", &c.api_key}}) {
    if (!value->empty() && value->size() < 24) {
      r.problem(name, "must be at least 24 characters (e.g. mgk_ + 32 random characters)");
    }
  }
  // serve refuses a bad master key at start; check-config must say so first.
  if (!c.master_key.empty()) {
    auto key = core::base64_decode(c.master_key);
    if (!key || key->size() != 32) {
      r.problem("MERCHGATE_MASTER_KEY",
                "must be 32 random bytes in base64 (openssl rand -base64 32)");
    }
  }
  if (c.public_url.empty()) {
    std::string host =
        c.listen_host == "0.0.0.0" || c.listen_host == "::" ? "localhost" : c.listen_host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    c.public_url = std::string(c.tls_cert.empty() ? "http" : "https") + "://" + host + ":" +
                   std::to_string(c.listen_port);
  }
  while (c.public_url.ends_with('/')) c.public_url.pop_back();
  if (c.data_dir.empty() && c.storage.url.starts_with("sqlite:")) {
    std::filesystem::path db(c.storage.url.substr(7));
    c.data_dir = db.has_parent_path() ? db.parent_path().string() : ".";
  }
  return out;
}

}  // namespace mg::config
