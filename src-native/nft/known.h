// The tables this process last read for a change, or wrote (Table.update),
// per network namespace: while the ruleset's generation has not moved since,
// a change needs no dump of its table (the dump is the kernel's O(rules²)
// cost, and what iptables-nft -D pays), and the commit's batch carries that
// generation, so the kernel refuses it should anything have moved after all.
// Counters in such a table are as of when it was last read.
#pragma once
#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "legacy/blob.h"
#include "nft/dump.h"
#include "xt/family.h"

namespace iptc {

struct NftKnownTable {
  uint32_t genid = 0;
  std::shared_ptr<const Bytes> blob;  // the legacy layout; entries from NewTable::kHead (never written: shared with reads)
  TableIndex index;
  std::vector<uint64_t> handles;     // per rule of index
  std::vector<NftChainInfo> chains;  // as nf_tables has them
};

// Both inside the namespace.
void KnowNftTable(const Family& fam, const std::string& table, std::shared_ptr<const NftKnownTable> t);
std::shared_ptr<const NftKnownTable> KnownNftTable(const Family& fam, const std::string& table, uint32_t genid);

}  // namespace iptc
