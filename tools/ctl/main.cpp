// merchgatectl: the admin API from a shell (CONTRACT §5). Tables for people, --json for scripts,
// exit codes from tools/ctl/api.hpp.
#include "tools/ctl/api.hpp"
#include "tools/ctl/output.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>

namespace mg::ctl {
namespace {
namespace bj = boost::json;

struct Globals {
  Connection conn;
  bool json = false;
};

// Options every list command takes.
struct Paging {
  int limit = 0;
  std::string starting_after;
  bool all = false;

  Query query() const {
    Query q;
    if (limit > 0) q.emplace_back("limit", std::to_string(limit));
    if (!starting_after.empty()) q.emplace_back("starting_after", starting_after);
    return q;
  }
};

// A JSON body given as --file FILE or --file - (stdin).
bj::object read_body(const std::string& file) {
  std::string text;
  if (file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream in(file);
    if (!in) throw Failure(kUsage, "cannot read '" + file + "'");
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  boost::system::error_code ec;
  bj::value v = bj::parse(text, ec);
  if (ec)
    throw Failure(kUsage, (file == "-" ? "stdin" : file) + ": not valid JSON: " + ec.message());
  if (!v.is_object()) throw Failure(kUsage, (file == "-" ? "stdin" : file) + ": not a JSON object");
  return std::move(v.as_object());
}

// "key=value" flags. With `typed`, a value that parses as JSON (42, true, [..], {..}) is sent as
// that JSON; anything else is a string. Credentials are always strings.
void apply_pairs(bj::object& target, const std::vector<std::string>& pairs, const char* flag,
                 bool typed) {
  for (const auto& p : pairs) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Failure(kUsage, std::string(flag) + " takes KEY=VALUE (got '" + p + "')");
    }
    std::string key = p.substr(0, eq), value = p.substr(eq + 1);
    bj::value v = bj::string(value);
    if (typed) {
      boost::system::error_code ec;
      bj::value parsed = bj::parse(value, ec);
      if (!ec && !parsed.is_string()) v = std::move(parsed);
    }
    target[key] = std::move(v);
  }
}

bj::object& sub_object(bj::object& o, std::string_view key) {
  auto& v = o[key];
  if (!v.is_object()) v = bj::object{};
  return v.as_object();
}

// What a PUT may send back of a read: the writable keys, without nulls.
bj::object writable(const bj::value& read, std::initializer_list<std::string_view> keys) {
  bj::object out;
  if (!read.is_object()) return out;
  for (auto k : keys) {
    const auto* v = read.as_object().if_contains(k);
    if (v && !v->is_null()) out[k] = *v;
  }
  return out;
}

class Ctl {
 public:
  explicit Ctl(Globals& g) : g_(g) {}

  Api& api() {
    if (!api_) api_ = std::make_unique<Api>(g_.conn);
    return *api_;
  }

  void show_object(const bj::value& v) {
    if (g_.json) {
      print_json(std::cout, v);
    } else if (v.is_object()) {
      print_object(std::cout, v.as_object());
    } else {
      std::cout << text_of(v) << "\n";
    }
  }

  void show_list(const bj::value& v, const std::vector<Column>& columns) {
    if (g_.json) return print_json(std::cout, v);
    const auto& o = v.as_object();
    const auto* data = o.if_contains("data");
    print_table(std::cout, data && data->is_array() ? data->as_array() : bj::array{}, columns);
    const auto* more = o.if_contains("has_more");
    if (more && more->is_bool() && more->as_bool()) {
      std::cerr << "(more: use --starting-after with the last id, or --all)\n";
    }
  }

  // "adapter stripe-main created" on stderr for people; the object on stdout.
  void show_put(std::string_view what, std::string_view id, const bj::value& v) {
    if (!g_.json) {
      std::cerr << what << " " << id << (api().last_status() == 201 ? " created" : " updated")
                << "\n";
    }
    show_object(v);
  }

  void show_done(const bj::value& v, const std::string& human) {
    if (g_.json) {
      print_json(std::cout, v);
    } else {
      std::cout << human << "\n";
    }
  }

