// The tables this process last read for a change, or wrote (Table.update),
// per network namespace: while the ruleset's generation has not moved since,
// a change needs no dump of its table (the dump is the kernel's O(rules²)
// cost, and what iptables-nft -D pays), and the commit's batch carries that
// generation, so the kernel refuses it should anything have moved after all.
// When it has moved, the table is brought forward by what nf_tables
// announced of each batch since (nft/watch.h, nft/known_apply.h) if every
// announcement is one that can be applied and the generations follow on to
// the kernel's current one; else it is read again.
// Counters in such a table are as of when it was last read; a rule added
// by another program since comes with the counters it had when added, and
// a rule deleted takes its counters with it.
#pragma once
#include <napi.h>
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

// The namespace's announcements are watched from now on (nft/watch.h); call
// before reading the generation of a table to be known, and pass what it
// returns to KnowNftTable (0: not watched, the table is known only while
// the generation stays).
uint64_t WatchNftNetns();

// Both inside the namespace.
void KnowNftTable(const Family& fam, const std::string& table, std::shared_ptr<const NftKnownTable> t, uint64_t epoch);
std::shared_ptr<const NftKnownTable> KnownNftTable(const Family& fam, const std::string& table, uint32_t genid);

// Whether the table is known at `genid` and watched: a batch made against
// it is then followed from its announcements at the next read.
bool NftKnownFollows(const Family& fam, const std::string& table, uint32_t genid);

// A large batch of our own is about to be sent: stop watching (the kernel
// then builds no announcements of it) and forget the namespace's tables.
void UnwatchNftNetns();

// nftKnownStats() -> { same, caughtUp, fellBack }: how often a read for a
// change found its table known at the generation (no dump), brought it
// forward from announcements (no dump), or could not (dumped). For tests.
Napi::Value NftKnownStats(const Napi::CallbackInfo& info);

}  // namespace iptc
