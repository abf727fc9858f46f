#include "tools/ctl/api.hpp"

#include "adapters/http/client.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cctype>
#include <chrono>

namespace mg::ctl {
namespace bj = boost::json;

namespace {

std::string encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

const bj::object* error_of(const bj::value& v) {
  if (!v.is_object()) return nullptr;
  const auto* e = v.as_object().if_contains("error");
  return e && e->is_object() ? &e->as_object() : nullptr;
}

std::string field(const bj::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

std::string seg(std::string_view id) { return encode(id); }

Api::Api(Connection connection) : c_(std::move(connection)) {
  while (!c_.url.empty() && c_.url.back() == '/') c_.url.pop_back();
  if (!c_.url.starts_with("http://") && !c_.url.starts_with("https://")) {
    throw Failure(kUsage, "the gateway URL must start with http:// or https:// (got '" + c_.url +
                              "'); set MERCHGATE_URL or --url");
  }
  if (c_.admin_key.empty()) {
    throw Failure(kUsage, "no admin key: set MERCHGATE_ADMIN_KEY or pass --admin-key");
  }
}

bj::value Api::call(std::string_view method, const std::string& path, const Query& query,
                    const bj::value* body) {
  http::ClientOptions options;
  options.user_agent = "merchgatectl/0.1";
  // The admin points the CLI at their own gateway: the SSRF guard is for partner calls.
  options.allow_loopback = true;
  options.allow_private_networks = true;
  options.ca_file = c_.ca_file;
  options.verify_tls = !c_.insecure;
  options.total_timeout = std::chrono::seconds(c_.timeout_s);
  options.read_timeout = std::chrono::seconds(c_.timeout_s);
  options.max_retries = 0;

  http::ClientRequest req;
  req.method = std::string(method);
  req.url = c_.url + path;
  for (std::size_t i = 0; i < query.size(); ++i) {
    req.url += (i == 0 ? '?' : '&') + encode(query[i].first) + '=' + encode(query[i].second);
  }
  req.headers.push_back({"authorization", "Bearer " + c_.admin_key});
  req.headers.push_back({"accept", "application/json"});
  if (body) {
    req.headers.push_back({"content-type", "application/json"});
    req.body = bj::serialize(*body);
  }
  http::ClientResult r = [&] {
    try {
      return http::fetch_blocking(options, req);
    } catch (const std::exception& e) {
      // A CA file that cannot be read fails when the client is made.
      throw Failure(kUsage, std::string("cannot set up TLS: ") + e.what() +
                                (c_.ca_file.empty() ? "" : " (CA file '" + c_.ca_file + "')"));
    }
  }();
  last_status_ = 0;
  if (!r) {
    std::string hint;
    if (r.error() == http::client_errc::tls_failed) {
      hint = c_.url.starts_with("https://")
                 ? "; if the gateway uses its own certificate, pass --cacert FILE "
                   "(or MERCHGATE_CACERT)"
                 : "";
    }
    throw Failure(kUnavailable, "cannot reach " + c_.url + ": " + r.error().message() + hint);
  }
  last_status_ = r->status;
  bj::value doc;
  if (!r->body.empty()) {
    boost::system::error_code ec;
    doc = bj::parse(r->body, ec);
    if (ec) doc = nullptr;
  }
  if (r->status >= 200 && r->status < 300) return doc;

  int code = r->status >= 500 ? kUnavailable : kRefused;
  std::string message;
  if (const auto* e = error_of(doc)) {
    message = field(*e, "message");
    std::string param = field(*e, "param");
    if (!param.empty()) message += " (param: " + param + ")";
    message +=
        " [" + std::to_string(r->status) + " " + field(*e, "type") + "/" + field(*e, "code") + "]";
    if (r->status == 429) {
      std::string_view after = r->header("retry-after");
      if (!after.empty()) message += "; retry after " + std::string(after) + " s";
    }
  } else {
    message =
        "HTTP " + std::to_string(r->status) + " from " + req.method + " " + path +
        (r->status == 404 ? ": this gateway does not serve that endpoint (older version?)" : "");
  }
  throw Failure(code, message, doc.is_null() ? std::string() : bj::serialize(doc));
}

bj::value Api::list(const std::string& path, Query query, bool all) {
  bj::value first = call("GET", path, query);
  if (!all) return first;
  bj::array items;
  bj::value page = std::move(first);
  while (true) {
    auto& o = page.as_object();
    auto& data = o["data"].as_array();
    for (auto& item : data) items.push_back(std::move(item));
    const auto* more = o.if_contains("has_more");
    if (!more || !more->is_bool() || !more->as_bool() || items.empty()) break;
    const auto& last = items.back().as_object();
    const auto* id = last.if_contains("id");
    if (!id) id = last.if_contains("sku");
    if (!id || !id->is_string()) break;
    Query next = query;
    std::erase_if(next, [](const auto& kv) { return kv.first == "starting_after"; });
    next.emplace_back("starting_after", std::string(id->as_string()));
    page = call("GET", path, next);
  }
  return bj::object{{"object", "list"}, {"data", std::move(items)}, {"has_more", false}};
}

}  // namespace mg::ctl
