// merchgate serve|migrate|check-config --config FILE (CONTRACT §1).
#include "adapters/adapter.hpp"
#include "adapters/schema.hpp"
#include "config/config.hpp"
#include "gateway/gateway.hpp"
#include "gateway/log/log.hpp"
#include "gateway/service/key_rotation.hpp"
#include "gateway/store/store.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace {

const char* getenv_wrapper(const char* name) { return std::getenv(name); }

// Start-up errors: one line each, exit 2.
int fail(const std::vector<std::string>& problems) {
  for (const auto& p : problems) std::fprintf(stderr, "merchgate: %s\n", p.c_str());
  return 2;
}

int fail(const std::string& problem) { return fail(std::vector<std::string>{problem}); }

std::vector<std::string> check_seed_adapters(const mg::config::Config& c) {
  std::vector<std::string> problems;
  mg::adapters::Registry registry;
  mg::adapters::register_builtin_adapters(registry);
  const auto* list = c.seed.if_contains("adapters");
  if (!list || !list->is_array()) return problems;
  for (std::size_t i = 0; i < list->as_array().size(); ++i) {
    const auto& item = list->as_array()[i];
    if (!item.is_object()) continue;
    const auto& o = item.as_object();
    std::string prefix = "seed.adapters[" + std::to_string(i) + "]";
    const auto* type = o.if_contains("type");
    const mg::adapters::AdapterType* t =
        type && type->is_string() ? registry.find(type->as_string()) : nullptr;
    if (!t) {
      problems.push_back(prefix + ".type: unknown adapter type; known types: " + registry.names());
      continue;
    }
    for (std::string_view part : {"credentials", "settings"}) {
      const auto* schema = t->schema.if_contains(part);
      const auto* value = o.if_contains(part);
      if (!schema || !value) continue;
      auto r = mg::adapters::validate_against_schema(*value, schema->as_object(),
                                                     prefix + "." + std::string(part));
      if (!r) problems.push_back(r.error().param + ": " + r.error().message);
    }
  }
  return problems;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"merchgate: in-app checkout and merch fulfillment gateway"};
  cli.require_subcommand(1);
  std::string config_path;
  std::string ready_file;

  auto* serve = cli.add_subcommand("serve", "run the gateway until SIGTERM/SIGINT");
  serve->add_option("--config", config_path, "config file (JSON)")->required();
  serve->add_option("--ready-file", ready_file,
                    "write host:port here once listening (for scripts and tests)");
  auto* migrate = cli.add_subcommand("migrate", "apply storage migrations and exit");
  migrate->add_option("--config", config_path, "config file (JSON)")->required();
  auto* check = cli.add_subcommand("check-config", "validate a config file");
  check->add_option("--config", config_path, "config file (JSON)")->required();
  std::string backup_to;
  auto* backup = cli.add_subcommand(
      "backup", "write a consistent copy of the database while the gateway keeps running");
  backup->add_option("--config", config_path, "config file (JSON)")->required();
  backup->add_option("--to", backup_to, "the copy's path (must not exist)")->required();

  std::string new_key_env = "MERCHGATE_NEW_MASTER_KEY";
  std::string new_key_file;
  auto* rotate = cli.add_subcommand(
      "rotate-master-key",
      "re-encrypt every stored secret under a new master key, in one transaction; the current key "
      "comes from MERCHGATE_MASTER_KEY, the new one from MERCHGATE_NEW_MASTER_KEY");
  rotate->add_option("--config", config_path, "config file (JSON)")->required();
  rotate->add_option("--new-key-env", new_key_env,
                     "the environment variable that holds the new key (base64 of 32 bytes)");
  rotate->add_option("--new-key-file", new_key_file,
                     "read the new key from this file instead (keys never go on a command line)");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 2;
  }

  auto loaded = mg::config::load(config_path, getenv_wrapper);
  if (*check) {
    auto problems = loaded.problems;
    if (problems.empty()) {
      for (auto& p : check_seed_adapters(loaded.config)) problems.push_back(std::move(p));
    }
    if (!problems.empty()) return fail(problems);
    std::printf("%s: ok\n", config_path.c_str());
    return 0;
  }
  if (!loaded.problems.empty()) return fail(loaded.problems);
  const mg::config::Config& config = loaded.config;
  mg::log::configure(config.log_format, config.log_level);

  if (*backup) {
    if (std::ifstream(backup_to)) return fail("backup: " + backup_to + " already exists");
    auto store = mg::store::open_store(config.storage);
    if (!store) return fail(store.error().message);
    auto copied = (*store)->backup(backup_to);
    (*store)->close();
    if (!copied) return fail(copied.error().message);
    std::printf("backed up %s to %s\n", config.storage.url.c_str(), backup_to.c_str());
    return 0;
  }

  if (*rotate) {
    std::string fresh_text;
    if (!new_key_file.empty()) {
      std::ifstream in(new_key_file);
      if (!in) return fail("rotate-master-key: cannot read " + new_key_file);
      std::getline(in, fresh_text);
    } else if (const char* v = std::getenv(new_key_env.c_str())) {
      fresh_text = v;
    }
    if (config.master_key.empty()) {
      return fail("rotate-master-key: MERCHGATE_MASTER_KEY must hold the current master key");
    }
    if (fresh_text.empty()) {
      return fail("rotate-master-key: set " + new_key_env +
                  " (or --new-key-file) to the new key: openssl rand -base64 32");
    }
    auto from = mg::service::SecretBox::from_base64(config.master_key);
    if (!from) return fail(from.error().message);
    auto to = mg::service::SecretBox::from_base64(fresh_text);
    if (!to) return fail("rotate-master-key: the new key must be 32 random bytes in base64");
    if (fresh_text == config.master_key) {
      return fail("rotate-master-key: the new key is the current one");
    }
    auto store = mg::store::open_store(config.storage);
    if (!store) return fail(store.error().message);
    auto version = (*store)->migrate();
    if (!version) return fail(version.error().message);
    auto rotated = mg::service::rotate_master_key(**store, *from, *to);
    (*store)->close();
    if (!rotated)
      return fail("rotate-master-key: " + rotated.error().message + "; nothing changed");
    std::printf(
        "re-encrypted the credentials of %d adapter(s) and the secrets of %d webhook "
        "endpoint(s); start merchgate with MERCHGATE_MASTER_KEY set to the new key\n",
        rotated->adapters, rotated->endpoints);
    return 0;
  }

  if (*migrate) {
    auto store = mg::store::open_store(config.storage);
    if (!store) return fail(store.error().message);
    auto version = (*store)->migrate();
    if (!version) return fail(version.error().message);
    std::printf("storage %s at schema version %d\n", config.storage.url.c_str(), *version);
    (*store)->close();
    return 0;
  }

  auto gateway = mg::Gateway::create(config);
  if (!gateway) return fail(gateway.error().message);
  if (auto listening = (*gateway)->listen(); !listening) {
    (*gateway)->stop();
    return fail(listening.error().message);
  }
  (*gateway)->start();
  if (!ready_file.empty()) {
    std::ofstream out(ready_file, std::ios::trunc);
    out << config.listen_host << ":" << (*gateway)->port() << "\n";
  }
  (*gateway)->run_until_signal();
  return 0;
}
