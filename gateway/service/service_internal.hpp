#pragma once
// Helpers shared by the service's translation units (private to gateway/service).
#include "gateway/core/checkout_machine.hpp"
#include "gateway/core/model.hpp"
#include "gateway/core/model_json.hpp"
#include "gateway/service/checkout_service.hpp"
#include "gateway/store/store.hpp"

#include <boost/json/serialize.hpp>

#include <optional>
#include <string>

namespace mg::service::detail {

Reply error_reply(const Error& e);
Reply checkout_reply(const core::Checkout& c, int status);

// A replay (the stored reply), a 409, or nothing when the key is new.
std::optional<Reply> idempotency_lookup(store::ReadTx& tx, std::string_view scope,
                                        std::string_view key, std::string_view fingerprint);

// Writes the new state of `c` with the events and jobs of `fx`, and keeps its reconcile
// schedule: fresh news sets the next deadline; an item still overdue keeps the reconciler's own
// (backed-off) schedule.
void persist(store::WriteTx& tx, core::Checkout& c, const core::Effects& fx, core::Timestamp now,
             const core::Staleness& staleness);

// Completes the idempotency record a job carries (payload "idempotency": {scope, key}).
void complete_idempotency(store::WriteTx& tx, const store::Job& job, int status,
                          const std::string& body, core::Timestamp now);

bool visible_to(const Caller& caller, const core::Checkout& c);

// Applies one stored inbound event to its checkout inside `tx`.
enum class ApplyOutcome { applied, ignored, no_target };
struct Applied {
  ApplyOutcome outcome = ApplyOutcome::no_target;
  std::string checkout_id;
  std::string note;
  core::Effects effects;
};
Applied apply_inbound_event(store::WriteTx& tx, std::string_view adapter_id,
                            const adapters::InboundEvent& e, core::Timestamp now,
                            const core::Staleness& staleness);

}  // namespace mg::service::detail