  // GET of an existing object as a PUT base; nullopt when it does not exist (404).
  std::optional<bj::value> existing(const std::string& path) {
    try {
      return api().call("GET", path);
    } catch (const Failure& f) {
      if (api().last_status() == 404) return std::nullopt;
      throw;
    }
  }

  bool json() const { return g_.json; }

 private:
  Globals& g_;
  std::unique_ptr<Api> api_;
};

void add_paging(CLI::App* cmd, Paging& p) {
  cmd->add_option("--limit", p.limit, "items per page (1-100)")->check(CLI::Range(1, 100));
  cmd->add_option("--starting-after", p.starting_after, "the last id of the previous page");
  cmd->add_flag("--all", p.all, "follow has_more and list everything");
}

CLI::App* group(CLI::App& app, const char* name, const char* help) {
  auto* g = app.add_subcommand(name, help);
  g->require_subcommand(1);
  return g;
}

// ---- adapters -----------------------------------------------------------------------------

struct AdapterArgs {
  std::string id, file, type, base_url;
  std::vector<std::string> credentials, settings;
  bool enable = false, disable = false;
  Paging paging;
};

void add_adapters(CLI::App& app, Ctl& ctl) {
  auto* g = group(app, "adapters", "payment processors and merch partners");
  auto a = std::make_shared<AdapterArgs>();

  g->add_subcommand("types", "the adapter types this gateway has, with their schemas")
      ->callback([&ctl] {
        auto v = ctl.api().call("GET", "/v1/admin/adapter-types");
        ctl.show_list(v, {{"TYPE", "type"},
                          {"KIND", "kind"},
                          {"DEFAULT BASE URL", "default_base_url"},
                          {"DESCRIPTION", "description"}});
      });

  auto* list = g->add_subcommand("list", "adapter instances and their health");
  add_paging(list, a->paging);
  list->callback([&ctl, a] {
    auto v = ctl.api().list("/v1/admin/adapters", a->paging.query(), a->paging.all);
    ctl.show_list(v, {{"ID", "id"},
                      {"TYPE", "type"},
                      {"KIND", "status.kind"},
                      {"ENABLED", "enabled"},
                      {"LIVE", "status.live"},
                      {"BREAKER", "status.breaker"},
                      {"BASE URL", "base_url"}});
  });

  auto* get = g->add_subcommand("get", "one adapter (credentials redacted)");
  get->add_option("id", a->id, "adapter id")->required();
  get->callback(
      [&ctl, a] { ctl.show_object(ctl.api().call("GET", "/v1/admin/adapters/" + seg(a->id))); });

  auto* put = g->add_subcommand(
      "put",
      "create or replace an adapter; without --file or --type, the flags change the stored one");
  put->add_option("id", a->id, "adapter id")->required();
  put->add_option("-f,--file", a->file,
                  "JSON body (type, enabled, base_url, credentials, "
                  "settings); - reads stdin");
  put->add_option("--type", a->type, "adapter type (see `adapters types`)");
  put->add_option("--base-url", a->base_url, "the partner's API base URL");
  put->add_option("--credential", a->credentials, "KEY=VALUE, repeatable (write-only)");
  put->add_option("--setting", a->settings, "KEY=VALUE, repeatable (JSON values allowed)");
  auto* en = put->add_flag("--enabled", a->enable, "take traffic");
  put->add_flag("--disabled", a->disable, "keep configured, take no traffic")->excludes(en);
  put->callback([&ctl, a] {
    std::string path = "/v1/admin/adapters/" + seg(a->id);
    bj::object body;
    if (!a->file.empty()) {
      body = read_body(a->file);
    } else if (a->type.empty()) {
      auto current = ctl.existing(path);
      if (!current) {
        throw Failure(kUsage,
                      "no adapter '" + a->id + "' yet: give --type (or --file) to create it");
      }
      // Omitted credentials keep the stored ones.
      body = writable(*current, {"type", "enabled", "base_url", "settings"});
    }
    if (!a->type.empty()) body["type"] = a->type;
    if (!a->base_url.empty()) body["base_url"] = a->base_url;
    if (a->enable) body["enabled"] = true;
    if (a->disable) body["enabled"] = false;
    if (!a->credentials.empty())
      apply_pairs(sub_object(body, "credentials"), a->credentials, "--credential", false);
    if (!a->settings.empty())
      apply_pairs(sub_object(body, "settings"), a->settings, "--setting", true);
    bj::value b = std::move(body);
    auto v = ctl.api().call("PUT", path, {}, &b);
    ctl.show_put("adapter", a->id, v);
  });

  auto* del = g->add_subcommand("delete", "remove an adapter");
  del->add_option("id", a->id, "adapter id")->required();
  del->callback([&ctl, a] {
    auto v = ctl.api().call("DELETE", "/v1/admin/adapters/" + seg(a->id));
    ctl.show_done(v, "adapter " + a->id + " deleted");
  });

  auto* test = g->add_subcommand(
      "test",
      "a harmless authenticated call to the partner: do the credentials work? (exit 1 if not)");
  test->add_option("id", a->id, "adapter id")->required();
  test->callback([&ctl, a] {
    auto v = ctl.api().call("POST", "/v1/admin/adapters/" + seg(a->id) + "/test");
    const auto& o = v.as_object();
    bool ok = o.contains("ok") && o.at("ok").is_bool() && o.at("ok").as_bool();
    if (ctl.json()) {
      print_json(std::cout, v);
    } else if (ok) {
      std::cout << "ok  " << a->id << ": " << text_of(*at_path(o, "message")) << " ("
                << text_of(o.contains("duration_ms") ? o.at("duration_ms") : bj::value())
                << " ms)\n";
    } else {
      const auto* code = at_path(o, "error.code");
      const auto* message = at_path(o, "error.message");
      std::cout << "FAILED  " << a->id << ": " << (code ? text_of(*code) : "error") << ": "
                << (message ? text_of(*message) : "-") << "\n";
    }
    if (!ok) throw Failure(kRefused, "");
  });
}

// ---- sellers ------------------------------------------------------------------------------

struct SellerArgs {
  std::string id, file, name;
  std::int64_t fee_bps = -1;  // -1: not given
  std::vector<std::string> payouts;
  Paging paging;
};

void add_sellers(CLI::App& app, Ctl& ctl) {
  auto* g = group(app, "sellers", "brands and creators");
  auto s = std::make_shared<SellerArgs>();

  auto* list = g->add_subcommand("list", "sellers");
  add_paging(list, s->paging);
  list->callback([&ctl, s] {
    ctl.show_list(ctl.api().list("/v1/admin/sellers", s->paging.query(), s->paging.all),
                  {{"ID", "id"},
                   {"NAME", "name"},
                   {"FEE (BPS)", "platform_fee_bps"},
                   {"PAYOUTS", "payouts"}});
  });

  auto* get = g->add_subcommand("get", "one seller");
  get->add_option("id", s->id, "seller id")->required();
  get->callback(
      [&ctl, s] { ctl.show_object(ctl.api().call("GET", "/v1/admin/sellers/" + seg(s->id))); });

  auto* put = g->add_subcommand("put", "create or replace a seller; flags change the stored one");
  put->add_option("id", s->id, "seller id")->required();
  put->add_option("-f,--file", s->file,
                  "JSON body (name, platform_fee_bps, payouts); - reads stdin");
  put->add_option("--name", s->name, "display name");
  put->add_option("--fee-bps", s->fee_bps, "platform fee in basis points (500 = 5%)");
  put->add_option("--payout", s->payouts,
                  "ADAPTER=ACCOUNT, repeatable: the seller's payout account");
  put->callback([&ctl, s] {
    std::string path = "/v1/admin/sellers/" + seg(s->id);
    bj::object body;
    if (!s->file.empty()) {
      body = read_body(s->file);
    } else if (auto current = ctl.existing(path)) {
      body = writable(*current, {"name", "platform_fee_bps", "payouts"});
    }
    if (!s->name.empty()) body["name"] = s->name;
    if (s->fee_bps >= 0) body["platform_fee_bps"] = s->fee_bps;
    if (!s->payouts.empty())
      apply_pairs(sub_object(body, "payouts"), s->payouts, "--payout", false);
    bj::value b = std::move(body);
    ctl.show_put("seller", s->id, ctl.api().call("PUT", path, {}, &b));
  });

  auto* del = g->add_subcommand("delete", "remove a seller");
  del->add_option("id", s->id, "seller id")->required();
  del->callback([&ctl, s] {
    auto v = ctl.api().call("DELETE", "/v1/admin/sellers/" + seg(s->id));
    ctl.show_done(v, "seller " + s->id + " deleted");
  });
}

// ---- products -----------------------------------------------------------------------------

struct ProductArgs {
  std::string sku, file, seller, title, currency, adapter, sku_prefix, import_currency;
  std::int64_t amount = -1, import_limit = -1;  // -1: not given
  std::vector<std::string> spec;
  bool active = false, inactive = false, overwrite = false;
  Paging paging;
};

void add_products(CLI::App& app, Ctl& ctl) {
  auto* g = group(app, "products", "the catalog");
  auto p = std::make_shared<ProductArgs>();

  auto* list = g->add_subcommand("list", "products, optionally of one seller");
  list->add_option("--seller", p->seller, "only this seller's products");
  add_paging(list, p->paging);
  list->callback([&ctl, p] {
    Query q = p->paging.query();
    if (!p->seller.empty()) q.emplace_back("seller", p->seller);
    ctl.show_list(ctl.api().list("/v1/admin/products", q, p->paging.all),
                  {{"SKU", "sku"},
                   {"SELLER", "seller"},
                   {"TITLE", "title"},
                   {"PRICE", "",
                    [](const bj::object& o) {
                      return money(o.contains("unit_amount") ? o.at("unit_amount") : bj::value(),
                                   o.contains("currency") ? o.at("currency") : bj::value());
                    }},
                   {"ACTIVE", "active"},
                   {"FULFILLMENT", "fulfillment.adapter"}});
  });

  auto* get = g->add_subcommand("get", "one product");
  get->add_option("sku", p->sku, "sku")->required();
  get->callback(
      [&ctl, p] { ctl.show_object(ctl.api().call("GET", "/v1/admin/products/" + seg(p->sku))); });

  auto* put = g->add_subcommand("put", "create or replace a product; flags change the stored one");
  put->add_option("sku", p->sku, "sku")->required();
  put->add_option("-f,--file", p->file,
                  "JSON body (seller, title, unit_amount, currency, "
                  "fulfillment, ...); - reads stdin");
  put->add_option("--seller", p->seller, "seller id");
  put->add_option("--title", p->title, "title");
  put->add_option("--amount", p->amount, "unit price in minor units (2500 = 25.00 EUR)");
  put->add_option("--currency", p->currency, "ISO 4217 code");
  put->add_option("--fulfillment", p->adapter, "the merch partner's adapter id");
  put->add_option("--spec", p->spec,
                  "KEY=VALUE, repeatable: the partner's product ids and files in the fulfillment "
                  "block (JSON values allowed)");
  auto* act = put->add_flag("--active", p->active, "sellable");
  put->add_flag("--inactive", p->inactive, "hidden from the shop")->excludes(act);
  put->callback([&ctl, p] {
    std::string path = "/v1/admin/products/" + seg(p->sku);
    bj::object body;
    if (!p->file.empty()) {
      body = read_body(p->file);
    } else if (auto current = ctl.existing(path)) {
      body =
          writable(*current, {"seller", "title", "description", "unit_amount", "currency", "images",
                              "group", "options", "active", "in_stock", "fulfillment"});
    }
    if (!p->seller.empty()) body["seller"] = p->seller;
    if (!p->title.empty()) body["title"] = p->title;
    if (p->amount >= 0) body["unit_amount"] = p->amount;
    if (!p->currency.empty()) body["currency"] = p->currency;
    if (p->active) body["active"] = true;
    if (p->inactive) body["active"] = false;
    if (!p->adapter.empty()) sub_object(body, "fulfillment")["adapter"] = p->adapter;
    if (!p->spec.empty()) apply_pairs(sub_object(body, "fulfillment"), p->spec, "--spec", true);
    bj::value b = std::move(body);
    ctl.show_put("product", p->sku, ctl.api().call("PUT", path, {}, &b));
  });

  auto* del = g->add_subcommand("delete", "remove a product");
  del->add_option("sku", p->sku, "sku")->required();
  del->callback([&ctl, p] {
    auto v = ctl.api().call("DELETE", "/v1/admin/products/" + seg(p->sku));
    ctl.show_done(v, "product " + p->sku + " deleted");
  });

  auto* import = g->add_subcommand(
      "import", "make catalog products of a merch partner's products and variants");
  import->add_option("adapter", p->adapter, "the merch partner's adapter id")->required();
  import->add_option("--seller", p->seller, "the seller the products belong to")->required();
  import->add_option("--currency", p->import_currency, "for partners whose prices carry none");
  import->add_option("--sku-prefix", p->sku_prefix, "prefix for the generated skus");
  import->add_option("--limit", p->import_limit, "at most this many variants");
  import->add_flag("--overwrite", p->overwrite, "replace products that exist");
  import->callback([&ctl, p] {
    bj::object body{{"seller", p->seller}};
  if (!p->import_currency.empty()) body["currency"] = p->import_currency;
  if (!p->sku_prefix.empty()) body["sku_prefix"] = p->sku_prefix;
  if (p->import_limit >= 0) body["limit"] = p->import_limit;
  if (p->overwrite) body["overwrite"] = true;
  bj::value b = std::move(body);
  ctl.show_object(
      ctl.api().call("POST", "/v1/admin/adapters/" + seg(p->adapter) + "/import-products", {}, &b));
});
}  // namespace

// ---- routing ------------------------------------------------------------------------------

void add_routing(CLI::App& app, Ctl& ctl) {
  auto* g = group(app, "routing", "which payment processors a checkout tries, in order");
  auto file = std::make_shared<std::string>();
  auto render = [&ctl](const bj::value& v) {
    if (ctl.json()) return print_json(std::cout, v);
    const auto* rules = v.is_object() ? v.as_object().if_contains("rules") : nullptr;
    bj::array numbered;
    if (rules && rules->is_array()) {
      int n = 0;
      for (const auto& r : rules->as_array()) {
        bj::object row = r.is_object() ? r.as_object() : bj::object{};
        row["#"] = ++n;
        numbered.push_back(std::move(row));
      }
    }
    auto match = [](const bj::object& o) {
      const auto* m = at_path(o, "match");
      if (!m || !m->is_object() || m->as_object().empty()) return std::string("(everything)");
      std::string out;
      for (const auto& kv : m->as_object()) {
        out += (out.empty() ? "" : " ") + std::string(kv.key()) + "=" + text_of(kv.value());
      }
      return out;
    };
    print_table(std::cout, numbered,
                {{"#", "#"}, {"MATCH", "", match}, {"PROCESSORS", "processors"}});
  };
  g->add_subcommand("get", "the routing rules")->callback([&ctl, render] {
    render(ctl.api().call("GET", "/v1/admin/routing"));
  });
  auto* set = g->add_subcommand("set", "replace the routing rules");
  set->add_option("-f,--file", *file, "JSON body {\"rules\": [...]}; - reads stdin")->required();
  set->callback([&ctl, render, file] {
    bj::value b = read_body(*file);
    auto v = ctl.api().call("PUT", "/v1/admin/routing", {}, &b);
    if (!ctl.json()) std::cerr << "routing updated\n";
    render(v);
  });
}

// ---- webhook endpoints --------------------------------------------------------------------

struct EndpointArgs {
  std::string id, file, url, events, description;
  bool enable = false, disable = false;
  Paging paging;
};

bj::array split_events(const std::string& s) {
  bj::array out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(bj::string(item));
  }
  return out;
}

