// Reading legacy tables: the raw bytes and an index of them, nothing printed.
#pragma once
#include <napi.h>

#include <memory>
#include <vector>

#include "legacy/blob.h"

namespace iptc {

// readTable(family, table, netnsFd, async, create)
//   -> { absent: true }   (a table the kernel has not made, when !create)
//    | { blob: Buffer, numEntries, chains: [name, hook, policy, packets, bytes, footIndex, first, count][],
//        offsets: Uint32Array, entryIndex: Uint32Array, jumps: Int32Array }
Napi::Value ReadTable(const Napi::CallbackInfo& info);

// The table as JavaScript gets it (the shape above): `buf` holds the entries
// from `at` on, and goes to the Buffer without a copy. (The nf_tables backend
// hands its tables over in the same form.)
Napi::Object TableToJs(Napi::Env env, std::shared_ptr<const Bytes> buf, size_t at, const TableIndex& index);

// listTables(family, netnsFd, async) -> the names of the family's tables there
Napi::Value ListTables(const Napi::CallbackInfo& info);

}  // namespace iptc
