// nf_tables awareness: most distributions point `iptables` at iptables-nft,
// whose rules live in nf_tables, where libiptc cannot see them. A netlink
// dump of the nf_tables tables (name, family, chains, rules) lets the library
// say so, as iptables-nft warns about legacy tables.
#pragma once
#include <napi.h>

namespace iptc {

// nftTables(netnsFd, async) -> [{family, name, chains, rules}] ([] without nf_tables)
Napi::Value NftTables(const Napi::CallbackInfo& info);

}  // namespace iptc
