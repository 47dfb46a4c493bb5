// What one commit sends to an iptables-nft table: the messages that take the
// table from what nf_tables holds now to what the plan says. Two ways:
//  - incremental (a snapshot of the table committed back, its rules still in
//    the chains they were read in): rules that went are deleted by handle,
//    new ones inserted before the kept rule that follows them (or appended),
//    kept rules left alone, so their counters go on counting; a kept rule
//    whose counters the snapshot set or zeroed is replaced in place;
//  - whole (a flushing restore, or chains renamed under their rules): every
//    rule of the table deleted and the plan's added, as iptables-nft-restore
//    does.
// Chains are made and removed to match either way, base chains where
// iptables-nft would have them.
#pragma once
#include <stdint.h>

#include <map>
#include <string>
#include <vector>

#include "common/errors.h"
#include "legacy/blob.h"
#include "nft/batch.h"
#include "nft/dump.h"
#include "xt/plan.h"

namespace iptc {

// The table as nf_tables holds it now, in the legacy layout (entries null:
// no such table).
struct NftNow {
  const char* entries = nullptr;
  size_t size = 0;
  const TableIndex* index = nullptr;
  const std::vector<uint64_t>* handles = nullptr;    // per rule of index
  const std::vector<NftChainInfo>* chains = nullptr;  // the chains nf_tables has
};

struct NftWrite {
  const Family& fam;
  const std::string& table;
  Plan& plan;
  NftNow now;
  const char* base = nullptr;  // the snapshot's read (null: a restore, or a table found absent)
  size_t baseSize = 0;
  bool expectAbsent = false;
  bool echo = false;  // ask the kernel for each new rule's handle (NLM_F_ECHO), if they are few
};

// How the batch was made: incrementally, and then the handle each rule that
// stays keeps (by plan rule).
struct NftWritten {
  bool incremental = false;
  bool echoed = false;  // new rules were sent with NLM_F_ECHO
  std::vector<uint64_t> stays;  // by plan rule; 0: it does not stay
  // Rules only added, or only deleted (no chain or table message, no rule
  // replaced): a batch whose announcements a known table can follow
  // unambiguously (nft/known_apply.h).
  bool rulesOnly = true;
};

// Fills the batch; `ruleOfSeq` maps each rule message to the plan rule it
// carries. On a rule iptables-nft would not write, fails with
// ERR_IPTC_ARGUMENT and failure.index naming it.
bool PlanNftBatch(const NftWrite& w, NftBatch& batch, std::map<uint32_t, size_t>& ruleOfSeq, NftWritten& out,
                  Failure& failure);

}  // namespace iptc
