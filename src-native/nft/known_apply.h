// Bringing a known table (nft/known.h) forward by what nf_tables announced
// of the batches since (nft/watch.h), instead of dumping it again: rules
// added (decoded as a dump's are, nft/decode.h) and deleted by handle in the
// table's chains. Whatever else touches the table (its chains, the table
// itself, sets, a rule iptables cannot show, a position it cannot place) is
// refused, and the caller dumps. Announcements of other tables are skipped.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nft/known.h"
#include "nft/watch.h"
#include "xt/family.h"

namespace iptc {

// `batches`: consecutive, the first the one after k's generation. On
// success `out` is the table after the last (k itself, with that
// generation, when none touched it).
bool ApplyNftBatches(const Family& fam, const std::string& table, const std::shared_ptr<const NftKnownTable>& k,
                     const std::vector<const NftEventBatch*>& batches, std::shared_ptr<const NftKnownTable>& out);

}  // namespace iptc
