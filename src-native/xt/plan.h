// A table as JavaScript describes it to the addon, for printing and for
// committing: its chains in order, and their rules as runs of consecutive
// rules of pools (a pool: a Buffer of entries back to back, where each of
// its rules starts, which chain id each jumps to, and, for the table as
// read, each rule's index among the kernel's entries). JavaScript does no
// work per rule; Expand() makes the rule list, on whatever thread uses it.
// Read on the JavaScript thread (the Buffers are kept referenced).
//
//   { pools: { bytes, offsets?, jumps, entryIndex? }[],
//     chains: [name, hook, policy, policyMode, packets, bytes, oldFoot, count][],
//     runs: Uint32Array        (3 per run: pool, first rule, count),
//     chainIndex: Int32Array   (chain id -> index in chains, -1 for none),
//     zeroed?: Uint32Array     (rules of pool 0 whose counters were zeroed),
//     pending?: { pool, words, counts, chainJumps, counters? } }
//
// Pending rules are words not parsed yet (they are parsed on the worker
// thread that commits): pool `pending.pool`, rule k is the k-th entry parsed.
#pragma once
#include <napi.h>
#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "common/netns.h"
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
  uint32_t pool = 0, offset = 0;  // offset in the pool's bytes (pending: the rule's index)
  uint8_t mode = kCountersSet;
  uint32_t oldIndex = 0;
  int32_t jump = -1;  // index in Plan::chains
};

struct PlanPool {
  const char* bytes = nullptr;
  size_t size = 0;
  const uint32_t* offsets = nullptr;
  const int32_t* jumps = nullptr;
  const uint32_t* entryIndex = nullptr;  // the table as read only
  size_t count = 0;                      // rules (length of offsets and jumps)
};

struct Plan {
  std::vector<PlanPool> pools;
  std::vector<PlanChain> chains;
  std::vector<uint32_t> runs;  // 3 per run
  std::vector<int32_t> chainIndex;
  std::vector<uint32_t> zeroed;  // sorted
  std::vector<PlanRule> rules;   // made by Expand()
  // nf_tables only: -X with no chain ran, which iptables-nft takes to delete
  // the base chains that hold no rules and accept (legacy has no such thing).
  bool dropIdleBaseChains = false;
  // nf_tables only: built-in chains a command named, made if not there.
  std::vector<std::string> wantBaseChains;
  // User chains renamed since the read: (name then, name now).
  std::vector<std::pair<std::string, std::string>> renames;
  // Words to parse first (see above), and what parsing made of them.
  int pendingPool = -1;
  RuleBatch pending;
  ParsedRules parsed;

  // Makes `rules` from the runs (pending rules must be parsed first). On a
  // run outside its pool fails with ERR_IPTC_ARGUMENT.
  bool Expand(Failure& failure);
  // Parses the pending rules (each must make one entry), then Expand()s: what
  // every commit does first, off the JavaScript thread. A refused rule fails
  // with `failure.index` naming it.
  bool Prepare(const Family& fam, const std::string& table, Failure& failure);
  // The entry of a rule (pending ones once parsed); nullptr when out of range.
  const char* Entry(const Family& fam, const PlanRule& r) const;
  // What extensions printed while the pending rules were parsed ("" for nothing).
  std::string Warnings() const;
};

// What every commit is given, whichever backend writes it: family, table,
// namespace, the plan, and the table as the snapshot read it (or that it
// found none). ReadCommitArgs fills it from (family, table, netnsFd, plan,
// expect) and returns `expect` for what is the backend's own.
struct CommitArgs {
  const Family* fam = nullptr;
  std::string table;
  std::unique_ptr<NetnsHold> netns;
  Plan plan;
  const char* base = nullptr;  // the entries of the table as the snapshot read it
  size_t baseSize = 0;
  bool expectAbsent = false;
  std::vector<Napi::Reference<Napi::Value>> keep;
};
Napi::Object ReadCommitArgs(const Napi::CallbackInfo& info, CommitArgs& a);

// Reads the JavaScript description; on a malformed one throws a TypeError.
// `keep` holds the Buffers for as long as the plan is used.
void ReadPlan(Napi::Env env, Napi::Object o, Plan& plan, std::vector<Napi::Reference<Napi::Value>>& keep);

}  // namespace iptc
