// An iptables-nft rule (a list of nf_tables expressions) turned back into the
// kernel entry the legacy backend reads (ipt_entry / ip6t_entry, its xt match
// blobs and its target), as iptables-nft itself reads it back (v1.8.9's
// nft-shared.c, the reader of what 1.8.7 to 1.8.11 write): native header
// matches, tcp/udp ports and flags, mark, limit, pkttype, icmp, NFLOG, TRACE,
// verdicts and jumps; nft_compat matches and targets as they are; a comment in
// the rule's user data as a last comment match. Everything else is named as
// not decodable, and the rule is left out (never misprinted).
#pragma once
#include <stdint.h>

#include <string>
#include <vector>

#include "xt/family.h"

struct nftnl_rule;

namespace iptc {

struct NftDecoded {
  std::vector<char> entry;  // the whole entry, its target a standard one for verdicts and jumps
  std::string jump;         // the chain jumped or gone to ("" for none)
  uint64_t handle = 0;
  std::string error;        // why the rule could not be decoded ("" when it was)
};

// Decodes one rule of family `fam` (the nftnl rule as dumped).
void DecodeNftRule(const Family& fam, nftnl_rule* r, NftDecoded& out);

// The rule in libnftnl's own words ("[ payload load 4b @ network header + 12
// => reg 1 ] ..."), for naming a rule that could not be decoded.
std::string DescribeNftRule(nftnl_rule* r);

}  // namespace iptc
