// Counters of an iptables-nft table (see counters.cc).
#pragma once
#include <napi.h>

namespace iptc {

// nftCounters(family, table, netnsFd, async)
//   -> { genid, handles: BigUint64Array, counters: BigUint64Array (packets, bytes per rule, in dump order),
//        policies: [chain, packets, bytes][] (base chains) }
Napi::Value NftCounters(const Napi::CallbackInfo& info);

}  // namespace iptc
