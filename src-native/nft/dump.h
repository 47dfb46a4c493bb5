// Reading one nf_tables table over netlink (libmnl for the socket, libnftnl
// for the messages): its chains and its rules, consistently. A dump is not
// atomic in the kernel, so the generation id is read before and after and
// the dump is retried when it moved, or when the kernel marks a dump
// interrupted (NLM_F_DUMP_INTR). Call inside the namespace.
#pragma once
#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "common/errors.h"

struct nftnl_rule;

namespace iptc {

struct NftChainInfo {
  std::string name;
  uint64_t handle = 0;
  bool base = false;  // a base chain: hooked into the stack
  uint32_t hook = 0;
  int32_t prio = 0;
  std::string type;   // "filter", "nat", "route"
  uint32_t policy = 1;  // NF_ACCEPT / NF_DROP (base chains)
  uint64_t packets = 0, bytes = 0;  // the policy's counters (base chains)
};

struct NftRuleDeleter {
  void operator()(nftnl_rule* r) const;
};
using NftRulePtr = std::unique_ptr<nftnl_rule, NftRuleDeleter>;

struct NftTableDump {
  bool exists = false;
  uint32_t flags = 0;     // NFT_TABLE_F_* (owner, dormant)
  uint32_t genid = 0;
  std::vector<NftChainInfo> chains;  // in the kernel's order
  std::vector<NftRulePtr> rules;     // in the kernel's order (chain by chain, by position)
  // counters_only: instead of rules, each rule's handle, and its packets and
  // bytes (two per rule), in the same order.
  std::vector<uint64_t> handles, counters;
};

// family: NFPROTO_IPV4 (nft "ip") or NFPROTO_IPV6 ("ip6"). A table that does
// not exist gives exists = false. No nf_tables at all: exists = false too.
// What a dump takes of the rules: all of each, its handle and counter only
// (into handles and counters), or nothing (chains only).
enum class NftRules { kWhole, kCounters, kNone };
bool DumpNftTable(int family, const std::string& table, NftTableDump& out, Failure& failure,
                  NftRules rules = NftRules::kWhole);

// The names of the family's nf_tables tables ([] without nf_tables).
bool NftTableNames(int family, std::vector<std::string>& names, Failure& failure);

// The ruleset's generation id now (call inside the namespace).
bool NftGenId(uint32_t& id, Failure& failure);

}  // namespace iptc
