// Administration: API keys (hashes only) and the append-only audit log.
#include "gateway/store/sqlite_tx.hpp"

namespace mg::store::sqlite {
namespace {

constexpr const char* kKeyColumns =
    "id, hash, prefix, last4, role, seller, name, created_by, created_at, last_used_at, "
    "revoked_at";

ApiKeyRecord key_row(Statement& s) {
  ApiKeyRecord k;
  k.id = s.text(0);
  k.hash = s.text(1);
  k.prefix = s.text(2);
  k.last4 = s.text(3);
  k.role = s.text(4);
  k.seller = s.text(5);
  k.name = s.text(6);
  k.created_by = s.text(7);
  k.created_at = s.int64(8);
  k.last_used_at = s.int64(9);
  k.revoked_at = s.int64(10);
  return k;
}

}  // namespace

std::optional<ApiKeyRecord> SqliteTx::api_key(std::string_view id) {
  static const std::string sql =
      std::string("SELECT ") + kKeyColumns + " FROM api_keys WHERE id = ?";
  Use s(db_.prepare(sql.c_str()));
  s->bind(1, id);
  if (!s->step()) return std::nullopt;
  return key_row(*s);
}

Page<ApiKeyRecord> SqliteTx::api_keys(const ListQuery& q) {
  static const std::string sql =
      std::string("SELECT ") + kKeyColumns + " FROM api_keys WHERE id > ? ORDER BY id LIMIT ?";
  int limit = page_limit(q);
  Use s(db_.prepare(sql.c_str()));
  s->bind(1, q.starting_after).bind(2, limit + 1);
  Page<ApiKeyRecord> page;
  while (s->step()) {
    if (static_cast<int>(page.data.size()) == limit) {
      page.has_more = true;
      break;
    }
    page.data.push_back(key_row(*s));
  }
  return page;
}

std::vector<ApiKeyRecord> SqliteTx::live_api_keys() {
  static const std::string sql =
      std::string("SELECT ") + kKeyColumns + " FROM api_keys WHERE revoked_at IS NULL ORDER BY id";
  Use s(db_.prepare(sql.c_str()));
  std::vector<ApiKeyRecord> out;
  while (s->step()) out.push_back(key_row(*s));
  return out;
}

void SqliteTx::insert_api_key(const ApiKeyRecord& k) {
  Use s(
      db_.prepare("INSERT INTO api_keys (id, hash, prefix, last4, role, seller, name, created_by, "
                  "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  s->bind(1, k.id).bind(2, k.hash).bind(3, k.prefix).bind(4, k.last4).bind(5, k.role);
  s->bind_text_or_null(6, k.seller).bind_text_or_null(7, k.name).bind_text_or_null(8, k.created_by);
  s->bind(9, k.created_at);
  s->run();
}

bool SqliteTx::revoke_api_key(std::string_view id, Timestamp now) {
  Use s(db_.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"));
  s->bind(1, now).bind(2, id);
  s->run();
  return db_.changes() > 0;
}

void SqliteTx::touch_api_key(std::string_view id, Timestamp now) {
  Use s(db_.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?"));
  s->bind(1, now).bind(2, id);
  s->run();
}

Page<AuditEntry> SqliteTx::audit_log(const AuditFilter& f) {
  int limit = page_limit(f.page);
  // An unknown starting_after yields an empty page (seq < 0).
  Use s(db_.prepare(
      "SELECT id, key_id, method, path, change, status, remote, request_id, at FROM audit_log "
      "WHERE (? = '' OR seq < COALESCE((SELECT seq FROM audit_log WHERE id = ?), 0)) "
      "AND (? = '' OR key_id = ?) AND (? = '' OR substr(path, 1, ?) = ?) "
      "ORDER BY seq DESC LIMIT ?"));
  s->bind(1, f.page.starting_after).bind(2, f.page.starting_after);
  s->bind(3, f.key_id).bind(4, f.key_id);
  s->bind(5, f.path_prefix)
      .bind(6, static_cast<std::int64_t>(f.path_prefix.size()))
      .bind(7, f.path_prefix);
  s->bind(8, limit + 1);
  Page<AuditEntry> page;
  while (s->step()) {
    if (static_cast<int>(page.data.size()) == limit) {
      page.has_more = true;
      break;
    }
    AuditEntry e;
    e.id = s->text(0);
    e.key_id = s->text(1);
    e.method = s->text(2);
    e.path = s->text(3);
    e.change = s->text(4);
    e.status = static_cast<int>(s->int64(5));
    e.remote = s->text(6);
    e.request_id = s->text(7);
    e.at = s->int64(8);
    page.data.push_back(std::move(e));
  }
  return page;
}

void SqliteTx::append_audit(const AuditEntry& e) {
  Use s(db_.prepare(
      "INSERT INTO audit_log (id, key_id, method, path, change, status, remote, request_id, at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  s->bind(1, e.id).bind(2, e.key_id).bind(3, e.method).bind(4, e.path);
  s->bind_text_or_null(5, e.change).bind(6, e.status).bind_text_or_null(7, e.remote);
  s->bind_text_or_null(8, e.request_id).bind(9, e.at);
  s->run();
}

}  // namespace mg::store::sqlite
