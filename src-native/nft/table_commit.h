// Committing a snapshot to an iptables-nft table: the plan (xt/plan.h) parsed
// and laid out as on the legacy path, checked against the table as it is
// (read as nft/table_read.h reads it: a changed table is ERR_IPTC_CONFLICT),
// and written as one nf_tables batch made against that read's generation:
// every rule of the table replaced by the plan's, each encoded as
// iptables-nft writes it (nft/encode.h), chains made and removed to match.
#pragma once
#include <napi.h>

namespace iptc {

// nftCommitTable(family, table, netnsFd, plan, expect: { base?: Buffer, absent?: boolean }, async)
Napi::Value NftCommitTable(const Napi::CallbackInfo& info);

}  // namespace iptc
