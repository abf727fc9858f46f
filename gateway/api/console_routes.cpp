// GET /admin/: the web console, static files embedded in the binary. It runs in the browser and
// speaks only the admin API, so these routes are open: the files hold no data and no secret.
#include "console/assets.hpp"
#include "gateway/api/app.hpp"

namespace mg::api {

namespace {

// No inline script or style, no third-party origin, no framing: a script injected through data
// shown in the console cannot run, and the admin key it holds cannot be sent elsewhere.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

http::Response asset_response(const http::Request& req, const console::Asset& asset) {
  http::Response r;
  r.set_header("content-security-policy", kContentSecurityPolicy);
  r.set_header("x-frame-options", "DENY");
  r.set_header("referrer-policy", "no-referrer");
  // Revalidate every time (the files change with the binary); the ETag makes that a 304.
  r.set_header("cache-control", "no-cache");
  r.set_header("etag", std::string(asset.etag));
  r.set_header("content-type", std::string(asset.content_type));
  if (req.header("if-none-match") == asset.etag) {
    r.status = 304;
    return r;
  }
  r.body = std::string(asset.body);
  return r;
}

http::Response not_found() {
  http::Response r;
  r.status = 404;
  r.set_header("content-type", "text/plain; charset=utf-8");
  r.set_header("content-security-policy", kContentSecurityPolicy);
  r.body = "Not found.\n";
  return r;
}

}  // namespace

void App::add_console_routes() {
  // "/admin" and "/admin/" both land here; relative links need the slash.
  router_.add("GET", "/admin", Access::open, [](Ctx& ctx) -> Task<http::Response> {
    if (!ctx.req.path.ends_with("/")) {
      http::Response r;
      r.status = 301;
      r.set_header("location", "/admin/");
      r.set_header("content-type", "text/plain; charset=utf-8");
      co_return r;
    }
    const auto* index = console::find_asset("index.html");
    co_return index ? asset_response(ctx.req, *index) : not_found();
  });
  router_.add("GET", "/admin/*", Access::open, [](Ctx& ctx) -> Task<http::Response> {
    const auto* asset = console::find_asset(ctx.tail);
    co_return asset ? asset_response(ctx.req, *asset) : not_found();
  });
}

}  // namespace mg::api
