#pragma once
// The sandbox partners' webhook sender: events scheduled in the ledger (in the same ledger
// transaction as the change they announce) are signed with the Standard Webhooks scheme and sent
// through the gateway's own POST /v1/webhooks/{adapter_id}, retried with backoff until a 2xx.
// A crash loses nothing: unsent rows are sent after restart.
#include "adapters/adapter.hpp"
#include "adapters/sandbox/ledger.hpp"

#include <memory>
#include <string>
#include <vector>

namespace mg::adapters::sandbox {

// The outbox table; add it to a ledger's schema.
inline constexpr const char* kOutboxSchema = R"sql(
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  subject TEXT NOT NULL,
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  due_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  sent_at INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (due_at) WHERE sent_at IS NULL;
)sql";

// Within a ledger transaction: schedules `body` (a JSON event whose "id" is `event_id`).
void schedule(store::sqlite::Db& db, const std::string& event_id, const std::string& subject,
              const std::string& type, const std::string& body, core::Timestamp due_at);
// Within a ledger transaction: drops unsent events about `subject` (a canceled order).
void drop_pending(store::sqlite::Db& db, const std::string& subject);

class Outbox {
 public:
  Outbox(std::string adapter_id, std::shared_ptr<Ledger> ledger, std::string signing_key,
         AdapterServices services);
  ~Outbox();

  void start();
  void stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace mg::adapters::sandbox