void add_endpoints(CLI::App& app, Ctl& ctl) {
  auto* g = group(app, "endpoints", "where normalized events are delivered (outbound webhooks)");
  auto e = std::make_shared<EndpointArgs>();
  std::vector<Column> columns{{"ID", "id"},
                              {"URL", "url"},
                              {"EVENTS", "events"},
                              {"ENABLED", "enabled"},
                              {"STATUS", "status"}};

  g->add_subcommand("list", "webhook endpoints")->callback([&ctl, columns] {
    ctl.show_list(ctl.api().call("GET", "/v1/admin/webhook-endpoints"), columns);
  });
  auto* get = g->add_subcommand("get", "one endpoint");
  get->add_option("id", e->id, "endpoint id (we_…)")->required();
  get->callback([&ctl, e] {
    ctl.show_object(ctl.api().call("GET", "/v1/admin/webhook-endpoints/" + seg(e->id)));
  });

  auto body_of = [e](bool create) {
    bj::object body = e->file.empty() ? bj::object{} : read_body(e->file);
    if (!e->url.empty()) body["url"] = e->url;
    if (!e->events.empty()) body["events"] = split_events(e->events);
    if (create && !body.contains("events")) body["events"] = bj::array{"*"};
    if (!e->description.empty()) body["description"] = e->description;
    if (e->enable) body["enabled"] = true;
    if (e->disable) body["enabled"] = false;
    return bj::value(std::move(body));
  };
  auto add_fields = [e](CLI::App* cmd) {
    cmd->add_option("-f,--file", e->file, "JSON body (url, events, description, enabled)");
    cmd->add_option("--url", e->url, "https URL that receives the events");
    cmd->add_option("--events", e->events, "comma-separated event types, or * (the default)");
    cmd->add_option("--description", e->description, "a note for people");
  };
  auto* create = g->add_subcommand("create", "add an endpoint; its signing secret is shown once");
  add_fields(create);
  create->callback([&ctl, e, body_of] {
    bj::value b = body_of(true);
    auto v = ctl.api().call("POST", "/v1/admin/webhook-endpoints", {}, &b);
    ctl.show_object(v);
    if (!ctl.json()) std::cerr << "keep the secret now: it is not shown again\n";
  });
  auto* update = g->add_subcommand("update", "change an endpoint's url, events or state");
  update->add_option("id", e->id, "endpoint id")->required();
  add_fields(update);
  auto* en = update->add_flag("--enabled", e->enable, "deliver (resumes a failing endpoint)");
  update->add_flag("--disabled", e->disable, "stop delivering")->excludes(en);
  update->callback([&ctl, e, body_of] {
    bj::value b = body_of(false);
    ctl.show_object(ctl.api().call("PATCH", "/v1/admin/webhook-endpoints/" + seg(e->id), {}, &b));
  });
  auto* del = g->add_subcommand("delete", "remove an endpoint");
  del->add_option("id", e->id, "endpoint id")->required();
  del->callback([&ctl, e] {
    auto v = ctl.api().call("DELETE", "/v1/admin/webhook-endpoints/" + seg(e->id));
    ctl.show_done(v, "endpoint " + e->id + " deleted");
  });
  auto* attempts = g->add_subcommand("attempts", "an endpoint's delivery attempts, newest first");
  attempts->add_option("id", e->id, "endpoint id")->required();
  add_paging(attempts, e->paging);
  attempts->callback([&ctl, e] {
    ctl.show_list(ctl.api().list("/v1/admin/webhook-endpoints/" + seg(e->id) + "/attempts",
                                 e->paging.query(), e->paging.all),
                  {{"AT", "at"},
                   {"EVENT", "event"},
                   {"STATUS", "status_code"},
                   {"MS", "latency_ms"},
                   {"ERROR", "error"}});
  });
}

