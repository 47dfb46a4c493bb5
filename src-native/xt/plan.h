// A table as JavaScript describes it to the addon, for printing and for
// committing: its chains in order, and per rule where its entry bytes are
// (pools: Buffers of entries back to back; the table as read is one, rules
// parsed since are others) with its jump and its counters' fate. Read on the
// JavaScript thread (the Buffers are kept referenced), used on any.
//
//   { pools: Buffer[],
//     chains: [name, hook, policy, policyMode, packets, bytes, oldFoot, count][],
//     rules: Uint32Array   (4 per rule: pool, offset, counter mode, old index),
//     jumps: Int32Array    (per rule: the chain it jumps or goes to, or -1),
//     pending?: { pool, words, counts, chainJumps } }
//
// Pending rules are words not parsed yet (they are parsed on the worker
// thread that commits): the rules of pool `pending.pool` name them by index.
#pragma once
#include <napi.h>
#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "xt/family.h"
#include "xt/parse.h"

namespace iptc {

enum CounterMode : uint8_t {
  kCountersKept = 0,       // the old entry's counters (old index), as of the swap
  kCountersSinceRead = 1,  // those minus the ones read (zeroed in the snapshot)
  kCountersSet = 2,        // the counters given: the entry's own, or the policy's
  kCountersZero = 3,       // none
};

struct PlanChain {
  std::string name;
  int hook = -1;  // NF_INET_* for a built-in chain, -1 for a user chain
  int32_t policy = kVerdictAccept;
  uint8_t policyMode = kCountersZero;
  xt_counters policyCounters{};
  int64_t oldFoot = -1;  // the policy entry's index in the table replaced
  uint32_t count = 0;    // its rules, in order in Plan::rules
};

struct PlanRule {
  uint32_t pool = 0, offset = 0;
  uint8_t mode = kCountersSet;
  uint32_t oldIndex = 0;
  int32_t jump = -1;
};

struct Plan {
  std::vector<std::pair<const char*, size_t>> pools;
  std::vector<PlanChain> chains;
  std::vector<PlanRule> rules;
  // Words to parse first (see above), and what parsing made of them.
  int pendingPool = -1;
  RuleBatch pending;
  ParsedRules parsed;

  // The entry of a rule (pending ones once parsed); nullptr when out of range.
  const char* Entry(const Family& fam, const PlanRule& r) const;
};

// Reads the JavaScript description; on a malformed one throws a TypeError.
// `keep` holds the Buffers for as long as the plan is used.
void ReadPlan(Napi::Env env, Napi::Object o, Plan& plan, std::vector<Napi::Reference<Napi::Value>>& keep);

}  // namespace iptc
