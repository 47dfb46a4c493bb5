// Reading an iptables-nft table: one consistent netlink dump (nft/dump.h),
// every rule decoded into a kernel entry (nft/decode.h), and the whole laid
// out as the legacy kernel would hand the same table over (legacy/build.h,
// legacy/blob.h), so that everything above reads both backends alike.
#pragma once
#include <napi.h>
#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "common/errors.h"
#include "legacy/blob.h"
#include "nft/dump.h"

namespace iptc {

// A rule left out: not one iptables-nft could show.
struct NftSkipped {
  std::string chain;
  uint32_t position;
  uint64_t handle;
  std::string why, text;
};

struct NftTableRead {
  bool absent = false;
  uint32_t genid = 0;
  std::shared_ptr<const Bytes> blob;  // the legacy layout; entries from NewTable::kHead (shared with a known table)
  TableInfo info;
  TableIndex index;
  std::vector<uint64_t> handles;  // per rule shown, in index order
  std::vector<NftSkipped> skipped;
  std::vector<std::string> dropped;
  std::vector<NftChainInfo> chains;  // the table's chains as nf_tables holds them
};

// Reads and lays out one table (call inside the namespace). A table that is
// not one iptables-nft makes fails with ERR_IPTC_ARGUMENT. `reuse`: for a
// change; the table as this process last knew it when the generation has
// not moved since (nft/known.h), else read and known from now on.
bool ReadNftTable(const Family& fam, const std::string& table, NftTableRead& out, Failure& failure,
                  bool reuse = false);

// What a read handed to JavaScript knew of its table beside the bytes, kept
// (a few, by the address of the bytes) so that a commit of a snapshot whose
// table has not changed since (same generation) need not read it again.
struct NftReadFacts {
  uint32_t genid = 0;
  size_t size = 0;
  TableIndex index;
  std::vector<uint64_t> handles;
  std::vector<NftChainInfo> chains;
};
std::shared_ptr<const NftReadFacts> RecallNftRead(const char* entries, size_t size);

// The hook, priority and type iptables-nft gives a base chain of a table.
bool NftBaseChainOf(const std::string& table, const std::string& chain, int& hook, int& prio, std::string& type);

// nftReadTable(family, table, netnsFd, async, reuse)
//   -> { absent: true }
//    | the shape of readTable (legacy/table_read.h), and
//      handles: BigUint64Array (per rule, the nf_tables rule handle),
//      skipped: [chain, position, handle, why, nftText][] (rules not shown),
//      dropped: string[] (base chains iptables would not have made, left out),
//      genid: number,
//      present: string[] (the base chains nf_tables has)
// reuse: read for a change (see ReadNftTable).
Napi::Value NftReadTable(const Napi::CallbackInfo& info);

}  // namespace iptc
