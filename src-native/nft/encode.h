// A kernel entry (ipt_entry / ip6t_entry with its xt match and target
// blobs, as libxtables' parse made it) turned into the nf_tables expressions
// iptables-nft 1.8.9 writes for the same rule (nft.c, nft-ipv4.c,
// nft-ipv6.c, nft-shared.c): native expressions for interfaces, protocol,
// addresses, fragments, tcp/udp ports and flags, mark, limit, NFLOG, TRACE
// and verdicts; nft_compat "match" and "target" for everything else; the
// counter before the action. The inverse of nft/decode.h.
#pragma once
#include <stdint.h>

#include <string>

#include "xt/family.h"

struct nftnl_rule;

namespace iptc {

struct NftRuleSpec {
  const char* entry = nullptr;  // the entry (its own counters are not used)
  std::string jump;             // the chain a jump or goto goes to ("" for none)
  xt_counters counters{};       // the counter expression's starting values
};

// Adds the rule's expressions and compat attributes to `r` (table and chain
// are the caller's). On a rule iptables-nft would refuse to write, returns
// false with `error` set.
bool EncodeNftRule(const Family& fam, const NftRuleSpec& spec, nftnl_rule* r, std::string& error);

}  // namespace iptc
