// Reading an iptables-nft table: one consistent netlink dump (nft/dump.h),
// every rule decoded into a kernel entry (nft/decode.h), and the whole laid
// out as the legacy kernel would hand the same table over (legacy/build.h,
// legacy/blob.h), so that everything above reads both backends alike.
#pragma once
#include <napi.h>

namespace iptc {

// nftReadTable(family, table, netnsFd, async)
//   -> { absent: true }
//    | the shape of readTable (legacy/table_read.h), and
//      handles: BigUint64Array (per rule, the nf_tables rule handle),
//      skipped: [chain, position, handle, why, nftText][] (rules not shown),
//      dropped: string[] (base chains iptables would not have made, left out),
//      genid: number
Napi::Value NftReadTable(const Napi::CallbackInfo& info);

}  // namespace iptc
