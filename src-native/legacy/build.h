// Builds the table SET_REPLACE takes, byte for byte as libiptc's commit
// builds it, from a list of chains and rules: built-in chains in hook order,
// then user chains; each user chain opens with an ERROR entry naming it and
// ends with a RETURN; each built-in chain ends with its policy; a last ERROR
// entry closes the table. Standard targets are normalised as libiptc does
// (name zeroed, revision 0) and their verdicts resolved: jumps to the first
// entry after the target chain's head, no target to the next entry.
//
// Counters follow libiptc's counter map: the kernel zeroes a new table, and
// SET_ADD_COUNTERS then adds, per entry, the old table's counters as of the
// swap (kept), those minus the ones read (zeroed since the read), the ones
// given (new or set), or nothing.
#pragma once
#include <stdint.h>

#include <string>
#include <vector>

#include "common/errors.h"
#include "xt/family.h"
#include "legacy/blob.h"
#include "legacy/kernel.h"
#include "xt/plan.h"

namespace iptc {

struct CounterSource {
  uint8_t mode = kCountersZero;
  uint32_t oldIndex = 0;
  xt_counters counters{};
};

// On a plan libiptc would refuse fails with ERR_IPTC_ARGUMENT; `failure.index`
// then names the rule (its position in plan.rules) where one is to blame.
// With `index`, also says where each chain and rule went (what IndexTable
// would find in the result, without reading it back).
bool BuildTable(const Family& fam, const Plan& plan, NewTable& out, std::vector<CounterSource>& counterMap,
                Failure& failure, TableIndex* index = nullptr);

// A plan laid out as the kernel would hand the table over: BuildTable, then
// the table's description (what GET_INFO says) and its index. (The nf_tables
// backend holds its tables in this form.)
bool LayOut(const Family& fam, const Plan& plan, NewTable& out, TableInfo& info, TableIndex& index, Failure& failure);

// The counters to add once the table is swapped in.
std::vector<xt_counters> MapCounters(const std::vector<CounterSource>& counterMap, const std::vector<xt_counters>& old);

}  // namespace iptc
