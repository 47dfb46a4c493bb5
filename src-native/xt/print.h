// Rules out: entries printed exactly as iptables-save prints them (the
// address part as iptables' own print_rule4/6 does it, every match and
// target by its extension's save()), into one buffer for a whole batch.
#pragma once
#include <napi.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "common/errors.h"
#include "xt/family.h"
#include "xt/plan.h"
#include "xt/xt_glue.h"

namespace iptc {

// What rule objects are made of, per rule: its spec (what iptables-save
// prints after `-A CHAIN`, with a leading space), counters, the fields of its
// address part, and those of its matches and target as text (name \0 save
// \0 per match, then the target's), as src/rule.ts reads them.
struct Described {
  std::string specs;  // NUL after each
  std::vector<uint64_t> counters;  // packets, bytes per rule
  std::vector<uint32_t> matchCounts;
  std::vector<uint8_t> targetKinds;  // 1: an extension target
  xtg_buf text{};
  // The address part: source, destination, in, out, protocol per rule, each
  // NUL-terminated ("" when absent), and per rule which are negated, -f, -g.
  std::string head;
  std::vector<uint8_t> headFlags;
  Described() = default;
  Described(const Described&) = delete;
  ~Described() { xtg_buf_free(&text); }
};

// Every rule of the plan (chains give jump names; counts are not used).
bool DescribeRules(const Family& fam, const Plan& plan, Described& out, Failure& failure);

// The plan's rules as iptables-save lines, chain by chain: `-A CHAIN spec`,
// with `[packets:bytes] ` first when `counters`.
bool SaveRules(const Family& fam, const Plan& plan, bool counters, std::string& out, Failure& failure);

// What `iptables -L -n` prints after a rule's addresses (its matches' and
// extension target's print()), NUL after each rule, and each rule's protocol number.
bool ListRules(const Family& fam, const Plan& plan, std::string& text, std::vector<uint16_t>& protos, Failure& failure);

// describeRules(family, plan) -> { specs, ip, counters, matchCounts, targetKinds, text }
Napi::Value DescribeRulesJs(const Napi::CallbackInfo& info);
// saveRules(family, plan, counters) -> string
Napi::Value SaveRulesJs(const Napi::CallbackInfo& info);
// listRules(family, plan) -> { text, targets, protos }
Napi::Value ListRulesJs(const Napi::CallbackInfo& info);

}  // namespace iptc