// ---- API keys -----------------------------------------------------------------------------

struct KeyArgs {
  std::string id, name, role, seller;
  Paging paging;
};

void add_keys(CLI::App& app, Ctl& ctl) {
  auto* g = group(app, "keys", "API keys for app backends and admins");
  auto k = std::make_shared<KeyArgs>();
  auto* create = g->add_subcommand("create", "a new key; the key itself is shown once");
  create->add_option("--name", k->name, "what the key is for");
  create->add_option("--role", k->role, "app (default), viewer or admin");
  create->add_option("--seller", k->seller, "restrict an app key to one seller");
  create->callback([&ctl, k] {
    bj::object body;
    if (!k->name.empty()) body["name"] = k->name;
    if (!k->role.empty()) body["role"] = k->role;
    if (!k->seller.empty()) body["seller"] = k->seller;
    bj::value b = std::move(body);
    auto v = ctl.api().call("POST", "/v1/admin/api-keys", {}, &b);
    ctl.show_object(v);
    if (!ctl.json()) std::cerr << "keep the key now: it is not shown again\n";
  });
  auto* list = g->add_subcommand("list", "keys (never the keys themselves)");
  add_paging(list, k->paging);
  list->callback([&ctl, k] {
    ctl.show_list(ctl.api().list("/v1/admin/api-keys", k->paging.query(), k->paging.all),
                  {{"ID", "id"},
                   {"NAME", "name"},
                   {"ROLE", "role"},
                   {"SELLER", "seller"},
                   {"KEY", "redacted"},
                   {"LAST USED", "last_used_at"},
                   {"REVOKED", "revoked_at"}});
  });
  auto* revoke = g->add_subcommand("revoke", "revoke a key at once");
  revoke->add_option("id", k->id, "key id")->required();
  revoke->callback([&ctl, k] {
    auto v = ctl.api().call("DELETE", "/v1/admin/api-keys/" + seg(k->id));
    ctl.show_done(v, "key " + k->id + " revoked");
  });
}

