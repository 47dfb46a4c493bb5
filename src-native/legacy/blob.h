// A table as the kernel hands it over (GET_ENTRIES): one run of entries in
// which built-in chains start at hook_entry and end with their policy at
// underflow, each user chain starts with an ERROR entry naming it and ends
// with a RETURN, and a last ERROR entry closes the table. TableIndex is where
// each chain and rule is, without copying or printing anything.
#pragma once
#include <stdint.h>

#include <string>
#include <vector>

#include "common/errors.h"
#include "xt/family.h"
#include "legacy/kernel.h"

namespace iptc {

struct ChainIndex {
  std::string name;
  int hook = -1;               // NF_INET_* for a built-in chain, -1 for a user chain
  int32_t policy = 0;          // built-in: the verdict of its foot
  xt_counters policyCounters{};
  uint32_t footIndex = 0;      // the foot's index among all entries
  uint32_t first = 0;          // its first rule in TableIndex's per-rule arrays
  uint32_t count = 0;          // its rules
};

struct TableIndex {
  std::vector<ChainIndex> chains;  // in table order: built-ins by hook, then user chains
  std::vector<uint32_t> offsets;   // per rule: where its entry starts
  std::vector<uint32_t> entryIndex;  // per rule: its index among all entries (the counters' slot)
  std::vector<int32_t> jumps;      // per rule: the chain it jumps or goes to (index in chains), or -1
  uint32_t numEntries = 0;
};

// On malformed input fails with ERR_IPTC_DECODE.
bool IndexTable(const Family& fam, const TableInfo& info, const char* entries, size_t size, TableIndex& out,
                Failure& failure);

// Whether the table is as the kernel first makes it: built-in chains only,
// no rules, every policy ACCEPT.
bool IsPristine(const TableIndex& t);

// Whether two reads of a table hold the same rules and chains: every byte
// equal but the counters (and `comefrom`, the kernel's own bookkeeping).
bool SameTable(const Family& fam, const char* a, size_t asize, const char* b, size_t bsize);

// Whether an entry's target is the standard one (a verdict, a jump, or none).
bool IsStandardTarget(const xt_entry_target* t);
bool IsErrorTarget(const xt_entry_target* t);

// A 64-bit digest of an entry, counters aside (CounterReader's rule keys).
uint64_t DigestEntry(const Family& fam, const void* entry, uint64_t seed);
uint64_t DigestBytes(const void* p, size_t n, uint64_t h);

}  // namespace iptc
