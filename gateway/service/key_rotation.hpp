#pragma once
// `merchgate rotate-master-key`: every secret sealed at rest (adapter credentials, webhook
// endpoint signing secrets) re-encrypted under a new master key in one write transaction, so the
// database holds either only old or only new ciphertexts, never a mix.
#include "gateway/core/error.hpp"
#include "gateway/service/secret_box.hpp"
#include "gateway/store/store.hpp"

namespace mg::service {

struct RotationReport {
  int adapters = 0;   // adapters whose credentials were re-encrypted
  int endpoints = 0;  // webhook endpoints whose secrets were re-encrypted
};

// Blocks until the transaction commits. A value that does not open under `from` fails the whole
// rotation and nothing changes.
Result<RotationReport> rotate_master_key(store::Store& store, const SecretBox& from,
                                         const SecretBox& to);

}  // namespace mg::service