// ---- events, checkouts, audit -------------------------------------------------------------

struct EventArgs {
  std::string id, type, checkout, endpoint, status, seller;
  Paging paging;
};

std::vector<Column> checkout_columns() {
  return {{"ID", "id"},
          {"STATUS", "status"},
          {"SELLER", "seller"},
          {"TOTAL", "",
           [](const bj::object& o) {
             return money(o.contains("amount_total") ? o.at("amount_total") : bj::value(),
                          o.contains("currency") ? o.at("currency") : bj::value());
           }},
          {"PROCESSOR", "payment.processor"},
          {"CREATED", "created_at"}};
}

void add_events(CLI::App& app, Ctl& ctl) {
  auto ev = std::make_shared<EventArgs>();
  auto* events = group(app, "events", "the normalized event log");
  auto* list = events->add_subcommand("list", "events, newest first");
  list->add_option("--type", ev->type, "only this type (checkout.paid, …)");
  list->add_option("--checkout", ev->checkout, "only this checkout's events");
  add_paging(list, ev->paging);
  list->callback([&ctl, ev] {
    Query q = ev->paging.query();
    if (!ev->type.empty()) q.emplace_back("type", ev->type);
    if (!ev->checkout.empty()) q.emplace_back("checkout", ev->checkout);
    ctl.show_list(ctl.api().list("/v1/events", q, ev->paging.all), {{"ID", "id"},
                                                                    {"TYPE", "type"},
                                                                    {"CHECKOUT", "data.object.id"},
                                                                    {"CREATED", "created_at"}});
  });
  auto* redeliver = events->add_subcommand("redeliver", "send an event to its endpoints again");
  redeliver->add_option("id", ev->id, "event id (evt_…)")->required();
  redeliver->add_option("--endpoint", ev->endpoint, "only to this endpoint");
  redeliver->callback([&ctl, ev] {
    Query q;
    if (!ev->endpoint.empty()) q.emplace_back("endpoint", ev->endpoint);
    auto v = ctl.api().call("POST", "/v1/events/" + seg(ev->id) + "/redeliver", q);
    const auto* n = v.is_object() ? v.as_object().if_contains("deliveries_queued") : nullptr;
    ctl.show_done(v, "event " + ev->id + ": " + (n ? text_of(*n) : "0") + " deliveries queued");
  });

  auto* checkouts = group(app, "checkouts", "checkouts and what happened to them");
  auto* clist = checkouts->add_subcommand("list", "checkouts, newest first");
  clist->add_option("--status", ev->status, "only this status");
  clist->add_option("--seller", ev->seller, "only this seller");
  add_paging(clist, ev->paging);
  clist->callback([&ctl, ev] {
    Query q = ev->paging.query();
    if (!ev->status.empty()) q.emplace_back("status", ev->status);
    if (!ev->seller.empty()) q.emplace_back("seller", ev->seller);
    ctl.show_list(ctl.api().list("/v1/checkouts", q, ev->paging.all), checkout_columns());
  });
  auto* cget = checkouts->add_subcommand("get", "one checkout with payment and fulfillments");
  cget->add_option("id", ev->id, "checkout id (chk_…)")->required();
  cget->callback(
      [&ctl, ev] { ctl.show_object(ctl.api().call("GET", "/v1/checkouts/" + seg(ev->id))); });
  auto* timeline = checkouts->add_subcommand(
      "events", "a checkout's timeline: events, partner calls, webhooks and jobs");
  timeline->add_option("id", ev->id, "checkout id (chk_…)")->required();
  timeline->callback([&ctl, ev] {
    auto v = ctl.api().call("GET", "/v1/admin/checkouts/" + seg(ev->id) + "/timeline");
    if (ctl.json()) return print_json(std::cout, v);
    const auto& o = v.as_object();
    auto section = [&](const char* title, std::string_view key, std::vector<Column> columns) {
      const auto* items = o.if_contains(key);
      std::cout << "\n" << title << "\n";
      print_table(std::cout, items && items->is_array() ? items->as_array() : bj::array{}, columns);
    };
    const auto* c = at_path(o, "checkout.status");
    std::cout << ev->id << "  " << (c ? text_of(*c) : "-") << "\n";
    section("EVENTS", "events", {{"AT", "created_at"}, {"TYPE", "type"}, {"ID", "id"}});
    section("PARTNER CALLS", "partner_calls",
            {{"AT", "at"},
             {"ADAPTER", "adapter"},
             {"OPERATION", "operation"},
             {"OUTCOME", "outcome"},
             {"HTTP", "http_status"},
             {"MS", "duration_ms"}});
    section("WEBHOOKS", "webhooks",
            {{"RECEIVED", "received_at"},
             {"ADAPTER", "adapter"},
             {"TYPE", "type"},
             {"STATUS", "status"}});
    section("JOBS", "jobs",
            {{"KIND", "kind"},
             {"STATE", "state"},
             {"ATTEMPTS", "attempts"},
             {"LAST ERROR", "last_error"}});
  });

  auto* audit = group(app, "audit", "who changed what, when");
  auto* alist = audit->add_subcommand("list", "audit log entries, newest first");
  alist->add_option("--key", ev->id, "only changes made with this key id");
  alist->add_option("--path", ev->type, "only changes under this path (/v1/admin/adapters)");
  add_paging(alist, ev->paging);
  alist->callback([&ctl, ev] {
    Query q = ev->paging.query();
    if (!ev->id.empty()) q.emplace_back("key", ev->id);
    if (!ev->type.empty()) q.emplace_back("path", ev->type);
    ctl.show_list(ctl.api().list("/v1/admin/audit-log", q, ev->paging.all),
                  {{"AT", "at"},
                   {"KEY", "key"},
                   {"METHOD", "method"},
                   {"PATH", "path"},
                   {"STATUS", "status"},
                   {"FROM", "remote_address"}});
  });
}

}  // namespace mg::ctl
}  // namespace mg::ctl

int main(int argc, char** argv) {
  using namespace mg::ctl;
  Globals g;
  g.conn.url = "http://127.0.0.1:8080";
  CLI::App app{
      "merchgatectl: administer a merchgate gateway over its admin API.\n"
      "Exit codes: 0 ok, 1 the API refused (4xx) or a check failed, 2 usage, 3 gateway "
      "unreachable or failing (5xx)."};
  app.set_version_flag("--version", "merchgatectl 0.1.0");
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--url", g.conn.url, "gateway base URL")
      ->envname("MERCHGATE_URL")
      ->capture_default_str();
  app.add_option("--admin-key", g.conn.admin_key, "admin API key (prefer the environment)")
      ->envname("MERCHGATE_ADMIN_KEY");
  app.add_option("--cacert", g.conn.ca_file,
                 "PEM file of the CA that signed the gateway's certificate")
      ->envname("MERCHGATE_CACERT");
  app.add_flag("--insecure", g.conn.insecure, "skip TLS verification (development only)");
  app.add_option("--timeout", g.conn.timeout_s, "seconds to wait for the gateway")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  app.add_flag("--json", g.json, "print the API's JSON instead of tables");

  Ctl ctl(g);
  add_adapters(app, ctl);
  add_sellers(app, ctl);
  add_products(app, ctl);
  add_routing(app, ctl);
  add_endpoints(app, ctl);
  add_keys(app, ctl);
  add_events(app, ctl);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kOk : kUsage;
  } catch (const Failure& f) {
    if (g.json && !f.body.empty()) std::cout << f.body << "\n";
    if (*f.what()) std::cerr << "merchgatectl: " << f.what() << "\n";
    return f.code;
  }
  return kOk;
}
